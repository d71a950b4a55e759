"""The HTTP API: bearer tokens (hashed, revocable, last used), role and record rules, the
observation batch (all or nothing, idempotent by external_id), finding edits with ETag and
If-Match, the published report, problem details, and the CLI's token command."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from app.extensions import db
from tests.integration.api_tokens import make_token
from tests.integration.audit_fixtures import build_world, count_observations

PROBLEM = "application/problem+json"


def item(external_id: str, value="12:30", **fields) -> dict:
    return {"external_id": external_id, "touchpoint": "hotline", "metric": "wait", "value": value,
            "customer_status": "existing", "customer_no": "004711", "channel": "phone", **fields}


def post_batch(client, headers, audit_id, items):
    # csrf=False: an API client has no CSRF token, and needs none
    return client.post(f"/api/v1/audits/{audit_id}/observations", json={"observations": items}, headers=headers,
                       csrf=False)


# ----------------------------------------------------------------- tokens


def test_without_a_valid_token_401_with_a_bearer_challenge(app, users, world):
    client = app.test_client()
    for headers in ({}, {"Authorization": "Bearer la_not-a-token"}, {"Authorization": "Basic dXNlcjpwdw=="}):
        response = client.get("/api/v1/audits", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.mimetype == PROBLEM
        assert response.get_json()["status"] == 401


def test_the_session_cookie_is_never_accepted(as_role, world):
    client = as_role("manager")
    assert client.get("/audits/").status_code == 200  # the session works for pages
    assert client.get("/api/v1/audits").status_code == 401


def test_only_the_hash_of_a_token_is_stored(app, users):
    from app.accounts.models import ApiToken

    secret = make_token(app, users["manager"].id)
    with app.app_context():
        stored = db.session.scalars(db.select(ApiToken)).one()
        assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in {str(getattr(stored, c.key)) for c in ApiToken.__table__.columns}


def test_revoked_expired_and_deactivated_tokens_stop_working(app, users, world):
    from app.accounts.models import ApiToken, User

    client = app.test_client()
    secrets_ = [make_token(app, users[role].id) for role in ("manager", "leadership", "admin")]
    assert all(client.get("/api/v1/audits", headers={"Authorization": f"Bearer {s}"}).status_code == 200
               for s in secrets_)
    with app.app_context():
        tokens = db.session.scalars(db.select(ApiToken).order_by(ApiToken.id)).all()
        tokens[0].revoked_at = dt.datetime(2026, 1, 1)
        tokens[1].expires_at = dt.datetime(2000, 1, 1)
        db.session.get(User, users["admin"].id).active = False
        db.session.commit()
        db.session.remove()
    assert [client.get("/api/v1/audits", headers={"Authorization": f"Bearer {s}"}).status_code
            for s in secrets_] == [401, 401, 401]


def test_the_token_page_makes_shows_once_and_revokes(app, as_role, users, world):
    from app.accounts.models import ApiToken

    client = as_role("service")
    made = client.post("/account/tokens/", data={"name": "Hotline-System", "expires_days": "90"})
    assert made.status_code == 201
    html = made.get_data(as_text=True)
    secret = html.split('<code id="new-token">')[1].split("</code>")[0]
    assert secret.startswith("la_")
    page = client.get("/account/tokens/").get_data(as_text=True)
    assert "Hotline-System" in page and secret not in page and "never" in page
    api_client = app.test_client()
    assert api_client.get("/api/v1/audits", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    with app.app_context():
        token = db.session.scalars(db.select(ApiToken)).one()
        assert token.last_used_at is not None
        assert token.expires_at.date() == (token.created_at + dt.timedelta(days=90)).date()
        token_id = token.id
        db.session.remove()
    assert "never" not in client.get("/account/tokens/").get_data(as_text=True)
    # another user cannot revoke it; its owner can
    assert as_role("manager").post(f"/account/tokens/{token_id}/revoke").status_code == 404
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 303
    assert api_client.get("/api/v1/audits", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_the_token_page_refuses_a_missing_name(as_role, users):
    response = as_role("service").post("/account/tokens/", data={"name": " ", "expires_days": "7"})
    assert response.status_code == 422


def test_cli_token_prints_the_token_as_the_last_line(app, users, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "token", "manager", "--expires-days", "30"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    response = app.test_client().get("/api/v1/audits", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert runner.invoke(args=["users", "token", "nobody"]).exit_code != 0


def test_rate_limit_per_token(app, users, world):
    client = app.test_client()
    one, other = make_token(app, users["manager"].id), make_token(app, users["manager"].id)
    app.config["API_RATE_LIMIT"] = "3 per minute"
    try:
        codes = [client.get("/api/v1/audits", headers={"Authorization": f"Bearer {one}"}).status_code
                 for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert client.get("/api/v1/audits", headers={"Authorization": f"Bearer {other}"}).status_code == 200
    finally:
        app.config["API_RATE_LIMIT"] = "600 per minute"


# ----------------------------------------------------------------- reads and roles


def test_audits_list_and_one_follow_the_record_rights(app, api, users, world):
    from app.touchpoint_audit.models import Audit

    with app.app_context():
        hidden = Audit(title="Not assigned", status="open")
        db.session.add(hidden)
        db.session.commit()
        hidden_id = hidden.id
        db.session.remove()
    client, headers = api("service")
    listed = client.get("/api/v1/audits", headers=headers).get_json()["audits"]
    assert [a["id"] for a in listed] == [world.audit_id]
    assert client.get(f"/api/v1/audits/{hidden_id}", headers=headers).status_code == 403
    client, headers = api("leadership")
    assert {a["id"] for a in client.get("/api/v1/audits", headers=headers).get_json()["audits"]} == {
        world.audit_id, hidden_id}
    assert client.get(f"/api/v1/audits/{world.audit_id}", headers=headers).get_json()["title"] == "Test audit"
    missing = client.get("/api/v1/audits/999999", headers=headers)
    assert missing.status_code == 404 and missing.mimetype == PROBLEM


def test_findings_carry_the_cli_fields(app, api, world):
    from app.touchpoint_audit.analysis import finding_records
    from app.touchpoint_audit.models import Finding

    with app.app_context():
        db.session.add(Finding(audit_id=world.audit_id, key="manual:x", kind="manual", source="manual", title="X"))
        db.session.commit()
        expected = finding_records(world.audit_id)
        db.session.remove()
    client, headers = api("leadership")
    got = client.get(f"/api/v1/audits/{world.audit_id}/findings", headers=headers).get_json()["findings"]
    assert len(got) == 1
    assert {k: got[0][k] for k in expected[0]} == expected[0]
    assert got[0]["version"] == 1
    client, headers = api("service")
    assert client.get(f"/api/v1/audits/{world.audit_id}/findings", headers=headers).status_code == 403


# ----------------------------------------------------------------- the observation batch


def test_a_batch_is_stored_whole_and_idempotently(app, api, world):
    client, headers = api("service")
    batch = [item("crm-1"), item("crm-2", value="95", customer_no=None, customer_status="new")]
    first = post_batch(client, headers, world.audit_id, batch)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["created"] == 2
    again = post_batch(client, headers, world.audit_id, batch)
    assert again.status_code == 200
    assert again.get_json()["existing"] == 2 and again.get_json()["created"] == 0
    assert [o["id"] for o in again.get_json()["observations"]] == [o["id"] for o in first.get_json()["observations"]]
    assert count_observations(app) == 2
    with app.app_context():
        from app.touchpoint_audit.models import Observation

        stored = db.session.scalars(db.select(Observation).order_by(Observation.id)).all()
        assert [(o.external_id, o.value, o.customer_status) for o in stored] == [
            ("crm-1", 750.0, "existing"), ("crm-2", 95.0, "new")]
        db.session.remove()


def test_api_observations_are_system_records_unless_the_item_says_otherwise(app, api, world):
    client, headers = api("service")
    batch = [item("tel-1"), item("tel-2", evidence_grade="beobachtet"), item("tel-3", evidence_grade="self_reported")]
    assert post_batch(client, headers, world.audit_id, batch).status_code == 201
    with app.app_context():
        from app.touchpoint_audit.models import Observation

        stored = db.session.scalars(db.select(Observation).order_by(Observation.id)).all()
        assert [(o.external_id, o.evidence_grade) for o in stored] == [
            ("tel-1", "system"), ("tel-2", "observed"), ("tel-3", "self_reported")]
        db.session.remove()
    bad = post_batch(client, headers, world.audit_id, [item("tel-4", evidence_grade="hearsay")])
    assert bad.status_code == 422 and {(e["index"], e["field"]) for e in bad.get_json()["errors"]} == {
        (0, "evidence_grade")}
    # the grade is part of the content: the same id with another grade is another observation
    assert post_batch(client, headers, world.audit_id, [item("tel-1", evidence_grade="observed")]).status_code == 409


def test_the_same_external_id_with_other_content_is_409(app, api, world):
    client, headers = api("manager")
    assert post_batch(client, headers, world.audit_id, [item("crm-1")]).status_code == 201
    response = post_batch(client, headers, world.audit_id, [item("crm-9"), item("crm-1", value="13:00")])
    assert response.status_code == 409 and response.mimetype == PROBLEM
    assert response.get_json()["errors"][0]["index"] == 1
    assert count_observations(app) == 1  # crm-9 was not stored either


def test_one_bad_item_refuses_the_whole_batch_naming_index_and_field(app, api, world):
    client, headers = api("manager")
    batch = [item("a"), item("b", value="viel"), item("c", customer_no="000000"), item("a")]
    response = post_batch(client, headers, world.audit_id, batch)
    assert response.status_code == 422 and response.mimetype == PROBLEM
    problems = {(e["index"], e["field"]) for e in response.get_json()["errors"]}
    assert {(1, "value"), (2, "customer_no"), (3, "external_id")} <= problems
    assert count_observations(app) == 0


def test_schema_errors_name_item_and_field(app, api, world):
    client, headers = api("manager")
    response = post_batch(client, headers, world.audit_id, [item("a"), {"external_id": "b", "value": 1}])
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert {(e["index"], e["field"]) for e in response.get_json()["errors"]} >= {(1, "touchpoint"), (1, "metric")}


def test_logging_rights_of_the_api(app, api, users, world):
    from app.touchpoint_audit.models import Audit, Metric

    with app.app_context():
        metrics = db.session.scalars(db.select(Metric)).all()
        unassigned, closed = Audit(title="Other", status="open", metrics=metrics), Audit(
            title="In review", status="review", metrics=metrics)
        db.session.add_all([unassigned, closed])
        db.session.commit()
        unassigned_id, closed_id = unassigned.id, closed.id
        db.session.remove()
    client, headers = api("leadership")
    assert post_batch(client, headers, world.audit_id, [item("a")]).status_code == 403
    client, headers = api("service")
    assert post_batch(client, headers, unassigned_id, [item("a")]).status_code == 403
    client, headers = api("manager")
    assert post_batch(client, headers, closed_id, [item("a")]).status_code == 409
    assert count_observations(app) == 0


def test_an_oversized_request_is_413_as_problem_details(app, api, world):
    client, headers = api("manager")
    app.config["API_MAX_CONTENT_LENGTH"] = 1000
    try:
        response = post_batch(client, headers, world.audit_id, [item(f"id-{i}") for i in range(50)])
    finally:
        app.config["API_MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    assert response.status_code == 413 and response.mimetype == PROBLEM
    assert count_observations(app) == 0


def test_no_json_body_is_a_problem_not_a_500(app, api, world):
    client, headers = api("manager")
    response = client.post(f"/api/v1/audits/{world.audit_id}/observations", data="x", headers=headers, csrf=False)
    assert response.status_code in (400, 415) and response.mimetype == PROBLEM


# ----------------------------------------------------------------- finding edits


@pytest.fixture
def finding_id(app, world):
    from app.touchpoint_audit.models import Finding

    with app.app_context():
        finding = Finding(audit_id=world.audit_id, key="manual:api", kind="manual", source="manual", title="API")
        db.session.add(finding)
        db.session.commit()
        fid = finding.id
        db.session.remove()
    return fid


def test_patch_with_if_match_428_412_and_success(app, api, users, finding_id):
    client, headers = api("manager")
    url = f"/api/v1/findings/{finding_id}"
    etag = client.get(url, headers=headers).headers["ETag"]
    assert etag == '"1"'
    change = {"status": "acknowledged", "owner_id": users["service"].id,
              "due_date": (dt.date.today() + dt.timedelta(days=7)).isoformat()}
    missing = client.patch(url, json=change, headers=headers, csrf=False)
    assert missing.status_code == 428 and missing.mimetype == PROBLEM
    done = client.patch(url, json=change, headers={**headers, "If-Match": etag}, csrf=False)
    assert done.status_code == 200, done.get_json()
    assert done.headers["ETag"] == '"2"'
    assert done.get_json()["status"] == "acknowledged" and done.get_json()["owner_id"] == users["service"].id
    stale = client.patch(url, json={"status": "resolved"}, headers={**headers, "If-Match": etag}, csrf=False)
    assert stale.status_code == 412 and stale.mimetype == PROBLEM
    with app.app_context():
        from app.touchpoint_audit.models import Finding, FindingActivity, FindingReminder

        finding = db.session.get(Finding, finding_id)
        assert (finding.status, finding.version) == ("acknowledged", 2)
        assert {a.field for a in db.session.scalars(db.select(FindingActivity))} == {"status", "owner", "due_date"}
        assert db.session.scalars(db.select(FindingReminder)).one().user_id == users["service"].id  # owner told
        db.session.remove()


def test_patch_refuses_bad_values_and_other_roles(app, api, finding_id):
    client, headers = api("manager")
    url = f"/api/v1/findings/{finding_id}"
    past = client.patch(url, json={"due_date": "2020-01-01"}, headers={**headers, "If-Match": '"1"'}, csrf=False)
    assert past.status_code == 422 and past.get_json()["errors"][0]["field"] == "due_date"
    unknown = client.patch(url, json={"status": "maybe"}, headers={**headers, "If-Match": '"1"'}, csrf=False)
    assert unknown.status_code == 422
    client, headers = api("leadership")
    assert client.patch(url, json={"status": "resolved"}, headers={**headers, "If-Match": '"1"'}, csrf=False).status_code == 403
    with app.app_context():
        from app.touchpoint_audit.models import Audit, Finding

        db.session.get(Audit, db.session.get(Finding, finding_id).audit_id).status = "published"
        db.session.commit()
        db.session.remove()
    client, headers = api("manager")
    frozen = client.patch(url, json={"status": "resolved"}, headers={**headers, "If-Match": '"1"'}, csrf=False)
    assert frozen.status_code == 409 and frozen.mimetype == PROBLEM


def test_service_staff_read_only_the_findings_they_own(app, api, users, finding_id):
    from app.touchpoint_audit.models import Finding

    client, headers = api("service")
    assert client.get(f"/api/v1/findings/{finding_id}", headers=headers).status_code == 403
    with app.app_context():
        db.session.get(Finding, finding_id).owner_id = users["service"].id
        db.session.commit()
        db.session.remove()
    assert client.get(f"/api/v1/findings/{finding_id}", headers=headers).status_code == 200


# ----------------------------------------------------------------- the published report


def test_the_published_report_with_its_sha256(app, api, users):
    from app.reports.models import ReportDocument

    world = build_world(app, users, status="published")
    pdf = b"%PDF-1.7 frozen"
    digest = hashlib.sha256(pdf).hexdigest()
    with app.app_context():
        db.session.add(ReportDocument(audit_id=world.audit_id, lang="en", kind="published", pdf=pdf, sha256=digest,
                                      size=len(pdf)))
        db.session.commit()
        db.session.remove()
    client, headers = api("leadership")
    response = client.get(f"/api/v1/audits/{world.audit_id}/report.pdf?lang=en", headers=headers)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data == pdf and response.headers["X-Content-SHA256"] == digest
    assert client.get(f"/api/v1/audits/{world.audit_id}/report.pdf?lang=de", headers=headers).status_code == 404
    assert client.get(f"/api/v1/audits/{world.audit_id}/report.pdf?lang=xx", headers=headers).status_code == 422
    client, headers = api("service")
    assert client.get(f"/api/v1/audits/{world.audit_id}/report.pdf", headers=headers).status_code == 403


def test_the_document_and_its_page(app, as_role):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    operations = {(m, p) for p, item in document["paths"].items() for m in item}
    assert ("post", "/api/v1/audits/{audit_id}/observations") in operations
    assert ("patch", "/api/v1/findings/{finding_id}") in operations
    body = document["paths"]["/api/v1/audits/{audit_id}/observations"]["post"]["requestBody"]["content"]
    reference = body["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    # the document's request schema is the model that validates the request
    from app.api.schemas import ObservationBatch

    assert document["components"]["schemas"][reference]["properties"].keys() == ObservationBatch.model_fields.keys()
    client = as_role("service")
    page = client.get("/api/").get_data(as_text=True)
    assert "/api/v1/openapi.json" in page and "/api/v1/findings/{finding_id}" in page
    assert 'href="/api/"' in client.get("/").get_data(as_text=True)  # linked from the navigation


def test_a_nul_character_is_refused_not_a_500(app, api, world):
    client, headers = api("manager")
    response = post_batch(client, headers, world.audit_id, [item("a", note="x\x00y"), item("b\x00")])
    assert response.status_code == 422
    assert {(e["index"], e["field"]) for e in response.get_json()["errors"]} == {(0, "note"), (1, "external_id")}
    assert count_observations(app) == 0
