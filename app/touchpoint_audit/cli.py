"""`flask touchpoints …` and `flask audits …`: the catalog, audit rounds, imports, analysis."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.extensions import db
from app.touchpoint_audit import importing
from app.touchpoint_audit.actions import send_due_reminders
from app.touchpoint_audit.analysis import (
    CASE_FIELDS,
    COMPARISON_FIELDS,
    FINDING_FIELDS,
    export_records,
    finding_records,
    latest_snapshot,
    run_analysis,
)
from app.touchpoint_audit.catalog import seed_catalog
from app.touchpoint_audit.models import Audit, Channel, Metric, Touchpoint
from app.touchpoint_audit.schedules import create_due_rounds
from app.web.bulk import ImportCollision
from tabular import CSV_LINE_TERMINATOR, safe_cell

touchpoints = AppGroup("touchpoints", help="The touchpoint catalog.")
audits = AppGroup("audits", help="Audit rounds: create, import observations, analyse.")


@touchpoints.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def list_touchpoints(fmt: str) -> None:
    """Every touchpoint and metric with its key, unit and direction."""
    items = []
    for tp in db.session.scalars(db.select(Touchpoint).order_by(Touchpoint.position, Touchpoint.id)):
        items.append({
            "key": tp.key, "name_de": tp.name_de, "name_en": tp.name_en, "active": tp.active,
            "metrics": [{"key": m.key, "name_de": m.name_de, "name_en": m.name_en, "unit": m.unit,
                         "direction": m.direction, "min": m.min_value, "max": m.max_value, "is_price": m.is_price,
                         "needs_product_key": m.needs_product_key} for m in tp.metrics],
        })
    if fmt == "json":
        click.echo(json.dumps(items, ensure_ascii=False, indent=2))
        return
    for tp in items:
        click.echo(f"{tp['key']}  {tp['name_en']}{'' if tp['active'] else '  (inactive)'}")
        for m in tp["metrics"]:
            click.echo(f"  {m['key']:<16} {m['unit']:<8} {m['direction']:<6} {m['name_en']}")


@touchpoints.command("seed")
def seed() -> None:
    """Add the default catalog's missing touchpoints, metrics and channels (running it again adds nothing)."""
    def present() -> set[tuple[str, str | None]]:
        pairs = db.session.execute(db.select(Touchpoint.key, Metric.key).outerjoin(Metric)).all()
        return {(tp, m) for tp, m in pairs} | {(tp, None) for tp, _m in pairs}


    before = present()
    channels_before = db.session.scalar(db.select(db.func.count(Channel.id)))
    seed_catalog()
    db.session.commit()
    channels_added = db.session.scalar(db.select(db.func.count(Channel.id))) - channels_before
    if channels_added:
        click.echo(f"Added {channels_added} channels to the channel vocabulary.")
    added = sorted(present() - before, key=lambda pair: (pair[0], pair[1] or ""))
    if not added:
        click.echo("The default catalog is complete: nothing added.")
        return
    new_touchpoints = [tp for tp, m in added if m is None]
    new_metrics = [(tp, m) for tp, m in added if m is not None]
    for tp, metric in new_metrics:
        click.echo(f"  {tp}.{metric}{'  (new touchpoint)' if tp in new_touchpoints else ''}")
    click.echo(f"Added {len(new_touchpoints)} touchpoints and {len(new_metrics)} metrics.")


def _messages():
    """A request context so that the shared (translated) messages can be built: English."""
    return current_app.test_request_context(headers={"Accept-Language": "en"})


def _audit_or_fail(audit_id: int):
    audit = db.session.get(Audit, audit_id)
    if audit is None:
        raise click.ClickException(f"there is no audit {audit_id}; `flask audits list` shows them")
    return audit


@audits.command("list")
def list_audits() -> None:
    """Audit rounds with id, status and title."""
    for audit in db.session.scalars(db.select(Audit).order_by(Audit.id)):
        click.echo(f"{audit.id:>5}  {audit.status:<9}  {audit.title}")


@audits.command("create")
@click.option("--title", required=True, help="Title of the audit round.")
def create_audit(title: str) -> None:
    """Create a draft audit over the whole active catalog; prints its id."""
    title = title.strip()
    if not title:
        raise click.ClickException("the title must not be empty")
    metrics = db.session.scalars(db.select(Metric).join(Touchpoint).where(Touchpoint.active.is_(True))).all()
    audit = Audit(title=title[:200], status="draft", metrics=list(metrics))
    db.session.add(audit)
    db.session.commit()
    click.echo(audit.id)


