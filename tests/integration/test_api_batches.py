"""The HTTP API's batches of customer values and after-sales outcomes (the imports' rules, all or
nothing, idempotent by the batch's external_id), customer numbers matched as the imports match
them, the comparisons of an analysed audit, and the customers' classes and reasons (paged by a
cursor, filtered as the customer list, no money for service tokens)."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from app.extensions import db
from tests.integration.test_api import PROBLEM, post_batch


def values_batch(external_id="erp-2026-11", **overrides) -> dict:
    values = [
        {"customer_no": "004711", "period": "2026-10", "revenue": 1200.5, "cost_to_serve": "300,25"},
        {"customer_no": "004711", "period": "2026-11", "revenue": 1300},
        {"customer_no": "007001", "name": "Neu GmbH", "customer_since": "2026-01-15", "period": "2026-11",
         "revenue": 99},
    ]
    return {"external_id": external_id, "values": values, **overrides}


def outcome_batch(external_id="crm-1", **overrides) -> dict:
    outcomes = [
        {"customer_no": "004711", "date": "2026-11-02", "sale_satisfaction": True, "after_sales_satisfaction": 4,
         "repurchased": "ja"},
        {"customer_no": "004712", "date": "2026-11-03", "sale_satisfaction": False, "after_sales_satisfaction": 2,
         "repurchased": False},
    ]
    return {"external_id": external_id, "outcomes": outcomes, **overrides}


def stored_values(app) -> list[tuple]:
    from app.segments.models import Customer, CustomerValue

    with app.app_context():
        rows = db.session.execute(db.select(Customer.customer_no, CustomerValue.period, CustomerValue.revenue,
                                            CustomerValue.cost_to_serve)
                                  .join(Customer, Customer.id == CustomerValue.customer_id)
                                  .order_by(Customer.customer_no, CustomerValue.period)).all()
        db.session.remove()
    return [tuple(row) for row in rows]


def stored_outcomes(app) -> list[tuple]:
    from app.aftersales.models import Outcome
    from app.segments.models import Customer

    with app.app_context():
        rows = db.session.execute(db.select(Customer.customer_no, Outcome.outcome_date, Outcome.sale_yes,
                                            Outcome.after_sales_score, Outcome.repurchased)
                                  .join(Customer, Customer.id == Outcome.customer_id).order_by(Outcome.id)).all()
        db.session.remove()
    return [tuple(row) for row in rows]


# ----------------------------------------------------------------- customer values


def test_customer_values_are_stored_once_and_a_changed_replay_is_409(app, api, world):
    client, headers = api("manager")
    first = client.post("/api/v1/customer-values", json=values_batch(), headers=headers)
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert (body["created"], body["rows"], body["new"], body["customers_new"]) == (True, 3, 3, 1)
    stored = stored_values(app)
    assert stored == [("004711", "2026-10", 1200.5, 300.25), ("004711", "2026-11", 1300.0, None),
                      ("007001", "2026-11", 99.0, None)]
    again = client.post("/api/v1/customer-values", json=values_batch(), headers=headers)
    assert again.status_code == 200 and again.get_json()["created"] is False
    assert again.get_json()["new"] == 3
    assert stored_values(app) == stored
    changed = values_batch()
    changed["values"][0]["revenue"] = 1
    conflict = client.post("/api/v1/customer-values", json=changed, headers=headers)
    assert conflict.status_code == 409 and conflict.mimetype == PROBLEM
    assert stored_values(app) == stored
    # the same content under a new id is a new batch: the import's upsert changes nothing
    renamed = client.post("/api/v1/customer-values", json=values_batch("erp-2026-11b"), headers=headers)
    assert renamed.status_code == 201 and renamed.get_json()["unchanged"] == 3
    assert stored_values(app) == stored


def test_a_bad_value_stores_nothing_and_names_item_and_field(app, api, world):
    client, headers = api("manager")
    batch = values_batch()
    batch["values"][1]["revenue"] = "viel"
    batch["values"][2]["period"] = "2026-13"
    response = client.post("/api/v1/customer-values", json=batch, headers=headers)
    assert response.status_code == 422 and response.mimetype == PROBLEM
    places = {(e["index"], e["field"]) for e in response.get_json()["errors"]}
    assert (1, "revenue") in places and (2, "period") in places
    assert stored_values(app) == []
    # the same external_id may then be sent with the fixed content
    assert client.post("/api/v1/customer-values", json=values_batch(), headers=headers).status_code == 201


def test_customer_numbers_without_leading_zeros_are_matched_with_a_warning(app, api, world):
    client, headers = api("manager")
    batch = {"external_id": "erp-zeros", "values": [{"customer_no": "4711", "period": "2026-09", "revenue": 5}]}
    response = client.post("/api/v1/customer-values", json=batch, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["customers_new"] == 0
    assert response.get_json()["warnings"] and response.get_json()["warnings"][0]["field"] == "customer_no"
    assert stored_values(app) == [("004711", "2026-09", 5.0, None)]


@pytest.mark.parametrize("body, status", [
    ({"external_id": "x", "values": []}, 422),
    ({"external_id": "", "values": [{"customer_no": "1", "period": "2026-01", "revenue": 1}]}, 422),
    ({"external_id": "x" * 65, "values": [{"customer_no": "1", "period": "2026-01", "revenue": 1}]}, 422),
    ({"external_id": "x", "values": [{"customer_no": "1", "period": "2026-01", "revenue": 1, "extra": 1}]}, 422),
    ({"external_id": "x", "values": [{"customer_no": "1", "period": "2026-01"}]}, 422),
    ({"external_id": "x", "values": [{"customer_no": "1\x00", "period": "2026-01", "revenue": 1}]}, 422),
    ({"external_id": "x", "values": [{"customer_no": "1", "period": "2026-01", "revenue": -5}]}, 422),
    ({"external_id": "x", "values": [{"customer_no": "1", "period": "2026-01", "revenue": "1e999"}]}, 422),
    ({"external_id": "x", "values": [{"customer_no": "1", "period": "2026-01", "revenue": 1,
                                      "potential_rating": 9}]}, 422),
    ({"external_id": "x", "values": [{"customer_no": "1", "period": "2026-01", "revenue": 1,
                                      "customer_since": "gestern"}]}, 422),
    ([1, 2], 422),
])
def test_malformed_value_batches_are_refused_without_storing(app, api, world, body, status):
    client, headers = api("manager")
    response = client.post("/api/v1/customer-values", json=body, headers=headers)
    assert response.status_code == status, response.get_json()
    assert response.mimetype == PROBLEM
    assert stored_values(app) == []


def test_value_batches_need_json_a_manager_token_and_fit_the_size_limit(app, api, world):
    client, headers = api("manager")
    assert client.post("/api/v1/customer-values", data="not json", headers=headers).status_code in (400, 415)
    assert app.test_client().post("/api/v1/customer-values", json=values_batch()).status_code == 401
    for role in ("service", "leadership"):
        other, other_headers = api(role)
        assert other.post("/api/v1/customer-values", json=values_batch(), headers=other_headers).status_code == 403
    app.config["API_MAX_CONTENT_LENGTH"] = 2000
    big = {"external_id": "big", "values": [{"customer_no": str(i), "period": "2026-01", "revenue": i}
                                            for i in range(100)]}
    response = client.post("/api/v1/customer-values", json=big, headers=headers)
    assert response.status_code == 413 and response.mimetype == PROBLEM
    assert stored_values(app) == []


# ----------------------------------------------------------------- after-sales outcomes


def test_outcomes_are_stored_once_and_a_changed_replay_is_409(app, api, world):
    client, headers = api("manager")
    first = client.post("/api/v1/aftersales/outcomes", json=outcome_batch(), headers=headers)
    assert first.status_code == 201, first.get_json()
    assert (first.get_json()["new"], first.get_json()["rows"]) == (2, 2)
    stored = stored_outcomes(app)
    assert stored == [("004711", dt.date(2026, 11, 2), True, 4, True), ("004712", dt.date(2026, 11, 3), False, 2, False)]
    again = client.post("/api/v1/aftersales/outcomes", json=outcome_batch(), headers=headers)
    assert again.status_code == 200 and again.get_json()["created"] is False
    assert stored_outcomes(app) == stored
    changed = outcome_batch()
    changed["outcomes"][1]["repurchased"] = True
    assert client.post("/api/v1/aftersales/outcomes", json=changed, headers=headers).status_code == 409
    assert stored_outcomes(app) == stored


def test_bad_outcomes_store_nothing_and_name_item_and_field(app, api, world):
    client, headers = api("manager")
    batch = outcome_batch()
    batch["outcomes"][0]["customer_no"] = "123456"  # unknown
    batch["outcomes"][1]["after_sales_satisfaction"] = 9
    batch["outcomes"].append({**batch["outcomes"][1], "after_sales_satisfaction": 3,
                              "date": (dt.date.today() + dt.timedelta(days=3)).isoformat()})
    response = client.post("/api/v1/aftersales/outcomes", json=batch, headers=headers)
    assert response.status_code == 422, response.get_json()
    places = {(e["index"], e["field"]) for e in response.get_json()["errors"]}
    assert {(0, "customer_no"), (1, "after_sales_satisfaction"), (2, "date")} <= places
    assert stored_outcomes(app) == []


def test_outcome_numbers_with_spaces_or_without_zeros_are_matched(app, api, world):
    client, headers = api("manager")
    batch = outcome_batch()
    batch["outcomes"][0]["customer_no"] = "4711"
    batch["outcomes"][1]["customer_no"] = " 0047 12 "
    response = client.post("/api/v1/aftersales/outcomes", json=batch, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert len(response.get_json()["warnings"]) >= 1
    assert [row[0] for row in stored_outcomes(app)] == ["004711", "004712"]


def test_outcomes_only_for_managers(app, api, world):
    for role, status in (("service", 403), ("leadership", 403)):
        client, headers = api(role)
        assert client.post("/api/v1/aftersales/outcomes", json=outcome_batch(), headers=headers).status_code == status
    assert stored_outcomes(app) == []


# ----------------------------------------------------------------- observations: customer numbers


def test_observation_numbers_without_leading_zeros_are_matched_with_a_warning(app, api, world):
    from app.touchpoint_audit.models import Observation

    client, headers = api("manager")
    items = [{"external_id": "t-1", "touchpoint": "hotline", "metric": "wait", "value": "1:30",
              "customer_no": "4711"},
             {"external_id": "t-2", "touchpoint": "hotline", "metric": "wait", "value": "2:30",
              "customer_no": "0047 12"}]
    response = post_batch(client, headers, world.audit_id, items)
    assert response.status_code == 201, response.get_json()
    warnings = response.get_json()["warnings"]
    assert [(w["index"], w["field"]) for w in warnings] == [(0, "customer_no"), (1, "customer_no")]
    assert "004711" in warnings[0]["detail"]
    with app.app_context():
        customers = db.session.scalars(db.select(Observation.customer_id).order_by(Observation.id)).all()
        db.session.remove()
    assert customers == [world.customer_ids["004711"], world.customer_ids["004712"]]
    # sent again: the same observations (the same customers), nothing stored twice
    assert post_batch(client, headers, world.audit_id, items).status_code == 200


# ----------------------------------------------------------------- comparisons


def test_comparisons_have_the_cli_fields_and_reading_starts_no_analysis(app, api, world, users):
    from app.touchpoint_audit.analysis import COMPARISON_FIELDS, run_analysis
    from app.touchpoint_audit.models import AnalysisSnapshot, Audit
    from tests.integration.audit_fixtures import add_observations
    from tests.integration.test_audits_analysis import _planted_rows

    client, headers = api("manager")
    assert client.get(f"/api/v1/audits/{world.audit_id}/comparisons", headers=headers).status_code == 404
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(AnalysisSnapshot.id))) == 0  # the read ran nothing
        db.session.remove()
    # 12 new and 12 existing callers: two known customers (two calls each) and eight anonymous ones
    rows = _planted_rows(world, np.random.default_rng(7), n=12)
    add_observations(app, world, rows)
    with app.app_context():
        run_analysis(db.session.get(Audit, world.audit_id), user_id=users["manager"].id)
        db.session.commit()
        db.session.remove()
    response = client.get(f"/api/v1/audits/{world.audit_id}/comparisons", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["n_observations"] == len(rows)
    overall = [c for c in body["comparisons"] if (c["touchpoint"], c["metric"], c["segment_kind"]) ==
               ("hotline", "wait", "overall")]
    assert overall and set(COMPARISON_FIELDS) <= set(overall[0])
    assert (overall[0]["n_new"], overall[0]["n_existing"]) == (12, 10)  # one value per customer
    assert overall[0]["effect_unit"] == "%"
    renewal = [c for c in body["comparisons"] if (c["touchpoint"], c["segment_kind"]) == ("renewal", "overall")]
    assert renewal and renewal[0]["effect"] > 0  # existing customers pay more
    service, service_headers = api("service")
    assert service.get(f"/api/v1/audits/{world.audit_id}/comparisons", headers=service_headers).status_code == 403
    assert client.get("/api/v1/audits/999999/comparisons", headers=headers).status_code == 404


# ----------------------------------------------------------------- customers


@pytest.fixture
def segmented(app, world):
    """A finished run over the world's customers and 30 more (numbers K0001…), with figures."""
    from app.segments.models import Customer, CustomerSegment, SegmentationRun

    with app.app_context():
        run = SegmentationRun(window_start="2025-01", window_end="2025-12", status="done", parameters={},
                              summary={"potential_basis": "potential"})
        db.session.add(run)
        customers = db.session.scalars(db.select(Customer)).all()
        for i in range(30):
            customers.append(Customer(customer_no=f"K{i:04d}", name=f"Kunde {i}", search_key=f"k{i:04d} kunde {i}"))
        db.session.add_all(customers)
        db.session.flush()
        for i, customer in enumerate(customers):
            db.session.add(CustomerSegment(
                run_id=run.id, customer_id=customer.id, abc_class="ABC"[i % 3], potential_segment="star",
                profit_tier="Z" if i % 5 == 0 else "A", trajectory="shrinking" if i % 4 == 0 else "stable",
                burr=i % 7 == 0, revenue=1000.0 * (i + 1), contribution=-50.0 if i % 5 == 0 else 100.0 * i,
                untapped=10.0 * i, rank=i + 1, cum_share_before=0.01 * i, tier_cum_share_before=0.02 * i,
                trajectory_reason="significant_fall" if i % 4 == 0 else "none", n_periods=12, tenure_years=3.0))
        db.session.commit()
        run_id = run.id
        db.session.remove()
    return run_id


