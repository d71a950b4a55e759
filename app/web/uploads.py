"""Staging of uploaded files between "check" and "confirm".

An import is two steps: the user uploads, sees the validation report and a
preview, then confirms. The file waits in the ``staged_uploads`` table under a
random token bound to the user who sent it and to what it is for; the confirm
step parses the same bytes again, so what is written is exactly what was
previewed. The table, not a local folder, holds it because the confirm request
may reach another app server than the check did, and a large import is written
by a background worker on yet another machine.
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from flask import abort

from app.extensions import db
from app.web.models import StagedUpload, utcnow

MAX_AGE = dt.timedelta(hours=24)


@dataclass(frozen=True)
class StagedFile:
    token: str
    filename: str
    kind: str
    user_id: int
    data: bytes


def stage(data: bytes, filename: str, kind: str, user_id: int) -> str:
    """Keep the bytes for the confirm step; returns the token.

    Written and committed in a transaction of its own, so the row is there for
    the next request whatever the calling view does with its session; expired
    rows of anybody are deleted on the way.
    """
    token = secrets.token_urlsafe(18)
    now = utcnow()
    with db.engine.begin() as conn:
        conn.execute(db.delete(StagedUpload).where(StagedUpload.expires < now))
        conn.execute(db.insert(StagedUpload).values(
            token=token, purpose=kind, user_id=user_id, filename=(filename or "upload")[:255], data=data,
            created_at=now, expires=now + MAX_AGE,
        ))
    return token


def load(token: str, kind: str, user_id: int) -> StagedFile:
    """The staged file, or 404 when the token is unknown, expired, staged for another
    purpose or someone else's."""
    if not token or len(token) > 64:
        abort(404)
    row = db.session.execute(
        db.select(StagedUpload.filename, StagedUpload.data).where(
            StagedUpload.token == token,
            StagedUpload.purpose == kind,
            StagedUpload.user_id == user_id,
            StagedUpload.expires >= utcnow(),
        )
    ).first()
    if row is None:
        abort(404)
    return StagedFile(token, row.filename, kind, user_id, bytes(row.data))


def discard(token: str) -> None:
    """Forget a staged file (after its import was written)."""
    with db.engine.begin() as conn:
        conn.execute(db.delete(StagedUpload).where(StagedUpload.token == token))
