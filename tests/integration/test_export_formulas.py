"""CSV exports cannot carry a formula: a field with a line break is quoted, and no line
of it starts a formula. Read back with Python's csv module, which (like a spreadsheet
program) starts a new row at an unquoted CR or LF."""
from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from app.extensions import db
from tests.integration.audit_fixtures import add_observations, build_world
from tests.integration.test_audits_analysis import _planted_rows

PAYLOAD = "Harmless GmbH\r=cmd|' /C calc'!A0"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _assert_no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        assert row, "an empty row: a line break outside quotes split a field"
        first = row[0]
        assert not first.startswith(FORMULA_START), f"a row starts with a formula: {row!r}"
        for cell in row:
            for line in cell.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
                assert not line.startswith(FORMULA_START[:4]), f"a line starts with a formula: {cell!r}"


@pytest.fixture
def run_with_payload(app, users):
    from app.segments.models import Customer, CustomerSegment, SegmentationRun

    with app.app_context():
        run = SegmentationRun(window_start="2024-01", window_end="2024-12", status="done", summary={})
        customers = [Customer(customer_no="0001", name=PAYLOAD), Customer(customer_no="0002", name="Plain AG")]
        db.session.add_all([run, *customers])
        db.session.flush()
        for rank, customer in enumerate(customers, 1):
            db.session.add(CustomerSegment(run_id=run.id, customer_id=customer.id, abc_class="A", rank=rank,
                                           revenue=100.0 / rank))
        db.session.commit()
        run_id = run.id
        db.session.remove()
    return run_id


def test_web_csv_export_quotes_line_breaks_and_neutralises_formulas(as_role, run_with_payload):
    response = as_role("manager").get(f"/segments/runs/{run_with_payload}/export.csv")
    assert response.status_code == 200
    rows = _rows(response.data.decode("utf-8-sig"))
    _assert_no_formula(rows)
    assert len(rows) == 3  # header and two customers: the name stayed in its field
    assert rows[1][1] == "Harmless GmbH\r'=cmd|' /C calc'!A0"


def test_cli_segments_export_is_protected_too(app, run_with_payload, tmp_path):
    out = tmp_path / "export.csv"
    result = app.test_cli_runner().invoke(args=["segments", "export", str(run_with_payload), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = _rows(out.read_bytes().decode("utf-8-sig"))
    _assert_no_formula(rows)
    assert len(rows) == 3


def test_cli_audit_analysis_csv_is_protected(app, users, tmp_path):
    world = build_world(app, users)
    rows = _planted_rows(world, np.random.default_rng(7))
    for row in rows:
        if row.get("product_key"):
            row["product_key"] = "P1\r=cmd|' /C calc'!A0"
    add_observations(app, world, rows)
    out = tmp_path / "analysis.csv"
    result = app.test_cli_runner().invoke(args=["audits", "analyze", str(world.audit_id), "--format", "csv",
                                                "-o", str(out)])
    assert result.exit_code == 0, result.output
    exported = _rows(out.read_text(encoding="utf-8"))
    _assert_no_formula(exported)
    cases = [r for r in exported[1:] if r[0] == "case"]
    assert cases and all(len(r) == len(exported[0]) for r in exported)
