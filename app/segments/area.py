"""What the segments area adds to the app: its blueprints, CLI groups and hooks."""
from __future__ import annotations

from flask import Flask
from flask_sqlalchemy.session import Session

from app.segments import customers, views
from app.segments.cli import customers as customers_cli
from app.segments.cli import segments as segments_cli
from app.segments.series import install


def init_app(app: Flask) -> None:
    """Register the area with ``app`` (called once by the factory)."""
    app.register_blueprint(views.bp)
    app.register_blueprint(customers.bp)
    app.cli.add_command(customers_cli)
    app.cli.add_command(segments_cli)
    # ORM writes of customer values keep the per-customer series blocks in step
    install(Session)
