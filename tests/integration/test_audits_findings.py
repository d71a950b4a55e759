"""Findings: filters, overdue, the finding page with figures, status/owner/due, comments,
manual findings; leadership reads."""
from __future__ import annotations

import datetime as dt

import pytest

from app.extensions import db
from tests.integration.audit_fixtures import build_world


@pytest.fixture
def findings(app, users):
    from app.touchpoint_audit.models import Finding

    world = build_world(app, users)
    with app.app_context():
        rows = [
            Finding(audit_id=world.audit_id, key="aggregate:hotline:wait:abc:C", kind="aggregate", severity="high",
                    touchpoint_key="hotline", metric_key="wait", segment_kind="abc", segment="C", title="t",
                    figures={"n_new": 40, "n_existing": 38, "effect": 61.5, "effect_rel": 0.42, "ci_low": 30.0,
                             "ci_high": 90.0, "p": 0.0001, "p_adjusted": 0.002, "n_customers": 20,
                             "effect_unit": "%", "excess_year": 38000.0, "excess_year_low": 24000.0,
                             "excess_year_high": 53000.0,
                             "segments": [{"segment_kind": "tier", "segment": "C", "n_new": 40, "n_existing": 17,
                                           "effect": 70.25, "ci_low": 31.0, "ci_high": 99.0}]},
                    due_date=dt.date.today() - dt.timedelta(days=3), owner_id=users["manager"].id),
            Finding(audit_id=world.audit_id, key="case:renewal:price:overall:all", kind="case", severity="medium",
                    touchpoint_key="renewal", metric_key="price", segment_kind="overall", segment="all", title="t",
                    figures={"n_cases": 50, "n_flagged": 12, "share_flagged": 0.24, "total_excess": 1234.5},
                    due_date=dt.date.today() + dt.timedelta(days=30)),
            Finding(audit_id=world.audit_id, key="aggregate:offer:price:tier:B", kind="aggregate", severity="low",
                    touchpoint_key="offer", metric_key="price", segment_kind="tier", segment="B", title="t",
                    status="resolved", figures={}),
        ]
        db.session.add_all(rows)
        db.session.commit()
        ids = [f.id for f in rows]
        db.session.remove()
    return world, ids


def test_list_shows_open_findings_overdue_first(as_role, findings):
    _world, (overdue, case, resolved) = findings
    html = as_role("leadership").get("/findings/").get_data(as_text=True)
    assert f'data-finding="{overdue}"' in html and f'data-finding="{case}"' in html
    assert f'data-finding="{resolved}"' not in html  # resolved hidden by default
    assert html.index(f'data-finding="{overdue}"') < html.index(f'data-finding="{case}"')
    assert 'class="overdue"' in html and "overdue" in html


@pytest.mark.parametrize("query,shown,hidden", [
    ("severity=high", [0], [1]),
    ("touchpoint=renewal", [1], [0]),
    ("segment=abc:C", [0], [1]),
    ("status=resolved", [2], [0, 1]),
    ("status=all", [0, 1, 2], []),
])
def test_filters(as_role, findings, query, shown, hidden):
    _world, ids = findings
    response = as_role("manager").get(f"/findings/?{query}", headers={"HX-Request": "true", "HX-Target": "findings-results"})
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'id="findings-results"' in html
    for i in shown:
        assert f'data-finding="{ids[i]}"' in html
    for i in hidden:
        assert f'data-finding="{ids[i]}"' not in html


def test_finding_page_shows_its_figures(as_role, findings):
    _world, (overdue, case, _resolved) = findings
    html = as_role("leadership").get(f"/findings/{overdue}").get_data(as_text=True)
    assert "61.50" in html and "0.0020" in html and "overdue since" in html
    assert "C customers" in html  # the segment label, not the raw key
    assert "61.50 %" in html and "70.25 %" in html and "€38,000.00" in html  # unit, facet, cost
    # leadership reads: no action form
    assert f"/findings/{overdue}/update" not in html
    html = as_role("manager").get(f"/findings/{case}").get_data(as_text=True)
    assert "€1,234.50" in html and f"/findings/{case}/update" in html


def test_manager_sets_status_owner_and_due(app, as_role, users, findings):
    _world, (overdue, _case, _resolved) = findings
    response = as_role("manager").post(f"/findings/{overdue}/update", data={
        "upd-status": "acknowledged", "upd-owner_id": users["leadership"].id, "upd-due_date": "2027-01-31",
        "upd-recommended_action": "Fix the queue."})
    assert response.status_code == 303
    from app.touchpoint_audit.models import Finding

    with app.app_context():
        f = db.session.get(Finding, overdue)
        assert (f.status, f.owner_id, f.due_date, f.recommended_action) == (
            "acknowledged", users["leadership"].id, dt.date(2027, 1, 31), "Fix the queue.")
        db.session.remove()
    bad = as_role("manager").post(f"/findings/{overdue}/update", data={"upd-status": "maybe"})
    assert bad.status_code == 422
    assert as_role("leadership").post(f"/findings/{overdue}/update", data={"upd-status": "resolved"}).status_code == 403


def test_comment_thread(app, as_role, findings):
    _world, (overdue, _case, _resolved) = findings
    assert as_role("leadership").post(f"/findings/{overdue}/comments", data={"c-body": "Why C customers?"}).status_code == 303
    assert as_role("manager").post(f"/findings/{overdue}/comments", data={"c-body": ""}).status_code == 422
    html = as_role("manager").get(f"/findings/{overdue}").get_data(as_text=True)
    assert "Why C customers?" in html


def test_manager_creates_a_manual_finding(app, as_role, users, findings):
    world, _ids = findings
    client = as_role("manager")
    assert client.get(f"/findings/new/{world.audit_id}").status_code == 200
    response = client.post(f"/findings/new/{world.audit_id}", data={
        "title": "Inside sales ignores Cash-Cows", "severity": "high", "metric_id": world.metric_ids["inside_sales.care_rating"],
        "segment": "cash_cow", "owner_id": users["manager"].id, "due_date": "2027-02-01"})
    assert response.status_code == 303
    from app.touchpoint_audit.models import Finding

    with app.app_context():
        f = db.session.scalars(db.select(Finding).where(Finding.kind == "manual")).one()
        assert (f.source, f.touchpoint_key, f.severity) == ("manual", "inside_sales", "high")
        db.session.remove()
    assert client.post(f"/findings/new/{world.audit_id}", data={"title": ""}).status_code == 422
    assert client.post("/findings/new/99999", data={"title": "x"}).status_code == 404
    assert as_role("leadership").get(f"/findings/new/{world.audit_id}").status_code == 403


def test_service_users_do_not_see_findings(as_role, findings):
    _world, (overdue, *_rest) = findings
    assert as_role("service").get("/findings/").status_code == 403
    assert as_role("service").get(f"/findings/{overdue}").status_code == 403
    assert as_role("manager").get("/findings/424242").status_code == 404
