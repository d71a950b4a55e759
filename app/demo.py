"""The demo company and `flask demo-data`: every area's demo step, in the order they
build on each other. The segmentation decides who is penalised in the audit round;
after-sales outcomes and the two report rounds (one published) use both."""
from __future__ import annotations

import time

import click

from app.accounts.demo import DEMO_PASSWORD, DEMO_USERS, step_users
from app.accounts.models import User
from app.extensions import db
from app.reports.demo import step_aftersales, step_report_rounds
from app.segments.demo import step_company, step_segmentation
from app.segments.models import Customer
from app.touchpoint_audit.demo import step_audits, step_catalog, step_paired_round

# (name, function): each step gets the shared context dict and says what it made.
DEMO_STEPS = [
    ("users", step_users),
    ("catalog", step_catalog),
    ("company", step_company),
    ("segmentation", step_segmentation),
    ("audits", step_audits),
    ("aftersales", step_aftersales),
    ("report rounds", step_report_rounds),
    ("paired test calls", step_paired_round),  # after the report rounds: they take the latest open round
]


def database_is_empty() -> bool:
    return not db.session.scalar(db.select(User.id).limit(1)) and not db.session.scalar(
        db.select(Customer.id).limit(1)
    )


def build_demo(echo=print, **ctx) -> dict:
    """Run every demo step in one transaction."""
    try:
        for name, step in DEMO_STEPS:
            echo(f"  {name}: {step(ctx)}")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return ctx


@click.command("demo-data")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database holds data already.")
@click.option("--customers", default=2000, show_default=True, help="How many demo customers.")
@click.option("--seed", default=20261123, show_default=True)
def demo_data(if_empty: bool, customers: int, seed: int) -> None:
    """Load the demo company: users, touchpoint catalog, customers and their figures."""
    if not database_is_empty():
        if if_empty:
            click.echo("Database holds data already: demo data not loaded.")
            _print_logins()
            return
        raise click.UsageError("the database is not empty; demo data goes into an empty database only")
    started = time.perf_counter()
    click.echo("Loading demo data …")
    build_demo(echo=click.echo, customers=customers, seed=seed)
    click.echo(f"Done in {time.perf_counter() - started:.1f} s.")
    _print_logins()


def _print_logins() -> None:
    click.echo("Demo logins (password for all: %s):" % DEMO_PASSWORD)
    for username, role, _name in DEMO_USERS:
        click.echo(f"  {username:<11} {role}")
