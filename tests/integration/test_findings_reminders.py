"""Owners are told when an action is assigned and when it falls due: on their start page
always, by e-mail when SMTP is configured; `flask findings remind` is idempotent per
finding and day. The SMTP server is a local sink started by the test."""
from __future__ import annotations

import datetime as dt
import socket

import pytest

from app.extensions import db
from tests.integration.audit_fixtures import build_world
from tests.smtp_sink import running_sink


@pytest.fixture
def sink(app, monkeypatch):
    """A local SMTP server the app is configured to send through."""
    with running_sink() as (host, port, received):
        monkeypatch.setitem(app.config, "MAIL_SERVER", host)
        monkeypatch.setitem(app.config, "MAIL_PORT", port)
        monkeypatch.setitem(app.config, "MAIL_FROM", "audit@example.test")
        yield received


@pytest.fixture
def actions(app, users):
    """Owners with addresses (service reads English, leadership German by default) and
    findings due today, overdue by 3 and by 7 days, due later, and one unassigned."""
    from app.accounts.models import User
    from app.touchpoint_audit.models import Finding

    world = build_world(app, users)
    today = dt.date.today()
    with app.app_context():
        service = db.session.get(User, users["service"].id)
        service.email, service.locale = "service@example.test", "en"
        db.session.get(User, users["leadership"].id).email = "leadership@example.test"

        def finding(key, owner, due, **kw):
            f = Finding(audit_id=world.audit_id, key=key, kind="manual", source="manual", title=f"Fix {key}",
                        owner_id=owner, due_date=due, **kw)
            db.session.add(f)
            return f

        rows = {
            "today": finding("today", users["service"].id, today, recommended_action="Call back within a day."),
            "overdue3": finding("overdue3", users["service"].id, today - dt.timedelta(days=3)),
            "overdue7": finding("overdue7", users["leadership"].id, today - dt.timedelta(days=7)),
            "later": finding("later", users["service"].id, today + dt.timedelta(days=5)),
            "no_address": finding("no_address", users["manager"].id, today),
            "resolved": finding("resolved", users["service"].id, today, status="resolved"),
            "unassigned": finding("unassigned", None, None),
        }
        db.session.commit()
        ids = {k: f.id for k, f in rows.items()}
        db.session.remove()
    return world, ids


def reminders(app, kind=None):
    from app.touchpoint_audit.models import FindingReminder

    with app.app_context():
        query = db.select(FindingReminder).order_by(FindingReminder.id)
        if kind:
            query = query.where(FindingReminder.kind == kind)
        rows = [(r.finding_id, r.user_id, r.kind, r.day, r.channel) for r in db.session.scalars(query)]
        db.session.remove()
    return rows


def test_remind_sends_due_reminders_once_a_day(app, users, actions, sink):
    _world, ids = actions
    runner = app.test_cli_runner()
    result = runner.invoke(args=["findings", "remind"])
    assert result.exit_code == 0, result.output
    assert "2 e-mailed, 1 on the start page only" in result.output
    by_recipient = {m.recipients[0]: m.message for m in sink}
    assert sorted(by_recipient) == ["leadership@example.test", "service@example.test"]
    english = by_recipient["service@example.test"]
    assert english["Subject"] == "Action due today: Fix today" and english["From"].endswith("<audit@example.test>")
    body = english.get_content()
    assert "Call back within a day." in body and f"/findings/{ids['today']}" in body
    german = by_recipient["leadership@example.test"]
    assert german["Subject"].startswith("Maßnahme überfällig seit ") and "Fix overdue7" in german["Subject"]
    today = dt.date.today()
    assert sorted((f, k, c) for f, _u, k, d, c in reminders(app) if d == today) == sorted([
        (ids["today"], "due", "mail"), (ids["overdue7"], "due", "mail"), (ids["no_address"], "due", "page")])
    # the same day again: nothing more
    again = runner.invoke(args=["findings", "remind"])
    assert again.exit_code == 0 and "0 e-mailed, 0 on the start page only" in again.output
    assert "3 already reminded today" in again.output and len(sink) == 2
    # the next day: the action overdue by a day is not reminded (weekly while overdue)
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    later = runner.invoke(args=["findings", "remind", "--date", tomorrow])
    assert "0 e-mailed" in later.output and len(sink) == 2


