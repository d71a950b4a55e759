"""Background jobs of the segmentation area: large imports and large runs."""
from __future__ import annotations

from app.segments.importing import import_customer_values, parse_upload
from app.segments.runs import run_segmentation
from app.web import uploads
from app.web.jobs import report


def customer_import_job(job_id: int, token: str, user_id: int, redirect: str, sheet: str | None = None) -> dict:
    """Parse the staged file again and write it (all or nothing), reporting progress."""
    report(job_id, 0.02, "Reading the file")
    staged = uploads.load(token, "customer_values", user_id)
    check = parse_upload(staged.data, staged.filename, sheet)
    if not check.ok:
        raise ValueError(check.errors[0].message if check.errors else "the file has problems")
    counts = import_customer_values(check, user_id=user_id,
                                    progress=lambda f, m: report(job_id, 0.1 + 0.9 * f, m))
    uploads.discard(token)
    return {**counts, "redirect": redirect}


def segmentation_run_job(job_id: int, window_start: str, window_end: str, parameters: dict, user_id: int,
                         redirect: str) -> dict:
    """A segmentation run of many customers, with progress."""

    result = run_segmentation(window_start, window_end, parameters, user_id=user_id,
                              progress=lambda f, m: report(job_id, f, m))
    return {"redirect": redirect, "run_id": result.id}
