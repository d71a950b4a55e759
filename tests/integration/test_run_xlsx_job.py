"""A large run's XLSX export as a background job: progress, then a download of the same sheet
the direct export gives, for the person who started it only."""
from __future__ import annotations

import io
import re

import openpyxl
import pytest

from app.extensions import db
from tests.integration.test_jobs_default_path import _manager, default_app, wait_for_job  # noqa: F401
from tests.integration.test_segments_views import segmented  # noqa: F401  (fixture)


def _cells(data: bytes) -> list[tuple]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    (sheet,) = book.worksheets
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def _export_through_a_job(client, run_id: int, poll) -> tuple[int, bytes]:
    from app.segments import views

    started = client.get(f"/segments/runs/{run_id}/export.xlsx")
    assert started.status_code == 303 and "/jobs/" in started.headers["Location"]
    job_id = int(re.search(r"/jobs/(\d+)", started.headers["Location"]).group(1))
    poll(job_id)
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert f"/jobs/{job_id}/download" in page, page
    response = client.get(f"/jobs/{job_id}/download")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert f'filename="segments-run-{run_id}-' in response.headers["Content-Disposition"]
    assert views.XLSX_DIRECT_CUSTOMERS < 150
    return job_id, response.data


def test_a_large_runs_xlsx_is_written_by_a_job_on_the_default_path(default_app, monkeypatch):  # noqa: F811
    """Threads on SQLite, the schema from the migrations, as `make run` runs."""
    from app.segments import views
    from app.segments.models import SegmentationRun

    app = default_app
    with app.app_context():
        run_id = db.session.scalar(db.select(db.func.max(SegmentationRun.id)))
        db.session.remove()
    client = _manager(app)
    direct = client.get(f"/segments/runs/{run_id}/export.xlsx")
    assert direct.status_code == 200  # small: written at once, as before
    monkeypatch.setattr(views, "XLSX_DIRECT_CUSTOMERS", 10)
    job_id, data = _export_through_a_job(client, run_id, lambda job: wait_for_job(app, job, lambda: client.get(
        f"/jobs/{job}")))
    rows = _cells(data)
    assert rows == _cells(direct.data)
    assert len(rows) > 100 and rows[0][0] == "Customer no."


def test_a_large_runs_xlsx_job_inline_and_only_for_its_starter(app, as_role, segmented, monkeypatch):  # noqa: F811
    """The suite's own database (PostgreSQL when TEST_DATABASE_URL is set), jobs run inline."""
    from app.segments import views
    from app.web.models import Job, JobFile

    client = as_role("manager")
    run_id = segmented["run_id"]
    direct = client.get(f"/segments/runs/{run_id}/export.xlsx", headers={"Accept-Language": "de"})
    monkeypatch.setattr(views, "XLSX_DIRECT_CUSTOMERS", 10)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    job_id, data = _export_through_a_job(client, run_id, lambda job: None)
    assert _cells(data) == _cells(direct.data)  # in the starter's language (German headers)
    assert _cells(data)[0][0] == "Kundennr."
    with app.app_context():
        assert db.session.get(Job, job_id).result["rows"] == len(_cells(data)) - 1
        db.session.remove()
    assert as_role("leadership").get(f"/jobs/{job_id}/download").status_code == 403  # not theirs
    assert as_role("service").get(f"/segments/runs/{run_id}/export.xlsx").status_code == 403
    assert as_role("admin").get(f"/jobs/{job_id}/download").status_code == 200
    # unknown, unfinished or removed files: 404, never a 500
    assert client.get("/jobs/999999/download").status_code == 404
    assert client.get("/jobs/99999999999999999999/download").status_code == 404
    with app.app_context():
        db.session.execute(db.delete(JobFile))
        db.session.commit()
        db.session.remove()
    assert client.get(f"/jobs/{job_id}/download").status_code == 404


def test_an_xlsx_job_for_a_run_that_is_gone_fails_with_a_message(app, users):
    from app.web import jobs

    with app.test_request_context():
        job = jobs.enqueue("run_xlsx_export", created_by_id=users["manager"].id, run_id=424242, language="en",
                           filename="x.xlsx")
        db.session.refresh(job)
        assert job.status == "failed" and job.error == "This segmentation run no longer exists."
        db.session.remove()


@pytest.mark.parametrize("rows, chunk", [(0, 7), (5, 7), (23, 7)])
def test_the_streamed_sheet_equals_the_whole_one(app, rows, chunk):
    """write_xlsx over pieces of a frame gives the cells write_xlsx gives over the whole frame."""
    import pandas as pd

    from app.segments.exports import RUN_COLUMNS, write_xlsx

    frame = pd.DataFrame({column.code: [None] * rows for column in RUN_COLUMNS})
    frame["customer_id"] = [f"{n:05d}" for n in range(rows)]
    frame["revenue"] = [n * 1.5 for n in range(rows)]
    whole, pieces, seen = io.BytesIO(), io.BytesIO(), []
    with app.test_request_context():
        write_xlsx([frame], RUN_COLUMNS, "en", "segments", whole, rows)
        written = write_xlsx((frame.iloc[i:i + chunk] for i in range(0, max(rows, 1), chunk)), RUN_COLUMNS, "en",
                             "segments", pieces, rows, progress=seen.append)
    assert written == rows and (seen[-1] if seen else 0) == rows
    assert _cells(pieces.getvalue()) == _cells(whole.getvalue())
    assert len(_cells(whole.getvalue())) == rows + 1
