"""Every registered URL rule against every role and an anonymous visitor.

EXPECTED is the access table, written out by hand: a new view that is not in
it makes ``test_every_rule_is_in_the_table`` fail, and a view whose enforced
policy differs from the table makes the walk fail.
"""
from __future__ import annotations

import pytest

from tests.conftest import ROLES

ALL = set(ROLES)
PUBLIC = "public"

# endpoint -> roles allowed (admin is always allowed), or PUBLIC
EXPECTED: dict[str, set[str] | str] = {
    "static": PUBLIC,
    "auth.login": PUBLIC,
    "auth.set_language": PUBLIC,
    "auth.logout": ALL,
    "main.index": ALL,
    "admin.users": {"admin"},
    "admin.create_user": {"admin"},
    "admin.edit_user": {"admin"},
    "admin.reset_password": {"admin"},
    "jobs.status": ALL,
    "jobs.retry_job": ALL,
    "jobs.download": ALL,
}

# segments area
EXPECTED.update({
    "segments.overview": ALL,
    "segments.run": {"manager"},
    "segments.runs": {"manager", "leadership"},
    "segments.compare": {"manager", "leadership"},
    "segments.export": {"manager", "leadership"},
    "segments.run_detail": {"manager", "leadership"},
    "segments.run_customers": {"manager", "leadership"},
    "customers.index": ALL,
    "customers.detail": ALL,
    "customers.export": ALL,
    "customers.checklist": {"manager"},
    "customers.import_upload": {"manager"},
    "customers.import_confirm": {"manager"},
})

# audit area
EXPECTED.update({
    "touchpoints.index": ALL,
    "touchpoints.create": {"manager"},
    "touchpoints.seed": {"manager"},
    "touchpoints.edit": {"manager"},
    "touchpoints.toggle": {"manager"},
    "touchpoints.create_metric": {"manager"},
    "touchpoints.edit_metric": {"manager"},
    "touchpoints.channels": {"manager"},
    "touchpoints.edit_channel": {"manager"},
    "audits.index": ALL,
    "audits.view": ALL,
    "audits.create": {"manager"},
    "audits.edit": {"manager"},
    "audits.transition": {"manager"},
    "audits.analyze": {"manager"},
    "audits.dashboard": {"manager", "leadership"},
    "audit_settings.settings": {"manager", "leadership"},
    "audit_settings.save": {"manager"},
    "audits.comparison": {"manager", "leadership"},
    "audits.import_observations": {"manager"},
    "audits.import_confirm": {"manager"},
    "observations.log": {"service", "manager"},
    "observations.create": {"service", "manager"},
    "observations.validate": {"service", "manager"},
    "observations.metric_fields": {"service", "manager"},
    "observations.customer_search": {"service", "manager"},
    "observations.customer_pick": {"service", "manager"},
    "observations.delete": {"service", "manager"},
    "observations.edit": {"service", "manager"},
    "evidence.file": {"service", "manager", "leadership"},
    "evidence.thumbnail": {"service", "manager", "leadership"},
    "evidence.add": {"service", "manager"},
    "evidence.delete": {"service", "manager"},
    "offline_log.sync": {"service", "manager"},
    "offline_log.worker": PUBLIC,
    "offline_log.manifest": PUBLIC,
    "findings.index": {"manager", "leadership"},
    "findings.view": {"manager", "leadership", "service"},
    "findings.update": {"manager"},
    "findings.comment": {"manager", "leadership", "service"},
    "findings.create": {"manager"},
    "pairs.scenarios": {"manager", "leadership", "service"},
    "pairs.create_scenario": {"manager"},
    "pairs.scenario_active": {"manager"},
    "pairs.log_pair": {"service", "manager"},
    "pairs.delete_pair": {"service", "manager"},
    "schedules.schedule": {"manager"},
    "schedules.run_schedule": {"manager"},
})


def sample_values(app, users) -> dict[str, object]:
    """A real id for every URL parameter name used by the rules."""
    from tests.integration.access_samples import make_samples

    return make_samples(app, users)


