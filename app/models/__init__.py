"""SQLAlchemy 2.0 typed models, one module per area; import them all here so
Alembic and ``db.create_all`` see every table."""
from app.models.core import Customer, CustomerValue, Metric, SeriesBlock, Touchpoint, User  # noqa: F401
from app.models.jobs import Job  # noqa: F401,E402
from app.models.aftersales import Outcome  # noqa: F401,E402
from app.models.audits import AnalysisSnapshot, Audit, Finding, FindingComment, Observation  # noqa: F401,E402
from app.models.segments import ChecklistEntry, CustomerSegment, ImportLog, SegmentationRun  # noqa: F401,E402
from app.models.reports import ChainActor, ReportDocument  # noqa: F401,E402
