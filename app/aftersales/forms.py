"""Forms of the after-sales area: logging one outcome, uploading a file, the view settings."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DateField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from app.extensions import db
from app.segments.models import Customer


def rating_choices() -> list[SelectChoice]:
    """1–5 scores and yes/no, as the users record satisfaction."""
    return [
        SelectChoice("", _l("– choose –")),
        *[SelectChoice(str(i), _l("Score %(n)d", n=i)) for i in range(5, 0, -1)],
        SelectChoice("yes", _l("Yes, satisfied")),
        SelectChoice("no", _l("No, not satisfied")),
    ]


class OutcomeForm(FlaskForm):
    """One after-sales outcome, logged by hand."""

    customer_no = StringField(_l("Customer number"), validators=[DataRequired(), Length(max=64)])
    outcome_date = DateField(_l("Date"), validators=[DataRequired()])
    sale_satisfaction = SelectField(_l("Satisfied with the sale"), choices=rating_choices,
                                    validators=[DataRequired()])
    after_sales_satisfaction = SelectField(_l("Satisfied with after-sales"), choices=rating_choices,
                                           validators=[DataRequired()])
    repurchased = SelectField(_l("Bought again"), choices=lambda: [
        SelectChoice("", _l("– choose –")), SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))],
        validators=[DataRequired()])

    def validate_customer_no(self, field):
        customer_id = db.session.scalar(db.select(Customer.id).where(Customer.customer_no == field.data.strip()))
        if customer_id is None:
            raise ValidationError(_l("No customer with this number."))
        self.customer_id = customer_id


def rating_value(choice: str) -> tuple[int | None, bool | None]:
    """(score, yes) from a form choice."""
    if choice in ("yes", "no"):
        return None, choice == "yes"
    return int(choice), None


class OutcomeUploadForm(FlaskForm):
    """The outcome file (CSV or XLSX)."""

    file = FileField(_l("File (CSV or Excel)"), validators=[
        FileRequired(), FileAllowed(["csv", "txt", "xlsx"], _l("Upload a .csv or .xlsx file."))])
