"""Each role's start page in a real browser, on a laptop (1366 px) and a phone (390 px),
in German and English: the role's panel is there and the main content does not scroll
sideways on the phone."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import _open_page, sign_in

pytestmark = pytest.mark.e2e

WIDTHS = {"laptop": {"viewport": {"width": 1366, "height": 900}},
          "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}}

# role -> (panel, a selector inside it that must be there, {lang: a heading of the panel})
EXPECTED = {
    "leadership": ("leadership", "[data-answer]", {"en": "The answer", "de": "Die Antwort"}),
    "manager": ("manager", "[data-audit]", {"en": "Your work", "de": "Ihre Aufgaben"}),
    "service": ("service", "a.button.primary[href*='/log?audit_id=']",
                {"en": "Your audit rounds", "de": "Ihre Audit-Runden"}),
}

OVERFLOW = """() => {
  const main = document.querySelector('main');
  const wide = [...main.querySelectorAll('section, article, p, li, h1, h2, h3, a.button')]
    .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
    .map(el => el.tagName + '.' + el.className + ': ' + el.textContent.trim().slice(0, 60));
  return {page: document.documentElement.scrollWidth, main: main.scrollWidth, viewport: window.innerWidth, wide};
}"""


@pytest.fixture
def in_language(browser, live_server):
    """A signed-in page for (role, width, lang); the user's language is set back to English after."""
    opened = []

    def make(role: str, width: str, lang: str):
        context, page = _open_page(browser, **WIDTHS[width])
        opened.append((context, page))
        sign_in(page, live_server, role)
        if lang != "en":
            page.goto(f"{live_server}/")
            _switch(page, lang)
        return page

    yield make
    for context, page in opened:
        _switch(page, "en")
        context.close()


def _switch(page, lang: str) -> None:
    button = page.locator(f"form.lang-switch button[value={lang}]")
    if page.get_attribute("html", "lang") == lang:
        return
    if not button.is_visible():  # on the phone the switch sits in the menu
        page.locator(".nav-toggle-label").click()
    with page.expect_navigation():
        button.click()
    assert page.get_attribute("html", "lang") == lang


@pytest.mark.parametrize("lang", ["en", "de"])
@pytest.mark.parametrize("width", ["laptop", "phone"])
@pytest.mark.parametrize("role", ["leadership", "manager", "service"])
def test_start_page_by_role(in_language, live_server, role, width, lang):
    page = in_language(role, width, lang)
    page.goto(f"{live_server}/")
    assert page.get_attribute("html", "lang") == lang
    panel_name, inside, headings = EXPECTED[role]
    panel = page.locator(f"section[data-panel={panel_name}]")
    assert panel.is_visible()
    assert headings[lang] in panel.locator("h2").inner_text()
    assert panel.locator(inside).count() >= 1
    for other in set(EXPECTED) - {role}:
        assert page.locator(f"section[data-panel={EXPECTED[other][0]}]").count() == 0
    if role == "leadership":
        sentence = panel.locator("[data-answer]").first.inner_text()
        assert ("n = " in sentence) and (("pay" in sentence or "wait" in sentence or "fare" in sentence)
                                         if lang == "en" else
                                         ("zahlen" in sentence or "warten" in sentence or "behandelt" in sentence))
        assert panel.locator("a[data-pdf]").count() >= 1  # the PDF one click away
    sizes = page.evaluate(OVERFLOW)
    assert sizes["page"] <= sizes["viewport"] and sizes["main"] <= sizes["viewport"], sizes
    assert not sizes["wide"], sizes["wide"]
    assert not page.console_errors
