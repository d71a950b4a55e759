"""The API's request and response bodies. The same models validate the requests and
describe them in the OpenAPI document (spectree reads them from the views)."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.segments.kinds import BY_KEY
from app.web.args import DB_INT_MAX

MAX_BATCH = 1000  # observations in one request
MAX_ROWS = 10_000  # customer values or after-sales outcomes in one request (the body limit may come first)
MAX_PAGE = 200  # customers on one page
FINDING_STATUS = Literal["open", "acknowledged", "resolved", "wont_fix"]
#: a text without NUL characters (no database column can hold one)
Text = Annotated[str, Field(pattern=r"^[^\x00]*$")]


class Problem(BaseModel):
    """RFC 9457 problem details; ``errors`` names the item and field of each problem."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[ProblemItem] = Field(default_factory=list)


class ProblemItem(BaseModel):
    """One problem: the item's index in the batch (None for the request as a whole) and its field."""

    index: int | None = None
    field: str | None = None
    detail: str


class ObservationIn(BaseModel):
    """One observation as the sending system knows it."""

    model_config = ConfigDict(extra="forbid")

    external_id: Text = Field(min_length=1, max_length=64, description="The sender's id; unique per audit.")
    touchpoint: Text = Field(min_length=1, max_length=64, description="The touchpoint's key, e.g. renewal.")
    metric: Text = Field(min_length=1, max_length=64, description="The metric's key within the touchpoint.")
    value: float | Text = Field(description="A number, a German decimal comma, mm:ss for seconds, yes/no.")
    customer_status: Text | None = Field(default=None, max_length=40,
                                        description="new/existing (Neukunde/Bestandskunde); else from tenure.")
    customer_no: Text | None = Field(default=None, max_length=64, description="The customer number (leading zeros "
                                                                             "matter); omit for an unknown new one.")
    product_key: Text | None = Field(default=None, max_length=200)
    channel: Text | None = Field(default=None, max_length=200)
    observed_at: dt.datetime | None = Field(default=None, description="When; default: when it arrives.")
    note: Text | None = Field(default=None, max_length=2000)
    evidence_grade: Text | None = Field(default=None, max_length=40,
                                        description="observed (a test call or visit), system (a system's record) or "
                                                    "self_reported (a customer's statement), German words too; "
                                                    "default: system.")


class ObservationBatch(BaseModel):
    """A batch of observations, stored all or nothing."""

    model_config = ConfigDict(extra="forbid")

    observations: list[ObservationIn] = Field(min_length=1, max_length=MAX_BATCH)


class ObservationOut(BaseModel):
    external_id: str
    id: int
    created: bool = Field(description="False when this external_id was stored by an earlier request.")


class BatchResult(BaseModel):
    created: int
    existing: int
    observations: list[ObservationOut]
    warnings: list[ProblemItem] = Field(default_factory=list, description="E.g. a customer number matched to the "
                                        "known one after adding the leading zeros a spreadsheet dropped.")


#: a figure as a JSON number or as text the import reads (German decimal comma, thousands dot)
Figure = Annotated[float, Field(allow_inf_nan=False)] | Text
BatchId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00]*$",
                               description="The sender's id of this batch: the same batch sent again stores "
                                           "nothing; the same id with other content is a 409.")]


class CustomerValueIn(BaseModel):
    """One customer's values for one period, as a row of the customer value import."""

    model_config = ConfigDict(extra="forbid")

    customer_no: Text = Field(min_length=1, max_length=200, description="Text; leading zeros matter.")
    name: Text | None = Field(default=None, max_length=400)
    customer_since: dt.date | None = None
    period: Text = Field(min_length=1, max_length=40, description="2024-03, 2024-Q1 or a date (then its month).")
    revenue: Figure = Field(description="EUR in the period.")
    cost_to_serve: Figure | None = Field(default=None, description="EUR in the period.")
    contribution: Figure | None = Field(default=None, description="EUR in the period; else revenue − cost_to_serve.")
    potential: Figure | None = Field(default=None, description="EUR a year: the customer's spend in our category.")
    potential_rating: Annotated[int, Field(ge=-(2**31), le=2**31 - 1)] | Text | None = Field(
        default=None, description="1–5 by the account manager.")


class CustomerValueBatch(BaseModel):
    """Customer values, stored all or nothing by the import's rules (an upsert by customer and period)."""

    model_config = ConfigDict(extra="forbid")

    external_id: BatchId
    values: list[CustomerValueIn] = Field(min_length=1, max_length=MAX_ROWS)


Rating = bool | Annotated[int, Field(ge=-(2**31), le=2**31 - 1)] | Text


class OutcomeIn(BaseModel):
    """One after-sales outcome, as a row of the after-sales import."""

    model_config = ConfigDict(extra="forbid")

    customer_no: Text = Field(min_length=1, max_length=200, description="A known customer's number.")
    date: dt.date = Field(description="The sale's date; not in the future.")
    sale_satisfaction: Rating = Field(description="yes/no or a 1–5 score.")
    after_sales_satisfaction: Rating = Field(description="yes/no or a 1–5 score.")
    repurchased: bool | Text = Field(description="yes/no.")


class OutcomeBatch(BaseModel):
    """After-sales outcomes, stored all or nothing by the import's rules (one per customer and date)."""

    model_config = ConfigDict(extra="forbid")

    external_id: BatchId
    outcomes: list[OutcomeIn] = Field(min_length=1, max_length=MAX_ROWS)


