"""Personal API tokens: a user makes, lists and revokes their own."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.models import ApiToken
from app.extensions import db
from app.web.args import db_int
from app.web.models import utcnow
from app.web.rendering import render
from app.web.security import any_user

bp = Blueprint("tokens", __name__, template_folder="templates", url_prefix="/account/tokens")

EXPIRY_CHOICES = (30, 90, 365)


def _own_tokens() -> list[ApiToken]:
    return db.session.scalars(db.select(ApiToken).where(ApiToken.user_id == current_user.id)
                              .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())).all()


def _page(status: int = 200, secret: str | None = None, errors: dict | None = None, name: str = ""):
    return render("tokens/index.html", tokens=_own_tokens(), secret=secret, errors=errors or {}, name=name,
                  expiry_choices=EXPIRY_CHOICES, now=utcnow(), status=status)


@bp.route("/", methods=["GET", "POST"])
@any_user
def index():
    """The user's tokens; a POST makes a new one and shows its secret once."""
    if request.method == "GET":
        return _page()
    name = (request.form.get("name") or "").strip()
    errors = {}
    if not name:
        errors["name"] = _("Give the token a name, e.g. the system that uses it.")
    elif len(name) > 80:
        errors["name"] = _("At most %(n)d characters.", n=80)
    days_text = request.form.get("expires_days") or ""
    days = int(days_text) if days_text.isdigit() and int(days_text) in EXPIRY_CHOICES else None
    if days_text and days is None:
        errors["expires_days"] = _("Choose one of the offered validities.")
    if errors:
        return _page(422, errors=errors, name=name[:80])
    _token, secret = ApiToken.issue(current_user, name, days)
    db.session.commit()
    return _page(201, secret=secret)


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@any_user
def revoke(token_id: int):
    """Revoke one of the user's own tokens; it stops working at once."""
    token = db.session.get(ApiToken, db_int(token_id))
    if token is None or token.user_id != current_user.id:
        abort(404)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.commit()
    flash(_("Token “%(name)s” revoked.", name=token.name), "success")
    return redirect(url_for("tokens.index"), code=303)
