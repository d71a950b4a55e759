"""Forms of the audit area: touchpoints and metrics, audit rounds, findings, comments."""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, FloatField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields import HiddenField, SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.touchpoint_audit.models import FINDING_STATUSES, SEVERITIES

UNITS = ("eur", "seconds", "hours", "rating", "percent", "boolean")
UNIT_NAMES = {"eur": _l("Euro"), "seconds": _l("Seconds"), "hours": _l("Hours"), "rating": _l("Rating 1–5"),
              "percent": _l("Percent"), "boolean": _l("Yes/no")}
KEY_RULE = Regexp(r"^[a-z0-9_]+$", message=_l("Lower-case letters, digits and underscore only."))


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TouchpointForm(FlaskForm):
    key = StringField(_l("Key"), validators=[DataRequired(), Length(max=64), KEY_RULE])
    name_de = StringField(_l("Name (German)"), validators=[DataRequired(), Length(max=120)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    active = BooleanField(_l("Active"), default=True)


class ChannelEditForm(FlaskForm):
    """A channel's names and aliases (its key stays: observations store it)."""

    name_de = StringField(_l("Name (German)"), validators=[DataRequired(), Length(max=80)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=80)])
    aliases = TextAreaField(_l("Other words for it (one per line)"), validators=[Optional(), Length(max=2000)])
    active = BooleanField(_l("Active"), default=True)

    def validate_aliases(self, field):
        """Each alias fits its length."""
        if any(len(word.strip()) > 80 for word in (field.data or "").splitlines()):
            raise ValidationError(_l("An alias has at most 80 characters."))


class ChannelForm(ChannelEditForm):
    """A new channel of the vocabulary."""

    key = StringField(_l("Key"), validators=[DataRequired(), Length(max=32), KEY_RULE])


class MetricForm(FlaskForm):
    key = StringField(_l("Key"), validators=[DataRequired(), Length(max=64), KEY_RULE])
    name_de = StringField(_l("Name (German)"), validators=[DataRequired(), Length(max=120)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=120)])
    unit = SelectField(_l("Unit"), choices=lambda: [SelectChoice(u, UNIT_NAMES[u]) for u in UNITS])
    direction = SelectField(_l("Better for the customer"), choices=lambda: [
        SelectChoice("lower", _l("lower (price, waiting time)")),
        SelectChoice("higher", _l("higher (rating, discount)"))])
    min_value = FloatField(_l("Lowest allowed value"), validators=[Optional()])
    max_value = FloatField(_l("Highest allowed value"), validators=[Optional()])
    is_price = BooleanField(_l("Is a price (compare each case with the new-business price)"))
    needs_product_key = BooleanField(_l("Needs a product key (like-for-like)"))
    materiality = FloatField(_l("Materiality: the smallest gap that counts, in the unit of the effect (% for money "
                                "and durations, points for ratings, percentage points for yes/no); empty = default"),
                             validators=[Optional(), NumberRange(min=0)])

    def validate_max_value(self, field):
        """The range must not be inverted."""
        if field.data is not None and self.min_value.data is not None and field.data < self.min_value.data:
            raise ValidationError(_l("The highest value must not be below the lowest."))


class AuditForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])
    period_start = DateField(_l("Period from"), validators=[Optional()])
    period_end = DateField(_l("Period to"), validators=[Optional()])
    owner_id = SelectField(_l("Owner"), coerce=int, validators=[Optional()])
    metric_ids = CheckboxList(_l("Touchpoints and metrics in scope"), coerce=int)
    segments = CheckboxList(_l("Segments in scope (none ticked: all)"))
    products = StringField(_l("Products in scope (keys, comma-separated; empty: all)"),
                           validators=[Optional(), Length(max=2000)])
    staff_ids = CheckboxList(_l("Service staff assigned"), coerce=int)

    def validate_period_end(self, field):
        """The period must not end before it starts."""
        if field.data and self.period_start.data and field.data < self.period_start.data:
            raise ValidationError(_l("The period ends before it starts."))

    def validate_metric_ids(self, field):
        """An audit covers at least one metric."""
        if not field.data:
            raise ValidationError(_l("Choose at least one metric."))


class DueDateRule:
    """A due date set now must not lie in the past; the date a finding already has
    (``previous_due``) stays acceptable, so an overdue action can still change status."""

    previous_due: dt.date | None = None

    def validate_due_date(self, field):
        """Refuse a new due date before today."""
        if field.data and field.data != self.previous_due and field.data < dt.date.today():
            raise ValidationError(_l("The due date must not be in the past."))


class FindingForm(DueDateRule, FlaskForm):
    """A manual finding, or the action part of any finding."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    severity = SelectField(_l("Severity"), choices=lambda: [SelectChoice(s, s) for s in SEVERITIES])
    metric_id = SelectField(_l("Touchpoint and metric"), coerce=int, validators=[Optional()])
    segment = StringField(_l("Segment"), validators=[Optional(), Length(max=64)])
    recommended_action = TextAreaField(_l("Recommended action"), validators=[Optional(), Length(max=4000)])
    owner_id = SelectField(_l("Owner"), coerce=int, validators=[Optional()])
    due_date = DateField(_l("Due date"), validators=[Optional()])


class FindingUpdateForm(DueDateRule, FlaskForm):
    # The finding's version when the form was opened; the save is refused if it moved on.
    version = HiddenField()
    status = SelectField(_l("Status"), choices=lambda: [SelectChoice(s, s) for s in FINDING_STATUSES])
    owner_id = SelectField(_l("Owner"), coerce=int, validators=[Optional()])
    due_date = DateField(_l("Due date"), validators=[Optional()])
    recommended_action = TextAreaField(_l("Recommended action"), validators=[Optional(), Length(max=4000)])


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Comment"), validators=[DataRequired(), Length(max=4000)])


class ObservationUploadForm(FlaskForm):
    file = FileField(_l("File (CSV or XLSX)"), validators=[FileRequired(_l("Choose a file."))])
