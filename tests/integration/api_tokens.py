"""API tokens for the tests that call the HTTP API as a role (see the ``api`` fixture in conftest.py)."""
from __future__ import annotations

from app.extensions import db


def make_token(app, user_id: int, name: str = "erp", expires_days: int | None = None) -> str:
    """A new API token of the user; returns its secret (shown once, as the token page does)."""
    from app.accounts.models import ApiToken, User

    with app.app_context():
        _token, secret = ApiToken.issue(db.session.get(User, user_id), name, expires_days)
        db.session.commit()
        db.session.remove()
    return secret
