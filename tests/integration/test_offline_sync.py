"""Offline logging: the sync endpoint stores each device id once (a replay is answered as the
first time, the same id with other content is a conflict), refuses with a reason in JSON
(closed audit, not assigned, invalid value) and never answers 500 to a malformed request; the
log form stores its own id too; the service worker and the manifest are served."""
from __future__ import annotations

import json
import uuid

import pytest

from tests.integration.audit_fixtures import build_world, count_observations


def _fields(world, **overrides):
    fields = {"metric_id": str(world.metric_ids["hotline.wait"]), "value": "95", "customer_q": "", "customer_id": "",
              "customer_status": "", "product_key": "", "channel": "", "observed_on": "", "note": ""}
    fields.update(overrides)
    return fields


def _sync(client, audit_id, body, **kwargs):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(f"/log/{audit_id}/sync", data=data, content_type="application/json", **kwargs)


def _stored(app, client_id=None):
    from app.extensions import db
    from app.touchpoint_audit.models import Observation

    with app.app_context():
        query = db.select(Observation)
        if client_id:
            query = query.where(Observation.client_id == client_id)
        rows = [(o.value, o.customer_status, o.client_id, o.observed_at, o.created_by_id)
                for o in db.session.scalars(query)]
        db.session.remove()
    return rows


def test_an_entry_is_stored_with_its_device_id_and_time(app, as_role, world):
    client_id = str(uuid.uuid4())
    response = _sync(as_role("service"), world.audit_id,
                     {"client_id": client_id, "fields": _fields(world), "logged_at": "2026-11-02T09:15:00"})
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "stored" and body["client_id"] == client_id and body["id"] > 0
    [(value, status, stored_id, observed_at, author)] = _stored(app)
    # an empty customer with the default status is an unknown prospect, logged when it was made offline
    assert (value, status, stored_id, author) == (95.0, "new", client_id, world.staff_id)
    assert observed_at.isoformat() == "2026-11-02T09:15:00"


def test_a_replayed_id_stores_once_and_answers_as_the_first_time(app, as_role, world):
    client = as_role("service")
    entry = {"client_id": str(uuid.uuid4()), "fields": _fields(world), "logged_at": "2026-11-02T09:15:00"}
    first = _sync(client, world.audit_id, entry)
    again = _sync(client, world.audit_id, entry)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json() == first.get_json()
    assert count_observations(app) == 1


def test_the_id_in_another_spelling_is_the_same_entry(app, as_role, world):
    client = as_role("service")
    client_id = str(uuid.uuid4())
    assert _sync(client, world.audit_id, {"client_id": client_id, "fields": _fields(world)}).status_code == 201
    assert _sync(client, world.audit_id, {"client_id": client_id.upper(), "fields": _fields(world)}).status_code == 200
    assert count_observations(app) == 1


def test_the_same_id_with_other_content_is_a_conflict(app, as_role, world):
    client = as_role("service")
    client_id = str(uuid.uuid4())
    assert _sync(client, world.audit_id, {"client_id": client_id, "fields": _fields(world)}).status_code == 201
    response = _sync(client, world.audit_id, {"client_id": client_id, "fields": _fields(world, value="96")})
    assert response.status_code == 409
    assert "other content" in response.get_json()["reason"]
    assert [row[0] for row in _stored(app)] == [95.0]


def test_another_users_id_is_a_conflict_and_tells_nothing_of_the_entry(app, as_role, world, users):
    client_id = str(uuid.uuid4())
    assert _sync(as_role("service"), world.audit_id, {"client_id": client_id, "fields": _fields(world)}).status_code == 201
    response = _sync(as_role("manager"), world.audit_id, {"client_id": client_id, "fields": _fields(world)})
    assert response.status_code == 409 and "id" not in response.get_json()
    assert count_observations(app) == 1


def test_a_closed_audit_refuses_with_its_reason(app, as_role, users):
    world = build_world(app, users, status="review")
    response = _sync(as_role("service"), world.audit_id, {"client_id": str(uuid.uuid4()), "fields": _fields(world)})
    assert response.status_code == 409
    assert "not open for logging" in response.get_json()["reason"]
    assert count_observations(app) == 0


def test_an_entry_stored_before_the_audit_closed_is_still_answered_as_stored(app, as_role, world):
    from app.extensions import db
    from app.touchpoint_audit.models import Audit

    client = as_role("service")
    entry = {"client_id": str(uuid.uuid4()), "fields": _fields(world)}
    first = _sync(client, world.audit_id, entry)
    with app.app_context():
        db.session.get(Audit, world.audit_id).status = "review"
        db.session.commit()
        db.session.remove()
    again = _sync(client, world.audit_id, entry)
    assert (again.status_code, again.get_json()) == (200, first.get_json())


