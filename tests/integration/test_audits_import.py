"""Bulk import of observations (web upload and CLI) and the audit CLI commands."""
from __future__ import annotations

import csv
import io
import json

import pytest

from app.extensions import db
from tests.integration.audit_fixtures import count_observations, problem_texts

GOOD_CSV = (
    "Kontaktpunkt;Kennzahl;Wert;Kundenstatus;Kundennummer;Produkt;Kanal;Datum;Notiz\n"
    "hotline;wait;95;Bestandskunde;004711;;phone;15.11.2026;\n"
    "Hotline;Wartezeit;40;Neukunde;;;phone;15.11.2026;\n"
    "renewal;price;1.234,50;;004712;P1;online;2026-11-16;renewal\n"
    "hotline;wait;95;Bestandskunde;004711;;phone;15.11.2026;\n"
)


def _upload(client, audit_id, text, name="obs.csv"):
    return client.post(f"/audits/{audit_id}/import", data={"file": (io.BytesIO(text.encode("utf-8")), name)},
                       content_type="multipart/form-data")


def test_upload_preview_confirm_and_idempotent_reimport(app, as_role, world):
    client = as_role("manager")
    response = _upload(client, world.audit_id, GOOD_CSV)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "4 new observations" in html and 'id="import-preview"' in html
    token = html.split('name="token" value="')[1].split('"')[0]
    assert count_observations(app) == 0  # nothing written before the confirmation
    assert client.post(f"/audits/{world.audit_id}/import/confirm", data={"token": token}).status_code == 303
    assert count_observations(app) == 4
    from app.touchpoint_audit.models import Observation

    with app.app_context():
        renewal = db.session.scalars(db.select(Observation).where(Observation.product_key == "P1")).one()
        assert renewal.value == 1234.5 and renewal.customer_status == "existing"  # status from tenure
        db.session.remove()
    # the same file again: nothing new
    html = _upload(client, world.audit_id, GOOD_CSV).get_data(as_text=True)
    assert "0 new observations" in html and "4 already imported" in html


@pytest.mark.parametrize("line,message", [
    ("website;visits;3;new;;;;;", "Row 2, column Kontaktpunkt: “website” is not a touchpoint"),
    ("hotline;speed;3;new;;;;;", "Row 2, column Kennzahl: “speed” is not a metric"),
    ("hotline;wait;-5;new;;;;;", "Row 2, column Wert: The value cannot be negative"),
    ("inside_sales;care_rating;7;new;;;;;", "Row 2, column Wert: The value must be at most 5"),
    ("hotline;wait;5;neu;000001;;;;", "Row 2, column Kundennummer: There is no customer with the number “000001”"),
    ("hotline;wait;5;vielleicht;;;;;", "is not a customer status"),
    ("renewal;price;100;new;;;;;", "needs the product or tariff key"),
    ("hotline;wait;5;new;;;;31.02.2026;", "is not a date"),
])
def test_bad_rows_are_reported_by_spreadsheet_row_and_nothing_written(app, as_role, world, line, message):
    header = GOOD_CSV.splitlines()[0]
    response = _upload(as_role("manager"), world.audit_id, f"{header}\n{line}\n")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert any(message in text for text in problem_texts(html)), problem_texts(html)
    assert count_observations(app) == 0


def test_all_or_nothing(app, as_role, world):
    text = GOOD_CSV + "hotline;wait;-1;new;;;;;\n"
    response = _upload(as_role("manager"), world.audit_id, text)
    assert response.status_code == 422 and 'data-row="6"' in response.get_data(as_text=True)
    assert count_observations(app) == 0


def test_missing_column_and_unreadable_file(as_role, world):
    client = as_role("manager")
    html = _upload(client, world.audit_id, "touchpoint;metric\nhotline;wait\n").get_data(as_text=True)
    assert "Required column &#39;value&#39; is missing" in html
    assert _upload(client, world.audit_id, "x", name="obs.xls").status_code == 422


def test_confirm_with_a_forged_token_is_404(app, as_role, world):
    assert as_role("manager").post(f"/audits/{world.audit_id}/import/confirm", data={"token": "forged"}).status_code == 404
    assert count_observations(app) == 0


# ------------------------------------------------------------------ CLI

