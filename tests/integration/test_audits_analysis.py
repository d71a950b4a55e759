"""The analysis action: snapshot, findings upserted by key (status and comments kept,
unsupported ones marked stale), the dashboard, frozen published audits."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from app.extensions import db
from tests.integration.audit_fixtures import add_observations, build_world


def _planted_rows(world, rng, penalty=0.3, n=40):
    """Hotline waits: existing customers wait longer; renewal prices above new business.

    Two known customers plus anonymous existing ones: the analysis counts one value per
    customer, and two customers alone are too few to compare."""
    rows = []
    when = dt.datetime(2026, 11, 10, 10)
    for i in range(n):
        known = world.customer_ids["004711" if i % 2 else "004712"] if i < 4 else None
        rows.append({"metric": "hotline.wait", "value": float(rng.exponential(100)), "customer_status": "new",
                     "observed_at": when})
        rows.append({"metric": "hotline.wait", "value": float(rng.exponential(100) * (1 + penalty) + 60),
                     "customer_status": "existing", "customer_id": known, "observed_at": when})
        rows.append({"metric": "renewal.price", "value": round(float(rng.normal(100, 3)), 2), "customer_status": "new",
                     "product_key": "P1", "observed_at": when})
        rows.append({"metric": "renewal.price", "value": round(float(rng.normal(100, 3)) * 1.2, 2),
                     "customer_status": "existing", "product_key": "P1", "observed_at": when,
                     "customer_id": known})
    return rows


@pytest.fixture
def world(app, users):
    world = build_world(app, users)
    add_observations(app, world, _planted_rows(world, np.random.default_rng(7)))
    return world


def _findings(app):
    from app.touchpoint_audit.models import Finding

    with app.app_context():
        rows = [(f.key, f.kind, f.status, f.stale, f.severity) for f in db.session.scalars(db.select(Finding))]
        db.session.remove()
    return rows


def test_manager_runs_the_analysis_and_sees_the_dashboard(app, as_role, world):
    client = as_role("manager")
    response = client.post(f"/audits/{world.audit_id}/analyze")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/audits/{world.audit_id}/dashboard")
    found = _findings(app)
    kinds = {k for _key, k, *_ in found}
    assert {"aggregate", "case"} <= kinds
    assert any(key.startswith("aggregate:hotline:wait:overall") for key, *_ in found)
    html = client.get(f"/audits/{world.audit_id}/dashboard").get_data(as_text=True)
    assert '<svg' in html and 'class="heatmap"' in html and 'cell flagged' in html
    assert 'data-figure="total-excess"' in html
    # leadership reads the dashboard too
    assert as_role("leadership").get(f"/audits/{world.audit_id}/dashboard").status_code == 200


def test_rerun_updates_without_duplicates_and_keeps_status_and_comments(app, as_role, users, world):
    from app.touchpoint_audit.models import Finding, FindingComment

    client = as_role("manager")
    client.post(f"/audits/{world.audit_id}/analyze")
    first = _findings(app)
    with app.app_context():
        finding = db.session.scalars(db.select(Finding).where(Finding.kind == "aggregate")).first()
        finding.status, finding.owner_id = "acknowledged", users["manager"].id
        db.session.add(FindingComment(finding_id=finding.id, author_id=users["manager"].id, body="Checked"))
        db.session.add(Finding(audit_id=world.audit_id, key="aggregate:gone:x:overall:all", kind="aggregate",
                               title="old", source="analysis"))
        kept_id = finding.id
        db.session.commit()
        db.session.remove()
    client.post(f"/audits/{world.audit_id}/analyze")
    second = _findings(app)
    assert len(second) == len(first) + 1  # no duplicates; the unsupported one is kept
    with app.app_context():
        finding = db.session.get(Finding, kept_id)
        assert finding.status == "acknowledged" and len(finding.comments) == 1 and not finding.stale
        gone = db.session.scalars(db.select(Finding).where(Finding.key == "aggregate:gone:x:overall:all")).one()
        assert gone.stale
        db.session.remove()


def test_each_analysis_refreshes_and_retires_only_its_own_findings(app, as_role, world):
    from app.touchpoint_audit.models import Audit, Finding, upsert_findings

    client = as_role("manager")
    client.post(f"/audits/{world.audit_id}/analyze")
    with app.app_context():
        db.session.add(Finding(audit_id=world.audit_id, key="aftersales_gap:abc:A:True", kind="aftersales",
                               title="gap", source="aftersales", severity="high"))
        db.session.commit()
        db.session.remove()
    client.post(f"/audits/{world.audit_id}/analyze")
    with app.app_context():
        gap = db.session.scalars(db.select(Finding).where(Finding.source == "aftersales")).one()
        assert (gap.stale, gap.title, gap.severity) == (False, "gap", "high")
        counts = upsert_findings(db.session.get(Audit, world.audit_id), "aftersales", [])
        assert counts == {"created": 0, "updated": 0, "stale": 1}
        by_source = {(f.source, f.stale) for f in db.session.scalars(db.select(Finding))}
        assert by_source == {("analysis", False), ("aftersales", True)}
        db.session.rollback()
        db.session.remove()


def test_insufficient_data_is_never_flagged(app, as_role, users):
    world = build_world(app, users)
    rows = [{"metric": "hotline.wait", "value": 10.0 + i, "customer_status": "new"} for i in range(5)]
    rows += [{"metric": "hotline.wait", "value": 900.0 + i, "customer_status": "existing"} for i in range(5)]
    add_observations(app, world, rows)
    as_role("manager").post(f"/audits/{world.audit_id}/analyze")
    assert _findings(app) == []
    html = as_role("manager").get(f"/audits/{world.audit_id}/dashboard").get_data(as_text=True)
    assert "insufficient data" in html and "insufficient-cell" in html


def test_analysis_of_an_empty_audit_is_refused(app, as_role, users):
    world = build_world(app, users)
    response = as_role("manager").post(f"/audits/{world.audit_id}/analyze")
    assert response.status_code == 409
    assert "no observations" in response.get_data(as_text=True)


def test_large_audit_runs_as_a_background_job(app, as_role, world, monkeypatch):
    import app.touchpoint_audit.analysis as analysis

    monkeypatch.setattr(analysis, "BACKGROUND_THRESHOLD", 10)
    monkeypatch.setitem(app.config, "JOBS_SYNCHRONOUS", True)
    response = as_role("manager").post(f"/audits/{world.audit_id}/analyze")
    assert response.status_code == 303 and "/jobs/" in response.headers["Location"]
    from app.web.models import Job

    with app.app_context():
        job = db.session.scalars(db.select(Job)).one()
        assert job.status == "done", job.error
        assert job.result["redirect"].endswith(f"/audits/{world.audit_id}/dashboard")
        db.session.remove()
    assert _findings(app)


def test_published_audit_is_read_only_for_everyone(app, as_role, users, world):
    from app.touchpoint_audit.models import Audit, Finding, Observation

    manager = as_role("manager")
    manager.post(f"/audits/{world.audit_id}/analyze")
    assert manager.post(f"/audits/{world.audit_id}/status", data={"status": "review", "confirm": "yes"}).status_code == 303
    assert manager.post(f"/audits/{world.audit_id}/status", data={"status": "published", "confirm": "yes"}).status_code == 303
    with app.app_context():
        finding_id = db.session.scalars(db.select(Finding.id)).first()
        observation_id = db.session.scalars(db.select(Observation.id)).first()
        before = (db.session.scalar(db.select(db.func.count(Finding.id))),
                  db.session.scalar(db.select(db.func.count(Observation.id))))
        db.session.remove()
    writes = [
        (manager, f"/audits/{world.audit_id}/analyze", {}),
        (manager, f"/audits/{world.audit_id}/edit", {"title": "changed"}),
        (manager, f"/audits/{world.audit_id}/status", {"status": "review", "confirm": "yes"}),
        (manager, f"/audits/{world.audit_id}/import", {}),
        (manager, f"/audits/{world.audit_id}/import/confirm", {"token": "x"}),
        (manager, f"/findings/{finding_id}/update", {"upd-status": "resolved"}),
        (manager, f"/findings/{finding_id}/comments", {"c-body": "late"}),
        (manager, f"/findings/new/{world.audit_id}", {"title": "late"}),
        (as_role("leadership"), f"/findings/{finding_id}/comments", {"c-body": "late"}),
        (as_role("service"), f"/log/{world.audit_id}", {"metric_id": world.metric_ids["hotline.wait"], "value": "5"}),
        (as_role("admin"), f"/audits/{world.audit_id}/analyze", {}),
    ]
    for client, url, data in writes:
        response = client.post(url, data=data)
        assert response.status_code in (403, 409), (url, response.status_code)
    with app.app_context():
        audit = db.session.get(Audit, world.audit_id)
        assert audit.status == "published" and audit.title == "Test audit" and audit.published_at
        assert (db.session.scalar(db.select(db.func.count(Finding.id))),
                db.session.scalar(db.select(db.func.count(Observation.id)))) == before
        assert db.session.get(Finding, finding_id).status == "open"
        db.session.remove()
    # the service user's own entry cannot be undone either
    with app.app_context():
        db.session.get(Observation, observation_id).created_by_id = users["service"].id
        db.session.commit()
        db.session.remove()
    assert as_role("service").post(f"/observations/{observation_id}/delete").status_code == 409
    # reading still works
    assert manager.get(f"/audits/{world.audit_id}/dashboard").status_code == 200
    assert "read-only" in manager.get(f"/audits/{world.audit_id}").get_data(as_text=True)


def test_publishing_needs_an_analysis_and_a_confirmation(app, as_role, world):
    manager = as_role("manager")
    url = f"/audits/{world.audit_id}/status"
    response = manager.post(url, data={"status": "review"})
    assert response.status_code == 200 and "Yes, change the status" in response.get_data(as_text=True)
    manager.post(url, data={"status": "review", "confirm": "yes"})
    refused = manager.post(url, data={"status": "published", "confirm": "yes"})
    assert refused.status_code == 409 and "Run the analysis" in refused.get_data(as_text=True)
    bad = manager.post(url, data={"status": "draft", "confirm": "yes"})
    assert bad.status_code == 409
