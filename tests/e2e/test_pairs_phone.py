"""The pair form on a 390 px phone, by keyboard: nothing scrolls sideways, a pair is saved and
listed with its undo; the paired round's pages for the manager fit the phone too."""
from __future__ import annotations

import pytest

from app.extensions import db

from .conftest import sign_in
from .test_phone import SIDEWAYS, on_screen

pytestmark = pytest.mark.e2e


@pytest.fixture
def paired_audit(live_app) -> int:
    from app.touchpoint_audit.demo import DEMO_PAIRED_TITLE
    from app.touchpoint_audit.models import Audit

    with live_app.app_context():
        audit_id = db.session.scalar(db.select(Audit.id).where(Audit.title == DEMO_PAIRED_TITLE))
        db.session.remove()
    return audit_id


def test_logging_a_pair_on_a_phone_by_keyboard(live_app, live_server, phone, paired_audit):
    from app.touchpoint_audit.models import ObservationPair

    sign_in(phone, live_server, "service2")
    phone.goto(f"{live_server}/audits/{paired_audit}")
    assert "Still due from you this round" in phone.inner_text("#quota-due")
    phone.goto(f"{live_server}/audits/{paired_audit}/pairs")
    assert phone.evaluate(SIDEWAYS) == []
    assert on_screen(phone, "#pair-form input:not([type=hidden]), #pair-form select, #save-pair") == []
    assert phone.evaluate("document.activeElement.id") == "scenario_id"
    phone.keyboard.press("Tab")  # the scripts' summary
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.id") == "value_new"
    phone.keyboard.type("479,00")
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.id") == "value_existing"
    phone.keyboard.type("512,50")
    phone.keyboard.press("Enter")
    phone.wait_for_selector(".flash-success")
    assert "Pair saved" in phone.inner_text(".flash-success")
    first = phone.locator("#recent-pairs li").first
    assert "479.00" in first.inner_text() and "512.50" in first.inner_text()
    assert on_screen(phone, "#recent-pairs li:first-child button.undo") == []
    assert phone.evaluate(SIDEWAYS) == []
    first.locator("button.undo").click()
    phone.wait_for_selector(".flash-success:has-text('Pair removed')")
    with live_app.app_context():
        assert db.session.scalar(db.select(db.func.count(ObservationPair.id)).where(
            ObservationPair.audit_id == paired_audit)) == 52  # the demo's pairs, as they were
        db.session.remove()


def test_a_refused_pair_shows_its_errors_on_a_phone(live_server, phone, paired_audit):
    sign_in(phone, live_server, "service2")
    phone.goto(f"{live_server}/audits/{paired_audit}/pairs")
    phone.fill("#value_new", "-3")
    phone.fill("#value_existing", "500")
    phone.click("#save-pair")
    phone.wait_for_selector("#value_new-error")
    assert phone.locator("#value_existing[aria-invalid=false]").count() == 1
    assert on_screen(phone, "#pair-form p.error") == []
    assert phone.evaluate(SIDEWAYS) == []


@pytest.mark.parametrize("path", ["/audits/{id}/dashboard", "/audits/{id}/scenarios", "/audits/{id}/schedule",
                                  "/audits/{id}", "/audits/{id}/comparisons/renewal/price/overall/all"])
def test_the_paired_rounds_pages_fit_a_phone(live_server, phone, paired_audit, path):
    sign_in(phone, live_server, "manager")
    response = phone.goto(live_server + path.format(id=paired_audit))
    assert response.status == 200
    if "comparisons" in path:
        # the comparison page's own observation tables scroll inside their boxes (as before this
        # change); the paired section must not
        assert phone.locator("#paired").count() == 1
        assert phone.eval_on_selector("#paired .table-wrap", "box => box.scrollWidth <= box.clientWidth + 1")
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    else:
        assert phone.evaluate(SIDEWAYS) == []
