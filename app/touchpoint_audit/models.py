"""The touchpoint catalog (touchpoints and their metrics), audit rounds, their observations,
the findings of the analysis and the stored analysis."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.accounts.models import User
from app.extensions import db
from app.segments.models import Customer
from app.web.models import utcnow


class Touchpoint(db.Model):
    __tablename__ = "touchpoints"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    key: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    name_de: so.Mapped[str] = so.mapped_column(sa.String(120))
    name_en: so.Mapped[str] = so.mapped_column(sa.String(120))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    position: so.Mapped[int] = so.mapped_column(default=0)
    active: so.Mapped[bool] = so.mapped_column(default=True)

    metrics: so.Mapped[list[Metric]] = so.relationship(
        back_populates="touchpoint", cascade="all, delete-orphan", order_by="Metric.position"
    )

    def name(self, locale: str) -> str:
        return self.name_de if locale == "de" else self.name_en


class Channel(db.Model):
    """A channel of the company's vocabulary (phone, online …) with the other words people use for it.

    Observations store the key; the names and aliases are what a form or a file may say instead
    (``Telefon``, ``Tel.``, ``Hotline`` → ``phone``), so a spelling never splits a comparison.
    """

    __tablename__ = "channels"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    key: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    name_de: so.Mapped[str] = so.mapped_column(sa.String(80))
    name_en: so.Mapped[str] = so.mapped_column(sa.String(80))
    # the other words for the channel, one per line
    aliases: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    position: so.Mapped[int] = so.mapped_column(default=0)
    active: so.Mapped[bool] = so.mapped_column(default=True)

    def name(self, locale: str) -> str:
        return self.name_de if locale == "de" else self.name_en

    @property
    def alias_list(self) -> list[str]:
        return [word.strip() for word in (self.aliases or "").splitlines() if word.strip()]


class Metric(db.Model):
    """What is measured at a touchpoint, with its unit and which direction is better."""

    __tablename__ = "metrics"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    touchpoint_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("touchpoints.id", ondelete="CASCADE"), index=True
    )
    key: so.Mapped[str] = so.mapped_column(sa.String(64))
    name_de: so.Mapped[str] = so.mapped_column(sa.String(120))
    name_en: so.Mapped[str] = so.mapped_column(sa.String(120))
    # eur, seconds, hours, rating, percent, boolean
    unit: so.Mapped[str] = so.mapped_column(sa.String(16))
    # 'lower' = a lower value is better for the customer (price, wait).
    direction: so.Mapped[str] = so.mapped_column(sa.String(6))
    min_value: so.Mapped[float | None] = so.mapped_column(sa.Float)
    max_value: so.Mapped[float | None] = so.mapped_column(sa.Float)
    is_price: so.Mapped[bool] = so.mapped_column(default=False)
    needs_product_key: so.Mapped[bool] = so.mapped_column(default=False)
    # The smallest gap that counts, in the unit of the metric's effect: % for money and
    # durations, points for ratings, percentage points for yes/no. None: the kind's default.
    materiality: so.Mapped[float | None] = so.mapped_column(sa.Float)
    position: so.Mapped[int] = so.mapped_column(default=0)

    touchpoint: so.Mapped[Touchpoint] = so.relationship(back_populates="metrics")

    __table_args__ = (
        sa.UniqueConstraint("touchpoint_id", "key", name="uq_metrics_touchpoint_key"),
        sa.CheckConstraint("direction IN ('lower', 'higher')", name="direction_known"),
    )

    def name(self, locale: str) -> str:
        return self.name_de if locale == "de" else self.name_en


AUDIT_STATUSES = ("draft", "open", "review", "published")
# Allowed moves between statuses (forward, and one step back before publishing).
AUDIT_TRANSITIONS = {
    "draft": ("open",),
    "open": ("review", "draft"),
    "review": ("published", "open"),
    "published": (),
}
FINDING_KINDS = ("case", "aggregate", "price_walking", "aftersales", "manual")
FINDING_STATUSES = ("open", "acknowledged", "resolved", "wont_fix")
SEVERITIES = ("critical", "high", "medium", "low")
# How strong an observation's evidence is: seen in a test call or visit, read from a
# company system, or a customer's own statement. The words for each are in audits.EVIDENCE_GRADE_ALIASES.
EVIDENCE_GRADES = ("observed", "system", "self_reported")

audit_metrics = sa.Table(
    "audit_metrics",
    db.metadata,
    sa.Column("audit_id", sa.ForeignKey("audits.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("metric_id", sa.ForeignKey("metrics.id", ondelete="CASCADE"), primary_key=True),
)

audit_staff = sa.Table(
    "audit_staff",
    db.metadata,
    sa.Column("audit_id", sa.ForeignKey("audits.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class Audit(db.Model):
    """One audit round: scope, period, owner, staff, status draft → open → review → published."""

    __tablename__ = "audits"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    # Segments in scope as "kind:value" (e.g. "abc:A"); empty = all segments.
    scope_segments: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    # Product/tariff keys in scope; empty = all products.
    scope_products: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    # The round's analysis settings where they differ from the defaults: alpha, min_n,
    # tolerance and {"materiality": {metric_id: value}}; stored with every analysis as used.
    settings: so.Mapped[dict | None] = so.mapped_column(sa.JSON, default=dict)
    period_start: so.Mapped[dt.date | None] = so.mapped_column(sa.Date)
    period_end: so.Mapped[dt.date | None] = so.mapped_column(sa.Date)
    owner_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="draft")
    published_at: so.Mapped[dt.datetime | None]
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)

    owner: so.Mapped[User | None] = so.relationship(foreign_keys=[owner_id])
    metrics: so.Mapped[list[Metric]] = so.relationship(secondary=audit_metrics, order_by=Metric.id)
    staff: so.Mapped[list[User]] = so.relationship(secondary=audit_staff, order_by=User.username)

    __table_args__ = (
        sa.CheckConstraint("status IN ('draft', 'open', 'review', 'published')", name="status_known"),
    )

    @property
    def is_published(self) -> bool:
        return self.status == "published"

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def has_staff(self, user_id: int) -> bool:
        return any(u.id == user_id for u in self.staff)

    def __repr__(self) -> str:
        return f"<Audit {self.id} {self.title!r} {self.status}>"


class Observation(db.Model):
    """One logged fact: a metric's value for a new or existing customer."""

    __tablename__ = "observations"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    audit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("audits.id", ondelete="CASCADE"))
    metric_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("metrics.id", ondelete="RESTRICT"))
    value: so.Mapped[float] = so.mapped_column(sa.Float)
    customer_status: so.Mapped[str] = so.mapped_column(sa.String(8))
    customer_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    product_key: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    channel: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    observed_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    # Hash of an imported row (content + occurrence in its file): a re-import skips it.
    import_fingerprint: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    # The sending system's id of an observation that came through the HTTP API: sending
    # the same batch again stores nothing twice.
    external_id: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    # observed (a test call or visit), system (a system's record), self_reported (a customer's statement)
    evidence_grade: so.Mapped[str] = so.mapped_column(sa.String(14), default="observed", server_default="observed")
    # The id a device gave an entry logged on the log page (a UUID, made there, also offline) and
    # the SHA-256 of the fields it sent: sending it again stores nothing twice (offline.py).
    client_id: so.Mapped[str | None] = so.mapped_column(sa.String(36))
    client_digest: so.Mapped[str | None] = so.mapped_column(sa.String(64))

    metric: so.Mapped[Metric] = so.relationship()
    customer: so.Mapped[Customer | None] = so.relationship()
    created_by: so.Mapped[User | None] = so.relationship()
    evidence: so.Mapped[list[Evidence]] = so.relationship(
        back_populates="observation", cascade="all, delete-orphan", passive_deletes=True, order_by="Evidence.id")

    __table_args__ = (
        sa.UniqueConstraint("audit_id", "import_fingerprint", name="uq_observations_audit_fingerprint"),
        sa.UniqueConstraint("audit_id", "external_id", name="uq_observations_audit_external_id"),
        sa.UniqueConstraint("audit_id", "client_id", name="uq_observations_audit_client_id"),
        sa.CheckConstraint("customer_status IN ('new', 'existing')", name="customer_status_known"),
        sa.CheckConstraint("evidence_grade IN ('observed', 'system', 'self_reported')", name="evidence_grade_known"),
        # Serves reads by metric, the start page's counts per metric and customer status, the
        # round's quota counts of distinct customers and a finding's observed customers (all
        # index-only scans: the customer is part of it); the second one counts what was logged
        # after an analysis.
        sa.Index("ix_observations_audit_metric_status", "audit_id", "metric_id", "customer_status", "customer_id"),
        sa.Index("ix_observations_audit_created", "audit_id", "created_at"),
        sa.Index("ix_observations_audit_author", "audit_id", "created_by_id", "id"),
    )


