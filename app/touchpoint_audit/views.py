"""Audit rounds: list, create/edit, status transitions, the audit page, the dashboard,
the analysis action and the bulk import of observations."""
from __future__ import annotations

import datetime as dt

import numpy as np
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields import SelectChoice

from app.accounts.models import User
from app.extensions import db
from app.reports.analysis import round_trend
from app.segments.kinds import KINDS
from app.segments.models import SegmentationRun
from app.touchpoint_audit import analysis, charts, importing
from app.touchpoint_audit.analysis import DEFAULT_PARAMS, audit_params, latest_snapshot, run_analysis
from app.touchpoint_audit.charts import comparison_tooltip
from app.touchpoint_audit.evidence_files import evidence_of
from app.touchpoint_audit.forms import AuditForm, ObservationUploadForm
from app.touchpoint_audit.labels import (
    AUDIT_STATUS_LABELS,
    HEATMAP_KIND_LABELS,
    answer_sentences,
    comparison_effect,
    effect_value,
    metric_label,
    metric_names,
    segment_label,
    template_helpers,
    unit_of,
)
from app.touchpoint_audit.loaders import comparison_rows
from app.touchpoint_audit.models import AUDIT_TRANSITIONS, Audit, Finding, Metric, Observation, Touchpoint
from app.touchpoint_audit.quotas import due_for, shortfall
from app.touchpoint_audit.rules import may_see
from app.web import uploads
from app.web.bulk import ImportCollision
from app.web.charts import cached_svg
from app.web.i18n import fmt_number, fmt_percent, lang
from app.web.jobs import enqueue
from app.web.rendering import render
from app.web.security import allow, any_user, has_role, require
from audits import EVIDENCE_GRADES

bp = Blueprint("audits", __name__, url_prefix="/audits", template_folder="templates")
bp.context_processor(template_helpers)

SEGMENT_CHOICES = [(kind.key, value) for kind in KINDS if kind.compared for value in kind.values]


# ----------------------------------------------------------------- access helpers

def audit_for(audit_id: int) -> Audit:
    """The audit, 404 when it does not exist, 403 when the user may not see it."""
    audit = db.get_or_404(Audit, audit_id)
    require(may_see(audit))
    return audit


def refused(message: str, status: int = 409):
    """A clear refusal page (htmx shows its text in the toast); nothing was written."""
    return render("audits/refused.html", status=status, code=status, message=message)


def frozen_refusal(audit: Audit):
    """The refusal for any write to a published audit, or None when it is not published."""
    if audit.is_published:
        return refused(_("This audit is published and read-only; nothing was changed."), 409)
    return None


def visible_audits():
    """The audits the current user may see, newest first."""
    query = db.select(Audit).order_by(Audit.created_at.desc(), Audit.id.desc())
    if not has_role("manager", "leadership"):
        query = query.where(Audit.staff.any(User.id == current_user.id))
    return db.session.scalars(query).all()


# ----------------------------------------------------------------- list, create, edit

# A confirmed observation file larger than this is checked and written by a background job
# with progress (about 40,000 rows), so no request waits for it.
IMPORT_BACKGROUND_BYTES = 2_000_000

@bp.route("/")
@any_user
def index():
    """The audit rounds the user may see, with their counts."""
    audits = visible_audits()
    counts = dict(db.session.execute(
        db.select(Observation.audit_id, db.func.count(Observation.id)).group_by(Observation.audit_id)
    ).all())
    findings = dict(db.session.execute(
        db.select(Finding.audit_id, db.func.count(Finding.id)).where(Finding.stale.is_(False))
        .group_by(Finding.audit_id)
    ).all())
    catalog_empty = db.session.scalar(db.select(Metric.id).limit(1)) is None
    return render("audits/index.html", audits=audits, counts=counts, findings=findings, catalog_empty=catalog_empty)


def _fill_choices(form: AuditForm) -> None:
    metrics = db.session.execute(
        db.select(Metric, Touchpoint).join(Touchpoint).where(Touchpoint.active.is_(True))
        .order_by(Touchpoint.position, Metric.position)
    ).all()
    de = lang() == "de"
    form.metric_ids.choices = [
        SelectChoice(m.id, f"{(t.name_de if de else t.name_en)} · {(m.name_de if de else m.name_en)}")
        for m, t in metrics
    ]

    form.segments.choices = [SelectChoice(f"{k}:{v}", f"{segment_label(k, v)}") for k, v in SEGMENT_CHOICES]
    people = db.session.scalars(db.select(User).where(User.active.is_(True)).order_by(User.display_name)).all()
    form.staff_ids.choices = [SelectChoice(u.id, u.display_name or u.username) for u in people if u.role == "service"]
    form.owner_id.choices = [SelectChoice(0, "–")] + [
        SelectChoice(u.id, u.display_name or u.username) for u in people if u.role in ("manager", "admin")]


