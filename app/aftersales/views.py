"""After-sales → repurchase: the tables per segment, the drill-down to a cell's
customers, logging one outcome, and the outcome import (check → preview → confirm)."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.aftersales.analysis import (
    KIND_LABELS,
    analyse,
    cell_customers,
    cell_label,
    chart,
    reference_label,
    segment_label,
    window_for,
)
from app.aftersales.analysis import upsert_findings as upsert_aftersales_findings
from app.aftersales.forms import OutcomeForm, OutcomeUploadForm, rating_value
from app.aftersales.importing import check_outcomes, import_outcomes, problem_text
from app.aftersales.models import DEFAULT_THRESHOLD, Outcome
from app.extensions import db
from app.touchpoint_audit.models import Audit
from app.web import uploads
from app.web.args import db_int
from app.web.bulk import ImportCollision
from app.web.charts import cached_svg
from app.web.i18n import lang
from app.web.jobs import enqueue
from app.web.rendering import render
from app.web.security import allow

bp = Blueprint("aftersales", __name__, url_prefix="/after-sales", template_folder="templates")
UPLOAD_KIND = "aftersales"
# A confirmed file larger than this is checked and written by a background job with progress.
IMPORT_BACKGROUND_BYTES = 2_000_000


def _settings() -> tuple[int, int]:
    """Threshold (1–5) and minimum n from the query string, clamped to sane values."""
    threshold = request.args.get("threshold", DEFAULT_THRESHOLD, type=int)
    min_n = request.args.get("min_n", 10, type=int)
    return min(5, max(1, threshold)), min(1000, max(1, min_n))


def _open_audits():
    return db.session.scalars(
        db.select(Audit).where(Audit.status != "published").order_by(Audit.id.desc())
    ).all()


@bp.route("/")
@allow("manager", "leadership")
def index():
    """The 2×2 tables, effects and charts per segment kind."""
    threshold, min_n = _settings()
    result = analyse(threshold=threshold, min_n=min_n, lang=lang(), keep=True)
    # Drawn once per set of figures and language (cached in the database, keyed by the figures drawn).
    charts = {
        kind: cached_svg("aftersales", result.n_outcomes,
                         (kind, lang(), str(KIND_LABELS[kind]), [(b.label, b.cells) for b in blocks]),
                         lambda kind=kind, blocks=blocks: chart(blocks, str(KIND_LABELS[kind]),
                                                                with_reference=(kind == "overall")))
        for kind, blocks in result.kinds.items()
    }
    return render(
        "aftersales/index.html", result=result, charts=charts, kinds=KIND_LABELS, threshold=threshold, min_n=min_n,
        reference_label=reference_label(lang()), cell_label=cell_label, audits=_open_audits(),
    )


@bp.route("/cell")
@allow("manager", "leadership")
def cell():
    """The customers behind one cell of the table."""
    threshold, _min_n = _settings()
    kind = request.args.get("kind", "overall")
    segment = request.args.get("segment", "all")
    sale = request.args.get("sale") == "1"
    after = request.args.get("after") == "1"
    if kind not in KIND_LABELS:
        abort(404)
    rows = cell_customers(kind, segment, sale, after, threshold)
    return render(
        "aftersales/cell.html", rows=rows.head(500).to_dict("records"), total=len(rows), kind=kind,
        kind_label=KIND_LABELS[kind], segment_label=segment_label(kind, segment, lang()),
        cell_title=cell_label(sale, after), threshold=threshold,
    )


@bp.route("/findings", methods=["POST"])
@allow("manager")
def record_findings():
    """Record the current after-sales gaps as findings of an audit (upsert by key)."""
    audit = db.get_or_404(Audit, request.form.get("audit_id", type=db_int) or 0)
    if audit.is_published:
        flash(_("A published audit is frozen; start a new round to record findings."), "error")
        return redirect(url_for("aftersales.index"), code=303)
    threshold, min_n = _settings()
    start, end = window_for(audit)
    result = analyse(threshold=threshold, min_n=min_n, start=start, end=end, lang=lang())
    counts = upsert_aftersales_findings(audit, result)
    db.session.commit()
    flash(_("After-sales gaps recorded in “%(audit)s”: %(created)d new, %(updated)d updated, %(stale)d no longer found.",
            audit=audit.title, **counts), "success")
    return redirect(url_for("aftersales.index", threshold=threshold, min_n=min_n), code=303)


@bp.route("/log", methods=["GET", "POST"])
@allow("manager", "service")
def log():
    """Log one after-sales outcome by hand (a second entry for the same day replaces it)."""
    form = OutcomeForm()
    if request.method == "GET" and not form.outcome_date.data:
        form.outcome_date.data = dt.date.today()
    if form.validate_on_submit():
        sale_score, sale_yes = rating_value(form.sale_satisfaction.data)
        after_score, after_yes = rating_value(form.after_sales_satisfaction.data)
        existing = db.session.scalar(db.select(Outcome).where(
            Outcome.customer_id == form.customer_id, Outcome.outcome_date == form.outcome_date.data))
        outcome = existing or Outcome(customer_id=form.customer_id, outcome_date=form.outcome_date.data,
                                      created_by_id=current_user.id, source="form")
        outcome.sale_score, outcome.sale_yes = sale_score, sale_yes
        outcome.after_sales_score, outcome.after_sales_yes = after_score, after_yes
        outcome.repurchased = form.repurchased.data == "yes"
        outcome.fingerprint = ""
        db.session.add(outcome)
        db.session.commit()
        flash(_("Outcome for customer %(no)s saved.", no=form.customer_no.data.strip())
              if existing is None else _("Outcome for customer %(no)s updated.", no=form.customer_no.data.strip()),
              "success")
        return redirect(url_for("aftersales.log"), code=303)
    recent = db.session.scalars(
        db.select(Outcome).order_by(Outcome.id.desc()).limit(10)
    ).all()
    return render("aftersales/log.html", form=form, recent=recent, status=422 if form.errors else 200)


@bp.route("/import", methods=["GET", "POST"])
@allow("manager")
def import_upload():
    """Upload and check an outcome file; shows problems or the preview."""
    form = OutcomeUploadForm()
    if form.validate_on_submit():
        data = form.file.data.read()
        filename = form.file.data.filename or "upload.csv"
        checked = check_outcomes(data, filename)
        token = uploads.stage(data, filename, UPLOAD_KIND, current_user.id) if checked.ok else None
        return render(
            "aftersales/import.html", form=form, checked=checked, token=token, filename=filename,
            problems=[(p, problem_text(p)) for p in checked.problems[:200]],
            more=max(0, len(checked.problems) - 200), preview=checked.preview() if checked.ok else None,
            status=200 if checked.ok else 422,
        )
    return render("aftersales/import.html", form=form, checked=None, status=422 if form.errors else 200)


@bp.route("/import/confirm", methods=["POST"])
@allow("manager")
def import_confirm():
    """Write a checked outcome file (all rows or none)."""
    staged = uploads.load(request.form.get("token", ""), UPLOAD_KIND, current_user.id)
    if len(staged.data) > IMPORT_BACKGROUND_BYTES:  # tens of thousands of rows: checked and written by a job
        job = enqueue("outcome_import", created_by_id=current_user.id, token=staged.token,
                      user_id=current_user.id, redirect=url_for("aftersales.index"))
        return redirect(url_for("jobs.status", job_id=job.id), code=303)
    try:
        checked, counts = import_outcomes(staged.data, staged.filename, current_user.id)
    except ImportCollision:
        flash(_("Another import of the same outcomes ran at the same moment; nothing of this one was written. "
                "Import the file again."), "error")
        return redirect(url_for("aftersales.import_upload"), code=303)
    if counts is None:
        flash(_("The file no longer passes the checks; upload it again."), "error")
        return redirect(url_for("aftersales.import_upload"), code=303)
    uploads.discard(staged.token)
    flash(_("Imported %(new)d new outcomes, %(changed)d changed, %(unchanged)d unchanged.", **counts), "success")
    return redirect(url_for("aftersales.index"), code=303)
