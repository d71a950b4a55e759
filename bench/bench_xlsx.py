"""Benchmark: read a 100,000-row XLSX sheet with calamine (read_table) against openpyxl.

Writes a customer-values workbook (customer number shown zero-padded with the
format ``0000000``, name, period, revenue, cost, customer-since date) with
100,000 data rows, then measures in the same run, median of three each:

* the baseline: the openpyxl reader (``tabular._read_xlsx_openpyxl``, read-only
  mode with cached values; what read_table used before calamine);
* ``tabular.read_table``: calamine reads the values, the zero-padded cells are
  picked out of the sheet XML.

Each read runs in a fresh Python process, so the peak memory (maxrss, minus
the process's size before the read) belongs to that read alone; tracemalloc
would not see calamine's memory, which Rust allocates. Prints the times, the
peaks and the ratios calamine/openpyxl, and checks that both frames are equal.
Usage: python bench/bench_xlsx.py [--quick] (BENCH_ROWS=… to choose a size).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")  # as app/__init__.py sets it, before numpy loads

RUNS = 3
PERIODS = 24


def write_workbook(path: Path, rows: int) -> None:
    """A customer-values sheet as an ERP export writes it (numbers as numbers)."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Umsätze")
    sheet.append(["Kundennummer", "Name", "Periode", "Umsatz", "Betreuungskosten", "Kunde seit"])
    since = dt.datetime(2012, 3, 1)
    for i in range(rows):
        customer = 70001 + i // PERIODS
        number = WriteOnlyCell(sheet, value=customer)
        number.number_format = "0000000"
        revenue = round(1000 + (i * 7919 % 100_000) / 7, 2)
        sheet.append([
            number, f"Müller Kunde {customer} GmbH", f"2024-{i % PERIODS // 2 + 1:02d}", revenue,
            round(revenue * 0.6, 2), since,
        ])
    workbook.save(path)


def measure_one(reader: str, path: str) -> None:
    """Child process: read the file once with one reader; print seconds, peak MiB and a digest."""
    import pandas as pd

    import tabular

    data = Path(path).read_bytes()
    before = _rss_kib()
    start = time.perf_counter()
    if reader == "calamine":
        frame = tabular.read_table(data, "werte.xlsx")
    else:
        frame = tabular._read_xlsx_openpyxl(data, "Umsätze", 1_000_000)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    digest = int(pd.util.hash_pandas_object(frame, index=False).sum())
    print(json.dumps({"seconds": seconds, "peak_mib": peak / 1024, "digest": digest,
                      "first_id": frame["Kundennummer"].iloc[0], "rows": len(frame)}))


def _rss_kib() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def run(reader: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--one", reader, str(path)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout)


def main() -> None:
    rows = int(os.environ.get("BENCH_ROWS", 10_000 if "--quick" in sys.argv else 100_000))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "werte.xlsx"
        start = time.perf_counter()
        write_workbook(path, rows)
        print(f"wrote {rows:,} rows ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - start:.1f} s")
        results = {"openpyxl": [], "calamine": []}
        for _ in range(RUNS):  # alternated, so that a slower moment of the machine hits both
            for reader in results:
                results[reader].append(run(reader, path))
    digests = {r["digest"] for runs in results.values() for r in runs}
    ids = {r["first_id"] for runs in results.values() for r in runs}
    summary = {}
    for reader, runs in results.items():
        seconds = statistics.median(r["seconds"] for r in runs)
        peak = statistics.median(r["peak_mib"] for r in runs)
        summary[reader] = (seconds, peak)
        print(f"{reader:9s} median of {RUNS}: {seconds:6.2f} s, peak memory {peak:7.1f} MiB "
              f"(runs: {', '.join(format(r['seconds'], '.2f') for r in runs)} s)")
    (base_s, base_m), (new_s, new_m) = summary["openpyxl"], summary["calamine"]
    print(f"ratio calamine/openpyxl: time {new_s / base_s:.2f}, peak memory {new_m / base_m:.2f}")
    print(f"same frame from both readers: {len(digests) == 1} (first customer number {', '.join(sorted(ids))})")
    if len(digests) != 1:
        sys.exit(1)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        measure_one(sys.argv[2], sys.argv[3])
    else:
        main()
