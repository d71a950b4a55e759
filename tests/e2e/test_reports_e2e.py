"""Leadership downloads the published report of the demo's earlier round in Chromium."""
from __future__ import annotations

import hashlib
import re

from tests.e2e.conftest import sign_in


def test_leadership_downloads_the_published_report(live_app, live_server, page, tmp_path):
    from app.extensions import db
    from app.touchpoint_audit.models import Audit

    with live_app.app_context():
        audit_id = db.session.scalar(db.select(Audit.id).where(Audit.status == "published"))
        db.session.remove()
    assert audit_id, "the demo should hold a published round"
    sign_in(page, live_server, "leadership")
    page.goto(f"{live_server}/reports/audits/{audit_id}")
    shown = page.locator("code.hash[data-lang='en']").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", shown)
    with page.expect_download() as info:
        page.locator("a[href$='/pdf/en']").click()
    download = info.value
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    assert hashlib.sha256(data).hexdigest() == shown
    assert download.suggested_filename.endswith("-en.pdf")


def test_leadership_sees_after_sales_and_service_is_refused(live_server, page):
    sign_in(page, live_server, "leadership")
    page.goto(f"{live_server}/after-sales/")
    assert page.locator("h1").inner_text() == "After-sales and repurchase"
    assert page.locator("svg").count() >= 1
    assert "Quoted reference" in page.content()
