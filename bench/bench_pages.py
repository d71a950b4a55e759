"""Benchmark: the main pages and htmx requests at BENCH_CUSTOMERS customers (default 1,000,000).

Creates a temporary PostgreSQL database (on BENCH_DATABASE_URL's server, default the local
one at 127.0.0.1:5432 as user postgres) and fills it in bulk, inside the database:

* customers 1 … N with 24 months of values each (the same generated figures as
  bench/bench_segmentation.py) and their search keys, then the series blocks rebuilt from them as the
  migration does (``rebuild_all``);
* one segmentation run over the 24 months (``run_segmentation``, as the page does);
* the default touchpoint catalog, one open audit round with 200,000 observations
  (two of three from existing customers, spread over every metric) and its analysis;
* after-sales outcomes for about 0.2 % of the customers (scores 1–5, repurchase yes/no).

Then it times every main page and htmx request as a signed-in manager through the Flask
test client: each one once to warm up, then five times; it prints the median and p95
(of five: the slowest) of the whole response and the median time to its first bytes, beside a
static file as the floor. The database is dropped at the end.

Usage: BENCH_CUSTOMERS=100000 python bench/bench_pages.py

BENCH_SKIP_EXPORT=1 leaves the run's CSV export out. BENCH_KEEP_DATABASE=name fills a database of that name once and keeps it: a later run with the
same name skips the fill (which takes about half an hour at a million customers on two cores)
and only brings the schema up to date (new tables and indexes) before timing.
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")  # as app/__init__.py sets it, before numpy loads

import pandas as pd  # noqa: E402
import psycopg  # noqa: E402

PERIODS = 24
OBSERVATIONS = 200_000
REPEATS = 5


def fill(db, customers: int, periods: list[str]) -> None:
    """Customers, values, series blocks, a run, observations, an analysis and outcomes."""
    from bench.bench_segmentation import fill as fill_values

    fill_values(db, customers, periods)  # customers and customer_values, then VACUUM ANALYZE
    # the search key the app folds from number and name ("00000012 kunde 12"; the names are plain ASCII)
    db.session.connection().exec_driver_sql("UPDATE customers SET search_key = customer_no || ' ' || lower(name)")
    db.session.commit()
    from app.segments.runs import run_segmentation
    from app.segments.series import rebuild_all

    rebuild_all(db.session.connection())
    db.session.commit()
    run_segmentation(periods[0], periods[-1])
    from app.touchpoint_audit.catalog import seed_catalog
    from app.touchpoint_audit.models import Audit

    seed_catalog()
    audit = Audit(title="Bench 2026/Q4", status="open", scope_segments=[], scope_products=[])
    db.session.add(audit)
    db.session.flush()
    conn = db.session.connection()
    conn.exec_driver_sql(
        "INSERT INTO observations (audit_id, metric_id, value, customer_status, customer_id, observed_at, note, "
        "created_at) SELECT %(audit)s, m.ids[1 + mod(g, array_length(m.ids, 1))], "
        "round((50 + mod(g * 37, 100) + (mod(g, 3) > 0)::int * 5 + random() * 10)::numeric, 2), "
        "CASE WHEN mod(g, 3) > 0 THEN 'existing' ELSE 'new' END, "
        "CASE WHEN mod(g, 3) > 0 THEN 1 + mod(g * 7919, %(customers)s) END, now(), '', now() "
        "FROM generate_series(1, %(n)s) g, (SELECT array_agg(id ORDER BY id) ids FROM metrics) m",
        {"audit": audit.id, "customers": customers, "n": OBSERVATIONS},
    )
    conn.exec_driver_sql(
        "INSERT INTO aftersales_outcomes (customer_id, outcome_date, sale_score, after_sales_score, repurchased, "
        "source, fingerprint, created_at) SELECT c, DATE '2026-01-01' + mod(c, 300), 1 + mod(c * 13, 5), "
        "1 + mod(c * 17, 5), mod(c * 7, 10) < 6 - (mod(c * 17, 5) < 3)::int * 2, 'import', '', now() "
        "FROM generate_series(1, %(customers)s, 500) c",
        {"customers": customers},
    )
    from app.touchpoint_audit.analysis import run_analysis

    run_analysis(audit)
    db.session.commit()


def bring_up_to_date(db) -> None:
    """A kept database filled by an older version: the indexes the models have now (an index whose
    columns changed is made again) and the search's trigram index."""
    import sqlalchemy as sa

    from app.segments.search import POSTGRESQL_SEARCH_DDL

    with db.engine.begin() as conn:
        inspector = sa.inspect(conn)
        for table in db.metadata.sorted_tables:
            present = {index["name"]: index["column_names"] for index in inspector.get_indexes(table.name)}
            for index in table.indexes:
                columns = [column.name for column in index.columns]
                if index.name in present and present[index.name] != columns:
                    conn.exec_driver_sql(f"DROP INDEX {index.name}")
                    present.pop(index.name)
                if index.name not in present:
                    index.create(conn)
        for statement in POSTGRESQL_SEARCH_DDL:
            conn.exec_driver_sql(statement)
        # the kept customer count and the runs' class combinations (as migration g20b01c0ffee makes them)
        from app.segments import counts

        present = conn.exec_driver_sql("SELECT to_regclass('customer_count')").scalar()
        if present is None or conn.exec_driver_sql("SELECT count(*) FROM pg_trigger WHERE tgname LIKE "
                                                   "'customer_count_%%'").scalar() < 3:
            counts.install(conn)
        columns = ", ".join(counts.COMBINATION_COLUMNS)
        for run_id, summary in conn.exec_driver_sql("SELECT id, summary FROM segmentation_runs").all():
            if "combinations" not in (summary or {}):
                rows = conn.exec_driver_sql(f"SELECT {columns}, count(*) FROM customer_segments WHERE run_id = "
                                            f"%(run)s GROUP BY {columns}", {"run": run_id}).all()
                summary = {**(summary or {}), "combinations": [list(row) for row in rows]}
                conn.execute(sa.text("UPDATE segmentation_runs SET summary = :summary WHERE id = :id").bindparams(
                    sa.bindparam("summary", type_=sa.JSON)), {"summary": summary, "id": run_id})


