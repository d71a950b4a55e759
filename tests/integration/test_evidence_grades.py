"""The evidence grade of an observation: the file import's column, the comparison page's grade
filter (the comparison run again on one grade's observations) and the report's sentence on how
its flags hold on observed evidence alone."""
from __future__ import annotations

import datetime as dt
import io
import re

import numpy as np
import pytest

from app.extensions import db
from tests.integration.audit_fixtures import build_world, count_observations, problem_texts

HEADER = "Kontaktpunkt;Kennzahl;Wert;Kundenstatus;Kundennummer;Datum"


def _upload(client, audit_id, text):
    return client.post(f"/audits/{audit_id}/import", data={"file": (io.BytesIO(text.encode("utf-8")), "obs.csv")},
                       content_type="multipart/form-data")


def _confirm(client, audit_id, html):
    token = html.split('name="token" value="')[1].split('"')[0]
    return client.post(f"/audits/{audit_id}/import/confirm", data={"token": token})


def _grades(app) -> list[str]:
    from app.touchpoint_audit.models import Observation

    with app.app_context():
        grades = list(db.session.scalars(db.select(Observation.evidence_grade).order_by(Observation.id)))
        db.session.remove()
    return grades


def test_an_import_without_a_grade_column_is_system_records(app, users, as_role):
    world = build_world(app, users)
    manager = as_role("manager")
    text = f"{HEADER}\nhotline;wait;95;Neukunde;;15.11.2026\nhotline;wait;40;Neukunde;;16.11.2026\n"
    response = _upload(manager, world.audit_id, text)
    assert response.status_code == 200
    assert _confirm(manager, world.audit_id, response.get_data(as_text=True)).status_code == 303
    assert _grades(app) == ["system", "system"]


def test_a_grade_column_in_german_or_english_words(app, users, as_role):
    world = build_world(app, users)
    manager = as_role("manager")
    rows = ["beobachtet", "Selbstauskunft", "System record", "", "self-reported", "Testanruf", "SYSTEMDATENSATZ"]
    text = f"{HEADER};Evidenzgrad\n" + "".join(f"hotline;wait;{90 + i};Neukunde;;15.11.2026;{word}\n"
                                               for i, word in enumerate(rows))
    response = _upload(manager, world.audit_id, text)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, problem_texts(html)
    assert "<code>evidence_grade</code>" in html  # the preview shows how the column was read
    assert _confirm(manager, world.audit_id, html).status_code == 303
    assert _grades(app) == ["observed", "self_reported", "system", "system", "self_reported", "observed", "system"]


def test_a_bad_grade_word_is_named_by_row_and_column_and_nothing_is_written(app, users, as_role):
    world = build_world(app, users)
    text = (f"{HEADER};Nachweisart\nhotline;wait;95;Neukunde;;15.11.2026;beobachtet\n"
            "hotline;wait;96;Neukunde;;15.11.2026;Hörensagen\n")
    response = _upload(as_role("manager"), world.audit_id, text)
    assert response.status_code == 422
    texts = problem_texts(response.get_data(as_text=True))
    assert any(t.startswith("error: Row 3, column Nachweisart: “Hörensagen” is not an evidence grade") for t in texts), texts
    assert count_observations(app) == 0


def test_a_file_imported_before_grades_keeps_its_fingerprints(app, users, as_role):
    """A file without the grade column imported again writes nothing twice."""
    world = build_world(app, users)
    manager = as_role("manager")
    text = f"{HEADER}\nhotline;wait;95;Neukunde;;15.11.2026\n"
    assert _confirm(manager, world.audit_id, _upload(manager, world.audit_id, text).get_data(as_text=True)).status_code == 303
    again = _upload(manager, world.audit_id, text).get_data(as_text=True)
    assert "0 new observations" in again and count_observations(app) == 1


# ----------------------------------------------------------------- the comparison by grade

def _graded_audit(app, users, groups: list[tuple[str, str, str, int, float]]) -> int:
    """An audit with customers and observations: groups of (metric, grade, status, n, mean value);
    every existing observation is a customer of its own, analysed."""
    from app.accounts.models import User
    from app.segments.models import Customer
    from app.touchpoint_audit.analysis import run_analysis
    from app.touchpoint_audit.catalog import seed_catalog
    from app.touchpoint_audit.models import Audit, Metric, Observation, Touchpoint

    rng = np.random.default_rng(17)
    with app.app_context():
        seed_catalog()
        metrics = {f"{t}.{m.key}": m for m, t in db.session.execute(
            db.select(Metric, Touchpoint.key).join(Touchpoint))}
        audit = Audit(title="Graded round", status="open", metrics=[metrics["hotline.wait"], metrics["inside_sales.response_time"]],
                      staff=[db.session.get(User, users["service"].id)])
        db.session.add(audit)
        db.session.flush()
        number = 0
        for metric, grade, status, n, mean in groups:
            for _i in range(n):
                customer_id = None
                if status == "existing":
                    number += 1
                    customer = Customer(customer_no=f"K{number:05d}", name=f"Kunde {number}",
                                        customer_since=dt.date(2015, 1, 1))
                    db.session.add(customer)
                    db.session.flush()
                    customer_id = customer.id
                db.session.add(Observation(audit_id=audit.id, metric_id=metrics[metric].id,
                                           value=float(rng.normal(mean, mean * 0.08)), customer_status=status,
                                           customer_id=customer_id, evidence_grade=grade,
                                           observed_at=dt.datetime(2026, 11, 2, 10)))
        db.session.flush()
        run_analysis(audit, user_id=users["manager"].id)
        db.session.commit()
        audit_id = audit.id
        db.session.remove()
    return audit_id


