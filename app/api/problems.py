"""RFC 9457 problem details: every refusal of the API is one, as ``application/problem+json``."""
from __future__ import annotations

import json

from flask import Response, current_app, has_request_context, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

PROBLEM_JSON = "application/problem+json"

#: the titles of the statuses the API answers with (werkzeug's English words, translatable)
TITLES = {
    400: _l("Bad Request"), 401: _l("Unauthorized"), 403: _l("Forbidden"), 404: _l("Not Found"),
    405: _l("Method Not Allowed"), 409: _l("Conflict"), 412: _l("Precondition Failed"),
    413: _l("Request Entity Too Large"), 415: _l("Unsupported Media Type"), 422: _l("Unprocessable Entity"),
    428: _l("Precondition Required"), 429: _l("Too Many Requests"), 500: _l("Internal Server Error"),
}


def request_language() -> str:
    """The language an API answer speaks: German when Accept-Language prefers it, else English
    (a client that names no language is a program, not a German-speaking user)."""
    if not has_request_context():
        return "en"
    languages = [code for code in current_app.config.get("LANGUAGES", ("de", "en")) if code in ("de", "en")]
    return request.accept_languages.best_match(languages) or "en"


def problem(status: int, detail: str | None = None, errors: list[dict] | None = None,
            headers: dict | None = None) -> Response:
    """A problem details response with ``status``; ``errors`` lists {index, field, detail}. Title
    and details are given as (lazy) gettext texts and rendered in the request's language here."""
    title = TITLES.get(status) or HTTP_STATUS_CODES.get(status, "Error")
    body = {"type": "about:blank", "title": str(title), "status": status,
            "detail": None if detail is None else str(detail),
            "errors": [{**error, "detail": str(error["detail"])} for error in errors or []]}
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


class ProblemError(HTTPException):
    """Raise to answer with a problem details response from anywhere in a view."""

    def __init__(self, status: int, detail: str | None = None, errors: list[dict] | None = None,
                 headers: dict | None = None):
        self.code = status
        super().__init__(detail, response=problem(status, detail, errors, headers))


def from_http_error(error: HTTPException) -> Response:
    """Werkzeug's refusals (404, 405, 413, 429, …) as problem details."""
    if isinstance(error, ProblemError):
        return error.get_response()
    response = problem(error.code or 500, error.description if error.code != 500 else None)
    if error.code == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)
    if error.code == 429 and error.response is not None and "Retry-After" in error.response.headers:
        response.headers["Retry-After"] = error.response.headers["Retry-After"]
    return response


def validation_errors(exc) -> list[dict]:
    """pydantic's errors as {index, field, detail}: the item of the batch and its field."""
    out = []
    for error in exc.errors(include_url=False, include_input=False):
        loc = list(error.get("loc") or ())
        index = next((part for part in loc if isinstance(part, int)), None)
        names = [str(part) for part in loc if not isinstance(part, int)]
        if names and names[0] == "observations" and index is not None:
            names = names[1:]
        out.append({"index": index, "field": names[0] if names else None, "detail": error["msg"]})
    return out