def walk(client, headers, url) -> list[dict]:
    """Every page from ``url`` on, following next links."""
    seen = []
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        seen += body["customers"]
        url = body["next"]
    return seen


def test_customers_are_paged_by_cursor_and_filtered_as_the_list(app, api, segmented):
    client, headers = api("manager")
    everyone = walk(client, headers, "/api/v1/customers?limit=7")
    numbers = [c["customer_no"] for c in everyone]
    assert len(numbers) == 33 and numbers == sorted(numbers) and len(set(numbers)) == 33
    assert all(c["reasons"] and "revenue" in c for c in everyone)
    shrinking = walk(client, headers, "/api/v1/customers?trajectory=shrinking&abc=A&limit=2")
    assert shrinking and all(c["trajectory"] == "shrinking" and c["abc_class"] == "A" for c in shrinking)
    expected = [c["customer_no"] for c in everyone if c["trajectory"] == "shrinking" and c["abc_class"] == "A"]
    assert [c["customer_no"] for c in shrinking] == expected
    burrs = walk(client, headers, "/api/v1/customers?burr=true")
    assert burrs and all(c["burr"] for c in burrs)
    others = walk(client, headers, "/api/v1/customers?burr=false")
    assert len(burrs) + len(others) == 33
    found = walk(client, headers, "/api/v1/customers?q=M%C3%BCller")
    assert [c["customer_no"] for c in found] == ["004711"]
    page = client.get(f"/api/v1/customers?run_id={segmented}&limit=1", headers=headers).get_json()
    assert page["run"]["id"] == segmented and page["next"] and "after=" in page["next"]


