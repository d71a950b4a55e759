"""The leadership PDF: content read back from the PDF, bad input, publishing with
byte-for-byte downloads, round-over-round trend, background jobs (in-process and RQ),
the CLI and roles."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import subprocess
import zlib

import pytest

from app.extensions import db

SECTIONS_EN = ["Contents", "Executive summary", "Segment overview", "Touchpoints: existing vs new customers",
               "After-sales and repurchase", "Action plan", "Problem-solving chain", "Compared with the last round",
               "Methodology"]
GIANT = "Loyalitätsstrafe" * 625  # 10,000 characters without a break


def pdf_text(pdf: bytes, tmp_path) -> str:
    """pdftotext of the PDF, whitespace collapsed."""
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    return re.sub(r"\s+", " ", out.stdout.decode("utf-8"))


def png_pixels(pdf: bytes, tmp_path, page: int) -> list[int]:
    """Grey values of one page rendered with pdftoppm (PGM, read without a PNG library)."""
    path = tmp_path / "p.pdf"
    path.write_bytes(pdf)
    out = tmp_path / "page"
    subprocess.run(["pdftoppm", "-gray", "-r", "30", "-f", str(page), "-l", str(page), "-png", str(path),
                    str(out)], check=True)
    png = next(tmp_path.glob("page*.png")).read_bytes()
    # A tiny PNG reader: concatenate IDAT chunks, inflate, drop the filter byte per row.
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(png):
        length = int.from_bytes(png[pos:pos + 4], "big")
        kind = png[pos + 4:pos + 8]
        body = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height = int.from_bytes(body[:4], "big"), int.from_bytes(body[4:8], "big")
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    # Filter bytes make exact reconstruction longer than needed; raw bytes still show variation.
    return [raw[r * (width + 1) + 1 + c] for r in range(height) for c in range(width)]


# ------------------------------------------------------------------ data

def _company(app, n_customers=150):
    from app.segments.demo import generate_company, load_company
    from app.touchpoint_audit.catalog import seed_catalog

    seed_catalog()
    load_company(generate_company(n_customers=n_customers, seed=11))
    try:
        from app.segments.runs import run_segmentation

        run_segmentation(commit=False)
    except ImportError:  # segmentation area absent: reports fall back to "all customers"
        pass
    db.session.flush()


def build_full_audit(app, users) -> dict:
    """Two rounds on the same scope (the earlier one published), outcomes, chain."""
    from app.aftersales.models import Outcome
    from app.reports.demo import build_round, describe_chain, generate_outcomes
    from app.reports.document import publish
    from app.touchpoint_audit.models import Audit

    manager_id = users["manager"].id
    with app.test_request_context():
        _company(app)
        from app.segments.models import Customer

        ids = list(db.session.scalars(db.select(Customer.id)))
        rows = generate_outcomes(ids, {}, seed=5, share=1.0)
        db.session.execute(db.insert(Outcome), rows)
        today = dt.date.today()
        current = build_round("Runde 2026", today - dt.timedelta(days=100), today - dt.timedelta(days=1),
                              {"base": 0.03, ("abc", "A"): 0.05}, seed=1, per_metric=45, owner_id=manager_id)
        earlier = build_round("Runde 2025", today - dt.timedelta(days=300), today - dt.timedelta(days=101),
                              {"base": 0.10, ("abc", "A"): 0.10}, seed=2, per_metric=45, owner_id=manager_id,
                              metrics=list(current.metrics))
        describe_chain(current.id)
        db.session.flush()
        publish(earlier, manager_id)
        db.session.commit()
        out = {"current": current.id, "earlier": earlier.id}
        snapshot_cases = db.session.get(Audit, current.id)
        from app.reports.document import latest_snapshot

        out["cases"] = latest_snapshot(snapshot_cases.id).cases
        db.session.remove()
    return out


def build_bare_audit(app, users, title="Leere Runde", with_snapshot=True, findings=()) -> int:
    """An audit without observations, outcomes or chain (optionally with an empty analysis)."""
    from app.touchpoint_audit.models import AnalysisSnapshot, Audit, Finding

    with app.app_context():
        audit = Audit(title=title, status="open", period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 3, 31))
        db.session.add(audit)
        db.session.flush()
        if with_snapshot:
            db.session.add(AnalysisSnapshot(audit_id=audit.id, n_observations=0, params={}, comparisons=[],
                                            cases={}, gradient={}, created_at=dt.datetime(2025, 4, 1, 9, 0)))
        for i, (title_text, action) in enumerate(findings):
            db.session.add(Finding(audit_id=audit.id, key=f"manual:{i}", kind="manual", source="manual",
                                   severity="high", title=title_text, recommended_action=action))
        db.session.commit()
        audit_id = audit.id
        db.session.remove()
    return audit_id


def render(app, audit_id, lang="en", generated_at=dt.datetime(2025, 5, 1, 12, 0)):
    from app.accounts.models import User
    from app.reports.document import html_to_pdf, latest_snapshot, pdf_identifier, render_html
    from app.touchpoint_audit.models import Audit

    with app.app_context():
        audit = db.session.get(Audit, audit_id)
        user = db.session.scalar(db.select(User).where(User.role == "manager"))
        html = render_html(audit, lang, user, generated_at)
        snapshot = latest_snapshot(audit.id)
        pdf, pages = html_to_pdf(html, pdf_identifier(audit, snapshot.id if snapshot else None, lang))
        db.session.remove()
    return html, pdf, pages


# ------------------------------------------------------------------ content


def test_full_report_sections_figures_trend_and_a_page_that_is_not_blank(app, users, tmp_path):
    ids = build_full_audit(app, users)
    html, pdf, pages = render(app, ids["current"], "en")
    assert pdf.startswith(b"%PDF") and pages >= 10
    text = pdf_text(pdf, tmp_path)
    for title in SECTIONS_EN:
        assert title in text, title
    # key figures as formatted in the report
    with app.test_request_context(headers={"Accept-Language": "en"}):
        from flask_babel import force_locale

        from app.web.i18n import fmt_money, fmt_number

        with force_locale("en"):
            excess = fmt_money(ids["cases"].get("total_excess") or 0)
            flagged = fmt_number(ids["cases"].get("n_flagged") or 0)
    assert excess in text
    assert re.search(re.escape(flagged) + r" .{0,60}penalty cases", text), text[:1500]
    assert "Quoted reference: German premium carmaker" in text and "93 %" in text
    assert "Runde 2025" in text  # compared with the earlier published round
    assert re.search(r"gap (shrank|grew)|no clear change|without a clear change", text)
    assert "Großhandel Nord GmbH" in text  # the chain
    assert "Mann–Whitney test (van Elteren)" in text and "Benjamini–Hochberg" in text
    assert re.search(r"\b3 / %d\b" % pages, text)  # page numbers
    assert re.search(r"Executive summary \.+ ?3", re.sub(r"\s+", " ", text)) or "Executive summary" in text
    # charts are vector: SVG in the HTML, no raster images
    assert html.count("<svg") >= 5 and "<img" not in html
    pixels = png_pixels(pdf, tmp_path, 3)
    assert len(set(pixels)) > 5 and min(pixels) < 100  # ink on a white page


def pdf_pages(pdf: bytes) -> list[str]:
    """The text of each page (pypdf), whitespace collapsed."""
    import io

    from pypdf import PdfReader

    return [re.sub(r"\s+", " ", page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages]


def flagged_sentences(app, audit_id, lang="en") -> list[str]:
    """The answer's sentences of the audit's latest analysis, as leadership reads them."""
    from flask_babel import force_locale

    from app.reports.document import latest_snapshot
    from app.touchpoint_audit.labels import answer_sentences, metric_names

    with app.test_request_context(), force_locale(lang):
        return answer_sentences(latest_snapshot(audit_id), metric_names())


def build_demo_rounds(app) -> int:
    """The demo company and its rounds (the open one with planted penalties, an earlier
    published one); returns the open round's id."""
    from app.reports.demo import step_aftersales, step_report_rounds
    from app.segments.demo import step_company, step_segmentation
    from app.touchpoint_audit.demo import step_audits, step_catalog
    from app.touchpoint_audit.models import Audit

    with app.app_context():
        ctx = {"customers": 2000, "seed": 20261123, "report_drafts": False}
        for step in (step_catalog, step_company, step_segmentation, step_audits, step_aftersales,
                     step_report_rounds):
            step(ctx)
        db.session.commit()
        audit_id = db.session.scalar(db.select(Audit.id).where(Audit.status == "open"))
        db.session.remove()
    return audit_id


