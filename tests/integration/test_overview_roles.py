"""The start page by role: the answer for leadership, the work for managers, the assigned
rounds and own actions for service staff; German and English."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from app.extensions import db
from tests.integration.audit_fixtures import add_observations, build_world

# Renewal prices: existing Cash-Cows pay 14 % more (flagged); the hotline is fair (not flagged).
FLAGGED = {"touchpoint": "renewal", "metric": "price", "segment_kind": "potential", "segment": "cash_cow",
           "n_new": 48, "n_existing": 61, "effect": 14.0, "effect_rel": 0.14, "reference_level": 100.0,
           "ci_low": 9.0, "ci_high": 19.0, "p": 0.0001, "p_adjusted": 0.001, "flagged": True, "severity": "high",
           "status": "ok", "threshold": 5.0}
FAIR = {"touchpoint": "hotline", "metric": "wait", "segment_kind": "overall", "segment": "all",
        "n_new": 80, "n_existing": 90, "effect": 3.0, "effect_rel": 0.02, "reference_level": 150.0,
        "ci_low": -10.0, "ci_high": 15.0, "p": 0.6, "p_adjusted": 0.8, "flagged": False, "severity": None,
        "status": "ok", "threshold": 7.5}


def section(html: str, panel: str) -> str:
    """The HTML of one start-page panel (empty when it is not there)."""
    match = re.search(rf'<section [^>]*data-panel="{panel}".*?</section>', html, re.S)
    return match.group(0) if match else ""


@pytest.fixture
def start(app, users):
    """An open round analysed yesterday, an earlier published round with a smaller gap,
    two findings: one owned by the service user and overdue, one without an owner."""
    from app.touchpoint_audit.models import AnalysisSnapshot, Audit, Finding

    world = build_world(app, users)
    with app.app_context():
        audit = db.session.get(Audit, world.audit_id)
        earlier = Audit(title="Round 2026/Q2", status="published", metrics=list(audit.metrics),
                        published_at=dt.datetime(2026, 7, 1), created_at=dt.datetime(2026, 6, 1))
        db.session.add(earlier)
        db.session.flush()
        yesterday = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(days=1)
        db.session.add_all([
            AnalysisSnapshot(audit_id=earlier.id, n_observations=300, created_at=dt.datetime(2026, 6, 30),
                             comparisons=[dict(FLAGGED, effect=2.0, effect_rel=0.02, ci_low=-1.0, ci_high=4.0,
                                               flagged=False), FAIR]),
            AnalysisSnapshot(audit_id=audit.id, n_observations=400, created_at=yesterday,
                             comparisons=[FLAGGED, FAIR]),
        ])
        owned = Finding(audit_id=audit.id, key="aggregate:renewal:price:potential:cash_cow", kind="aggregate",
                        severity="high", touchpoint_key="renewal", metric_key="price", segment_kind="potential",
                        segment="cash_cow", title="t", figures={k: FLAGGED[k] for k in (
                            "n_new", "n_existing", "effect", "effect_rel", "reference_level", "ci_low", "ci_high")},
                        owner_id=users["service"].id, due_date=dt.date.today() - dt.timedelta(days=2))
        unowned = Finding(audit_id=audit.id, key="case:renewal:price", kind="case", severity="medium",
                          touchpoint_key="renewal", metric_key="price", title="t",
                          figures={"n_cases": 50, "n_flagged": 12, "total_excess": 1234.5})
        db.session.add_all([owned, unowned])
        db.session.commit()
        ids = {"audit": audit.id, "earlier": earlier.id, "owned": owned.id, "unowned": unowned.id}
        db.session.remove()
    return world, ids


def test_leadership_reads_the_answer_from_flagged_comparisons_only(as_role, start):
    _world, ids = start
    html = as_role("leadership").get("/").get_data(as_text=True)
    answer = section(html, "leadership")
    assert "Existing customers (Cash cows) pay 14.0 % more than new customers at Contract renewal · Renewal price" \
        in answer
    assert "95% interval 9.0 % to 19.0 %" in answer and "n = 61 existing / 48 new" in answer
    assert "Waiting time" not in answer.split("Top findings")[0]  # the fair hotline is not a problem
    top = answer.split("Top findings")[1].split("Since the last round")[0]
    assert f'data-finding="{ids["owned"]}"' in top and "Service" in top and "overdue" in top
    assert f'data-finding="{ids["unowned"]}"' in top and "unassigned" in top
    assert "€1,234 paid above the new-business price, in this sample" in top
    assert 'data-change="grew"' in answer and "Round 2026/Q2" in answer and "€2.00 → €14.00" in answer
    assert f'/reports/audits/{ids["audit"]}"' in answer
    assert section(html, "manager") == "" and section(html, "service") == ""


def test_leadership_in_german(as_role, start):
    html = as_role("leadership").get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    answer = section(html, "leadership")
    assert "Bestandskunden (Cash-Cows) zahlen bei Vertragsverlängerung · Verlängerungspreis 14,0 % mehr" in answer
    assert "95-%-Intervall 9,0 % bis 19,0 %" in answer and "n = 61 Bestandskunden / 48 Neukunden" in answer
    assert "gewachsen" in answer and "Wichtigste Befunde" in answer


def test_leadership_without_a_flag_says_so(app, as_role, start):
    from app.touchpoint_audit.models import AnalysisSnapshot

    _world, ids = start
    with app.app_context():
        db.session.add(AnalysisSnapshot(audit_id=ids["audit"], n_observations=400, comparisons=[FAIR]))
        db.session.commit()
        db.session.remove()
    answer = section(as_role("leadership").get("/").get_data(as_text=True), "leadership")
    assert "No gap between existing and new customers is flagged in this round (1 comparison with enough data)" \
        in answer
    assert "data-answer>" not in answer


def test_manager_sees_progress_stale_analysis_and_open_actions(app, as_role, users, start):
    world, ids = start
    html = as_role("manager").get("/").get_data(as_text=True)
    work = section(html, "manager")
    assert f'data-audit="{ids["audit"]}"' in work and f'data-audit="{ids["earlier"]}"' not in work
    assert "data-stale" not in work and "is current" in work
    overdue = work.split('data-list="overdue"')[1].split('data-list="unassigned"')[0]
    assert f'data-finding="{ids["owned"]}"' in overdue and f'data-finding="{ids["unowned"]}"' not in overdue
    unassigned = work.split('data-list="unassigned"')[1]
    assert f'data-finding="{ids["unowned"]}"' in unassigned and f'data-finding="{ids["owned"]}"' not in unassigned
    # an observation logged after the analysis makes it stale
    add_observations(app, world, [{"metric": "hotline.wait", "value": 120.0, "customer_status": "new"}],
                     created_by_id=users["service"].id)
    work = section(as_role("manager").get("/").get_data(as_text=True), "manager")
    assert "data-stale" in work and "1 observations logged since the analysis" in work
    assert "Hotline</strong>: 1 new / 0 existing customers" in work
    assert section(html, "service") == ""


def test_service_sees_assigned_rounds_and_own_actions_only(app, as_role, users, start):
    world, ids = start
    client = as_role("service")
    html = client.get("/").get_data(as_text=True)
    assigned = section(html, "service")
    assert f"/log?audit_id={world.audit_id}" in assigned and "Log an observation" in assigned
    actions = section(html, "actions")
    assert f'data-finding="{ids["owned"]}"' in actions and 'data-reminder="overdue"' in actions
    assert f'data-finding="{ids["unowned"]}"' not in html
    assert section(html, "leadership") == "" and section(html, "manager") == ""
    assert 'data-figure="revenue"' not in html
    # the own action opens; another finding does not
    assert client.get(f"/findings/{ids['owned']}").status_code == 200
    assert client.get(f"/findings/{ids['unowned']}").status_code == 403
    assert client.get("/findings/").status_code == 403
    german = client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Ihre Audit-Runden" in german and "Beobachtung erfassen" in german and "Ihre Maßnahmen" in german


def test_service_without_assignment(app, as_role, users):
    build_world(app, users, assign_service=False)
    html = as_role("service").get("/").get_data(as_text=True)
    assert "You are not assigned to an open audit round" in html
    assert "No actions are assigned to you." in html


def test_start_page_fragment_for_htmx(as_role, start):
    response = as_role("manager").get("/", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and 'data-panel="manager"' in html


def test_empty_company_start_pages(as_role, users):
    for role in ("leadership", "manager", "service", "admin"):
        response = as_role(role).get("/")
        assert response.status_code == 200
    assert "No audit round has been analysed yet." in as_role("leadership").get("/").get_data(as_text=True)
    assert "No round is open." in as_role("manager").get("/").get_data(as_text=True)


def test_an_assignment_shows_on_the_owners_start_page(app, as_role, users, start):
    _world, ids = start
    due = (dt.date.today() + dt.timedelta(days=14)).isoformat()
    assert as_role("manager").post(f"/findings/{ids['unowned']}/update", data={
        "upd-status": "open", "upd-owner_id": users["leadership"].id, "upd-due_date": due}).status_code == 303
    actions = section(as_role("leadership").get("/").get_data(as_text=True), "actions")
    assert f'data-finding="{ids["unowned"]}"' in actions and 'data-reminder="assigned"' in actions
    assert "assigned to you on" in actions
    german = section(as_role("leadership").get("/", headers={"Accept-Language": "de"}).get_data(as_text=True),
                     "actions")
    assert "Ihnen zugewiesen am" in german


def test_top_findings_lead_with_the_loyalty_penalty(app, as_role, start):
    """Five critical after-sales gaps do not push the penalty findings off the list."""
    from app.touchpoint_audit.models import Finding

    _world, ids = start
    with app.app_context():
        for i in range(5):
            db.session.add(Finding(audit_id=ids["audit"], key=f"aftersales:{i}", kind="aftersales",
                                   severity="critical", title=f"Gap {i}",
                                   figures={"difference": 0.4, "ci_low": 0.3, "ci_high": 0.5,
                                            "n_satisfied": 100, "n_dissatisfied": 50}))
        db.session.commit()
        db.session.remove()
    answer = section(as_role("leadership").get("/").get_data(as_text=True), "leadership")
    top = answer.split('data-list="top"')[1].split("</ol>")[0]
    assert top.count("<li data-finding=") == 5
    assert f'data-finding="{ids["owned"]}"' in top and f'data-finding="{ids["unowned"]}"' in top
    assert "40.0 pp; 95% interval 30.0 pp to 50.0 pp; n = 150" in top


def test_changes_are_capped_on_the_start_page(app, as_role, start):
    from app.touchpoint_audit.models import AnalysisSnapshot

    _world, ids = start
    rows = [dict(FLAGGED, segment_kind="abc", segment=s) for s in ("A", "B", "C")] + \
        [dict(FLAGGED, segment_kind="tier", segment=s) for s in ("A", "B", "C", "Z")]
    with app.app_context():
        db.session.add(AnalysisSnapshot(audit_id=ids["earlier"], n_observations=300,
                                        comparisons=[dict(r, effect=2.0, ci_low=-1.0, ci_high=4.0) for r in rows]))
        db.session.add(AnalysisSnapshot(audit_id=ids["audit"], n_observations=400, comparisons=rows))
        db.session.commit()
        db.session.remove()
    answer = section(as_role("leadership").get("/").get_data(as_text=True), "leadership")
    assert answer.count('data-change="grew"') == 5 and "and 2 more gaps that grew" in answer


def test_a_newer_segmentation_run_makes_the_analysis_stale(app, as_role, start):
    from app.segments.models import Customer, CustomerSegment, SegmentationRun

    _world, ids = start
    with app.app_context():
        customer = db.session.scalars(db.select(Customer)).first()
        run = SegmentationRun(window_start="2025-12", window_end="2026-11", status="done", summary={})
        db.session.add(run)
        db.session.flush()
        db.session.add(CustomerSegment(run_id=run.id, customer_id=customer.id, abc_class="A"))
        db.session.commit()
        db.session.remove()
    work = section(as_role("manager").get("/").get_data(as_text=True), "manager")
    assert "data-stale" in work and "A newer segmentation run exists" in work
    german = section(as_role("manager").get("/", headers={"Accept-Language": "de"}).get_data(as_text=True),
                     "manager")
    assert "Auswertung veraltet" in german and "neueren Segmentierungslauf" in german


def test_top_findings_are_ordered_by_what_they_cost_a_year(app, as_role, start):
    """The penalty findings lead by their yearly excess (estimated), shown with its interval."""
    from app.touchpoint_audit.models import Finding

    _world, ids = start
    with app.app_context():
        dear = Finding(audit_id=ids["audit"], key="aggregate:hotline:wait:overall:all", kind="aggregate",
                       severity="low", touchpoint_key="hotline", metric_key="wait", title="t",
                       figures={"excess_year": 53155.0, "excess_year_low": 40100.0, "excess_year_high": 61000.0})
        db.session.add(dear)
        db.session.commit()
        dear_id = dear.id
        db.session.remove()
    answer = section(as_role("leadership").get("/").get_data(as_text=True), "leadership")
    top = answer.split('data-list="top"')[1].split("</ol>")[0]
    assert top.index(f'data-finding="{dear_id}"') < top.index(f'data-finding="{ids["owned"]}"')  # low severity, dearest
    assert "about €53,155 a year, estimated (95% interval €40,100 to €61,000)" in top
    german = as_role("leadership")
    german.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    top_de = section(german.get("/").get_data(as_text=True), "leadership")
    assert "etwa 53.155 € im Jahr, geschätzt (95-%-Intervall 40.100 € bis 61.000 €)" in top_de
