"""Benchmark: segment 1,000,000 customers × 24 periods held in the database.

Creates its own temporary database (an SQLite file by default; a fresh
PostgreSQL database when BENCH_DATABASE_URL points at a server), fills it with
server-side generated rows, then measures:

* the full segmentation of all numeric methods (ABC, potential matrix, profit
  tiers, trajectories + burr), reading the window from the series blocks
  (``series_blocks``, built here once from the rows as the migration does;
  the import keeps them up to date), without storing the per-customer rows;
  on PostgreSQL after VACUUM ANALYZE and a CHECKPOINT of the filled database
  (not measured), so that background work on the fresh rows does not compete;
* peak memory (RSS) after the first segmentation;
* the ratio to the baseline, one plain pandas group-by sum over the same rows
  (in memory): five more segmentation runs, each followed by a baseline
  run, and the medians compared (single baseline runs varied by up to 40 %
  between runs of this script);
* the DB GROUP BY over the stored rows (the design before the series) vs
  loading every row into pandas and grouping there;
* last, storing the per-customer rows (bulk insert / COPY): on PostgreSQL a
  million fresh rows set autovacuum to work on one of the two cores, which
  inflated a baseline run to 0.95 s when this came before the ratio.

Usage: python bench/bench_segmentation.py [--quick]   (BENCH_CUSTOMERS=… to choose a size)
"""
from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")  # as app/__init__.py sets it, before numpy loads

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sqlalchemy  # noqa: E402

PERIODS = 24
RUNS = 5  # segmentation and baseline are timed this often, in turns; the medians are compared


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_app(url: str):
    from app import create_app
    from config import TestConfig

    return create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url)


def settle(db) -> None:
    """PostgreSQL: VACUUM ANALYZE and a CHECKPOINT now, so that neither autovacuum nor the
    writing-out of the fresh 24 M rows works (on one of the two cores) while the segmentation
    is measured. CHECKPOINT needs a superuser or pg_checkpoint; without, it is skipped."""
    if db.engine.dialect.name != "postgresql":
        return
    db.session.remove()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
        try:
            conn.exec_driver_sql("CHECKPOINT")
        except sqlalchemy.exc.DBAPIError as error:  # a role without the right: measure anyway
            print(f"(no CHECKPOINT: {error.orig})")


def fill(db, customers: int, periods: list[str]) -> None:
    """Customers and values generated inside the database (no Python per row)."""
    conn = db.session.connection()
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.exec_driver_sql(
            "INSERT INTO customers (id, customer_no, name, customer_since, created_at) "
            f"SELECT g, lpad(g::text, 8, '0'), 'Kunde ' || g, DATE '2000-01-01' + mod(g, 9000), now() "
            f"FROM generate_series(1, {customers}) g"
        )
        conn.exec_driver_sql("CREATE TEMP TABLE p (t int, period text)")
        conn.exec_driver_sql("INSERT INTO p VALUES " + ", ".join(f"({i}, '{p}')" for i, p in enumerate(periods)))
        conn.exec_driver_sql(
            "INSERT INTO customer_values (customer_id, period, revenue, cost_to_serve, potential, potential_rating) "
            "SELECT c, p.period, "
            "round(((100 + mod(c * 7919, 5000)) * (1 + (mod(c, 7) - 3) * 0.02 * p.t) "
            "* (1 + 0.3 * (mod(c, 5) = 0)::int * sin(p.t * 0.5236)) * (0.9 + random() * 0.2))::numeric, 2), "
            "round(((100 + mod(c * 7919, 5000)) * (0.5 + mod(c, 11) * 0.06))::numeric, 2), "
            "(100 + mod(c * 7919, 5000)) * (1 + mod(c * 31, 17) * 0.1), 1 + mod(c, 5) "
            f"FROM generate_series(1::bigint, {customers}) c CROSS JOIN p ORDER BY c, p.t"
        )
        db.session.commit()
        settle(db)
        return
    conn.exec_driver_sql(
        "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < ?) "
        "INSERT INTO customers (id, customer_no, name, customer_since, created_at) "
        "SELECT x, printf('%08d', x), 'Kunde ' || x, date('2000-01-01', '+' || (x % 9000) || ' days'), "
        "'2026-01-01 00:00:00' FROM g", (customers,)
    )
    conn.exec_driver_sql("CREATE TEMP TABLE p (t INTEGER, period TEXT)")
    conn.exec_driver_sql("INSERT INTO p VALUES " + ", ".join(f"({i}, '{p}')" for i, p in enumerate(periods)))
    conn.exec_driver_sql(
        "INSERT INTO customer_values (customer_id, period, revenue, cost_to_serve, potential, potential_rating) "
        "SELECT c.id, p.period, "
        "round((100 + (c.id * 7919) % 5000) * (1 + ((c.id % 7) - 3) * 0.02 * p.t) "
        "* (1 + 0.3 * ((c.id % 5) = 0) * ((p.t % 12) - 6) / 6.0) * (0.9 + (abs(random()) % 1000) / 5000.0), 2), "
        "round((100 + (c.id * 7919) % 5000) * (0.5 + (c.id % 11) * 0.06), 2), "
        "(100 + (c.id * 7919) % 5000) * (1 + (c.id * 31) % 17 * 0.1), 1 + c.id % 5 "
        "FROM customers c CROSS JOIN p ORDER BY c.id, p.t"
    )
    db.session.commit()


