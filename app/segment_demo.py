"""Demo step: segmentation runs over the demo company, so the app opens with results.

Two runs: one over the first year of the demo data, dated a year back, and the
current one over all of it. With two runs the comparison page has a transition
matrix to show (how many Stars became Cash-Cows) from the first start.
"""
from __future__ import annotations

import datetime as dt


def step_segmentation(ctx: dict) -> str:
    """Run the default segmentation on the demo data (inside the demo transaction)."""
    from app.extensions import db
    from app.loaders.segments import default_window
    from app.models import User
    from app.segment_runs import run_segmentation
    from segmentation.windows import period_range

    db.session.flush()
    # run by the demo's touchpoint manager, so the run history names someone
    manager = db.session.scalar(db.select(User.id).where(User.username == "manager"))
    said = []
    window = default_window()
    periods = period_range(*window) if window else []
    if len(periods) >= 18:  # a year earlier still leaves six periods for the trajectories
        earlier = run_segmentation(window_start=periods[0], window_end=periods[-13], user_id=manager,
                                   commit=False)
        earlier.created_at = earlier.created_at - dt.timedelta(days=365)
        said.append(f"run {earlier.id} ({earlier.window_start} – {earlier.window_end}, dated a year back)")
    run = run_segmentation(user_id=manager, commit=False)
    counts = run.summary["counts"]
    said.append(f"run {run.id}: {run.n_customers} customers, "
                f"{sum(1 for v in counts['trajectory'].values() if v)} trajectory types, {counts['burr']} burr")
    return "; ".join(said)
