"""What a round still needs: each staff member's quota of observations and pairs in a
scheduled round, and the comparisons that fall short of the minimum n before the analysis."""
from __future__ import annotations

from app.extensions import db
from app.touchpoint_audit.models import Audit, Observation, ObservationPair, Scenario, ScheduledRound


def _paired_ids():
    return db.union(db.select(ObservationPair.new_observation_id),
                    db.select(ObservationPair.existing_observation_id))


def due_for(audit: Audit, user_id: int) -> dict | None:
    """The user's quota in a scheduled round and what is still due: {observations, pairs} each
    with quota, done and due (observations count those outside pairs); None when the round has
    no quota or the user is not on its staff."""
    quota = db.session.scalar(db.select(ScheduledRound).where(ScheduledRound.audit_id == audit.id))
    if quota is None or not (quota.quota_observations or quota.quota_pairs) or not audit.has_staff(user_id):
        return None
    observations = db.session.scalar(db.select(db.func.count()).where(
        Observation.audit_id == audit.id, Observation.created_by_id == user_id,
        Observation.id.not_in(_paired_ids())))
    pairs = db.session.scalar(db.select(db.func.count(ObservationPair.id)).where(
        ObservationPair.audit_id == audit.id, ObservationPair.created_by_id == user_id))
    out = {}
    for name, target, done in (("observations", quota.quota_observations, observations),
                               ("pairs", quota.quota_pairs, pairs)):
        if target:
            out[name] = {"quota": target, "done": done, "due": max(target - done, 0)}
    return out


def due_rounds(user_id: int) -> list[tuple[Audit, dict]]:
    """The open scheduled rounds in which the user still has something due."""
    audits = db.session.scalars(db.select(Audit).join(ScheduledRound, ScheduledRound.audit_id == Audit.id)
                                .where(Audit.status == "open").order_by(Audit.id.desc())).all()
    out = []
    for audit in audits:
        due = due_for(audit, user_id)
        if due and any(part["due"] for part in due.values()):
            out.append((audit, due))
    return out


def shortfall(audit: Audit, min_n: int) -> list[dict]:
    """The comparisons of the round that fall short of ``min_n`` before it is analysed: per metric
    in scope, customers of each group (one per customer id, each anonymous observation its own);
    per scenario metric, the pairs. Only what falls short is listed."""
    known = db.session.execute(
        db.select(Observation.metric_id, Observation.customer_status,
                  db.func.count(db.distinct(Observation.customer_id)),
                  db.func.count() - db.func.count(Observation.customer_id))
        .where(Observation.audit_id == audit.id).group_by(Observation.metric_id, Observation.customer_status)
    ).all()
    groups: dict[int, dict[str, int]] = {}
    for metric_id, status, customers, anonymous in known:
        groups.setdefault(metric_id, {})[status] = customers + anonymous
    out = []
    for metric in audit.metrics:
        counts = groups.get(metric.id, {})
        new, existing = counts.get("new", 0), counts.get("existing", 0)
        if min(new, existing) < min_n:
            out.append({"kind": "groups", "metric": metric, "new": new, "existing": existing, "min_n": min_n})
    pairs = dict(db.session.execute(
        db.select(Scenario.metric_id, db.func.count(ObservationPair.id))
        .join(ObservationPair, ObservationPair.scenario_id == Scenario.id)
        .where(ObservationPair.audit_id == audit.id).group_by(Scenario.metric_id)).all())
    scenario_metrics = db.session.scalars(db.select(Scenario.metric_id).where(
        Scenario.audit_id == audit.id).distinct()).all()
    by_id = {m.id: m for m in audit.metrics}
    for metric_id in sorted(scenario_metrics):
        if pairs.get(metric_id, 0) < min_n and metric_id in by_id:
            out.append({"kind": "pairs", "metric": by_id[metric_id], "pairs": pairs.get(metric_id, 0),
                        "min_n": min_n})
    return out
