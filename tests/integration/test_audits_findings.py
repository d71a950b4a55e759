"""Findings: filters, overdue, the finding page with figures, status/owner/due, comments,
manual findings; leadership reads."""
from __future__ import annotations

import datetime as dt
import re

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
                    figures={"n_new": 40, "n_existing": 38, "effect": 61.5, "effect_rel": 0.615, "ci_low": 30.0,
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
        "upd-recommended_action": "Fix the queue.", "upd-version": "1"})
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


# ------------------------------------------------------------------ round filter, owner, effect, activity, due dates

@pytest.fixture
def two_rounds(app, users, findings):
    """A newer round with one finding of its own, beside the fixture's round."""
    from app.touchpoint_audit.models import Audit, Finding

    world, ids = findings
    with app.app_context():
        newer = Audit(title="Newer round", status="open", created_at=dt.datetime(2030, 1, 1))
        db.session.add(newer)
        db.session.flush()
        finding = Finding(audit_id=newer.id, key="manual:newer", kind="manual", source="manual", title="Newer one",
                          severity="low")
        db.session.add(finding)
        db.session.commit()
        newer_ids = (newer.id, finding.id)
        db.session.remove()
    return world, ids, newer_ids


def test_the_list_shows_the_latest_round_by_default(as_role, two_rounds):
    world, ids, (newer_audit, newer_finding) = two_rounds
    client = as_role("manager")
    html = client.get("/findings/").get_data(as_text=True)
    assert f'data-finding="{newer_finding}"' in html and f'data-finding="{ids[0]}"' not in html
    assert f'<option value="{newer_audit}" selected>' in html
    html = client.get(f"/findings/?audit_id={world.audit_id}").get_data(as_text=True)
    assert f'data-finding="{ids[0]}"' in html and f'data-finding="{newer_finding}"' not in html
    html = client.get("/findings/?audit_id=all").get_data(as_text=True)
    assert f'data-finding="{ids[0]}"' in html and f'data-finding="{newer_finding}"' in html
    assert client.get("/findings/?audit_id=abc&owner=x&segment=nonsense").status_code == 200


@pytest.mark.parametrize("owner,shown,hidden", [("none", [1], [0]), ("manager", [0], [1]), ("me", [0], [1])])
def test_owner_filter(as_role, users, findings, owner, shown, hidden):
    _world, ids = findings
    value = users["manager"].id if owner == "manager" else owner
    html = as_role("manager").get(f"/findings/?owner={value}").get_data(as_text=True)
    for i in shown:
        assert f'data-finding="{ids[i]}"' in html
    for i in hidden:
        assert f'data-finding="{ids[i]}"' not in html


def test_overdue_filter_and_badge(as_role, findings):
    _world, (overdue, case, _resolved) = findings
    html = as_role("manager").get("/findings/?overdue=1").get_data(as_text=True)
    assert f'data-finding="{overdue}"' in html and f'data-finding="{case}"' not in html
    assert "badge bad overdue-label" in html and "· overdue" in html  # in words, not colour only


def test_each_finding_shows_its_effect_with_interval_and_n(as_role, findings):
    _world, (overdue, case, _resolved) = findings
    html = as_role("leadership").get("/findings/").get_data(as_text=True)
    row = html.split(f'data-finding="{overdue}"')[1].split("</tr>")[0]
    # effect and interval as the analysis states them, in % of the new customers' level
    assert "61.5 %" in row and "95% interval 30.0 % to 90.0 %" in row and "n = 38 existing / 40 new" in row
    row = html.split(f'data-finding="{case}"')[1].split("</tr>")[0]
    assert "in this sample" in row and "12 of 50 prices above the new-business price" in row
    german = as_role("leadership").get("/findings/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "95-%-Intervall 30,0 % bis 90,0 %" in german


def test_activity_log_records_who_changed_what(app, as_role, users, findings):
    _world, (_overdue, case, _resolved) = findings
    client = as_role("manager")
    due = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    response = client.post(f"/findings/{case}/update", data={
        "upd-status": "acknowledged", "upd-owner_id": users["service"].id, "upd-due_date": due})
    assert response.status_code == 303
    from app.touchpoint_audit.models import FindingActivity

    with app.app_context():
        rows = db.session.scalars(db.select(FindingActivity).where(FindingActivity.finding_id == case)
                                  .order_by(FindingActivity.id)).all()
        assert [(r.field, r.old_value, r.new_value, r.user_id) for r in rows] == [
            ("status", "open", "acknowledged", users["manager"].id),
            ("owner", None, str(users["service"].id), users["manager"].id),
            ("due_date", (dt.date.today() + dt.timedelta(days=30)).isoformat(), due, users["manager"].id)]
        db.session.remove()
    html = client.get(f"/findings/{case}").get_data(as_text=True)
    log = html.split('id="activity"')[1].split("</section>")[0]
    assert "Status: Open → Acknowledged" in log and "Owner: – → Service" in log and "Manager" in log
    # saving again without a change logs nothing more
    client.post(f"/findings/{case}/update", data={
        "upd-status": "acknowledged", "upd-owner_id": users["service"].id, "upd-due_date": due})
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(FindingActivity.id))) == 3
        db.session.remove()
    german = client.get(f"/findings/{case}", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Status: Offen → Bestätigt" in german or "Status: Offen →" in german


def test_any_active_user_may_own_an_action(as_role, users, findings):
    _world, (overdue, _case, _resolved) = findings
    html = as_role("manager").get(f"/findings/{overdue}").get_data(as_text=True)
    for role in ("service", "leadership", "manager", "admin"):
        assert re.search(rf'<option (selected )?value="{users[role].id}"', html), role


def test_a_past_due_date_is_refused_when_set(app, as_role, users, findings):
    world, (overdue, case, _resolved) = findings
    client = as_role("manager")
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    response = client.post(f"/findings/{case}/update", data={"upd-status": "open", "upd-due_date": yesterday})
    assert response.status_code == 422
    assert "The due date must not be in the past." in response.get_data(as_text=True)
    response = client.post(f"/findings/{case}/update", data={"upd-status": "open", "upd-due_date": yesterday},
                           headers={"Accept-Language": "de"})
    assert "Das Fälligkeitsdatum darf nicht in der Vergangenheit liegen." in response.get_data(as_text=True)
    # the overdue finding keeps its past due date while its status changes
    kept = (dt.date.today() - dt.timedelta(days=3)).isoformat()
    assert client.post(f"/findings/{overdue}/update", data={
        "upd-status": "acknowledged", "upd-owner_id": users["manager"].id, "upd-due_date": kept}).status_code == 303
    # and today is fine
    assert client.post(f"/findings/{case}/update", data={
        "upd-status": "open", "upd-due_date": dt.date.today().isoformat()}).status_code == 303
    response = client.post(f"/findings/new/{world.audit_id}", data={
        "title": "Late", "severity": "low", "due_date": yesterday})
    assert response.status_code == 422 and "must not be in the past" in response.get_data(as_text=True)