class Evidence(db.Model):
    """A photo or file that backs an observation, kept in the database so every app server sees it.

    Photos are stored re-encoded (no EXIF, no location, orientation applied) with a small JPEG
    thumbnail; a PDF is stored as sent and has no thumbnail. The bytes are deferred: lists read
    only the metadata."""

    __tablename__ = "observation_evidence"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    observation_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("observations.id", ondelete="CASCADE"), index=True)
    # image/jpeg, image/png, image/webp, application/pdf: what the content is, never what the name says
    content_type: so.Mapped[str] = so.mapped_column(sa.String(32))
    filename: so.Mapped[str] = so.mapped_column(sa.String(120))
    size: so.Mapped[int]
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    width: so.Mapped[int | None]
    height: so.Mapped[int | None]
    data: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary, deferred=True)
    thumbnail: so.Mapped[bytes | None] = so.mapped_column(sa.LargeBinary, deferred=True)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)

    observation: so.Mapped[Observation] = so.relationship(back_populates="evidence")

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class Finding(db.Model):
    """A flag from the analysis or a manual note, with its corrective action."""

    __tablename__ = "findings"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    audit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("audits.id", ondelete="CASCADE"), index=True)
    # Stable per audit: the same flag found again updates this row.
    key: so.Mapped[str] = so.mapped_column(sa.String(255))
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    severity: so.Mapped[str] = so.mapped_column(sa.String(10), default="medium")
    touchpoint_key: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    metric_key: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    segment_kind: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    segment: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    title: so.Mapped[str] = so.mapped_column(sa.String(300))
    figures: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    recommended_action: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    owner_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    due_date: so.Mapped[dt.date | None] = so.mapped_column(sa.Date)
    status: so.Mapped[str] = so.mapped_column(sa.String(14), default="open")
    source: so.Mapped[str] = so.mapped_column(sa.String(10), default="analysis")
    # The latest analysis no longer supports this finding (kept, not deleted).
    stale: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)
    # Raised by every edit of the action (status, owner, due date, recommended action):
    # an edit made on an older version is refused instead of overwriting a newer one.
    version: so.Mapped[int] = so.mapped_column(default=1, server_default="1")
    updated_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    audit: so.Mapped[Audit] = so.relationship()
    owner: so.Mapped[User | None] = so.relationship(foreign_keys=[owner_id])
    updated_by: so.Mapped[User | None] = so.relationship(foreign_keys=[updated_by_id])
    comments: so.Mapped[list[FindingComment]] = so.relationship(
        back_populates="finding", cascade="all, delete-orphan", order_by="FindingComment.id"
    )
    activity: so.Mapped[list[FindingActivity]] = so.relationship(
        cascade="all, delete-orphan", order_by="FindingActivity.id", passive_deletes=True
    )

    __table_args__ = (
        sa.UniqueConstraint("audit_id", "key", name="uq_findings_audit_key"),
        sa.CheckConstraint(
            "status IN ('open', 'acknowledged', 'resolved', 'wont_fix')", name="status_known"
        ),
    )

    @property
    def is_overdue(self) -> bool:
        return (
            self.due_date is not None
            and self.status in ("open", "acknowledged")
            and self.due_date < dt.date.today()
        )


