"""The main navigation as data: entries appear for the roles that may use them
and only once the view exists (later areas add their entries here)."""
from __future__ import annotations

from flask import current_app, has_request_context
from flask_babel import lazy_gettext as _l

from app.web.security import policy_of

# (endpoint, label)
NAV = [
    ("main.index", _l("Overview")),
    ("observations.log", _l("Log observations")),
    ("segments.overview", _l("Segments")),
    ("customers.index", _l("Customers")),
    ("audits.index", _l("Audits")),
    ("findings.index", _l("Findings")),
    ("aftersales.index", _l("After-sales")),
    ("reports.index", _l("Reports")),
    ("touchpoints.index", _l("Touchpoints")),
    ("admin.users", _l("Users")),
    ("api_docs.index", _l("API")),
]


def nav_for(user) -> list[tuple[str, str]]:
    """The entries this user may open."""
    if not has_request_context() or not user.is_authenticated:  # no request (CLI, jobs): no navigation
        return []
    entries = []
    for endpoint, label in NAV:
        if endpoint not in current_app.view_functions:
            continue
        policy = policy_of(endpoint) or frozenset()
        if user.role in policy:
            entries.append((endpoint, label))
    return entries
