"""Offline logging on the log page: the service worker and web app manifest that keep the page
usable without a connection, and the JSON endpoint through which the entries kept on the
device are sent once the connection is back.

Every entry made on the log page carries an id made on the device (a UUID, ``client_id``).
The server stores each id once per audit, with the SHA-256 of the fields sent
(``client_digest``): the same id sent again with the same fields is answered as the first
time (nothing is stored twice), the same id with other fields is refused as a conflict.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path

from flask import Blueprint, current_app, jsonify, make_response, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import RequestEntityTooLarge

from app.extensions import db
from app.touchpoint_audit.models import Audit, Observation
from app.touchpoint_audit.rules import check_observation, may_log
from app.web.i18n import lang
from app.web.security import allow, public

bp = Blueprint("offline_log", __name__, template_folder="templates")

#: The fields of the log form an entry carries (the form's names).
FIELDS = ("metric_id", "value", "customer_q", "customer_id", "customer_status", "product_key", "channel",
          "observed_on", "note")
#: The largest sync request body accepted (one entry: a note of 2,000 characters fits several times).
MAX_BODY = 16 * 1024
#: The longest text accepted in one field (the note's column cut applies after this).
MAX_FIELD = 4000
#: The pages the service worker controls (a prefix: it also covers /log/<id>/…).
SCOPE = "/log"
#: The static files the log page needs, cached when the worker installs.
ASSETS = ("css/app.css", "app.js", "observations.js", "log-offline.js", "favicon.svg")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def client_id_of(raw) -> str | None:
    """The device's entry id in its canonical form (a hyphenated UUID, lower case), or None."""
    if not isinstance(raw, str) or not _UUID.match(raw.strip()):
        return None
    return raw.strip().lower()


def _text(value) -> str:
    if value is None:
        return ""
    return str(value).strip()


def fields_digest(fields: Mapping) -> str:
    """SHA-256 of an entry's fields as sent (trimmed text; missing = empty), whatever way they came."""
    canonical = json.dumps({name: _text(fields.get(name)) for name in FIELDS}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def entry_of(audit_id: int, client_id: str) -> Observation | None:
    """The observation stored for this device id in this audit, if any."""
    return db.session.scalar(db.select(Observation).where(Observation.audit_id == audit_id,
                                                          Observation.client_id == client_id))


def conflict_text() -> str:
    """Why an id sent before with other fields is refused."""
    return _("An entry with this id was stored before with other content; nothing was changed. Drop this "
             "copy, or correct it and save it as a new entry.")


def known_entry(audit: Audit, form: Mapping) -> tuple[str | None, Observation | None, str | None]:
    """For a submitted entry: (its client id or None, the observation stored for it before or None,
    a conflict message when that one was stored with other fields)."""
    client_id = client_id_of(form.get("client_id"))
    if client_id is None:
        return None, None, None
    earlier = entry_of(audit.id, client_id)
    if earlier is not None and (earlier.client_digest != fields_digest(form) or earlier.created_by_id != current_user.id):
        return client_id, earlier, conflict_text()
    return client_id, earlier, None


def store(audit: Audit, observation: Observation) -> tuple[Observation, str | None]:
    """Add and commit ``observation``; when another request stored its client id meanwhile, the
    one stored (or a conflict message when its fields differ)."""
    db.session.add(observation)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        earlier = entry_of(audit.id, observation.client_id) if observation.client_id else None
        if earlier is None:
            raise
        if earlier.client_digest != observation.client_digest or earlier.created_by_id != observation.created_by_id:
            return earlier, conflict_text()
        return earlier, None
    return observation, None


def _answer(status: int, reason: str, **extra):
    return jsonify({"status": "refused", "reason": reason, **extra}), status


def _stored(observation: Observation, status: int):
    return jsonify({"status": "stored", "client_id": observation.client_id, "id": observation.id}), status


def _logged_at(raw) -> tuple[dt.datetime | None, str | None]:
    """When the entry was made on the device (its local time); a time ahead of the server's
    clock counts as now. None when not sent."""
    if raw in (None, ""):
        return None, None
    try:
        when = dt.datetime.fromisoformat(raw) if isinstance(raw, str) and len(raw) <= 40 else None
    except ValueError:
        when = None
    if when is None:
        return None, _("The time the entry was made is not readable.")
    if when.tzinfo is not None:
        when = when.astimezone().replace(tzinfo=None)
    return min(when.replace(microsecond=0), dt.datetime.now().replace(microsecond=0)), None


def _fields(raw) -> tuple[dict | None, str | None]:
    """The entry's fields as text, or why they are not acceptable."""
    if not isinstance(raw, dict):
        return None, _("The entry has no fields.")
    fields = {}
    for name in FIELDS:
        value = raw.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int, float))):
            return None, _("The field %(name)s is not text.", name=name)
        text = _text(value)
        if len(text) > MAX_FIELD or "\x00" in text:
            return None, _("The field %(name)s is too long or holds characters that cannot be stored.", name=name)
        fields[name] = text
    return fields, None


