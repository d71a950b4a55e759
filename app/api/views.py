"""``/api/v1``: audits, their observations and findings, the published report, for other
systems. A request acts as the user of its bearer token, with that user's role and record
rights; the session cookie is never read here, and nothing here needs a CSRF token."""
from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import json

import sqlalchemy as sa
from flask import Blueprint, current_app, g, jsonify, make_response, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import refresh as refresh_locale
from flask_login import current_user
from pydantic import ValidationError
from spectree import Response as Responses
from spectree import SecurityScheme, SecuritySchemeData, SpecTree
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from app.accounts.models import ApiToken, User, token_digest
from app.aftersales import actions as aftersales_actions
from app.api.problems import (
    PROBLEM_JSON,
    ProblemError,
    from_http_error,
    problem,
    request_language,
    validation_errors,
)
from app.api.schemas import (
    AuditList,
    AuditOut,
    BatchResult,
    CaseOut,
    ComparisonList,
    ComparisonOut,
    CustomerOut,
    CustomerPage,
    CustomerQuery,
    CustomerValueBatch,
    FindingList,
    FindingOut,
    FindingPatch,
    ImportResult,
    ObservationBatch,
    OutcomeBatch,
    Problem,
    ReportQuery,
    RunOut,
)
from app.extensions import csrf, db, limiter, login_manager
from app.reports.models import ReportDocument
from app.segments import actions as segment_actions
from app.segments.analysis import FILTERS, customer_listing, explain, may_see_money
from app.segments.loaders import match_customer_numbers
from app.segments.models import Customer, CustomerSegment, SegmentationRun
from app.touchpoint_audit.actions import notify_assigned, record_changes
from app.touchpoint_audit.analysis import COMPARISON_FIELDS, export_records, finding_records, latest_snapshot
from app.touchpoint_audit.models import Audit, Finding, Metric, Observation, Touchpoint
from app.touchpoint_audit.rules import check_row, may_log, may_see
from app.web.args import DB_INT_MAX
from app.web.i18n import lang
from app.web.import_messages import reason_text
from app.web.models import utcnow
from app.web.security import PUBLIC, allow, any_user, has_role, policy_of, public

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

spec = SpecTree(
    "flask", mode="strict", annotations=False, title="Loyalty audit API", version="1",
    path="api/v1/_spectree", validation_error_status=422, validation_error_model=Problem,
    security_schemes=[SecurityScheme(name="bearerAuth", data=SecuritySchemeData(type="http", scheme="bearer"))],
    security={"bearerAuth": []},
)
#: the refusals every authenticated operation may answer with
REFUSALS = {"HTTP_401": Problem, "HTTP_403": Problem, "HTTP_404": Problem, "HTTP_429": Problem}
LAST_USED_EVERY = dt.timedelta(minutes=1)  # last_used is written at most this often per token


def _token_key() -> str:
    """The rate-limit key: the presented token's hash (one bucket per token, no query)."""
    scheme, _sep, secret = request.headers.get("Authorization", "").partition(" ")
    return "api-token:" + token_digest(secret.strip() if scheme.lower() == "bearer" else request.remote_addr or "")


limiter.limit(lambda: current_app.config.get("API_RATE_LIMIT", "600 per minute"), key_func=_token_key)(bp)


def _routing_error(error: Exception) -> Exception:
    """Werkzeug's router answers 405 for an id its converter refuses (out of range) when another
    method's rule has the same shape; no method matches that URL, so it is a 404."""
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        try:
            current_app.create_url_adapter(request).match(request.path, method=error.valid_methods[-1])
        except NotFound:
            return NotFound()
        except HTTPException:
            pass
    return error


def _speak_the_request_language() -> None:
    """Answer (problems, reasons, numbers) in the language Accept-Language prefers, English without
    one, whatever the token's user chose for the pages."""
    g.request_locale = request_language()
    refresh_locale()


