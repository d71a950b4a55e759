"""Benchmark: checking and importing a file of 200,000 observations.

Fills a temporary SQLite database with the default catalog, 2,000 customers and one open
audit, writes a German CSV of BENCH_OBSERVATIONS rows (default 200,000; half of them
existing customers with their numbers), then times in the same run:

* baseline: ``pandas.read_csv`` of the same bytes (median of 3);
* the check the upload page runs (``check_file``: reading, column matching, the row rule
  for every row, the duplicate fingerprints);
* the whole import (``import_observations``: the check again, then the insert, committed).

Prints seconds, the ratio to the baseline and the peak memory of the process.
A file of this size is checked on upload and written by a background job on confirm.
"""
from __future__ import annotations

import datetime as dt
import io
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")

import pandas as pd  # noqa: E402

ROWS = int(os.environ.get("BENCH_OBSERVATIONS", "200000"))
CUSTOMERS = 2000


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_file(customer_numbers: list[str], start: dt.date) -> bytes:
    """A German CSV as a telephony export would give it: waits and prices, new and existing."""
    rnd = random.Random(20261204)
    lines = ["Kontaktpunkt;Kennzahl;Wert;Kundenstatus;Kundennummer;Produkt;Kanal;Datum"]
    for i in range(ROWS):
        existing = rnd.random() < 0.5
        number = rnd.choice(customer_numbers) if existing else ""
        status = "Bestandskunde" if existing else "Neukunde"
        day = (start + dt.timedelta(days=i % 60)).strftime("%d.%m.%Y")
        if i % 2:
            lines.append(f"hotline;wait;{rnd.randint(10, 900)};{status};{number};;Telefon;{day}")
        else:
            price = f"{rnd.uniform(200, 900):.2f}".replace(".", ",")
            lines.append(f"renewal;price;{price};{status};{number};P{rnd.randint(1, 5)};online;{day}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def main() -> None:
    from app import create_app
    from app.accounts.models import User
    from app.extensions import db
    from app.segments.models import Customer
    from app.touchpoint_audit.catalog import seed_catalog
    from app.touchpoint_audit.importing import check_file, import_observations
    from app.touchpoint_audit.models import Audit, Metric, Observation
    from config import TestConfig

    path = Path(tempfile.mkdtemp(prefix="bench-obs-")) / "bench.sqlite"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with app.app_context():
        db.create_all()
        seed_catalog()
        numbers = [f"{i:07d}" for i in range(1, CUSTOMERS + 1)]
        db.session.execute(db.insert(Customer), [
            {"customer_no": no, "name": f"Kunde {no}", "customer_since": dt.date(2015, 1, 1), "search_key": no}
            for no in numbers])
        user = User(username="bench", role="manager", password_hash="x")
        start = dt.date.today().replace(day=1) - dt.timedelta(days=90)
        audit = Audit(title="Bench", status="open", metrics=list(db.session.scalars(db.select(Metric))),
                      period_start=start, period_end=start + dt.timedelta(days=120))
        db.session.add_all([user, audit])
        db.session.commit()
        data = make_file(numbers, start)
        print(f"{ROWS:,} rows, {len(data) / 1e6:.1f} MB")

        baselines = []
        for _ in range(3):
            t = time.perf_counter()
            pd.read_csv(io.BytesIO(data), sep=";", dtype=str)
            baselines.append(time.perf_counter() - t)
        baseline = statistics.median(baselines)

        with app.test_request_context():
            t = time.perf_counter()
            report = check_file(audit, data, "bench.csv", created_by_id=user.id)
            check = time.perf_counter() - t
            assert report.ok, report.problems[:3]
            t = time.perf_counter()
            _report, written = import_observations(audit, data, "bench.csv", user.id)
            whole = time.perf_counter() - t
        stored = db.session.scalar(db.select(db.func.count(Observation.id)))
        assert written == stored == ROWS, (written, stored)
    path.unlink(missing_ok=True)
    print(f"baseline read_csv (median of 3): {baseline:.2f} s")
    print(f"check (upload page):             {check:.2f} s  ratio {check / baseline:.1f}x")
    print(f"import (check + insert, commit): {whole:.2f} s  ratio {whole / baseline:.1f}x")
    print(f"peak memory: {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
