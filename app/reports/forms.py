"""Forms of the report area: the audit's problem-solving chain, the report language."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FormField, StringField, TextAreaField
from wtforms.validators import Length, Optional

ROLE_LABELS = {
    "supplier": _l("Supplier"), "us": _l("Us"), "customer": _l("Our customer"),
    "customers_customer": _l("Our customer's customer"),
}


class ActorForm(FlaskForm):
    """One actor of the chain (a sub-form; CSRF is on the outer form)."""

    class Meta:
        csrf = False

    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    size = StringField(_l("Size"), validators=[Optional(), Length(max=200)])
    importance = StringField(_l("Importance"), validators=[Optional(), Length(max=200)])
    competitive_position = StringField(_l("Competitive position"), validators=[Optional(), Length(max=200)])
    count = StringField(_l("Count"), validators=[Optional(), Length(max=100)])
    relationship = StringField(_l("Relationship to us"), validators=[Optional(), Length(max=200)])
    success_factors = TextAreaField(_l("Success factors"), validators=[Optional(), Length(max=4000)])
    known_person = BooleanField(_l("We know a person there"))
    direct_contact = BooleanField(_l("We have direct contact"))


class ChainForm(FlaskForm):
    """The four actors supplier → us → our customer → our customer's customer."""

    supplier = FormField(ActorForm)
    us = FormField(ActorForm)
    customer = FormField(ActorForm)
    customers_customer = FormField(ActorForm)
