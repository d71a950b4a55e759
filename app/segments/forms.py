"""Forms of the segmentation area: import upload, run parameters, customer/patient checklist."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DecimalField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from segmentation.definitions import CUSTOMER_TRAITS, PATIENT_TRAITS

PERIOD = r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$"


class ImportForm(FlaskForm):
    file = FileField(_l("File (CSV or XLSX)"), validators=[FileRequired(_l("Choose a file."))])
    sheet = StringField(_l("Worksheet (XLSX only, optional)"), validators=[Optional(), Length(max=100)])


class RunForm(FlaskForm):
    window_start = StringField(_l("Window start (YYYY-MM)"), validators=[
        DataRequired(), Regexp(PERIOD, message=_l("Write the period as YYYY-MM or YYYY-Qn."))])
    window_end = StringField(_l("Window end (YYYY-MM)"), validators=[
        DataRequired(), Regexp(PERIOD, message=_l("Write the period as YYYY-MM or YYYY-Qn."))])
    abc_a = DecimalField(_l("A up to cumulative share (%)"), default=80, places=1,
                         validators=[DataRequired(), NumberRange(1, 100)])
    abc_b = DecimalField(_l("B up to cumulative share (%)"), default=95, places=1,
                         validators=[DataRequired(), NumberRange(1, 100)])
    split_revenue = DecimalField(_l("Revenue split (empty = median)"), validators=[Optional(), NumberRange(min=0)])
    split_potential = DecimalField(_l("Untapped-potential split (empty = median)"),
                                   validators=[Optional(), NumberRange(min=0)])
    trajectory_value = SelectField(_l("Trajectory based on"), choices=lambda: [
        SelectChoice("revenue", _l("Revenue")), SelectChoice("contribution", _l("Contribution margin"))])

    def validate_window_end(self, field):
        start = self.window_start.data or ""
        if field.data and start and (("Q" in field.data) != ("Q" in start)):
            raise ValidationError(_l("Use months or quarters for both ends."))
        if field.data and start and field.data < start:
            raise ValidationError(_l("The window ends before it starts."))

    def validate_abc_b(self, field):
        if self.abc_a.data is not None and field.data is not None and field.data < self.abc_a.data:
            raise ValidationError(_l("The B limit must not be below the A limit."))

    def repeat(self, window_start: str, window_end: str, parameters: dict) -> None:
        """Fill the form with an earlier run's window and parameters."""
        self.window_start.data, self.window_end.data = window_start, window_end
        self.abc_a.data, self.abc_b.data = (round(float(share) * 100, 1) for share in parameters["abc"])
        self.split_revenue.data = parameters.get("split_revenue")
        self.split_potential.data = parameters.get("split_potential")
        if parameters.get("trajectory_value") in ("revenue", "contribution"):
            self.trajectory_value.data = parameters["trajectory_value"]

    def parameters(self) -> dict:
        """The run parameters from the form."""
        return {
            "abc": [float(self.abc_a.data) / 100, float(self.abc_b.data) / 100],
            "split_revenue": float(self.split_revenue.data) if self.split_revenue.data is not None else None,
            "split_potential": float(self.split_potential.data) if self.split_potential.data is not None else None,
            "trajectory_value": self.trajectory_value.data,
        }


class ChecklistForm(FlaskForm):
    """Customer vs "patient" traits; fields are added per trait below."""

    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=2000)])


for _key in (*CUSTOMER_TRAITS, *PATIENT_TRAITS):
    setattr(ChecklistForm, f"trait_{_key}", BooleanField(_key))
