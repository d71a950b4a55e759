"""RFC 9457 problem details: every refusal of the API is one, as ``application/problem+json``."""
from __future__ import annotations

import json

from flask import Response
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

PROBLEM_JSON = "application/problem+json"


def problem(status: int, detail: str | None = None, errors: list[dict] | None = None,
            headers: dict | None = None) -> Response:
    """A problem details response with ``status``; ``errors`` lists {index, field, detail}."""
    body = {"type": "about:blank", "title": HTTP_STATUS_CODES.get(status, "Error"), "status": status,
            "detail": detail, "errors": errors or []}
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