def test_not_on_the_staff_is_403_with_a_reason(app, as_role, users):
    world = build_world(app, users, assign_service=False)
    response = _sync(as_role("service"), world.audit_id, {"client_id": str(uuid.uuid4()), "fields": _fields(world)})
    assert response.status_code == 403
    assert "no longer assigned" in response.get_json()["reason"]
    assert count_observations(app) == 0


def test_leadership_may_not_sync(as_role, world):
    response = _sync(as_role("leadership"), world.audit_id, {"client_id": str(uuid.uuid4()), "fields": _fields(world)})
    assert response.status_code == 403


def test_an_unknown_audit_is_404_in_json(as_role, world):
    response = _sync(as_role("service"), world.audit_id + 1000, {"client_id": str(uuid.uuid4()), "fields": _fields(world)})
    assert response.status_code == 404 and response.get_json()["reason"]


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"value": "9999999"}, "value", "at most"),
    ({"value": "abc"}, "value", "is not a number"),
    ({"value": ""}, "value", "Enter a value"),
    ({"metric_id": "999999"}, "metric_id", "Choose a touchpoint"),
    ({"metric_id": "99999999999999999999"}, "metric_id", "Choose a touchpoint"),
    ({"customer_q": "no-such-customer"}, "customer", "There is no customer"),
    ({"observed_on": "2999-01-01"}, "observed_on", "future"),
    ({"observed_on": "yesterday"}, "observed_on", "YYYY-MM-DD"),
    ({"product_key": "x" * 65}, "product_key", "too long"),
])
def test_an_invalid_entry_is_422_with_the_reason_per_field(app, as_role, world, fields, field, words):
    response = _sync(as_role("service"), world.audit_id, {"client_id": str(uuid.uuid4()), "fields": _fields(world, **fields)})
    assert response.status_code == 422
    body = response.get_json()
    assert words in body["errors"][field] and words in body["reason"]
    assert count_observations(app) == 0


@pytest.mark.parametrize("body", [
    "{not json", "", "[1, 2]", '"text"', "null", b"\xff\xfe{", "1e999999", "[" * 5000 + "]" * 5000,
    '{"client_id": "' + "x" * 100,
])
def test_malformed_json_is_400(app, as_role, world, body):
    response = _sync(as_role("service"), world.audit_id, body)
    assert response.status_code == 400 and response.get_json()["reason"]
    assert count_observations(app) == 0


@pytest.mark.parametrize("client_id", ["", "not-a-uuid", "123", None, 42, ["x"], "{" + str(uuid.UUID(int=1)) + "}",
                                       str(uuid.UUID(int=1)).replace("-", ""), "g" * 8 + str(uuid.UUID(int=1))[8:]])
def test_a_bad_uuid_is_422(app, as_role, world, client_id):
    response = _sync(as_role("service"), world.audit_id, {"client_id": client_id, "fields": _fields(world)})
    assert response.status_code == 422 and "UUID" in response.get_json()["reason"]
    assert count_observations(app) == 0


@pytest.mark.parametrize("entry", [
    {"fields": "text"}, {"fields": None}, {"fields": [1]},
    {"fields": {"value": {"nested": 1}}}, {"fields": {"value": [95]}}, {"fields": {"value": True}},
    {"fields": {"note": "a\x00b", "value": "95"}}, {"fields": {"value": "9" * 5000}},
    {"logged_at": "yesterday"}, {"logged_at": 12}, {"logged_at": "2026-13-45T99:00"},
])
def test_malformed_fields_or_time_are_422(app, as_role, world, entry):
    body = {"client_id": str(uuid.uuid4()), "fields": _fields(world)} | entry
    response = _sync(as_role("service"), world.audit_id, body)
    assert response.status_code == 422 and response.get_json()["reason"]
    assert count_observations(app) == 0


def test_an_oversized_body_is_413(app, as_role, world):
    body = {"client_id": str(uuid.uuid4()), "fields": _fields(world, note="x" * 20_000)}
    response = _sync(as_role("service"), world.audit_id, body)
    assert response.status_code == 413 and response.get_json()["reason"]
    assert count_observations(app) == 0