def test_remind_refuses_a_bad_date(app, actions):
    result = app.test_cli_runner().invoke(args=["findings", "remind", "--date", "31.12.2026"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output


def test_assignment_mails_the_new_owner_once(app, as_role, users, actions, sink):
    _world, ids = actions
    client = as_role("manager")
    due = (dt.date.today() + dt.timedelta(days=20)).isoformat()
    form = {"upd-status": "open", "upd-owner_id": users["service"].id, "upd-due_date": due}
    assert client.post(f"/findings/{ids['unassigned']}/update", data=form).status_code == 303
    assert len(sink) == 1 and sink[0].recipients == ["service@example.test"]
    assert sink[0].message["Subject"] == "Action assigned to you: Fix unassigned"
    assert "Test audit" in sink[0].message.get_content()
    # saving again (no owner change) sends nothing
    assert client.post(f"/findings/{ids['unassigned']}/update", data=form).status_code == 303
    assert len(sink) == 1
    # reassigned the same day: the new owner is told, in German
    form["upd-owner_id"] = users["leadership"].id
    client.post(f"/findings/{ids['unassigned']}/update", data=form)
    assert len(sink) == 2 and sink[1].recipients == ["leadership@example.test"]
    assert sink[1].message["Subject"] == "Ihnen zugewiesene Maßnahme: Fix unassigned"
    assert reminders(app, "assigned") == [(ids["unassigned"], users["leadership"].id, "assigned", dt.date.today(),
                                           "mail")]


def test_a_new_manual_finding_with_an_owner_is_mailed(app, as_role, users, actions, sink):
    world, _ids = actions
    response = as_role("manager").post(f"/findings/new/{world.audit_id}", data={
        "title": "Hotline queue for loyal customers", "severity": "high", "owner_id": users["service"].id})
    assert response.status_code == 303
    assert [m.message["Subject"] for m in sink] == ["Action assigned to you: Hotline queue for loyal customers"]


def test_without_smtp_the_start_page_tells(app, as_role, users, actions):
    _world, ids = actions
    assert not app.config.get("MAIL_SERVER")
    client = as_role("manager")
    client.post(f"/findings/{ids['unassigned']}/update", data={
        "upd-status": "open", "upd-owner_id": users["service"].id})
    assert reminders(app, "assigned")[0][-1] == "page"
    html = as_role("service").get("/").get_data(as_text=True)
    assert 'data-reminder="assigned"' in html and 'data-reminder="due"' in html and 'data-reminder="overdue"' in html
    result = app.test_cli_runner().invoke(args=["findings", "remind"])
    assert "0 e-mailed, 3 on the start page only" in result.output


def test_an_unreachable_mail_server_does_not_break_the_page(app, as_role, users, actions, monkeypatch):
    _world, ids = actions
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    response = as_role("manager").post(f"/findings/{ids['unassigned']}/update", data={
        "upd-status": "open", "upd-owner_id": users["service"].id})
    assert response.status_code == 303
    assert reminders(app, "assigned")[0][-1] == "page"


def test_an_admin_sets_the_reminder_address(app, as_role, users):
    from app.accounts.models import User

    admin = as_role("admin")
    url = f"/admin/users/{users['service'].id}"
    bad = admin.post(url, data={"display_name": "Service", "email": "not-an-address", "role": "service",
                                "active": "y"})
    assert bad.status_code == 422 and "Enter an e-mail address." in bad.get_data(as_text=True)
    assert admin.post(url, data={"display_name": "Service", "email": " team@example.test ", "role": "service",
                                 "active": "y"}).status_code in (302, 303)
    with app.app_context():
        assert db.session.get(User, users["service"].id).email == "team@example.test"
        db.session.remove()