def requests_to_time(db) -> list[tuple[str, str, dict]]:
    """(name, url, headers) of the pages and htmx requests a manager uses."""
    from app.segments.models import SegmentationRun
    from app.touchpoint_audit.models import Audit

    run_id = db.session.scalar(db.select(db.func.max(SegmentationRun.id)))
    first_run = db.session.scalar(db.select(db.func.min(SegmentationRun.id)))  # a second run: the compare page
    audit_id = db.session.scalar(db.select(db.func.max(Audit.id)))
    from app.touchpoint_audit.models import Finding

    finding_id = db.session.scalar(db.select(db.func.min(Finding.id)).where(Finding.kind == "aggregate"))
    total = db.session.scalar(db.text("SELECT count(*) FROM customers"))
    deep = max(1, min(2000, total // 50))
    hx = {"HX-Request": "true"}
    # The Next link of page deep - 1 (a keyset cursor after its last row; there is no OFFSET any more).
    from app.segments.analysis import encode_cursor

    revenue, customer = db.session.execute(db.text(
        "SELECT revenue, customer_id FROM customer_segments WHERE run_id = :run AND revenue IS NOT NULL "
        "ORDER BY revenue DESC, customer_id DESC OFFSET :skip LIMIT 1"), {"run": run_id, "skip": (deep - 1) * 50 - 1}
    ).one()
    cursor = encode_cursor(["revenue", "desc", "k", revenue, customer])
    return [
        ("static file (floor)", "/static/app.js", {}),
        ("start page", "/", {}),
        ("customer list, first page", "/customers/", {}),
        (f"customer list, page {deep} (Next)", f"/customers/?after={cursor}&page={deep}", {}),
        ("htmx customer list, Last page", "/customers/?last=1", hx),
        (f"htmx Previous from page {deep}", f"/customers/?before={cursor}&page={deep}", hx),
        ("htmx search 'kunde 12'", "/customers/?q=kunde+12", hx),
        ("htmx filter ABC = A", "/customers/?abc=A", hx),
        ("htmx filter potential = star", "/customers/?segment=star", hx),
        ("htmx sort by name", "/customers/?sort=name&dir=asc", hx),
        ("htmx sort by contribution", "/customers/?sort=contribution", hx),
        ("customer page", "/customers/12345" if total >= 12345 else "/customers/1", {}),
        ("segments overview", "/segments/", {}),
        ("audit dashboard", f"/audits/{audit_id}/dashboard", {}),
        ("after-sales page", "/after-sales/", {}),
        ("after-sales cell", "/after-sales/cell?kind=abc&segment=A&sale=1&after=0", {}),
        ("audit rounds", "/audits/", {}),
        ("audit round page", f"/audits/{audit_id}", {}),
        ("comparison page", f"/audits/{audit_id}/comparisons/hotline/wait/abc/A", {}),
        ("findings list", "/findings/", {}),
        *([("finding page", f"/findings/{finding_id}", {}),
           ("customer list of a finding", f"/customers/?finding={finding_id}", {})] if finding_id else []),
        ("log page", f"/log?audit_id={audit_id}", {}),
        ("htmx log: customer search", f"/log/{audit_id}/customers?customer_q=kunde+12", hx),
        ("segmentation runs", "/segments/runs", {}),
        ("run page", f"/segments/runs/{run_id}", {}),
        ("run customers of class A", f"/segments/runs/{run_id}/customers?dimension=abc_class&key=A", {}),
        ("reports", "/reports/", {}),
        *([("compare two runs", f"/segments/compare?a={first_run}&b={run_id}&dimension=potential_segment", {})]
          if first_run != run_id else []),
        ("run export CSV", f"/segments/runs/{run_id}/export.csv", {}),
        ("customer list export CSV", "/customers/export.csv", {}),
    ]


def time_request(client, url: str, headers: dict) -> tuple[list[float], list[float], int, int]:
    """Five timings (after one warm-up) of a whole response and of its first bytes, its status and size."""
    response = client.get(url, headers=headers)
    size = len(response.get_data())
    status = response.status_code
    seconds, first = [], []
    for _ in range(REPEATS):
        started = time.perf_counter()
        response = client.get(url, headers=headers, buffered=False)
        chunks = iter(response.response)
        next(chunks, None)
        first.append(time.perf_counter() - started)
        for _chunk in chunks:
            pass
        response.close()
        seconds.append(time.perf_counter() - started)
    return seconds, first, status, size


def time_xlsx_job(app, client) -> None:
    """The run's XLSX export once: a background job above 20,000 customers (run in the request here,
    as the test configuration runs jobs), its time, rows and this process's peak memory."""
    import resource

    from app.segments.models import SegmentationRun
    from app.web.models import Job

    with app.app_context():
        run_id = db_max(SegmentationRun.id)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    response = client.get(f"/segments/runs/{run_id}/export.xlsx")
    took = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with app.app_context():
        from app.extensions import db

        job = db.session.scalar(db.select(Job).order_by(Job.id.desc()).limit(1))
        state = f"job {job.status}, {(job.result or {}).get('rows', 0):,} rows" if job else "no job (written directly)"
        db.session.remove()
    print(f"\nrun export XLSX: {response.status_code}, {state}, {took:.1f} s, peak memory of this process "
          f"{peak / 1024:,.0f} MiB (before {before / 1024:,.0f} MiB)", flush=True)


def db_max(column):
    from app.extensions import db

    return db.session.scalar(db.select(db.func.max(column)))


def main() -> None:
    customers = int(os.environ.get("BENCH_CUSTOMERS", 1_000_000))
    periods = [str(p) for p in pd.period_range("2025-01", periods=PERIODS, freq="M")]
    server = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    admin_url = server.replace("postgresql+psycopg://", "postgresql://")
    keep = os.environ.get("BENCH_KEEP_DATABASE", "")
    if keep and not keep.replace("_", "").isalnum():
        raise SystemExit("BENCH_KEEP_DATABASE: letters, digits and _ only")
    dbname = keep or f"bench_h11_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if not exists:
            admin.execute(f"CREATE DATABASE {dbname}")
    url = f"{admin_url.rsplit('/', 1)[0]}/{dbname}".replace("postgresql://", "postgresql+psycopg://", 1)
    tmpdir = tempfile.mkdtemp(prefix="bench-pages-")
    os.environ.setdefault("INSTANCE_PATH", tmpdir)
    from app import create_app
    from config import TestConfig

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url)
    from app.accounts.models import User
    from app.extensions import db

    try:
        with app.app_context():
            db.create_all()
            bring_up_to_date(db)
            manager = db.session.scalar(db.select(User).where(User.username == "manager"))
            if manager is None:
                started = time.perf_counter()
                fill(db, customers, periods)
                manager = User(username="manager", display_name="Manager", role="manager", password_hash="-")
                db.session.add(manager)
                db.session.commit()
                print(f"filled {customers:,} customers × {PERIODS} months, one run, {OBSERVATIONS:,} observations "
                      f"in {time.perf_counter() - started:.0f} s (not measured)", flush=True)
            else:
                print(f"reusing the filled database {dbname}", flush=True)
            user_id = manager.get_id()
            leadership = db.session.scalar(db.select(User).where(User.username == "leadership"))
            if leadership is None:
                leadership = User(username="leadership", display_name="Leadership", role="leadership",
                                  password_hash="-")
                db.session.add(leadership)
                db.session.commit()
            leadership_id = leadership.get_id()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
            targets = requests_to_time(db)
            if os.environ.get("BENCH_SKIP_EXPORT"):  # the 170 MB CSV takes minutes at a million customers
                targets = [target for target in targets if "export" not in target[1]]
            db.session.remove()
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        with client.session_transaction() as session:
            session["_user_id"] = user_id
            session["_fresh"] = True
        print(f"\n{'request':<34} {'status':>6} {'bytes':>11} {'median ms':>10} {'p95 ms':>8} {'1st byte ms':>12}")
        if leadership_id is not None:  # leadership's start page: the answer first
            reader = app.test_client()
            reader.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
            with reader.session_transaction() as session:
                session["_user_id"] = leadership_id
                session["_fresh"] = True
        for name, target, headers in targets + ([("leadership start page", "/", {})] if leadership_id else []):
            seconds, first, status, size = time_request(reader if name.startswith("leadership") else client,
                                                        target, headers)
            print(f"{name:<34} {status:>6} {size:>11,} {statistics.median(seconds) * 1000:>10.0f} "
                  f"{max(seconds) * 1000:>8.0f} {statistics.median(first) * 1000:>12.0f}", flush=True)
        if not os.environ.get("BENCH_SKIP_EXPORT"):
            time_xlsx_job(app, client)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if not keep:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
        for path in Path(tmpdir).glob("*"):
            path.unlink()
        os.rmdir(tmpdir)


if __name__ == "__main__":
    main()
