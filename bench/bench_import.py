"""Benchmark: import a 1,000,000-row customer-values CSV (parse + validate + write).

Writes a German Excel-style CSV (``;``, decimal comma, Windows-1252) with
1,000,000 rows, then measures in the same run:

* the baseline: ``pandas.read_csv`` of the same file alone (median of three);
* the import (median of three, each into a fresh, empty database): read_table
  (amount columns read as numbers) + parse_customer_values (validation) + the
  write (the comparison with the stored customers and values that gives the
  preview counts, then the new rows by binary COPY on PostgreSQL / multi-row
  INSERTs on SQLite), all in one transaction;
* once more the same file into the last database (changes nothing).

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


RUNS = 3  # the baseline and the import are each timed this often (the import into a fresh database each time)


def fresh_database(server: str | None, tmpdir: Path, number: int) -> tuple[str, str | None]:
    """The URL of a new, empty database, and its name on the server (None: an SQLite file)."""
    if not server:
        return f"sqlite:///{tmpdir}/bench-{number}.sqlite", None
    import psycopg

    name = f"bench_import_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url(server), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return f"{admin_url(server).rsplit('/', 1)[0]}/{name}".replace("postgresql://", "postgresql+psycopg://", 1), name


def drop_databases(server: str, names: list[str]) -> None:
    import psycopg

    with psycopg.connect(admin_url(server), autocommit=True) as admin:
        for name in names:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def admin_url(server: str) -> str:
    return server.replace("postgresql+psycopg://", "postgresql://")


def import_once(url: str, data: bytes, filename: str, last: bool) -> dict:
    """Parse, validate and import the file into an empty database; the times of its phases.

    On the ``last`` run the same file is imported once more (changes nothing).
    """
    from app import create_app
    from app.extensions import db
    from config import TestConfig

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        db.create_all()
        import app.segments.importing as customer_import
        from app.segments.importing import import_customer_values, parse_upload

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
        check = parse_upload(data, filename)
        t2 = time.perf_counter()
        customer_import.read_table, customer_import.parse_customer_values = originals
        assert check.ok, check.problems[:5]

        def progress(fraction, message):
            marks[message] = time.perf_counter()

        counts = import_customer_values(check, progress=progress)
        t3 = time.perf_counter()
        steps = list(marks.items())
        result = {
            "dialect": db.engine.dialect.name, "total": t3 - t1, "parse": t2 - t1, "write": t3 - t2,
            "steps": {name.lower(): (steps[i + 1][1] if i + 1 < len(steps) else t3) - at
                      for i, (name, at) in enumerate(steps[:-1])},
            "read_table": phases["read_table"], "parse_customer_values": phases["parse_customer_values"],
            "counts": counts,
        }
        if last:
            t4 = time.perf_counter()
            result["again"] = import_customer_values(parse_upload(data, filename))
            result["again_time"] = time.perf_counter() - t4
        db.session.remove()
        db.engine.dispose()
    return result


def main() -> None:
    quick = "--quick" in sys.argv
    rows = int(os.environ.get("BENCH_ROWS", 50_000 if quick else 1_000_000))
    tmpdir = Path(tempfile.mkdtemp(prefix="bench-import-"))
    csv_path = tmpdir / "kundenwerte.csv"
    write_csv(csv_path, rows)
    size_mb = csv_path.stat().st_size / 1e6
    os.environ.setdefault("INSTANCE_PATH", str(tmpdir))
    server = os.environ.get("BENCH_DATABASE_URL")
    created = []
    try:
        baselines = []
        for _ in range(RUNS):
            t0 = time.perf_counter()
            baseline_frame = pd.read_csv(csv_path, sep=";", decimal=",", encoding="cp1252",
                                         dtype={"Kundennummer": str})
            baselines.append(time.perf_counter() - t0)
            assert len(baseline_frame) == rows
            del baseline_frame
        baseline = float(np.median(baselines))

        data = csv_path.read_bytes()
        runs = []
        for number in range(RUNS):
            url, name = fresh_database(server, tmpdir, number)
            created += [name] if name else []
            runs.append(import_once(url, data, csv_path.name, last=number == RUNS - 1))
            if name and number < RUNS - 1:
                # dropped now: autovacuum on its fresh million rows would compete with the next run
                drop_databases(server, [created.pop()])
        median = sorted(runs, key=lambda run: run["total"])[RUNS // 2]
        total = median["total"]
        print(f"database: {median['dialect']}; file: {rows:,} rows, {size_mb:.0f} MB")
        print(f"pandas.read_csv alone, median of {RUNS}: {baseline:.2f} s "
              f"(each: {', '.join(f'{t:.2f}' for t in baselines)} s)")
        detail = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in median["steps"].items())
        print(f"import (parse + validate + write), median of {RUNS} into a fresh database each: {total:.2f} s "
              f"(each: {', '.join(f'{run_total:.2f}' for run_total in (run['total'] for run in runs))} s)")
        print(f"  median run: read + parse + validate {median['parse']:.1f} s [read_table {median['read_table']:.1f} s, "
              f"parse_customer_values {median['parse_customer_values']:.1f} s, rest of parse_upload "
              f"{median['parse'] - median['read_table'] - median['parse_customer_values']:.1f} s (reading the file, "
              f"hash, formula names)]; write {median['write']:.1f} s [{detail}]")
        print(f"ratio import / read_csv = {total / baseline:.1f}× (goal ≤ 8×: {'met' if total / baseline <= 8 else 'NOT met'})")
        counts = median["counts"]
        print(f"written: {counts['customers_new']:,} customers, {counts['values_new']:,} values")
        print(f"peak memory (RSS): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
        last = runs[-1]
        print(f"re-import of the same file: {last['again_time']:.1f} s, {last['again']['values_new']} new, "
              f"{last['again']['values_changed']} changed")
    finally:
        if created:
            drop_databases(server, created)
        for path in tmpdir.glob("*"):
            path.unlink()
        tmpdir.rmdir()


if __name__ == "__main__":
    main()
