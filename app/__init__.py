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
import sqlite3
from pathlib import Path

from flask import Flask, redirect, request, url_for
from flask_htmx import make_response
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from app import models  # noqa: F401  (every table, for Alembic and create_all)
from app.accounts import area as accounts_area
from app.aftersales import area as aftersales_area
from app.api import area as api_area
from app.demo import demo_data
from app.extensions import babel, csrf, db, htmx, limiter, login_manager, migrate
from app.overview import area as overview_area
from app.reports import area as reports_area
from app.segments import area as segments_area
from app.touchpoint_audit import area as touchpoint_audit_area
from app.web import i18n
from app.web.args import BoundedIntConverter, refuse_nul_bytes
from app.web.navigation import nav_for
from app.web.rendering import render
from app.web.security import PUBLIC, enforce_policy, has_role
from app.web.views import bp as jobs_bp
from config import Config, config_from_env

# The product's areas, in the order their pages appear; each registers its blueprints,
# CLI groups and hooks in ``init_app``. Nothing registers itself by being imported.
AREAS = (accounts_area, overview_area, segments_area, touchpoint_audit_area, aftersales_area, reports_area,
         api_area)

# Content Security Policy: scripts only from our origin, no eval. Styles allow
# inline attributes because server-rendered matplotlib SVG charts carry them.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def create_app(config_class: type[Config] | None = None, **overrides) -> Flask:
    """Build the app for ``config_class`` (default: from APP_ENV)."""
    app = Flask(__name__, template_folder="web/templates", static_folder="web/static")
    # Before any blueprint adds its rules: an id beyond an integer column is a 404.
    app.url_map.converters["int"] = BoundedIntConverter
    config_class = config_class or config_from_env()
    app.config.update(config_class.load())
    app.config.update(overrides)
    # Each area keeps its own German catalog beside its templates; Flask-Babel merges them.
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", ";".join(i18n.translation_directories()))

    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:  # X-Forwarded-* only from the configured number of proxies, else ignored
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    register_extensions(app)
    app.register_blueprint(jobs_bp)
    for area in AREAS:
        area.init_app(app)
    app.cli.add_command(demo_data)
    app.view_functions["static"].allowed_roles = PUBLIC
    register_security(app)
    register_errorhandlers(app)
    register_template_context(app)
    return app


def _configure_sqlite_connection(dbapi_connection, _record) -> None:
    """Per SQLite connection: enforce foreign keys (and ON DELETE CASCADE), which SQLite
    does only when asked; and for a database file, write-ahead logging, so that pages
    and job progress stay readable while a background job writes (in the default
    rollback journal a commit waits for every reader and blocks them meanwhile)."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    (database_file,) = [row[2] for row in cursor.execute("PRAGMA database_list") if row[1] == "main"] or [""]
    if database_file:  # "" for an in-memory database, which has no journal to switch
        cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def _sqlite_connections() -> None:
    if not event.contains(Engine, "connect", _configure_sqlite_connection):
        event.listen(Engine, "connect", _configure_sqlite_connection)


def _engine_options(app: Flask) -> None:
    """SQLite waits this long for another connection's write lock before it gives up with
    "database is locked" (Python's default is 5 s; a background job's write, e.g. storing
    both PDFs of a publication, may hold the lock longer on a slow disk)."""
    if str(app.config.get("SQLALCHEMY_DATABASE_URI") or "").startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("timeout", app.config["SQLITE_BUSY_TIMEOUT"])
        options["connect_args"] = connect_args
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def migrations_directory(app: Flask) -> Path:
    """migrations/ beside the package in a source checkout; inside it (app/migrations) where the
    wheel put it in a pip-installed deployment."""
    installed = Path(app.root_path) / "migrations"
    return installed if installed.is_dir() else Path(app.root_path).parent / "migrations"


def register_extensions(app: Flask) -> None:
    _engine_options(app)
    db.init_app(app)
    _sqlite_connections()
    migrate.init_app(app, db, directory=str(migrations_directory(app)), include_object=models.in_models)
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the login page explains itself
    login_manager.session_protection = "basic"
    login_manager.unauthorized_handler(_unauthorized)
    i18n.register_filters(app)


def _unauthorized():
    target = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
    if htmx:
        # htmx would swap the login page into a fragment; send the browser there.
        return make_response("", 401, redirect=target)
    return redirect(target)


def register_security(app: Flask) -> None:
    app.before_request(refuse_nul_bytes)
    app.before_request(enforce_policy)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("HSTS_SECONDS"):
            response.headers.setdefault("Strict-Transport-Security", f"max-age={int(app.config['HSTS_SECONDS'])}")
        if request.endpoint != "static" and "Cache-Control" not in response.headers:
            # Pages carry customer data: keep them out of shared caches.
            response.headers["Cache-Control"] = "no-store"
        return response


def register_errorhandlers(app: Flask) -> None:
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

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_unavailable(error: Exception):
        # The database is down, unreachable or refused the connection: say so, and
        # tell clients and proxies when to retry. Nothing of the error reaches the page.
        app.logger.error("database unavailable on %s %s: %s", request.method, request.path,
                         type(error.orig).__name__ if getattr(error, "orig", None) else type(error).__name__)
        try:
            db.session.rollback()
        except (OperationalError, InterfaceError):
            pass
        # The page must not ask the database for the signed-in user again.
        login_manager._update_request_context_with_user()
        response = error_page(503)
        response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return error_page(500)


def register_template_context(app: Flask) -> None:
    @app.context_processor
    def inject():
        return {
            "current_user": current_user,
            "has_role": has_role,
            "nav": nav_for(current_user),
            "lang": i18n.lang(),
            "htmx_version": HTMX_VERSION,
        }


HTMX_VERSION = "2.0.11"
DATABASE_RETRY_AFTER = 30  # seconds a client should wait when the database is unreachable
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)
