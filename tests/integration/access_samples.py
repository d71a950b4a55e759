"""Sample records for the role × URL walk: one real value per URL parameter name.

A value may be a dict {role: value, "default": value} when each role should get
a record it may see (its own job, an audit it is assigned to).
"""
from __future__ import annotations

from app.extensions import db


def make_samples(app, users) -> dict[str, object]:
    """Create what the URL rules point at and return {parameter name: value}."""
    from app.web.models import Job

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
        # segmentation area: a customer, a run with its row, an export format, an unknown upload token
        from app.segments.models import Customer, CustomerSegment, SegmentationRun

        customer = Customer(customer_no="0001", name="Muster GmbH")
        run = SegmentationRun(window_start="2024-01", window_end="2024-12", status="done", summary={})
        db.session.add_all([customer, run])
        db.session.flush()
        db.session.add(CustomerSegment(run_id=run.id, customer_id=customer.id, abc_class="A"))
        values.update({"customer_id": customer.id, "run_id": run.id, "fmt": "csv", "token": "no-such-token"})
        values.update(_audit_samples(users, customer.id))
        db.session.commit()
        db.session.remove()
    return values


def _audit_samples(users, customer_id: int) -> dict[str, object]:
    """Audit area: an open audit the service user is assigned to, an own observation per
    role, a finding, a touchpoint and a metric."""
    from app.accounts.models import User
    from app.touchpoint_audit.catalog import seed_catalog
    from app.touchpoint_audit.models import Audit, Channel, Finding, Metric, Observation, Touchpoint

    seed_catalog()
    metric = db.session.scalars(db.select(Metric).order_by(Metric.id)).first()
    audit = Audit(title="Sample audit", status="open", metrics=[metric],
                  staff=[db.session.get(User, users["service"].id)])
    db.session.add(audit)
    db.session.flush()
    observations = {}
    for role, user in users.items():
        obs = Observation(audit_id=audit.id, metric_id=metric.id, value=10.0, customer_status="new",
                          created_by_id=user.id)
        db.session.add(obs)
        db.session.flush()
        observations[role] = obs.id
    observations["default"] = observations["manager"]
    # evidence: a photo on each role's own observation (the service user's is in its assigned audit)
    from app.touchpoint_audit.models import Evidence
    from tests.integration.evidence_samples import jpeg_bytes

    evidence = {}
    for role, user in users.items():
        photo = jpeg_bytes()
        item = Evidence(observation_id=observations[role], content_type="image/jpeg", filename="foto.jpg",
                        size=len(photo), sha256="0" * 64, width=8, height=8, data=photo, thumbnail=photo,
                        created_by_id=user.id)
        db.session.add(item)
        db.session.flush()
        evidence[role] = item.id
    evidence["default"] = evidence["manager"]
    finding = Finding(audit_id=audit.id, key="manual:sample", kind="manual", source="manual", title="Sample")
    # Service staff see only the actions they own: their sample is one.
    owned = Finding(audit_id=audit.id, key="manual:owned", kind="manual", source="manual", title="Owned",
                    owner_id=users["service"].id)
    db.session.add_all([finding, owned])
    db.session.flush()
    return {"audit_id": audit.id, "observation_id": observations,
            "finding_id": {"service": owned.id, "default": finding.id},
            "evidence_id": evidence,
            "touchpoint_id": db.session.scalar(db.select(Touchpoint.id).limit(1)), "metric_id": metric.id,
            "channel_id": db.session.scalar(db.select(Channel.id).limit(1)),
            # a comparison's page (404 for every allowed role: the sample audit has no analysis)
            "touchpoint": metric.touchpoint.key, "metric": metric.key, "segment_kind": "overall", "segment": "all"}


# Report area: the report language in download URLs.
_make_samples_before_reports = make_samples


def make_samples(app, users) -> dict[str, object]:  # noqa: F811
    """The samples above plus the report language."""
    values = _make_samples_before_reports(app, users)
    values.setdefault("lang", "de")
    return values


# API area: a personal API token per role, and a token id of the service user.
_make_samples_before_api = make_samples


def make_samples(app, users) -> dict[str, object]:  # noqa: F811
    """The samples above plus each role's API token."""
    from app.accounts.models import ApiToken, User

    values = _make_samples_before_api(app, users)
    with app.app_context():
        tokens, ids = {}, {}
        for role, user in users.items():
            _record, tokens[role] = ApiToken.issue(db.session.get(User, user.id), f"{role} sample")
            # the revoke walk gets a token of its own, so the API walk's tokens stay valid
            spare, _secret = ApiToken.issue(db.session.get(User, user.id), f"{role} spare")
            db.session.flush()
            ids[role] = spare.id
        db.session.commit()
        db.session.remove()
    values["api_tokens"] = tokens
    values["token_id"] = {**ids, "default": ids["manager"]}
    return values


# Paired test calls: a scenario of the sample audit and one own pair per role that may log.
_make_samples_before_pairs = make_samples


def make_samples(app, users) -> dict[str, object]:  # noqa: F811
    """The samples above plus a scenario and each logging role's own pair."""
    from app.touchpoint_audit.models import Audit, Observation, ObservationPair, Scenario

    values = _make_samples_before_pairs(app, users)
    with app.app_context():
        audit = db.session.get(Audit, values["audit_id"])
        metric = audit.metrics[0]
        scenario = Scenario(audit_id=audit.id, metric_id=metric.id, title="Sample scenario", script="")
        db.session.add(scenario)
        db.session.flush()
        pairs = {}
        for role in ("service", "manager", "admin"):
            sides = [Observation(audit_id=audit.id, metric_id=metric.id, value=10.0, customer_status=status,
                                 created_by_id=users[role].id) for status in ("new", "existing")]
            db.session.add_all(sides)
            db.session.flush()
            pair = ObservationPair(audit_id=audit.id, scenario_id=scenario.id, new_observation_id=sides[0].id,
                                   existing_observation_id=sides[1].id, created_by_id=users[role].id)
            db.session.add(pair)
            db.session.flush()
            pairs[role] = pair.id
        pairs["default"] = pairs["manager"]
        values.update(scenario_id=scenario.id, pair_id=pairs)
        db.session.commit()
        db.session.remove()
    return values
