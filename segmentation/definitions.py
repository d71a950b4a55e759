"""Segment definitions as data: identifiers, German and English labels, care strategies.

Code uses the English identifiers (``star``, ``time_waster``, ``burr``); the UI
shows the labels. This module is the one place where identifiers meet the
users' words (Stars, Fokus, Cash-Cows, Zeitfresser, Klette, ...). Every entry
has ``label_de``/``label_en`` and, where the method recommends something,
``strategy_de``/``strategy_en`` or ``description_de``/``description_en``.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "ABC_CLASSES",
    "BURR",
    "CUSTOMER_TRAITS",
    "DEFINITIONS",
    "PATIENT_CLASSES",
    "PATIENT_TRAITS",
    "POTENTIAL_SEGMENTS",
    "PROFIT_TIERS",
    "TRAJECTORIES",
    "TRAJECTORY_REASONS",
    "label",
]

#: ABC (Pareto) classes by revenue.
ABC_CLASSES: dict[str, dict[str, str]] = {
    "A": {
        "label_de": "A-Kunden",
        "label_en": "A customers",
        "description_de": "Die umsatzstärksten Kunden, die zusammen rund 80 % des Umsatzes bringen.",
        "description_en": "The customers with the most revenue; together about 80 % of it.",
    },
    "B": {
        "label_de": "B-Kunden",
        "label_en": "B customers",
        "description_de": "Die nächsten Kunden bis rund 95 % des Umsatzes.",
        "description_en": "The next customers, up to about 95 % of revenue.",
    },
    "C": {
        "label_de": "C-Kunden",
        "label_en": "C customers",
        "description_de": "Die übrigen Kunden, auch alle ohne Umsatz im Zeitraum.",
        "description_en": "All others, including customers without revenue in the window.",
    },
}

#: Potential matrix: x = own revenue, y = untapped potential (or the 1-5 rating).
#: ``revenue``/``potential`` say which half of each axis the segment occupies.
POTENTIAL_SEGMENTS: dict[str, dict[str, str]] = {
    "star": {
        "revenue": "high",
        "potential": "high",
        "label_de": "Stars",
        "label_en": "Stars",
        "strategy_de": "Individuell als VIP betreuen und weiter investieren – hier ist noch Potenzial offen.",
        "strategy_en": "Individual VIP care and further investment: potential is still open.",
    },
    "focus": {
        "revenue": "low",
        "potential": "high",
        "label_de": "Fokus",
        "label_en": "Focus",
        "strategy_de": "Gezielt Ressourcen einsetzen und persönlich betreuen, um sie zu Stars zu entwickeln.",
        "strategy_en": "Invest time and resources in personal care to develop them into stars.",
    },
    "cash_cow": {
        "revenue": "high",
        "potential": "low",
        "label_de": "Cash-Cows",
        "label_en": "Cash cows",
        "strategy_de": "Betreuung möglichst automatisieren; Kontakt halten ohne Zusatzaufwand.",
        "strategy_en": "Automate care as far as possible; keep in touch without extra effort.",
    },
    "time_waster": {
        "revenue": "low",
        "potential": "low",
        "label_de": "Zeitfresser",
        "label_en": "Time wasters",
        "strategy_de": "Aufwand auf ein Minimum begrenzen; prüfen, ob die Geschäftsbeziehung enden sollte.",
        "strategy_en": "Keep effort to a minimum; consider ending the relationship.",
    },
}

#: Profit tiers by contribution margin, each with its service level.
PROFIT_TIERS: dict[str, dict[str, str]] = {
    "A": {
        "service_level": "exclusive",
        "label_de": "Exklusivbetreuung",
        "label_en": "Exclusive care",
        "description_de": "Persönliche Betreuung durch den Außendienst mit vollem Leistungspaket.",
        "description_en": "Personal care by field sales with the full service package.",
    },
    "B": {
        "service_level": "standard",
        "label_de": "Standardbetreuung",
        "label_en": "Standard care",
        "description_de": "Regelmäßige Betreuung im üblichen Umfang.",
        "description_en": "Regular care at the usual level.",
    },
    "C": {
        "service_level": "basic",
        "label_de": "Basisbetreuung",
        "label_en": "Basic care",
        "description_de": "Schlanke Basisbetreuung, nur durch den Innendienst.",
        "description_en": "Lean basic care by inside sales only.",
    },
    "Z": {
        "service_level": "review",
        "label_de": "Prüfen",
        "label_en": "Review",
        "description_de": "Verlustbringend: Preise anpassen, auf ein Basispaket umstellen oder die Beziehung beenden.",
        "description_en": "Loss-making: reprice, move to a basic package or end the relationship.",
    },
}

#: Value trajectories (shapes of the value over time).
TRAJECTORIES: dict[str, dict[str, str]] = {
    "growth": {
        "label_de": "Wachstumskunde",
        "label_en": "Growing customer",
        "description_de": "Der Kundenwert steigt signifikant.",
        "description_en": "The customer's value rises significantly.",
    },
    "shrinking": {
        "label_de": "Schrumpfungskunde",
        "label_en": "Shrinking customer",
        "description_de": "Der Kundenwert sinkt signifikant.",
        "description_en": "The customer's value falls significantly.",
    },
    "bell": {
        "label_de": "Glockenkunde",
        "label_en": "Bell-shaped customer",
        "description_de": "Der Wert stieg bis zu einem Höhepunkt und liegt jetzt deutlich darunter.",
        "description_en": "The value rose to a peak and is now well below it.",
    },
    "cyclic": {
        "label_de": "Zyklischer Kunde",
        "label_en": "Cyclic customer",
        "description_de": "Der Wert schwankt stark und wiederkehrend (z. B. saisonal).",
        "description_en": "The value swings strongly and repeatedly (e.g. by season).",
    },
    "stable": {
        "label_de": "Unauffälliger Kunde",
        "label_en": "Steady customer",
        "description_de": "Kein Trend und kein Muster, nur kleine Schwankungen – genauer hinsehen lohnt.",
        "description_en": "No trend and no pattern, small swings only; worth a closer look.",
    },
    "unknown": {
        "label_de": "Zu wenig Daten",
        "label_en": "Not enough data",
        "description_de": "Zu wenige Perioden mit Werten für eine Aussage.",
        "description_en": "Too few periods with values to tell.",
    },
}

#: Reason codes that :func:`segmentation.trajectory.value_trajectories` returns.
TRAJECTORY_REASONS: dict[str, dict[str, str]] = {
    "insufficient_data": {
        "label_de": "Weniger Perioden mit Werten als das Minimum",
        "label_en": "Fewer periods with values than the minimum",
    },
    "seasonal_autocorrelation": {
        "label_de": "Starke Korrelation mit dem Wert ein Jahr zuvor",
        "label_en": "Strong correlation with the value one year earlier",
    },
    "inner_peak": {
        "label_de": "Höhepunkt in der Mitte, Anfang und Ende deutlich darunter",
        "label_en": "Peak in the middle, start and end well below it",
    },
    "significant_rise": {
        "label_de": "Signifikant steigender linearer Trend",
        "label_en": "Significantly rising linear trend",
    },
    "significant_fall": {
        "label_de": "Signifikant fallender linearer Trend",
        "label_en": "Significantly falling linear trend",
    },
    "no_pattern": {
        "label_de": "Weder Trend noch Muster",
        "label_en": "Neither trend nor pattern",
    },
    "too_short_to_tell": {
        "label_de": "Zu kurze Reihe für eine Aussage (unter 18 Perioden, kein eindeutiges Muster)",
        "label_en": "Too short to tell (fewer than 18 periods, no overwhelming pattern)",
    },
}

#: The burr flag ("Klette"): long tenure, contribution near zero or negative.
BURR: dict[str, str] = {
    "label_de": "Klette",
    "label_en": "Burr",
    "description_de": "Langjähriger Kunde mit Deckungsbeitrag nahe null oder negativ.",
    "description_en": "Long-standing customer whose contribution is near zero or negative.",
}

#: Customer traits of the customer-vs-patient checklist.
CUSTOMER_TRAITS: dict[str, dict[str, str]] = {
    "wants_to_be_understood": {
        "label_de": "möchte verstanden werden",
        "label_en": "wants to be understood",
    },
    "wants_to_trust": {
        "label_de": "möchte vertrauen können",
        "label_en": "wants to be able to trust",
    },
    "wants_recognition": {
        "label_de": "möchte wahrgenommen und geschätzt werden",
        "label_en": "wants to be noticed and valued",
    },
    "talks_as_equal": {
        "label_de": "spricht auf Augenhöhe",
        "label_en": "talks as an equal",
    },
    "wants_solution": {
        "label_de": "sucht eine Lösung für ein konkretes Problem",
        "label_en": "looks for a solution to a concrete problem",
    },
    "wants_long_relationship": {
        "label_de": "sucht eine langfristige Geschäftsbeziehung",
        "label_en": "looks for a long-term relationship",
    },
}

#: Patient traits of the customer-vs-patient checklist.
PATIENT_TRAITS: dict[str, dict[str, str]] = {
    "wants_to_understand_not_solve": {
        "label_de": "will das Problem verstehen, nicht lösen",
        "label_en": "wants to understand the problem, not solve it",
    },
    "competes_with_advisor": {
        "label_de": "misst sich fachlich mit dem Berater statt ihm zu vertrauen",
        "label_en": "competes with the advisor instead of trusting them",
    },
    "trusts_search_engines_more": {
        "label_de": "vertraut Suchmaschinen mehr als dem Berater",
        "label_en": "trusts search engines more than the advisor",
    },
    "seeks_confirmation": {
        "label_de": "sucht Bestätigung statt neuer Einsichten",
        "label_en": "seeks confirmation rather than new insight",
    },
    "chronically_dissatisfied": {
        "label_de": "ist dauerhaft unzufrieden",
        "label_en": "is chronically dissatisfied",
    },
    "deflects_responsibility": {
        "label_de": "schiebt die Verantwortung von sich",
        "label_en": "deflects responsibility",
    },
}

#: Classes of the customer-vs-patient checklist.
PATIENT_CLASSES: dict[str, dict[str, str]] = {
    "customer": {
        "label_de": "Kunde",
        "label_en": "Customer",
        "description_de": "Zeit investieren: sucht Lösung und Partnerschaft.",
        "description_en": "Worth the time: looks for a solution and a partnership.",
    },
    "mixed": {
        "label_de": "Gemischt",
        "label_en": "Mixed",
        "description_de": "Beides erkennbar; Signale beobachten.",
        "description_en": "Signs of both; watch the signals.",
    },
    "patient": {
        "label_de": "Patient",
        "label_en": "Patient",
        "description_de": "Kostet viel Energie und wird kaum zum Kunden; Aufwand begrenzen.",
        "description_en": "Costs much energy and rarely becomes a customer; limit the effort.",
    },
    "unknown": {
        "label_de": "Nicht bewertet",
        "label_en": "Not assessed",
        "description_de": "Kein Merkmal angekreuzt.",
        "description_en": "No trait ticked.",
    },
}

#: All definitions by kind, for :func:`label`.
DEFINITIONS: dict[str, Mapping[str, Mapping[str, str]]] = {
    "abc_class": ABC_CLASSES,
    "potential_segment": POTENTIAL_SEGMENTS,
    "profit_tier": PROFIT_TIERS,
    "trajectory": TRAJECTORIES,
    "trajectory_reason": TRAJECTORY_REASONS,
    "customer_trait": CUSTOMER_TRAITS,
    "patient_trait": PATIENT_TRAITS,
    "patient_class": PATIENT_CLASSES,
}


def label(kind: str, key: str, lang: str = "de", field: str = "label") -> str:
    """Return the UI text of a segment key, e.g. ``label("potential_segment", "time_waster")``.

    ``field`` is ``"label"``, ``"strategy"`` or ``"description"``; ``lang`` is
    ``"de"`` or ``"en"``.
    """
    if lang not in ("de", "en"):
        raise ValueError(f"lang must be 'de' or 'en', not {lang!r}.")
    try:
        entry = DEFINITIONS[kind][key]
    except KeyError as exc:
        raise ValueError(
            f"No definition for {kind!r}/{key!r}; kinds are {sorted(DEFINITIONS)}."
        ) from exc
    try:
        return entry[f"{field}_{lang}"]
    except KeyError as exc:
        raise ValueError(f"{kind!r}/{key!r} has no {field!r} text.") from exc