def _apply(form: AuditForm, audit: Audit) -> None:
    audit.title = form.title.data.strip()
    audit.description = form.description.data or ""
    audit.period_start, audit.period_end = form.period_start.data, form.period_end.data
    audit.owner_id = form.owner_id.data or None
    audit.metrics = db.session.scalars(db.select(Metric).where(Metric.id.in_(form.metric_ids.data))).all()
    audit.staff = db.session.scalars(
        db.select(User).where(User.id.in_(form.staff_ids.data or []), User.role == "service")).all()
    audit.scope_segments = list(form.segments.data or [])
    audit.scope_products = sorted({p.strip() for p in (form.products.data or "").split(",") if p.strip()})


@bp.route("/new", methods=["GET", "POST"])
@allow("manager")
def create():
    """A new audit round (draft) with scope, period, owner and staff."""
    form = AuditForm()
    _fill_choices(form)
    if request.method == "GET":
        form.metric_ids.data = [c.value for c in form.metric_ids.choices]
        form.owner_id.data = current_user.id
    if form.validate_on_submit():
        audit = Audit(status="draft")
        _apply(form, audit)
        db.session.add(audit)
        db.session.commit()
        flash(_("Audit “%(title)s” created as a draft.", title=audit.title), "success")
        return redirect(url_for("audits.view", audit_id=audit.id), code=303)
    return render("audits/form.html", form=form, audit=None, status=422 if form.errors else 200)


@bp.route("/<int:audit_id>/edit", methods=["GET", "POST"])
@allow("manager")
def edit(audit_id: int):
    """Change an audit's title, scope, period, owner and staff (not once published)."""
    audit = audit_for(audit_id)
    if (refusal := frozen_refusal(audit)) is not None:
        return refusal
    form = AuditForm(obj=audit)
    _fill_choices(form)
    if request.method == "GET":
        form.metric_ids.data = [m.id for m in audit.metrics]
        form.staff_ids.data = [u.id for u in audit.staff]
        form.segments.data = list(audit.scope_segments or [])
        form.products.data = ", ".join(audit.scope_products or [])
        form.owner_id.data = audit.owner_id or 0
    if form.validate_on_submit():
        _apply(form, audit)
        db.session.commit()
        flash(_("Changes saved."), "success")
        return redirect(url_for("audits.view", audit_id=audit.id), code=303)
    return render("audits/form.html", form=form, audit=audit, status=422 if form.errors else 200)


@bp.route("/<int:audit_id>/status", methods=["POST"])
@allow("manager")
def transition(audit_id: int):
    """Move an audit to the next status after a confirmation page."""
    audit = audit_for(audit_id)
    if (refusal := frozen_refusal(audit)) is not None:
        return refusal
    target = request.form.get("status", "")
    if target not in AUDIT_TRANSITIONS[audit.status]:
        return refused(_("An audit cannot move from “%(old)s” to “%(new)s”.",
                         old=AUDIT_STATUS_LABELS[audit.status], new=target[:20]), 409)
    if request.form.get("confirm") != "yes":
        return render("audits/confirm_status.html", audit=audit, target=target)
    if target == "published":

        if latest_snapshot(audit.id) is None:
            return refused(_("Run the analysis before publishing: a published audit is frozen with its "
                             "last analysis."), 409)
        # Publishing freezes the findings and stores both PDFs with their hashes:
        # the same background job as the report page's "Publish" button.

        record = enqueue("report_publish", created_by_id=current_user.id, audit_id=audit.id,
                         user_id=current_user.id, lang=lang())
        return redirect(url_for("jobs.status", job_id=record.id), code=303)
    audit.status = target
    db.session.commit()
    flash(_("The audit is now “%(status)s”.", status=AUDIT_STATUS_LABELS[target]), "success")
    return redirect(url_for("audits.view", audit_id=audit.id), code=303)


# ----------------------------------------------------------------- the audit page

