from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, ValidationError

from app.accounts.models import User
from app.accounts.passwords import MIN_LENGTH, password_problem
from app.extensions import db
from app.web.security import ROLES

ROLE_LABELS = {
    "admin": _l("Administrator"),
    "manager": _l("Touchpoint manager"),
    "service": _l("Service team"),
    "leadership": _l("Leadership"),
}


def new_password(form, field) -> None:
    """Every new password: long enough and not one of the common ones."""
    problem = password_problem(field.data or "")
    if problem == "too_short":
        raise ValidationError(_l("At least %(n)d characters.", n=MIN_LENGTH))
    if problem == "common":
        raise ValidationError(_l("This password is too common; choose another."))

def _stripped(value):
    return value.strip() if isinstance(value, str) else value


class LoginForm(FlaskForm):
    # autocomplete tokens: password managers fill the sign-in and offer to generate new passwords
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)],
                           render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Stay signed in"))


class UserCreateForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(),
            Length(min=2, max=64),
            Regexp(r"^[A-Za-z0-9._-]+$", message=_l("Letters, digits, dot, dash and underscore only.")),
        ],
        render_kw={"autocomplete": "off"},  # another person's account, not the admin's own
    )
    display_name = StringField(_l("Full name"), validators=[Optional(), Length(max=120)])
    email = StringField(_l("E-mail (for reminders of assigned actions)"), filters=[_stripped],
                        validators=[Optional(), Length(max=254), Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter an e-mail address."))])
    # Nothing is preselected (an administrator is made only by choosing it); least rights first.
    role = SelectField(_l("Role"), validators=[DataRequired(message=_l("Choose a role."))], choices=lambda: [
        SelectChoice("", _l("Choose a role …")),
        *(SelectChoice(r, ROLE_LABELS[r]) for r in ("service", "leadership", "manager", "admin")),
    ])
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=256), new_password],
        render_kw={"autocomplete": "new-password"},
    )

    def validate_username(self, field):
        exists = db.session.scalar(db.select(User.id).where(db.func.lower(User.username) == field.data.lower()))
        if exists:
            raise ValidationError(_l("This username is taken."))


class UserEditForm(FlaskForm):
    display_name = StringField(_l("Full name"), validators=[Optional(), Length(max=120)])
    email = StringField(_l("E-mail (for reminders of assigned actions)"), filters=[_stripped],
                        validators=[Optional(), Length(max=254), Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter an e-mail address."))])
    role = SelectField(_l("Role"), choices=lambda: [SelectChoice(r, ROLE_LABELS[r]) for r in ROLES])
    active = BooleanField(_l("Active"))


class PasswordResetForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=256), new_password],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the password"), validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
