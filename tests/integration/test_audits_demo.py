"""The demo audit round shows its planted penalties (renewal prices for Cash-Cows, hotline
waits for C customers) and its fair touchpoints stay quiet."""
from __future__ import annotations

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
