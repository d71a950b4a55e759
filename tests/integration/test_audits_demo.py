"""The demo audit round shows its planted penalties (renewal prices for Cash-Cows, hotline
waits for C customers) and its fair touchpoints stay quiet."""
from __future__ import annotations

import pytest

from app.extensions import db

PLANTED = {("renewal", "price"): ("potential", "cash_cow"), ("hotline", "wait"): ("abc", "C")}


def test_demo_audit_finds_the_planted_penalties_and_nothing_else(app, users):
    from app.segments.demo import step_company, step_segmentation
    from app.touchpoint_audit.analysis import latest_snapshot
    from app.touchpoint_audit.demo import step_audits, step_catalog
    from app.touchpoint_audit.models import Audit, Finding

    with app.app_context():
        ctx = {"customers": 2000, "seed": 20261123}
        for step in (step_catalog, step_company, step_segmentation, step_audits):
            step(ctx)
        audit = db.session.scalars(db.select(Audit)).one()
        comparisons = latest_snapshot(audit.id).comparisons
        findings = db.session.scalars(db.select(Finding).where(Finding.audit_id == audit.id)).all()
        db.session.remove()

    flagged = {(r["touchpoint"], r["metric"], r["segment_kind"], r["segment"])
               for r in comparisons if r["flagged"]}
    for (touchpoint, metric), (kind, segment) in PLANTED.items():
        assert (touchpoint, metric, kind, segment) in flagged, (touchpoint, metric, flagged)
    assert {(t, m) for t, m, _k, _s in flagged} == set(PLANTED), flagged
    aggregate = {(f.touchpoint_key, f.metric_key) for f in findings if f.kind == "aggregate"}
    assert aggregate == set(PLANTED)
    for finding in findings:
        if finding.kind == "aggregate":
            facets = {(s["segment_kind"], s["segment"]) for s in finding.figures["segments"]}
            kind_segment = PLANTED[(finding.touchpoint_key, finding.metric_key)]
            assert kind_segment in facets or finding.segment_kind == "overall"
    cases = {(f.touchpoint_key, f.metric_key) for f in findings if f.kind == "case"}
    assert cases <= {("renewal", "price")}


@pytest.mark.parametrize("grade", ["all", "observed"])
def test_each_comparisons_groups_are_those_of_the_analysed_frame(app, users, grade):
    """The comparison page asks the database for its segment's members (one probe per observation)
    instead of loading the whole run: for every comparison of the analysis, both groups' values and
    the page's n equal what the analysis frame holds for that segment."""
    from app.segments.demo import step_company, step_segmentation
    from app.touchpoint_audit.analysis import latest_snapshot
    from app.touchpoint_audit.demo import step_audits, step_catalog
    from app.touchpoint_audit.loaders import comparison_rows, observation_frame
    from app.touchpoint_audit.models import Audit, Metric, Touchpoint

    with app.app_context():
        ctx = {"customers": 600, "seed": 20261123}
        for step in (step_catalog, step_company, step_segmentation, step_audits):
            step(ctx)
        audit_id = db.session.scalar(db.select(Audit.id))
        snapshot = latest_snapshot(audit_id)
        frame = observation_frame(audit_id, snapshot.segmentation_run_id)
        if grade != "all":
            frame = frame[frame["evidence_grade"] == grade]
        checked = 0
        for row in snapshot.comparisons:
            metric_id = db.session.scalar(db.select(Metric.id).join(Touchpoint).where(
                Touchpoint.key == row["touchpoint"], Metric.key == row["metric"]))
            kind, segment = row["segment_kind"], row["segment"]
            rows = comparison_rows(audit_id, metric_id, None if grade == "all" else grade,
                                   snapshot.segmentation_run_id, kind, segment, 10)
            here = frame[(frame["touchpoint"] == row["touchpoint"]) & (frame["metric"] == row["metric"])]
            new = here[here["customer_status"] == "new"]
            existing = here[here["customer_status"] == "existing"]
            if kind == "product":
                new, existing = new[new["product_key"] == segment], existing[existing["product_key"] == segment]
            elif kind != "overall":
                existing = existing[existing[kind].astype(str) == segment]
            assert sorted(rows.new_values) == sorted(new["value"]), row
            assert sorted(rows.existing_values) == sorted(existing["value"]), row
            assert len(rows.shown) == min(10, rows.n) and rows.n == len(new) + len(existing)
            checked += bool(len(existing)) and kind not in ("overall", "product")
        assert checked >= 3  # segments with members were compared
        db.session.remove()
