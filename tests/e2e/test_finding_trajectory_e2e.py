"""From a finding to its shrinking penalised customers, on a 390 px phone and by keyboard."""
from __future__ import annotations

import pytest

from app.extensions import db

from .conftest import sign_in
from .test_phone import SIDEWAYS

pytestmark = pytest.mark.e2e


def finding_with_shrinking_customers(live_app) -> tuple[int, int]:
    """A demo root-cause finding whose penalised customers include shrinking ones, and how many."""
    from app.touchpoint_audit.models import Finding

    with live_app.app_context():
        for finding in db.session.scalars(db.select(Finding).where(Finding.kind == "aggregate")
                                          .order_by(Finding.id)):
            risk = (finding.figures or {}).get("trajectory") or {}
            if risk.get("shrinking"):
                found = finding.id, risk["shrinking"]
                db.session.remove()
                return found
        db.session.remove()
    pytest.fail("the demo data has no finding whose penalised customers include shrinking ones")


def test_from_the_finding_to_its_shrinking_customers_on_a_phone_by_keyboard(phone, live_server, live_app):
    finding_id, shrinking = finding_with_shrinking_customers(live_app)
    phone.context.set_extra_http_headers({"Accept-Language": "en"})
    sign_in(phone, live_server, "manager")
    phone.goto(f"{live_server}/findings/{finding_id}")
    section = phone.locator("[data-figure=trajectory-risk]")
    assert "penalised customers" in section.inner_text() and "contribution a year at risk" in section.inner_text()
    assert phone.evaluate(SIDEWAYS) == []
    link = phone.locator("a[data-link=shrinking-customers]")
    link.focus()
    phone.keyboard.press("Enter")
    phone.wait_for_url("**/customers/?finding=*")
    assert phone.locator("[data-filter=finding]").is_visible()
    assert phone.locator("main table tbody tr").count() == shrinking
    assert phone.evaluate(SIDEWAYS) == []
