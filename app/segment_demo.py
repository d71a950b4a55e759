"""Demo step: a segmentation run over the demo company, so the app opens with results."""
from __future__ import annotations


def step_segmentation(ctx: dict) -> str:
    """Run the default segmentation on the demo data (inside the demo transaction)."""
    from app.extensions import db
    from app.segment_runs import run_segmentation

    db.session.flush()
    run = run_segmentation(commit=False)
    counts = run.summary["counts"]
    return (f"run {run.id}: {run.n_customers} customers, "
            f"{sum(1 for v in counts['trajectory'].values() if v)} trajectory types, {counts['burr']} burr")
