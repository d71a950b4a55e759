"""Sign-in, sign-out and the language switch."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.accounts.forms import LoginForm
from app.accounts.models import User
from app.accounts.passwords import verify_password
from app.extensions import db, limiter
from app.web.rendering import render
from app.web.security import any_user, public

bp = Blueprint("auth", __name__, template_folder="templates")


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: never redirect to another host."""
    # Control characters could split the Location header; browsers read a backslash as a slash.
    if target and target.isprintable() and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("main.index")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _account_limit() -> str:
    return current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]


def _account_key() -> str:
    """The throttle key of the account a sign-in names (as the login looks it up)."""
    return "login-account:" + (request.form.get("username") or "").strip().lower()[:64]


@bp.route("/login", methods=["GET", "POST"])
@public
# Both limits count refused sign-ins only: an office behind one address signing in at nine
# must not lock itself out, while guessing from one address or at one account is throttled.
@limiter.limit(_login_limit, methods=["POST"], deduct_when=lambda response: response.status_code >= 400)
@limiter.limit(_account_limit, methods=["POST"], key_func=_account_key,
               deduct_when=lambda response: response.status_code == 401)  # failed sign-ins only
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = db.session.scalar(
            db.select(User).where(db.func.lower(User.username) == form.username.data.strip().lower())
        )
        # One message for unknown user, wrong password and deactivated account.
        if verify_password(user.password_hash if user else None, form.password.data) and user.active:
            session.clear()
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
        error = _("Unknown username or wrong password.")
    status = 401 if error else 200
    return render("auth/login.html", form=form, error=error, status=status)


@bp.route("/logout", methods=["POST"])
@any_user
def logout():
    # Signing out ends this session everywhere it was copied: the old session cookie
    # and the remember-me cookie carry the session version, which no longer matches.
    current_user.session_version += 1
    db.session.commit()
    session.clear()
    logout_user()  # after clearing: it marks the remember-me cookie for deletion in the session
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"), code=303)


@bp.route("/language", methods=["POST"])
@public
def set_language():
    choice = request.form.get("lang", "")
    if choice not in current_app.config["LANGUAGES"]:
        return render("errors/error.html", status=400, code=400, message=None)
    session["lang"] = choice
    if current_user.is_authenticated:
        current_user.locale = choice
        db.session.commit()
    return redirect(_safe_next(request.form.get("next")), code=303)
