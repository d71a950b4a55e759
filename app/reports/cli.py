"""`flask reports pdf AUDIT_ID -o FILE [--lang de|en]`."""
from __future__ import annotations

import hashlib
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from app.extensions import db
from app.reports.document import frozen_document, render_pdf
from app.touchpoint_audit.models import Audit

reports = AppGroup("reports", help="The leadership PDF report of an audit.")


@reports.command("pdf")
@click.argument("audit_id", type=int)
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="Where to write the PDF.")
@click.option("--lang", type=click.Choice(["de", "en"]), default="de", show_default=True)
def pdf_command(audit_id: int, output: str, lang: str) -> None:
    """Write the report of AUDIT_ID as PDF (a published audit: its frozen file, byte for byte)."""
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
