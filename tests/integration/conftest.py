"""Fixtures many integration tests share: an audit round with its staff (``world``) and a client
calling the HTTP API as a role (``api``). A test module that needs another world defines its own
``world`` fixture, which takes precedence over this one."""
from __future__ import annotations

import pytest

from tests.integration.api_tokens import make_token
from tests.integration.audit_fixtures import build_world


@pytest.fixture
def world(app, users):
    """An open audit round with the default catalog, a few customers and its service staff."""
    return build_world(app, users)


@pytest.fixture
def api(app, users):
    """api('manager') -> (client without any session, headers with that role's token)."""

    def make(role: str):
        return app.test_client(), {"Authorization": f"Bearer {make_token(app, users[role].id)}"}

    return make