def _body() -> tuple[dict | None, tuple | None]:
    """The JSON object sent, or the refusal (400 unreadable, 413 too large)."""
    too_large = _answer(413, _("The entry is larger than %(size)d bytes.", size=MAX_BODY))
    if request.content_length is not None and request.content_length > MAX_BODY:
        return None, too_large
    # A body without a length (chunked) is read up to one byte past the limit, so its size shows.
    request.max_content_length = MAX_BODY + 1
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        return None, too_large
    if len(raw) > MAX_BODY:
        return None, too_large
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past Python's depth
        data = None
    if not isinstance(data, dict):
        return None, _answer(400, _("The request is not an entry in JSON."))
    return data, None


@bp.route("/log/<int:audit_id>/sync", methods=["POST"])
@allow("service", "manager")
def sync(audit_id: int):
    """Store one entry kept on the device: ``{"client_id": UUID, "fields": {…}, "logged_at": ISO time}``.

    201 stored; 200 stored before with the same fields (the same answer, nothing stored again);
    JSON refusals with a reason in the user's language: 400 unreadable, 403 not assigned, 404 no
    such audit, 409 audit not open or id stored with other fields, 413 too large, 422 invalid.
    """
    audit = db.session.get(Audit, audit_id)
    if audit is None:
        return _answer(404, _("This audit does not exist (any more)."))
    if not may_log(audit):
        return _answer(403, _("You are no longer assigned to this audit; the entry cannot be stored there."))
    data, refusal = _body()
    if refusal is not None:
        return refusal
    client_id = client_id_of(data.get("client_id"))
    if client_id is None:
        return _answer(422, _("The entry's id is not a UUID."))
    fields, problem = _fields(data.get("fields"))
    if problem is None:
        logged_at, problem = _logged_at(data.get("logged_at"))
    if problem is not None:
        return _answer(422, problem)
    digest = fields_digest(fields)
    earlier = entry_of(audit.id, client_id)
    if earlier is not None:  # sent before (its answer may have been lost): answered as then
        if earlier.client_digest != digest or earlier.created_by_id != current_user.id:
            return _answer(409, conflict_text())
        return _stored(earlier, 200)
    if not audit.is_open:
        return _answer(409, _("This audit is not open for logging (status: %(status)s); nothing was saved.",
                              status=audit.status))
    checked = check_observation(audit, fields, now=logged_at)
    if not checked.ok:
        errors = {name: str(message) for name, message in checked.errors.items()}
        return _answer(422, " ".join(dict.fromkeys(errors.values())), errors=errors)
    observation = Observation(audit_id=audit.id, created_by_id=current_user.id, client_id=client_id,
                              client_digest=digest, **checked.values)
    stored, conflict = store(audit, observation)
    if conflict is not None:
        return _answer(409, conflict)
    return _stored(stored, 201 if stored is observation else 200)


@functools.lru_cache(maxsize=8)
def _version(stamps: tuple) -> str:
    """A short hash of the cached files' contents: a new one makes browsers install the worker again."""
    digest = hashlib.sha256()
    for path, _mtime, _size in stamps:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:16]


def _asset_files(htmx_version: str) -> list[str]:
    return [*ASSETS, f"vendor/htmx-{htmx_version}.min.js"]


@bp.route("/log/sw.js")
@public
def worker():
    """The service worker of the log pages (its scope is /log, allowed by a header)."""
    files = _asset_files(_htmx_version())
    template = Path(current_app.root_path) / "touchpoint_audit" / "templates" / "observations" / "offline_worker.js"
    paths = [Path(current_app.static_folder) / name for name in files] + [template]
    stamps = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths if p.exists())
    body = render_template("observations/offline_worker.js", version=_version(stamps), scope=SCOPE,
                           assets=[url_for("static", filename=name) for name in files])
    response = make_response(body)
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers["Service-Worker-Allowed"] = SCOPE
    response.headers["Cache-Control"] = "no-cache"
    return response


def _htmx_version() -> str:
    """The vendored htmx file's version (the factory's constant, read from the static folder)."""
    found = sorted((Path(current_app.static_folder) / "vendor").glob("htmx-*.min.js"))
    return found[-1].name[len("htmx-"):-len(".min.js")] if found else ""


@bp.route("/log/manifest.webmanifest")
@public
def manifest():
    """The web app manifest: the log page can be added to a phone's home screen."""
    body = {
        "name": _("Loyalty audit: log observations"),
        "short_name": _("Log"),
        "lang": lang(),
        "start_url": url_for("observations.log"),
        "scope": SCOPE,
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1f4e79",
        "icons": [{"src": url_for("static", filename="favicon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    response = make_response(json.dumps(body, ensure_ascii=False))
    response.headers["Content-Type"] = "application/manifest+json; charset=utf-8"
    return response


def offline_settings(audit: Audit) -> dict:
    """What the log page's offline script needs to know (rendered as data attributes)."""
    return {
        "audit": audit.id, "audit_title": audit.title, "user": current_user.id,
        "sync": url_for("offline_log.sync", audit_id=0), "worker": url_for("offline_log.worker"), "scope": SCOPE,
    }
