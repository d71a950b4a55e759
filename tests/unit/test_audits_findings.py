"""Findings: stable keys, bilingual titles, figures and actions."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from audits import (
    RECOMMENDED_ACTIONS,
    aftersales_findings,
    aggregate_findings,
    build_findings,
    case_findings,
    finding_key,
    price_walking_findings,
    render_title,
)


def comparison(**overrides):
    row = dict(touchpoint="renewal", metric="price", segment_kind="tier", segment="Z",
               direction="lower", statistic="median", adjustment="ratio", n_new=120,
               n_existing=80, n_customers=60, n_existing_unmatched=0, n_strata=3,
               median_new=100.0, median_existing=118.0, reference_level=100.0,
               effect=18.0, effect_rel=0.18, threshold=5.0, ci_low=9.0, ci_high=25.0,
               p=0.0001, p_adjusted=0.001, flagged=True, severity="high", status="ok")
    row.update(overrides)
    return row


def test_aggregate_finding_has_key_titles_figures_and_action():
    comparisons = pd.DataFrame([comparison(),
                                comparison(segment="A", flagged=False, severity=None)])
    (finding,) = aggregate_findings(comparisons)
    assert finding["key"] == "aggregate:renewal:price:overall:all"
    assert finding["kind"] == "aggregate" and finding["severity"] == "high"
    assert (finding["touchpoint"], finding["segment_kind"], finding["segment"]) == (
        "renewal", "tier", "Z")
    assert finding["title"]["en"] == ("tier Z: existing customers fare worse than new "
                                      "customers on price at renewal (+18.0 % vs new customers)")
    assert "+18,0 %" in finding["title"]["de"] and "Bestandskunden" in finding["title"]["de"]
    assert finding["figures"]["ci_low"] == 9.0 and finding["figures"]["p_adjusted"] == 0.001
    assert finding["action"] == RECOMMENDED_ACTIONS["aggregate"]["renewal"]
    assert finding["title"]["de"] == render_title(finding["title_code"],
                                                  finding["title_params"], "de")
    json.dumps(finding)   # plain Python values only


def root_cause_comparisons(overall_flagged):
    """Renewal price: overall plus tier Z and potential cash_cow (the same customers)."""
    return pd.DataFrame([
        comparison(segment_kind="overall", segment="all", effect=8.0, effect_rel=0.08,
                   ci_low=3.0, flagged=overall_flagged, severity="medium" if overall_flagged
                   else None),
        comparison(),
        comparison(segment_kind="potential", segment="cash_cow", effect=15.0,
                   effect_rel=0.15, ci_low=7.0, severity="medium"),
        comparison(segment="A", effect=1.0, flagged=False, severity=None),
        comparison(touchpoint="hotline", metric="wait", segment="A", flagged=False,
                   severity=None),
    ])


@pytest.mark.parametrize("overall_flagged", [True, False])
def test_one_root_cause_finding_per_touchpoint_and_metric_naming_its_segments(
        overall_flagged):
    (finding,) = aggregate_findings(root_cause_comparisons(overall_flagged))
    assert finding["key"] == "aggregate:renewal:price:overall:all"
    assert finding["severity"] == "high"            # the most severe of its rows
    facets = finding["figures"]["segments"]
    assert [(f["segment_kind"], f["segment"]) for f in facets] == [
        ("tier", "Z"), ("potential", "cash_cow")]
    assert facets[0]["n_existing"] == 80 and facets[0]["ci_low"] == 9.0
    if overall_flagged:
        assert finding["segment_kind"] == "overall" and finding["figures"]["effect"] == 8.0
        assert finding["title"]["en"].startswith("All existing customers")
    else:   # the segment with the largest lower bound leads
        assert (finding["segment_kind"], finding["segment"]) == ("tier", "Z")
        assert finding["title"]["en"].startswith("tier Z, potential cash_cow:")


def test_root_cause_finding_carries_the_excess_a_year_and_observed():
    comparisons = root_cause_comparisons(False)
    year = pd.DataFrame([
        dict(touchpoint="renewal", metric="price", segment_kind="tier", segment="Z",
             typical_price=118.0, gap=0.18, gap_low=0.09, gap_high=0.25, volume=100.0,
             volume_source="segmentation", excess_year=1800.0, excess_year_low=975.0,
             excess_year_high=2360.0),
        dict(touchpoint="renewal", metric="price", segment_kind="potential",
             segment="cash_cow", typical_price=118.0, gap=0.15, gap_low=0.07,
             gap_high=0.2, volume=100.0, volume_source="segmentation", excess_year=1500.0,
             excess_year_low=700.0, excess_year_high=2000.0)])
    (finding,) = aggregate_findings(comparisons, year, cases_frame())
    assert finding["figures"]["excess_year"] == 1800.0   # tier only: kinds overlap
    assert finding["figures"]["excess_year_low"] == 975.0
    assert finding["figures"]["excess_observed"] == 65.0
    assert finding["figures"]["n_cases_flagged"] == 4


def test_key_is_stable_when_the_figures_change():
    first = aggregate_findings(pd.DataFrame([comparison()]))
    rerun = aggregate_findings(pd.DataFrame([comparison(effect=30.0, effect_rel=0.3,
                                                        severity="critical")]))
    assert first[0]["key"] == rerun[0]["key"]
    assert first[0]["figures"] != rerun[0]["figures"]


def test_key_parts_are_encoded():
    assert finding_key("aggregate", "shop:web", "price", "overall", None) == (
        "aggregate:shop%3Aweb:price:overall:all")
    assert finding_key("case", "a%b") == "case:a%25b"


def test_numbered_touchpoints_share_the_action_of_their_base_name():
    (finding,) = aggregate_findings(pd.DataFrame([comparison(touchpoint="hotline_2",
                                                             metric="wait_seconds")]))
    assert finding["action_code"] == "aggregate:hotline"
    (other,) = aggregate_findings(pd.DataFrame([comparison(touchpoint="website",
                                                           metric="load_time")]))
    assert other["action_code"] == "aggregate:*"


def cases_frame():
    return pd.DataFrame({
        "touchpoint": "renewal", "metric": "price",
        "customer_id": ["C1", "C1", "C2", "C3", None],
        "tier": ["Z", "Z", "A", "A", None],
        "excess": [20.0, 30.0, 5.0, -4.0, 10.0],
        "excess_pct": [0.2, 0.3, 0.05, -0.04, 0.1],
        "flagged": [True, True, True, False, True],
    })


def test_case_findings_overall_or_per_segment_without_double_counting():
    (overall,) = case_findings(cases_frame())
    assert overall["key"] == "case:renewal:price:overall:all"
    assert overall["figures"]["n_flagged"] == 4
    assert overall["figures"]["total_excess"] == 65.0
    assert overall["figures"]["n_customers"] == 3   # C1, C2 and one without id
    by_tier = case_findings(cases_frame(), "tier")
    assert [f["key"] for f in by_tier] == ["case:renewal:price:tier:A",
                                          "case:renewal:price:tier:Z"]
    assert sum(f["figures"]["total_excess"] for f in by_tier) == 55.0  # unsegmented left out
    assert case_findings(cases_frame(), "tier", min_flagged=2)[0]["segment"] == "Z"


def walking_row():
    return dict(touchpoint="renewal", metric="price", product_key="P1",
                n=200, n_slope=200, subsampled=False, median_value=400.0,
                rho=0.4, p=1e-6, p_adjusted=1e-5, slope=12.0,
                slope_low=8.0, slope_high=16.0, slope_rel=0.03,
                flagged=True, status="ok")


def test_price_walking_and_aftersales_findings():
    gradients = pd.DataFrame([walking_row()])
    (walk,) = price_walking_findings(gradients)
    assert walk["key"] == "price_walking:renewal:price:P1"
    assert walk["severity"] == "high"
    assert "12,00" in walk["title"]["de"] and "P1" in walk["title"]["en"]

    effects = pd.DataFrame([dict(segment_kind="tier", segment="A", sale_satisfied=True,
                                 n_satisfied=80, n_dissatisfied=40, rate_satisfied=0.9,
                                 rate_dissatisfied=0.2, difference=0.7, ci_low=0.55,
                                 ci_high=0.8, dissatisfied_share=1 / 3, lost_repurchases=28.0,
                                 quoted_difference=0.79, flagged=True, status="ok")])
    (gap,) = aftersales_findings(effects)
    assert gap["key"] == "aftersales_gap:tier:A:sale_satisfied"
    assert gap["severity"] == "medium"   # 70 points, but 40 dissatisfied (< 50 for high)
    assert "70,0 Prozentpunkte" in gap["title"]["de"]
    assert "28 repurchases" in gap["title"]["en"]


def test_build_findings_sorts_by_severity_and_refuses_duplicate_keys():
    comparisons = pd.DataFrame([comparison(segment="A", severity="low"), comparison(),
                                comparison(touchpoint="hotline", severity="low")])
    found = build_findings(comparisons, cases_frame())
    assert [f["severity"] for f in found][:1] == ["high"]
    ranks = ["critical", "high", "medium", "low"]
    order = [ranks.index(f["severity"]) for f in found]
    assert order == sorted(order)
    with pytest.raises(ValueError, match="share a key"):
        build_findings(gradients=pd.DataFrame([walking_row(), walking_row()]))


def test_nan_figures_become_none():
    (finding,) = aggregate_findings(pd.DataFrame([comparison(effect_rel=np.nan)]))
    assert finding["figures"]["effect_rel"] is None
    assert "n/a" in finding["title"]["en"]


def test_audits_imports_neither_flask_nor_sqlalchemy():
    code = ("import sys, audits, audits.synthetic; "
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('flask', 'sqlalchemy', 'app', 'flask_sqlalchemy')]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