def test_a_service_token_sees_classes_and_reasons_but_no_money(app, api, segmented):
    client, headers = api("service")
    customers = walk(client, headers, "/api/v1/customers?limit=50")
    assert len(customers) == 33
    money = {"revenue", "contribution", "untapped"}
    assert all(not money & set(c) for c in customers)
    assert all(c["reasons"] for c in customers)
    text = str(customers)
    assert "€" not in text and "1.000" not in text and "1,000" not in text
    manager, manager_headers = api("manager")
    first = manager.get("/api/v1/customers?limit=1", headers=manager_headers).get_json()["customers"][0]
    assert money <= set(first)


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=x", "abc=D", "trajectory=weird", "run_id=0",
                                   "run_id=99999999999", "burr=vielleicht", "q=" + "x" * 101, "unknown=1",
                                   "after=" + "x" * 201])
def test_bad_customer_queries_are_422(app, api, segmented, query):
    client, headers = api("manager")
    response = client.get(f"/api/v1/customers?{query}", headers=headers)
    assert response.status_code == 422 and response.mimetype == PROBLEM


def test_an_unknown_run_is_404_and_a_cursor_past_the_end_is_an_empty_page(app, api, segmented):
    client, headers = api("manager")
    assert client.get("/api/v1/customers?run_id=424242", headers=headers).status_code == 404
    page = client.get("/api/v1/customers?after=zzzz", headers=headers).get_json()
    assert page["customers"] == [] and page["next"] is None


