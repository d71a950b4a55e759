"""SQLAlchemy 2.0 typed models, one module per area; import them all here so
Alembic and ``db.create_all`` see every table."""
from app.models.core import Customer, CustomerValue, Metric, Touchpoint, User  # noqa: F401
from app.models.jobs import Job  # noqa: F401,E402
