"""The shell's own table: background jobs with their progress; and the clock every model uses."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db


def utcnow() -> dt.datetime:
    """Now in UTC, without tzinfo (as every timestamp column stores it)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Job(db.Model):
    __tablename__ = "jobs"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(40), index=True)
    # queued -> running -> done | failed
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="queued", index=True)
    progress: so.Mapped[float] = so.mapped_column(default=0.0)
    message: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    params: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    result: so.Mapped[dict | None] = so.mapped_column(sa.JSON)
    # Why it failed: "message" (``error`` holds the job's own message for the user, in the
    # job's language), "internal" (details only in the log), "stopped" (its process died).
    error_code: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    error: so.Mapped[str | None] = so.mapped_column(sa.Text)
    # The language the job speaks (its starter's), and the page the job was started from.
    lang: so.Mapped[str | None] = so.mapped_column(sa.String(5))
    return_to: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    finished_at: so.Mapped[dt.datetime | None]
    # Stamped while the job waits in this process's pool or runs; a stale heartbeat means
    # the process that had the job is gone.
    heartbeat_at: so.Mapped[dt.datetime | None]

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")


class StagedUpload(db.Model):
    """A checked upload waiting for its confirm step, in the database so every app server
    and worker sees it (a local folder is visible only to the server that received the file)."""

    __tablename__ = "staged_uploads"

    token: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    # What the file is for ("customer_values", "observations", ...): a token staged for one
    # import cannot be confirmed by another.
    purpose: so.Mapped[str] = so.mapped_column(sa.String(40))
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: so.Mapped[str] = so.mapped_column(sa.String(255))
    data: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    expires: so.Mapped[dt.datetime] = so.mapped_column(index=True)


class JobFile(db.Model):
    """The file a background job made (a large export), kept in the database so that every app
    server can hand it out; for its job's starter only, removed a day later."""

    __tablename__ = "job_files"

    job_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    filename: so.Mapped[str] = so.mapped_column(sa.String(255))
    mimetype: so.Mapped[str] = so.mapped_column(sa.String(100))
    data: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow, index=True)


class CachedFigures(db.Model):
    """Figures computed from stored rows (JSON), kept so that a page does not compute them on
    every request: the after-sales tables per state of the outcomes and the run.

    As :class:`CachedChart`: ``key`` is a hash of everything the figures come from (see
    :func:`app.web.figures.cached_figures`); storing figures of a new ``owner`` (a new state
    of the rows) removes the scope's figures of every other owner.
    """

    __tablename__ = "figure_cache"

    key: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    scope: so.Mapped[str] = so.mapped_column(sa.String(100), index=True)
    owner: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    data: so.Mapped[dict] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)


class CachedChart(db.Model):
    """A drawn chart (SVG) kept so that a page does not run matplotlib on every request.

    ``key`` is a hash of everything the chart is drawn from (see
    :func:`app.web.charts.cached_svg`); ``scope`` names the page's chart family and
    ``owner`` the run or analysis it shows: storing a chart of a newer owner removes
    the scope's charts of every other owner, so a new run or analysis replaces them.
    """

    __tablename__ = "chart_cache"

    key: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    scope: so.Mapped[str] = so.mapped_column(sa.String(100), index=True)
    owner: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    svg: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
