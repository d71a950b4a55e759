"""`flask aftersales import FILE`."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from app.aftersales.importing import check_outcomes, problem_text, write_outcomes
from app.extensions import db

aftersales = AppGroup("aftersales", help="After-sales outcomes.")


@aftersales.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check and preview only; write nothing.")
@click.option("--lang", type=click.Choice(["de", "en"]), default="en", show_default=True,
              help="Language of the messages.")
def import_command(file: str, dry_run: bool, lang: str) -> None:
    """Import after-sales outcomes from a CSV or XLSX FILE (all rows or none)."""
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