def build_url(app, rule, values, role) -> str:
    """The rule's URL with sample values; a value given per role is the record
    that role may see (e.g. its own job), so record checks do not hide the policy."""
    args = {}
    for name in rule.arguments:
        if name not in values:
            pytest.fail(f"no sample value for URL parameter {name!r} of {rule.endpoint}: add it to access_samples.py")
        value = values[name]
        args[name] = value.get(role or "anonymous", value.get("default")) if isinstance(value, dict) else value
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **args)


def rules(app):
    # Signing out ends every session of the user, so the walk signs out last.
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint == "auth.logout", r.rule)):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_rule_is_in_the_table(app):
    missing = sorted({r.endpoint for r in app.url_map.iter_rules()} - set(EXPECTED))
    assert not missing, f"views without an entry in the access table: {missing}"
    stale = sorted(set(EXPECTED) - {r.endpoint for r in app.url_map.iter_rules()})
    assert not stale, f"access table names views that do not exist: {stale}"


def test_every_view_declares_a_policy(app):
    undeclared = [e for e, f in app.view_functions.items() if getattr(f, "allowed_roles", None) is None]
    assert not undeclared, f"views without @allow/@public/@any_user: {undeclared}"


def _request(client, method, url):
    data = {}
    return client.open(url, method=method, data=data)


def test_role_url_matrix(app, users):
    values = sample_values(app, users)
    problems = []
    checked = 0
    for rule, method in rules(app):
        if rule.endpoint == "static":
            continue
        expected = EXPECTED[rule.endpoint]
        for role in (None, *ROLES):
            url = build_url(app, rule, values, role)
            client = app.test_client()
            api = rule.endpoint.startswith("api.") and expected != PUBLIC
            if role is not None and api:
                client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {values['api_tokens'][role]}"
            elif role is not None:
                client.login_as(users[role])
            try:
                response = _request(client, method, url)
            except AssertionError as exc:
                problems.append(f"{method} {url} as {role or 'anonymous'}: {exc}")
                continue
            status = response.status_code
            checked += 1
            if expected == PUBLIC:
                ok = status < 500 and status not in (401, 403)
            elif role is None and api:
                ok = status == 401 and response.headers.get("WWW-Authenticate", "").startswith("Bearer")
            elif role is None:
                ok = status in (302, 401) and "/login" in response.headers.get("Location", "")
            elif role == "admin" or role in expected:
                ok = status < 500 and status not in (401, 403)
            else:
                ok = status == 403
            if not ok:
                problems.append(f"{method} {url} as {role or 'anonymous'}: {status}")
    assert checked > 0
    assert not problems, "\n".join(problems)


def test_htmx_anonymous_gets_redirect_header(client, users):
    response = client.get("/", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert "/login" in response.headers["HX-Redirect"]

# after-sales and report area
EXPECTED.update({
    "aftersales.index": {"manager", "leadership"},
    "aftersales.cell": {"manager", "leadership"},
    "aftersales.record_findings": {"manager"},
    "aftersales.log": {"manager", "service"},
    "aftersales.import_upload": {"manager"},
    "aftersales.import_confirm": {"manager"},
    "reports.index": {"manager", "leadership"},
    "reports.audit_report": {"manager", "leadership"},
    "reports.generate": {"manager"},
    "reports.publish": {"manager"},
    "reports.download": {"manager", "leadership"},
    "reports.chain": {"manager"},
})

# personal API tokens and the HTTP API (its operations are walked with each role's bearer token)
EXPECTED.update({
    "tokens.index": ALL,
    "tokens.revoke": ALL,
    "api_docs.index": ALL,
    "api.openapi": PUBLIC,
    "api.list_audits": ALL,
    "api.get_audit": ALL,
    "api.post_observations": {"service", "manager"},
    "api.list_findings": {"manager", "leadership"},
    "api.get_finding": {"manager", "leadership", "service"},
    "api.patch_finding": {"manager"},
    "api.report_pdf": {"manager", "leadership"},
    "api.list_comparisons": {"manager", "leadership"},
    "api.list_customers": ALL,
    "api.post_customer_values": {"manager"},
    "api.post_outcomes": {"manager"},
})
