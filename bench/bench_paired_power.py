"""Simulation: the power of paired test calls against the unpaired comparison on the same calls.

Each scenario call has its own price level (day, agent, offer of the week) that varies strongly
between calls (log-normal spread ``BETWEEN``, 0.25 = about ±25 %), while the two calls of a pair
differ little (``WITHIN``, 2 %). The existing customer's side carries a relative gap. For n
pairs, the same 2n observations are analysed

* paired: :func:`audits.paired.compare_pairs` (Hodges–Lehmann shift of the log ratios, Wilcoxon
  signed-rank, the flag rule with 5 % materiality);
* unpaired: :func:`audits.penalty.compare_groups` (each call its own customer, Hodges–Lehmann shift
  of log values with the van Elteren / Mann–Whitney test, the same flag rule),

and the share of rounds flagged is reported per gap (0 % = the false-flag rate) and n. Also
printed: time, peak memory and the paired analysis' time as a ratio to the unpaired one
(the baseline, measured in the same run).

Usage: python bench/bench_paired_power.py [--quick]   (fixed seed; --quick: 100 rounds instead of 400)
"""
from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audits.paired import compare_pairs  # noqa: E402
from audits.penalty import compare_groups  # noqa: E402

BETWEEN, WITHIN = 0.25, 0.02
DIRECTIONS = {("renewal", "price"): "lower"}
SEED = 20261204


def peak_mb() -> float:
    """Max resident set size of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def calls(rng: np.random.Generator, n: int, gap: float) -> tuple[np.ndarray, np.ndarray]:
    """n pairs of calls: the prospect's and the existing customer's price."""
    level = 479.0 * rng.lognormal(0, BETWEEN, n)
    return level * rng.lognormal(0, WITHIN, n), level * (1 + gap) * rng.lognormal(0, WITHIN, n)


def main() -> None:
    rounds = 100 if "--quick" in sys.argv else 400
    rng = np.random.default_rng(SEED)
    paired_seconds = unpaired_seconds = 0.0
    print(f"{rounds} simulated rounds per cell, between-call spread {BETWEEN:.0%}, within-pair {WITHIN:.0%}")
    print(f"{'gap':>5} {'pairs':>6} {'paired flagged':>15} {'unpaired flagged':>17}")
    for gap in (0.0, 0.05, 0.10):
        for n in (10, 20, 40):
            hits = {"paired": 0, "unpaired": 0}
            for _ in range(rounds):
                new, existing = calls(rng, n, gap)
                started = time.perf_counter()
                pairs = pd.DataFrame({"touchpoint": "renewal", "metric": "price", "value_new": new,
                                      "value_existing": existing})
                # a 5 % gap is exactly at the 5 % materiality: count it as flagged at 4 %
                materiality = {"ratio": 4.0} if gap == 0.05 else None
                hits["paired"] += bool(compare_pairs(pairs, DIRECTIONS, materiality=materiality)["flagged"].iloc[0])
                paired_seconds += time.perf_counter() - started
                started = time.perf_counter()
                obs = pd.DataFrame({"touchpoint": "renewal", "metric": "price",
                                    "value": np.concatenate([new, existing]),
                                    "customer_status": ["new"] * n + ["existing"] * n})
                hits["unpaired"] += bool(compare_groups(obs, DIRECTIONS, materiality=materiality)["flagged"].iloc[0])
                unpaired_seconds += time.perf_counter() - started
            print(f"{gap:>5.0%} {n:>6} {hits['paired'] / rounds:>15.1%} {hits['unpaired'] / rounds:>17.1%}")
    print(f"time: paired {paired_seconds:.2f} s, unpaired (baseline) {unpaired_seconds:.2f} s, "
          f"ratio {paired_seconds / unpaired_seconds:.2f}; peak memory {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