# What a new analysis refreshes on a finding it finds again; status, owner, due date, the
# recommended action and the comments are the managers' and stay.
REFRESHED_FIELDS = ("severity", "title", "figures", "touchpoint_key", "metric_key", "segment_kind", "segment")


def upsert_findings(audit: Audit, source: str, specs: list[dict]) -> dict:
    """Write the findings one analysis (``source``: 'analysis', 'aftersales') made of ``audit``.

    A finding is matched by its stable key: a new one is created open, one found again gets its
    :data:`REFRESHED_FIELDS` and is no longer stale, and the source's findings that this analysis
    did not find again are marked stale (kept, not deleted). Returns the counts; the caller commits.
    """
    if audit.is_published:
        raise ValueError("a published audit is frozen")
    existing = {f.key: f for f in db.session.scalars(
        db.select(Finding).where(Finding.audit_id == audit.id, Finding.source == source))}
    created = updated = stale = 0
    for spec in specs:
        finding = existing.pop(spec["key"], None)
        if finding is None:
            db.session.add(Finding(audit_id=audit.id, source=source, status="open", **spec))
            created += 1
        else:
            for name in REFRESHED_FIELDS:
                setattr(finding, name, spec[name])
            finding.stale = False
            finding.updated_at = utcnow()
            updated += 1
    for finding in existing.values():
        if not finding.stale:
            finding.stale = True
            stale += 1
    return {"created": created, "updated": updated, "stale": stale}


