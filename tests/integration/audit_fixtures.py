"""Builders for the audit tests: catalog, customers, an audit with staff, observations."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.extensions import db


@dataclass(frozen=True)
class AuditWorld:
    audit_id: int
    metric_ids: dict  # "touchpoint.metric" -> id
    customer_ids: dict  # customer_no -> id
    staff_id: int


def build_world(app, users, status: str = "open", assign_service: bool = True) -> AuditWorld:
    """Catalog, three customers (two long-standing, one since next year), an audit."""
    from app.accounts.models import User
    from app.segments.models import Customer
    from app.touchpoint_audit.catalog import seed_catalog
    from app.touchpoint_audit.models import Audit, Metric

    with app.app_context():
        seed_catalog()
        customers = [
            Customer(customer_no="004711", name="Müller Haustechnik GmbH", customer_since=dt.date(2012, 5, 1)),
            Customer(customer_no="004712", name="Schmidt Logistik KG", customer_since=dt.date(2019, 1, 1)),
            Customer(customer_no="009999", name="Neu Bäckerei e.K.", customer_since=dt.date.today() + dt.timedelta(days=30)),
        ]
        db.session.add_all(customers)
        metrics = db.session.scalars(db.select(Metric)).all()
        audit = Audit(title="Test audit", status=status, metrics=list(metrics),
                      period_start=dt.date(2026, 10, 1), period_end=dt.date(2026, 12, 31))
        if assign_service:
            audit.staff = [db.session.get(User, users["service"].id)]
        db.session.add(audit)
        db.session.commit()
        world = AuditWorld(
            audit_id=audit.id,
            metric_ids={f"{m.touchpoint.key}.{m.key}": m.id for m in metrics},
            customer_ids={c.customer_no: c.id for c in customers},
            staff_id=users["service"].id,
        )
        db.session.remove()
    return world


def add_observations(app, world: AuditWorld, rows: list[dict], created_by_id: int | None = None) -> list[int]:
    """Insert observations given as dicts with key 'metric' ("touchpoint.metric") and fields."""
    from app.touchpoint_audit.models import Observation

    ids = []
    with app.app_context():
        for row in rows:
            row = dict(row)
            metric_id = world.metric_ids[row.pop("metric")]
            obs = Observation(audit_id=world.audit_id, metric_id=metric_id, created_by_id=created_by_id, **row)
            db.session.add(obs)
            db.session.flush()
            ids.append(obs.id)
        db.session.commit()
        db.session.remove()
    return ids


def count_observations(app) -> int:
    from app.touchpoint_audit.models import Observation

    with app.app_context():
        n = db.session.scalar(db.select(db.func.count(Observation.id)))
        db.session.remove()
    return n


def problem_texts(html: str) -> list[str]:
    """The observation import's problem table as "Row r, column c: reason" lines (severity first)."""
    import html as markup
    import re

    rows = re.findall(r'<tr data-row="([^"]*)" data-column="([^"]*)" data-severity="([^"]*)">.*?<td>([^<]*)</td></tr>',
                      html, flags=re.S)
    return [f"{severity}: Row {row}, column {markup.unescape(column)}: {markup.unescape(reason)}"
            for row, column, severity, reason in rows]
