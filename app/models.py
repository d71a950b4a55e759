"""SQLAlchemy 2.0 typed models, one module per area; import them all here so
Alembic and ``db.create_all`` see every table."""
from app.accounts.models import User  # noqa: F401
from app.aftersales.models import Outcome  # noqa: F401,E402
from app.reports.models import ChainActor, ReportDocument  # noqa: F401,E402
from app.segments.models import (  # noqa: F401  # noqa: F401,E402
    SEARCH_INDEX_OBJECTS,
    ChecklistEntry,
    Customer,
    CustomerSegment,
    CustomerValue,
    ImportLog,
    SegmentationRun,
    SeriesBlock,
)
from app.touchpoint_audit.models import (  # noqa: F401  # noqa: F401,E402
    AnalysisSnapshot,
    Audit,
    Finding,
    FindingComment,
    Metric,
    Observation,
    Touchpoint,
)
from app.web.models import Job  # noqa: F401,E402


def in_models(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ARG001 (Alembic's signature)
    """Alembic's ``include_object``: False for the schema objects made by DDL beside the models
    (the customer search's trigram index), so a comparison neither drops nor reports them."""
    return not (reflected and name in SEARCH_INDEX_OBJECTS)
