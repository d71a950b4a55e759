"""User administration: create users, set roles, reset passwords."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.forms import ROLE_LABELS, PasswordResetForm, UserCreateForm, UserEditForm
from app.accounts.models import User
from app.accounts.passwords import hash_password
from app.extensions import db
from app.web.rendering import render
from app.web.security import allow

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")


def _user_or_404(user_id: int) -> User:
    return db.get_or_404(User, user_id)


@bp.route("/users")
@allow("admin")
def users():
    rows = db.session.scalars(db.select(User).order_by(User.role, User.username)).all()
    return render("admin/users.html", users=rows, role_labels=ROLE_LABELS)


@bp.route("/users/new", methods=["GET", "POST"])
@allow("admin")
def create_user():
    form = UserCreateForm()
    if form.validate_on_submit():
        user = User(
            username=form.username.data.strip(),
            display_name=form.display_name.data or form.username.data,
            email=(form.email.data or "").strip() or None,
            role=form.role.data,
            password_hash=hash_password(form.password.data),
        )
        db.session.add(user)
        db.session.commit()
        flash(_("User %(name)s created.", name=user.username), "success")
        return redirect(url_for("admin.users"), code=303)
    return render("admin/user_form.html", form=form, status=422 if form.errors else 200)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@allow("admin")
def edit_user(user_id: int):
    user = _user_or_404(user_id)
    form = UserEditForm(obj=user)
    reset_form = PasswordResetForm(prefix="reset")
    if form.validate_on_submit():
        if user.id == current_user.id and (form.role.data != "admin" or not form.active.data):
            # Keeps at least the acting admin able to administer.
            form.role.errors.append(_("You cannot remove your own administrator access."))
        else:
            if form.role.data != user.role or (user.active and not form.active.data):
                user.session_version += 1  # changed rights take effect at once
            user.display_name = form.display_name.data or user.username
            user.email = (form.email.data or "").strip() or None
            user.role = form.role.data
            user.active = form.active.data
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for("admin.users"), code=303)
    status = 422 if form.errors else 200
    return render("admin/user_edit.html", user=user, form=form, reset_form=reset_form,
                  role_labels=ROLE_LABELS, status=status)


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@allow("admin")
def reset_password(user_id: int):
    user = _user_or_404(user_id)
    form = UserEditForm(obj=user)
    reset_form = PasswordResetForm(prefix="reset")
    if reset_form.validate_on_submit():
        user.password_hash = hash_password(reset_form.password.data)
        user.session_version += 1  # signs the user out everywhere
        db.session.commit()
        flash(_("Password for %(name)s reset.", name=user.username), "success")
        return redirect(url_for("admin.users"), code=303)
    return render("admin/user_edit.html", user=user, form=form, reset_form=reset_form,
                  role_labels=ROLE_LABELS, status=422)
