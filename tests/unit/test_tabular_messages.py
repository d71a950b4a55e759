"""The spreadsheet reader's problems in German and English (app/web/import_messages.py)."""
from __future__ import annotations

import re
import string

import pytest
from flask import Flask
from flask_babel import Babel, force_locale

from app.web.i18n import translation_directories
from app.web.import_messages import MESSAGE_IDS, problem_text, reason_text
from tabular import MESSAGES, Problem, TableError, make_problem


@pytest.fixture(scope="module")
def babel_app():
    app = Flask(__name__)
    Babel(app, default_translation_directories=";".join(translation_directories()))
    with app.app_context():
        yield app


def sample_params(template: str) -> dict:
    return {name: f"<{name}>" for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_code_has_its_english_template_as_message_id(babel_app):
    with force_locale("en"):
        for code, template in MESSAGES.items():
            if code == "customer_values.mixed_periods":
                for kind in ("quarter", "month"):
                    english = str(MESSAGE_IDS[f"{code}:{kind}"]) % sample_params(template)
                    assert english == template.format(**{**sample_params(template), "dropped_kind": kind})
            else:
                assert str(MESSAGE_IDS[code]) % sample_params(template) == template.format(**sample_params(template))


@pytest.mark.parametrize("code", [c for c in MESSAGES if not c.startswith("location.")])
def test_english_text_is_the_package_message(babel_app, code):
    params = sample_params(MESSAGES[code])
    if code == "customer_values.mixed_periods":
        params["dropped_kind"] = "month"
    for row, column in [(None, None), (4, None), (None, "Umsatz"), (4, "Umsatz")]:
        if "row" in params:  # a TableError naming a row: the row is in its text
            problem = Problem(None, None, MESSAGES[code].format(**params), code, params)
        else:
            problem = make_problem(code, row=row, column=column, **params)
        assert problem_text(problem, "en") == problem.message
        assert problem.message.endswith(reason_text(problem, "en"))


@pytest.mark.parametrize("code", [c for c in MESSAGES if not c.startswith("location.")])
def test_every_code_has_german_text(babel_app, code):
    params = sample_params(MESSAGES[code])
    params["dropped_kind"] = "quarter"
    if "row" in params:  # a TableError naming a row
        problem = Problem(None, None, MESSAGES[code].format(**params), code, params)
    else:
        problem = make_problem(code, **params)
    german = problem_text(problem, "de")
    assert german != problem.message
    assert all(f"<{name}>" in german for name in params if name != "dropped_kind"), german


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        (make_problem("value.not_number", row=3, column="Umsatz", value="zwölf"),
         "Zeile 3, Spalte Umsatz: 'zwölf' ist keine Zahl"),
        (make_problem("customer_values.mixed_periods", row=5, column="Periode", months=10, quarters=2, dropped=2,
                      dropped_kind="quarter"),
         "Zeile 5, Spalte Periode: Monate und Quartale sind gemischt (Monate: 10, Quartale: 2 Zeilen); die Zeilen "
         "der selteneren Art bleiben außen vor, verwenden Sie eine Art von Periode je Datei"),
        (make_problem("column.missing", name="revenue", aliases="revenue, Umsatz"),
         "Die Pflichtspalte 'revenue' fehlt (erlaubte Namen: revenue, Umsatz)."),
        (Problem(None, None, "x", "table.too_many_values", {"row": 7, "count": 4, "columns": 3}),
         "Zeile 7 hat 4 Werte, die Kopfzeile aber 3 Spalten; prüfen Sie das Trennzeichen oder setzen Sie Werte, "
         "die es enthalten, in Anführungszeichen."),
        (Problem(2, "Name", "Row 2, column Name: '=A1' looks like a spreadsheet formula; enter the name as plain text",
                 "customer_values.formula_name", {"value": "=A1"}),
         "Zeile 2, Spalte Name: '=A1' sieht aus wie eine Tabellenformel; geben Sie den Namen als einfachen Text ein"),
    ],
)
def test_german_texts(babel_app, problem, expected):
    assert problem_text(problem, "de") == expected
    assert expected.endswith(reason_text(problem, "de"))


def test_an_unknown_code_falls_back_to_the_english_message(babel_app):
    problem = Problem(3, "Umsatz", "Row 3, column Umsatz: something odd", "elsewhere.odd", {})
    assert problem_text(problem, "de") == problem.message
    assert reason_text(problem, "de") == "something odd"


def test_table_errors_read_in_german(babel_app):
    error = TableError.from_code("file.too_large", size_mb=300, limit_mb=200)
    problem = Problem(None, None, error.message, error.code, error.params)
    assert problem_text(problem, "de") == "Die Datei hat 300 MB; erlaubt sind 200 MB."
    assert not re.search(r"%\(\w+\)", problem_text(problem, "de"))
