"""`flask demo-data`: load the demo company."""
from __future__ import annotations

import time

import click

from app.demo import DEMO_PASSWORD, DEMO_USERS, build_demo, database_is_empty


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
