"""What the API area adds to the app: the API, its documentation page and the token check."""
from __future__ import annotations

from flask import Flask

from app.api import docs, views


def init_app(app: Flask) -> None:
    """Register the area with ``app`` (called once by the factory, before the access policy)."""
    app.config.setdefault("API_RATE_LIMIT", "600 per minute")
    app.config.setdefault("API_MAX_CONTENT_LENGTH", 2 * 1024 * 1024)
    # Ahead of the access policy's before_request: the policy then sees the token's user.
    app.before_request(views.authenticate)
    app.register_blueprint(views.bp)
    app.register_blueprint(docs.bp)
