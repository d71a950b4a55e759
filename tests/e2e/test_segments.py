"""A manager imports a German CSV, runs a segmentation and reads the results."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

def german(amount: float) -> str:
    """1234.5 -> '1.234,50' as German Excel writes it."""
    return f"{amount:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")


GERMAN_CSV = "Kundennummer;Name;Kunde seit;Periode;Umsatz;Betreuungskosten;Potenzial\n" + "".join(
    f"0990{c};Testkunde {c} GmbH;01.03.2012;2026-{m:02d};{german(1000 * c + 37 * m)};{german(400 * c)};"
    f"{german(5000 * c)}\n"
    for c in range(1, 4)
    for m in range(1, 11)
)


def test_manager_imports_runs_and_reads_a_customer(page, live_server):
    sign_in(page, live_server, "manager")
    page.goto(f"{live_server}/customers/import")
    page.set_input_files("input[type=file]", files=[{
        "name": "kundenwerte.csv", "mimeType": "text/csv", "buffer": GERMAN_CSV.encode("cp1252")}])
    page.click("button:has-text('Check file')")
    page.wait_for_selector("text=Preview")
    assert page.inner_text("[data-figure=rows]") == "30"
    page.click("button:has-text('Import now')")
    page.wait_for_url(f"{live_server}/customers/")
    assert "Imported 30 rows" in page.inner_text("main")

    page.goto(f"{live_server}/segments/run")
    page.click("button:has-text('Run segmentation')")
    page.wait_for_url(f"{live_server}/segments/")
    assert page.locator("main svg").count() >= 3
    assert "Care strategy per segment" in page.inner_text("main")

    page.goto(f"{live_server}/customers/")
    page.fill("input[name=q]", "09903")
    page.wait_for_selector(r"#results >> text=/\b1 customer\b/")
    page.click("#results a:has-text('09903')")
    page.wait_for_selector("#classes")
    text = page.inner_text("#classes")
    assert "because the customers before it make" in text
    assert "Care strategy" in text
    assert not page.console_errors  # not even a 404 (the favicon used to be one)


def test_a_column_sort_survives_a_later_filter_change(page, live_server):
    """Sort by a column, then filter: the list keeps that sort (a filter change used to send the old one)."""
    sign_in(page, live_server, "manager")
    page.goto(f"{live_server}/customers/import")
    page.set_input_files("input[type=file]", files=[{
        "name": "kundenwerte.csv", "mimeType": "text/csv", "buffer": GERMAN_CSV.encode("cp1252")}])
    page.click("button:has-text('Check file')")
    page.click("button:has-text('Import now')")
    page.wait_for_url(f"{live_server}/customers/")
    page.goto(f"{live_server}/segments/run")
    page.click("button:has-text('Run segmentation')")
    page.wait_for_url(f"{live_server}/segments/")

    page.goto(f"{live_server}/customers/")  # by default largest revenue first
    page.click("#results th a:has-text('Revenue')")  # now smallest first
    page.wait_for_url("**sort=revenue&dir=asc**")
    page.check("input[name=burr]")
    page.wait_for_url("**burr=1**")
    assert "sort=revenue&dir=asc" in page.url
    page.uncheck("input[name=burr]")
    page.wait_for_function("() => !location.search.includes('burr=1')")
    assert "sort=revenue&dir=asc" in page.url
    page.fill("input[name=q]", "0990")  # the three customers of this file
    page.wait_for_function("() => document.querySelectorAll('#results tbody tr').length === 3")
    assert "sort=revenue&dir=asc" in page.url
    numbers = page.locator("#results tbody tr td:first-child").all_inner_texts()
    assert numbers == ["09901", "09902", "09903"], numbers


def test_service_staff_read_the_customer_list_as_cards_on_a_phone(phone, live_server):
    """On 390 px each customer is a card of labelled classes; nothing scrolls sideways; no money."""
    page = phone
    sign_in(page, live_server, "service")
    page.goto(f"{live_server}/customers/")
    first = page.locator("#results tbody tr").first
    shown = first.locator("td[data-label]").evaluate_all(
        "cells => cells.map(c => getComputedStyle(c, '::before').content)")
    assert shown == ['"ABC"', '"Segment"', '"Tier"', '"Trajectory"'], shown  # no money columns for service
    assert "€" not in first.inner_text()
    # label and value sit on one line, the label to the left of its value
    cell = first.locator("td[data-label=Segment]")
    box = cell.bounding_box()
    assert box["height"] < 40 and box["width"] > 300, box
    wrap = page.evaluate("() => { const w = document.querySelector('#results .table-wrap');"
                         " return [w.scrollWidth, w.clientWidth, document.documentElement.scrollWidth, innerWidth]; }")
    assert wrap[0] <= wrap[1] and wrap[2] <= wrap[3], wrap
    assert not page.console_errors
