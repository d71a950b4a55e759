"""The action part of a finding: its activity log (who changed status, owner or due date,
when, from → to) and the notices to its owner — when it is assigned and when it falls
due — by e-mail when an SMTP server is configured (the start page tells them always)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from app.accounts.models import User
from app.extensions import db
from app.touchpoint_audit.labels import FINDING_STATUS_LABELS, default_action, finding_title, metric_names
from app.touchpoint_audit.models import Finding, FindingActivity, FindingReminder
from app.web.i18n import fmt_date
from app.web.mail import mail_configured, send_mail

OPEN_STATUSES = ("open", "acknowledged")
# An overdue action is reminded of again every this many days (and on its due day).
OVERDUE_EVERY_DAYS = 7


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


# ------------------------------------------------------------------ notices to the owner

def _finding_url(finding: Finding) -> str:
    with current_app.test_request_context(base_url=current_app.config.get("APP_BASE_URL") or None):
        return url_for("findings.view", finding_id=finding.id, _external=True)


def _message(finding: Finding, owner: User, kind: str, today: dt.date) -> tuple[str, str]:
    """Subject and body of a notice, in the owner's language."""
    with force_locale(owner.locale or current_app.config.get("BABEL_DEFAULT_LOCALE") or "de"):
        title = finding_title(finding, metric_names())
        if kind == "assigned":
            subject = _("Action assigned to you: %(title)s", title=title)
            opening = _("An action from the audit round %(audit)s is now yours.", audit=finding.audit.title)
        elif finding.due_date is not None and finding.due_date < today:
            subject = _("Action overdue since %(date)s: %(title)s", date=fmt_date(finding.due_date), title=title)
            opening = _("This action from the audit round %(audit)s is overdue.", audit=finding.audit.title)
        else:
            subject = _("Action due today: %(title)s", title=title)
            opening = _("This action from the audit round %(audit)s is due today.", audit=finding.audit.title)
        lines = [opening, "", title]
        if finding.due_date is not None:
            lines.append(_("Due date: %(date)s", date=fmt_date(finding.due_date)))
        action = default_action(finding)
        if action:
            lines += ["", _("Recommended action: %(action)s", action=action)]
        lines += ["", _("Open the finding: %(url)s", url=_finding_url(finding))]
    return subject, "\n".join(lines)


def _deliver(finding: Finding, owner: User, kind: str, today: dt.date) -> str:
    """Send the notice by e-mail when possible; the channel it went by ('mail' or 'page')."""
    if not (owner.email and mail_configured()):
        return "page"
    subject, body = _message(finding, owner, kind, today)
    return "mail" if send_mail(owner.email, subject, body) else "page"


def notify_assigned(finding: Finding, today: dt.date | None = None) -> str | None:
    """Tell the new owner of ``finding`` (once a day per finding and owner); commits.

    Returns the channel used, or None when this owner was already told today."""
    today = today or dt.date.today()
    owner = db.session.get(User, finding.owner_id) if finding.owner_id else None
    if owner is None or not owner.active:
        return None
    reminder = db.session.scalar(db.select(FindingReminder).where(
        FindingReminder.finding_id == finding.id, FindingReminder.kind == "assigned", FindingReminder.day == today))
    if reminder is not None and reminder.user_id == owner.id:
        return None
    channel = _deliver(finding, owner, "assigned", today)
    if reminder is None:
        db.session.add(FindingReminder(finding_id=finding.id, user_id=owner.id, kind="assigned", day=today,
                                       channel=channel))
    else:  # reassigned the same day: the row follows the latest owner
        reminder.user_id, reminder.channel = owner.id, channel
    db.session.commit()
    return channel


def falls_due(finding: Finding, today: dt.date) -> bool:
    """Is a due reminder owed today: on the due day, then every OVERDUE_EVERY_DAYS days."""
    if finding.due_date is None or finding.due_date > today:
        return False
    return (today - finding.due_date).days % OVERDUE_EVERY_DAYS == 0


def send_due_reminders(today: dt.date | None = None) -> dict[str, int]:
    """Remind the owners of open actions that fall due today (idempotent per finding and
    day: a second run the same day sends nothing). Commits after each reminder."""
    today = today or dt.date.today()
    findings = db.session.scalars(
        db.select(Finding).where(Finding.owner_id.is_not(None), Finding.due_date <= today,
                                 Finding.status.in_(OPEN_STATUSES), Finding.stale.is_(False))
        .order_by(Finding.due_date, Finding.id)).all()
    counts = {"mail": 0, "page": 0, "already": 0}
    for finding in findings:
        if not falls_due(finding, today):
            continue
        owner = db.session.get(User, finding.owner_id)
        if owner is None or not owner.active:
            continue
        if db.session.scalar(db.select(FindingReminder.id).where(
                FindingReminder.finding_id == finding.id, FindingReminder.kind == "due", FindingReminder.day == today)):
            counts["already"] += 1
            continue
        # Claim the day before sending: a parallel run waits on the unique row, then stops.
        reminder = FindingReminder(finding_id=finding.id, user_id=owner.id, kind="due", day=today, channel="page")
        db.session.add(reminder)
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            counts["already"] += 1
            continue
        reminder.channel = _deliver(finding, owner, "due", today)
        db.session.commit()
        counts[reminder.channel] += 1
    return counts
