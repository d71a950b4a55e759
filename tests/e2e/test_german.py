"""German that stays German: every page each role opens, in German, on the demo company.

What a German reader must never see in the text of a page, its ``title`` attributes or a
chart's tooltips (SVG ``<title>``): ISO dates (2026-11-29), decimal points (2.5), English
unit words (seconds, customers …) and raw floats (effect 2.369998629493302).
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from .test_accessibility import PAGES, ids  # noqa: F401  (the ids fixture)

pytestmark = pytest.mark.e2e

ISO_DATE = re.compile(r"(?<![\d-])\d{4}-\d{2}-\d{2}(?![\d-])")
NUMBER_WITH_POINT = re.compile(r"(?<![\w.,-])\d+(?:\.\d+)+(?![\w.,])")
GERMAN_DATE = re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{4}\b")
GERMAN_THOUSANDS = re.compile(r"\d{1,3}(?:\.\d{3})+")
RAW_FLOAT = re.compile(r"\d[.,]\d{5,}")
ENGLISH_UNITS = re.compile(r"\b(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|customers?|rows?|pages?|"
                           r"observations?|points?|pts)\b")
SKIP = {"script", "style", "code", "textarea"}


class Texts(HTMLParser):
    """The visible text of a page in pieces, and its title attributes and SVG titles apart."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.titles: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("title", "aria-label", "data-label", "placeholder") and value:
                self.titles.append(value)
        if tag not in ("br", "img", "input", "meta", "link", "hr", "use", "path", "rect", "circle", "line"):
            # what users wrote (comments) is in whatever language they wrote it
            self.stack.append(tag + ("#user" if any(name == "data-user-text" for name, _ in attrs) else ""))

    def handle_startendtag(self, tag, attrs):
        for name, value in attrs:
            if name in ("title", "aria-label", "data-label", "placeholder") and value:
                self.titles.append(value)

    def handle_endtag(self, tag):
        if any(entry.split("#")[0] == tag for entry in self.stack):
            while self.stack and self.stack.pop().split("#")[0] != tag:
                pass

    def handle_data(self, data):
        if not data.strip() or SKIP & set(self.stack) or any(entry.endswith("#user") for entry in self.stack):
            return
        (self.titles if "title" in self.stack and "svg" in self.stack else self.text).append(data.strip())


def problems(html: str) -> list[str]:
    """What is not German on the page: each problem with the text it was found in."""
    parser = Texts()
    parser.feed(html)
    found = []
    for kind, pieces in (("text", parser.text), ("title", parser.titles)):
        for piece in pieces:
            if ISO_DATE.search(piece):
                found.append(f"ISO date in {kind}: {piece[:120]}")
            for number in NUMBER_WITH_POINT.findall(GERMAN_DATE.sub("", ISO_DATE.sub("", piece))):
                if not GERMAN_THOUSANDS.fullmatch(number):
                    found.append(f"decimal point in {kind}: {number} in {piece[:120]}")
            if RAW_FLOAT.search(piece):
                found.append(f"raw float in {kind}: {piece[:120]}")
            if ENGLISH_UNITS.search(piece):
                found.append(f"English word in {kind}: {piece[:120]}")
    return found


def test_the_checks_catch_what_they_are_for():
    page = ("<p>2026-11-29</p><p>Effekt 2.5 %</p><p>Wartezeit 95 seconds</p>"
            "<svg><title>Effekt 2,369998629493302</title></svg><p title='effect 2.369998629493302'>x</p>")
    assert len(problems(page)) == 6
    assert problems("<p>29.11.2026 · 5.400 Zeilen · 2,5 % · Kunde seit 2012</p><code>a.b 1.5</code>") == []


def _client(app, username: str):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login).group(1)
    response = client.post("/login", data={"csrf_token": token, "username": username, "password": "demo-passwort"})
    assert response.status_code in (302, 303), username
    return client


@pytest.mark.parametrize("role", sorted(PAGES))
def test_every_page_stays_german(live_app, ids, role):  # noqa: F811
    client = _client(live_app, role)
    found = {}
    for path in PAGES[role]:
        response = client.get(path.format(**ids))
        assert response.status_code < 500, path
        page_problems = problems(response.get_data(as_text=True))
        if page_problems:
            found[path] = sorted(set(page_problems))
    assert not found, found


def test_one_customer_is_one_kunde(live_app):
    found = _client(live_app, "manager").get("/customers/?q=004711", headers={"HX-Request": "true"})
    text = found.get_data(as_text=True)
    assert re.search(r"\b1 Kunde\b", text) and "1 Kunden" not in text