def test_an_oversized_body_without_a_length_is_413(app, as_role, world):
    body = json.dumps({"client_id": str(uuid.uuid4()), "fields": _fields(world, note="x" * 20_000)}).encode()
    client = as_role("service")
    # a server that decodes a chunked body says so with wsgi.input_terminated; no Content-Length
    response = client.post(f"/log/{world.audit_id}/sync", data=body, content_type="application/json",
                           headers={"Transfer-Encoding": "chunked"}, environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413
    assert count_observations(app) == 0


def test_a_time_ahead_of_the_server_counts_as_now(app, as_role, world):
    import datetime as dt

    response = _sync(as_role("service"), world.audit_id,
                     {"client_id": str(uuid.uuid4()), "fields": _fields(world), "logged_at": "2999-01-01T00:00:00"})
    assert response.status_code == 201
    [(_value, _status, _id, observed_at, _author)] = _stored(app)
    assert observed_at <= dt.datetime.now()


def test_without_the_csrf_token_nothing_is_stored(app, as_role, world):
    client = as_role("service")
    response = client.post(f"/log/{world.audit_id}/sync", csrf=False, content_type="application/json",
                           data=json.dumps({"client_id": str(uuid.uuid4()), "fields": _fields(world)}))
    assert response.status_code == 400
    assert count_observations(app) == 0


def test_signed_out_the_sync_is_sent_to_the_login(client, world):
    response = client.post(f"/log/{world.audit_id}/sync", content_type="application/json", data="{}")
    assert response.status_code in (302, 401) and "/login" in response.headers["Location"]


# ---------------------------------------------------------------- the log form carries an id too


def _form(world, **overrides):
    return _fields(world, **overrides)


def test_the_form_stores_its_id_and_a_resent_form_stores_once(app, as_role, world):
    client = as_role("service")
    client_id = str(uuid.uuid4())
    first = client.post(f"/log/{world.audit_id}", data=_form(world, client_id=client_id), headers={"HX-Request": "true"})
    again = client.post(f"/log/{world.audit_id}", data=_form(world, client_id=client_id), headers={"HX-Request": "true"})
    assert first.status_code == 200 and again.status_code == 200
    assert "Saved:" in again.get_data(as_text=True)
    assert [row[2] for row in _stored(app)] == [client_id]


def test_a_form_entry_whose_answer_was_lost_is_not_stored_again_by_the_sync(app, as_role, world):
    """The page keeps an entry whose form request failed under the id the form carried."""
    client = as_role("service")
    client_id = str(uuid.uuid4())
    client.post(f"/log/{world.audit_id}", data=_form(world, client_id=client_id), headers={"HX-Request": "true"})
    response = _sync(client, world.audit_id, {"client_id": client_id, "fields": _fields(world),
                                              "logged_at": "2026-11-02T09:15:00"})
    assert response.status_code == 200 and response.get_json()["client_id"] == client_id
    assert count_observations(app) == 1


def test_the_form_with_a_used_id_and_other_content_is_refused(app, as_role, world):
    client = as_role("service")
    client_id = str(uuid.uuid4())
    client.post(f"/log/{world.audit_id}", data=_form(world, client_id=client_id), headers={"HX-Request": "true"})
    response = client.post(f"/log/{world.audit_id}", data=_form(world, client_id=client_id, value="120"),
                           headers={"HX-Request": "true"})
    assert response.status_code == 409
    assert [row[0] for row in _stored(app)] == [95.0]


def test_the_form_without_or_with_a_malformed_id_stores_as_before(app, as_role, world):
    client = as_role("service")
    for extra in ({}, {"client_id": ""}, {"client_id": "nonsense"}):
        response = client.post(f"/log/{world.audit_id}", data=_form(world, **extra), headers={"HX-Request": "true"})
        assert response.status_code == 200
    assert [row[2] for row in _stored(app)] == [None, None, None]


def test_the_log_page_carries_the_offline_settings_and_the_manifest(as_role, world):
    html = as_role("service").get(f"/log?audit_id={world.audit_id}").get_data(as_text=True)
    assert 'id="offline-log"' in html and f'data-audit="{world.audit_id}"' in html
    assert 'rel="manifest"' in html and 'name="client_id"' in html
    assert "log-offline.js" in html


def test_the_offline_texts_are_german_on_a_german_page(app, as_role, world):
    client = as_role("service")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    html = client.get(f"/log?audit_id={world.audit_id}").get_data(as_text=True)
    assert "Keine Verbindung" in html and "Auf diesem Gerät" in html


# ---------------------------------------------------------------- the worker and the manifest


def test_the_service_worker_is_served_for_the_log_scope(client):
    response = client.get("/log/sw.js")
    assert response.status_code == 200
    assert response.headers["Service-Worker-Allowed"] == "/log"
    assert response.mimetype == "text/javascript"
    text = response.get_data(as_text=True)
    assert '"/static/log-offline.js"' in text and '"/static/css/app.css"' in text and "htmx-" in text
    # the version is a hash of the cached files: the same on every request (and every server)
    assert client.get("/log/sw.js").get_data(as_text=True) == text


def test_the_manifest_names_the_log_page(client):
    response = client.get("/log/manifest.webmanifest")
    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    body = json.loads(response.get_data(as_text=True))
    assert body["start_url"] == "/log" and body["scope"] == "/log" and body["icons"]
