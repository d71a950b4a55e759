"""Trajectory context of a finding: how many of its penalised customers follow a shrinking
trajectory and how much contribution a year is at risk; the customer list limited to exactly
them (?finding=), with its role and record checks and bad input.

Every expected set and sum here is computed independently in Python from the rows the test
wrote, never by the query under test."""
from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re

import pytest

from app.extensions import db
from tests.integration.audit_fixtures import build_world

ABC, POTENTIAL, TIER = ("A", "B", "C"), ("star", "focus", "cash_cow", "time_waster"), ("A", "B", "C", "Z")
TRAJECTORIES = ("growth", "shrinking", "bell", "cyclic", "stable")
HOLDS_IN = [("abc", "C"), ("potential", "cash_cow")]  # where the hotline finding's gap holds
COLUMN = {"abc": "abc_class", "potential": "potential_segment", "tier": "profit_tier"}


@pytest.fixture
def world(app, users):
    """40 customers in two segmentation runs (the older one with other classes), observations of
    the hotline wait and the offer price, a root-cause finding that holds in two segments, one that
    holds overall only, a case finding, and a finding of an audit the service user may not see."""
    from app.segments.models import Customer, CustomerSegment, SegmentationRun
    from app.touchpoint_audit.models import Audit, Finding, Observation

    base = build_world(app, users)
    rng = random.Random(20261204)
    with app.app_context():
        customers = [Customer(customer_no=f"T{i:04d}", name=f"Kunde {i}", customer_since=dt.date(2015, 1, 1))
                     for i in range(40)]
        db.session.add_all(customers)
        old = SegmentationRun(window_start="2023-12", window_end="2024-11", status="done",
                              created_at=dt.datetime(2025, 1, 2))
        run = SegmentationRun(window_start="2024-12", window_end="2026-11", status="done",
                              created_at=dt.datetime(2026, 11, 2))
        db.session.add_all([old, run])
        db.session.flush()
        segments = {}
        for i, customer in enumerate(customers):
            row = {"abc_class": rng.choice(ABC), "potential_segment": rng.choice(POTENTIAL),
                   "profit_tier": rng.choice(TIER), "trajectory": rng.choice(TRAJECTORIES),
                   "contribution": float(rng.randint(-2000, 90000))}
            if i == 39:
                continue  # no segment row in either run
            segments[customer.customer_no] = row
            db.session.add(CustomerSegment(run_id=run.id, customer_id=customer.id, **row))
            # the older run: everyone shrinking and a C customer, so a query on the wrong run shows
            db.session.add(CustomerSegment(run_id=old.id, customer_id=customer.id, abc_class="C",
                                           potential_segment="cash_cow", profit_tier="C", trajectory="shrinking",
                                           contribution=1.0))
        db.session.flush()
        metric = base.metric_ids
        observed = {"hotline.wait": set(), "offer.price": set()}
        for customer in customers:
            for key in ("hotline.wait", "offer.price"):
                if rng.random() < 0.7:
                    for _repeat in range(rng.randint(1, 3)):  # repeated observations of one customer
                        db.session.add(Observation(audit_id=base.audit_id, metric_id=metric[key],
                                                   value=rng.uniform(10, 500), customer_status="existing",
                                                   customer_id=customer.id))
                    observed[key].add(customer.customer_no)
                elif rng.random() < 0.3:  # observed as a new customer: never penalised
                    db.session.add(Observation(audit_id=base.audit_id, metric_id=metric[key], value=5.0,
                                               customer_status="new", customer_id=customer.id))
        for _i in range(5):  # anonymous new customers
            db.session.add(Observation(audit_id=base.audit_id, metric_id=metric["hotline.wait"], value=3.0,
                                       customer_status="new"))
        other = Audit(title="Other round", status="open", period_start=dt.date(2026, 10, 1),
                      period_end=dt.date(2026, 12, 31))
        db.session.add(other)
        db.session.flush()
        # the other round observes customers the first one does not
        db.session.add(Observation(audit_id=other.id, metric_id=metric["hotline.wait"], value=99.0,
                                   customer_status="existing", customer_id=customers[0].id))
        segment_figures = [{"segment_kind": k, "segment": v, "n_new": 20, "n_existing": 12, "effect": 30.0,
                            "ci_low": 10.0, "ci_high": 50.0, "p_adjusted": 0.01, "effect_unit": "%"}
                           for k, v in HOLDS_IN]
        findings = {
            "segments": Finding(audit_id=base.audit_id, key="aggregate:hotline:wait:overall:all", kind="aggregate",
                                severity="high", touchpoint_key="hotline", metric_key="wait", segment_kind="abc",
                                segment="C", title="t", owner_id=users["service"].id,
                                figures={"effect": 30.0, "effect_unit": "%", "ci_low": 10.0, "ci_high": 50.0,
                                         "n_new": 20, "n_existing": 12, "segments": segment_figures}),
            "overall": Finding(audit_id=base.audit_id, key="aggregate:offer:price:overall:all", kind="aggregate",
                               severity="medium", touchpoint_key="offer", metric_key="price",
                               segment_kind="overall", segment="all", title="t",
                               figures={"effect": 8.0, "effect_unit": "%", "ci_low": 2.0, "ci_high": 12.0,
                                        "n_new": 30, "n_existing": 28, "segments": []}),
            "case": Finding(audit_id=base.audit_id, key="case:renewal:price:overall:all", kind="case",
                            severity="low", touchpoint_key="renewal", metric_key="price", segment_kind="overall",
                            segment="all", title="t", figures={"n_cases": 3, "n_flagged": 1, "total_excess": 9.0}),
            "other": Finding(audit_id=other.id, key="aggregate:hotline:wait:overall:all", kind="aggregate",
                             severity="high", touchpoint_key="hotline", metric_key="wait", segment_kind="overall",
                             segment="all", title="t", figures={"segments": []}),
        }
        db.session.add_all(findings.values())
        db.session.commit()
        ids = {name: f.id for name, f in findings.items()}
        run_id, other_id = run.id, other.id
        db.session.remove()
    return {"base": base, "ids": ids, "run_id": run_id, "segments": segments, "observed": observed,
            "other_audit": other_id}


