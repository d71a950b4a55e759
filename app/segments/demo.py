"""Demo steps of the segments area: the demo company (customers with 24 months of
revenue, cost-to-serve and potential, every trajectory planted), then segmentation runs
over it, so the app opens with results.

Two runs: one over the first year of the demo data, dated a year back, and the
current one over all of it. With two runs the comparison page has a transition
matrix to show (how many Stars became Cash-Cows) from the first start.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from app.accounts.models import User
from app.extensions import db
from app.segments.loaders import default_window
from app.segments.models import Customer, CustomerValue
from app.segments.runs import run_segmentation
from app.segments.series import refresh_customers
from segmentation.windows import period_range

# Planted value trajectories and their shares; "burr" customers are long-standing
# and barely profitable (Klette), on a stable shape.
TRAJECTORY_MIX = {"stable": 0.40, "growth": 0.14, "shrinking": 0.14, "bell": 0.10, "cyclic": 0.14, "burr": 0.08}

_PREFIX = ["Müller", "Schmidt", "Becker", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf",
           "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Werner",
           "Krause", "Lehmann", "Köhler", "Maier", "Huber", "Kaiser", "Fuchs", "Peters", "Scholz", "Möller",
           "Weiß", "Jung", "Hahn", "Vogel", "Friedrich", "Keller", "Günther", "Frank", "Berger", "Winkler", "Roth"]
_TRADE = ["Haustechnik", "Metallbau", "Logistik", "Elektro", "Bäckerei", "Autohaus", "Druckerei", "Gartenbau",
          "Maschinenbau", "Kanzlei", "Praxis", "Hotel", "Dachdeckerei", "Schreinerei", "Apotheke", "Textil",
          "Reisebüro", "Immobilien", "Software", "Sanitär"]
_FORM = ["GmbH", "GmbH & Co. KG", "KG", "e.K.", "AG", "OHG"]


@dataclass
class DemoCompany:
    """The generated frames, before they are written."""

    customers: pd.DataFrame
    values: pd.DataFrame
    planted: pd.Series  # customer_no -> planted trajectory (for checks)
    periods: list[str] = field(default_factory=list)


def demo_periods(end: dt.date | None = None, months: int = 24) -> list[str]:
    """The `months` complete months before `end` (default: today)."""
    end = end or dt.date.today()
    last = pd.Period(end, freq="M") - 1
    return [str(p) for p in pd.period_range(last - (months - 1), last, freq="M")]


def generate_company(n_customers: int = 2000, seed: int = 20261123, end: dt.date | None = None) -> DemoCompany:
    """Customers and their monthly revenue, cost-to-serve and potential."""
    rng = np.random.default_rng(seed)
    periods = demo_periods(end)
    t = np.arange(len(periods), dtype=float)
    n_t = len(periods)

    kinds = rng.choice(list(TRAJECTORY_MIX), size=n_customers, p=list(TRAJECTORY_MIX.values()))
    annual = rng.lognormal(mean=np.log(24_000), sigma=1.25, size=n_customers)
    monthly = annual / 12.0

    shape = np.ones((n_customers, n_t))
    for i, kind in enumerate(kinds):
        if kind == "growth":
            shape[i] = 0.55 + 0.95 * t / (n_t - 1)
        elif kind == "shrinking":
            shape[i] = 1.5 - 0.95 * t / (n_t - 1)
        elif kind == "bell":
            peak = rng.uniform(0.4, 0.6) * (n_t - 1)
            shape[i] = 0.35 + 1.25 * np.exp(-(((t - peak) / (n_t / 6)) ** 2))
        elif kind == "cyclic":
            phase = rng.uniform(0, 2 * np.pi)
            shape[i] = 1.0 + 0.65 * np.sin(2 * np.pi * t / 12 + phase)
    noise = rng.lognormal(mean=0.0, sigma=0.10, size=(n_customers, n_t))
    revenue = np.round(np.clip(monthly[:, None] * shape * noise, 0, None), 2)

    # Cost-to-serve as a share of revenue; some customers cost more than they bring.
    cost_share = rng.uniform(0.50, 0.82, size=n_customers)
    loss_makers = (rng.random(n_customers) < 0.07) & (kinds != "burr")
    cost_share[loss_makers] = rng.uniform(1.08, 1.6, size=loss_makers.sum())
    cost_share[kinds == "burr"] = rng.uniform(0.97, 1.03, size=(kinds == "burr").sum())
    cost = np.round(revenue * cost_share[:, None] * rng.lognormal(0, 0.03, size=(n_customers, n_t)), 2)

    # Untapped potential independent of own revenue, so all four quadrants fill; the potential is a
    # year's spend in our category, repeated on every month's row as ERP exports do
    untapped = rng.lognormal(mean=np.log(2_000), sigma=1.1, size=n_customers)
    potential = np.round(12 * (revenue.mean(axis=1) + untapped), 2)
    rating = np.clip(np.digitize(untapped, np.quantile(untapped, [0.2, 0.4, 0.6, 0.8])) + 1, 1, 5)

    today = end or dt.date.today()
    tenure_years = rng.gamma(shape=2.0, scale=4.0, size=n_customers)
    tenure_years[kinds == "burr"] = rng.uniform(9, 25, size=(kinds == "burr").sum())
    since = [today - dt.timedelta(days=int(y * 365.25)) for y in tenure_years]

    names = [
        f"{rng.choice(_PREFIX)} {rng.choice(_TRADE)} {rng.choice(_FORM)}" for _ in range(n_customers)
    ]
    numbers = [f"{i:06d}" for i in range(4711, 4711 + n_customers)]  # leading zeros on purpose
    customers = pd.DataFrame({"customer_no": numbers, "name": names, "customer_since": since})
    values = pd.DataFrame({
        "customer_no": np.repeat(numbers, n_t),
        "period": np.tile(periods, n_customers),
        "revenue": revenue.ravel(),
        "cost_to_serve": cost.ravel(),
        "potential": np.repeat(potential, n_t),
        "potential_rating": np.repeat(rating, n_t),
    })
    planted = pd.Series(kinds, index=numbers, name="planted_trajectory")
    return DemoCompany(customers=customers, values=values, planted=planted, periods=periods)


def load_company(company: DemoCompany) -> int:
    """Write customers and values with bulk inserts; returns the number of customers."""
    db.session.execute(db.insert(Customer), company.customers.to_dict("records"))
    ids = dict(db.session.execute(db.select(Customer.customer_no, Customer.id)).all())
    values = company.values.copy()
    values["customer_id"] = values.pop("customer_no").map(ids)
    values["potential_rating"] = values["potential_rating"].astype(int)
    rows = values.to_dict("records")
    for start in range(0, len(rows), 10_000):
        db.session.execute(db.insert(CustomerValue), rows[start:start + 10_000])
    refresh_customers(db.session.connection(), ids.values())  # bulk inserts bypass the flush hook
    return len(company.customers)


def step_company(ctx: dict) -> str:
    company = generate_company(n_customers=ctx.get("customers", 2000), seed=ctx.get("seed", 20261123))
    ctx["company"] = company
    n = load_company(company)
    return f"{n} customers × {len(company.periods)} months ({company.periods[0]} – {company.periods[-1]})"


def step_segmentation(ctx: dict) -> str:
    """Run the default segmentation on the demo data (inside the demo transaction)."""
    db.session.flush()
    # run by the demo's touchpoint manager, so the run history names someone
    manager = db.session.scalar(db.select(User.id).where(User.username == "manager"))
    said = []
    window = default_window()
    periods = period_range(*window) if window else []
    if len(periods) >= 18:  # a year earlier still leaves six periods for the trajectories
        earlier = run_segmentation(window_start=periods[0], window_end=periods[-13], user_id=manager,
                                   commit=False)
        earlier.created_at = earlier.created_at - dt.timedelta(days=365)
        said.append(f"run {earlier.id} ({earlier.window_start} – {earlier.window_end}, dated a year back)")
    run = run_segmentation(user_id=manager, commit=False)
    counts = run.summary["counts"]
    said.append(f"run {run.id}: {run.n_customers} customers, "
                f"{sum(1 for v in counts['trajectory'].values() if v)} trajectory types, {counts['burr']} burr")
    return "; ".join(said)
