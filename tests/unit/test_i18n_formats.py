"""German and English number and date formats (DOMAIN: 1.234,56 €, 23.11.2026)."""
from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask_babel import Babel, force_locale

from app.web.i18n import fmt_date, fmt_money, fmt_number, fmt_percent


@pytest.fixture(scope="module")
def babel_app():
    app = Flask(__name__)
    Babel(app)
    return app


@pytest.mark.parametrize(
    "locale,money,date,number,percent",
    [
        ("de", "1.234,56 €", "23.11.2026", "1.234.567", "12,5 %"),
        ("en", "€1,234.56", "2026-11-23", "1,234,567", "12.5 %"),
    ],
)
def test_formats(babel_app, locale, money, date, number, percent):
    with babel_app.test_request_context(), force_locale(locale):
        assert fmt_money(1234.56) == money
        assert fmt_date(dt.date(2026, 11, 23)) == date
        assert fmt_number(1234567) == number
        assert fmt_percent(0.125) == percent


@pytest.mark.parametrize(
    "locale,value,digits,expected",
    [
        ("de", -7726.4, 0, "-7.726 €"),
        ("en", -7726.4, 0, "-€7,726"),
        ("en", -0.004, 2, "€0.00"),
        ("de", -0.4, 0, "0 €"),
        ("de", -0.004, 2, "0,00 €"),
        ("de", 1234.5, 2, "1.234,50 €"),
        ("de", 38000, 0, "38.000 €"),
        ("en", 1234567.891, 2, "€1,234,567.89"),
        ("en", 0, 0, "€0"),
        ("en", -12.5, 1, "-€12.5"),
    ],
)
def test_a_loss_carries_its_sign_before_the_amount(babel_app, locale, value, digits, expected):
    with babel_app.test_request_context(), force_locale(locale):
        assert fmt_money(value, digits) == expected


def test_missing_values_show_a_dash(babel_app):
    with babel_app.test_request_context(), force_locale("de"):
        assert fmt_money(None) == "–" and fmt_number(float("nan")) == "–" and fmt_date(None) == "–"


def test_money_has_an_ordinary_space_before_the_euro_sign(babel_app):
    # babel's German pattern has a no-break space; the app shows an ordinary one
    with babel_app.test_request_context(), force_locale("de"):
        assert "\xa0" not in fmt_money(-1234.5) and fmt_money(-1234.5).endswith(" €")
