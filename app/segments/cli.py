"""`flask customers import FILE|rebuild-series` and `flask segments run|export`."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from app.extensions import db
from app.segments.exports import run_export
from app.segments.importing import check_upload, import_customer_values
from app.segments.kinds import CLASS_COLUMNS
from app.segments.models import SegmentationRun
from app.segments.runs import latest_run, newer_import, run_segmentation
from app.segments.series import rebuild_all

customers = AppGroup("customers", help="Customer master data and values.")
segments = AppGroup("segments", help="Segmentation runs.")


@customers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--sheet", default=None, help="Worksheet of an XLSX file (default: the first).")
@click.option("--dry-run", is_flag=True, help="Check and preview only; write nothing.")
def import_file(file: Path, sheet: str | None, dry_run: bool) -> None:
    """Import customer values (CSV or XLSX, long or wide) — all or nothing."""
    check = check_upload(file.read_bytes(), file.name, sheet)
    for problem in check.problems:
        if problem.severity != "info":
            click.echo(f"{problem.severity}: {problem.message}", err=True)
    if not check.ok:
        click.echo(f"{len(check.errors)} problem(s); nothing was written.", err=True)
        sys.exit(1)
    p = check.preview
    click.echo(f"{p['rows']} rows, {p['customers']} customers ({p['customers_new']} new), periods "
               f"{p['first_period']} – {p['last_period']}; values: {p['values_new']} new, "
               f"{p['values_changed']} changed, {p['values_unchanged']} unchanged; revenue {p['total_revenue']:.2f}")
    if dry_run:
        click.echo("Dry run: nothing was written.")
        return
    counts = import_customer_values(check)
    click.echo(f"Imported (import id {counts['import_id']}).")

    run = latest_run()
    if newer_import(run) is not None:
        click.echo(f"Segmentation run {run.id} was made before these values and no longer matches the data; "
                   "run it again (flask segments run).")


@customers.command("rebuild-series")
def rebuild_series() -> None:
    """Rebuild the per-customer value series from the stored values.

    The import and the app keep them in step; run this after changing
    customer_values with SQL outside the app.
    """

    count = rebuild_all(db.session.connection())
    db.session.commit()
    click.echo(f"Rebuilt {count} series blocks.")


@segments.command("run")
@click.option("--window-start", default=None, help="First period, YYYY-MM (default: 24 periods before the end).")
@click.option("--window-end", default=None, help="Last period, YYYY-MM (default: the latest period).")
@click.option("--abc", default="0.8,0.95", show_default=True, help="Cumulative-share limits of A and B.")
def run(window_start: str | None, window_end: str | None, abc: str) -> None:
    """Segment every customer and print the run id and a summary."""
    try:
        limits = [float(part) for part in abc.split(",")]
        if len(limits) != 2 or not 0 < limits[0] <= limits[1] <= 1:
            raise ValueError
    except ValueError:
        raise click.UsageError("--abc takes two shares like 0.8,0.95") from None
    try:
        result = run_segmentation(window_start, window_end, {"abc": limits})
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    counts = result.summary["counts"]
    subsidy = result.summary["cross_subsidy"]
    click.echo(f"run {result.id}: {result.n_customers} customers, window {result.window_start} – {result.window_end}")
    for kind in CLASS_COLUMNS:
        click.echo(f"  {kind}: " + ", ".join(f"{k} {v}" for k, v in counts[kind].items()))
    click.echo(f"  burr: {counts['burr']}")
    share = subsidy["share_eaten"]
    click.echo(f"  cross-subsidy: Z customers lose {subsidy['z_loss']:.2f}, the rest earn {subsidy['rest_profit']:.2f}"
               + (f" ({share:.1%} eaten)" if share is not None else ""))


@segments.command("export")
@click.argument("run_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "json"]), default="csv", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: standard output; required for xlsx).")
@click.option("--lang", "language", type=click.Choice(["de", "en"]), default="en", show_default=True,
              help="Language of titles, labels and numbers in CSV and XLSX (JSON keeps the codes).")
def export(run_id: int, fmt: str, output: Path | None, language: str) -> None:
    """Write one row per customer with its classes and deciding figures."""
    if db.session.get(SegmentationRun, run_id) is None:
        raise click.ClickException(f"no segmentation run {run_id}")
    data, _mime = run_export(run_id, fmt, language)
    if output is None:
        if fmt == "xlsx":
            raise click.UsageError("xlsx needs -o FILE")
        click.echo(data.decode("utf-8-sig"), nl=False)
        return
    output.write_bytes(data)
    click.echo(f"wrote {output}", err=True)



