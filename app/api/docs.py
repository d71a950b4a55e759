"""The API's documentation page: the operations of the OpenAPI document, server-rendered."""
from __future__ import annotations

from flask import Blueprint

from app.api.views import spec
from app.web.rendering import render
from app.web.security import any_user

bp = Blueprint("api_docs", __name__, url_prefix="/api", template_folder="templates")

METHODS = ("get", "post", "put", "patch", "delete")


@bp.route("/")
@any_user
def index():
    """Every operation with its method, path, summary and answers, and the link to the JSON."""
    operations = []
    for path, item in spec.spec.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                operation = item[method]
                operations.append({"method": method.upper(), "path": path, "summary": operation.get("summary", ""),
                                   "description": operation.get("description", ""),
                                   "codes": sorted(operation.get("responses", {}))})
    return render("api/docs.html", operations=operations)
