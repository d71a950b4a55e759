"""The audit dashboard answers first: the answer's sentences on top, heat-map cells that
say in words (and in the user's language) whether they are flagged and open their
comparison, the change since the last round in relative terms, dates in the user's format;
and a comparison's own page."""
from __future__ import annotations

import re

import numpy as np
import pytest

from tests.integration.audit_fixtures import add_observations, build_world
from tests.integration.test_audits_analysis import _planted_rows


@pytest.fixture
def analysed(app, users, as_role):
    world = build_world(app, users)
    add_observations(app, world, _planted_rows(world, np.random.default_rng(7)))
    assert as_role("manager").post(f"/audits/{world.audit_id}/analyze").status_code == 303
    return world


def german(client):
    client.post("/language", data={"lang": "de", "next": "/"})
    return client


def test_the_answer_comes_first_and_cells_say_flagged_in_words(app, as_role, analysed):
    html = as_role("leadership").get(f"/audits/{analysed.audit_id}/dashboard").get_data(as_text=True)
    answer = html.index('id="answer"')
    assert answer < html.index('class="heatmap"') and answer < html.index('class="tiles"')
    assert re.search(r"<li data-answer>Existing customers wait [^<]*longer than new customers at Hotline", html)
    tips = re.findall(r"<title>([^<]*)</title>", html[html.index('class="heatmap"'):])
    flagged = [t for t in tips if ": flagged." in t]
    assert flagged and all("95% interval" in t and "n = " in t and "adjusted p" in t for t in flagged)


def test_german_tooltips_use_german_numbers_with_unit_and_no_raw_floats(app, as_role, analysed):
    client = german(as_role("manager"))
    html = client.get(f"/audits/{analysed.audit_id}/dashboard").get_data(as_text=True)
    heat = html[html.index('class="heatmap"'):html.index("</svg>", html.index('class="heatmap"'))]
    tips = re.findall(r"<title>([^<]*)</title>", heat)
    assert tips
    assert not any(re.search(r"\d\.\d{5,}", t) for t in tips), tips  # no "effect 2.369998629493302"
    wait = next(t for t in tips if "Wartezeit" in t)
    assert ": markiert." in wait
    assert re.search(r"\d+,\d %", wait) and "Intervall" in wait and "n = " in wait and "s)" in wait


def test_case_dates_in_the_users_format(app, as_role, analysed):
    client = german(as_role("manager"))
    html = client.get(f"/audits/{analysed.audit_id}/dashboard").get_data(as_text=True)
    cases = html[html.index('class="data cases'):]
    cases = cases[:cases.index("</table>")]
    assert "10.11.2026" in cases and "2026-11-10" not in cases


def test_a_cell_opens_its_comparison_with_observations_cases_and_settings(app, as_role, analysed):
    client = as_role("manager")
    html = client.get(f"/audits/{analysed.audit_id}/dashboard").get_data(as_text=True)
    links = re.findall(r'<a href="(/audits/\d+/comparisons/renewal/price/overall/all)"', html)
    assert links
    page = client.get(links[0]).get_data(as_text=True)
    assert 'data-verdict="flagged"' in page
    assert 'id="distribution"' in page and "Median" in page
    assert page.count("data-observation=") == 80  # 40 new and 40 existing renewal prices
    cases = page[page.index('id="cases"'):page.index('id="observations"')]
    assert "<tbody><tr>" in cases  # the renewal prices above the new-business price
    settings = page[page.index('id="settings"'):]
    assert "min_n" in settings and "materiality" in settings


def test_comparison_page_refuses_unknown_comparisons_and_other_roles(app, as_role, analysed):
    base = f"/audits/{analysed.audit_id}/comparisons"
    manager = as_role("manager")
    assert manager.get(f"{base}/renewal/price/abc/Q").status_code == 404
    assert manager.get(f"{base}/nope/price/overall/all").status_code == 404
    assert manager.get("/audits/999999/comparisons/renewal/price/overall/all").status_code == 404
    assert as_role("service").get(f"{base}/renewal/price/overall/all").status_code == 403
    assert as_role("leadership").get(f"{base}/renewal/price/overall/all").status_code == 200


def test_change_since_the_last_round_in_relative_terms_with_its_verdict(app, users, as_role):
    import datetime as dt

    from app.extensions import db
    from app.touchpoint_audit.catalog import seed_catalog
    from app.touchpoint_audit.models import AnalysisSnapshot, Audit, Metric, Touchpoint

    def row(effect, rel, low, high):
        return {"touchpoint": "renewal", "metric": "price", "segment_kind": "overall", "segment": "all",
                "status": "ok", "flagged": True, "severity": "high", "effect": effect, "effect_rel": rel,
                "reference_level": 100.0, "ci_low": low, "ci_high": high, "threshold": 5.0, "effect_unit": "eur",
                "n_new": 40, "n_existing": 40, "p": 0.0001, "p_adjusted": 0.001}

    with app.app_context():
        seed_catalog()
        metric = db.session.scalar(db.select(Metric).join(Touchpoint).where(Touchpoint.key == "renewal",
                                                                            Metric.key == "price"))
        earlier = Audit(title="Runde Q3", status="published", metrics=[metric],
                        published_at=dt.datetime(2026, 9, 30, 12))
        current = Audit(title="Runde Q4", status="open", metrics=[metric])
        db.session.add_all([earlier, current])
        db.session.flush()
        for audit, comparison in ((earlier, row(10.0, 0.10, 8.0, 12.0)), (current, row(25.0, 0.25, 21.0, 29.0))):
            db.session.add(AnalysisSnapshot(audit_id=audit.id, n_observations=80, params={"min_n": 10},
                                            comparisons=[comparison], gradient={"rows": [], "series": []},
                                            cases={"total_excess": 0.0, "n_cases": 0, "n_flagged": 0, "flagged": []}))
        db.session.commit()
        audit_id = current.id
        db.session.remove()
    response = as_role("leadership").get(f"/audits/{audit_id}/dashboard")
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[-3000:]
    section = html[html.index('id="round-changes"'):]
    section = section[:section.index("</section>")]
    assert "Runde Q3" in section
    changed = re.search(r'<tr data-change="grew">(.*?)</tr>', section, re.S).group(1)
    assert "10.0 %" in changed and "25.0 %" in changed and "grew" in changed  # relative, not €10 → €25


def test_effects_stated_in_percent_or_pp_read_on_their_own_scale(app):
    """The analysis states effect and interval in % (money, durations) and pp (shares):
    the interval is read as stated, not divided by the new customers' level again."""
    from app.touchpoint_audit.labels import comparison_effect, effect_interval, effect_value

    wait = {"effect": 82.69, "effect_rel": 0.8269, "ci_low": 41.46, "ci_high": 140.38, "reference_level": 91.5,
            "effect_unit": "%", "effect_value": 75.66, "n_new": 140, "n_existing": 40}
    resolved = {"effect": 6.0, "ci_low": 3.5, "ci_high": 8.5, "effect_unit": "pp", "n_new": 90, "n_existing": 80}
    with app.test_request_context(headers={"Accept-Language": "en"}):
        effect = comparison_effect(wait, "seconds")
        assert effect.kind == "relative" and effect.units == 75.66
        assert "82.7 %" in effect_value(effect)
        assert "41.5 %" in effect_interval(effect) and "140.4 %" in effect_interval(effect)
        share = comparison_effect(resolved, "boolean")
        assert effect_value(share) == "6.0 pp" and "3.5 pp" in effect_interval(share)

