"""SQLAlchemy 2.0 typed models, one module per area; import them all here so
Alembic and ``db.create_all`` see every table."""
from app.accounts.models import User  # noqa: F401
from app.aftersales.models import Outcome  # noqa: F401,E402
from app.reports.models import ChainActor, ReportDocument  # noqa: F401,E402
from app.segments.models import (  # noqa: F401  # noqa: F401,E402
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
