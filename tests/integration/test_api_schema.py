"""Schemathesis against the app's own OpenAPI document: for generated requests to every
operation (bounded, derandomized examples), no 5xx, and every answer matches the document:
its status code, content type and body schema."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.extensions import db
from tests.integration.audit_fixtures import build_world

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def manager_token(app, users):
    """An open audit with a finding, and a manager's token (the role that may use every operation)."""
    from app.accounts.models import ApiToken, User
    from app.touchpoint_audit.models import Finding

    world = build_world(app, users)
    with app.app_context():
        db.session.add(Finding(audit_id=world.audit_id, key="manual:s", kind="manual", source="manual", title="S"))
        _token, secret = ApiToken.issue(db.session.get(User, users["manager"].id), "schemathesis")
        db.session.commit()
        db.session.remove()
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    yield secret
    app.config["API_RATE_LIMIT"] = "600 per minute"


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=15, derandomize=True, deadline=None, database=None,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_the_api_matches_its_document(case, manager_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {manager_token}"}, checks=CHECKS)