def logging_progress(audit: Audit) -> list[dict]:
    """Observations per metric in scope, split into new and existing customers."""
    rows = db.session.execute(
        db.select(Observation.metric_id, Observation.customer_status, db.func.count())
        .where(Observation.audit_id == audit.id).group_by(Observation.metric_id, Observation.customer_status)
    ).all()
    counts: dict[int, dict[str, int]] = {}
    for metric_id, status, n in rows:
        counts.setdefault(metric_id, {})[status] = n

    minimum = DEFAULT_PARAMS["min_n"]
    out = []
    for metric in audit.metrics:
        c = counts.get(metric.id, {})
        new, existing = c.get("new", 0), c.get("existing", 0)
        out.append({"metric": metric, "new": new, "existing": existing,
                    "ready": min(new, existing) >= minimum,
                    "fraction": min(1.0, min(new, existing) / minimum)})
    return out


@bp.route("/<int:audit_id>")
@any_user
def view(audit_id: int):
    """The audit page: status, counts and logging progress per touchpoint."""
    audit = audit_for(audit_id)

    progress = logging_progress(audit)
    total = db.session.scalar(db.select(db.func.count()).where(Observation.audit_id == audit.id))
    mine = db.session.scalar(db.select(db.func.count()).where(
        Observation.audit_id == audit.id, Observation.created_by_id == current_user.id))
    snapshot = latest_snapshot(audit.id) if has_role("manager", "leadership") else None
    short = shortfall(audit, audit_params(audit)["min_n"]) if has_role("manager", "leadership") else []
    return render("audits/view.html", audit=audit, progress=progress, total=total, mine=mine,
                  snapshot=snapshot, transitions=AUDIT_TRANSITIONS[audit.status], names=metric_names(),
                  due=due_for(audit, current_user.id), shortfall=short)


# ----------------------------------------------------------------- analysis and dashboard

@bp.route("/<int:audit_id>/analyze", methods=["POST"])
@allow("manager")
def analyze(audit_id: int):
    """Run the analysis (in the background for large audits) and go to the dashboard."""
    audit = audit_for(audit_id)
    if (refusal := frozen_refusal(audit)) is not None:
        return refusal

    n = db.session.scalar(db.select(db.func.count()).where(Observation.audit_id == audit.id))
    if n == 0:
        return refused(_("There are no observations to analyse yet."), 409)
    if n > analysis.BACKGROUND_THRESHOLD:  # read at call time (tests lower it)
        record = enqueue("audit_analysis", created_by_id=current_user.id, audit_id=audit.id)
        url = url_for("jobs.status", job_id=record.id)
        return redirect(url, code=303)
    snapshot = run_analysis(audit, user_id=current_user.id)
    counts = snapshot.params.get("findings", {})
    db.session.commit()
    flash(_("Analysis done: %(created)d new findings, %(updated)d updated, %(stale)d no longer supported.",
            created=counts.get("created", 0), updated=counts.get("updated", 0), stale=counts.get("stale", 0)),
          "success")
    if snapshot.params.get("shortfall"):
        flash(_("%(n)d comparisons fell short of their minimum n: they say “insufficient data”.",
                n=len(snapshot.params["shortfall"])), "warning")
    target = url_for("audits.dashboard", audit_id=audit.id)
    return redirect(target, code=303)


def fmt_tick(value: float) -> str:
    """An axis number in the reader's language: 2,5 and 1.200 in German."""
    return fmt_number(value, 0 if float(value).is_integer() else 1)


