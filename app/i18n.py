"""Languages, number and date formats, and the translation catalog build.

German catalog fragments live in ``app/translations/de/*.po`` (one file per
area, so parallel work does not collide); ``python -m app.i18n`` merges them
into ``LC_MESSAGES/messages.mo``.
"""
from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

from flask import current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, format_decimal, format_percent, get_locale
from flask_login import current_user

TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def select_locale() -> str:
    """The user's saved choice, else the session's, else the browser's."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI, jobs: German unless force_locale says otherwise
        return current_app.config["BABEL_DEFAULT_LOCALE"]
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
    """1.234,56 € in German, €1,234.56 in English; a loss -7.726 € or -€7,726."""
    if _missing(value):
        return "–"
    number = fmt_number(abs(value), digits)
    if number.strip("0.,") == "":  # rounds to zero: no sign
        value = 0
    sign = "-" if value < 0 else ""
    return f"{sign}{number} €" if lang() == "de" else f"{sign}€{number}"


def fmt_percent(value, digits: int = 1) -> str:
    if _missing(value):
        return "–"
    return format_percent(value, format="#,##0" + ("." + "0" * digits if digits else "") + " %")


def fmt_date(value) -> str:
    if _missing(value) or value == "":
        return "–"
    if isinstance(value, dt.datetime):
        return format_datetime(value, "dd.MM.yyyy HH:mm" if lang() == "de" else "yyyy-MM-dd HH:mm")
    return format_date(value, "dd.MM.yyyy" if lang() == "de" else "yyyy-MM-dd")


def register_filters(app) -> None:
    app.jinja_env.filters.update(
        number=fmt_number, money=fmt_money, percent=fmt_percent, date=fmt_date
    )


def compile_catalogs() -> list[Path]:
    """Merge every ``translations/<lang>/*.po`` fragment and write messages.mo."""
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for lang_dir in sorted(p for p in TRANSLATIONS.iterdir() if p.is_dir()):
        merged = Catalog(locale=lang_dir.name)
        for po in sorted(lang_dir.glob("*.po")):
            with po.open("rb") as fh:
                for message in read_po(fh, locale=lang_dir.name):
                    if message.id and message.string:
                        merged.add(message.id, message.string)
        out = lang_dir / "LC_MESSAGES" / "messages.mo"
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("wb") as fh:
            write_mo(fh, merged)
        written.append(out)
    return written


if __name__ == "__main__":
    for path in compile_catalogs():
        print(f"compiled {path.relative_to(TRANSLATIONS.parent.parent)}")