class FindingComment(db.Model):
    __tablename__ = "finding_comments"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    finding_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("findings.id", ondelete="CASCADE"), index=True)
    author_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)

    finding: so.Mapped[Finding] = so.relationship(back_populates="comments")
    author: so.Mapped[User | None] = so.relationship()


# What the activity log of a finding records; and the notices an owner gets.
ACTIVITY_FIELDS = ("status", "owner", "due_date")
REMINDER_KINDS = ("assigned", "due")


class FindingActivity(db.Model):
    """One change of a finding's status, owner or due date: who, when, from → to.

    Values are stored raw (status key, user id, ISO date) and worded when shown."""

    __tablename__ = "finding_activity"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    finding_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("findings.id", ondelete="CASCADE"), index=True)
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    field: so.Mapped[str] = so.mapped_column(sa.String(16))
    old_value: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    new_value: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)

    user: so.Mapped[User | None] = so.relationship()

    __table_args__ = (
        sa.CheckConstraint("field IN ('status', 'owner', 'due_date')", name="field_known"),
    )


class FindingReminder(db.Model):
    """A notice sent to a finding's owner: at most one per finding, kind and day."""

    __tablename__ = "finding_reminders"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    finding_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("findings.id", ondelete="CASCADE"))
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    kind: so.Mapped[str] = so.mapped_column(sa.String(10))
    day: so.Mapped[dt.date] = so.mapped_column(sa.Date)
    # 'mail' when an e-mail went out, 'page' when only the start page tells (no address or no SMTP).
    channel: so.Mapped[str] = so.mapped_column(sa.String(8), default="page")
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("finding_id", "kind", "day", name="uq_finding_reminders_finding_kind_day"),
        sa.CheckConstraint("kind IN ('assigned', 'due')", name="kind_known"),
    )


