"""Application factory."""
from __future__ import annotations

import os

# numpy asks the kernel for huge pages for every large array. Where the kernel
# then compacts memory at the first touch (transparent huge pages with defrag
# "madvise", Debian's default), filling the 190 MB window matrix of a million
# customers stalled for about 0.45 s of a 1.5 s read. Read by numpy at import,
# so set before anything imports it; an explicit setting wins.
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")

import logging
from pathlib import Path

from flask import Flask, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config, config_from_env

# Content Security Policy: scripts only from our origin, no eval. Styles allow
# inline attributes because server-rendered matplotlib SVG charts carry them.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def create_app(config_class: type[Config] | None = None, **overrides) -> Flask:
    """Build the app for ``config_class`` (default: from APP_ENV)."""
    app = Flask(__name__, instance_relative_config=False)
    config_class = config_class or config_from_env()
    app.config.update(config_class.load())
    app.config.update(overrides)

    if app.config.get("PROXY_FIX"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    register_extensions(app)
    register_blueprints(app)
    register_security(app)
    register_errorhandlers(app)
    register_template_context(app)
    register_cli(app)
    return app


def _enable_sqlite_foreign_keys(dbapi_connection, _record) -> None:
    """SQLite enforces foreign keys (and ON DELETE CASCADE) only when asked, per connection."""
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()


def _sqlite_foreign_keys() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if not event.contains(Engine, "connect", _enable_sqlite_foreign_keys):
        event.listen(Engine, "connect", _enable_sqlite_foreign_keys)


def register_extensions(app: Flask) -> None:
    from app.extensions import babel, csrf, db, htmx, limiter, login_manager, migrate
    from app.i18n import register_filters, select_locale

    db.init_app(app)
    from flask_sqlalchemy.session import Session

    from app.customer_series import install

    install(Session)  # ORM writes of customer values keep the per-customer series in step
    _sqlite_foreign_keys()
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the login page explains itself
    login_manager.session_protection = "basic"
    register_filters(app)

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask import redirect, url_for
        from flask_htmx import make_response

        from app.extensions import htmx as hx

        target = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
        if hx:
            # htmx would swap the login page into a fragment; send the browser there.
            return make_response("", 401, redirect=target)
        return redirect(target)

    import app.security  # noqa: F401  (registers the user loader)
    import app.models  # noqa: F401


def register_blueprints(app: Flask) -> None:
    from app.views import BLUEPRINTS

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    from app.security import PUBLIC

    app.view_functions["static"].allowed_roles = PUBLIC


def register_security(app: Flask) -> None:
    from app.security import enforce_policy

    app.before_request(enforce_policy)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.endpoint != "static" and "Cache-Control" not in response.headers:
            # Pages carry customer data: keep them out of shared caches.
            response.headers["Cache-Control"] = "no-store"
        return response


def register_errorhandlers(app: Flask) -> None:
    from app.rendering import render

    def error_page(status: int, message: str | None = None):
        return render("errors/error.html", status=status, code=status, message=message)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return error_page(400, "csrf")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code in (400, 403, 404, 405, 413, 429):
            return error_page(error.code)
        return error

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        from app.extensions import db

        db.session.rollback()
        return error_page(500)


def register_template_context(app: Flask) -> None:
    from flask_login import current_user

    from app.i18n import lang
    from app.navigation import nav_for
    from app.security import has_role

    @app.context_processor
    def inject():
        return {
            "current_user": current_user,
            "has_role": has_role,
            "nav": nav_for(current_user),
            "lang": lang(),
            "htmx_version": HTMX_VERSION,
        }


def register_cli(app: Flask) -> None:
    from app.cli import COMMAND_GROUPS

    for group in COMMAND_GROUPS:
        app.cli.add_command(group)


HTMX_VERSION = "2.0.11"
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)