def expected(world, which: str, trajectory: str | None = None) -> set[str]:
    """The penalised customers of a finding, computed from the rows the fixture wrote."""
    key = "hotline.wait" if which == "segments" else "offer.price"
    out = set()
    for number in world["observed"][key]:
        row = world["segments"].get(number)
        if which == "segments" and (row is None or not any(row[COLUMN[k]] == v for k, v in HOLDS_IN)):
            continue
        if trajectory is not None and (row is None or row["trajectory"] != trajectory):
            continue
        out.add(number)
    return out


def analyse(app, world):
    """Store the trajectory context the way the analysis does, for the two root-cause findings."""
    from app.segments.models import SegmentationRun
    from app.touchpoint_audit.analysis import add_trajectory_risk
    from app.touchpoint_audit.models import Finding

    with app.app_context():
        rows = [db.session.get(Finding, world["ids"][name]) for name in ("segments", "overall", "case")]
        specs = [{"kind": f.kind, "touchpoint_key": f.touchpoint_key, "metric_key": f.metric_key,
                  "figures": dict(f.figures)} for f in rows]
        add_trajectory_risk(world["base"].audit_id, specs, db.session.get(SegmentationRun, world["run_id"]))
        for finding, spec in zip(rows, specs, strict=True):
            finding.figures = spec["figures"]
        db.session.commit()
        out = {name: dict(db.session.get(Finding, world["ids"][name]).figures) for name in ("segments", "overall",
                                                                                           "case")}
        db.session.remove()
    return out


def listed(html: str) -> set[str]:
    return set(re.findall(r'/customers/\d+">(T\d{4})</a>', html))


@pytest.mark.parametrize("which", ["segments", "overall"])
def test_the_figure_counts_the_penalised_and_the_shrinking_and_their_contribution_a_year(app, world, which):
    figures = analyse(app, world)[which]["trajectory"]
    penalised = expected(world, which)
    shrinking = expected(world, which, "shrinking")
    assert shrinking and penalised - shrinking  # the fixture has both
    assert figures["penalised"] == len(penalised)
    assert figures["shrinking"] == len(shrinking)
    # 24 months in the run's window: the stored contribution is two years'
    assert figures["contribution_year"] == pytest.approx(sum(world["segments"][n]["contribution"]
                                                             for n in shrinking) / 2)
    assert figures["run_id"] == world["run_id"] and figures["run_date"] == "2026-11-02"
    assert figures["basis"] == which


def test_only_root_cause_findings_carry_it(app, world):
    assert "trajectory" not in analyse(app, world)["case"]