class AnalysisSnapshot(db.Model):
    """One stored run of the analysis: what the dashboard and the report read."""

    __tablename__ = "analysis_snapshots"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    audit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("audits.id", ondelete="CASCADE"), index=True)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    segmentation_run_id: so.Mapped[int | None]
    n_observations: so.Mapped[int] = so.mapped_column(default=0)
    params: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    comparisons: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    cases: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    gradient: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    # The paired test calls' comparisons (one row per touchpoint × metric), in the same
    # Benjamini–Hochberg family as ``comparisons``; None for analyses made before pairs existed.
    paired: so.Mapped[list | None] = so.mapped_column(sa.JSON)
    # The comparisons run again on the observations of one evidence grade each:
    # {grade: [comparison records]}; None for analyses made before grades existed.
    by_grade: so.Mapped[dict | None] = so.mapped_column(sa.JSON)


class Scenario(db.Model):
    """A scripted request of a paired test call: what the caller asks for, at which touchpoint
    and metric, for which product and through which channel."""

    __tablename__ = "scenarios"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    audit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("audits.id", ondelete="CASCADE"), index=True)
    metric_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("metrics.id", ondelete="RESTRICT"))
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    product_key: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    channel: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    script: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)

    metric: so.Mapped[Metric] = so.relationship()


class ObservationPair(db.Model):
    """A paired test call: the same scenario once as a prospect (new) and once as an existing
    customer, stored as two observations of the scenario's metric in the same audit.

    An observation belongs to at most one pair (unique sides); ``form_token`` is the id the
    pair form was given when it was shown, so sending the same form twice stores one pair."""

    __tablename__ = "observation_pairs"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    audit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("audits.id", ondelete="CASCADE"), index=True)
    scenario_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("scenarios.id", ondelete="RESTRICT"), index=True)
    new_observation_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("observations.id", ondelete="CASCADE"), unique=True)
    existing_observation_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("observations.id", ondelete="CASCADE"), unique=True)
    form_token: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)

    scenario: so.Mapped[Scenario] = so.relationship()
    new_observation: so.Mapped[Observation] = so.relationship(foreign_keys=[new_observation_id])
    existing_observation: so.Mapped[Observation] = so.relationship(foreign_keys=[existing_observation_id])

    __table_args__ = (
        sa.UniqueConstraint("audit_id", "form_token", name="uq_observation_pairs_audit_form_token"),
        sa.CheckConstraint("new_observation_id <> existing_observation_id", name="two_sides"),
    )


SCHEDULE_FREQUENCIES = ("monthly", "quarterly")


class RoundSchedule(db.Model):
    """A round that repeats: each period a new audit round from the template round's scope,
    staff and scenarios, with a quota per staff member."""

    __tablename__ = "round_schedules"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    template_audit_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("audits.id", ondelete="CASCADE"), unique=True)
    frequency: so.Mapped[str] = so.mapped_column(sa.String(10))
    # Observations and pairs each staff member is to log per round (0: none asked for).
    quota_observations: so.Mapped[int] = so.mapped_column(default=0)
    quota_pairs: so.Mapped[int] = so.mapped_column(default=0)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)

    template: so.Mapped[Audit] = so.relationship(foreign_keys=[template_audit_id])

    __table_args__ = (
        sa.CheckConstraint("frequency IN ('monthly', 'quarterly')", name="frequency_known"),
        sa.CheckConstraint("quota_observations >= 0 AND quota_pairs >= 0", name="quota_not_negative"),
    )


class ScheduledRound(db.Model):
    """The round a schedule made for one period ('2026-12', '2026-Q4'): at most one per period,
    with the quota that applied when it was made."""

    __tablename__ = "scheduled_rounds"

    schedule_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("round_schedules.id", ondelete="CASCADE"), primary_key=True)
    period: so.Mapped[str] = so.mapped_column(sa.String(7), primary_key=True)
    audit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("audits.id", ondelete="CASCADE"), unique=True)
    quota_observations: so.Mapped[int] = so.mapped_column(default=0)
    quota_pairs: so.Mapped[int] = so.mapped_column(default=0)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