GROUPS = [
    # hotline wait: a clear gap in test calls and in system records alike
    ("hotline.wait", "observed", "new", 12, 100.0), ("hotline.wait", "observed", "existing", 14, 200.0),
    ("hotline.wait", "system", "new", 10, 100.0), ("hotline.wait", "system", "existing", 11, 200.0),
    # inside-sales response time: the gap is in the system records; only a handful observed
    ("inside_sales.response_time", "observed", "new", 4, 10.0),
    ("inside_sales.response_time", "observed", "existing", 5, 10.0),
    ("inside_sales.response_time", "system", "new", 20, 10.0),
    ("inside_sales.response_time", "system", "existing", 20, 20.0),
]


def _n_text(html: str) -> str:
    found = re.search(r"n = [0-9.,]+ existing / [0-9.,]+ new", html)
    return found.group(0) if found else ""


def test_the_grade_filter_runs_the_comparison_on_that_grade_alone(app, users, as_role):
    audit_id = _graded_audit(app, users, GROUPS)
    leadership = as_role("leadership")
    url = f"/audits/{audit_id}/comparisons/hotline/wait/overall/all"
    expected = {"all": (14 + 11, 12 + 10), "observed": (14, 12), "system": (11, 10)}
    for grade, (n_existing, n_new) in expected.items():
        page = leadership.get(url, query_string={"grade": grade})
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert _n_text(html) == f"n = {n_existing} existing / {n_new} new", (grade, _n_text(html))
        assert f'data-grade="{grade}"' in html
        # the observations listed are those of the grade
        listed = html.count('<tr data-observation=')
        assert listed == n_existing + n_new
    none = leadership.get(url, query_string={"grade": "self_reported"}).get_data(as_text=True)
    assert 'data-verdict="none"' in none and _n_text(none) == ""
    # an unknown grade shows all observations, never an error
    odd = leadership.get(url, query_string={"grade": "<script>"})
    assert odd.status_code == 200 and _n_text(odd.get_data(as_text=True)) == "n = 25 existing / 22 new"


def test_an_analysis_from_before_grades_says_to_run_it_again(app, users, as_role):
    from app.touchpoint_audit.models import AnalysisSnapshot

    audit_id = _graded_audit(app, users, GROUPS[:4])
    with app.app_context():
        snapshot = db.session.scalar(db.select(AnalysisSnapshot).where(AnalysisSnapshot.audit_id == audit_id))
        snapshot.by_grade = None
        db.session.commit()
        db.session.remove()
    html = as_role("manager").get(f"/audits/{audit_id}/comparisons/hotline/wait/overall/all?grade=observed") \
        .get_data(as_text=True)
    assert 'data-verdict="ungraded"' in html


def test_flags_on_observed_evidence_alone():
    from app.touchpoint_audit.analysis import flags_on_observed

    flagged = {"touchpoint": "t", "metric": "m", "segment_kind": "overall", "segment": "all", "flagged": True}
    other = {**flagged, "metric": "x"}
    third = {**flagged, "metric": "y"}
    quiet = {**flagged, "metric": "q", "flagged": False}
    by_grade = {"observed": [{**flagged, "status": "ok", "flagged": True},
                             {**other, "status": "ok", "flagged": False},
                             {**third, "status": "insufficient_data", "flagged": False}]}
    verdicts = [h["verdict"] for h in flags_on_observed([flagged, other, third, quiet], by_grade)]
    assert verdicts == ["still_flagged", "not_flagged", "insufficient"]
    assert [h["verdict"] for h in flags_on_observed([flagged], {})] == ["insufficient"]
    assert flags_on_observed([flagged], None) is None


@pytest.mark.slow
def test_the_report_says_how_its_flags_hold_on_observed_evidence(app, users, tmp_path):
    from app.touchpoint_audit.analysis import latest_snapshot
    from tests.integration.test_reports import pdf_text, render

    audit_id = _graded_audit(app, users, GROUPS)
    with app.app_context():
        snapshot = latest_snapshot(audit_id)
        flagged = {(r["touchpoint"], r["metric"]) for r in snapshot.comparisons if r.get("flagged")}
        observed = {(r["touchpoint"], r["metric"]): r for r in snapshot.by_grade["observed"]}
        db.session.remove()
    # the data as designed: both gaps flagged on all evidence; on observed evidence alone the
    # hotline gap still flagged, the response time with too few customers
    assert flagged == {("hotline", "wait"), ("inside_sales", "response_time")}
    assert observed[("hotline", "wait")]["flagged"] and observed[("inside_sales", "response_time")]["status"] != "ok"
    _html, pdf, _pages = render(app, audit_id, "en")
    text = pdf_text(pdf, tmp_path)
    assert ("On observed evidence alone (test calls and visits, without system records or customers' statements), "
            "1 of the 2 flags still hold, 0 are not flagged and 1 have too little data to decide.") in text
    assert "Evidence: 96 observations, 0 of them with a photo or file (0 files); 35 observed, 61 system records, " \
           "0 self-reported." in text
    assert "The flags on observed evidence alone" in text and "still flagged" in text
    _html, pdf_de, _pages = render(app, audit_id, "de")
    text_de = pdf_text(pdf_de, tmp_path)
    assert "Allein auf beobachteten Nachweisen (Testanrufe und Besuche, ohne Systemdatensätze und Kundenaussagen) bleiben 1 der 2 Markierungen bestehen" in text_de, text_de[:3000]
