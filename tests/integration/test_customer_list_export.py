"""The customer list's export at any size: CSV streamed from a cursor (the same bytes the whole
list written at once gives), XLSX above 20,000 customers written by a job (the same cells,
with the rights of the request that started it), on the default path as well (issue 20)."""
from __future__ import annotations

import io
import re

import openpyxl
import pandas as pd
import pytest

from app.extensions import db
from tests.integration.test_jobs_default_path import _manager, default_app, wait_for_job  # noqa: F401
from tests.integration.test_segments_views import segmented  # noqa: F401  (fixture)

LISTS = ["", "abc=A", "q=gmbh&sort=name&dir=asc", "segment=star&burr=1", "trajectory=shrinking&sort=contribution"]


def _cells(data: bytes) -> list[tuple]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    (sheet,) = book.worksheets
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def _whole_csv(app, client, query: str, language: str) -> bytes:
    """The list written at once, as the export did before it streamed."""
    from flask import request
    from flask_login import login_user

    from app.accounts.models import User
    from app.segments.customers import list_columns, list_frames, listing_of
    from app.segments.exports import table_bytes

    with app.test_request_context(f"/customers/export.csv?{query}", headers={"Accept-Language": language}):
        login_user(db.session.get(User, client.user_id))
        listing = listing_of(request.args)
        frames = list(list_frames(listing)())
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        data, _mimetype = table_bytes(frame, list_columns(listing), "csv", language, sheet="customers")
        db.session.remove()
    return data


@pytest.mark.parametrize("role", ["manager", "service"])
@pytest.mark.parametrize("language", ["de", "en"])
def test_the_csv_is_streamed_with_the_bytes_of_the_whole_list(
        app, as_role, users, segmented, role, language, monkeypatch):  # noqa: F811
    from app.segments import customers

    chunks = []
    original = customers.statement_chunks
    monkeypatch.setattr(customers, "statement_chunks", lambda *a, **k: chunks.append(1) or original(*a, rows=40))
    client = as_role(role)
    client.user_id = users[role].id
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    for query in LISTS:
        response = client.get(f"/customers/export.csv?{query}", buffered=False)
        assert response.status_code == 200 and response.mimetype == "text/csv"
        streamed = b"".join(response.response)
        response.close()
        assert streamed == _whole_csv(app, client, query, language), query
        header = streamed.decode("utf-8-sig").splitlines()[0]
        assert ("Umsatz" in header or "Revenue" in header) == (role == "manager"), header
    assert chunks  # read through the cursor


def test_a_large_lists_xlsx_is_a_job_with_the_cells_of_the_direct_one(
        app, as_role, users, segmented, monkeypatch):  # noqa: F811
    from app.segments import customers
    from app.web.models import Job

    for role in ("manager", "service"):
        client = as_role(role)
        for query in ("abc=A", "q=gmbh&sort=name&dir=asc"):
            direct = client.get(f"/customers/export.xlsx?{query}")
            assert direct.status_code == 200
            monkeypatch.setattr(customers, "XLSX_DIRECT_CUSTOMERS", 10)
            started = client.get(f"/customers/export.xlsx?{query}")
            monkeypatch.setattr(customers, "XLSX_DIRECT_CUSTOMERS", 20_000)
            assert started.status_code == 303 and "/jobs/" in started.headers["Location"], query
            job_id = int(re.search(r"/jobs/(\d+)", started.headers["Location"]).group(1))
            download = client.get(f"/jobs/{job_id}/download")
            assert download.status_code == 200 and 'filename="customers-' in download.headers["Content-Disposition"]
            cells = _cells(download.data)
            assert cells == _cells(direct.data) and len(cells) > 11, (role, query)
            assert ("Revenue (€)" in cells[0]) == (role == "manager")
            with app.app_context():
                assert db.session.get(Job, job_id).result["rows"] == len(cells) - 1
                db.session.remove()
            assert as_role("leadership").get(f"/jobs/{job_id}/download").status_code == 403  # not theirs


def test_a_large_lists_xlsx_job_on_the_default_path(default_app, monkeypatch):  # noqa: F811
    """Threads on SQLite, the schema from the migrations, as `make run` runs."""
    from app.segments import customers

    app = default_app
    client = _manager(app)
    direct = client.get("/customers/export.xlsx?sort=name&dir=asc")
    monkeypatch.setattr(customers, "XLSX_DIRECT_CUSTOMERS", 10)
    started = client.get("/customers/export.xlsx?sort=name&dir=asc")
    assert started.status_code == 303
    job_id = int(re.search(r"/jobs/(\d+)", started.headers["Location"]).group(1))
    wait_for_job(app, job_id, lambda: client.get(f"/jobs/{job_id}"))
    data = client.get(f"/jobs/{job_id}/download").data
    assert _cells(data) == _cells(direct.data) and len(_cells(data)) > 100
