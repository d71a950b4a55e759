"""Benchmark: the loyalty-penalty analysis of an audit with 1,000,000 observations.

20 touchpoint-metrics and 12 segments (3 kinds × 4 values) from
``audits.synthetic.synthetic_observations`` with a planted penalty in two segments.
Measures, in the same run:

* the baseline: a plain pandas group-by median over the same rows (per touchpoint,
  metric, customer status — overall and per segment kind);
* the analysis as the app runs it: compare_groups (one value per customer and stratum,
  one estimand per kind of metric with its test and interval, Benjamini–Hochberg),
  case_flags under the flagged comparisons, total_excess and excess_per_year for the
  price metrics, tenure_gradient, and the findings (audits.findings.build_findings).

Prints time, peak memory (max RSS of the process) and the ratio analysis / baseline.
Goal: under 30 s.
Usage: python bench/bench_analysis.py [--quick]   (BENCH_ROWS=… to choose a size)
"""
from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audits.findings import build_findings  # noqa: E402
from audits.penalty import (  # noqa: E402
    case_flags,
    compare_groups,
    excess_per_year,
    tenure_gradient,
    total_excess,
)
from audits.synthetic import (  # noqa: E402
    DEFAULT_SEGMENTS,
    synthetic_directions,
    synthetic_observations,
    synthetic_price_metrics,
)

N_METRICS = 20


def peak_mb() -> float:
    """Max resident set size of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def baseline(frame) -> float:
    """Plain group-by medians over the same rows; returns seconds."""
    started = time.perf_counter()
    keys = ["touchpoint", "metric", "customer_status"]
    frame.groupby(keys, observed=True)["value"].median()
    for kind in DEFAULT_SEGMENTS:
        frame.groupby(keys + [kind], observed=True)["value"].median()
    return time.perf_counter() - started


def analyse(frame) -> tuple[float, dict]:
    """The app's analysis pipeline on the frame; returns seconds and counts."""
    started = time.perf_counter()
    prices = synthetic_price_metrics(N_METRICS)
    comparisons = compare_groups(frame, synthetic_directions(N_METRICS), list(DEFAULT_SEGMENTS),
                                 price_metrics=prices)
    compared = time.perf_counter()
    cases = case_flags(frame, prices, comparisons=comparisons)
    excess = total_excess(cases)
    year = excess_per_year(comparisons, prices)
    gradients = tenure_gradient(frame, prices)
    findings = build_findings(comparisons, cases, gradients, excess_year=year)
    elapsed = time.perf_counter() - started
    print(f"  of which compare_groups {compared - started:.2f} s")
    return elapsed, {
        "comparisons": len(comparisons), "flagged": int(comparisons["flagged"].sum()),
        "insufficient": int((comparisons["status"] != "ok").sum()), "cases": len(cases),
        "flagged_cases": int(cases["flagged"].sum()), "total_excess": excess, "gradients": len(gradients),
        "findings": len(findings),
    }


def main() -> None:
    """Generate, run the baseline and the analysis, print the figures."""
    quick = "--quick" in sys.argv
    rows = int(os.environ.get("BENCH_ROWS", 100_000 if quick else 1_000_000))
    started = time.perf_counter()
    penalty = {("tier", "C"): 0.10, ("potential", "cash_cow"): 0.08}
    frame = synthetic_observations(rows, N_METRICS, penalty=penalty, seed=42, tenure_walk=0.005)
    generated = time.perf_counter() - started
    print(f"observations: {len(frame):,} ({N_METRICS} touchpoint-metrics, "
          f"{sum(len(v) for v in DEFAULT_SEGMENTS.values())} segments), generated in {generated:.1f} s, "
          f"peak memory so far {peak_mb():,.0f} MB")

    base = baseline(frame)
    print(f"baseline  (pandas group-by median): {base:7.2f} s")
    elapsed, counts = analyse(frame)
    print(f"analysis  (comparisons, cases, excess, price walking, findings): {elapsed:7.2f} s   "
          f"ratio to baseline {elapsed / base:,.1f}×   goal < 30 s: {'met' if elapsed < 30 else 'MISSED'}")
    print(f"peak memory (max RSS): {peak_mb():,.0f} MB")
    print("result: " + ", ".join(f"{k} {v:,.0f}" if isinstance(v, (int, float)) else f"{k} {v}"
                                 for k, v in counts.items()))


if __name__ == "__main__":
    main()
