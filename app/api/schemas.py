"""The API's request and response bodies. The same models validate the requests and
describe them in the OpenAPI document (spectree reads them from the views)."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.web.args import DB_INT_MAX

MAX_BATCH = 1000  # observations in one request
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
