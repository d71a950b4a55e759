"""axe-core (WCAG 2.0/2.1/2.2 A and AA rules) on every page each role opens, at desktop and
phone width: no serious or critical violation.

axe-core is vendored from npm with its licence (app/web/static/vendor) and loaded from the
app's own origin, so the page's Content Security Policy stays as users get it.
"""
from __future__ import annotations

import pytest

from app.accounts.models import User
from app.extensions import db
from app.segments.models import Customer, SegmentationRun
from app.touchpoint_audit.models import Audit, Finding, Observation

from .conftest import _open_page, sign_in

pytestmark = pytest.mark.e2e

AXE = "/static/vendor/axe-core-4.14.1.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WIDTHS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}

# The pages each role opens from the navigation and the links on them ({…} from the demo).
PAGES = {
    "manager": ["/", "/segments/", "/segments/runs", "/segments/compare", "/segments/run", "/customers/",
                "/customers/{customer}", "/customers/import", "/touchpoints/", "/touchpoints/{touchpoint}",
                "/touchpoints/new", "/audits/", "/audits/new", "/audits/{audit}", "/audits/{audit}/dashboard",
                "/audits/{audit}/edit", "/audits/{audit}/import", "/log", "/findings/", "/findings/{finding}",
                "/findings/new/{audit}", "/after-sales/", "/after-sales/import", "/after-sales/log",
                "/reports/", "/reports/audits/{published}", "/reports/audits/{audit}",
                "/reports/audits/{audit}/chain", "/observations/{observation}/edit"],
    "leadership": ["/", "/segments/", "/segments/runs", "/segments/compare", "/customers/",
                   "/customers/{customer}", "/touchpoints/", "/audits/", "/audits/{audit}",
                   "/audits/{audit}/dashboard", "/findings/", "/findings/{finding}", "/after-sales/",
                   "/reports/", "/reports/audits/{published}"],
    "service": ["/", "/log", "/segments/", "/customers/", "/customers/{customer}", "/touchpoints/",
                "/audits/", "/audits/{audit}", "/after-sales/log"],
    "admin": ["/admin/users", "/admin/users/new", "/admin/users/{user}"],
}


@pytest.fixture(scope="module")
def ids(live_app):
    """Ids of demo records the pages need."""
    with live_app.app_context():
        scalar = db.session.scalar
        found = {
            "customer": scalar(db.select(Customer.id).order_by(Customer.id).limit(1)),
            "touchpoint": 1,
            "audit": scalar(db.select(Audit.id).where(Audit.status != "published").order_by(Audit.id).limit(1)),
            "published": scalar(db.select(Audit.id).where(Audit.status == "published").limit(1)),
            "finding": scalar(db.select(Finding.id).order_by(Finding.id).limit(1)),
            "observation": scalar(db.select(Observation.id).order_by(Observation.id.desc()).limit(1)),
            "user": scalar(db.select(User.id).where(User.username == "service")),
            "run": scalar(db.select(SegmentationRun.id).order_by(SegmentationRun.id.desc()).limit(1)),
        }
        db.session.remove()
    return found


def violations(page) -> list[dict]:
    """Serious and critical violations axe finds on the page as it stands."""
    page.add_script_tag(url=AXE)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", TAGS)
    return [
        {"rule": v["id"], "impact": v["impact"], "nodes": len(v["nodes"]),
         "example": v["nodes"][0]["target"] if v["nodes"] else None}
        for v in result["violations"] if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("role", sorted(PAGES))
@pytest.mark.parametrize("lang", ["de", "en"])
def test_no_serious_accessibility_violation(browser, live_server, ids, role, width, lang):
    context, page = _open_page(browser, viewport=WIDTHS[width], is_mobile=width == "phone",
                               has_touch=width == "phone")
    try:
        page.context.set_extra_http_headers({"Accept-Language": lang})
        sign_in(page, live_server, role)
        found = {}
        for path in PAGES[role]:
            page.goto(live_server + path.format(**ids))
            problems = violations(page)
            if problems:
                found[path] = problems
        assert not found, found
    finally:
        context.close()
