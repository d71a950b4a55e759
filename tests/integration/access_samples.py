"""Sample records for the role × URL walk: one real value per URL parameter name.

A value may be a dict {role: value, "default": value} when each role should get
a record it may see (its own job, an audit it is assigned to).
"""
from __future__ import annotations

from app.extensions import db


def make_samples(app, users) -> dict[str, object]:
    """Create what the URL rules point at and return {parameter name: value}."""
    from app.models import Job

    values: dict[str, object] = {"user_id": users["service"].id, "filename": "css/app.css"}
    with app.app_context():
        jobs = {}
        for role, user in users.items():
            record = Job(kind="sample", status="running", created_by_id=user.id)
            db.session.add(record)
            db.session.flush()
            jobs[role] = record.id
        jobs["default"] = jobs["manager"]
        values["job_id"] = jobs
        db.session.commit()
        db.session.remove()
    return values
