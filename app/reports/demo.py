"""Demo data for the after-sales area and the report: outcomes with a segment-dependent
after-sales effect, and audit rounds (an earlier *published* one and the current open
one) so the round-over-round comparison shows. Also used by the tests and the benchmark."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from flask_babel import force_locale

from app.accounts.models import User
from app.aftersales.analysis import analyse, upsert_findings, window_for
from app.aftersales.models import Outcome
from app.extensions import db
from app.reports.document import LANGS, publish, render_pdf, store_document
from app.reports.models import ChainActor
from app.segments.kinds import AUDIT_KINDS
from app.segments.models import Customer
from app.touchpoint_audit.analysis import run_analysis
from app.touchpoint_audit.loaders import customer_segments, latest_segmentation_run_id
from app.touchpoint_audit.models import Audit, Metric, Observation, Touchpoint

# Repurchase probability by (sale satisfied, after-sales satisfied), and how strongly
# after-sales matters per potential segment (Stars and Cash-Cows react most).
BASE_REPURCHASE = {(True, True): 0.82, (False, True): 0.50, (True, False): 0.30, (False, False): 0.10}
AFTERSALES_WEIGHT = {"star": 1.15, "cash_cow": 1.0, "focus": 0.7, "time_waster": 0.35, None: 0.8}


def _segments_by_customer() -> pd.DataFrame:
    return customer_segments(latest_segmentation_run_id())


def generate_outcomes(customer_ids: list[int], potential: dict[int, str | None], seed: int = 7,
                      end: dt.date | None = None, share: float = 0.9) -> list[dict]:
    """Outcome rows for a share of the customers, over the last two years."""
    rng = np.random.default_rng(seed)
    end = end or dt.date.today()
    rows = []
    for cid in customer_ids:
        if rng.random() > share:
            continue
        segment = potential.get(cid)
        weight = AFTERSALES_WEIGHT.get(segment, 0.8)
        sale_score = int(np.clip(round(rng.normal(3.9, 0.9)), 1, 5))
        after_p = {"star": 0.75, "cash_cow": 0.55, "focus": 0.6, "time_waster": 0.45}.get(segment, 0.6)
        after_yes = bool(rng.random() < after_p)
        sale_ok = sale_score >= 4
        p_sat, p_dis = BASE_REPURCHASE[(sale_ok, True)], BASE_REPURCHASE[(sale_ok, False)]
        mid = (p_sat + p_dis) / 2
        half = (p_sat - p_dis) / 2 * weight
        p = float(np.clip(mid + (half if after_yes else -half), 0.02, 0.98))
        # Half the records answer after-sales as a 1–5 score, half as yes/no.
        if rng.random() < 0.5:
            after_score = int(rng.integers(4, 6)) if after_yes else int(rng.integers(1, 4))
            after = {"after_sales_score": after_score, "after_sales_yes": None}
        else:
            after = {"after_sales_score": None, "after_sales_yes": after_yes}
        rows.append({
            "customer_id": cid, "outcome_date": end - dt.timedelta(days=int(rng.integers(1, 720))),
            "sale_score": sale_score, "sale_yes": None, **after, "repurchased": bool(rng.random() < p),
            "source": "import", "fingerprint": "",
        })
    return rows


def step_aftersales(ctx: dict) -> str:
    """Demo step: after-sales outcomes for the demo customers."""
    segments = _segments_by_customer()
    potential = dict(zip(segments["customer_pk"], segments["potential"])) if len(segments) else {}
    ids = list(db.session.scalars(db.select(Customer.id).order_by(Customer.id)))
    rows = generate_outcomes(ids, potential, seed=ctx.get("seed", 20261123) % 1000)
    for start in range(0, len(rows), 5000):
        db.session.execute(db.insert(Outcome), rows[start:start + 5000])
    return f"{len(rows)} after-sales outcomes"


# ------------------------------------------------------------------ audit rounds

def _observations(audit_id: int, metrics: list[Metric], customers: pd.DataFrame, penalty: dict,
                  start: dt.date, days: int, rng: np.random.Generator, per_metric: int, user_id: int | None
                  ) -> list[dict]:
    rows = []
    products = [f"P{i}" for i in range(1, 5)]
    level = {p: float(rng.uniform(80, 900)) for p in products}
    for metric in metrics:
        n_new = per_metric // 3
        n_existing = per_metric - n_new
        picks = customers.sample(n=n_existing, replace=True, random_state=int(rng.integers(1 << 30)))
        for status, count, chosen in (("new", n_new, None), ("existing", n_existing, picks)):
            for i in range(count):
                worse = 0.0
                customer_id = None
                if chosen is not None:
                    c = chosen.iloc[i]
                    customer_id = int(c["customer_pk"])
                    worse = penalty.get("base", 0.0) + sum(
                        penalty.get((kind, c[kind]), 0.0) for kind in AUDIT_KINDS)
                product = products[int(rng.integers(len(products)))] if metric.needs_product_key or metric.is_price \
                    else None
                unit = metric.unit
                if metric.is_price:
                    value = level[product] * rng.lognormal(0, 0.08) * (1 + worse)
                elif unit == "seconds":
                    value = rng.exponential(150) * (1 + 2 * worse)
                elif unit == "hours":
                    value = rng.exponential(10) * (1 + 2 * worse)
                elif unit == "rating":
                    value = float(np.clip(round(rng.normal(4.0, 0.8) - 3 * worse), 1, 5))
                elif unit == "boolean":
                    value = float(rng.random() < 0.85 * (1 - worse))
                elif unit == "percent":
                    value = float(np.clip(rng.gamma(4, 2.5) * (1 - 2 * worse), 0, 100))
                else:
                    value = rng.gamma(5, 10) * (1 - worse)
                observed = dt.datetime.combine(start, dt.time(9)) + dt.timedelta(
                    days=int(rng.integers(0, days)), minutes=int(rng.integers(0, 480)))
                rows.append({
                    "audit_id": audit_id, "metric_id": metric.id, "value": round(float(value), 2),
                    "customer_status": status, "customer_id": customer_id, "product_key": product,
                    "channel": ["online", "branch", "phone"][int(rng.integers(3))], "observed_at": observed,
                    "created_by_id": user_id, "note": "",
                })
    return rows


def build_round(title: str, start: dt.date, end: dt.date, penalty: dict, seed: int, per_metric: int = 90,
                owner_id: int | None = None, status: str = "open", metrics: list | None = None):
    """An audit over every catalog metric with observations (existing customers worse by
    ``penalty``: {"base": share, (kind, value): share}) and its analysis run."""

    rng = np.random.default_rng(seed)
    metrics = metrics or list(db.session.scalars(
        db.select(Metric).join(Touchpoint).where(Touchpoint.active.is_(True)).order_by(Touchpoint.position,
                                                                                         Metric.position)))
    audit = Audit(title=title, period_start=start, period_end=end, owner_id=owner_id, status="open",
                  description="", scope_segments=[], scope_products=[])
    audit.metrics = metrics
    db.session.add(audit)
    db.session.flush()
    customers = _segments_by_customer()
    if customers.empty:
        customers = pd.DataFrame({"customer_pk": list(db.session.scalars(db.select(Customer.id))),
                                  **{kind: None for kind in AUDIT_KINDS}})
    rows = _observations(audit.id, metrics, customers, penalty, start, max(1, (end - start).days), rng,
                         per_metric, owner_id)

    for first in range(0, len(rows), 5000):
        db.session.execute(db.insert(Observation), rows[first:first + 5000])
    run_analysis(audit, owner_id)
    audit.status = status
    return audit


def describe_chain(audit_id: int) -> None:
    """A plausible problem-solving chain for the demo audit."""
    chain = [
        ("supplier", "Großhandel Nord GmbH", "≈ 400 Mitarbeitende", "hoch", "Marktführer in der Region", "3",
         "Rahmenvertrag seit 2016", "Liefertreue, Preisstabilität", True, True),
        ("us", "Demo Versorgung GmbH", "120 Mitarbeitende", "–", "Nr. 2 im Markt", "1", "–",
         "Service, Reaktionszeit, faire Bestandskundenpreise", True, True),
        ("customer", "Handwerksbetriebe (B2B)", "5–50 Mitarbeitende", "hoch", "stark fragmentiert", "≈ 2.000",
         "langjährig, teils über 10 Jahre", "Verfügbarkeit, Beratung vor Ort", True, True),
        ("customers_customer", "Private Bauherren", "Haushalte", "mittel", "preisbewusst", "≈ 40.000",
         "indirekt über unsere Kunden", "Termintreue, Qualität", False, False),
    ]
    for role, name, size, importance, position, count, relationship, factors, known, direct in chain:
        db.session.add(ChainActor(audit_id=audit_id, role=role, name=name, size=size, importance=importance,
                                  competitive_position=position, count=count, relationship=relationship,
                                  success_factors=factors, known_person=known, direct_contact=direct))


def _record_aftersales_gaps(audit) -> dict:
    """The after-sales gaps of the audit's window as findings (kind 'aftersales')."""
    with force_locale("de"):
        start, end = window_for(audit)
        return upsert_findings(audit, analyse(start=start, end=end, lang="de"))


