"""Journeys by keyboard alone: Tab, arrow keys, typing and Enter; no click, no focus set by the
test. Each step checks where the focus is, so a control the keyboard cannot reach fails."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.touchpoint_audit.models import Audit, Finding, Observation

from .conftest import sign_in

pytestmark = pytest.mark.e2e


def focused(page, selector: str) -> bool:
    return page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector)


def tab_to(page, selector: str, limit: int = 120) -> None:
    """Press Tab until ``selector`` has the focus; fail when it is not reached within ``limit`` presses."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(page, selector):
            return
    raise AssertionError(f"{selector} not reached by Tab")


def test_logging_an_observation_by_keyboard(live_app, live_server, page):
    sign_in(page, live_server, "service")
    page.goto(f"{live_server}/log")
    assert focused(page, "#value"), "the value field has the focus on arrival"
    page.keyboard.type("499")
    tab_to(page, "#product_key", limit=3)
    page.keyboard.type("PLUS")
    tab_to(page, "#customer_q", limit=5)
    page.keyboard.type("004711")
    page.wait_for_selector("#customer-results button.result")
    page.keyboard.press("ArrowDown")
    assert focused(page, "#customer-results button.result")
    page.keyboard.press("Enter")
    page.wait_for_selector("#customer-chosen")
    page.wait_for_selector("#customer_status:focus")  # htmx moves the focus there as the swap settles
    tab_to(page, "#save", limit=10)
    page.keyboard.press("Enter")
    page.wait_for_selector("#saved-msg")
    assert "004711" in page.inner_text("#recent tbody tr:first-child")
    with live_app.app_context():
        newest = db.session.scalar(db.select(Observation).order_by(Observation.id.desc()).limit(1))
        assert (newest.value, newest.product_key, newest.customer.customer_no) == (499.0, "PLUS", "004711")
        db.session.delete(newest)  # the demo stays as the other tests know it
        db.session.commit()
        db.session.remove()


def test_changing_a_findings_status_and_owner_by_keyboard(live_app, live_server, page):
    with live_app.app_context():
        finding = db.session.scalar(db.select(Finding).join(Audit, Finding.audit_id == Audit.id)
                                    .where(Finding.status == "open", Audit.status != "published")
                                    .order_by(Finding.id).limit(1))
        before = (finding.id, finding.status, finding.owner_id, finding.due_date)
        db.session.remove()
    sign_in(page, live_server, "manager")
    page.goto(f"{live_server}/findings/")
    tab_to(page, f"tr[data-finding='{before[0]}'] a")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/findings/{before[0]}")
    tab_to(page, "#upd-status")
    page.keyboard.press("ArrowDown")
    tab_to(page, "#upd-owner_id", limit=3)
    page.keyboard.press("ArrowDown")
    chosen = page.evaluate("() => [document.querySelector('#upd-status').value, document.querySelector('#upd-owner_id').value]")
    tab_to(page, "form[action$='/update'] button[type=submit]", limit=10)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    try:
        with live_app.app_context():
            after = db.session.get(Finding, before[0])
            assert [after.status, str(after.owner_id or 0)] == chosen
            assert (after.status, after.owner_id) != before[1:3]
            db.session.remove()
    finally:
        with live_app.app_context():
            finding = db.session.get(Finding, before[0])
            finding.status, finding.owner_id, finding.due_date = before[1:]
            db.session.commit()
            db.session.remove()


def test_publishing_a_report_by_keyboard(live_app, live_server, page):
    """A round in review with a copy of the demo's analysis, so the demo's own rounds stay as they are."""
    from app.touchpoint_audit.models import AnalysisSnapshot

    with live_app.app_context():
        source = db.session.scalar(db.select(Audit).where(Audit.status == "open").order_by(Audit.id).limit(1))
        snapshot = db.session.scalar(db.select(AnalysisSnapshot).where(AnalysisSnapshot.audit_id == source.id)
                                     .order_by(AnalysisSnapshot.id.desc()).limit(1))
        audit = Audit(title="Keyboard round", status="review", period_start=source.period_start,
                      period_end=source.period_end, scope_segments=source.scope_segments,
                      scope_products=source.scope_products, metrics=list(source.metrics))
        db.session.add(audit)
        db.session.flush()
        db.session.add(AnalysisSnapshot(audit_id=audit.id, n_observations=snapshot.n_observations,
                                        params=snapshot.params, comparisons=snapshot.comparisons,
                                        cases=snapshot.cases, gradient=snapshot.gradient))
        db.session.commit()
        audit_id = audit.id
        db.session.remove()
    try:
        sign_in(page, live_server, "manager")
        page.goto(f"{live_server}/reports/")
        tab_to(page, f"a[href='/reports/audits/{audit_id}']")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        tab_to(page, f"form[action='/reports/audits/{audit_id}/publish'] button")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        tab_to(page, "form input[name=confirm] ~ button[type=submit]")
        with page.expect_navigation(timeout=300_000):  # both PDFs are rendered before the answer
            page.keyboard.press("Enter")
        with live_app.app_context():
            assert db.session.get(Audit, audit_id).status == "published"
            db.session.remove()
    finally:
        with live_app.app_context():
            db.session.delete(db.session.get(Audit, audit_id))
            db.session.commit()
            db.session.remove()