def test_the_demo_report_opens_with_a_two_page_brief_and_is_shorter(app, users, tmp_path):
    audit_id = build_demo_rounds(app)
    html, pdf, pages = render(app, audit_id, "en")
    texts = pdf_pages(pdf)
    # 29 pages before the brief and the shorter detail, 25 before the shorter after-sales and action plan
    assert pages == len(texts) and pages <= 21
    brief, second = texts[1], texts[2]
    assert "Executive summary" in brief and "The answer" in brief
    assert "Top findings and what they cost" in brief and "Excess a year, estimated" in brief
    assert "Changes since the last round" in second and "First actions" in second and "(Vorrunde)" in second
    assert "Contents" in texts[3] and "Contents" not in brief
    heat = html[html.index('class="data heat"'):]
    assert '<span class="flag-mark">!</span>' in heat[:heat.index("</table>")]  # flagged in words, not colour only
    # every flagged result of the analysis is named in the brief, with its interval and n
    with app.app_context():
        from app.reports.document import latest_snapshot

        flagged = {(r["touchpoint"], r["metric"]) for r in latest_snapshot(audit_id).comparisons if r.get("flagged")}
    assert flagged == {("renewal", "price"), ("hotline", "wait")}
    sentences = flagged_sentences(app, audit_id)
    assert len(sentences) == len(flagged)
    assert sentences
    squeeze = lambda t: re.sub(r"\s+", "", t)  # noqa: E731 - line breaks fall anywhere in a sentence
    for sentence in sentences:
        assert squeeze(sentence) in squeeze(brief), sentence
        assert "95% interval" in sentence and "n = " in sentence
    assert_every_flagged_result_in_the_detail(app, audit_id, html, texts)
    # the root-cause findings whose penalised customers include shrinking ones say so in the brief
    assert re.search(r"\d+ of the \d+ penalised customers (is|are) shrinking; €[\d,]+ contribution a year at risk "
                     r"\(segmentation run \d+ of", brief), brief


