"""Benchmark: what the comparison by evidence grade adds to an audit's analysis.

Synthetic observations (``audits.synthetic``) graded at random: 50 % observed, 40 % system
records, 10 % self-reported. Measures, in the same run:

* the baseline: the comparison of the whole audit (``compare_frame``, as the analysis runs it);
* by grade: ``comparisons_by_grade``, the same comparison run again on each grade's
  observations alone (what the analysis stores for the comparison page and the report);
* one grade: an audit whose observations are all "observed" (the comparison is reused).

Prints time, peak memory (max RSS of the process) and the ratio by grade / baseline.
Usage: python bench/bench_grades.py [--quick]   (BENCH_ROWS=… to choose a size)
"""
from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.touchpoint_audit.analysis import DEFAULT_PARAMS, compare_frame, comparisons_by_grade  # noqa: E402
from audits.synthetic import DEFAULT_SEGMENTS, synthetic_directions, synthetic_observations  # noqa: E402
from audits.synthetic import synthetic_price_metrics as price_metrics_of  # noqa: E402

N_METRICS = 10


def peak_mb() -> float:
    """Max resident set size of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def catalog() -> pd.DataFrame:
    """The catalog frame the analysis takes, for the synthetic metrics."""
    prices = set(price_metrics_of(N_METRICS))
    return pd.DataFrame([{"touchpoint": t, "metric": m, "direction": d, "is_price": (t, m) in prices}
                         for (t, m), d in synthetic_directions(N_METRICS).items()])


def main() -> None:
    rows = int(os.environ.get("BENCH_ROWS", 20_000 if "--quick" in sys.argv else 200_000))
    frame = synthetic_observations(rows, n_metrics=N_METRICS, segments=DEFAULT_SEGMENTS, seed=7)
    rng = np.random.default_rng(7)
    frame["evidence_grade"] = rng.choice(["observed", "system", "self_reported"], size=len(frame), p=[0.5, 0.4, 0.1])
    params = {**DEFAULT_PARAMS, "n_boot": 500}
    kinds = list(DEFAULT_SEGMENTS)
    cat = catalog()

    started = time.perf_counter()
    whole = compare_frame(frame, cat, params, kinds)
    base = time.perf_counter() - started
    started = time.perf_counter()
    graded = comparisons_by_grade(frame, cat, params, kinds, whole)
    by_grade = time.perf_counter() - started
    single = frame.assign(evidence_grade="observed")
    started = time.perf_counter()
    comparisons_by_grade(single, cat, params, kinds, whole)
    one = time.perf_counter() - started

    print(f"rows: {rows:,}; comparisons: {len(whole):,}; per grade: "
          + ", ".join(f"{g} {len(r):,}" for g, r in graded.items()))
    print(f"baseline (the whole audit's comparison): {base:.2f} s")
    print(f"by grade (three grades run again):       {by_grade:.2f} s  ratio {by_grade / base:.2f}")
    print(f"by grade (all observed, reused):         {one:.4f} s")
    print(f"peak memory: {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