@bp.route("/<int:audit_id>/dashboard")
@allow("manager", "leadership")
def dashboard(audit_id: int):
    """The answer, heatmap, round-over-round change, case list, total excess and price-vs-tenure charts
    of the latest analysis."""
    audit = audit_for(audit_id)

    snapshot = latest_snapshot(audit.id)
    names = metric_names()
    heatmap = tenure = None
    sentences, cases, changes = [], [], None
    if snapshot is not None:

        def link(row: dict) -> str:
            return url_for("audits.comparison", audit_id=audit.id, touchpoint=row["touchpoint"],
                           metric=row["metric"], segment_kind=row["segment_kind"], segment=str(row["segment"]))

        # Drawn once per analysis, language and catalog names (cached in the database).
        scope, inputs = f"audits/{audit.id}/dashboard", (lang(), sorted(names.items()), audit.scope_segments)
        heatmap = cached_svg(scope, snapshot.id, ("heatmap", *inputs), lambda: charts.heatmap_svg(
            snapshot.comparisons, names=names, segment_label=segment_label,
            scope=audit.scope_segments or None, title=_("Existing vs new customers"),
            insufficient_text=_("n too small"), empty_text=_("No comparisons yet."),
            fmt_pct=lambda v: "0 %" if abs(v) < 0.005 else ("+" if v > 0 else "") + fmt_percent(v, 0),
            kind_label=lambda kind: str(HEATMAP_KIND_LABELS.get(kind, kind)),
            tooltip=lambda row, where, segment: comparison_tooltip(
                row, where, segment, unit_of(names, row["touchpoint"], row["metric"])),
            link=link))
        tenure = [cached_svg(scope, snapshot.id, ("tenure", number, *inputs), lambda series=series: charts.tenure_chart_svg(
                      series, names=names, x_label=_("Tenure (years)"), y_label=_("Price (€)"),
                      empty_text=_("insufficient data"), fmt_tick=fmt_tick))
                  for number, series in enumerate(snapshot.gradient.get("series", []))]
        sentences = answer_sentences(snapshot, names)
        cases = [{**c, "observed_on": _parsed_date(c.get("observed_at"))}
                 for c in (snapshot.cases or {}).get("flagged") or []]
        changes = round_changes(audit, snapshot, names)
    return render("audits/dashboard.html", audit=audit, snapshot=snapshot, heatmap=heatmap, tenure=tenure,
                  names=names, sentences=sentences, case_rows=cases, changes=changes)


def _parsed_date(value):
    """A stored ISO date or timestamp as a date (None when it is not one)."""
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except (TypeError, ValueError):
        return None


def round_changes(audit: Audit, snapshot, names: dict) -> dict | None:
    """Round-over-round change of the gaps measured in both rounds, in relative terms
    (% of the new customers' level, or points), each with its verdict; changed or
    once-flagged gaps are listed, the others counted."""

    previous, rows = round_trend(audit, snapshot)
    if previous is None:
        return None
    both = [r for r in rows if r.verdict in ("grew", "shrank", "stayed")]
    listed = [r for r in both if r.verdict != "stayed" or (r.previous_row or {}).get("flagged")
              or (r.current_row or {}).get("flagged")]
    out = []
    for r in listed:
        unit = unit_of(names, r.touchpoint, r.metric)
        out.append({"row": r, "then": effect_value(comparison_effect(r.previous_row or {}, unit)),
                    "now": effect_value(comparison_effect(r.current_row or {}, unit))})
    return {"previous": previous, "rows": out, "quiet": len(both) - len(listed), "not_both": len(rows) - len(both)}


OBSERVATIONS_SHOWN = 200


#: The comparison page's evidence filter: all observations, or those of one grade.
GRADE_FILTERS = ("all", *EVIDENCE_GRADES)


def _matching(rows, touchpoint: str, metric: str, segment_kind: str, segment: str) -> dict | None:
    return next((r for r in rows or [] if r.get("touchpoint") == touchpoint and r.get("metric") == metric
                 and r.get("segment_kind") == segment_kind and str(r.get("segment")) == segment), None)


