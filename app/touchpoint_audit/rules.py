"""What makes an observation valid: the value per metric unit and range, the customer,
the customer status, the product key; shared by the logging form, its htmx validation
endpoint and the bulk import, so all three refuse the same things with the same words."""
from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.segments.models import Customer
from app.touchpoint_audit.channels import Vocabulary, vocabulary
from app.touchpoint_audit.models import Audit, Metric, Observation, Touchpoint, audit_metrics
from app.web.args import db_int
from app.web.i18n import lang
from app.web.security import has_role
from audits import customer_status, evidence_grade
from tabular import BOOLEAN_WORDS, parse_amount

# The longest texts an observation holds; a longer one is refused, never cut (two
# product keys cut to the same 64 characters would merge two products).
MAX_LENGTHS = {"product_key": Observation.__table__.c.product_key.type.length,
               "channel": Observation.__table__.c.channel.type.length}

UNIT_LABELS = {"eur": "€", "seconds": "s", "hours": "h", "rating": "1–5", "percent": "%", "boolean": ""}
#: The optional text fields of an observation: the longest text kept, and what an empty one stores.
TEXT_FIELDS = {"product_key": (64, None), "channel": (32, None), "note": (2000, "")}
_MMSS = re.compile(r"^(\d{1,3}):([0-5]\d)$")


def may_see(audit: Audit) -> bool:
    """Managers and leadership see every audit; service staff the ones they are assigned to."""
    if has_role("manager", "leadership"):
        return True
    return current_user.role == "service" and audit.has_staff(current_user.id)


def may_see_finding(finding) -> bool:
    """Managers and leadership see the findings of the audits they see; service staff the ones they own."""
    if has_role("manager", "leadership"):
        return may_see(finding.audit)
    return finding.owner_id is not None and finding.owner_id == current_user.id


def may_log(audit: Audit) -> bool:
    """Managers log into any open audit, service staff into the ones they are assigned to."""
    return has_role("manager") or audit.has_staff(current_user.id)


def too_long(texts: dict[str, str]) -> dict[str, str]:
    """An error for each of an observation's texts longer than its column holds."""
    return {name: _("too long (%(length)d characters; at most %(max)d fit)", length=len(text), max=MAX_LENGTHS[name])
            for name, text in texts.items() if len(text) > MAX_LENGTHS[name]}


# A plain number with at most one separator: read as a decimal, exactly as tabular.parse_amount
# reads a single value, without building a pandas series for it (a bulk import checks
# 200,000 of these; the general parser cost about 1.3 ms a value).
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


def parse_number(text: str) -> float | None:
    """A number written with a decimal point or a German decimal comma; None if it is none."""
    plain = str(text).strip()
    if _PLAIN_NUMBER.match(plain):
        return float(plain.replace(",", "."))
    value, problem = parse_amount(text)
    return None if problem else value


def check_value(metric: Metric, raw) -> tuple[float | None, str | None]:
    """The value as a float for this metric, or an error message in the user's language."""
    text = "" if raw is None else str(raw).strip()
    if text == "":
        return None, _("Enter a value.")
    if metric.unit == "boolean":
        word = text.casefold()
        for flag, words in BOOLEAN_WORDS.items():
            if word in words:
                return float(flag), None
        return None, _("Enter yes or no (1 or 0).")
    if metric.unit == "seconds" and _MMSS.match(text):
        minutes, seconds = _MMSS.match(text).groups()
        value = int(minutes) * 60 + int(seconds)
    else:
        value = parse_number(text.replace("€", "").replace("%", "").strip())
        if value is None or not math.isfinite(value):  # 400 nines read as infinity
            return None, _("“%(value)s” is not a number.", value=text[:40])
    if metric.unit == "rating" and value != int(value):
        return None, _("A rating is a whole number from 1 to 5.")
    low, high = metric.min_value, metric.max_value
    if metric.unit == "rating":
        low = 1 if low is None else low
        high = 5 if high is None else high
    if low is not None and value < low:
        if low == 0:
            return None, _("The value cannot be negative.")
        return None, _("The value must be at least %(low)s.", low=_fmt(low))
    if high is not None and value > high:
        return None, _("The value must be at most %(high)s.", high=_fmt(high))
    return float(value), None


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def find_customer(text: str) -> Customer | None:
    """The customer with exactly this customer number (leading zeros matter)."""
    text = (text or "").strip()
    if not text:
        return None
    return db.session.scalar(db.select(Customer).where(Customer.customer_no == text))


def status_from_tenure(customer: Customer | None, when: dt.date | dt.datetime | None = None) -> str | None:
    """'existing' when the customer was a customer before the observation, 'new' when the
    relationship began on or after it, None when that is not known."""
    if customer is None or customer.customer_since is None:
        return None
    when = when or dt.date.today()
    if isinstance(when, dt.datetime):
        when = when.date()
    return "existing" if customer.customer_since < when else "new"


@dataclass
class Checked:
    """A checked observation: its clean values, or the errors per field."""

    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no field has an error."""
        return not self.errors


def audit_metric(audit: Audit, metric_id) -> Metric | None:
    """The metric with this id if it is in the audit's scope and active."""
    try:
        metric_id = db_int(metric_id)
    except (TypeError, ValueError):
        return None

    # One query (not the audit's whole metric list): this runs on every keystroke check.
    return db.session.scalar(
        db.select(Metric).join(Touchpoint, Metric.touchpoint_id == Touchpoint.id)
        .join(audit_metrics, audit_metrics.c.metric_id == Metric.id)
        .where(Metric.id == metric_id, audit_metrics.c.audit_id == audit.id, Touchpoint.active.is_(True))
    )