def assert_every_flagged_result_in_the_detail(app, audit_id, html, texts):
    """Every current finding in the action plan, every flagged after-sales effect in the after-sales
    section (one "gap" mark each per segment, "after-sales gap" for all customers), read from the PDF."""
    from flask_babel import force_locale

    from app.aftersales.analysis import analyse, window_for
    from app.reports.document import report_context
    from app.touchpoint_audit.models import Audit

    squeeze = lambda t: re.sub(r"\s+", "", t)  # noqa: E731
    start = next(i for i, t in enumerate(texts) if t.lstrip().startswith("After-sales and repurchase"))
    plan = next(i for i, t in enumerate(texts) if t.lstrip().startswith("Action plan"))
    after = next(i for i, t in enumerate(texts) if i > plan and not t.lstrip().startswith("Finding Owner"))
    aftersales_text, plan_text = squeeze(" ".join(texts[start:plan])), squeeze(" ".join(texts[plan:after]))
    with app.test_request_context(), force_locale("en"):
        audit = db.session.get(Audit, audit_id)
        context = report_context(audit, "en", None, dt.datetime(2025, 5, 1))
        titles = [context["finding_title"](f, context["names"]) for f in context["findings"]]
        start_date, end_date = window_for(audit)
        result = analyse(start=start_date, end=end_date, lang="en")
        flagged = {(b.kind, b.label): sum(1 for e in b.effects if e["flagged"])
                   for blocks in result.kinds.values() for b in blocks}
        db.session.remove()
    assert titles and all(squeeze(title) in plan_text for title in titles)
    assert sum(flagged.values()) > 0
    for (_kind, label), n in flagged.items():
        if n:
            assert squeeze(label) in aftersales_text, label
    marks = html.count('<span class="flag-mark">gap</span>')
    overall = html.count('<span class="badge bad">after-sales gap</span>')
    assert marks == sum(n for (kind, _label), n in flagged.items() if kind != "overall")
    assert overall == sum(n for (kind, _label), n in flagged.items() if kind == "overall")


