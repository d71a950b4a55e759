"""Benchmark: the observation logging form with 100,000 observations in the database.

Fills a fresh database (a temporary SQLite file, or a new PostgreSQL database when
BENCH_DATABASE_URL is set) with the catalog, 2,000 customers, one open audit and
100,000 observations, then measures round trips through the Flask test client (the
full WSGI stack: session, CSRF, access policy, queries, template rendering):

* the htmx inline validation of the value (``observations.validate``) — goal: median
  under 50 ms;
* saving one observation (``observations.create``, htmx fragment with the last entries);
* the logging page itself (``observations.log``);
* baseline: a static file through the same stack.

Prints median and 95th percentile per request, the ratio to the baseline, the time to
fill the database, and peak memory. Usage: python bench/bench_logging.py [--quick]
(BENCH_ROWS=…, BENCH_REQUESTS=… to choose sizes).
"""
from __future__ import annotations

import datetime as dt
import os
import re
import resource
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import sqlalchemy as sa  # noqa: E402


def database_url() -> tuple[str, callable]:
    """A fresh database URL and a function that drops it afterwards."""
    base = os.environ.get("BENCH_DATABASE_URL")
    if not base:
        path = Path(tempfile.mkdtemp(prefix="bench-logging-")) / "bench.sqlite"
        return f"sqlite:///{path}", lambda: path.unlink(missing_ok=True)
    base = base.replace("postgresql://", "postgresql+psycopg://", 1) if base.startswith("postgresql://") else base
    name = f"bench_logging_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop():
        """Drop the benchmark database."""
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False), drop


def fill(app, rows: int) -> tuple[int, int, int, float]:
    """Catalog, users, customers, an open audit and ``rows`` observations; returns ids and seconds."""
    from app.accounts.models import User
    from app.extensions import db
    from app.segments.models import Customer
    from app.touchpoint_audit.catalog import seed_catalog
    from app.touchpoint_audit.models import Audit, Metric, Observation

    started = time.perf_counter()
    rng = np.random.default_rng(3)
    with app.app_context():
        db.create_all()
        seed_catalog()
        service = User(username="service", role="service", password_hash="x", display_name="Service")
        db.session.add(service)
        db.session.execute(db.insert(Customer), [
            {"customer_no": f"{i:06d}", "name": f"Kunde {i} GmbH", "customer_since": dt.date(2015, 1, 1)}
            for i in range(2000)])
        metrics = db.session.scalars(db.select(Metric)).all()
        audit = Audit(title="Bench audit", status="open", metrics=list(metrics), staff=[service])
        db.session.add(audit)
        db.session.flush()
        customer_ids = list(db.session.scalars(db.select(Customer.id)))
        wait = next(m for m in metrics if m.key == "wait")
        batch = []
        for i in range(rows):
            batch.append({
                "audit_id": audit.id, "metric_id": metrics[i % len(metrics)].id, "value": float(rng.integers(0, 500)),
                "customer_status": "existing" if i % 2 else "new",
                "customer_id": customer_ids[i % len(customer_ids)] if i % 2 else None,
                "observed_at": dt.datetime(2026, 10, 1) + dt.timedelta(minutes=i), "created_by_id": service.id,
                "note": "",
            })
            if len(batch) == 10_000:
                db.session.execute(db.insert(Observation), batch)
                batch = []
        if batch:
            db.session.execute(db.insert(Observation), batch)
        db.session.commit()
        ids = (audit.id, wait.id, service.id)
        db.session.remove()
    return (*ids, time.perf_counter() - started)


def timed(fn, count: int) -> list[float]:
    """Milliseconds of ``count`` calls after two warm-up calls."""
    fn(), fn()
    out = []
    for _ in range(count):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    """Fill the database, time the requests, print the figures."""
    from app import create_app
    from config import TestConfig

    quick = "--quick" in sys.argv
    rows = int(os.environ.get("BENCH_ROWS", 10_000 if quick else 100_000))
    count = int(os.environ.get("BENCH_REQUESTS", 50 if quick else 200))
    url, drop = database_url()
    try:
        app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False)
        audit_id, metric_id, user_id, fill_seconds = fill(app, rows)
        print(f"database: {'PostgreSQL' if url.startswith('postgresql') else 'SQLite (file)'} with {rows:,} observations "
              f"(filled in {fill_seconds:.1f} s)")
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = f"{user_id}:1"
            session["_fresh"] = True
        page = client.get(f"/log?audit_id={audit_id}")
        assert page.status_code == 200, page.status_code
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(1)
        htmx = {"HX-Request": "true", "X-CSRFToken": token}

        def validate():
            """One htmx validation request."""
            response = client.post(f"/log/{audit_id}/validate", data={"metric_id": metric_id, "value": "95"},
                                   headers=htmx)
            assert response.status_code == 200

        def save():
            """Save one observation (htmx)."""
            response = client.post(f"/log/{audit_id}", headers=htmx, data={
                "metric_id": metric_id, "value": "95", "customer_q": "000007", "customer_status": ""})
            assert response.status_code == 200, response.status_code

        def log_page():
            """The logging page."""
            assert client.get(f"/log?audit_id={audit_id}").status_code == 200

        def static():
            """Baseline: a static file."""
            assert client.get("/static/app.js").status_code == 200

        results = {name: timed(fn, count) for name, fn in
                   [("baseline: static file", static), ("htmx validation", validate),
                    ("save one observation", save), ("logging page", log_page)]}
        base = statistics.median(results["baseline: static file"])
        for name, values in results.items():
            median = statistics.median(values)
            p95 = float(np.percentile(values, 95))
            goal = "   goal < 50 ms: " + ("met" if median < 50 else "MISSED") if name == "htmx validation" else ""
            print(f"{name:<24} median {median:7.2f} ms   p95 {p95:7.2f} ms   ratio to baseline "
                  f"{median / base:5.1f}×  ({len(values)} requests){goal}")
        print(f"peak memory (max RSS): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    finally:
        drop()


if __name__ == "__main__":
    main()
