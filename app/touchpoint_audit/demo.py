"""Demo step: the open audit round "Touchpoint-Audit 2026/Q4" with observations logged by
both service users, where some touchpoints penalise loyal customers in some segments
(renewal prices above the new-business price for Cash-Cows, longer hotline waits for
C customers) and the others treat them fairly; the analysis has run, so findings exist
with owners and due dates (one overdue)."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from app.accounts.models import User
from app.extensions import db
from app.segments.kinds import AUDIT_KINDS
from app.segments.models import Customer
from app.touchpoint_audit.analysis import run_analysis
from app.touchpoint_audit.catalog import seed_catalog
from app.touchpoint_audit.loaders import customer_segments, latest_segmentation_run_id
from app.touchpoint_audit.models import (
    Audit,
    Finding,
    FindingComment,
    Metric,
    Observation,
    ObservationPair,
    RoundSchedule,
    Scenario,
    ScheduledRound,
    Touchpoint,
)

DEMO_AUDIT_TITLE = "Touchpoint-Audit 2026/Q4"
PRODUCTS = {"BASIS": 39.90, "PLUS": 59.90, "PREMIUM": 89.90}  # monthly tariff, EUR
CHANNELS = ("online", "phone", "branch")

# Observations per metric, and the planted penalties: (segment kind, value) -> share worse.
PLAN = {
    ("offer", "price"): (160, {}),
    ("offer", "discount"): (100, {}),
    ("renewal", "price"): (320, {("potential", "cash_cow"): 0.15}),
    ("hotline", "wait"): (280, {("abc", "C"): 0.80}),
    ("hotline", "resolved"): (120, {}),
    ("inside_sales", "care_rating"): (140, {}),
    ("inside_sales", "response_time"): (120, {}),
    ("after_sales", "satisfaction"): (120, {}),
    ("after_sales", "resolved"): (100, {}),
    ("new_customer_bonus", "bonus"): (80, {}),
}


# Share of price observations with an individual deal, and the deal's size.
DEAL_SHARE, DEAL_RANGE = 0.25, (0.03, 0.10)


def _value(rng, touchpoint: str, metric: str, unit: str, product: str | None, worse: float,
           deals: np.random.Generator | None = None) -> float:
    if metric == "price":
        # Prices follow the tariff: the yearly list price with the usual spread of
        # individual terms (a few per cent either way), sometimes less a deal (new and
        # existing customers alike), plus any planted penalty. A fair existing-customer
        # price lies above the new-business reference about as often as below it.
        spread = rng.lognormal(0, 0.04)
        deals = deals or rng
        deal = deals.uniform(*DEAL_RANGE) if deals.random() < DEAL_SHARE else 0.0
        return round(PRODUCTS[product] * 12 * spread * (1 - deal) * (1 + worse), 2)
    if unit == "seconds":
        return float(round(rng.gamma(2.0, 60.0) * (1 + worse)))
    if unit == "hours":
        return round(float(rng.gamma(2.0, 4.0) * (1 + worse)), 1)
    if unit == "rating":
        return float(np.clip(round(rng.normal(4.0, 0.8) - 2 * worse), 1, 5))
    if unit == "boolean":
        return float(rng.random() < 0.82 * (1 - worse))
    if unit == "percent":
        return round(float(np.clip(rng.gamma(4, 2.5) * (1 - worse), 0, 100)), 1)
    return round(float(rng.gamma(4, 12.5) * (1 - worse)), 2)  # bonus in EUR


def demo_observations(audit: Audit, customers: pd.DataFrame, staff: list[int], start: dt.date, end: dt.date,
                      seed: int) -> list[dict]:
    """Observation rows for the demo audit (plain dicts for a bulk insert)."""
    rng = np.random.default_rng(seed)
    deals = np.random.default_rng(seed + 1)
    days = max(1, (end - start).days)
    existing = customers[customers["customer_since"] < pd.Timestamp(start)].reset_index(drop=True)
    rows = []
    for metric in audit.metrics:
        plan = PLAN.get((metric.touchpoint.key, metric.key))
        if plan is None:
            continue
        n, penalties = plan
        for i in range(n):
            is_new = i % 2 == 0
            product = str(rng.choice(list(PRODUCTS))) if metric.needs_product_key or metric.is_price else None
            worse, customer_id = 0.0, None
            if not is_new:
                pick = existing.iloc[int(rng.integers(len(existing)))]
                customer_id = int(pick["customer_pk"])
                for (kind, value), share in penalties.items():
                    if pick.get(kind) == value:
                        worse += share
            observed = dt.datetime.combine(start, dt.time(8)) + dt.timedelta(
                days=int(rng.integers(0, days)), minutes=int(rng.integers(0, 9 * 60)))
            rows.append({
                "audit_id": audit.id, "metric_id": metric.id,
                "value": _value(rng, metric.touchpoint.key, metric.key, metric.unit, product, worse, deals),
                "customer_status": "new" if is_new else "existing", "customer_id": customer_id,
                "product_key": product, "channel": str(rng.choice(CHANNELS)) if product else None,
                "observed_at": observed, "created_by_id": staff[i % len(staff)] if staff else None, "note": "",
                "created_at": observed,
            })
    return rows


def _customers_with_segments() -> pd.DataFrame:
    base = pd.DataFrame(db.session.execute(db.select(Customer.id, Customer.customer_since)).all(),
                        columns=["customer_pk", "customer_since"])
    base["customer_since"] = pd.to_datetime(base["customer_since"])
    segments = customer_segments(latest_segmentation_run_id())
    if segments.empty:
        for kind in AUDIT_KINDS:
            base[kind] = None
        return base
    return base.merge(segments, on="customer_pk", how="left")


def step_audits(ctx: dict) -> str:
    """Create the open demo audit round with observations, run the analysis, assign findings."""
    today = dt.date.today()
    start, end = dt.date(2026, 10, 1), dt.date(2026, 12, 31)
    if today < start:  # a demo loaded earlier than planned: keep the round in the recent past
        start, end = today - dt.timedelta(days=60), today + dt.timedelta(days=30)
    users = {u.username: u for u in db.session.scalars(db.select(User))}
    manager = next((u for u in users.values() if u.role == "manager"), None)
    staff = [u for u in users.values() if u.role == "service"]
    metrics = db.session.scalars(db.select(Metric).join(Touchpoint).where(Touchpoint.active.is_(True))
                                 .order_by(Touchpoint.position, Metric.position)).all()
    audit = Audit(title=DEMO_AUDIT_TITLE, status="open", period_start=start, period_end=end,
                  owner_id=manager.id if manager else None, metrics=list(metrics), staff=staff,
                  description="Werden Bestandskunden an unseren Kontaktpunkten schlechter behandelt als Neukunden? "
                              "Preise, Verlängerung, Hotline, Innendienst und After-Sales im vierten Quartal.")
    db.session.add(audit)
    db.session.flush()
    customers = _customers_with_segments()
    logged_until = min(end, today - dt.timedelta(days=1))
    rows = demo_observations(audit, customers, [u.id for u in staff], start, logged_until,
                             ctx.get("seed", 20261123) + 6)
    for first in range(0, len(rows), 5000):
        db.session.execute(db.insert(Observation), rows[first:first + 5000])
    snapshot = run_analysis(audit, manager.id if manager else None)
    findings = db.session.scalars(db.select(Finding).where(Finding.audit_id == audit.id)
                                  .order_by(Finding.id)).all()
    leadership = next((u for u in users.values() if u.role == "leadership"), None)
    for i, finding in enumerate(findings):
        finding.owner_id = manager.id if manager else None
        finding.due_date = today - dt.timedelta(days=5) if i == 0 else today + dt.timedelta(days=14 * (i + 1))
        if i == 1:
            finding.status = "acknowledged"
    if findings and manager:
        db.session.add(FindingComment(finding_id=findings[0].id, author_id=manager.id,
                                      body="Mit dem Hotline-Teamleiter besprochen; Routing wird geprüft."))
        if leadership:
            db.session.add(FindingComment(finding_id=findings[0].id, author_id=leadership.id,
                                          body="Bitte bis Monatsende eine Lösung vorschlagen."))
    db.session.flush()
    flagged = sum(1 for c in snapshot.comparisons if c.get("flagged"))
    return (f"audit #{audit.id} '{audit.title}': {len(rows)} observations, {flagged} flagged comparisons, "
            f"{len(findings)} findings")


def step_catalog(ctx: dict) -> str:
    return f"{seed_catalog()} touchpoint metrics"


# ------------------------------------------------------------------ the paired round

DEMO_PAIRED_TITLE = "Testanrufe 2026/Q4 (gepaart)"
# (touchpoint, metric, title, product, channel, script, pairs, existing side's penalty)
DEMO_SCENARIOS = (
    ("renewal", "price", "Verlängerung Tarif PLUS am Telefon", "PLUS", "phone",
     "„Mein Vertrag läuft aus – was kostet PLUS für weitere zwölf Monate?“ Als Interessent: "
     "„Was kostet PLUS für zwölf Monate?“ Preis ohne Aktionen notieren.", 24, 0.06),
    ("hotline", "wait", "Hotline: Frage zur Rechnung", None, "phone",
     "Anrufen, Rückfrage zu einer Rechnungsposition stellen; Wartezeit bis zur ersten Person stoppen.", 20, 0.0),
    ("hotline", "resolved", "Hotline: Tarifwechsel im ersten Anruf", None, "phone",
     "Nach einem Wechsel auf BASIS fragen; notieren, ob er im ersten Anruf erledigt wurde.", 8, 0.0),
)


def demo_pairs(rng: np.random.Generator, metric: Metric, n: int, penalty: float, product: str | None
               ) -> list[tuple[float, float]]:
    """(prospect, existing customer) values of one scenario: the calls differ a lot from one
    another (day, agent, offer of the week), the two calls of a pair little; the existing side
    carries ``penalty``."""
    pairs = []
    for _ in range(n):
        if metric.unit == "boolean":
            new = float(rng.random() < 0.8)
            existing = new if rng.random() < 0.85 else 1.0 - new
        elif metric.unit == "seconds":
            call = rng.gamma(2.0, 90.0)
            new = float(round(call * rng.lognormal(0, 0.1)))
            existing = float(round(call * (1 + penalty) * rng.lognormal(0, 0.1)))
        else:
            call = PRODUCTS[product] * 12 * rng.lognormal(0, 0.25)
            new = round(call * rng.lognormal(0, 0.02), 2)
            existing = round(call * (1 + penalty) * rng.lognormal(0, 0.02), 2)
        pairs.append((max(new, 1.0) if metric.unit == "seconds" else new, existing))
    return pairs


def step_paired_round(ctx: dict) -> str:
    """Demo step: a round of paired test calls (scenarios, pairs by the service user service2, a
    quarterly schedule with a quota of pairs), analysed: renewal prices of PLUS are about 6 %
    higher for existing customers, hotline waits are fair, and the yes/no scenario has too few
    pairs for a test."""
    today = dt.date.today()
    start, end = dt.date(2026, 10, 1), dt.date(2026, 12, 31)
    if today < start:
        start, end = today - dt.timedelta(days=60), today + dt.timedelta(days=30)
    users = {u.username: u for u in db.session.scalars(db.select(User))}
    manager = next((u for u in users.values() if u.role == "manager"), None)
    # Tom Berger (service2) makes the test calls; "service" keeps one open round, so its log page
    # opens the demo round's form directly.
    staff = [users["service2"]] if "service2" in users else [u for u in users.values() if u.role == "service"]
    metrics = {(m.touchpoint.key, m.key): m for m in db.session.scalars(db.select(Metric))}
    audit = Audit(title=DEMO_PAIRED_TITLE, status="open", period_start=start, period_end=end,
                  owner_id=manager.id if manager else None, staff=staff,
                  metrics=[metrics[(tp, m)] for tp, m, *_rest in DEMO_SCENARIOS],
                  description="Dieselbe Anfrage einmal als Interessent, einmal als Bestandskunde: "
                              "Verlängerungspreis, Wartezeit und Erledigung in der Hotline.")
    # A pilot of test calls, begun before the quarter's main round: the leadership answer (the
    # latest analysed round) stays the main round's, which holds every touchpoint.
    main = db.session.scalars(db.select(Audit).where(Audit.title == DEMO_AUDIT_TITLE)).first()
    if main is not None and main.created_at is not None:
        audit.created_at = main.created_at - dt.timedelta(days=1)
    db.session.add(audit)
    db.session.flush()
    rng = np.random.default_rng(ctx.get("seed", 20261123) + 17)
    existing_ids = db.session.scalars(db.select(Customer.id).where(Customer.customer_since < start)
                                      .order_by(Customer.id)).all()
    logged_until = min(end, today - dt.timedelta(days=1))
    days = max(1, (logged_until - start).days)
    n_pairs = 0
    for number, (tp, m, title, product, channel, script, n, penalty) in enumerate(DEMO_SCENARIOS):
        metric = metrics[(tp, m)]
        scenario = Scenario(audit_id=audit.id, metric_id=metric.id, title=title, product_key=product,
                            channel=channel, script=script)
        db.session.add(scenario)
        db.session.flush()
        for i, (new_value, existing_value) in enumerate(demo_pairs(rng, metric, n, penalty, product)):
            when = dt.datetime.combine(start, dt.time(9)) + dt.timedelta(
                days=int(rng.integers(0, days)), minutes=int(rng.integers(0, 8 * 60)))
            author = staff[(i + number) % len(staff)].id if staff else None
            customer = int(existing_ids[int(rng.integers(len(existing_ids)))]) if existing_ids else None
            sides = [Observation(audit_id=audit.id, metric_id=metric.id, value=float(value), customer_status=status,
                                 customer_id=customer if status == "existing" else None, product_key=product,
                                 channel=channel, observed_at=when + dt.timedelta(minutes=offset),
                                 created_by_id=author, created_at=when)
                     for value, status, offset in ((new_value, "new", 0), (existing_value, "existing", 20))]
            db.session.add_all(sides)
            db.session.flush()
            db.session.add(ObservationPair(audit_id=audit.id, scenario_id=scenario.id,
                                           new_observation_id=sides[0].id, existing_observation_id=sides[1].id,
                                           created_by_id=author, created_at=when))
            n_pairs += 1
    schedule = RoundSchedule(template_audit_id=audit.id, frequency="quarterly", quota_pairs=30)
    db.session.add(schedule)
    db.session.flush()
    db.session.add(ScheduledRound(schedule_id=schedule.id, period=f"{start.year}-Q{(start.month - 1) // 3 + 1}",
                                  audit_id=audit.id, quota_pairs=30))
    snapshot = run_analysis(audit, manager.id if manager else None)
    db.session.flush()
    flagged = sum(1 for row in snapshot.paired or [] if row.get("flagged"))
    return f"audit #{audit.id} '{audit.title}': {n_pairs} pairs in {len(DEMO_SCENARIOS)} scenarios, {flagged} flagged"
