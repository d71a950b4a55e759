"""After-sales outcomes: import (check → preview → confirm, all-or-nothing, idempotent),
the logging form, the table per segment with its drill-down, findings, and roles."""
from __future__ import annotations

import datetime as dt
import io
import re

import numpy as np
import pytest

from app.extensions import db

HEADER = "Kundennummer;Datum;Zufriedenheit Verkauf;Zufriedenheit After-Sales;Wiederkauf\n"


@pytest.fixture
def customers(app):
    """Three customers, the first two in a segmentation run (ABC A and C)."""
    from app.segments.models import Customer, CustomerSegment, SegmentationRun

    with app.app_context():
        rows = [Customer(customer_no=no, name=f"Kunde {no}") for no in ("004711", "004712", "004713")]
        db.session.add_all(rows)
        run = SegmentationRun(window_start="2024-01", window_end="2024-12", status="done", summary={})
        db.session.add(run)
        db.session.flush()
        db.session.add_all([
            CustomerSegment(run_id=run.id, customer_id=rows[0].id, abc_class="A", potential_segment="star",
                            profit_tier="A"),
            CustomerSegment(run_id=run.id, customer_id=rows[1].id, abc_class="C", potential_segment="time_waster",
                            profit_tier="Z"),
        ])
        db.session.commit()
        ids = [c.id for c in rows]
        db.session.remove()
    return ids


def _upload(client, text: str, name: str = "outcomes.csv", encoding: str = "utf-8"):
    return client.post("/after-sales/import", data={"file": (io.BytesIO(text.encode(encoding)), name)},
                       content_type="multipart/form-data")


def _count(app) -> int:
    from app.aftersales.models import Outcome

    with app.app_context():
        n = db.session.scalar(db.select(db.func.count(Outcome.id)))
        db.session.remove()
    return n


def test_import_preview_confirm_and_reimport_changes_nothing(app, as_role, customers):
    client = as_role("manager")
    text = HEADER + "004711;15.03.2025;5;2;ja\n004712;2025-04-01;4;ja;nein\n004713;02.05.2025;1;5;x\n"
    page = _upload(client, text)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Preview of outcomes.csv" in html
    assert _count(app) == 0  # nothing written before the confirm
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    done = client.post("/after-sales/import/confirm", data={"token": token})
    assert done.status_code == 303
    assert _count(app) == 3

    from app.aftersales.models import Outcome

    with app.app_context():
        first = db.session.scalar(db.select(Outcome).where(Outcome.customer_id == customers[0]))
        assert (first.sale_score, first.sale_yes, first.after_sales_score, first.after_sales_yes) == (5, None, 2, None)
        assert first.repurchased is True and first.sale_satisfied() and not first.after_sales_satisfied()
        second = db.session.scalar(db.select(Outcome).where(Outcome.customer_id == customers[1]))
        assert second.after_sales_yes is True and second.after_sales_score is None and second.repurchased is False
        db.session.remove()

    again = _upload(client, text).get_data(as_text=True)
    tiles = {label: value for value, label in
             re.findall(r'tile-value">([^<]+)</span><span class="tile-label">([^<]+)<', again)}
    assert tiles["new"] == "0" and tiles["unchanged"] == "3" and tiles["changed"] == "0"
    token = re.search(r'name="token" value="([^"]+)"', again).group(1)
    client.post("/after-sales/import/confirm", data={"token": token})
    assert _count(app) == 3


def test_changed_row_updates_the_stored_outcome(app, as_role, customers):
    from app.aftersales.importing import check_outcomes, write_outcomes
    from app.aftersales.models import Outcome

    with app.test_request_context():
        write_outcomes(check_outcomes((HEADER + "004711;15.03.2025;5;2;ja\n").encode(), "a.csv"))
        db.session.commit()
        checked = check_outcomes((HEADER + "004711;15.03.2025;5;4;ja\n").encode(), "a.csv")
        assert (checked.new, checked.changed, checked.unchanged) == (0, 1, 0)
        write_outcomes(checked)
        db.session.commit()
        stored = db.session.scalars(db.select(Outcome)).all()
        assert len(stored) == 1 and stored[0].after_sales_score == 4
        db.session.remove()


def test_errors_name_spreadsheet_rows_and_nothing_is_written(app, as_role, customers):
    client = as_role("manager")
    text = (HEADER + "004711;15.03.2025;5;2;ja\n"
            "999999;15.03.2025;7;ja;vielleicht\n"
            "004712;31.02.2025;;x;1\n"
            "004713;2025-04-01;4;5;nein\n004713;2025-04-01;4;5;nein\n")
    page = _upload(client, text)
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert "Row 3, column Kundennummer: customer 999999 is unknown" in html
    assert "Row 3, column Zufriedenheit Verkauf: &#39;7&#39; is neither yes/no nor a score from 1 to 5" in html
    assert "Row 3, column Wiederkauf" in html
    assert "Row 4, column Datum" in html
    assert "Row 4, column Zufriedenheit Verkauf: value is missing" in html
    assert "appears twice for 2025-04-01 (rows 5 and 6)" in html
    assert 'name="token"' not in html
    assert _count(app) == 0
    # in German, the place is German too, not only the reason
    client.post("/language", data={"lang": "de", "next": "/"})
    german = _upload(client, text).get_data(as_text=True)
    assert "Zeile 3, Spalte Kundennummer: Kunde 999999 ist unbekannt" in german
    assert "Row 3" not in german
    assert _count(app) == 0