def test_the_analysis_stores_it_on_the_findings_it_writes(app, world, monkeypatch):
    from app.touchpoint_audit import analysis
    from app.touchpoint_audit.models import Audit, Finding

    spec = {"key": "aggregate:hotline:wait:overall:all", "kind": "aggregate", "severity": "high",
            "touchpoint_key": "hotline", "metric_key": "wait", "segment_kind": "abc", "segment": "C", "title": "t",
            "figures": {"segments": [{"segment_kind": k, "segment": v} for k, v in HOLDS_IN]}}
    monkeypatch.setattr(analysis, "analyse_frame", lambda *a, **k: {
        "findings": [spec], "params": {}, "segment_kinds": [], "comparisons": [], "cases": {}, "gradient": {},
        "all_flagged_cases": [], "paired": [], "by_grade": {}})
    with app.app_context():
        analysis.run_analysis(db.session.get(Audit, world["base"].audit_id))
        db.session.commit()
        stored = db.session.get(Finding, world["ids"]["segments"]).figures["trajectory"]
        db.session.remove()
    assert stored["shrinking"] == len(expected(world, "segments", "shrinking"))
    assert stored["run_id"] == world["run_id"]  # the latest run, not the older one


@pytest.mark.parametrize("which", ["segments", "overall"])
@pytest.mark.parametrize("trajectory", [None, "shrinking"])
def test_the_list_shows_exactly_the_penalised_customers(app, world, as_role, which, trajectory):
    analyse(app, world)
    query = {"finding": world["ids"][which], **({"trajectory": trajectory} if trajectory else {})}
    response = as_role("manager").get("/customers/", query_string=query, headers={"Accept-Language": "en"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert listed(html) == expected(world, which, trajectory)
    assert 'data-filter="finding"' in html and "Penalised customers of the finding" in html


def test_the_filter_combines_with_the_others_and_is_kept_through_pages_sorting_and_export(app, world, as_role,
                                                                                         monkeypatch):
    from app.segments import customers as listing

    analyse(app, world)
    finding = world["ids"]["segments"]
    wanted = {n for n in expected(world, "segments") if world["segments"][n]["profit_tier"] in ("A", "B")}
    client = as_role("manager")
    for tier in ("A", "B"):
        html = client.get("/customers/", query_string={"finding": finding, "tier": tier}).get_data(as_text=True)
        assert listed(html) == {n for n in wanted if world["segments"][n]["profit_tier"] == tier}
    # pages of two: follow the "next" links, which must keep the filter
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    seen, url = set(), f"/customers/?finding={finding}&sort=name&dir=asc"
    for _page in range(50):
        html = client.get(url).get_data(as_text=True)
        seen |= listed(html)
        found = re.search(r'<a href="([^"]+)" hx-get="[^"]+" hx-target="#results" hx-swap="outerHTML" '
                          r'hx-push-url="true" rel="next"', html)
        if not found:
            break
        url = found.group(1).replace("&amp;", "&")
        assert f"finding={finding}" in url
    assert seen == expected(world, "segments")
    sort_links = re.findall(r'href="(/customers/\?[^"]*sort=revenue[^"]*)"', html)
    assert sort_links and all(f"finding={finding}" in link for link in sort_links)
    assert f'name="finding" value="{finding}"' in html  # the filter form sends it on
    export = client.get("/customers/export.csv", query_string={"finding": finding, "trajectory": "shrinking"},
                        headers={"Accept-Language": "en"})
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert {r[0] for r in rows[1:]} == expected(world, "segments", "shrinking")


@pytest.mark.parametrize("role,status", [("manager", 200), ("leadership", 200), ("admin", 200), ("service", 200)])
def test_roles_on_a_finding_they_may_see(app, world, as_role, role, status):
    # the service user owns the hotline finding
    analyse(app, world)
    response = as_role(role).get("/customers/", query_string={"finding": world["ids"]["segments"]})
    assert response.status_code == status
    assert listed(response.get_data(as_text=True)) == expected(world, "segments")


def test_service_staff_get_403_for_a_finding_they_do_not_own_not_the_list(app, world, as_role):
    analyse(app, world)
    client = as_role("service")
    for name in ("overall", "other"):
        response = client.get("/customers/", query_string={"finding": world["ids"][name]})
        assert response.status_code == 403
        assert not listed(response.get_data(as_text=True))
    assert client.get("/customers/export.csv", query_string={"finding": world["ids"]["overall"]}).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(app, world, client):
    response = client.get("/customers/", query_string={"finding": world["ids"]["segments"]})
    assert response.status_code in (302, 401)
    assert not listed(response.get_data(as_text=True))


@pytest.mark.parametrize("value", ["abc", "1.5", "-1", "0", "99999999999999999999", str(2**31), "1e3", "%00",
                                   "9" * 5000, "999999"])
def test_bad_finding_parameters_answer_404_not_the_list(app, world, as_role, value):
    response = as_role("manager").get("/customers/", query_string={"finding": value})
    assert response.status_code in (400, 404)  # a NUL byte is refused before the view
    assert not listed(response.get_data(as_text=True))
    assert as_role("manager").get("/customers/export.xlsx", query_string={"finding": value}).status_code in (400, 404)


def test_a_finding_without_penalised_customers_answers_404(app, world, as_role):
    assert as_role("manager").get("/customers/", query_string={"finding": world["ids"]["case"]}).status_code == 404


def test_an_empty_parameter_is_no_filter(app, world, as_role):
    html = as_role("manager").get("/customers/?finding=").get_data(as_text=True)
    assert 'data-filter="finding"' not in html and len(listed(html)) == 40


def test_a_newer_run_than_the_figure_says_so(app, world, as_role):
    from app.segments.models import SegmentationRun

    analyse(app, world)
    with app.app_context():
        db.session.add(SegmentationRun(window_start="2025-01", window_end="2026-12", status="done"))
        db.session.commit()
        db.session.remove()
    html = as_role("manager").get("/customers/", query_string={"finding": world["ids"]["segments"]},
                                  headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"counted in segmentation run {world['run_id']}; this list shows run" in html


def test_the_finding_page_says_it_and_links_the_list_money_only_for_money_roles(app, world, as_role):
    analyse(app, world)
    finding = world["ids"]["segments"]
    n_shrinking, n = len(expected(world, "segments", "shrinking")), len(expected(world, "segments"))
    manager = as_role("manager").get(f"/findings/{finding}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"{n_shrinking} of the {n} penalised customers are shrinking; €" in manager
    assert "contribution a year at risk (segmentation run" in manager and "of 11/2/26" not in manager
    assert f"/customers/?finding={finding}&amp;trajectory=shrinking" in manager
    assert "A customers" not in manager.split('data-figure="trajectory-risk"')[1].split("</section>")[0]
    assert "C customers, Cash cows" in manager  # the segments where the gap holds, in words
    service = as_role("service").get(f"/findings/{finding}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    part = service.split('data-figure="trajectory-risk"')[1].split("</section>")[0]
    assert f"{n_shrinking} of the {n} penalised customers are shrinking" in part
    assert "€" not in part and "contribution" not in part.lower()


def test_the_findings_list_and_the_german_pages(app, world, as_role):
    analyse(app, world)
    finding = world["ids"]["segments"]
    n_shrinking, n = len(expected(world, "segments", "shrinking")), len(expected(world, "segments"))
    client = as_role("manager")
    listing = client.get("/findings/", query_string={"audit_id": world["base"].audit_id},
                         headers={"Accept-Language": "en"}).get_data(as_text=True)
    row = listing.split(f'data-finding="{finding}"')[1].split("</tr>")[0]
    assert f"{n_shrinking} of {n} penalised customers shrinking · €" in row
    german = client.get(f"/findings/{finding}", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert f"{n_shrinking} der {n} benachteiligten Kunden sind Schrumpfungskunden;" in german
    assert "Deckungsbeitrag im Jahr gefährdet (Segmentierungslauf" in german and "vom 02.11.2026" in german
    assert "geteilt durch dessen 2,0 Jahre" in german
    banner = client.get("/customers/", query_string={"finding": finding},
                        headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Benachteiligte Kunden des Befunds" in banner and "diesen Filter entfernen" in banner


def test_leadership_start_page_and_the_report_brief(app, world, as_role):
    from flask_babel import force_locale

    from app.reports.document import render_html
    from app.touchpoint_audit.models import AnalysisSnapshot, Audit

    analyse(app, world)
    with app.app_context():
        db.session.add(AnalysisSnapshot(audit_id=world["base"].audit_id, segmentation_run_id=world["run_id"],
                                        n_observations=10, params={}, comparisons=[], cases={}, gradient={}))
        db.session.commit()
        db.session.remove()
    n_shrinking, n = len(expected(world, "segments", "shrinking")), len(expected(world, "segments"))
    start = as_role("leadership").get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    top = start.split('data-list="top"')[1].split("</ol>")[0]
    assert f"{n_shrinking} of {n} penalised customers shrinking · €" in top
    for lang, words in (("en", f"{n_shrinking} of the {n} penalised customers are shrinking; €"),
                        ("de", f"{n_shrinking} der {n} benachteiligten Kunden sind Schrumpfungskunden;")):
        with app.test_request_context(), force_locale(lang):
            html = render_html(db.session.get(Audit, world["base"].audit_id), lang)
            brief = html[html.index('id="summary"'):html.index('class="toc"')]
            assert words in brief
            db.session.remove()