@pytest.mark.parametrize("date", ["0001-01-01", "1066-10-14", "9999-12-31"])
def test_outcome_dates_far_away_are_problems_not_errors(app, api, world, date):
    client, headers = api("manager")
    batch = outcome_batch(outcomes=[{"customer_no": "004711", "date": date, "sale_satisfaction": 1,
                                     "after_sales_satisfaction": 0, "repurchased": 1}])
    response = client.post("/api/v1/aftersales/outcomes", json=batch, headers=headers)
    assert response.status_code == 422, response.get_json()
    assert [e["field"] for e in response.get_json()["errors"]] == ["date"]
    assert stored_outcomes(app) == []


def test_a_nul_byte_in_the_query_is_a_documented_400(app, api, segmented):
    client, headers = api("manager")
    response = client.get("/api/v1/customers?q=ab%00c", headers=headers)
    assert response.status_code == 400 and response.mimetype == PROBLEM
    document = client.get("/api/v1/openapi.json").get_json()
    assert "400" in document["paths"]["/api/v1/customers"]["get"]["responses"]


# ----------------------------------------------------------------- the request's language


def test_problems_speak_german_when_accept_language_prefers_it(app, api, world, users):
    from app.accounts.models import User

    with app.app_context():  # the token's user chose German for the pages: the API follows the request
        db.session.get(User, users["manager"].id).locale = "de"
        db.session.commit()
        db.session.remove()
    client, headers = api("manager")
    batch = values_batch()
    batch["values"][1]["revenue"] = "viel"
    english = client.post("/api/v1/customer-values", json=batch, headers=headers).get_json()
    assert english["title"] == "Unprocessable Entity" and english["detail"].startswith("Nothing was stored")
    assert "is not a number" in english["errors"][0]["detail"]
    german = client.post("/api/v1/customer-values", json=batch,
                         headers={**headers, "Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}).get_json()
    assert german["title"] == "Nicht verarbeitbarer Inhalt"
    assert german["detail"].startswith("Nichts wurde gespeichert")
    assert german["errors"][0]["detail"] != english["errors"][0]["detail"] and "viel" in german["errors"][0]["detail"]
    refused = app.test_client().get("/api/v1/audits", headers={"Accept-Language": "de"})
    assert refused.status_code == 401 and refused.get_json()["title"] == "Nicht angemeldet"
    preferred_english = client.get("/api/v1/audits/999999", headers={**headers, "Accept-Language": "en, de;q=0.8"})
    assert preferred_english.get_json()["detail"] == "There is no such audit."
