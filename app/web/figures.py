"""Figures kept in the database between requests (``figure_cache``), shared by every app server.

For figures that take longer to compute than to read and that follow from rows which change
rarely (the after-sales tables follow the outcomes and the run). The key is a hash of what the
figures are computed from, so a changed row can never be answered with old figures: the caller
puts a digest of its input rows into ``owner`` (see :func:`frame_digest`).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable

import pandas as pd
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.web.models import CachedFigures

__all__ = ["cached_figures", "frame_digest"]


def frame_digest(frame: pd.DataFrame) -> str:
    """A digest of a frame's columns and every value (not of its row labels)."""
    hashed = pd.util.hash_pandas_object(frame.astype(object).where(frame.notna(), None), index=False)
    return hashlib.sha256(repr(list(frame.columns)).encode() + hashed.to_numpy().tobytes()).hexdigest()


def cached_figures(scope: str, owner: str, inputs, compute: Callable[[], dict]) -> dict:
    """``compute()`` (JSON: plain dicts, lists, numbers, text, None), kept for the next request.

    ``owner`` names the state of the rows the figures come from (a digest); ``inputs`` holds
    everything else they depend on (parameters), as plain values with a stable ``repr``. Storing
    figures of one owner drops the scope's figures of every other owner.
    """
    key = hashlib.sha256(repr((scope, owner, inputs)).encode()).hexdigest()
    stored = db.session.scalar(db.select(CachedFigures.data).where(CachedFigures.key == key))
    if stored is not None:
        return stored
    computed = compute()
    try:
        db.session.execute(db.delete(CachedFigures).where(CachedFigures.scope == scope, CachedFigures.owner != owner))
        db.session.add(CachedFigures(key=key, scope=scope, owner=owner, data=computed))
        db.session.commit()
    except IntegrityError:  # another request stored the same figures meanwhile
        db.session.rollback()
    return computed
