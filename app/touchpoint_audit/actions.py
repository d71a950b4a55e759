"""The action part of a finding: its activity log (who changed status, owner or due date,
when, from → to)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.accounts.models import User
from app.extensions import db
from app.touchpoint_audit.labels import FINDING_STATUS_LABELS
from app.touchpoint_audit.models import Finding, FindingActivity
from app.web.i18n import fmt_date


def _raw(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def record_changes(finding: Finding, user_id: int | None, *, status: str, owner_id: int | None,
                   due_date: dt.date | None) -> list[FindingActivity]:
    """Apply status, owner and due date to ``finding`` and log each one that changed
    (the caller commits)."""
    changes = []
    for field, old, new in (("status", finding.status, status), ("owner", finding.owner_id, owner_id),
                            ("due_date", finding.due_date, due_date)):
        if old == new:
            continue
        entry = FindingActivity(finding_id=finding.id, user_id=user_id, field=field,
                                old_value=_raw(old), new_value=_raw(new))
        db.session.add(entry)
        changes.append(entry)
    finding.status, finding.owner_id, finding.due_date = status, owner_id, due_date
    return changes


@dataclass(frozen=True)
class ActivityLine:
    when: dt.datetime
    who: str
    field: str
    old: str
    new: str


def _worded(field: str, value: str | None, people: dict[int, User]) -> str:
    if value is None:
        return "–"
    if field == "status":
        return str(FINDING_STATUS_LABELS.get(value, value))
    if field == "owner":
        user = people.get(int(value)) if value.isdigit() else None
        return (user.display_name or user.username) if user else "–"
    try:
        return fmt_date(dt.date.fromisoformat(value))
    except ValueError:
        return value


def activity_lines(finding: Finding) -> list[ActivityLine]:
    """The finding's activity log, newest first, in the user's words."""
    entries = db.session.scalars(db.select(FindingActivity).where(FindingActivity.finding_id == finding.id)
                                 .order_by(FindingActivity.id.desc())).all()
    ids = {e.user_id for e in entries} | {int(v) for e in entries if e.field == "owner"
                                          for v in (e.old_value, e.new_value) if v and v.isdigit()}
    people = {u.id: u for u in db.session.scalars(db.select(User).where(User.id.in_(ids)))} if ids else {}
    return [ActivityLine(e.created_at, _worded("owner", _raw(e.user_id), people), e.field,
                         _worded(e.field, e.old_value, people), _worded(e.field, e.new_value, people))
            for e in entries]
