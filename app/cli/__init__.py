"""Command-line groups (`flask users …`, `flask demo-data`, …)."""
from app.cli.demo import demo_data
from app.cli.users import users

COMMAND_GROUPS = [users, demo_data]
from app.cli.segments import customers, segments  # noqa: E402

COMMAND_GROUPS += [customers, segments]

from app.cli.audits import audits, touchpoints  # noqa: E402

COMMAND_GROUPS += [touchpoints, audits]

from app.cli.reports import aftersales, reports  # noqa: E402

COMMAND_GROUPS += [reports, aftersales]