def test_cli_touchpoints_list_json(app, world):
    result = app.test_cli_runner().invoke(args=["touchpoints", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    hotline = next(t for t in data if t["key"] == "hotline")
    assert {"key": "wait", "unit": "seconds", "direction": "lower"}.items() <= hotline["metrics"][0].items()
    text = app.test_cli_runner().invoke(args=["touchpoints", "list"])
    assert "hotline" in text.output


def test_cli_create_import_analyze(app, users, tmp_path):
    from app.segments.models import Customer
    from app.touchpoint_audit.catalog import seed_catalog

    with app.app_context():
        seed_catalog()
        db.session.add(Customer(customer_no="004711", name="A", customer_since=None))
        db.session.commit()
        db.session.remove()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audits", "create", "--title", "CLI audit"])
    assert result.exit_code == 0, result.output
    audit_id = int(result.output.strip())
    lines = ["touchpoint,metric,value,customer_status,customer_id,product_key,channel,observed_at"]
    for i in range(30):
        lines.append(f"hotline,wait,{60 + i},new,,,,2026-11-01")
        known = "004711" if i == 0 else ""   # one value per customer: 30 customers, one known
        lines.append(f"hotline,wait,{200 + i},existing,{known},,,2026-11-01")
        lines.append(f"renewal,price,{100 + i % 3},new,,P1,online,2026-11-01")
        lines.append(f"renewal,price,{130 + i % 3},existing,{known},P1,online,2026-11-02")
    path = tmp_path / "obs.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(args=["audits", "import-observations", str(audit_id), str(path)])
    assert result.exit_code == 0, result.output
    assert "120 observations imported" in result.output
    again = runner.invoke(args=["audits", "import-observations", str(audit_id), str(path)])
    assert "0 observations imported, 120 already there" in again.output
    out = tmp_path / "analysis.json"
    result = runner.invoke(args=["audits", "analyze", str(audit_id), "--format", "json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    overall = next(c for c in data["comparisons"] if c["touchpoint"] == "hotline" and c["segment_kind"] == "overall")
    assert set(overall) == {"touchpoint", "metric", "segment_kind", "segment", "n_new", "n_existing", "effect",
                            "effect_unit", "ci_low", "ci_high", "p", "p_adjusted", "flagged", "severity"}
    assert overall["effect_unit"] == "%"
    assert overall["flagged"] is True and overall["n_new"] == 30
    assert len(data["cases"]) == 30 and data["cases"][0]["excess"] > 0
    assert {"customer_id", "product_key", "price", "reference_price", "excess"} <= set(data["cases"][0])
    result = runner.invoke(args=["audits", "analyze", str(audit_id), "--format", "csv"])
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert {r["record"] for r in rows} == {"comparison", "case"}
    out = tmp_path / "findings.json"
    result = runner.invoke(args=["audits", "findings", str(audit_id), "--format", "json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    found = json.loads(out.read_text())["findings"]
    aggregate = {(f["touchpoint"], f["metric"]): f for f in found if f["kind"] == "aggregate"}
    assert set(aggregate) == {("hotline", "wait"), ("renewal", "price")}
    price = aggregate[("renewal", "price")]
    assert price["effect_unit"] == "%" and price["status"] == "open"
    assert price["segments"][0]["segment_kind"] == "overall" and price["segments"][0]["n_existing"] == 30
    assert price["excess_observed"] > 0 and price["excess_year"] > 0
    assert price["excess_year_low"] < price["excess_year"] < price["excess_year_high"]
    result = runner.invoke(args=["audits", "findings", str(audit_id), "--format", "csv"])
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert list(rows[0]) == ["key", "kind", "touchpoint", "metric", "segments", "effect_unit", "severity",
                             "excess_observed", "excess_year", "excess_year_low", "excess_year_high", "status"]
    assert json.loads(next(r for r in rows if r["kind"] == "aggregate")["segments"])


def test_cli_bad_input(app, users, tmp_path, world):
    runner = app.test_cli_runner()
    bad = tmp_path / "bad.csv"
    bad.write_text("touchpoint,metric,value,customer_status\nhotline,wait,-3,new\n", encoding="utf-8")
    result = runner.invoke(args=["audits", "import-observations", str(world.audit_id), str(bad)])
    assert result.exit_code != 0 and "Row 2" in result.output and "nothing was imported" in result.output
    assert count_observations(app) == 0
    result = runner.invoke(args=["audits", "import-observations", "99999", str(bad)])
    assert result.exit_code != 0 and "there is no audit 99999" in result.output
    assert runner.invoke(args=["audits", "create", "--title", "  "]).exit_code != 0


def test_product_outside_the_audit_scope_is_refused(app, as_role, world):
    from app.touchpoint_audit.models import Audit

    with app.app_context():
        db.session.get(Audit, world.audit_id).scope_products = ["P1"]
        db.session.commit()
        db.session.remove()
    header = GOOD_CSV.splitlines()[0]
    response = _upload(as_role("manager"), world.audit_id, f"{header}\nrenewal;price;100;new;;P9;;;\n")
    assert response.status_code == 422 and "not in the audit&#39;s scope" in response.get_data(as_text=True)
    assert count_observations(app) == 0


def test_preview_warns_about_dates_outside_the_period_and_status_against_tenure(app, as_role, world):
    """Allowed but likely mistakes are warnings by row in the same problem table; the file stays importable."""
    client = as_role("manager")
    client.post("/language", data={"lang": "de"})
    text = ("Kontaktpunkt;Kennzahl;Wert;Kundenstatus;Kundennummer;Produkt;Kanal;Datum;Notiz\n"
            "hotline;wait;95;Bestandskunde;004711;;phone;15.11.2026;\n"      # fine
            "hotline;wait;40;Neukunde;004711;;phone;15.11.2026;\n"           # a customer since 2012 as new
            "hotline;wait;41;Neukunde;;;phone;15.09.2026;\n")                # before the period (from 1.10.2026)
    response = _upload(client, world.audit_id, text)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="import-preview"' in html
    texts = problem_texts(html)
    assert len(texts) == 2, texts
    assert texts[0].startswith("warning: Row 3, column Kundenstatus: ") and "004711" in texts[0] \
        and "01.05.2012" in texts[0]
    assert texts[1].startswith("warning: Row 4, column Datum: 15.09.2026") and "01.10.2026" in texts[1]
    # the metrics by their names in the user's language, not internal keys
    assert "Hotline · Wartezeit: 3" in html and "hotline.wait" not in html
