"""Command-line groups (`flask users …`, `flask demo-data`, …)."""
from app.cli.demo import demo_data
from app.cli.users import users

COMMAND_GROUPS = [users, demo_data]
