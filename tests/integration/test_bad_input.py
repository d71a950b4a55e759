"""Bad input never causes a server error: every GET route, as every role, with ids
beyond database integers, non-numeric and NUL-carrying query parameters, and as a
non-boosted htmx request; plus the login's ``next`` and NUL bytes in forms.
"""
from __future__ import annotations

import html
import re
from urllib.parse import urlencode

import pytest

from tests.conftest import ROLES
from tests.integration.test_access import build_url, sample_values

HUGE = 99999999999999999999999
# Every query parameter name a view reads, so each parsing path meets bad values.
QUERY_NAMES = (
    "audit_id", "metric_id", "customer_q", "product_key", "channel", "observed_on", "threshold", "min_n",
    "kind", "segment", "sale", "after", "a", "b", "dimension", "q", "page", "sort", "dir", "burr", "abc",
    "tier", "trajectory", "severity", "status", "touchpoint", "stale", "next", "lang", "run", "run_id", "grade",
    "before", "last", "finding", "key", "then", "to",
)
BAD_QUERIES = {
    "non-numeric": dict.fromkeys(QUERY_NAMES, "abc"),
    "huge": dict.fromkeys(QUERY_NAMES, str(HUGE)),
    "negative": dict.fromkeys(QUERY_NAMES, str(-HUGE)),
    "beyond 32 bits": dict.fromkeys(QUERY_NAMES, str(2**31)),
    "nul": dict.fromkeys(QUERY_NAMES, "x\x00y"),
}


def _get_rules(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" in rule.methods and rule.endpoint != "static":
            yield rule


def _huge_ids(app, rule, values, role) -> str:
    """The rule's URL with every integer converter filled with a number beyond any integer column."""
    url = build_url(app, rule, values, role)
    for name in rule.arguments:
        if type(rule._converters[name]).__name__.lower().startswith(("int", "bounded")):
            value = values[name]
            sample = value.get(role or "anonymous", value.get("default")) if isinstance(value, dict) else value
            url = url.replace(f"/{sample}", f"/{HUGE}", 1)
    return url


def _client(app, users, role):
    client = app.test_client()
    if role is not None:
        client.login_as(users[role])
    return client


def test_every_get_route_survives_bad_input(app, users):
    values = sample_values(app, users)
    problems = []
    checked = 0
    for rule in _get_rules(app):
        for role in (None, *ROLES):
            url = build_url(app, rule, values, role)
            probes = [("huge ids", _huge_ids(app, rule, values, role), {})]
            probes += [(name, f"{url}?{urlencode(query)}", {}) for name, query in BAD_QUERIES.items()]
            probes.append(("htmx, not boosted", url, {"HX-Request": "true"}))
            probes.append(("htmx with bad query", f"{url}?{urlencode(BAD_QUERIES['huge'])}",
                           {"HX-Request": "true", "HX-Target": "x\x01"}))
            for label, target, headers in probes:
                response = _client(app, users, role).get(target, headers=headers)
                checked += 1
                if response.status_code >= 500:
                    path = target.split("?")[0]
                    problems.append(f"{label}: GET {path} as {role or 'anonymous'}: {response.status_code}")
    assert checked > 100
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", ["/audits/99999999999999999999999", "/customers/99999999999999999999999",
                                  "/findings/18446744073709551616", "/jobs/9223372036854775808"])
def test_ids_beyond_database_integers_are_not_found(as_role, path):
    assert as_role("admin").get(path).status_code == 404


@pytest.mark.parametrize("path", ["/audits/2147483647", "/audits/2147483648", "/audits/9223372036854775807"])
def test_ids_at_the_integer_column_limits_are_not_found(as_role, path):
    assert as_role("admin").get(path).status_code == 404


@pytest.mark.parametrize("query", ["audit_id=abc", f"audit_id={HUGE}", "audit_id=1%00"])
def test_findings_filter_ignores_bad_audit_id(as_role, query):
    assert as_role("manager").get(f"/findings/?{query}").status_code in (200, 400)


def test_nul_in_query_is_refused(as_role):
    response = as_role("manager").get("/customers/?q=M%00uster")
    assert response.status_code == 400
    assert "\x00" not in response.get_data(as_text=True)


@pytest.mark.parametrize(("method", "path"), [("POST", "/customers/import/abc%00def"),
                                              ("GET", "/reports/audits/1/pdf/d%00e")])
def test_nul_in_url_part_is_refused(as_role, method, path):
    assert as_role("manager").open(path, method=method).status_code == 400


def test_nul_in_form_field_is_refused(as_role):
    client = as_role("manager")
    response = client.post("/touchpoints/new", data={"key": "a\x00b", "name": "x\x00y"})
    assert response.status_code == 400


@pytest.mark.parametrize("target", [
    "/\r\nSet-Cookie: x=1", "/\rfoo", "/\nfoo", "/\\evil.example", "/\\/evil.example",
    "//evil.example", "https://evil.example/", "/\tfoo",
])
def test_login_next_with_control_characters_goes_home(app, client, users, target):
    from tests.conftest import PASSWORD

    token = client.csrf_token()
    response = client.post("/login?" + urlencode({"next": target}),
                           data={"username": "manager", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location == "/"
    assert "Set-Cookie" not in "".join(v for k, v in response.headers.items() if k == "Location")


def test_login_next_same_site_path_is_kept(client, users):
    from tests.conftest import PASSWORD

    token = client.csrf_token()
    response = client.post("/login?next=/findings/%3Fstatus%3Dall",
                           data={"username": "manager", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/findings/?status=all"


@pytest.mark.parametrize("path", ["/touchpoints/new", "/admin/users/new", "/customers/import", "/after-sales/log"])
def test_form_page_requested_by_htmx_gets_its_fragment(as_role, path):
    """A form page's block uses macros imported at the template's top level."""
    response = as_role("admin").get(path, headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body
    assert "<form" in body and 'name="csrf_token"' in body


_FORM = re.compile(r'<form\b([^>]*)>(.*?)</form>', re.S | re.I)
_FIELD = re.compile(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"', re.I)
_ACTION = re.compile(r'\baction="([^"]*)"', re.I)
BAD_VALUES = {"huge": str(HUGE), "beyond 32 bits": str(2**31), "negative": "-1", "long": "x" * 5000,
              "formula": "=1+1", "blank": " "}


def _post_forms(page: str, url: str):
    """(action, field names) of every POST form on a page."""
    for attributes, body in _FORM.findall(page):
        if 'method="post"' not in attributes.lower():
            continue
        action = _ACTION.search(attributes)
        target = html.unescape(action.group(1)) if action and action.group(1) else url
        names = sorted({n for n in _FIELD.findall(body) if n != "csrf_token"})
        yield target, names


def test_every_form_survives_bad_values(app, users):
    """Every POST form of every page (as admin, who may use all), with each bad value in every field."""
    values = sample_values(app, users)
    problems, checked = [], 0
    for rule in _get_rules(app):
        url = build_url(app, rule, values, "admin")
        page = _client(app, users, "admin").get(url)
        if page.status_code != 200 or "text/html" not in page.content_type:
            continue
        for target, names in _post_forms(page.get_data(as_text=True), url):
            if target.endswith("/logout") or not names:
                continue
            for label, bad in BAD_VALUES.items():
                response = _client(app, users, "admin").post(target, data=dict.fromkeys(names, bad))
                checked += 1
                if response.status_code >= 500:
                    problems.append(f"{label}: POST {target} {names}: {response.status_code}")
    assert checked > 20
    assert not problems, "\n".join(problems)
