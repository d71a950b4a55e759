"""Every page a role opens, on a 390 px phone: the main content never scrolls sideways (lists
become cards; only charts and the run-to-run matrix scroll inside their own box), and the
fields people come for are on screen."""
from __future__ import annotations

import pytest

from .conftest import sign_in
from .test_accessibility import PAGES, ids  # noqa: F401  (the ids fixture)

pytestmark = pytest.mark.e2e

WIDTH = 390

# Boxes that may scroll sideways inside the page: charts at a legible size, the transition matrix.
SIDEWAYS = """() => {
  const wide = [];
  if (document.documentElement.scrollWidth > window.innerWidth) wide.push('page ' + document.documentElement.scrollWidth);
  for (const box of document.querySelectorAll('main .table-wrap')) {
    if (box.querySelector('table.transitions')) continue;
    if (box.scrollWidth > box.clientWidth + 1) wide.push((box.querySelector('table') || box).className + ' ' + box.scrollWidth);
  }
  return wide;
}"""


def on_screen(page, selector: str) -> list[str]:
    """Texts of the elements matching ``selector`` that are hidden or reach past the phone's width."""
    return page.eval_on_selector_all(selector, """(els, width) => els.filter(el => {
        const box = el.getBoundingClientRect();
        return box.width === 0 || box.height === 0 || box.left < 0 || box.right > width;
      }).map(el => el.textContent.trim() || el.outerHTML.slice(0, 80))""", WIDTH)


@pytest.mark.parametrize("role", ["manager", "leadership", "service"])
def test_no_page_scrolls_sideways_on_a_phone(phone, live_server, ids, role):  # noqa: F811
    sign_in(phone, live_server, role)
    found = {}
    for path in PAGES[role]:
        phone.goto(live_server + path.format(**ids))
        wide = phone.evaluate(SIDEWAYS)
        if wide:
            found[path] = wide
    assert not found, found


@pytest.mark.parametrize("role", ["manager", "leadership"])
def test_findings_list_shows_status_due_date_and_owner_on_a_phone(phone, live_server, role):
    sign_in(phone, live_server, role)
    phone.goto(f"{live_server}/findings/")
    rows = phone.locator("table.findings tbody tr")
    assert rows.count() > 0
    for field in ("status", "due", "owner"):
        assert phone.locator(f"table.findings td[data-field={field}]").count() == rows.count()
        assert on_screen(phone, f"table.findings td[data-field={field}]") == [], field


def test_touchpoint_edit_links_are_on_a_phone_screen(phone, live_server):
    sign_in(phone, live_server, "manager")
    phone.goto(f"{live_server}/touchpoints/")
    assert phone.locator("a[data-edit-metric]").count() > 0
    assert on_screen(phone, "a[data-edit-metric]") == []


def test_price_walking_legend_covers_no_point(phone, live_server, ids):  # noqa: F811
    sign_in(phone, live_server, "leadership")
    phone.goto(f"{live_server}/audits/{ids['audit']}/dashboard")
    charts = phone.locator(".tenure svg")
    assert charts.count() > 0
    covered = phone.eval_on_selector_all(".tenure svg", """svgs => svgs.map(svg => {
        const legend = svg.querySelector('g[id^="legend"]').getBBox();
        return Array.from(svg.querySelectorAll('g[id^="PathCollection"] use')).filter(point => {
          const x = +point.getAttribute('x'), y = +point.getAttribute('y');
          return x >= legend.x && x <= legend.x + legend.width && y >= legend.y && y <= legend.y + legend.height;
        }).length;
      })""")
    assert covered == [0] * charts.count()


def test_logging_on_a_phone(phone, live_server):
    """Service staff log an unknown prospect without touching the customer fields, see the entry's
    status and undo on screen, undo it (the "Saved" banner goes), and see a picked customer's
    segment and care level."""
    sign_in(phone, live_server, "service")
    phone.goto(f"{live_server}/log")
    phone.select_option("#metric_id", label="Hotline · Waiting time")
    phone.wait_for_selector("label[for=value]:has-text('mm:ss')")  # the fields of a duration are in
    phone.fill("#value", "95")
    phone.click("#save")
    phone.wait_for_selector("#saved-msg")
    assert phone.locator("#log-form .error").count() == 0
    row = phone.locator("#recent tbody tr").first
    assert row.locator("td[data-field=status]").inner_text() == "New customer"
    assert on_screen(phone, "#recent tbody tr:first-child td[data-field=status]") == []
    assert on_screen(phone, "#recent tbody tr:first-child button.undo") == []
    assert phone.evaluate(SIDEWAYS) == []

    row.locator("button.undo").click()
    phone.wait_for_selector("#recent .undone")
    assert phone.locator("#saved-msg").count() == 0

    phone.fill("#customer_q", "004711")
    phone.click("#customer-results button.result")
    care = phone.locator("#customer-care")
    care.wait_for()
    assert "Segment:" in care.inner_text() and "Care level:" in care.inner_text()
