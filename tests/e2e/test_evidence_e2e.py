"""Evidence in a real browser on a phone: a service user logs an observation with a photo
through the htmx form, a manager sees its thumbnail on the comparison page and switches the
comparison to observed evidence; nothing scrolls sideways at 390 px."""
from __future__ import annotations

import pytest

from app.extensions import db
from tests.e2e.conftest import sign_in
from tests.e2e.test_phone import SIDEWAYS
from tests.integration.evidence_samples import jpeg_bytes

pytestmark = pytest.mark.e2e

AUDIT_TITLE = "Touchpoint-Audit 2026/Q4"


def _demo_audit(live_app):
    from app.touchpoint_audit.models import Audit, Evidence

    with live_app.app_context():
        audit_id = db.session.scalar(db.select(Audit.id).where(Audit.title == AUDIT_TITLE))
        n_evidence = db.session.scalar(db.select(db.func.count(Evidence.id)))
        db.session.remove()
    return audit_id, n_evidence


def test_a_photo_logged_on_a_phone_shows_on_the_comparison_page(browser, phone, live_server, live_app):
    audit_id, before = _demo_audit(live_app)
    page = phone
    sign_in(page, live_server, "service")
    page.goto(f"{live_server}/log?audit_id={audit_id}")
    page.wait_for_selector("#log-form")
    page.select_option("#metric_id", label="Hotline · Waiting time")
    page.wait_for_selector("label[for=value]:has-text('(s')")
    page.fill("#value", "97")
    page.select_option("#customer_status", "new")
    page.click("details.more summary")
    assert page.locator("#evidence_grade option:checked").get_attribute("value") == "observed"
    assert page.get_attribute("#evidence", "capture") == "environment"
    page.set_input_files("#evidence", files=[{"name": "IMG_0001.JPG", "mimeType": "image/jpeg",
                                              "buffer": jpeg_bytes((120, 90), gps=True)}])
    assert page.evaluate(SIDEWAYS) == []
    page.click("#save")
    page.wait_for_selector("#saved-msg:has-text('97')")
    assert _demo_audit(live_app)[1] == before + 1
    assert not [e for e in page.console_errors if "Content Security Policy" in e]

    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    manager = context.new_page()
    manager.set_default_timeout(15_000)
    try:
        sign_in(manager, live_server, "manager")
        manager.goto(f"{live_server}/audits/{audit_id}/comparisons/hotline/wait/overall/all")
        thumbs = manager.locator('#observations img[src*="/evidence/"]')
        assert thumbs.count() >= 1
        assert manager.evaluate("(img) => img.complete && img.naturalWidth > 0", thumbs.first.element_handle())
        assert manager.evaluate(SIDEWAYS) == []
        manager.select_option("#grade", "observed")
        manager.click("#grade-filter button")
        manager.wait_for_url("**grade=observed")
        assert manager.get_attribute("#comparison-figures", "data-grade") == "observed"
        assert manager.evaluate(SIDEWAYS) == []
    finally:
        context.close()
