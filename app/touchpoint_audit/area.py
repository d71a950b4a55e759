"""What the touchpoint_audit area adds to the app: its blueprints, CLI groups and hooks."""
from __future__ import annotations

from flask import Flask

from app.touchpoint_audit import (
    evidence,
    findings,
    observations,
    offline,
    pairs,
    schedules,
    settings,
    touchpoints,
    views,
)
from app.touchpoint_audit.cli import audits
from app.touchpoint_audit.cli import findings as findings_cli
from app.touchpoint_audit.cli import touchpoints as touchpoints_cli


def init_app(app: Flask) -> None:
    """Register the area with ``app`` (called once by the factory)."""
    app.register_blueprint(touchpoints.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(observations.bp)
    app.register_blueprint(evidence.bp)
    app.register_blueprint(offline.bp)
    app.register_blueprint(findings.bp)
    app.register_blueprint(settings.bp)
    app.register_blueprint(pairs.bp)
    app.register_blueprint(schedules.bp)
    app.cli.add_command(touchpoints_cli)
    app.cli.add_command(audits)
    app.cli.add_command(findings_cli)
