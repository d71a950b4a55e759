"""Benchmark: a ~40-page leadership report (20 touchpoint-metrics, 12 segments, 500 findings).

Prints the time to build the report (data preparation + charts + WeasyPrint), the peak
memory, and the ratio to WeasyPrint alone rendering the same finished HTML from disk in
the same run (goal: < 10 s in total; our preparation adds at most 30 %).

    .venv/bin/python bench/bench_report.py [--quick]
"""
from __future__ import annotations

import datetime as dt
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.segments.kinds import KINDS  # after the path to the project is set

QUICK = "--quick" in sys.argv
N_METRICS, N_FINDINGS = (6, 120) if QUICK else (20, 500)
SEGMENTS = [("overall", "all"), *((kind.key, value) for kind in KINDS if kind.compared for value in kind.values)]


def build(app):
    """An audit with a stored analysis of N_METRICS × 12 segments and N_FINDINGS findings."""
    from app.accounts.models import User
    from app.extensions import db
    from app.touchpoint_audit.models import AnalysisSnapshot, Audit, Finding, Metric, Touchpoint

    rng = random.Random(7)
    manager = User(username="bench", role="manager", password_hash="x", display_name="Bench Manager")
    db.session.add(manager)
    metrics = []
    for t in range(N_METRICS // 2):
        tp = Touchpoint(key=f"tp{t}", name_de=f"Touchpoint {t}", name_en=f"Touchpoint {t}", position=t)
        db.session.add(tp)
        db.session.flush()
        for m in range(2):
            metric = Metric(touchpoint_id=tp.id, key=f"m{m}", name_de=f"Kennzahl {m}", name_en=f"Metric {m}",
                            unit="eur" if m == 0 else "seconds", direction="lower", position=m, is_price=m == 0)
            db.session.add(metric)
            metrics.append((tp, metric))
    audit = Audit(title="Benchmark-Audit", status="open", period_start=dt.date(2025, 1, 1),
                  period_end=dt.date(2025, 6, 30))
    db.session.add(audit)
    db.session.flush()
    comparisons = []
    for tp, metric in metrics:
        for kind, segment in SEGMENTS:
            effect = rng.gauss(5, 8)
            comparisons.append({
                "touchpoint": tp.key, "metric": metric.key, "segment_kind": kind, "segment": segment,
                "n_new": rng.randint(20, 200), "n_existing": rng.randint(5, 300), "median_new": 100.0,
                "median_existing": 100 + effect, "effect": effect, "effect_rel": effect / 100,
                "ci_low": effect - 4, "ci_high": effect + 4, "p": rng.random() / 10, "p_adjusted": rng.random(),
                "threshold": 5.0, "flagged": effect > 9, "severity": "high" if effect > 15 else "medium",
                "status": "ok" if rng.random() > 0.1 else "insufficient_data",
            })
    db.session.add(AnalysisSnapshot(audit_id=audit.id, n_observations=50_000, params={}, comparisons=comparisons,
                                    cases={"total_excess": 123456.78, "n_flagged": 812, "n_customers": 340},
                                    gradient={}, created_at=dt.datetime(2025, 7, 1, 8, 0)))
    for i in range(N_FINDINGS):
        tp, metric = metrics[i % len(metrics)]
        kind, segment = SEGMENTS[i % len(SEGMENTS)]
        db.session.add(Finding(audit_id=audit.id, key=f"aggregate:{i}", kind="aggregate", source="analysis",
                               severity=rng.choice(["critical", "high", "medium", "low"]),
                               touchpoint_key=tp.key, metric_key=metric.key, segment_kind=kind, segment=segment,
                               title=f"Finding {i}", figures={"effect_rel": 0.12}, owner_id=None,
                               due_date=dt.date(2025, 9, 30)))
    db.session.commit()
    return audit.id


def main() -> None:
    from weasyprint import HTML

    from app import create_app
    from app.extensions import db
    from config import TestConfig

    path = Path(tempfile.mkdtemp()) / "bench.sqlite"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with app.test_request_context():
        db.create_all()
        audit_id = build(app)
        from app.accounts.models import User
        from app.reports.document import html_to_pdf, render_html
        from app.touchpoint_audit.models import Audit

        audit = db.session.get(Audit, audit_id)
        user = db.session.scalar(db.select(User))
        render_html(audit, "en", user)  # warm-up: templates, fonts, imports

        started = time.perf_counter()
        html = render_html(audit, "en", user)
        prepared = time.perf_counter()
        pdf, pages = html_to_pdf(html)
        total = time.perf_counter() - started
        preparation = prepared - started

        html_file = path.parent / "report.html"
        html_file.write_text(html)
        base_started = time.perf_counter()
        baseline_doc = HTML(filename=str(html_file), base_url=app.root_path).render()
        baseline_doc.write_pdf()
        baseline = time.perf_counter() - base_started

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"report: {pages} pages, {N_METRICS} touchpoint-metrics × {len(SEGMENTS)} segments, "
          f"{N_FINDINGS} findings, {len(pdf) / 1024:.0f} kB")
    print(f"total {total:.2f} s (goal < 10 s): data + charts + HTML {preparation:.2f} s, "
          f"WeasyPrint {total - preparation:.2f} s")
    print(f"baseline: WeasyPrint on the finished HTML from disk {baseline:.2f} s")
    print(f"ratio total / baseline = {total / baseline:.2f} (goal ≤ 1.30)")
    print(f"peak memory (max RSS) {peak_mb:.0f} MB")
    os.remove(path)


if __name__ == "__main__":
    main()
