"""Repeating rounds: a schedule from a template round, the next round made when its period
begins (CLI for cron and the page), never two for one period; quotas per staff member; bad input."""
from __future__ import annotations

import datetime as dt

import pytest

from app.extensions import db


def audits_of(app):
    from app.touchpoint_audit.models import Audit, ScheduledRound

    with app.app_context():
        rows = db.session.execute(db.select(ScheduledRound.period, Audit.title, Audit.status, Audit.period_start,
                                            Audit.period_end)
                                  .join(Audit, Audit.id == ScheduledRound.audit_id)
                                  .order_by(ScheduledRound.period)).all()
        db.session.remove()
    return [tuple(r) for r in rows]


def make_schedule(as_role, world, **fields):
    data = {"frequency": "quarterly", "quota_observations": "5", "quota_pairs": "3", "active": "1"}
    data.update(fields)
    return as_role("manager").post(f"/audits/{world.audit_id}/schedule", data=data)


def test_periods_and_their_bounds():
    from app.touchpoint_audit.schedules import period_bounds, period_of

    assert period_of(dt.date(2026, 12, 31), "quarterly") == "2026-Q4"
    assert period_of(dt.date(2027, 1, 1), "monthly") == "2027-01"
    assert period_bounds("2026-Q4") == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert period_bounds("2027-02") == (dt.date(2027, 2, 1), dt.date(2027, 2, 28))
    assert period_bounds("2026-12") == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    with pytest.raises(ValueError):
        period_of(dt.date(2026, 1, 1), "weekly")


def test_the_cli_makes_the_next_round_once_per_period(app, as_role, world):
    from app.touchpoint_audit.models import Audit, Scenario

    with app.app_context():
        db.session.add(Scenario(audit_id=world.audit_id, metric_id=world.metric_ids["hotline.wait"], title="Call",
                                script="Ask for the opening hours."))
        db.session.commit()
        db.session.remove()
    assert make_schedule(as_role, world).status_code == 303
    # the template (period 2026-10-01 … 2026-12-31) is the round of 2026-Q4
    assert [r[0] for r in audits_of(app)] == ["2026-Q4"]
    runner = app.test_cli_runner()
    same = runner.invoke(args=["audits", "schedule", "--date", "2026-12-20"])
    assert same.exit_code == 0 and "0 rounds created" in same.output
    first = runner.invoke(args=["audits", "schedule", "--date", "2027-01-02"])
    again = runner.invoke(args=["audits", "schedule", "--date", "2027-03-31"])
    assert "1 rounds created" in first.output and "0 rounds created, 1 already there" in again.output
    rounds = audits_of(app)
    assert [r[0] for r in rounds] == ["2026-Q4", "2027-Q1"]
    period, title, status, start, end = rounds[1]
    assert title == "Test audit · 2027-Q1" and status == "open"
    assert (start, end) == (dt.date(2027, 1, 1), dt.date(2027, 3, 31))
    with app.app_context():
        new = db.session.scalars(db.select(Audit).where(Audit.title == title)).one()
        assert [u.id for u in new.staff] == [world.staff_id] and len(new.metrics) == len(world.metric_ids)
        assert db.session.scalars(db.select(Scenario.script).where(Scenario.audit_id == new.id)).all() == [
            "Ask for the opening hours."]
        db.session.remove()


def test_the_page_makes_the_due_round_on_demand_and_never_twice(app, as_role, world):
    from app.touchpoint_audit.models import Audit

    with app.app_context():  # a template of an earlier quarter: the current quarter's round is due
        db.session.get(Audit, world.audit_id).period_start = dt.date(2020, 1, 1)
        db.session.commit()
        db.session.remove()
    make_schedule(as_role, world, frequency="monthly")
    manager = as_role("manager")
    first = manager.post(f"/audits/{world.audit_id}/schedule/run", follow_redirects=True)
    second = manager.post(f"/audits/{world.audit_id}/schedule/run", follow_redirects=True)
    month = dt.date.today().strftime("%Y-%m")
    assert f"Round {month} created." in first.get_data(as_text=True)
    assert "exists already" in second.get_data(as_text=True)
    assert [r[0] for r in audits_of(app)] == ["2020-01", month]


def test_staff_see_what_is_still_due_and_a_quota_free_round_says_nothing(app, as_role, world):
    from app.touchpoint_audit.models import Observation, ScheduledRound

    service = as_role("service")
    assert 'id="quota-due"' not in service.get(f"/audits/{world.audit_id}").get_data(as_text=True)
    make_schedule(as_role, world)
    with app.app_context():
        assert db.session.get(ScheduledRound, (1, "2026-Q4")).quota_pairs == 3
        for _ in range(2):
            db.session.add(Observation(audit_id=world.audit_id, metric_id=world.metric_ids["hotline.wait"],
                                       value=60.0, customer_status="new", created_by_id=world.staff_id))
        db.session.commit()
        db.session.remove()
    html = service.get(f"/audits/{world.audit_id}").get_data(as_text=True)
    assert "3 observations (2 of 5 done)" in html and "3 pairs (0 of 3 done)" in html
    german = service.get(f"/audits/{world.audit_id}", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "3 Beobachtungen (2 von 5 erledigt)" in german
    # the manager is not on the staff: no quota of their own
    assert 'id="quota-due"' not in as_role("manager").get(f"/audits/{world.audit_id}").get_data(as_text=True)


@pytest.mark.parametrize("fields", [
    {"frequency": "weekly"}, {"frequency": ""}, {"quota_pairs": "-1"}, {"quota_pairs": "1.5"},
    {"quota_observations": "10001"}, {"quota_observations": "9" * 400}, {"quota_pairs": "٣"},
])
def test_bad_schedules_are_refused_with_nothing_written(app, as_role, world, fields):
    response = make_schedule(as_role, world, **fields)
    assert response.status_code == 422 and 'class="error"' in response.get_data(as_text=True)
    assert audits_of(app) == []


def test_saving_again_changes_the_schedule_not_the_rounds(app, as_role, world):
    from app.touchpoint_audit.models import RoundSchedule

    make_schedule(as_role, world)
    assert make_schedule(as_role, world, frequency="monthly", quota_pairs="7", active="0").status_code == 303
    with app.app_context():
        schedule = db.session.scalars(db.select(RoundSchedule)).one()
        assert (schedule.frequency, schedule.quota_pairs, schedule.active) == ("monthly", 7, False)
        db.session.remove()
    assert len(audits_of(app)) == 1
    assert as_role("manager").post(f"/audits/{world.audit_id}/schedule/run").status_code == 409
    run = app.test_cli_runner().invoke(args=["audits", "schedule", "--date", "2030-01-01"])
    assert "0 rounds created, 0 already there" in run.output


def test_the_cli_refuses_a_malformed_date(app):
    result = app.test_cli_runner().invoke(args=["audits", "schedule", "--date", "2026-13-01"])
    assert result.exit_code != 0 and "Traceback" not in result.output


def test_the_start_page_tells_staff_what_is_due(app, as_role, world):
    service = as_role("service")
    assert "data-due=" not in service.get("/").get_data(as_text=True)
    make_schedule(as_role, world)
    html = service.get("/").get_data(as_text=True)
    assert f'data-due="{world.audit_id}"' in html and "5 observations" in html and "3 pairs" in html
    assert f"/audits/{world.audit_id}/pairs" in html
