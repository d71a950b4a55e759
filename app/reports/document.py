"""The leadership PDF of an audit: gather the figures, render the HTML template in
the chosen language, and let WeasyPrint turn it into a PDF.

Deterministic where possible: the PDF's creation date is the analysis snapshot's
time, its identifier derives from the audit and snapshot, charts are SVG without
dates. A published audit's PDFs are rendered once (both languages), stored with
their SHA-256 and served byte for byte from then on.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit
from urllib.request import url2pathname

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from app.accounts.models import User
from app.aftersales.analysis import KIND_LABELS as AS_KINDS
from app.aftersales.analysis import analyse, cell_label, chart, reference_label, window_for
from app.aftersales.analysis import finding_title as aftersales_title
from app.extensions import db
from app.reports.charts import comparison_chart, segment_count_chart
from app.reports.models import CHAIN_ROLES, ChainActor, ReportDocument
from app.segments.kinds import AUDIT_KINDS, COLUMNS
from app.segments.models import CustomerSegment, SegmentationRun
from app.touchpoint_audit.analysis import flags_on_observed
from app.touchpoint_audit.labels import (
    FINDING_STATUS_LABELS,
    KIND_LABELS,
    SEGMENT_KIND_LABELS,
    SEVERITY_LABELS,
    answer_sentences,
    comparison_effect,
    default_action,
    effect_interval,
    effect_n,
    effect_value,
    finding_effect,
    finding_title,
    metric_label,
    metric_names,
    segment_label,
    trajectory_risk,
    trajectory_risk_text,
    unit_of,
)
from app.touchpoint_audit.loaders import evidence_summary
from app.touchpoint_audit.models import AnalysisSnapshot, Audit, Finding
from app.web.i18n import fmt_number
from app.web.models import utcnow

LANGS = ("de", "en")
SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
TOP_FINDINGS = 10


def top_findings(findings: list, limit: int = TOP_FINDINGS) -> list:
    """The summary's top findings: the report's question is how loyal customers are
    treated, so the worst loyalty-penalty findings lead, then the worst after-sales
    gaps; each list keeps its severity order, and either fills the other's room."""
    penalty = [f for f in findings if f.kind != "aftersales"]
    aftersales = [f for f in findings if f.kind == "aftersales"]
    share = min(len(penalty), max(limit - len(aftersales), (limit * 3) // 5))
    return penalty[:share] + aftersales[:limit - share]
SECTIONS = ("summary", "segments", "touchpoints", "aftersales", "actions", "chain", "trend", "method")


_LONG_RUN = re.compile(r"(\S{24})(?=\S)")


def breakable(text, limit: int | None = None) -> Markup:
    """User text for the PDF: escaped, with a zero-width break opportunity every 24
    characters of an unbroken run, so a 10,000-character word wraps cheaply instead of
    overflowing the page (WeasyPrint's ``overflow-wrap: anywhere`` is slow on such words)."""
    text = "" if text is None else str(text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return Markup(escape(_LONG_RUN.sub("\\1\u200b", text)))


def pvalue(p) -> str:
    """A p-value for a table: three decimals, '< 0.001' below that, '–' when missing."""
    if p is None:
        return "–"
    if p < 0.001:
        return "< " + fmt_number(0.001, 3)
    return fmt_number(p, 3)


# ------------------------------------------------------------------ data

@dataclass
class TrendRow:
    touchpoint: str
    metric: str
    segment_kind: str
    segment: str
    previous: float | None
    current: float | None
    verdict: str  # shrank | grew | stayed | not_comparable | new | gone
    previous_row: dict | None = None
    current_row: dict | None = None

    @property
    def measured_in_both(self) -> bool:
        """Compared with enough data in both rounds (the report's trend table lists only these)."""
        return self.verdict in ("grew", "shrank", "stayed")


def comparison_key(row: dict) -> tuple:
    return (row.get("touchpoint"), row.get("metric"), row.get("segment_kind"), str(row.get("segment")))


def trend_verdict(prev: dict | None, cur: dict | None) -> str:
    """Did the gap (existing worse than new) shrink, grow or stay since the last published round?

    A change counts only when the effect moved by more than the materiality threshold
    *and* the two rounds' 95 % intervals do not overlap (a conservative test); otherwise
    there is no clear change ("stayed"). Rows with insufficient data in either round are
    not comparable."""
    if prev is None:
        return "new"
    if cur is None:
        return "gone"
    if prev.get("status") != "ok" or cur.get("status") != "ok" or prev.get("effect") is None \
            or cur.get("effect") is None or prev.get("effect_unit") != cur.get("effect_unit"):
        return "not_comparable"  # an analysis from before effect units measured in the metric's unit
    delta = cur["effect"] - prev["effect"]
    threshold = abs(cur.get("threshold") or prev.get("threshold") or 0.0)
    if abs(delta) <= threshold or None in (prev.get("ci_low"), prev.get("ci_high"), cur.get("ci_low"),
                                           cur.get("ci_high")):
        return "stayed"
    if cur["ci_low"] > prev["ci_high"]:
        return "grew"
    if cur["ci_high"] < prev["ci_low"]:
        return "shrank"
    return "stayed"


def previous_round(audit: Audit) -> Audit | None:
    """The last published audit on the same scope (same metrics and segments), before this one."""
    metric_ids = sorted(m.id for m in audit.metrics)
    segments = sorted(audit.scope_segments or [])
    candidates = db.session.scalars(
        db.select(Audit).where(Audit.status == "published", Audit.id != audit.id)
        .order_by(Audit.published_at.desc(), Audit.id.desc())
    ).all()
    for other in candidates:
        if audit.published_at and other.published_at and other.published_at >= audit.published_at:
            continue
        if sorted(m.id for m in other.metrics) == metric_ids and sorted(other.scope_segments or []) == segments:
            return other
    return None


def latest_snapshot(audit_id: int) -> AnalysisSnapshot | None:
    """The audit's most recent stored analysis."""
    return db.session.scalar(
        db.select(AnalysisSnapshot).where(AnalysisSnapshot.audit_id == audit_id)
        .order_by(AnalysisSnapshot.id.desc()).limit(1)
    )


def round_trend(audit: Audit, snapshot: AnalysisSnapshot | None) -> tuple[Audit | None, list[TrendRow]]:
    """Per touchpoint × metric × segment: the gap now and in the last published round."""
    previous = previous_round(audit)
    if previous is None or snapshot is None:
        return previous, []
    prev_snapshot = latest_snapshot(previous.id)
    if prev_snapshot is None:
        return previous, []
    prev_rows = {comparison_key(r): r for r in prev_snapshot.comparisons or []}
    cur_rows = {comparison_key(r): r for r in snapshot.comparisons or []}
    rows = []
    for key in sorted(set(prev_rows) | set(cur_rows), key=lambda k: tuple(str(p) for p in k)):
        p, c = prev_rows.get(key), cur_rows.get(key)
        rows.append(TrendRow(*key, previous=(p or {}).get("effect"), current=(c or {}).get("effect"),
                             verdict=trend_verdict(p, c), previous_row=p, current_row=c))
    order = {"grew": 0, "shrank": 1, "stayed": 2, "new": 3, "gone": 4, "not_comparable": 5}
    rows.sort(key=lambda r: order[r.verdict])  # stable: keeps touchpoint order within a verdict
    return previous, rows


def _segment_counts(run_id: int | None) -> dict[str, dict[str, int]]:
    return {kind: {key: row["n"] for key, row in rows.items()} for kind, rows in _segment_figures(run_id).items()}


def _segment_figures(run_id: int | None) -> dict[str, dict[str, dict]]:
    """Per segment kind and value: customers, revenue and contribution in the run's
    window, with each one's share of the run's total."""
    if run_id is None:
        return {}

    totals = db.session.execute(
        db.select(db.func.sum(CustomerSegment.revenue), db.func.sum(CustomerSegment.contribution))
        .where(CustomerSegment.run_id == run_id)).one()
    revenue_total, contribution_total = (float(v) if v else None for v in totals)
    out: dict[str, dict[str, dict]] = {}
    for kind, name in COLUMNS.items():
        column = getattr(CustomerSegment, name)
        rows = db.session.execute(
            db.select(column, db.func.count(), db.func.sum(CustomerSegment.revenue),
                      db.func.sum(CustomerSegment.contribution))
            .where(CustomerSegment.run_id == run_id, column.is_not(None)).group_by(column).order_by(column)
        ).all()
        out[kind] = {str(k): {"n": int(n), "revenue": revenue, "contribution": contribution,
                              "revenue_share": revenue / revenue_total if revenue is not None and revenue_total
                              else None,
                              "contribution_share": contribution / contribution_total
                              if contribution is not None and contribution_total else None}
                     for k, n, revenue, contribution in rows}
    return out


def segmentation_run(run_id: int | None):
    """The segmentation run an analysis used (None when there was none)."""
    if run_id is None:
        return None

    return db.session.get(SegmentationRun, run_id)


def has_an_effect(block) -> bool:
    """Whether a segment's outcomes are enough for at least one after-sales effect (the report
    gives it a row; every flagged effect has one)."""
    return any(e.get("status") != "insufficient_data" and e.get("difference") is not None for e in block.effects)


def split_by_data(kinds: dict) -> dict:
    """Per segment kind: (segments with an after-sales effect, segments with too few outcomes)."""
    return {kind: ([b for b in blocks if has_an_effect(b)], [b for b in blocks if not has_an_effect(b)])
            for kind, blocks in kinds.items()}


# The axis label of the report's charts: the metric's unit in the report's language.
def unit_word(unit: str) -> str:
    """'Sekunden', 'Stunden', '€', 'Punkte' … for a metric's unit key."""
    words = {"eur": "€", "seconds": _("seconds"), "hours": _("hours"), "rating": _("points"),
             "percent": "%", "boolean": _("share")}
    return words.get(unit, unit)


BRIEF_FINDINGS = 5
BRIEF_ACTIONS = 5


def report_context(audit: Audit, lang: str, generated_by: User | None, generated_at: dt.datetime,
                   progress: Callable[[float, str], None] | None = None) -> dict:
    """Everything the report template shows (call inside ``force_locale(lang)``)."""

    progress = progress or (lambda f, m: None)
    snapshot = latest_snapshot(audit.id)
    names = metric_names()
    findings = db.session.scalars(
        db.select(Finding).where(Finding.audit_id == audit.id, Finding.stale.is_(False))
    ).all()
    findings = sorted(findings, key=lambda f: (SEVERITY_RANK.get(f.severity, 9), f.key))
    comparisons = (snapshot.comparisons if snapshot else None) or []
    cases = (snapshot.cases if snapshot else None) or {}
    params = (snapshot.params if snapshot else None) or {}
    progress(0.15, _("Touchpoint sections"))

    touchpoints: list[dict] = []
    for row in comparisons:
        tp_key = row.get("touchpoint")
        section = next((t for t in touchpoints if t["key"] == tp_key), None)
        if section is None:
            tp_name = names.get((tp_key, row.get("metric")), (tp_key, "", ""))[0]
            section = {"key": tp_key, "name": tp_name, "metrics": []}
            touchpoints.append(section)
        metric = next((m for m in section["metrics"] if m["key"] == row.get("metric")), None)
        if metric is None:
            found = names.get((tp_key, row.get("metric")))
            metric = {"key": row.get("metric"), "name": found[1] if found else row.get("metric"),
                      "unit": found[2] if found else "", "rows": []}
            section["metrics"].append(metric)
        metric["rows"].append(row)
    for section in touchpoints:
        for metric in section["metrics"]:
            metric["chart"] = comparison_chart(
                [r for r in metric["rows"] if r.get("status") == "ok"], segment_label,
                _("Median (%(unit)s)", unit=unit_word(metric["unit"])),
                f"{section['name']} · {metric['name']}")
    progress(0.35, _("After-sales"))
    as_window = window_for(audit)
    aftersales = analyse(start=as_window[0], end=as_window[1], lang=lang)
    # the chart of all customers only: per segment the report gives one table row each
    aftersales_charts = {
        kind: chart(blocks, str(AS_KINDS[kind]), with_reference=True)
        for kind, blocks in aftersales.kinds.items() if kind == "overall"
    }
    progress(0.5, _("Segments and trend"))
    run_id = snapshot.segmentation_run_id if snapshot else None
    segment_figures = _segment_figures(run_id)
    segment_counts = {kind: {k: v["n"] for k, v in rows.items()} for kind, rows in segment_figures.items()}
    run = segmentation_run(run_id)
    segment_charts = {
        kind: segment_count_chart(counts, lambda v, k=kind: segment_label(k, v), str(SEGMENT_KIND_LABELS[kind]))
        for kind, counts in segment_counts.items() if counts
    }
    chain = {a.role: a for a in db.session.scalars(db.select(ChainActor).where(ChainActor.audit_id == audit.id))}
    previous, trend = round_trend(audit, snapshot)
    # The detail lists what was measured in both rounds and either changed or was flagged
    # in one of them; the other gaps without a clear change are counted, not listed.
    trend_both = [t for t in trend if t.measured_in_both]
    trend_listed = [t for t in trend_both if t.verdict != "stayed" or (t.previous_row or {}).get("flagged")
                    or (t.current_row or {}).get("flagged")]

    # The report's question is how loyal customers are treated: loyalty-penalty findings
    # lead, by what they cost a year, then by severity; after-sales gaps fill the rest.
    ranked = sorted(findings, key=lambda f: (f.kind == "aftersales", -((f.figures or {}).get("excess_year") or 0.0),
                                             SEVERITY_RANK.get(f.severity, 9), f.key))
    brief_findings = [f for f in ranked if f.kind != "manual"][:BRIEF_FINDINGS] or ranked[:BRIEF_FINDINGS]

    def trend_effect(t: TrendRow, which: str) -> str:
        row = t.previous_row if which == "previous" else t.current_row
        return effect_value(comparison_effect(row or {}, unit_of(names, t.touchpoint, t.metric)))

    def trend_interval(t: TrendRow, which: str) -> str:
        row = t.previous_row if which == "previous" else t.current_row
        return effect_interval(comparison_effect(row or {}, unit_of(names, t.touchpoint, t.metric)))
    flagged = [r for r in comparisons if r.get("flagged")]
    insufficient = [r for r in comparisons if r.get("status") == "insufficient_data"]
    # Heat map: worst relative effect per touchpoint × segment (flagged only coloured).
    kind_order = ["overall", *AUDIT_KINDS]
    segments_seen = sorted({(r.get("segment_kind"), str(r.get("segment"))) for r in comparisons},
                           key=lambda s: (kind_order.index(s[0]) if s[0] in kind_order else 9, s[1]))
    heat = {}
    for r in comparisons:
        key = (r.get("touchpoint"), r.get("segment_kind"), str(r.get("segment")))
        if r.get("status") == "ok" and r.get("effect_rel") is not None:
            best = heat.get(key)
            if best is None or r["effect_rel"] > best["effect_rel"]:
                heat[key] = r
    return {
        "audit": audit, "lang": lang, "snapshot": snapshot, "params": params, "findings": findings,
        "top_findings": top_findings(findings), "cases": cases, "touchpoints": touchpoints,
        "flagged": flagged, "insufficient": insufficient, "aftersales": aftersales,
        "aftersales_charts": aftersales_charts, "aftersales_split": split_by_data(aftersales.kinds),
        "aftersales_kinds": AS_KINDS, "cell_label": cell_label,
        "reference_label": reference_label(lang), "segment_counts": segment_counts,
        "segment_charts": segment_charts, "segments_seen": segments_seen, "heat": heat,
        "segment_figures": segment_figures, "run": run,
        "cross_subsidy": ((run.summary or {}).get("cross_subsidy") if run else None),
        "sentences": answer_sentences(snapshot, names), "brief_findings": brief_findings,
        "brief_actions": BRIEF_ACTIONS, "trend_both": trend_both, "trend_listed": trend_listed, "trend_effect": trend_effect,
        "trend_interval": trend_interval, "finding_effect": finding_effect, "effect_value": effect_value,
        "effect_interval": effect_interval, "effect_n": effect_n,
        "trajectory_risk": trajectory_risk, "trajectory_risk_text": trajectory_risk_text,
        "chain": chain, "chain_roles": CHAIN_ROLES, "previous": previous, "trend": trend,
        "generated_by": generated_by, "generated_at": generated_at, "names": names,
        "segment_label": segment_label, "metric_label": metric_label,
        "finding_title": lambda f, n: (aftersales_title(f, lang) if f.kind == "aftersales" else finding_title(f, n)),
        "default_action": lambda f: ((f.figures or {}).get("action_de") or default_action(f)
                                     if f.kind == "aftersales" and lang == "de" else default_action(f)),
        "severity_labels": SEVERITY_LABELS, "kind_labels": KIND_LABELS,
        "finding_status_labels": FINDING_STATUS_LABELS, "segment_kind_labels": SEGMENT_KIND_LABELS,
        "sections": SECTIONS, "aftersales_window": as_window, "pvalue": pvalue,
        "breakable": breakable,
        # paired test calls per touchpoint × metric, in the same Benjamini–Hochberg family
        "paired": {(r.get("touchpoint"), r.get("metric")): r for r in ((snapshot.paired if snapshot else None) or [])},
        "paired_effect": lambda r: comparison_effect(r, unit_of(names, r.get("touchpoint"), r.get("metric"))),
        "observed_flags": flags_on_observed(comparisons, snapshot.by_grade) if snapshot else [],
        "evidence": evidence_summary(audit.id),
    }


def render_html(audit: Audit, lang: str, generated_by: User | None = None,
                generated_at: dt.datetime | None = None, progress: Callable | None = None) -> str:
    """The report as one self-contained HTML document in ``lang``."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}")
    generated_at = generated_at or utcnow()
    with force_locale(lang):
        context = report_context(audit, lang, generated_by, generated_at, progress)
        template = current_app.jinja_env.get_template("reports/report.html")
        return template.render(**context)


def pdf_identifier(audit: Audit, snapshot_id: int | None, lang: str) -> bytes:
    return hashlib.sha256(f"loyalty-audit:{audit.id}:{snapshot_id}:{lang}".encode()).hexdigest()[:32].encode()


def allowed_resource(url: str, static_folder: str | Path) -> bool:
    """May the PDF renderer load ``url``? Only data: URLs and existing files under the static folder.

    Anything else (other files on the server, http(s) to internal hosts) could leak into
    or be requested by a report whose HTML carries user text.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "data":
        return True
    if scheme != "file" or parts.netloc not in ("", "localhost"):
        return False
    path = Path(url2pathname(parts.path)).resolve()  # symlinks and ".." resolved before the check
    return path.is_relative_to(Path(static_folder).resolve()) and path.is_file()


def report_url_fetcher(static_folder: str | Path):
    """A WeasyPrint URL fetcher that loads only what :func:`allowed_resource` allows."""
    class StaticFilesOnly(URLFetcher):
        def fetch(self, url, headers=None):
            if not allowed_resource(url, static_folder):
                raise ValueError("the report loads only data: URLs and the app's static files")
            return super().fetch(url, headers)

    return StaticFilesOnly(allowed_protocols=("file", "data"), allow_redirects=False)


def html_to_pdf(html: str, identifier: bytes | None = None) -> tuple[bytes, int]:
    """WeasyPrint: (pdf bytes, number of pages)."""
    document = HTML(string=html, base_url=current_app.root_path,
                    url_fetcher=report_url_fetcher(current_app.static_folder)).render()
    pdf = document.write_pdf(pdf_identifier=identifier or b"loyalty-audit", uncompressed_pdf=False)
    return pdf, len(document.pages)


def render_pdf(audit: Audit, lang: str, generated_by: User | None = None,
               generated_at: dt.datetime | None = None, progress: Callable | None = None) -> tuple[bytes, int]:
    """The report as PDF bytes (and its page count)."""
    progress = progress or (lambda f, m: None)
    html = render_html(audit, lang, generated_by, generated_at, progress)
    progress(0.6, "PDF")
    snapshot = latest_snapshot(audit.id)
    return html_to_pdf(html, pdf_identifier(audit, snapshot.id if snapshot else None, lang))


def store_document(audit: Audit, lang: str, pdf: bytes, pages: int, kind: str,
                   user_id: int | None) -> ReportDocument:
    """Keep a rendered PDF with its SHA-256 (the caller commits)."""
    snapshot = latest_snapshot(audit.id)
    document = ReportDocument(
        audit_id=audit.id, lang=lang, kind=kind, pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest(), size=len(pdf),
        pages=pages, snapshot_id=snapshot.id if snapshot else None,
        snapshot_at=snapshot.created_at if snapshot else None, generated_by_id=user_id,
    )
    db.session.add(document)
    return document


def published_document(audit_id: int, lang: str) -> ReportDocument | None:
    """The frozen PDF of a published audit in ``lang``."""
    return db.session.scalar(
        db.select(ReportDocument).where(ReportDocument.audit_id == audit_id, ReportDocument.kind == "published",
                                        ReportDocument.lang == lang).order_by(ReportDocument.id).limit(1)
    )


def latest_draft(audit_id: int, lang: str) -> ReportDocument | None:
    """The most recently generated draft PDF in ``lang``."""
    return db.session.scalar(
        db.select(ReportDocument).where(ReportDocument.audit_id == audit_id, ReportDocument.kind == "draft",
                                        ReportDocument.lang == lang).order_by(ReportDocument.id.desc()).limit(1)
    )


def frozen_document(audit: Audit, lang: str) -> ReportDocument:
    """A published audit's stored PDF in ``lang``; rendered and stored once (and
    committed) if the audit was published without it."""
    document = published_document(audit.id, lang)
    if document is None:
        freeze(audit, audit.owner_id)
        db.session.commit()
        document = published_document(audit.id, lang)
    return document


def freeze(audit: Audit, user_id: int | None, progress: Callable | None = None) -> list[ReportDocument]:
    """Render and store the published PDFs in both languages (once; later calls return them).

    The report's "generated at" is the publication time, so a PDF rendered again from the
    frozen audit has the same content."""
    progress = progress or (lambda f, m: None)
    user = db.session.get(User, user_id) if user_id else None
    documents = []
    for i, lang in enumerate(LANGS):
        existing = published_document(audit.id, lang)
        if existing is not None:
            documents.append(existing)
            continue
        pdf, pages = render_pdf(audit, lang, user, audit.published_at or utcnow(),
                                lambda f, m, i=i: progress((i + f) / len(LANGS), m))
        documents.append(store_document(audit, lang, pdf, pages, "published", user_id))
    return documents


def publish(audit: Audit, user_id: int | None, progress: Callable | None = None) -> list[ReportDocument]:
    """Publish the audit: freeze its findings and store both PDFs with their SHA-256 (caller commits)."""
    if latest_snapshot(audit.id) is None:
        raise ValueError(_("Run the analysis before publishing: a published audit is frozen with its last analysis."))
    # Render first, write at the caller's commit: a flushed write would hold SQLite's
    # only write lock for the whole rendering (a minute for a large audit), and every
    # other writer (the job's own progress reports among them) would wait for it in vain.
    with db.session.no_autoflush:
        if not audit.is_published:
            audit.published_at = utcnow().replace(microsecond=0)
            audit.status = "published"
        return freeze(audit, user_id, progress)