def authenticate():
    """before_request of the whole app (registered ahead of the access policy): on API routes the
    user is the bearer token's, never the session's; without a valid token, 401."""
    if request.blueprint != bp.name:
        if request.routing_exception is not None and request.path.startswith(bp.url_prefix + "/"):
            _speak_the_request_language()
            return from_http_error(_routing_error(request.routing_exception))  # no such operation: a problem, too
        return None
    _speak_the_request_language()
    g._login_user = login_manager.anonymous_user()  # Flask-Login never reads the session cookie here
    limit = current_app.config.get("API_MAX_CONTENT_LENGTH", 2 * 1024 * 1024)
    if request.content_length is not None and request.content_length > limit:
        return problem(413, _l("The request body is larger than %(limit)s bytes.", limit=limit))
    request.max_content_length = limit
    if policy_of(request.endpoint) is PUBLIC:
        return None
    scheme, _sep, secret = request.headers.get("Authorization", "").partition(" ")
    token = ApiToken.authenticate(secret.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        challenge = 'Bearer realm="api"' + (', error="invalid_token"' if scheme else "")
        return problem(401, _l("A valid personal API token is required (Authorization: Bearer <token>)."),
                       headers={"WWW-Authenticate": challenge})
    g._login_user = token.user
    g.api_token = token
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        token.last_used_at = now
        db.session.commit()
    return None


@bp.errorhandler(ValidationError)
def _invalid(error: ValidationError):
    return problem(422, _l("The request does not match the schema."), validation_errors(error))


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return from_http_error(error)


@bp.errorhandler(Exception)
def _server_error(error: Exception):
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    db.session.rollback()
    return problem(500)


def _body(model):
    """The JSON body validated by ``model`` (422 with every problem otherwise)."""
    data = request.get_json(silent=True)
    if data is None:
        raise ProblemError(415 if not request.is_json else 400,
                           _l("Send a JSON body with Content-Type: application/json."))
    return model.model_validate(data)


def _audit(audit_id: int) -> Audit:
    audit = db.session.get(Audit, audit_id)
    if audit is None:
        raise ProblemError(404, _l("There is no such audit."))
    if not may_see(audit):
        raise ProblemError(403, _l("Your role may not see this audit."))
    return audit


# ----------------------------------------------------------------- the document


@bp.route("/openapi.json")
@public
def openapi():
    """The OpenAPI 3.1 document, generated from the schemas that validate the requests."""
    document = copy.deepcopy(spec.spec)
    document["servers"] = [{"url": request.host_url.rstrip("/")}]
    for path in document.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter["schema"].get("type") == "integer":
                    parameter["schema"].update(minimum=1, maximum=DB_INT_MAX)  # what the URL converter accepts
            for code, answer in operation.get("responses", {}).items():
                if code.isdigit() and int(code) >= 400 and "content" in answer:
                    answer["content"] = {PROBLEM_JSON: answer["content"]["application/json"]}
                if code == "200" and operation.get("operationId", "").endswith("report_pdf"):
                    answer["content"] = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
    return jsonify(document)


# ----------------------------------------------------------------- audits


def _audit_out(audit: Audit, counts: dict, finding_counts: dict) -> dict:
    return AuditOut(id=audit.id, title=audit.title, status=audit.status, period_start=audit.period_start,
                    period_end=audit.period_end, created_at=audit.created_at.replace(tzinfo=dt.timezone.utc),
                    observations=counts.get(audit.id, 0), findings=finding_counts.get(audit.id, 0)
                    ).model_dump(mode="json")


def _counts(model, audit_ids: list[int], *conditions) -> dict:
    if not audit_ids:
        return {}
    return dict(db.session.execute(db.select(model.audit_id, sa.func.count()).where(
        model.audit_id.in_(audit_ids), *conditions).group_by(model.audit_id)).all())


@bp.route("/audits")
@any_user
@spec.validate(resp=Responses(HTTP_200=AuditList, **REFUSALS), tags=["audits"], skip_validation=True,
               operation_id="list_audits")
def list_audits():
    """The audit rounds the token's user may see, newest first."""
    audits = [a for a in db.session.scalars(db.select(Audit).order_by(Audit.created_at.desc(), Audit.id.desc()))
              if may_see(a)]
    ids = [a.id for a in audits]
    counts, findings = _counts(Observation, ids), _counts(Finding, ids, Finding.stale.is_(False))
    return jsonify({"audits": [_audit_out(a, counts, findings) for a in audits]})


@bp.route("/audits/<int:audit_id>")
@any_user
@spec.validate(resp=Responses(HTTP_200=AuditOut, **REFUSALS), tags=["audits"], skip_validation=True,
               operation_id="get_audit")
def get_audit(audit_id: int):
    """One audit round."""
    audit = _audit(audit_id)
    return jsonify(_audit_out(audit, _counts(Observation, [audit.id]),
                              _counts(Finding, [audit.id], Finding.stale.is_(False))))


# ----------------------------------------------------------------- observations

#: the stored fields an external_id's observation is compared on when it is sent again
SAME_CONTENT = ("metric_id", "value", "customer_status", "customer_id", "product_key", "channel", "note",
                "evidence_grade")


def _metrics_by_key(audit: Audit) -> dict[tuple[str, str], Metric]:
    rows = db.session.execute(
        db.select(Touchpoint.key, Metric).join(Touchpoint, Metric.touchpoint_id == Touchpoint.id)
        .where(Metric.id.in_([m.id for m in audit.metrics]), Touchpoint.active.is_(True))
    ).all()
    return {(key, metric.key): metric for key, metric in rows}


def _customers_by_number(items) -> tuple[dict[str, Customer], dict[str, tuple[str, str]]]:
    """The customers a batch names, read in one query (not one per item), and the numbers matched
    as the imports match them: ``70001`` for the known ``0070001`` (leading zeros a spreadsheet
    dropped) or ``0070 001`` (stray spaces), text -> (stored number, reason)."""
    numbers = {item.customer_no.strip() for item in items if item.customer_no and item.customer_no.strip()}
    if not numbers:
        return {}, {}
    found = {c.customer_no: c for c in db.session.scalars(db.select(Customer).where(Customer.customer_no.in_(numbers)))}
    repairs = match_customer_numbers(numbers - set(found))
    if repairs:
        wanted = {number for number, _reason in repairs.values()}
        found |= {c.customer_no: c for c in db.session.scalars(db.select(Customer).where(
            Customer.customer_no.in_(wanted)))}
        found |= {text: found[number] for text, (number, _reason) in repairs.items() if number in found}
    return found, repairs


#: why a customer number was matched to a stored one (the reasons of match_customer_numbers)
REPAIRED = {"zeros": _l("“%(text)s” was matched to the customer %(number)s after adding the leading zeros a "
                        "spreadsheet dropped."),
            "spaces": _l("“%(text)s” was matched to the customer %(number)s after removing stray spaces.")}


def _number_warnings(items, repairs: dict[str, tuple[str, str]]) -> list[dict]:
    """A warning per item whose customer number was matched to a stored one written otherwise."""
    out = []
    for index, item in enumerate(items):
        text = (item.customer_no or "").strip()
        if text in repairs:
            number, reason = repairs[text]
            out.append({"index": index, "field": "customer_no",
                        "detail": str(REPAIRED[reason]) % {"text": text, "number": number}})
    return out


def _check_item(index: int, item, audit: Audit, metrics: dict, customers: dict[str, Customer],
                now: dt.datetime) -> tuple[dict, list[dict]]:
    """One item through the observation row rule: its values to store, or its problems."""
    errors = []
    metric = metrics.get((item.touchpoint, item.metric))
    if metric is None:
        errors.append({"index": index, "field": "metric",
                       "detail": _("%(touchpoint)s/%(metric)s is no active metric of this audit.",
                                 touchpoint=item.touchpoint, metric=item.metric)})
    customer = None
    if item.customer_no and item.customer_no.strip():
        customer = customers.get(item.customer_no.strip())
        if customer is None:
            errors.append({"index": index, "field": "customer_no", "detail": _("There is no customer with this number.")})
    observed_at = now
    if item.observed_at is not None:
        observed_at = item.observed_at
        if observed_at.tzinfo is not None:
            observed_at = observed_at.astimezone(dt.timezone.utc).replace(tzinfo=None)
        if observed_at > now + dt.timedelta(minutes=5):
            errors.append({"index": index, "field": "observed_at", "detail": _("The time lies in the future.")})
    fields = {"value": item.value, "customer_status": item.customer_status, "product_key": item.product_key,
              "channel": item.channel, "note": item.note, "evidence_grade": item.evidence_grade}
    # what a system sends is a system record unless the item says otherwise
    checked = check_row(audit, metric, fields, customer, customer is None and bool(item.customer_no), observed_at,
                        default_grade="system")
    errors += [{"index": index, "field": name, "detail": str(message)} for name, message in checked.errors.items()]
    values = {**checked.values, "metric_id": metric.id if metric else None,
              "customer_id": customer.id if customer else None, "observed_at": observed_at,
              "external_id": item.external_id}
    return values, errors


def _same(stored: Observation, values: dict, sent_time: bool) -> bool:
    same = all(getattr(stored, name) == values[name] for name in SAME_CONTENT)
    return same and (not sent_time or stored.observed_at == values["observed_at"])


@bp.route("/audits/<int:audit_id>/observations", methods=["POST"])
@allow("service", "manager")
@spec.validate(json=ObservationBatch,
               resp=Responses(HTTP_200=BatchResult, HTTP_201=BatchResult, HTTP_400=Problem, HTTP_409=Problem,
                              HTTP_413=Problem, HTTP_415=Problem, **REFUSALS),
               tags=["observations"], skip_validation=True, operation_id="post_observations")
def post_observations(audit_id: int):
    """Store a batch of observations, all or nothing. Each item's ``external_id`` makes the batch
    idempotent: an item sent before with the same content is not stored again; the same
    external_id with other content is a 409. 201 when something was stored, 200 when all existed."""
    audit = _audit(audit_id)
    if not may_log(audit):
        raise ProblemError(403, _l("You are not assigned to this audit."))
    batch = _body(ObservationBatch)
    if not audit.is_open:
        raise ProblemError(409, _l("The audit is not open for logging (status: %(status)s); nothing was stored.",
                                           status=audit.status))
    metrics, now = _metrics_by_key(audit), utcnow().replace(microsecond=0)
    rows, errors, seen = [], [], {}
    customers, repairs = _customers_by_number(batch.observations)
    for index, item in enumerate(batch.observations):
        if item.external_id in seen:
            errors.append({"index": index, "field": "external_id",
                           "detail": _("The same external_id as item %(index)s.", index=seen[item.external_id])})
        seen.setdefault(item.external_id, index)
        values, problems = _check_item(index, item, audit, metrics, customers, now)
        rows.append((item, values))
        errors += problems
    if errors:
        return problem(422, _l("Nothing was stored: the batch has problems."), errors)
    stored = {o.external_id: o for o in db.session.scalars(db.select(Observation).where(
        Observation.audit_id == audit.id, Observation.external_id.in_(list(seen))))}
    conflicts = [{"index": i, "field": "external_id",
                  "detail": _("Stored before with other content (observation %(id)s).", id=stored[item.external_id].id)}
                 for i, (item, values) in enumerate(rows)
                 if item.external_id in stored and not _same(stored[item.external_id], values, item.observed_at is not None)]
    if conflicts:
        return problem(409, _l("Nothing was stored: some external_ids were stored before with other content."),
                       conflicts)
    new = [Observation(audit_id=audit.id, created_by_id=current_user.id, **values)
           for item, values in rows if item.external_id not in stored]
    db.session.add_all(new)
    try:
        db.session.commit()
    except IntegrityError:  # the same external_id stored meanwhile by a concurrent request
        db.session.rollback()
        return problem(409, _l("Another request stored some of these external_ids meanwhile; send the batch again."))
    by_id = {**{k: (o.id, False) for k, o in stored.items()}, **{o.external_id: (o.id, True) for o in new}}
    result = [{"external_id": item.external_id, "id": by_id[item.external_id][0],
               "created": by_id[item.external_id][1]} for item, _values in rows]
    return jsonify({"created": len(new), "existing": len(rows) - len(new), "observations": result,
                    "warnings": _number_warnings(batch.observations, repairs)}), (201 if new else 200)


# ----------------------------------------------------------------- findings


def _finding_out(finding: Finding, record: dict) -> dict:
    return FindingOut(id=finding.id, version=finding.version, owner_id=finding.owner_id, due_date=finding.due_date,
                      **record).model_dump(mode="json")


def _record_of(finding: Finding) -> dict:
    """The finding's record as ``finding_records`` makes it (also for a stale one, which it leaves out)."""
    records = {r["key"]: r for r in finding_records(finding.audit_id)}
    if finding.key in records:
        return records[finding.key]
    return {"key": finding.key, "kind": finding.kind, "touchpoint": finding.touchpoint_key,
            "metric": finding.metric_key, "segments": [], "severity": finding.severity, "status": finding.status}


@bp.route("/audits/<int:audit_id>/findings")
@allow("manager", "leadership")
@spec.validate(resp=Responses(HTTP_200=FindingList, **REFUSALS), tags=["findings"], skip_validation=True,
               operation_id="list_findings")
def list_findings(audit_id: int):
    """The audit's current findings with the fields of ``flask audits findings``, costliest first."""
    audit = _audit(audit_id)
    findings = {f.key: f for f in db.session.scalars(db.select(Finding).where(Finding.audit_id == audit.id))}
    return jsonify({"findings": [_finding_out(findings[r["key"]], r) for r in finding_records(audit.id)]})


def _finding(finding_id: int) -> Finding:
    """The finding as the finding page shows it: managers and leadership those of the audits they
    see, service staff only the actions they own."""
    finding = db.session.get(Finding, finding_id)
    if finding is None:
        raise ProblemError(404, _l("There is no such finding."))
    if has_role("manager", "leadership"):
        _audit(finding.audit_id)
    elif finding.owner_id is None or finding.owner_id != current_user.id:
        raise ProblemError(403, _l("Service staff see only the findings they own."))
    return finding


def _etag(finding: Finding) -> str:
    return f'"{finding.version}"'


@bp.route("/findings/<int:finding_id>")
@allow("manager", "leadership", "service")
@spec.validate(resp=Responses(HTTP_200=FindingOut, **REFUSALS), tags=["findings"], skip_validation=True,
               operation_id="get_finding")
def get_finding(finding_id: int):
    """One finding; its ``ETag`` is the version a PATCH names in ``If-Match``."""
    finding = _finding(finding_id)
    response = jsonify(_finding_out(finding, _record_of(finding)))
    response.headers["ETag"] = _etag(finding)
    return response


@bp.route("/findings/<int:finding_id>", methods=["PATCH"])
@allow("manager")
@spec.validate(json=FindingPatch,
               resp=Responses(HTTP_200=FindingOut, HTTP_400=Problem, HTTP_409=Problem, HTTP_412=Problem,
                              HTTP_415=Problem, HTTP_428=Problem, **REFUSALS),
               tags=["findings"], skip_validation=True, operation_id="patch_finding")
def patch_finding(finding_id: int):
    """Change a finding's status, owner or due date. ``If-Match`` must name its current ``ETag``:
    without it 428, with an older one 412 (someone changed it since); nothing is changed then."""
    finding = _finding(finding_id)
    patch = _body(FindingPatch)
    if finding.audit.is_published:
        raise ProblemError(409, _l("The audit is published and read-only; nothing was changed."))
    if not request.if_match:
        raise ProblemError(428, _l("Send If-Match with the finding's ETag."))
    if not request.if_match.contains(str(finding.version)):
        raise ProblemError(412, _l("The finding was changed since this ETag; fetch it again."),
                           headers={"ETag": _etag(finding)})
    given = patch.model_fields_set
    status = patch.status if "status" in given else finding.status
    if "status" in given and status is None:
        raise ProblemError(422, errors=[{"index": None, "field": "status", "detail": _l("A status cannot be null.")}])
    owner_id = patch.owner_id if "owner_id" in given else finding.owner_id
    due_date = patch.due_date if "due_date" in given else finding.due_date
    problems = []
    if "owner_id" in given and owner_id is not None:
        owner = db.session.get(User, owner_id)
        if owner is None or not owner.active:
            problems.append({"index": None, "field": "owner_id", "detail": _("There is no active user with this id.")})
    if "due_date" in given and due_date is not None and due_date != finding.due_date and due_date < dt.date.today():
        problems.append({"index": None, "field": "due_date", "detail": _("The due date lies in the past.")})
    if problems:
        raise ProblemError(422, _l("Nothing was changed."), problems)
    # Compare and set in one statement, as the finding page does: of two edits on one version, one wins.
    saved = db.session.execute(
        sa.update(Finding).where(Finding.id == finding.id, Finding.version == finding.version)
        .values(updated_at=utcnow(), updated_by_id=current_user.id, version=Finding.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if saved != 1:
        db.session.rollback()
        raise ProblemError(412, _l("The finding was changed meanwhile; fetch it again."))
    changes = record_changes(finding, current_user.id, status=status, owner_id=owner_id, due_date=due_date)
    db.session.commit()
    if any(c.field == "owner" and c.new_value for c in changes):
        notify_assigned(finding)  # as the finding page does: the new owner hears of it
    db.session.refresh(finding)
    response = jsonify(_finding_out(finding, _record_of(finding)))
    response.headers["ETag"] = _etag(finding)
    return response


# ----------------------------------------------------------------- the published report


@bp.route("/audits/<int:audit_id>/report.pdf")
@allow("manager", "leadership")
@spec.validate(query=ReportQuery, resp=Responses(HTTP_200=None, HTTP_409=Problem, **REFUSALS), tags=["reports"],
               skip_validation=True, operation_id="get_report_pdf")
def report_pdf(audit_id: int):
    """The published report PDF, exactly the bytes frozen at publication; its SHA-256 in
    ``X-Content-SHA256`` (hex) and ``Repr-Digest`` (RFC 9530)."""
    audit = _audit(audit_id)
    query = ReportQuery.model_validate(request.args.to_dict())
    if not audit.is_published:
        raise ProblemError(409, _l("Only a published audit has a frozen report."))
    document = db.session.scalar(
        db.select(ReportDocument).where(ReportDocument.audit_id == audit.id, ReportDocument.kind == "published",
                                        ReportDocument.lang == query.lang).order_by(ReportDocument.id.desc()).limit(1))
    if document is None:
        raise ProblemError(404, _l("The published report is not stored in this language."))
    response = make_response(document.pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="audit-{audit.id}-report-{query.lang}.pdf"'
    response.headers["X-Content-SHA256"] = document.sha256
    digest = base64.b64encode(bytes.fromhex(document.sha256)).decode()
    response.headers["Repr-Digest"] = f"sha-256=:{digest}:"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ----------------------------------------------------------------- comparisons


@bp.route("/audits/<int:audit_id>/comparisons")
@allow("manager", "leadership")
@spec.validate(resp=Responses(HTTP_200=ComparisonList, **REFUSALS), tags=["audits"], skip_validation=True,
               operation_id="list_comparisons")
def list_comparisons(audit_id: int):
    """The comparisons and flagged cases of the audit's latest stored analysis, with the fields of
    ``flask audits analyze --format json``; 404 while it has never been analysed (reading never
    starts an analysis)."""
    audit = _audit(audit_id)
    snapshot = latest_snapshot(audit.id)
    if snapshot is None:
        raise ProblemError(404, _l("The audit has not been analysed yet."))
    stored = snapshot.cases or {}
    comparisons, cases = export_records(snapshot.comparisons or [], stored.get("flagged", []))
    return jsonify(ComparisonList(
        audit_id=audit.id, analysed_at=snapshot.created_at.replace(tzinfo=dt.timezone.utc),
        n_observations=snapshot.n_observations,
        comparisons=[ComparisonOut(**{k: row.get(k) for k in COMPARISON_FIELDS}) for row in comparisons],
        cases=[CaseOut(**case) for case in cases], n_flagged_cases=int(stored.get("n_flagged", len(cases))),
    ).model_dump(mode="json"))


# ----------------------------------------------------------------- customers


def _query(model):
    """The query string validated by ``model`` (422 with every problem otherwise)."""
    return model.model_validate({key: request.args.getlist(key)[-1] for key in request.args})


@bp.route("/customers")
@any_user
@spec.validate(query=CustomerQuery, resp=Responses(HTTP_200=CustomerPage, HTTP_400=Problem, **REFUSALS),
               tags=["customers"], skip_validation=True, operation_id="list_customers")
def list_customers():
    """Customers with their classes and reasons from the latest (or a given) segmentation run,
    filtered as the customer list filters, by customer number; ``next`` is the following page.
    Revenue, contribution and untapped potential only for roles that may see money."""
    query = _query(CustomerQuery)
    run = None
    if query.run_id is not None:
        run = db.session.get(SegmentationRun, query.run_id)
        if run is None or run.status != "done":
            raise ProblemError(404, _l("There is no finished segmentation run with this id."))
    args = {name: getattr(query, name) for name in FILTERS if getattr(query, name) is not None}
    if query.burr:
        args["burr"] = "1"
    if query.q:
        args["q"] = query.q
    listing = customer_listing(args, run)
    rows_query = listing.query.order_by(None).order_by(Customer.customer_no)
    if query.after is not None:
        rows_query = rows_query.where(Customer.customer_no > query.after)
    if query.burr is False:
        rows_query = rows_query.where(CustomerSegment.burr.is_not(True))
    rows = db.session.execute(rows_query.limit(query.limit + 1)).all()
    more, rows = len(rows) > query.limit, rows[:query.limit]
    money, language = may_see_money(), lang()
    customers = [_customer_out(customer, segment, listing.run, money, language) for customer, segment in rows]
    following = None
    if more:
        params = {name: str(value).lower() if isinstance(value, bool) else value
                  for name, value in query.model_dump(exclude={"after"}, exclude_none=True).items()}
        following = url_for("api.list_customers", **params, after=rows[-1][0].customer_no, _external=True)
    run_out = None
    if listing.run is not None:
        run_out = RunOut(id=listing.run.id, window_start=listing.run.window_start,
                         window_end=listing.run.window_end,
                         created_at=listing.run.created_at.replace(tzinfo=dt.timezone.utc),
                         potential_basis=(listing.run.summary or {}).get("potential_basis")).model_dump(mode="json")
    return jsonify({"run": run_out, "customers": customers, "next": following})


def _customer_out(customer: Customer, segment, run, money: bool, language: str) -> dict:
    """A customer's classes and reasons; without the money fields (not even as null) when not allowed."""
    out = CustomerOut(customer_no=customer.customer_no, name=customer.name, customer_since=customer.customer_since)
    if segment is not None:
        out = out.model_copy(update={
            "abc_class": segment.abc_class, "potential_segment": segment.potential_segment,
            "profit_tier": segment.profit_tier, "trajectory": segment.trajectory, "burr": segment.burr,
            "reasons": {name: str(text) for name, text in explain(segment, run, language, money).items()},
            "revenue": segment.revenue, "contribution": segment.contribution, "untapped": segment.untapped})
    data = out.model_dump(mode="json")
    if not money:
        for name in ("revenue", "contribution", "untapped"):
            data.pop(name)
    return data


# ----------------------------------------------------------------- customer values and outcomes


def _digest(batch) -> str:
    """SHA-256 of a batch's content as validated (key order and spacing do not matter)."""
    text = json.dumps(batch.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _replayed(kind: str, external_id: str, digest: str):
    """The answer to a batch whose external_id was stored before: its counts (200) when the content
    is the same, a 409 when it differs; None for a new external_id."""
    log = segment_actions.batch_log(kind, external_id)
    if log is None:
        return None
    if log.sha256 != digest:
        return problem(409, _l("The batch %(external_id)s was stored before (import %(import_id)s) with other "
                               "content; nothing was stored. Send new content under a new external_id.",
                               external_id=external_id, import_id=log.id),
                       [{"index": None, "field": "external_id", "detail": _l("Stored before with other content.")}])
    unchanged = max(log.rows - log.values_new - log.values_changed, 0)
    result = ImportResult(external_id=external_id, created=False, rows=log.rows, new=log.values_new,
                          changed=log.values_changed, unchanged=unchanged,
                          customers_new=log.customers_new if kind == segment_actions.BATCH_KIND else None)
    return jsonify(result.model_dump(mode="json")), 200


#: the import's column names -> the API's field names
API_FIELD = {"customer_id": "customer_no"}


def _items(problems, fields) -> list[dict]:
    """The import's problems as {index, field, detail}: a row minus 2 is the item's index."""
    language = lang()  # the request's (see _speak_the_request_language)
    out = []
    for item in problems:
        field = API_FIELD.get(item.column, item.column) if item.column in fields else None
        out.append({"index": item.row - 2 if item.row is not None else None, "field": field,
                    "detail": reason_text(item, language)})
    return out


@bp.route("/customer-values", methods=["POST"])
@allow("manager")
@spec.validate(json=CustomerValueBatch,
               resp=Responses(HTTP_200=ImportResult, HTTP_201=ImportResult, HTTP_400=Problem, HTTP_409=Problem,
                              HTTP_413=Problem, HTTP_415=Problem, **REFUSALS),
               tags=["imports"], skip_validation=True, operation_id="post_customer_values")
def post_customer_values():
    """Store a batch of customer values by the customer value import's rules, all or nothing (new
    customers are created, a customer and period stored before is updated). ``external_id`` names
    the batch: sent again, nothing is stored twice (200); the same id with other content is a 409."""
    batch = _body(CustomerValueBatch)
    digest = _digest(batch)
    replay = _replayed(segment_actions.BATCH_KIND, batch.external_id, digest)
    if replay is not None:
        return replay
    records = [{**item.model_dump(exclude={"customer_no"}), "customer_id": item.customer_no} for item in batch.values]
    check = segment_actions.check_value_batch(records, batch.external_id, digest)
    fields = set(segment_actions.VALUE_COLUMNS)
    if not check.ok:
        return problem(422, _l("Nothing was stored: the batch has problems."), _items(check.errors, fields))
    try:
        changes = segment_actions.store_value_batch(check, current_user.id, batch.external_id)
    except segment_actions.ImportConflict:
        replay = _replayed(segment_actions.BATCH_KIND, batch.external_id, digest)
        if replay is not None:
            return replay
        return problem(409, _l("Another import wrote values of the same customers meanwhile; nothing was stored. "
                               "Send the batch again."))
    result = ImportResult(external_id=batch.external_id, created=True, rows=changes["rows"],
                          new=changes["values_new"], changed=changes["values_changed"],
                          unchanged=changes["values_unchanged"], customers_new=changes["customers_new"],
                          warnings=_items(check.notes, fields))
    return jsonify(result.model_dump(mode="json")), 201


@bp.route("/aftersales/outcomes", methods=["POST"])
@allow("manager")
@spec.validate(json=OutcomeBatch,
               resp=Responses(HTTP_200=ImportResult, HTTP_201=ImportResult, HTTP_400=Problem, HTTP_409=Problem,
                              HTTP_413=Problem, HTTP_415=Problem, **REFUSALS),
               tags=["imports"], skip_validation=True, operation_id="post_outcomes")
def post_outcomes():
    """Store a batch of after-sales outcomes by the after-sales import's rules, all or nothing (one
    outcome per customer and date; a stored one is updated). ``external_id`` names the batch: sent
    again, nothing is stored twice (200); the same id with other content is a 409."""
    batch = _body(OutcomeBatch)
    digest = _digest(batch)
    replay = _replayed(aftersales_actions.BATCH_KIND, batch.external_id, digest)
    if replay is not None:
        return replay
    records = [{"customer_id": item.customer_no, "date": item.date.isoformat(),
                "sale_satisfaction": item.sale_satisfaction, "after_sales_satisfaction": item.after_sales_satisfaction,
                "repurchased": item.repurchased} for item in batch.outcomes]
    fields = set(aftersales_actions.OUTCOME_COLUMNS)
    try:
        checked, counts = aftersales_actions.store_outcome_batch(records, current_user.id, batch.external_id, digest)
    except aftersales_actions.ImportCollision:
        replay = _replayed(aftersales_actions.BATCH_KIND, batch.external_id, digest)
        if replay is not None:
            return replay
        return problem(409, _l("Another import wrote outcomes of the same customers meanwhile; nothing was "
                               "stored. Send the batch again."))
    if counts is None:
        return problem(422, _l("Nothing was stored: the batch has problems."), _items(checked.errors, fields))
    warnings = [p for p in checked.problems if p.severity != "error"]
    result = ImportResult(external_id=batch.external_id, created=True, rows=len(checked.rows), new=counts["new"],
                          changed=counts["changed"], unchanged=counts["unchanged"], warnings=_items(warnings, fields))
    return jsonify(result.model_dump(mode="json")), 201