def test_the_detail_draws_no_bars_for_insufficient_data_and_lists_the_trend_measured_in_both(app, users):
    from flask_babel import force_locale

    from app.reports.document import report_context
    from app.touchpoint_audit.labels import segment_label
    from app.touchpoint_audit.models import Audit

    ids = build_full_audit(app, users)
    with app.test_request_context(), force_locale("en"):
        audit = db.session.get(Audit, ids["current"])
        context = report_context(audit, "en", None, dt.datetime(2025, 5, 1))
        insufficient = [(m, r) for tp in context["touchpoints"] for m in tp["metrics"] for r in m["rows"]
                        if r.get("status") == "insufficient_data" and r.get("segment_kind") != "overall"]
        assert insufficient, "the fixture has groups with too little data"
        for metric, row in insufficient:
            label = segment_label(row["segment_kind"], row["segment"])[:28]
            assert f">{label}<" not in str(metric["chart"]), label
        assert context["trend"] and context["trend_both"]
        assert {t.verdict for t in context["trend_both"]} <= {"grew", "shrank", "stayed"}
        assert len(context["trend_both"]) < len(context["trend"])  # "new", "gone", too little data: left out
        db.session.remove()


def test_segment_overview_money_and_methodology_settings(app, users, tmp_path):
    ids = build_full_audit(app, users)
    html, pdf, _pages = render(app, ids["current"], "en")
    text = pdf_text(pdf, tmp_path)
    assert "Revenue" in text and "Contribution" in text
    assert "Cross-subsidy:" in text and "Z customers lose" in text
    assert "Segmentation run" in text and re.search(r"Run \d+ of ", text)
    assert "Settings used" in text and "min_n = 10" in text and "materiality = 0.05" in text
    assert "table.data.keep { break-inside: avoid; }" in html and "display: table-header-group" in html


def test_german_report_axis_labels_in_german(app, users, tmp_path):
    ids = build_full_audit(app, users)
    html, _pdf, _pages = render(app, ids["current"], "de")
    assert "Median (Sekunden)" in html and "Median (seconds)" not in html
    assert "Die wichtigsten Befunde und was sie kosten" in html


def test_german_report_uses_german_formats(app, users, tmp_path):
    audit_id = build_bare_audit(app, users, findings=[("Preise zu hoch", "")])
    _html, pdf, _pages = render(app, audit_id, "de")
    text = pdf_text(pdf, tmp_path)
    assert "0,00 €" in text  # German money format in the executive summary
    assert "01.04.2025" in text  # snapshot date, German style
    assert "Preise zu hoch" in text


def test_no_observations_no_outcomes_no_chain_report_says_what_is_missing(app, users, tmp_path):
    audit_id = build_bare_audit(app, users)
    _html, pdf, _pages = render(app, audit_id)
    text = pdf_text(pdf, tmp_path)
    # The chain and the round-over-round chapters appear only when there is something to show.
    for title in SECTIONS_EN:
        if title in ("Problem-solving chain", "Compared with the last round"):
            assert title not in text
        else:
            assert title in text
    assert "This audit has no observations" in text
    assert "No after-sales outcomes were recorded" in text
    assert "no earlier published round" in text  # said in the brief's changes since the last round
    assert "No findings." in text


def test_no_analysis_at_all_still_renders(app, users, tmp_path):
    audit_id = build_bare_audit(app, users, with_snapshot=False)
    _html, pdf, _pages = render(app, audit_id)
    assert "This audit has no analysis yet" in pdf_text(pdf, tmp_path)


