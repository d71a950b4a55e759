"""The demo company's paired round: its pairs analysis beside the unpaired one on the dashboard."""
from __future__ import annotations

from app.extensions import db


def test_demo_paired_round_finds_the_planted_gap_only_in_pairs(app, users, as_role):
    from app.segments.demo import step_company, step_segmentation
    from app.touchpoint_audit.analysis import latest_snapshot
    from app.touchpoint_audit.demo import DEMO_PAIRED_TITLE, step_catalog, step_paired_round
    from app.touchpoint_audit.models import Audit

    with app.app_context():
        ctx = {"customers": 300, "seed": 20261123}
        for step in (step_catalog, step_company, step_segmentation, step_paired_round):
            step(ctx)
        db.session.commit()
        audit = db.session.scalars(db.select(Audit).where(Audit.title == DEMO_PAIRED_TITLE)).one()
        audit_id = audit.id
        snapshot = latest_snapshot(audit.id)
        paired = {(r["touchpoint"], r["metric"]): r for r in snapshot.paired}
        unpaired = {(r["touchpoint"], r["metric"]): r for r in snapshot.comparisons if r["segment_kind"] == "overall"}
        shortfall = snapshot.params["shortfall"]
        db.session.remove()
    renewal = paired[("renewal", "price")]
    assert renewal["flagged"] and renewal["n_pairs"] == 24 and 3 < renewal["effect"] < 9
    # the same calls compared unpaired: the between-call spread hides the gap
    assert not unpaired[("renewal", "price")]["flagged"]
    assert not paired[("hotline", "wait")]["flagged"]
    assert paired[("hotline", "resolved")]["status"] == "insufficient_data"
    assert {"kind": "pairs", "touchpoint": "hotline", "metric": "resolved", "pairs": 8, "min_n": 10} in shortfall
    html = as_role("manager").get(f"/audits/{audit_id}/dashboard").get_data(as_text=True)
    assert 'data-paired="renewal.price"' in html and 'data-unpaired="renewal.price"' in html
    assert "24 pairs" in html and 'id="shortfall"' in html
    service = as_role("service").get(f"/audits/{audit_id}").get_data(as_text=True)
    assert 'id="quota-due"' in service
    # the round is the latest analysed one here: leadership's answer names the paired flag, not "no gap"
    start = as_role("leadership").get("/").get_data(as_text=True)
    assert "In paired test calls" in start and "n = 24 pairs" in start and "data-answer-none" not in start


def test_the_report_shows_the_pairs_in_both_languages(app, users):
    from app.reports.document import render_html
    from app.segments.demo import step_company, step_segmentation
    from app.touchpoint_audit.demo import step_catalog, step_paired_round
    from app.touchpoint_audit.models import Audit

    with app.app_context():
        for step in (step_catalog, step_company, step_segmentation, step_paired_round):
            step({"customers": 200, "seed": 7})
        db.session.commit()
        audit = db.session.scalars(db.select(Audit)).one()
        with app.test_request_context():
            english, german = render_html(audit, "en"), render_html(audit, "de")
        db.session.remove()
    assert 'data-paired="renewal.price"' in english and "24 pairs" in english
    assert "Wilcoxon signed-rank" in english and "shortfall" not in english
    assert "Gepaarte Testanrufe" in german and "24 Paare" in german and "Wilcoxon-Vorzeichen-Rang-Test" in german


def test_the_demo_leadership_answer_comes_from_the_main_round(app, users):
    """The paired pilot is created before the quarter's main round, so the start page's answer
    (the latest analysed round) is the main round's, with its planted penalties."""
    from app.overview.answer import latest_analysed_round
    from app.segments.demo import step_company, step_segmentation
    from app.touchpoint_audit.demo import DEMO_AUDIT_TITLE, step_audits, step_catalog, step_paired_round

    with app.app_context():
        ctx = {"customers": 300, "seed": 20261123}
        for step in (step_catalog, step_company, step_segmentation, step_audits, step_paired_round):
            step(ctx)
        db.session.commit()
        audit, _snapshot = latest_analysed_round()
        assert audit.title == DEMO_AUDIT_TITLE
        db.session.remove()