def main() -> None:
    quick = "--quick" in sys.argv
    customers = int(os.environ.get("BENCH_CUSTOMERS", 20_000 if quick else 1_000_000))
    periods = [str(p) for p in pd.period_range("2024-01", periods=PERIODS, freq="M")]
    server = os.environ.get("BENCH_DATABASE_URL")
    tmpdir = tempfile.mkdtemp(prefix="bench-seg-")
    dbname = None
    if server:
        import psycopg

        dbname = f"bench_seg_{uuid.uuid4().hex[:8]}"
        admin_url = server.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {dbname}")
        base = admin_url.rsplit("/", 1)[0]
        url = f"{base}/{dbname}".replace("postgresql://", "postgresql+psycopg://", 1)
    else:
        url = f"sqlite:///{tmpdir}/bench.sqlite"
    os.environ.setdefault("INSTANCE_PATH", tmpdir)
    app = make_app(url)
    from app.extensions import db

    try:
        with app.app_context(), app.test_request_context():
            db.create_all()
            started = time.perf_counter()
            fill(db, customers, periods)
            print(f"database: {db.engine.dialect.name}; filled {customers:,} customers × {PERIODS} periods "
                  f"= {customers * PERIODS:,} rows in {time.perf_counter() - started:.1f} s (not measured below)")
            db.session.remove()

            from app.segments import loaders
            from app.segments.runs import segment_frames, store_segments
            from app.segments.series import rebuild_all
            from bench import reference_loaders

            t0 = time.perf_counter()
            built = rebuild_all(db.session.connection())
            db.session.commit()
            settle(db)
            db.session.remove()
            print(f"series blocks built from the stored rows: {built:,} in {time.perf_counter() - t0:.1f} s "
                  "(not measured below: the import keeps them up to date; this is the migration / "
                  "`flask customers rebuild-series` path)")

            start, end = periods[0], periods[-1]

            def segment():
                db.session.remove()
                t0 = time.perf_counter()
                totals, matrix = loaders.load_window(start, end, with_rating=False, with_cost=False)
                t2 = time.perf_counter()
                frame, summary = segment_frames(totals, matrix, {})
                t3 = time.perf_counter()
                return (t3 - t0, t2 - t0, t3 - t2), totals, frame, summary

            first, totals, frame, summary = segment()
            peak = peak_rss_mb()  # before the baseline's rows are loaded into this process
            print(f"segmentation (all numeric methods), first run in this process: {first[0]:.2f} s  "
                  f"[reading the window from the series blocks {first[1]:.2f} s, methods {first[2]:.2f} s]")
            if os.environ.get("BENCH_COMPARE_PIVOT"):
                t8 = time.perf_counter()
                reference_loaders.value_matrix(start, end)
                print(f"(for comparison) SQL pivot with one CASE per period: {time.perf_counter() - t8:.1f} s")
            t0 = time.perf_counter()
            reference_loaders.window_totals(start, end)
            t1 = time.perf_counter()
            print(f"(for comparison) DB GROUP BY over the stored rows, the sums alone: {t1 - t0:.1f} s")
            print(f"peak memory (RSS) after segmentation: {peak:,.0f} MB")
            print(f"classes: {summary['counts']}")

            # Loading every row instead of GROUP BY in the database.
            t5 = time.perf_counter()
            rows = loaders.read_frame(
                "SELECT customer_id, revenue FROM customer_values WHERE period >= ? AND period <= ?",
                (start, end), ["customer_id", "revenue"],
            )
            t6 = time.perf_counter()
            baseline = rows.groupby("customer_id")["revenue"].sum()
            t7 = time.perf_counter()
            print(f"loading {len(rows):,} rows into pandas: {t6 - t5:.1f} s, + group-by {t7 - t6:.2f} s "
                  f"= {t7 - t5:.1f} s vs DB GROUP BY of all sums {t1 - t0:.1f} s "
                  f"→ {'DB GROUP BY' if (t1 - t0) < (t7 - t5) else 'loading rows'} is faster")
            assert np.allclose(baseline.sort_index().to_numpy(), totals.set_index("customer_id")["revenue"]
                               .sort_index().to_numpy())
            del totals

            # The ratio: segmentation and baseline (one plain pandas group-by sum over the same rows,
            # in memory) timed in turns, RUNS times each, medians compared. On this machine the
            # baseline's median varied from 0.26 to 0.45 s between runs of this script, and a single
            # run now and then took twice its neighbours' time.
            pairs = []
            for _ in range(RUNS):
                timing, *_ = segment()
                t_start = time.perf_counter()
                rows.groupby("customer_id")["revenue"].sum()
                pairs.append((timing, time.perf_counter() - t_start))
            segmentation = float(np.median([timing[0] for timing, _ in pairs]))
            group_by = float(np.median([seconds for _, seconds in pairs]))
            print(f"segmentation, median of {RUNS} runs: {segmentation:.2f} s (each: "
                  f"{', '.join(f'{timing[0]:.2f}' for timing, _ in pairs)} s; reading "
                  f"{float(np.median([timing[1] for timing, _ in pairs])):.2f} s, methods "
                  f"{float(np.median([timing[2] for timing, _ in pairs])):.2f} s)")
            print(f"baseline pandas group-by sum, median of {RUNS}, each right after a segmentation run: "
                  f"{group_by:.2f} s (each: {', '.join(f'{seconds:.2f}' for _, seconds in pairs)} s)")
            print(f"ratio segmentation / baseline = {segmentation / group_by:.1f}× (goal ≤ 5×: "
                  f"{'met' if segmentation / group_by <= 5 else 'NOT met'}); goal time < 20 s: "
                  f"{'met' if max(first[0], segmentation) < 20 else 'NOT met'}; goal memory < 4 GB: "
                  f"{'met' if peak < 4096 else 'NOT met'}")
            # last: a million fresh rows would give autovacuum work that competes with the runs above
            t4 = time.perf_counter()
            from app.segments.models import SegmentationRun

            run = SegmentationRun(parameters={}, window_start=start, window_end=end, summary={}, status="done")
            db.session.add(run)
            db.session.flush()
            store_segments(run.id, frame)
            db.session.commit()
            print(f"storing {len(frame):,} per-customer rows: {time.perf_counter() - t4:.1f} s")
            del frame
            db.session.remove()
            print(f"peak memory (RSS) at the end: {peak_rss_mb():,.0f} MB")
            db.session.remove()
            db.engine.dispose()
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if dbname:
            import psycopg

            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
        for path in Path(tmpdir).glob("*"):
            path.unlink()
        os.rmdir(tmpdir)


if __name__ == "__main__":
    main()