def test_segment_without_aftersales_data_is_marked(app, users):
    """A segment with outcomes but too few per cell shows "insufficient data", not a rate."""
    from app.aftersales.analysis import analyse
    from app.aftersales.models import Outcome
    from app.segments.models import Customer

    with app.test_request_context():
        c = Customer(customer_no="1", name="x")
        db.session.add(c)
        db.session.flush()
        db.session.add(Outcome(customer_id=c.id, outcome_date=dt.date(2025, 1, 1), sale_yes=True,
                               after_sales_yes=False, repurchased=True))
        db.session.flush()
        result = analyse()
        cells = result.overall.cells
        assert all(cell["status"] == "insufficient_data" and cell["rate"] is None for cell in cells)
        db.session.rollback()
        db.session.remove()


def _boxes(box):
    yield box
    for child in getattr(box, "children", []) or []:
        yield from _boxes(child)


def test_html_and_a_giant_word_are_escaped_and_stay_on_the_page(app, users, tmp_path):
    from weasyprint import HTML

    evil = '<b>bold</b><script>alert(1)</script><img src="http://example.invalid/x.png">'
    # Text columns take the whole 10,000-character word; length-limited columns their maximum.
    audit_id = build_bare_audit(app, users, title=GIANT[:200],
                                findings=[(evil, f"Fix {GIANT} now"), (GIANT[:300], evil)])
    with app.app_context():
        from app.reports.models import ChainActor

        db.session.add(ChainActor(audit_id=audit_id, role="customer", name=GIANT[:200],
                                  success_factors=evil + GIANT))
        db.session.commit()
        db.session.remove()
    from app.accounts.models import User
    from app.reports.document import render_html
    from app.touchpoint_audit.models import Audit

    with app.app_context():
        html = render_html(db.session.get(Audit, audit_id), "en",
                           db.session.scalar(db.select(User).where(User.role == "manager")))
        db.session.remove()
    assert "<script>" not in html and "<b>bold</b>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;&lt;script&gt;" in html
    assert 'src="http://example.invalid' not in html
    document = HTML(string=html).render()  # one layout for both checks
    text = pdf_text(document.write_pdf(), tmp_path)
    assert "<b>bold</b>" in text  # shown as text
    assert "Loyalitätsstrafe" in text
    # Layout: no box reaches beyond the page.
    for page in document.pages:
        width = page.width
        for box in _boxes(page._page_box):
            right = getattr(box, "position_x", 0) + getattr(box, "width", 0) if hasattr(box, "width") else 0
            assert right <= width + 1, f"a box ends at {right:.0f}px on a page {width:.0f}px wide"


def test_same_frozen_inputs_give_the_same_bytes(app, users):
    audit_id = build_bare_audit(app, users, findings=[("A", "B")])
    _h1, pdf1, _ = render(app, audit_id)
    _h2, pdf2, _ = render(app, audit_id)
    assert hashlib.sha256(pdf1).hexdigest() == hashlib.sha256(pdf2).hexdigest()
    import io

    from pypdf import PdfReader

    info = PdfReader(io.BytesIO(pdf1)).metadata
    assert info.creation_date.replace(tzinfo=None) == dt.datetime(2025, 4, 1, 9, 0)  # the snapshot time


# ------------------------------------------------------------------ publishing, downloads, roles


@pytest.fixture
def synchronous_jobs(app, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_SYNCHRONOUS", True)
    monkeypatch.setitem(app.config, "REDIS_URL", None)


def test_publish_freezes_and_every_download_returns_the_same_bytes(app, users, as_role, synchronous_jobs):
    from app.reports.models import ReportDocument
    from app.touchpoint_audit.models import Audit

    audit_id = build_bare_audit(app, users, findings=[("Preise zu hoch", "Angleichen")])
    manager = as_role("manager")
    ask = manager.post(f"/reports/audits/{audit_id}/publish")
    assert ask.status_code == 200 and "Publish now" in ask.get_data(as_text=True)
    done = manager.post(f"/reports/audits/{audit_id}/publish", data={"confirm": "yes"}, follow_redirects=True)
    assert done.status_code == 200
    with app.app_context():
        audit = db.session.get(Audit, audit_id)
        assert audit.is_published and audit.published_at is not None
        stored = {d.lang: (d.sha256, d.pdf) for d in db.session.scalars(
            db.select(ReportDocument).where(ReportDocument.audit_id == audit_id,
                                            ReportDocument.kind == "published"))}
        db.session.remove()
    assert set(stored) == {"de", "en"}
    leadership = as_role("leadership")
    page = leadership.get(f"/reports/audits/{audit_id}").get_data(as_text=True)
    for lang, (sha, pdf) in stored.items():
        assert sha in page  # the audit's report page shows the hash
        first = leadership.get(f"/reports/audits/{audit_id}/pdf/{lang}")
        second = manager.get(f"/reports/audits/{audit_id}/pdf/{lang}")
        assert first.status_code == 200 and first.mimetype == "application/pdf"
        assert first.data == second.data == pdf
        assert hashlib.sha256(first.data).hexdigest() == sha == first.headers["X-Content-SHA256"]
    # frozen: no new draft, no second publication, no chain edits, no after-sales findings
    assert manager.post(f"/reports/audits/{audit_id}/generate", data={"lang": "en"}).status_code == 303
    assert manager.post(f"/reports/audits/{audit_id}/publish", data={"confirm": "yes"}).status_code == 303
    assert manager.get(f"/reports/audits/{audit_id}/chain").status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ReportDocument.id))) == 2
        db.session.remove()