@audits.command("import-observations")
@click.argument("audit_id", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_observations(audit_id: int, file: Path) -> None:
    """Import observations from CSV/XLSX: all rows or none; a re-import changes nothing."""
    audit = _audit_or_fail(audit_id)
    if audit.is_published:
        raise click.ClickException("the audit is published and read-only; nothing was imported")
    with _messages():
        try:
            report, written = importing.import_observations(audit, file.read_bytes(), file.name, None)
        except ImportCollision:
            raise click.ClickException("another import of the same observations ran at the same moment; "
                                       "nothing of this one was written; import the file again") from None
    if not report.ok:
        for problem in report.problems:
            click.echo(problem, err=True)
        raise click.ClickException(f"{file.name}: {len(report.problems)} problem(s); nothing was imported")
    click.echo(f"{written} observations imported, {report.n_already} already there ({report.n_rows} rows).")


@audits.command("analyze")
@click.argument("audit_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
def analyze(audit_id: int, fmt: str, output: Path | None) -> None:
    """Run the analysis (stores a snapshot, updates findings) and print its records."""
    audit = _audit_or_fail(audit_id)
    if audit.is_published:
        # Frozen: report the stored analysis instead of changing it.
        snapshot = latest_snapshot(audit.id)
        if snapshot is None:
            raise click.ClickException("the audit is published but has no analysis")
        comparisons, cases = export_records(snapshot.comparisons, snapshot.cases.get("flagged", []))
        click.echo("audit is published: printing its stored analysis", err=True)
    else:
        keep: dict = {}
        snapshot = run_analysis(audit, params=None, keep=keep)
        db.session.commit()
        comparisons, cases = export_records(snapshot.comparisons, keep.get("flagged_cases", []))
    if fmt == "json":
        text = json.dumps({"audit_id": audit.id, "comparisons": comparisons, "cases": cases},
                          ensure_ascii=False, indent=2)
    else:
        buffer = io.StringIO()
        fields = ["record", *COMPARISON_FIELDS, "customer_id", "product_key", "price", "reference_price", "excess"]
        # Opened in spreadsheet programs: every text formula-safe, fields with line breaks quoted.
        writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator=CSV_LINE_TERMINATOR)
        writer.writeheader()
        for row in comparisons:
            writer.writerow({"record": "comparison", **{k: safe_cell(v) for k, v in row.items()}})
        for row in cases:
            writer.writerow({"record": "case", **{k: safe_cell(row[k]) for k in CASE_FIELDS}})
        text = buffer.getvalue()
    _emit(text, output, f"{len(comparisons)} comparisons, {len(cases)} flagged cases")


findings = AppGroup("findings", help="Findings and their actions.")


@findings.command("remind")
@click.option("--date", "on", default=None, help="The day to remind for (YYYY-MM-DD; default today).")
def remind_command(on: str | None) -> None:
    """Remind owners of actions that fall due (on the due day, then weekly while overdue).

    Idempotent per finding and day: running it twice sends nothing more. E-mail goes out
    when MAIL_SERVER is set and the owner has an address; the start page tells them anyway."""

    try:
        today = dt.date.fromisoformat(on) if on else dt.date.today()
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD", param_hint="--date") from None
    counts = send_due_reminders(today)
    click.echo(f"{today.isoformat()}: {counts['mail']} e-mailed, {counts['page']} on the start page only "
               f"(no address or no mail server), {counts['already']} already reminded today")


@audits.command("findings")
@click.argument("audit_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
def findings_command(audit_id: int, fmt: str, output: Path | None) -> None:
    """Print the audit's current findings, one record each (in CSV the segments as JSON)."""
    audit = _audit_or_fail(audit_id)
    records = finding_records(audit.id)
    if fmt == "json":
        text = json.dumps({"audit_id": audit.id, "findings": records}, ensure_ascii=False, indent=2)
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(FINDING_FIELDS), lineterminator=CSV_LINE_TERMINATOR)
        writer.writeheader()
        for row in records:
            writer.writerow({key: safe_cell(value) for key, value in
                             {**row, "segments": json.dumps(row["segments"], ensure_ascii=False)}.items()})
        text = buffer.getvalue()
    _emit(text, output, f"{len(records)} findings")


def _emit(text: str, output: Path | None, what: str) -> None:
    """Write ``text`` to ``output`` (saying what was written) or to standard output."""
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"{what} written to {output}", err=True)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


@audits.command("schedule")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day to act for (default today).")
def schedule_rounds(day) -> None:
    """Make the due round of every active schedule (monthly, quarterly); for cron, once a day.

    A period that has its round already gets none: running it twice creates nothing twice."""
    today = day.date() if day else dt.date.today()
    results = create_due_rounds(today)
    for result in results:
        word = "created" if result["created"] else "exists"
        click.echo(f"schedule {result['schedule']}  {result['period']}  audit {result['audit']}  {word}")
    click.echo(f"{sum(r['created'] for r in results)} rounds created, "
               f"{sum(not r['created'] for r in results)} already there.")