class ImportResult(BaseModel):
    """What a batch stored: 201 the first time, 200 (created false) when this external_id was stored before."""

    external_id: str
    created: bool
    rows: int
    new: int = Field(description="Values (or outcomes) stored new.")
    changed: int = Field(description="Stored ones whose figures this batch changed.")
    unchanged: int
    customers_new: int | None = Field(default=None, description="Customers created (customer values only).")
    warnings: list[ProblemItem] = Field(default_factory=list)


class ComparisonOut(BaseModel):
    """One comparison of existing with new customers: the fields of ``flask audits analyze``."""

    model_config = ConfigDict(extra="allow")

    touchpoint: str | None = None
    metric: str | None = None
    segment_kind: str | None = None
    segment: str | int | None = None
    n_new: int | None = Field(default=None, description="New customers compared (one value each).")
    n_existing: int | None = Field(default=None, description="Existing customers compared (one value each).")
    effect: float | None = Field(default=None, description="Worse for existing customers = positive, in effect_unit.")
    effect_unit: str | None = None
    ci_low: float | None = Field(default=None, description="95 % interval of the effect, lower end.")
    ci_high: float | None = None
    p: float | None = None
    p_adjusted: float | None = Field(default=None, description="Benjamini–Hochberg across the audit.")
    flagged: bool | None = None
    severity: str | None = None


class CaseOut(BaseModel):
    """A flagged case (an existing customer's price above the bound over new-business prices)."""

    touchpoint: str | None = None
    metric: str | None = None
    customer_id: str | int | None = None
    product_key: str | None = None
    price: float | None = Field(default=None, description="EUR, as observed.")
    reference_price: float | None = Field(default=None, description="EUR: median new-business price.")
    excess: float | None = Field(default=None, description="EUR above the reference, in this sample.")


class ComparisonList(BaseModel):
    """The audit's latest stored analysis (the API never starts one)."""

    audit_id: int
    analysed_at: dt.datetime
    n_observations: int
    comparisons: list[ComparisonOut]
    cases: list[CaseOut] = Field(description="Flagged cases, costliest first (at most 500 are stored).")
    n_flagged_cases: int = Field(description="All flagged cases of the analysis.")


class CustomerQuery(BaseModel):
    """The customer list's filters; pages follow ``next``."""

    model_config = ConfigDict(extra="forbid")

    run_id: int | None = Field(default=None, ge=1, le=DB_INT_MAX, description="Default: the latest run.")
    # the classes of the segment-kind vocabulary (app.segments.kinds), as the customer list filters
    abc: Literal[BY_KEY["abc"].values] | None = None
    segment: Literal[BY_KEY["potential"].values] | None = None
    tier: Literal[BY_KEY["tier"].values] | None = None
    trajectory: Literal[BY_KEY["trajectory"].values] | None = None
    burr: bool | None = None
    q: Text | None = Field(default=None, max_length=100, description="Search in customer number and name.")
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)
    after: Text | None = Field(default=None, max_length=200, description="The cursor of the previous page's next link.")


class RunOut(BaseModel):
    id: int
    window_start: str
    window_end: str
    created_at: dt.datetime
    potential_basis: str | None = Field(default=None, description="potential (EUR) or rating (1–5 points).")


class CustomerOut(BaseModel):
    """A customer's classes and their reasons; the money fields only for roles that may see money."""

    customer_no: str
    name: str | None = None
    customer_since: dt.date | None = None
    abc_class: str | None = None
    potential_segment: str | None = None
    profit_tier: str | None = None
    trajectory: str | None = None
    burr: bool | None = None
    reasons: dict[str, str] = Field(default_factory=dict, description="Each class's reason in words.")
    revenue: float | None = Field(default=None, description="EUR over the run's window (managers, leadership).")
    contribution: float | None = Field(default=None, description="EUR over the run's window.")
    untapped: float | None = Field(default=None, description="Untapped potential a year: EUR, or rating points "
                                                              "when the run's potential_basis is rating.")


class CustomerPage(BaseModel):
    run: RunOut | None = None
    customers: list[CustomerOut]
    next: str | None = Field(default=None, description="The next page's URL; null on the last page.")


class AuditOut(BaseModel):
    id: int
    title: str
    status: Literal["draft", "open", "review", "published"]
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    created_at: dt.datetime
    observations: int
    findings: int


class AuditList(BaseModel):
    audits: list[AuditOut]


class SegmentOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    segment_kind: str | None = None
    segment: str | None = None


class FindingOut(BaseModel):
    """A finding: the fields of ``flask audits findings`` plus its id, version, owner and due date."""

    id: int
    version: int
    key: str
    kind: str
    touchpoint: str | None = None
    metric: str | None = None
    segments: list[SegmentOut]
    effect_unit: str | None = None
    severity: str
    excess_observed: float | None = None
    excess_year: float | None = None
    excess_year_low: float | None = None
    excess_year_high: float | None = None
    status: str
    owner_id: int | None = None
    due_date: dt.date | None = None


class FindingList(BaseModel):
    findings: list[FindingOut]


class FindingPatch(BaseModel):
    """The fields of a finding the API may change; a field left out stays as it is."""

    model_config = ConfigDict(extra="forbid")

    status: FINDING_STATUS | None = None
    owner_id: int | None = Field(default=None, ge=1, le=DB_INT_MAX, description="A user's id; null: nobody.")
    due_date: dt.date | None = Field(default=None, description="Not in the past; null: none.")


class ReportQuery(BaseModel):
    lang: Literal["de", "en"] = "de"


Problem.model_rebuild()
