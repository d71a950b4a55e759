"""Audit rounds and the touchpoint catalog: create, edit, status transitions, who sees what."""
from __future__ import annotations

import pytest

from app.extensions import db
from tests.integration.audit_fixtures import add_observations, build_world


@pytest.fixture
def catalog(app):
    from app.touchpoint_audit.catalog import seed_catalog

    with app.app_context():
        seed_catalog()
        db.session.commit()
        db.session.remove()


def _metric_ids(app):
    from app.touchpoint_audit.models import Metric

    with app.app_context():
        ids = list(db.session.scalars(db.select(Metric.id)))
        db.session.remove()
    return ids


def test_manager_creates_an_audit_with_scope_and_staff(app, as_role, users, catalog):
    client = as_role("manager")
    page = client.get("/audits/new").get_data(as_text=True)
    assert 'name="metric_ids"' in page and "Cash cows" in page
    metric_ids = _metric_ids(app)[:3]
    response = client.post("/audits/new", data={
        "title": "Touchpoint-Audit 2026/Q4", "period_start": "2026-10-01", "period_end": "2026-12-31",
        "owner_id": users["manager"].id, "metric_ids": metric_ids, "segments": ["abc:C", "potential:cash_cow"],
        "products": "P1, P2", "staff_ids": [users["service"].id]})
    assert response.status_code == 303
    from app.touchpoint_audit.models import Audit

    with app.app_context():
        audit = db.session.scalars(db.select(Audit)).one()
        assert audit.status == "draft" and sorted(m.id for m in audit.metrics) == sorted(metric_ids)
        assert audit.scope_segments == ["abc:C", "potential:cash_cow"] and audit.scope_products == ["P1", "P2"]
        assert [u.id for u in audit.staff] == [users["service"].id]
        audit_id = audit.id
        db.session.remove()
    html = client.get(f"/audits/{audit_id}").get_data(as_text=True)
    assert "Touchpoint-Audit 2026/Q4" in html and "Logging progress" in html


@pytest.mark.parametrize("data,message", [
    ({"title": ""}, "This field is required"),
    ({"title": "x", "period_start": "2026-12-01", "period_end": "2026-01-01"}, "ends before it starts"),
    ({"title": "x", "metric_ids": []}, "at least one metric"),
])
def test_invalid_audit_form(as_role, catalog, data, message):
    response = as_role("manager").post("/audits/new", data=data)
    assert response.status_code == 422 and message in response.get_data(as_text=True)


def test_status_walks_draft_open_review_with_confirmation(app, as_role, users):
    world = build_world(app, users, status="draft")
    client = as_role("manager")
    url = f"/audits/{world.audit_id}/status"
    assert client.post(url, data={"status": "published", "confirm": "yes"}).status_code == 409
    assert client.post(url, data={"status": "open", "confirm": "yes"}).status_code == 303
    assert client.post(url, data={"status": "review", "confirm": "yes"}).status_code == 303
    from app.touchpoint_audit.models import Audit

    with app.app_context():
        assert db.session.get(Audit, world.audit_id).status == "review"
        db.session.remove()
    assert as_role("service").post(url, data={"status": "open", "confirm": "yes"}).status_code == 403


def test_service_sees_only_assigned_audits(app, as_role, users):
    mine = build_world(app, users)
    from app.touchpoint_audit.models import Audit

    with app.app_context():
        other = Audit(title="Not yours", status="open")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
        db.session.remove()
    client = as_role("service")
    html = client.get("/audits/").get_data(as_text=True)
    assert "Test audit" in html and "Not yours" not in html
    assert client.get(f"/audits/{other_id}").status_code == 403
    assert client.get(f"/audits/{mine.audit_id}/dashboard").status_code == 403
    assert "Not yours" in as_role("leadership").get("/audits/").get_data(as_text=True)


def test_audit_page_counts_progress(app, as_role, users):
    world = build_world(app, users)
    add_observations(app, world, [{"metric": "hotline.wait", "value": 5.0, "customer_status": "new"}] * 12
                     + [{"metric": "hotline.wait", "value": 9.0, "customer_status": "existing"}] * 3)
    html = as_role("manager").get(f"/audits/{world.audit_id}").get_data(as_text=True)
    assert 'data-figure="observations">15<' in html and "more needed" in html


def test_touchpoint_catalog(app, as_role, catalog):
    client = as_role("manager")
    assert "Hotline" in as_role("service").get("/touchpoints/").get_data(as_text=True)
    response = client.post("/touchpoints/new", data={"key": "website", "name_de": "Webseite", "name_en": "Website", "active": "y"})
    assert response.status_code == 303
    from app.touchpoint_audit.models import Metric, Touchpoint

    with app.app_context():
        tp = db.session.scalars(db.select(Touchpoint).where(Touchpoint.key == "website")).one()
        tp_id = tp.id
        db.session.remove()
    assert client.post("/touchpoints/new", data={"key": "website", "name_de": "W", "name_en": "W"}).status_code == 422
    assert client.post("/touchpoints/new", data={"key": "Bad Key", "name_de": "W", "name_en": "W"}).status_code == 422
    response = client.post(f"/touchpoints/{tp_id}/metrics/new", data={
        "key": "load_time", "name_de": "Ladezeit", "name_en": "Load time", "unit": "seconds", "direction": "lower",
        "min_value": "0", "max_value": "60"})
    assert response.status_code == 303
    bad = client.post(f"/touchpoints/{tp_id}/metrics/new", data={
        "key": "x", "name_de": "x", "name_en": "x", "unit": "seconds", "direction": "lower", "min_value": "10",
        "max_value": "1"})
    assert bad.status_code == 422
    dup = client.post(f"/touchpoints/{tp_id}/metrics/new", data={
        "key": "load_time", "name_de": "x", "name_en": "x", "unit": "seconds", "direction": "lower"})
    assert dup.status_code == 422
    assert client.post(f"/touchpoints/{tp_id}/active").status_code == 303
    with app.app_context():
        assert db.session.get(Touchpoint, tp_id).active is False
        metric = db.session.scalars(db.select(Metric).where(Metric.key == "load_time")).one()
        metric_id = metric.id
        db.session.remove()
    assert client.get(f"/touchpoints/metrics/{metric_id}").status_code == 200
    assert as_role("service").post("/touchpoints/new", data={"key": "x"}).status_code == 403
    assert client.get("/touchpoints/99999").status_code == 404


def test_deactivated_touchpoint_is_not_offered_for_logging(app, as_role, users):
    world = build_world(app, users)
    from app.touchpoint_audit.models import Touchpoint

    with app.app_context():
        db.session.scalars(db.select(Touchpoint).where(Touchpoint.key == "hotline")).one().active = False
        db.session.commit()
        db.session.remove()
    html = as_role("service").get(f"/log?audit_id={world.audit_id}").get_data(as_text=True)
    assert "Waiting time" not in html
    response = as_role("service").post(f"/log/{world.audit_id}", data={
        "metric_id": world.metric_ids["hotline.wait"], "value": "5", "customer_status": "new"})
    assert response.status_code == 422
