"""Benchmark: import a 1,000,000-row customer-values CSV (parse + validate + write).

Writes a German Excel-style CSV (``;``, decimal comma, Windows-1252) with
1,000,000 rows, then measures in the same run:

* the baseline: ``pandas.read_csv`` of the same file alone;
* the import: read_table (amount columns read as numbers) +
  parse_customer_values (validation) + the write (the comparison with the
  stored customers and values that gives the preview counts, then the new rows
  by binary COPY on PostgreSQL / multi-row INSERTs on SQLite), all in one
  transaction, into an empty database.

The database is a temporary SQLite file, or a fresh PostgreSQL database when
BENCH_DATABASE_URL is set. Usage: python bench/bench_import.py [--quick]
(BENCH_ROWS=… to choose a size).
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

PERIODS = 24


def write_csv(path: Path, rows: int) -> None:
    customers = -(-rows // PERIODS)
    periods = [str(p) for p in pd.period_range("2024-01", periods=PERIODS, freq="M")]
    rng = np.random.default_rng(1)
    ids = np.repeat([f"{i:07d}" for i in range(1, customers + 1)], PERIODS)[:rows]
    names = np.repeat([f"Müller Kunde {i} GmbH" for i in range(1, customers + 1)], PERIODS)[:rows]
    revenue = rng.lognormal(7, 1, rows).round(2)
    cost = (revenue * rng.uniform(0.4, 1.1, rows)).round(2)
    frame = pd.DataFrame({
        "Kundennummer": ids, "Name": names, "Kunde seit": "01.03.2012",
        "Periode": np.tile(periods, customers)[:rows], "Umsatz": revenue, "Betreuungskosten": cost,
        "Potenzial": (revenue * 3).round(2),
    })
    frame.to_csv(path, sep=";", decimal=",", index=False, encoding="cp1252")


def main() -> None:
    quick = "--quick" in sys.argv
    rows = int(os.environ.get("BENCH_ROWS", 50_000 if quick else 1_000_000))
    tmpdir = Path(tempfile.mkdtemp(prefix="bench-import-"))
    csv_path = tmpdir / "kundenwerte.csv"
    write_csv(csv_path, rows)
    size_mb = csv_path.stat().st_size / 1e6

    t0 = time.perf_counter()
    baseline_frame = pd.read_csv(csv_path, sep=";", decimal=",", encoding="cp1252", dtype={"Kundennummer": str})
    baseline = time.perf_counter() - t0
    assert len(baseline_frame) == rows
    del baseline_frame

    server = os.environ.get("BENCH_DATABASE_URL")
    dbname = None
    admin_url = None
    if server:
        import psycopg

        dbname = f"bench_import_{uuid.uuid4().hex[:8]}"
        admin_url = server.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {dbname}")
        url = f"{admin_url.rsplit('/', 1)[0]}/{dbname}".replace("postgresql://", "postgresql+psycopg://", 1)
    else:
        url = f"sqlite:///{tmpdir}/bench.sqlite"
    os.environ.setdefault("INSTANCE_PATH", str(tmpdir))
    from app import create_app
    from app.extensions import db
    from config import TestConfig

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url)
    try:
        with app.app_context():
            db.create_all()
            import app.customer_import as customer_import
            from app.customer_import import import_customer_values, parse_upload

            # time the two big phases of parse_upload by wrapping what it calls
            phases: dict[str, float] = {}

            def timed(name, function):
                def run(*args, **kwargs):
                    start = time.perf_counter()
                    try:
                        return function(*args, **kwargs)
                    finally:
                        phases[name] = time.perf_counter() - start
                return run

            originals = customer_import.read_table, customer_import.parse_customer_values
            customer_import.read_table = timed("read_table", originals[0])
            customer_import.parse_customer_values = timed("parse_customer_values", originals[1])
            marks = {}
            t1 = time.perf_counter()
            data = csv_path.read_bytes()
            check = parse_upload(data, csv_path.name)
            t2 = time.perf_counter()
            customer_import.read_table, customer_import.parse_customer_values = originals
            assert check.ok, check.problems[:5]

            def progress(fraction, message):
                marks[message] = time.perf_counter()

            counts = import_customer_values(check, progress=progress)
            t3 = time.perf_counter()
            total = t3 - t1
            print(f"database: {db.engine.dialect.name}; file: {rows:,} rows, {size_mb:.0f} MB")
            print(f"pandas.read_csv alone: {baseline:.1f} s")
            steps = list(marks.items())
            detail = ", ".join(
                f"{name.lower()} {(steps[i + 1][1] if i + 1 < len(steps) else t3) - at:.1f} s"
                for i, (name, at) in enumerate(steps[:-1])
            )
            print(f"import (parse + validate + write): {total:.1f} s  [read + parse + validate {t2 - t1:.1f} s; "
                  f"write {t3 - t2:.1f} s: {detail}]")
            print(f"  parse phases: read_table {phases['read_table']:.1f} s, parse_customer_values "
                  f"{phases['parse_customer_values']:.1f} s, rest of parse_upload "
                  f"{t2 - t1 - sum(phases.values()):.1f} s (reading the file, hash, formula names)")
            print(f"ratio import / read_csv = {total / baseline:.1f}× (goal ≤ 8×: {'met' if total / baseline <= 8 else 'NOT met'})")
            print(f"written: {counts['customers_new']:,} customers, {counts['values_new']:,} values")
            print(f"peak memory (RSS): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
            # A second import of the same file changes nothing (and shows what the no-op costs).
            t4 = time.perf_counter()
            again = import_customer_values(parse_upload(data, csv_path.name))
            print(f"re-import of the same file: {time.perf_counter() - t4:.1f} s, "
                  f"{again['values_new']} new, {again['values_changed']} changed")
            db.session.remove()
            db.engine.dispose()
    finally:
        if dbname:
            import psycopg

            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
        for path in tmpdir.glob("*"):
            path.unlink()
        tmpdir.rmdir()


if __name__ == "__main__":
    main()
