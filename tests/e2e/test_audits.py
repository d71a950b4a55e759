"""Journeys of the audit area in a real browser: a service user logs observations by
keyboard on a phone, a manager runs the analysis, leadership reads a finding."""
from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import sign_in

# Waits use selectors, not wait_for_function: the CSP forbids the eval Playwright
# needs to poll a JavaScript predicate.
pytestmark = pytest.mark.e2e

AUDIT_TITLE = "Touchpoint-Audit 2026/Q4"


def _first_values(page, n):
    return [t.strip() for t in page.locator("#recent tbody tr td:nth-child(3)").all_inner_texts()[:n]]


def test_service_user_logs_three_observations_by_keyboard_on_a_phone(phone, live_server):
    page = phone
    sign_in(page, live_server, "service")
    page.goto(f"{live_server}/log")
    if page.locator("#log-form").count() == 0:  # several open audits: choose ours
        page.click(f"text={AUDIT_TITLE}")
    page.wait_for_selector("#log-form")
    assert AUDIT_TITLE in page.inner_text("main")
    # The value field has the focus on arrival (autofocus is applied after load; wait
    # for it, or it could steal the focus from the select below).
    page.wait_for_selector("#value:focus")
    # 1: choose the metric by typing in the select; htmx swaps in the fields for its unit
    page.focus("#metric_id")
    page.keyboard.type("Hotline · Wa")
    page.wait_for_selector("label[for=value]:has-text('(s')")
    # From the metric, Tab leads to the value (on a loaded machine a late autofocus
    # may already have moved there, so start the tab-order check from the select).
    page.focus("#metric_id")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "value"
    page.keyboard.type("95")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "customer_q"
    page.keyboard.type("004711")
    page.keyboard.press("Enter")
    page.wait_for_selector("#saved-msg")
    assert "95" in page.inner_text("#saved-msg")
    # the metric stays selected, the value field has the focus again
    assert "Waiting time" in page.locator("#metric_id option:checked").inner_text()
    page.wait_for_selector("#value:focus")
    # 2: an unknown new customer: status chosen by keyboard, saved with the button
    page.keyboard.type("120")
    page.keyboard.press("Tab")  # customer (left empty)
    page.keyboard.press("Tab")  # status
    assert page.evaluate("document.activeElement.id") == "customer_status"
    page.keyboard.type("New")
    page.keyboard.press("Tab")  # "Date, note, evidence, photo"
    page.keyboard.press("Tab")  # Save
    assert page.evaluate("document.activeElement.id") == "save"
    page.keyboard.press("Enter")
    page.wait_for_selector("#saved-msg:has-text('120')")
    # 3: a wrong value is explained while typing, then corrected; the customer found by search
    page.wait_for_selector("#value:focus")
    page.keyboard.type("-5")
    page.wait_for_selector("#value-feedback.error")
    assert "negative" in page.inner_text("#value-feedback")
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    page.keyboard.type("30")
    page.wait_for_selector("#value-feedback.help")
    page.keyboard.press("Tab")
    page.keyboard.type("00471")
    page.wait_for_selector("#customer-results button.result")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.classList.contains('result')")
    page.keyboard.press("Enter")  # picks the customer; status filled in from tenure
    page.wait_for_selector("#customer-chosen")
    page.wait_for_selector("#customer_status:focus")  # htmx moves the focus there as the swap settles
    assert page.locator("#customer_status").input_value() in ("existing", "new")
    page.keyboard.press("Tab")  # Date, note, evidence, photo
    page.keyboard.press("Tab")  # Save
    page.keyboard.press("Enter")
    page.wait_for_selector("#saved-msg:has-text('30')")
    assert _first_values(page, 3) == ["30 s", "120 s", "95 s"]
    # fits the phone screen, no script blocked
    assert page.evaluate("document.documentElement.scrollWidth") <= 392
    assert not [e for e in page.console_errors if "Content Security Policy" in e]
    # undo the last entry
    page.locator("#recent tbody tr").first.locator("button", has_text="Undo").click()
    page.wait_for_selector("#recent >> text=Entry removed")
    assert _first_values(page, 2) == ["120 s", "95 s"]


def test_manager_runs_the_analysis_and_sees_the_dashboard(page, live_server):
    sign_in(page, live_server, "manager")
    page.goto(f"{live_server}/audits/")
    page.click(f"text={AUDIT_TITLE}")
    page.click("#run-analysis")
    page.wait_for_url(re.compile(r".*/audits/\d+/dashboard$"))
    assert "Analysis done" in page.inner_text(".flashes")
    assert page.locator("svg.heatmap").is_visible()
    assert page.locator("svg.heatmap g.flagged").count() >= 1
    assert page.locator("[data-figure=total-excess]").inner_text().startswith("€")
    assert page.locator("table.cases tbody tr").count() >= 1


def test_leadership_reads_a_finding(page, live_server):
    sign_in(page, live_server, "leadership")
    page.goto(f"{live_server}/findings/")
    assert page.locator("tr.overdue").count() >= 1  # overdue actions stand out
    page.locator("table.findings tbody tr a").first.click()
    page.wait_for_url(re.compile(r".*/findings/\d+$"))
    text = page.inner_text("main")
    assert "Supporting figures" in text and "Recommended action" in text
    assert page.locator("form[action$='/update']").count() == 0  # leadership reads, does not edit
    page.fill("#c-body", "Please report back next week.")
    page.click("text=Add comment")
    page.wait_for_selector("text=Please report back next week.")