def step_report_rounds(ctx: dict) -> str:
    """Demo step: an earlier published round and (if the audits demo made none) a current open round on
    the same scope, so the report shows the trend; the earlier round's PDFs are frozen."""

    manager = db.session.scalar(db.select(User).where(User.role == "manager").order_by(User.id).limit(1))
    manager_id = manager.id if manager else None
    today = dt.date.today()
    current = db.session.scalar(db.select(Audit).where(Audit.status != "published").order_by(Audit.id.desc()))
    if current is None:
        current = build_round(
            "Touchpoint-Audit " + str(today.year), today - dt.timedelta(days=120), today - dt.timedelta(days=1),
            {"base": 0.02, ("abc", "A"): 0.02, ("potential", "cash_cow"): 0.10, ("tier", "B"): 0.04},
            seed=ctx.get("seed", 20261123) + 2, owner_id=manager_id)
    earlier_end = (current.period_start or today) - dt.timedelta(days=1)
    earlier = build_round(
        "Touchpoint-Audit " + str(earlier_end.year - (1 if earlier_end.month < 7 else 0)) + " (Vorrunde)",
        earlier_end - dt.timedelta(days=180), earlier_end,
        # The earlier round treated Cash-Cows markedly worse everywhere: the current
        # round shows where that gap has since shrunk (and where it has not).
        {"base": 0.06, ("abc", "A"): 0.03, ("potential", "cash_cow"): 0.35, ("tier", "B"): 0.08},
        seed=ctx.get("seed", 20261123) + 1, owner_id=manager_id, metrics=list(current.metrics), per_metric=240)
    earlier.scope_segments = list(current.scope_segments or [])
    earlier.scope_products = list(current.scope_products or [])
    earlier.created_at = dt.datetime.combine(earlier_end, dt.time(8))
    describe_chain(earlier.id)
    _record_aftersales_gaps(earlier)
    _record_aftersales_gaps(current)
    if not db.session.scalar(db.select(ChainActor.id).where(ChainActor.audit_id == current.id)):
        describe_chain(current.id)
    db.session.flush()
    documents = publish(earlier, manager_id)
    drafts = 0
    if ctx.get("report_drafts", True):

        for lang in LANGS:
            pdf, pages = render_pdf(current, lang, manager)
            store_document(current, lang, pdf, pages, "draft", manager_id)
            drafts += 1
    return (f"earlier round #{earlier.id} published ({', '.join(d.lang + ' ' + d.sha256[:12] for d in documents)}),"
            f" current round #{current.id} with {drafts} draft PDFs")
