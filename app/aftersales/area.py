"""What the aftersales area adds to the app: its blueprints, CLI groups and hooks."""
from __future__ import annotations

from flask import Flask

from app.aftersales import views
from app.aftersales.cli import aftersales


def init_app(app: Flask) -> None:
    """Register the area with ``app`` (called once by the factory)."""
    app.register_blueprint(views.bp)
    app.cli.add_command(aftersales)
