"""Languages, number and date formats, and the translation catalog build.

Each area keeps its German catalog beside its code, in
``app/<area>/translations/de/LC_MESSAGES/messages.po`` (the shell's in
``app/web/translations``); Flask-Babel merges the directories at run time.
``make translations`` (:func:`compile_catalogs`) compiles every ``.po`` into the ``.mo`` beside it.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import current_app, g, has_request_context, request, session
from flask_babel import format_currency, format_date, format_datetime, format_decimal, format_percent, get_locale
from flask_login import current_user

APP_ROOT = Path(__file__).resolve().parent.parent


def translation_directories() -> list[str]:
    """Every ``translations`` folder under ``app/``: the shell's first, then the areas'."""
    folders = sorted(APP_ROOT.glob("*/translations"), key=lambda p: (p.parent.name != "web", p.parent.name))
    return [str(folder) for folder in folders]


def select_locale() -> str:
    """A language the request itself fixed (``g.request_locale``: the HTTP API answers in the
    language of Accept-Language, whatever the token user chose for the pages), else the user's
    saved choice, else the session's, else the browser's."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI, jobs: German unless force_locale says otherwise
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if g.get("request_locale") in languages:
        return g.request_locale
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("lang") in languages:
        return session["lang"]
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def lang() -> str:
    return str(get_locale() or "de")


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_number(value, digits: int = 0) -> str:
    if _missing(value):
        return "–"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern)


def fmt_money(value, digits: int = 2) -> str:
    """1.234,56 € in German, €1,234.56 in English; a loss -7.726 € or -€7,726.

    The locale's currency pattern from babel with ``digits`` decimals; an
    amount that rounds to zero has no sign, and the space before € is an
    ordinary one (babel's no-break space would differ from the texts users
    copy and the tests pin).
    """
    if _missing(value):
        return "–"
    locale = get_locale() or Locale.parse("de")
    decimals = "0" + ("." + "0" * digits if digits else "")
    pattern = _FRACTION.sub(decimals, locale.currency_formats["standard"].pattern, count=1)
    text = format_currency(abs(value), "EUR", format=pattern, currency_digits=False)
    if any(character in "123456789" for character in text):  # else it rounds to zero: no sign
        text = format_currency(value, "EUR", format=pattern, currency_digits=False)
    return text.replace("\xa0", " ")


_FRACTION = re.compile(r"0(?:\.0+)?(?=[^0#.,]|$)")


def fmt_percent(value, digits: int = 1) -> str:
    if _missing(value):
        return "–"
    return format_percent(value, format="#,##0" + ("." + "0" * digits if digits else "") + " %")


def fmt_date(value) -> str:
    """23.11.2026 in German; a date stored as ISO text (an analysis snapshot's) is read first."""
    if _missing(value) or value == "":
        return "–"
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        return format_datetime(value, "dd.MM.yyyy HH:mm" if lang() == "de" else "yyyy-MM-dd HH:mm")
    return format_date(value, "dd.MM.yyyy" if lang() == "de" else "yyyy-MM-dd")


def register_filters(app) -> None:
    app.jinja_env.filters.update(
        number=fmt_number, money=fmt_money, percent=fmt_percent, date=fmt_date
    )


def compile_catalogs() -> list[Path]:
    """Compile every area's ``messages.po`` into the ``messages.mo`` beside it."""
    written = []
    for folder in translation_directories():
        for po in sorted(Path(folder).glob("*/LC_MESSAGES/messages.po")):
            locale = po.parent.parent.name
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=locale)
            out = po.with_suffix(".mo")
            with out.open("wb") as fh:
                write_mo(fh, catalog)
            written.append(out)
    return written

