"""What the accounts area adds to the app: its blueprints, CLI groups and hooks."""
from __future__ import annotations

from flask import Flask

from app.accounts import admin, tokens, views
from app.accounts.cli import users
from app.accounts.models import load_user
from app.extensions import login_manager


def init_app(app: Flask) -> None:
    """Register the area with ``app`` (called once by the factory)."""
    app.register_blueprint(views.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(tokens.bp)
    app.cli.add_command(users)
    login_manager.user_loader(load_user)