def test_missing_column_and_unreadable_file(app, as_role, customers):
    client = as_role("manager")
    page = _upload(client, "Kundennummer;Datum;Wiederkauf\n004711;2025-01-01;ja\n")
    assert page.status_code == 422
    assert "Required column &#39;sale_satisfaction&#39; is missing" in page.get_data(as_text=True)
    page = _upload(client, "a,b\n1,2\n", name="x.xls")
    assert page.status_code == 422


def test_windows_1252_and_english_headers_and_01_flags(app, customers):
    from app.aftersales.importing import check_outcomes

    text = ("customer_id,date,sale_satisfaction,after_sales_satisfaction,repurchased\n"
            "004711,2025-01-02,1,0,yes\n004712,2025-01-03,0,1,no\n")
    with app.test_request_context():
        checked = check_outcomes(text.encode("cp1252"), "o.csv")
        assert checked.ok, [p.message for p in checked.problems]
        rows = checked.rows
        assert rows["sale_yes"].tolist() == [True, False]
        assert rows["after_sales_yes"].tolist() == [False, True]
        assert rows["sale_score"].isna().all()
        db.session.remove()


def test_future_date_is_refused(app, customers):
    from app.aftersales.importing import check_outcomes

    future = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    with app.test_request_context():
        checked = check_outcomes((HEADER + f"004711;{future};5;5;ja\n").encode(), "o.csv")
        assert not checked.ok
        assert "lies in the future" in checked.problems[0].message
        db.session.remove()


def test_cli_import(app, customers, tmp_path):
    path = tmp_path / "o.csv"
    path.write_text(HEADER + "004711;15.03.2025;5;2;ja\n")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["aftersales", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "imported: 1 new" in result.output
    result = runner.invoke(args=["aftersales", "import", str(path)])
    assert "imported: 0 new, 0 changed, 1 unchanged" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "000000;15.03.2025;5;2;ja\n")
    result = runner.invoke(args=["aftersales", "import", str(bad)])
    assert result.exit_code != 0 and "is unknown" in result.output
    assert _count(app) == 1


def test_log_form_saves_and_validates(app, as_role, customers):
    client = as_role("service")
    bad = client.post("/after-sales/log", data={"customer_no": "nope", "outcome_date": "2025-01-01",
                                                "sale_satisfaction": "5", "after_sales_satisfaction": "no",
                                                "repurchased": "yes"})
    assert bad.status_code == 422
    assert "No customer with this number." in bad.get_data(as_text=True)
    ok = client.post("/after-sales/log", data={"customer_no": "004711", "outcome_date": "2025-01-01",
                                               "sale_satisfaction": "5", "after_sales_satisfaction": "no",
                                               "repurchased": "yes"})
    assert ok.status_code == 303
    again = client.post("/after-sales/log", data={"customer_no": "004711", "outcome_date": "2025-01-01",
                                                  "sale_satisfaction": "3", "after_sales_satisfaction": "yes",
                                                  "repurchased": "no"})
    assert again.status_code == 303
    from app.aftersales.models import Outcome

    with app.app_context():
        rows = db.session.scalars(db.select(Outcome)).all()
        assert len(rows) == 1
        assert (rows[0].sale_score, rows[0].after_sales_yes, rows[0].repurchased) == (3, True, False)
        db.session.remove()


def _many_outcomes(app, customers, n=240, seed=3):
    """Outcomes with a strong after-sales effect among ABC A customers."""
    from app.aftersales.models import Outcome
    from app.segments.models import Customer, CustomerSegment, SegmentationRun

    rng = np.random.default_rng(seed)
    with app.app_context():
        run_id = db.session.scalar(db.select(SegmentationRun.id))
        for i in range(n):
            c = Customer(customer_no=f"9{i:05d}", name=f"Bulk {i}")
            db.session.add(c)
            db.session.flush()
            db.session.add(CustomerSegment(run_id=run_id, customer_id=c.id, abc_class="A" if i % 2 else "B"))
            sale, after = bool(rng.random() < 0.6), bool(rng.random() < 0.5)
            p = {(True, True): 0.9, (False, True): 0.5, (True, False): 0.15, (False, False): 0.05}[(sale, after)]
            db.session.add(Outcome(customer_id=c.id, outcome_date=dt.date.today() - dt.timedelta(days=i % 300),
                                   sale_score=5 if sale else 2, after_sales_yes=after,
                                   repurchased=bool(rng.random() < p)))
        db.session.commit()
        db.session.remove()