def test_publish_needs_an_analysis(app, users, as_role, synchronous_jobs):
    audit_id = build_bare_audit(app, users, with_snapshot=False)
    page = as_role("manager").post(f"/reports/audits/{audit_id}/publish", data={"confirm": "yes"},
                                   follow_redirects=True)
    assert "Run the analysis before publishing" in page.get_data(as_text=True)


def test_published_elsewhere_is_frozen_on_first_download(app, users, as_role):
    from app.touchpoint_audit.models import Audit

    audit_id = build_bare_audit(app, users)
    with app.app_context():
        audit = db.session.get(Audit, audit_id)
        audit.status, audit.published_at = "published", dt.datetime(2025, 4, 2, 10, 0)
        db.session.commit()
        db.session.remove()
    client = as_role("leadership")
    first = client.get(f"/reports/audits/{audit_id}/pdf/de")
    assert first.status_code == 200
    assert client.get(f"/reports/audits/{audit_id}/pdf/de").data == first.data


def test_generate_draft_in_process_then_download(app, users, as_role, synchronous_jobs):
    audit_id = build_bare_audit(app, users, findings=[("Preise zu hoch", "")])
    manager = as_role("manager")
    assert manager.get(f"/reports/audits/{audit_id}/pdf/en").status_code == 404  # says: not generated yet
    started = manager.post(f"/reports/audits/{audit_id}/generate", data={"lang": "en"})
    assert started.status_code == 303 and "/jobs/" in started.headers["Location"]
    status = manager.get(started.headers["Location"])
    assert status.status_code == 302 and f"/reports/audits/{audit_id}" in status.headers["Location"]
    pdf = as_role("leadership").get(f"/reports/audits/{audit_id}/pdf/en")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_generate_with_rq_worker(app, users, monkeypatch):
    """With REDIS_URL set the job goes to RQ; a SimpleWorker in this process runs it."""
    redis = pytest.importorskip("redis")
    rq = pytest.importorskip("rq")
    url = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
    connection = redis.Redis.from_url(url)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"Redis at {url} is unreachable ({exc}); the RQ path is not tested")
    from app import worker as worker_module
    from app.web.jobs import QUEUE_NAME, enqueue
    from app.web.models import Job

    audit_id = build_bare_audit(app, users)
    monkeypatch.setitem(app.config, "REDIS_URL", url)
    monkeypatch.setitem(app.config, "JOBS_SYNCHRONOUS", False)
    monkeypatch.setattr(worker_module, "create_app", lambda *a, **k: app)  # the worker builds "the" app
    queue = rq.Queue(QUEUE_NAME, connection=connection)
    queue.empty()
    with app.test_request_context():
        record = enqueue("report_pdf", created_by_id=users["manager"].id, audit_id=audit_id, lang="en",
                         user_id=users["manager"].id)
        job_id = record.id
        assert db.session.get(Job, job_id).status == "queued"
        db.session.remove()
    assert queue.count == 1
    worker = rq.SimpleWorker([queue], connection=connection)
    worker.work(burst=True)
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status == "done", job.error
        assert job.result["redirect"] == f"/reports/audits/{audit_id}"
        assert len(job.result["sha256"]) == 64
        db.session.remove()