def check_channel(word: str, channels: Vocabulary) -> tuple[str | None, str | None]:
    """The channel key a word stands for (None for no word), or an error naming the closest channel."""
    word = (word or "").strip()
    if not word:
        return None, None
    key = channels.key_of(word)
    if key is not None:
        return key, None
    suggestion = channels.suggestion(word, lang())
    if suggestion:
        return None, _("“%(value)s” is not one of the company's channels; did you mean “%(suggestion)s”?",
                       value=word[:40], suggestion=suggestion)
    return None, _("“%(value)s” is not one of the company's channels (%(known)s); a manager can add it as an alias.",
                   value=word[:40], known=", ".join(channels.choices(lang())))


def check_row(audit: Audit, metric: Metric | None, fields: Mapping, customer: Customer | None,
              customer_problem: bool, observed_at: dt.datetime | None,
              channels: Vocabulary | None = None, default_grade: str = "observed") -> Checked:
    """The rule of an observation's fields, however it comes in (the log form, its inline check,
    the bulk import): the value for the metric, the customer status (a spelling of the status
    vocabulary, else from the customer's tenure at ``observed_at``), the product key the metric
    needs and the audit's product scope, the channel as a key of the company's vocabulary
    (``channels``; read when not given); the text fields trimmed to their length.

    ``customer`` is the customer the row names, ``customer_problem`` says it named one that does
    not exist (then a missing status is not reported as well). The evidence grade is a spelling
    of the grade vocabulary, else ``default_grade`` (the log form: observed; a file import: a
    system record). Problems are keyed by field.
    """
    checked = Checked()
    if metric is not None:
        value, problem = check_value(metric, fields.get("value"))
        if problem:
            checked.errors["value"] = problem
        checked.values["value"] = value

    word = str(fields.get("customer_status") or "").strip()
    status = customer_status(word) if word else status_from_tenure(customer, observed_at)
    if word and status is None:
        checked.errors["customer_status"] = _("“%(value)s” is not a customer status (new/existing, "
                                              "Neukunde/Bestandskunde).", value=word[:40])
    elif status is None and not customer_problem:
        checked.errors["customer_status"] = _("Choose new or existing customer.")
    checked.values["customer_status"] = status

    grade_word = str(fields.get("evidence_grade") or "").strip()
    grade = evidence_grade(grade_word) if grade_word else default_grade
    if grade is None:
        checked.errors["evidence_grade"] = _("“%(value)s” is not an evidence grade (observed, system record, "
                                             "self-reported; beobachtet, Systemdatensatz, Selbstauskunft).",
                                             value=grade_word[:40])
    checked.values["evidence_grade"] = grade

    texts = {name: str(fields.get(name) or "").strip() for name in TEXT_FIELDS}
    product = texts["product_key"]
    if metric is not None and metric.needs_product_key and not product:
        checked.errors["product_key"] = _("This metric needs the product or tariff key for a like-for-like price.")
    elif audit.scope_products and product and product not in audit.scope_products:
        checked.errors["product_key"] = _("This product is not in the audit's scope.")
    for name, problem in too_long({name: texts[name] for name in MAX_LENGTHS}).items():
        checked.errors.setdefault(name, problem)
    if texts["channel"] and "channel" not in checked.errors:
        key, problem = check_channel(texts["channel"], channels if channels is not None else vocabulary())
        if problem:
            checked.errors["channel"] = problem
        texts["channel"] = key or ""
    for name, (longest, empty) in TEXT_FIELDS.items():
        checked.values[name] = texts[name][:longest] or empty  # only the note is ever cut here
    return checked


def check_observation(audit: Audit, data, now: dt.datetime | None = None) -> Checked:
    """Check a submitted observation (a mapping of form fields) against the audit's scope."""
    checked = Checked()
    metric = audit_metric(audit, data.get("metric_id"))
    if metric is None:
        checked.errors["metric_id"] = _("Choose a touchpoint and metric of this audit.")
    else:
        checked.values["metric_id"] = metric.id

    observed_at = now or dt.datetime.now().replace(microsecond=0)
    raw_date = (data.get("observed_on") or "").strip()
    if raw_date:
        try:
            day = dt.date.fromisoformat(raw_date)
        except ValueError:
            checked.errors["observed_on"] = _("Enter the date as YYYY-MM-DD.")
        else:
            if day > dt.date.today():
                checked.errors["observed_on"] = _("The date lies in the future.")
            observed_at = dt.datetime.combine(day, observed_at.time() if day == observed_at.date() else dt.time(12))
    checked.values["observed_at"] = observed_at

    customer = None
    customer_id = (data.get("customer_id") or "").strip()
    customer_q = (data.get("customer_q") or "").strip()
    if customer_id:
        try:
            customer = db.session.get(Customer, db_int(customer_id))
        except ValueError:
            customer = None
        if customer is None:
            checked.errors["customer"] = _("This customer does not exist.")
        elif customer_q and customer_q not in (customer.customer_no, customer.name):
            customer = None  # the user typed something else after picking
    if customer is None and customer_q and "customer" not in checked.errors:
        customer = find_customer(customer_q)
        if customer is None:
            checked.errors["customer"] = _("There is no customer with the number “%(no)s”. Pick one from the "
                                           "search or leave the field empty for an unknown new customer.",
                                           no=customer_q[:40])
    checked.values["customer_id"] = customer.id if customer else None

    fields = data
    if not customer_id and not customer_q and not str(data.get("customer_status") or "").strip():
        # The form's own promise: an empty customer field is an unknown new customer (a prospect).
        fields = {key: data.get(key) for key in data} | {"customer_status": "new"}
    row = check_row(audit, metric, fields, customer, "customer" in checked.errors, observed_at)
    checked.values.update(row.values)
    checked.errors.update(row.errors)
    return checked
