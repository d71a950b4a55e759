"""Background jobs of the segmentation area: large imports, large runs and their XLSX exports."""
from __future__ import annotations

import tempfile

import sqlalchemy as sa

from app.extensions import db
from app.segments.exports import XLSX_MIMETYPE, run_xlsx, write_xlsx
from app.segments.importing import import_customer_values, parse_upload
from app.segments.models import SegmentationRun
from app.segments.runs import run_segmentation
from app.web import uploads
from app.web.jobs import report, store_file


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


def run_xlsx_job(job_id: int, run_id: int, language: str, filename: str) -> dict:
    """A large run's XLSX export, written in openpyxl's write-only mode into a temporary file
    (ten thousand customers in memory at a time) and kept for download, with progress."""
    run = db.session.get(SegmentationRun, run_id)
    if run is None or run.status != "done":
        raise ValueError("This segmentation run no longer exists.")
    total = max(run.n_customers, 1)
    report(job_id, 0.01, "Writing the spreadsheet")
    with tempfile.TemporaryFile() as target:
        rows = run_xlsx(run_id, language, target, run.n_customers,
                        progress=lambda written: report(job_id, 0.01 + 0.9 * written / total, "Writing the spreadsheet"))
        db.session.rollback()  # the reading transaction ends before the file is stored
        report(job_id, 0.93, "Storing the file")
        target.seek(0)
        store_file(job_id, filename, XLSX_MIMETYPE, target.read())
    return {"file": filename, "rows": rows}


def customer_list_xlsx_job(job_id: int, args: dict, show_money: bool, language: str, filename: str) -> dict:
    """The customer list's XLSX export (its filters, search, sort and finding as the request gave
    them, with the request's right to the money columns), written in openpyxl's write-only mode
    ten thousand customers at a time and kept for download, with progress."""
    from app.segments.customers import list_columns, list_frames, listing_of  # the list's own view module

    listing = listing_of(args, show_money=show_money, checked=True)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(listing.base.subquery())) or 0
    report(job_id, 0.01, "Writing the spreadsheet")
    with tempfile.TemporaryFile() as target:
        rows = write_xlsx(list_frames(listing)(), list_columns(listing), language, "customers", target, total,
                          progress=lambda written: report(job_id, 0.01 + 0.9 * written / max(total, 1),
                                                          "Writing the spreadsheet"))
        db.session.rollback()  # the reading transaction ends before the file is stored
        report(job_id, 0.93, "Storing the file")
        target.seek(0)
        store_file(job_id, filename, XLSX_MIMETYPE, target.read())
    return {"file": filename, "rows": rows}