@bp.route("/<int:audit_id>/comparisons/<touchpoint>/<metric>/<segment_kind>/<segment>")
@allow("manager", "leadership")
def comparison(audit_id: int, touchpoint: str, metric: str, segment_kind: str, segment: str):
    """One comparison of the latest analysis: its figures, the distribution of its
    observations per group, the observations with their evidence, its cases and the settings
    used; ``?grade=`` shows it on the observations of one evidence grade (the comparison the
    analysis ran again on that grade alone)."""
    audit = audit_for(audit_id)

    snapshot = latest_snapshot(audit.id)
    if snapshot is None:
        abort(404)
    row = _matching(snapshot.comparisons, touchpoint, metric, segment_kind, segment)
    found = db.session.execute(
        db.select(Metric).join(Touchpoint).where(Touchpoint.key == touchpoint, Metric.key == metric)).scalar()
    if row is None or found is None:
        abort(404)
    grade = request.args.get("grade", "all")
    grade = grade if grade in GRADE_FILTERS else "all"
    # an analysis made before grades has none (None); a grade without observations has no rows
    graded = grade == "all" or snapshot.by_grade is not None
    if grade != "all":
        row = _matching((snapshot.by_grade or {}).get(grade), touchpoint, metric, segment_kind, segment)
    names = metric_names()
    unit = unit_of(names, touchpoint, metric)
    flagged = [c for c in (snapshot.cases or {}).get("flagged") or []
               if c.get("touchpoint") == touchpoint and c.get("metric") == metric]
    rows = comparison_rows(audit.id, found.id, None if grade == "all" else grade, snapshot.segmentation_run_id,
                           segment_kind, segment, OBSERVATIONS_SHOWN,
                           numbers={str(c["customer_id"]) for c in flagged if c.get("customer_id") is not None},
                           ids={c["observation_id"] for c in flagged if isinstance(c.get("observation_id"), int)})
    cases = [{**c, "observed_on": _parsed_date(c.get("observed_at"))} for c in flagged
             if (segment_kind == "overall" or c.get("customer_id") in rows.numbers_in_segment)
             and (grade == "all" or c.get("observation_id") in rows.ids_in_grade)]
    evidence = evidence_of([o.id for o in rows.shown]
                           + [c["observation_id"] for c in cases if c.get("observation_id") is not None])
    run = None
    if snapshot.segmentation_run_id is not None:

        run = db.session.get(SegmentationRun, snapshot.segmentation_run_id)
    return render("audits/comparison.html", audit=audit, snapshot=snapshot, row=row, names=names, unit=unit,
                  effect=comparison_effect(row, unit) if row else None,
                  where=metric_label_of(names, touchpoint, metric),
                  segment_name=segment_label(segment_kind, segment),
                  distribution=[(_("New customers"), distribution(rows.new_values)),
                                (_("Existing customers"), distribution(rows.existing_values))],
                  observations=rows.shown, n_observations=rows.n, cases=cases, run=run,
                  settings={k: v for k, v in (snapshot.params or {}).items() if k not in ("findings", "shortfall")},
                  paired=snapshot.paired or [],
                  grade=grade, grade_filters=GRADE_FILTERS, graded=graded,
                  evidence=evidence, args=dict(touchpoint=touchpoint, metric=metric, segment_kind=segment_kind,
                                               segment=segment))


def metric_label_of(names: dict, touchpoint: str, metric: str) -> str:
    return metric_label(names, touchpoint, metric)


def distribution(values: list[float]) -> dict:
    """n, minimum, quartiles, median and maximum of a group's observed values."""
    values = [v for v in values if v is not None]
    if not values:
        return {"n": 0}
    q = np.quantile(np.asarray(values, dtype=float), [0, 0.25, 0.5, 0.75, 1])
    return {"n": len(values), "min": q[0], "q1": q[1], "median": q[2], "q3": q[3], "max": q[4]}


# ----------------------------------------------------------------- bulk import

@bp.route("/<int:audit_id>/import", methods=["GET", "POST"])
@allow("manager")
def import_observations(audit_id: int):
    """Upload and check a file of observations; shows problems or a preview."""
    audit = audit_for(audit_id)
    if (refusal := frozen_refusal(audit)) is not None:
        return refusal

    form = ObservationUploadForm()
    report = None
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read()
        report = importing.check_file(audit, data, upload.filename or "upload.csv", created_by_id=current_user.id)
        if report.ok:
            report.token = uploads.stage(data, upload.filename or "upload.csv", "observations", current_user.id)
    status = 422 if (form.errors or (report is not None and not report.ok)) else 200
    return render("audits/import.html", audit=audit, form=form, report=report, status=status)


@bp.route("/<int:audit_id>/import/confirm", methods=["POST"])
@allow("manager")
def import_confirm(audit_id: int):
    """Write the previewed file (all rows or none)."""
    audit = audit_for(audit_id)
    if (refusal := frozen_refusal(audit)) is not None:
        return refusal

    staged = uploads.load(request.form.get("token", ""), "observations", current_user.id)
    if len(staged.data) > IMPORT_BACKGROUND_BYTES:  # tens of thousands of rows: checked and written by a job
        job = enqueue("observation_import", created_by_id=current_user.id, audit_id=audit.id, token=staged.token,
                      user_id=current_user.id, redirect=url_for("audits.view", audit_id=audit.id))
        return redirect(url_for("jobs.status", job_id=job.id), code=303)
    try:
        report, written = importing.import_observations(audit, staged.data, staged.filename, current_user.id)
    except ImportCollision:
        return refused(_("Another import of the same observations ran at the same moment; nothing of this one "
                         "was written. Import the file again: rows already there are skipped."), 409)
    if not report.ok:
        return render("audits/import.html", audit=audit, form=ObservationUploadForm(), report=report, status=422)
    uploads.discard(staged.token)
    flash(_("%(written)d observations imported, %(skipped)d already there.",
            written=written, skipped=report.n_rows - written), "success")
    return redirect(url_for("audits.view", audit_id=audit.id), code=303)
