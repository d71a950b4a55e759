"""`flask customers import` and `flask segments run|export`."""
from __future__ import annotations

import json

from app.extensions import db

CSV = (
    "customer_id,name,customer_since,period,revenue,cost_to_serve,potential\n"
    + "".join(
        f"{c:05d},Kunde {c},2010-01-01,2024-{m:02d},{100 * c + 10 * m},{50 * c},{300 * c}\n"
        for c in range(1, 9) for m in range(1, 13)
    )
)


def test_import_dry_run_then_import_then_run_and_export(app, tmp_path):
    runner = app.test_cli_runner()
    path = tmp_path / "values.csv"
    path.write_text(CSV)
    dry = runner.invoke(args=["customers", "import", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "8 customers (8 new)" in dry.output and "Dry run" in dry.output
    from app.segments.models import Customer

    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Customer.id))) == 0
        db.session.remove()
    done = runner.invoke(args=["customers", "import", str(path)])
    assert done.exit_code == 0 and "Imported" in done.output
    result = runner.invoke(args=["segments", "run", "--window-start", "2024-01", "--window-end", "2024-12",
                                 "--abc", "0.5,0.9"])
    assert result.exit_code == 0, result.output
    run_id = int(result.output.split()[1].rstrip(":"))
    assert "8 customers" in result.output and "cross-subsidy" in result.output
    exported = runner.invoke(args=["segments", "export", str(run_id), "--format", "json"])
    rows = json.loads(exported.output)
    assert len(rows) == 8 and rows[0]["customer_id"] == "00008" and rows[0]["abc_class"] == "A"
    assert {"potential_segment", "profit_tier", "trajectory", "burr", "cum_share_before", "p_value"} <= set(rows[0])
    out = tmp_path / "segments.xlsx"
    assert runner.invoke(args=["segments", "export", str(run_id), "--format", "xlsx", "-o", str(out)]).exit_code == 0
    assert out.read_bytes()[:2] == b"PK"
    german = runner.invoke(args=["segments", "export", str(run_id), "--format", "csv", "--lang", "de"]).output
    header, first = german.splitlines()[:2]
    assert header.startswith("Kundennr.;Name;ABC-Klasse;Potenzialsegment;") and first.startswith("00008;")
    english = runner.invoke(args=["segments", "export", str(run_id), "--format", "csv"]).output
    assert english.startswith("Customer no.,Name,ABC class,Potential segment,")
    missing = runner.invoke(args=["segments", "export", "999999"])
    assert missing.exit_code != 0 and "no segmentation run" in missing.output


def test_bad_file_exits_non_zero_with_the_problem_list(app, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("Kundennummer;Periode;Umsatz\n1;2024-01;zwölf\n2;Mai;4\n")
    result = app.test_cli_runner().invoke(args=["customers", "import", str(path)])
    assert result.exit_code == 1
    assert "Row 2, column Umsatz" in result.output and "Row 3, column Periode" in result.output
    assert "nothing was written" in result.output


def test_run_without_data_is_a_clear_error(app):
    result = app.test_cli_runner().invoke(args=["segments", "run"])
    assert result.exit_code != 0 and "import them first" in result.output


def test_rebuild_series_repairs_values_written_with_sql(app, tmp_path):
    """Values changed with SQL outside the app reach the runs after `flask customers rebuild-series`."""
    runner = app.test_cli_runner()
    path = tmp_path / "values.csv"
    path.write_text(CSV)
    assert runner.invoke(args=["customers", "import", str(path)]).exit_code == 0
    from app.segments import loaders

    with app.app_context():
        db.session.execute(db.text("UPDATE customer_values SET revenue = revenue + 1000"))
        db.session.commit()
        stale = loaders.load_window("2024-01", "2024-12")[0]["revenue"].sum()
        db.session.remove()
    rebuilt = runner.invoke(args=["customers", "rebuild-series"])
    assert rebuilt.exit_code == 0 and "Rebuilt 1 series blocks" in rebuilt.output, rebuilt.output
    with app.app_context():
        fresh = loaders.load_window("2024-01", "2024-12")[0]["revenue"].sum()
        db.session.remove()
    assert fresh == stale + 1000 * 8 * 12
