"""Staging of uploaded files between "check" and "confirm".

An import is two steps: the user uploads, sees the validation report and a
preview, then confirms. The file waits in ``instance/uploads/`` under a random
token bound to the user who sent it; the confirm step parses the same bytes
again, so what is written is exactly what was previewed.
"""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from flask import abort, current_app

MAX_AGE_SECONDS = 24 * 3600
ALLOWED_SUFFIXES = (".csv", ".txt", ".xlsx")


@dataclass(frozen=True)
class StagedFile:
    token: str
    filename: str
    kind: str
    user_id: int
    data: bytes


def _folder() -> Path:
    folder = Path(current_app.config.get("UPLOAD_FOLDER") or Path(current_app.root_path).parent / "instance" / "uploads")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def stage(data: bytes, filename: str, kind: str, user_id: int) -> str:
    """Keep the bytes for the confirm step; returns the token."""
    _sweep()
    token = secrets.token_urlsafe(18)
    folder = _folder()
    (folder / f"{token}.bin").write_bytes(data)
    (folder / f"{token}.json").write_text(json.dumps({"filename": filename, "kind": kind, "user_id": user_id}))
    return token


def load(token: str, kind: str, user_id: int) -> StagedFile:
    """The staged file, or 404 when the token is unknown, expired or someone else's."""
    if not token or not token.replace("-", "").replace("_", "").isalnum() or len(token) > 64:
        abort(404)
    folder = _folder()
    meta_path = folder / f"{token}.json"
    if not meta_path.exists():
        abort(404)
    meta = json.loads(meta_path.read_text())
    if meta["kind"] != kind or meta["user_id"] != user_id:
        abort(404)
    return StagedFile(token, meta["filename"], kind, user_id, (folder / f"{token}.bin").read_bytes())


def discard(token: str) -> None:
    folder = _folder()
    for suffix in (".bin", ".json"):
        (folder / f"{token}{suffix}").unlink(missing_ok=True)


def _sweep() -> None:
    cutoff = time.time() - MAX_AGE_SECONDS
    for path in _folder().glob("*.*"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