@pytest.mark.parametrize("method,path,allowed", [
    ("get", "/reports/audits/{id}", {"manager", "leadership"}),
    ("get", "/reports/audits/{id}/pdf/de", {"manager", "leadership"}),
    ("post", "/reports/audits/{id}/generate", {"manager"}),
    ("post", "/reports/audits/{id}/publish", {"manager"}),
    ("get", "/reports/audits/{id}/chain", {"manager"}),
])
def test_roles(app, users, as_role, method, path, allowed):
    audit_id = build_bare_audit(app, users)
    for role in ("manager", "leadership", "service"):
        status = getattr(as_role(role), method)(path.format(id=audit_id)).status_code
        assert (status == 403) == (role not in allowed), (role, path, status)


def test_chain_form_saves_and_report_draws_it(app, users, as_role, tmp_path):
    from app.reports.models import ChainActor

    audit_id = build_bare_audit(app, users)
    manager = as_role("manager")
    form = manager.get(f"/reports/audits/{audit_id}/chain").get_data(as_text=True)
    assert 'name="supplier-name"' in form and 'name="customers_customer-direct_contact"' in form
    data = {"supplier-name": "Lieferant AG", "supplier-known_person": "y", "us-name": "Wir GmbH",
            "customer-name": "Handwerk", "customer-count": "≈ 2.000", "customer-direct_contact": "y",
            "customers_customer-name": "<i>Endkunden</i>"}
    assert manager.post(f"/reports/audits/{audit_id}/chain", data=data).status_code == 303
    with app.app_context():
        actors = {a.role: a for a in db.session.scalars(db.select(ChainActor))}
        assert actors["supplier"].known_person and not actors["supplier"].direct_contact
        assert actors["customer"].count == "≈ 2.000"
        db.session.remove()
    text = pdf_text(render(app, audit_id)[1], tmp_path)
    assert "Lieferant AG" in text and "<i>Endkunden</i>" in text


# ------------------------------------------------------------------ CLI


def test_cli_pdf_draft_and_published(app, users, tmp_path):
    from app.reports.document import published_document
    from app.touchpoint_audit.models import Audit

    audit_id = build_bare_audit(app, users)
    runner = app.test_cli_runner()
    out = tmp_path / "draft.pdf"
    result = runner.invoke(args=["reports", "pdf", str(audit_id), "-o", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF") and "draft" in result.output
    with app.app_context():
        audit = db.session.get(Audit, audit_id)
        audit.status, audit.published_at = "published", dt.datetime(2025, 4, 2, 10, 0)
        db.session.commit()
        db.session.remove()
    out2 = tmp_path / "pub.pdf"
    result = runner.invoke(args=["reports", "pdf", str(audit_id), "-o", str(out2), "--lang", "de"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert out2.read_bytes() == published_document(audit_id, "de").pdf
        db.session.remove()
    result = runner.invoke(args=["reports", "pdf", "999999", "-o", str(out2)])
    assert result.exit_code != 0 and "there is no audit 999999" in result.output


def test_pdftotext_is_installed():
    assert shutil.which("pdftotext") and shutil.which("pdftoppm"), "poppler-utils missing (.ci/run installs it)"


def test_chain_form_refuses_overlong_fields_and_a_published_audit(app, users, as_role):
    from app.reports.models import ChainActor
    from app.touchpoint_audit.models import Audit

    audit_id = build_bare_audit(app, users)
    manager = as_role("manager")
    url = f"/reports/audits/{audit_id}/chain"
    too_long = manager.post(url, data={"supplier-name": "x" * 201, "us-name": "Wir GmbH"})
    assert too_long.status_code == 422
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ChainActor.id))) == 0
        db.session.get(Audit, audit_id).status = "published"
        db.session.commit()
        db.session.remove()
    frozen = manager.post(url, data={"us-name": "Neu GmbH"})
    assert frozen.status_code == 303
    assert "its chain is frozen" in manager.get(frozen.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ChainActor.id))) == 0
        db.session.remove()
