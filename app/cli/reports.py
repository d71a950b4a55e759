"""`flask reports pdf AUDIT_ID -o FILE [--lang de|en]` and `flask aftersales import FILE`."""
from __future__ import annotations

import hashlib
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from app.extensions import db

reports = AppGroup("reports", help="The leadership PDF report of an audit.")
aftersales = AppGroup("aftersales", help="After-sales outcomes.")


@reports.command("pdf")
@click.argument("audit_id", type=int)
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="Where to write the PDF.")
@click.option("--lang", type=click.Choice(["de", "en"]), default="de", show_default=True)
def pdf_command(audit_id: int, output: str, lang: str) -> None:
    """Write the report of AUDIT_ID as PDF (a published audit: its frozen file, byte for byte)."""
    from app.models.audits import Audit
    from app.reporting import frozen_document, render_pdf

    with force_locale(lang):
        audit = db.session.get(Audit, audit_id)
        if audit is None:
            raise click.UsageError(f"there is no audit {audit_id}")
        if audit.is_published:
            document = frozen_document(audit, lang)
            data, pages = document.pdf, document.pages
        else:
            data, pages = render_pdf(audit, lang)
    Path(output).write_bytes(data)
    state = "published" if audit.is_published else "draft"
    click.echo(f"{output}: {pages} pages, {len(data):,} bytes, {state}, sha256 {hashlib.sha256(data).hexdigest()}")


@aftersales.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check and preview only; write nothing.")
@click.option("--lang", type=click.Choice(["de", "en"]), default="en", show_default=True,
              help="Language of the messages.")
def import_command(file: str, dry_run: bool, lang: str) -> None:
    """Import after-sales outcomes from a CSV or XLSX FILE (all rows or none)."""
    from app.aftersales_import import check_outcomes, problem_text, write_outcomes

    path = Path(file)
    with force_locale(lang):
        checked = check_outcomes(path.read_bytes(), path.name)
        for problem in checked.problems:
            click.echo(("ERROR " if problem.severity == "error" else "note  ") + problem_text(problem), err=True)
        if not checked.ok:
            raise click.ClickException(f"{len(checked.errors)} problems; nothing was imported")
        preview = checked.preview()
        click.echo(f"{preview['rows']} rows: {checked.new} new, {checked.changed} changed, "
                   f"{checked.unchanged} unchanged")
        if dry_run:
            return
        counts = write_outcomes(checked)
        db.session.commit()
    click.echo(f"imported: {counts['new']} new, {counts['changed']} changed, {counts['unchanged']} unchanged")