def test_table_per_segment_with_reference_and_drill_down(app, as_role, customers):
    from app.aftersales.models import Outcome

    _many_outcomes(app, customers)
    with app.app_context():  # one outcome in ABC class C: too few for a rate
        db.session.add(Outcome(customer_id=customers[1], outcome_date=dt.date(2025, 1, 1), sale_score=5,
                               after_sales_score=1, repurchased=False))
        db.session.commit()
        db.session.remove()
    client = as_role("leadership")
    page = client.get("/after-sales/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "All customers" in html and "ABC class" in html
    assert "93 %" in html and "45 %" in html and "14 %" in html and "3 %" in html
    assert "Quoted reference: German premium carmaker" in html and "it is not our finding" in html
    assert "after-sales gap" in html
    assert "<svg" in html
    assert "insufficient data" in html and "C customers" in html
    link = re.search(r'href="(/after-sales/cell\?[^"]+)"', html).group(1).replace("&amp;", "&")
    cell = client.get(link)
    assert cell.status_code == 200
    assert re.search(r"\d+ outcomes", cell.get_data(as_text=True))
    fragment = client.get("/after-sales/?threshold=5", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)


def test_no_outcomes_says_so(app, as_role, customers):
    html = as_role("manager").get("/after-sales/").get_data(as_text=True)
    assert "No after-sales outcomes yet" in html


def test_gap_becomes_finding_upserted_by_key(app, as_role, customers):
    from app.touchpoint_audit.models import Audit, Finding

    _many_outcomes(app, customers)
    with app.app_context():
        audit = Audit(title="Runde 1", status="open", period_end=dt.date.today())
        db.session.add(audit)
        db.session.commit()
        audit_id = audit.id
        db.session.remove()
    client = as_role("manager")
    assert client.post("/after-sales/findings", data={"audit_id": audit_id}).status_code == 303
    with app.app_context():
        found = db.session.scalars(db.select(Finding).where(Finding.audit_id == audit_id)).all()
        assert found and all(f.kind == "aftersales" for f in found)
        keys = sorted(f.key for f in found)
        assert any(":abc:A:" in k for k in keys) or any("overall" in k for k in keys)
        found[0].owner_id = None
        found[0].status = "acknowledged"
        db.session.commit()
        db.session.remove()
    client.post("/after-sales/findings", data={"audit_id": audit_id})
    with app.app_context():
        again = db.session.scalars(db.select(Finding).where(Finding.audit_id == audit_id)).all()
        assert sorted(f.key for f in again) == keys
        assert any(f.status == "acknowledged" for f in again)  # the manager's work is kept
        db.session.remove()


@pytest.mark.parametrize("url,method", [("/after-sales/", "get"), ("/after-sales/import", "get"),
                                        ("/after-sales/log", "get")])
def test_roles(app, as_role, customers, url, method):
    allowed = {"/after-sales/": {"manager", "leadership"}, "/after-sales/import": {"manager"},
               "/after-sales/log": {"manager", "service"}}[url]
    for role in ("manager", "service", "leadership"):
        status = getattr(as_role(role), method)(url).status_code
        assert (status == 200) == (role in allowed), (role, url, status)
        assert (status == 403) == (role not in allowed)


def test_the_page_keeps_its_tables_until_an_outcome_or_a_segment_changes(app, as_role, customers, monkeypatch):
    """The tables come from the figure cache while nothing changed (the statistics are not run again),
    equal the tables computed afresh, and follow a changed outcome (updated in place) and a
    changed segment at once; another threshold has tables of its own."""
    from app.aftersales import analysis
    from app.aftersales.models import Outcome
    from app.segments.models import CustomerSegment
    from app.web.models import CachedFigures

    _many_outcomes(app, customers)
    client = as_role("manager")
    computed = []
    original = analysis._tables
    monkeypatch.setattr(analysis, "_tables", lambda *args: computed.append(args[1:]) or original(*args))

    def figures(path="/after-sales/"):
        html = client.get(path, headers={"HX-Request": "true"}).get_data(as_text=True)
        return re.findall(r"\d+ %", html)

    first = figures()
    assert figures() == first and len(computed) == 1
    with app.app_context():
        fresh = analysis.analyse()
        kept = analysis.analyse(keep=True)
        assert kept == fresh and len(computed) == 2  # analyse() computes; keep=True read what the page kept
        outcome = db.session.scalar(db.select(Outcome).where(Outcome.repurchased.is_(False)).limit(1))
        outcome.repurchased = True
        db.session.commit()
    changed = figures()
    assert len(computed) == 3 and changed != first
    with app.app_context():
        segment = db.session.scalar(db.select(CustomerSegment).join(
            Outcome, Outcome.customer_id == CustomerSegment.customer_id).where(CustomerSegment.abc_class == "A")
            .limit(1))
        segment.abc_class = "B"
        db.session.commit()
    figures()
    assert len(computed) == 4
    figures("/after-sales/?threshold=5")
    figures("/after-sales/?threshold=5")
    assert len(computed) == 5
    with app.app_context():  # one state of the rows kept (both thresholds), the old states dropped
        assert len({row.owner for row in db.session.scalars(db.select(CachedFigures))}) == 1
        db.session.remove()
