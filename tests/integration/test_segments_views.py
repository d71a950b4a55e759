"""Segmentation screens, runs, exports and roles."""
from __future__ import annotations

import datetime as dt
import io
import json
import re

import pytest

from app.extensions import db
from tests.integration.test_access import build_url

MONEY = re.compile(r"(€\s?\d|\d\s?€)")


@pytest.fixture
def segmented(app, users):
    """The demo company (300 customers) with one segmentation run; a customer with a formula-like name."""
    from app.segments.demo import generate_company, load_company
    from app.segments.models import Customer, CustomerSegment
    from app.segments.runs import run_segmentation

    with app.app_context(), app.test_request_context():
        company = generate_company(n_customers=300, seed=7)
        company.customers.loc[0, "name"] = "=HYPERLINK(\"http://evil\")"
        load_company(company)
        db.session.commit()
        run = run_segmentation(user_id=users["manager"].id)
        star = db.session.scalar(db.select(CustomerSegment).where(
            CustomerSegment.run_id == run.id, CustomerSegment.potential_segment == "star",
            CustomerSegment.abc_class == "A").limit(1))
        first = db.session.scalar(db.select(Customer).where(Customer.customer_no == company.customers.customer_no[0]))
        info = {"run_id": run.id, "star_id": star.customer_id, "formula_id": first.id,
                "customers": len(company.customers)}
        db.session.remove()
    return info


def test_overview_for_managers_and_leadership_has_charts_and_money(as_role, segmented):
    for role in ("manager", "leadership"):
        html = as_role(role).get("/segments/").get_data(as_text=True)
        assert html.count("<svg") >= 3, role
        assert "Pareto" in html and "Cross-subsidy" in html
        assert 'data-segment="time_waster"' in html and "Time wasters" in html
        assert 'data-tier="Z"' in html
        assert MONEY.search(html)


def test_chart_axes_speak_the_ui_language(as_role, segmented):
    """Tick labels follow the number format of the language (the SVG keeps them as text)."""
    client = as_role("manager")
    english = client.get("/segments/").get_data(as_text=True)
    client.post("/language", data={"lang": "de", "next": "/"})
    german = client.get("/segments/").get_data(as_text=True)
    detail = client.get(f"/customers/{segmented['star_id']}").get_data(as_text=True)

    def ticks(html):
        return set(re.findall(r"<text[^>]*>([^<]+)</text>", html))

    assert {"0 %", "20 %", "100 %"} <= ticks(german) and {"0 %", "100 %"} <= ticks(english)
    assert "1,0" in ticks(german) and "1.0" in ticks(english)  # the trajectories' value / customer mean
    assert "Umsatz im Zeitraum (€, log. Skala)" in ticks(german)
    assert "€" in ticks(detail) and not any(re.fullmatch(r"\d{1,3}(,\d{3})+", t) for t in ticks(detail))


def test_service_sees_segments_and_care_but_no_money(as_role, segmented):
    client = as_role("service")
    overview = client.get("/segments/").get_data(as_text=True)
    assert "Care strategy" in overview and "consider ending the relationship" in overview
    assert "<svg" not in overview
    listing = client.get("/customers/").get_data(as_text=True)
    detail = client.get(f"/customers/{segmented['star_id']}").get_data(as_text=True)
    for html in (overview, listing, detail):
        assert not MONEY.search(html), MONEY.search(html)
        assert "Revenue" not in html and "Untapped" not in html
    assert 'data-class="potential_segment">Stars<' in detail
    assert "Individual VIP care" in detail
    # sorting by money is not available to service staff
    assert client.get("/customers/?sort=revenue").status_code == 200


def test_customer_page_explains_every_class(as_role, segmented):
    html = as_role("manager").get(f"/customers/{segmented['star_id']}").get_data(as_text=True)
    assert re.search(r"A because the customers before it make \d+\.\d %? ?of revenue, under the 80(\.0)? ?% threshold",
                     html), html[html.find('id="classes"'):][:1500]
    assert "Stars: revenue" in html and "at or above the split" in html
    assert "Linear trend" in html or "correlates" in html or "peaked" in html or "No significant trend" in html
    assert "Value history" in html and "<svg" in html


@pytest.mark.parametrize("reason, expected", [
    ("significant_rise", "Linear trend of 35 % per year over 18 periods, p < 0.001"),
    ("none", "No significant trend over 18 periods (p = 0.420)"),
])
def test_a_trend_reason_names_the_periods_it_rests_on(app, reason, expected):
    from flask_babel import force_locale

    from app.segments.models import CustomerSegment, SegmentationRun
    from app.segments.runs import explain

    run = SegmentationRun(parameters={}, summary={}, window_start="2025-01", window_end="2026-06")
    segment = CustomerSegment(trajectory="growth" if reason != "none" else "stable", trajectory_reason=reason,
                              n_periods=18, slope_rel=0.35, p_value=0.0002 if reason != "none" else 0.42,
                              seasonal_acf=0.1)
    with app.test_request_context(), force_locale("en"):
        assert expected in explain(segment, run, "en", show_money=True)["trajectory"]


def test_customer_list_filters_sorts_searches_and_renders_a_fragment(app, as_role, segmented):
    client = as_role("manager")
    full = client.get("/customers/?segment=star&abc=A")
    assert "<html" in full.get_data(as_text=True)
    fragment = client.get("/customers/?segment=star&abc=A", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and 'id="results"' in fragment
    rows = re.findall(r"<tr>\s*<td class=\"lead\"><a href=\"/customers/(\d+)\"", fragment)
    from app.segments.models import CustomerSegment

    with app.app_context():
        expected = db.session.scalar(db.select(db.func.count()).where(
            CustomerSegment.run_id == segmented["run_id"], CustomerSegment.potential_segment == "star",
            CustomerSegment.abc_class == "A"))
        db.session.remove()
    assert f"{expected} customer{'' if expected == 1 else 's'}" in fragment and len(rows) == min(expected, 50)
    for name, value in (("tier", "Z"), ("trajectory", "cyclic"), ("burr", "1")):
        html = client.get(f"/customers/?{name}={value}", headers={"HX-Request": "true"}).get_data(as_text=True)
        assert "No customers match" not in html, (name, value)
    # sort by revenue ascending: first row has the smallest revenue
    html = client.get("/customers/?sort=revenue&dir=asc", headers={"HX-Request": "true"}).get_data(as_text=True)
    first_revenues = re.findall(r'<td class="num" data-label="Revenue">(€[\d,.]+)</td>', html)
    assert len(first_revenues) == 50
    values = [float(v.strip("€").replace(",", "")) for v in first_revenues[:3]]
    assert values == sorted(values)
    # active search by number (leading zeros) and by name
    number = client.get("/customers/?q=004711", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert re.search(r"\b1 customer\b", number) and "1 customers" not in number and "004711" in number
    assert "hx-trigger=\"input changed delay:300ms, search\"" in full.get_data(as_text=True)
    # pagination: the Next link (a cursor after the first page's last row) leads to page 2
    page1 = client.get("/customers/", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Page 1 of" in page1 and 'rel="prev"' not in page1
    following = re.search(r'href="([^"]+)"[^>]*rel="next"', page1).group(1).replace("&amp;", "&")
    page2 = client.get(following, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Page 2 of" in page2 and 'rel="prev"' in page2 and 'rel="first"' in page2


def test_checklist_is_dated_and_kept_as_history(app, as_role, segmented):
    client = as_role("manager")
    url = f"/customers/{segmented['star_id']}/checklist"
    client.post(url, data={"trait_wants_solution": "y", "trait_wants_to_trust": "y", "note": "offen"})
    client.post(url, data={"trait_chronically_dissatisfied": "y", "trait_seeks_confirmation": "y"})
    html = client.get(f"/customers/{segmented['star_id']}").get_data(as_text=True)
    history = html[html.find("checklist-history"):]
    assert history.find('data-class="patient"') < history.find('data-class="customer"'), "newest first"
    assert "offen" in history
    assert as_role("service").post(url, data={}).status_code == 403


def test_run_form_stores_a_run_and_compare_shows_transitions(app, as_role, segmented):
    client = as_role("manager")
    form = client.get("/segments/run").get_data(as_text=True)
    start = re.search(r'name="window_start"[^>]*value="([^"]+)"', form).group(1)
    end = re.search(r'name="window_end"[^>]*value="([^"]+)"', form).group(1)
    bad = client.post("/segments/run", data={"window_start": end, "window_end": start, "abc_a": "80", "abc_b": "95",
                                             "trajectory_value": "revenue"})
    assert bad.status_code == 422 and "ends before it starts" in bad.get_data(as_text=True)
    response = client.post("/segments/run", data={"window_start": start, "window_end": end, "abc_a": "70",
                                                  "abc_b": "90", "trajectory_value": "contribution"})
    assert response.status_code == 303
    from app.segments.models import SegmentationRun

    with app.app_context():
        runs = db.session.scalars(db.select(SegmentationRun).order_by(SegmentationRun.id)).all()
        assert len(runs) == 2 and runs[1].parameters["abc"] == [0.7, 0.9]
        assert runs[1].parameters["trajectory_value"] == "contribution"
        assert runs[1].summary["counts"]["abc_class"]["A"] < runs[0].summary["counts"]["abc_class"]["A"]
        ids = [r.id for r in runs]
        db.session.remove()
    history = client.get("/segments/runs").get_data(as_text=True)
    assert "export.csv" in history
    assert history.count('data-status="done"><span class="badge ok">finished</span>') == 2
    client.post("/language", data={"lang": "de", "next": "/"})
    assert "fertig</span>" in client.get("/segments/runs").get_data(as_text=True)
    client.post("/language", data={"lang": "en", "next": "/"})
    compare = client.get(f"/segments/compare?a={ids[0]}&b={ids[1]}&dimension=abc_class").get_data(as_text=True)
    table = compare[compare.find('id="transitions"'):]
    cells = {(a, b): int(v.replace(",", "")) for a, b, v in
             re.findall(r'data-from="(\w+)" data-to="(\w+)">(?:<a [^>]*>)?([\d,]+)(?:</a>)?</td>', table)}
    assert sum(cells.values()) == segmented["customers"]
    assert {a for a, _ in cells} == {"A", "B", "C"} and len(cells) == 9  # square, in the classes' order
    assert re.findall(r'data-from="(\w)"', table)[::3] == ["A", "B", "C"]
    kept = sum(n for (a, b), n in cells.items() if a == b)
    # the stricter thresholds of the second run move some customers out of A
    assert 0 < kept < segmented["customers"] and cells[("A", "B")] > 0
    assert f"{kept:,} of {segmented['customers']:,} customers in both runs kept their class" in compare
    assert 'class="num same" data-from="A" data-to="A"' in table


def _json_export(client, run_id) -> list[dict]:
    return json.loads(client.get(f"/segments/runs/{run_id}/export.json").data)


def test_json_export_keeps_codes_and_exact_texts(as_role, segmented):
    rows = _json_export(as_role("leadership"), segmented["run_id"])
    assert len(rows) == segmented["customers"]
    for column in ("customer_id", "abc_class", "potential_segment", "profit_tier", "trajectory", "burr",
                   "revenue", "cum_share_before", "untapped", "contribution", "slope", "p_value", "seasonal_acf"):
        assert column in rows[0]
    assert {row["potential_segment"] for row in rows} == {"star", "focus", "cash_cow", "time_waster"}
    assert {row["burr"] for row in rows} == {True, False}
    assert all(row["customer_id"].startswith("00") for row in rows), "leading zeros kept"
    assert any(row["name"].startswith("=HYPERLINK") for row in rows)  # programs get the exact text


def test_english_csv_export_has_titles_labels_and_numbers_with_a_point(as_role, segmented):
    import pandas as pd

    client = as_role("leadership")
    response = client.get(f"/segments/runs/{segmented['run_id']}/export.csv")
    assert response.status_code == 200 and response.data.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(io.BytesIO(response.data), dtype={"Customer no.": str}, encoding="utf-8-sig")
    assert len(frame) == segmented["customers"]
    assert {"Customer no.", "Potential segment", "Burr (Klette)", "Revenue (€)", "p-value of the trend"} <= set(
        frame.columns)
    assert frame["Revenue (€)"].dtype.kind == "f"
    assert frame["Customer no."].str.startswith("00").all(), "leading zeros kept"
    assert set(frame["Potential segment"]) == {"Stars", "Focus", "Cash cows", "Time wasters"}
    assert set(frame["Burr (Klette)"]) == {"yes", "no"}
    evil = frame[frame["Name"].astype(str).str.contains("HYPERLINK")]["Name"].iloc[0]
    assert evil.startswith("'="), evil


def test_german_csv_export_uses_semicolons_decimal_commas_and_german_labels(as_role, segmented):
    import csv

    client = as_role("manager")
    exact = {row["customer_id"]: row for row in _json_export(client, segmented["run_id"])}
    client.post("/language", data={"lang": "de", "next": "/"})
    data = client.get(f"/segments/runs/{segmented['run_id']}/export.csv").data
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == segmented["customers"]
    assert {"Kundennr.", "Umsatz (€)", "Klette", "Deckungsbeitrag (€)"} <= set(rows[0])
    assert {row["Klette"] for row in rows} == {"ja", "nein"}
    assert "Cash-Cows" in {row["Potenzialsegment"] for row in rows}
    with_cents = [row for row in rows if "," in row["Umsatz (€)"]]
    assert with_cents, "some revenue has cents"
    for row in rows:
        revenue = row["Umsatz (€)"]
        assert "." not in revenue  # no thousands separator, no decimal point
        assert float(revenue.replace(",", ".")) == pytest.approx(exact[row["Kundennr."]]["revenue"])
        share = row["Umsatzanteil der Kunden davor"]
        assert float(share.replace(",", ".")) == pytest.approx(exact[row["Kundennr."]]["cum_share_before"])
    evil = next(row["Name"] for row in rows if "HYPERLINK" in row["Name"])
    assert evil.startswith("'="), evil


def test_xlsx_export_has_typed_cells_formats_a_frozen_header_and_a_filter(as_role, segmented):
    from openpyxl import load_workbook

    client = as_role("manager")
    client.post("/language", data={"lang": "de", "next": "/"})
    response = client.get(f"/segments/runs/{segmented['run_id']}/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    titles = [cell.value for cell in sheet[1]]
    column = {title: index for index, title in enumerate(titles)}
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(titles)).column_letter}{segmented['customers'] + 1}"
    assert sheet[1][0].font.bold
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == segmented["customers"]
    revenue = rows[0][column["Umsatz (€)"]]
    assert revenue.data_type == "n" and isinstance(revenue.value, float) and revenue.number_format == "#,##0.00"
    share = rows[0][column["Umsatzanteil der Kunden davor"]]
    assert share.data_type == "n" and share.number_format == "0.0%"
    rank = rows[0][column["Rang nach Umsatz"]]
    assert isinstance(rank.value, int) and rank.number_format == "#,##0"
    numbers = [row[column["Kundennr."]].value for row in rows]
    assert all(isinstance(n, str) and n.startswith("00") for n in numbers)
    assert {row[column["Klette"]].value for row in rows} == {"ja", "nein"}
    evil = next(row[column["Name"]].value for row in rows if "HYPERLINK" in row[column["Name"]].value)
    assert evil.startswith("'="), evil
    widths = [sheet.column_dimensions[sheet.cell(1, i + 1).column_letter].width for i in range(len(titles))]
    assert all(width and width >= len(title) for width, title in zip(widths, titles))


def test_segmentation_area_access_walk(app, users, segmented):
    """Every endpoint of this area against every role (the shared walk covers it too)."""
    from tests.conftest import ROLES
    from tests.integration.access_samples import make_samples
    from tests.integration.test_access import EXPECTED

    values = make_samples(app, users)
    values.update(run_id=segmented["run_id"], customer_id=segmented["star_id"])
    problems = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in ("segments", "customers"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for role in (None, *ROLES):
                client = app.test_client()
                if role:
                    client.login_as(users[role])
                status = client.open(build_url(app, rule, values, role), method=method, data={}).status_code
                allowed = EXPECTED[rule.endpoint]
                if role is None:
                    ok = status in (302, 401)
                elif role == "admin" or role in allowed:
                    ok = status < 500 and status not in (401, 403)
                else:
                    ok = status == 403
                if not ok:
                    problems.append(f"{method} {rule.rule} as {role}: {status}")
    assert not problems, problems


def test_demo_company_shows_every_class(app):
    """Under the default rules the demo data has every segment, tier, trajectory and burr customers."""
    from app.accounts.demo import step_users
    from app.demo import DEMO_STEPS
    from app.segments.demo import step_company, step_segmentation
    from app.segments.models import SegmentationRun
    from app.segments.runs import transition_matrix

    assert ("segmentation", step_segmentation) in DEMO_STEPS
    with app.app_context():
        ctx: dict = {}
        step_users(ctx)
        step_company(ctx)  # the default demo size and seed
        step_segmentation(ctx)
        db.session.commit()
        earlier, run = db.session.scalars(db.select(SegmentationRun).order_by(SegmentationRun.id)).all()
        counts = run.summary["counts"]
        windows = [(r.window_start, r.window_end) for r in (earlier, run)]
        dated = earlier.created_at < run.created_at - dt.timedelta(days=360)
        by = {r.created_by.username for r in (earlier, run)}
        transitions = transition_matrix(earlier.id, run.id, "potential_segment")
        db.session.remove()
    # the current run covers all 24 months; the earlier one the first year, dated a year back
    assert windows[1][1] > windows[0][1] and windows[0][0] == windows[1][0] and dated, windows
    assert by == {"manager"}  # the run history names who ran them
    # the comparison page has something to show: customers of both runs, some of whom moved
    cells = transitions.stack()
    assert int(cells.sum()) == run.n_customers
    moved = sum(int(n) for (before, after), n in cells.items() if before != after)
    assert 0 < moved < run.n_customers
    assert all(counts["potential_segment"][k] > 0 for k in ("star", "focus", "cash_cow", "time_waster"))
    assert all(counts["profit_tier"][k] > 0 for k in ("A", "B", "C", "Z"))
    assert all(counts["trajectory"][k] > 0 for k in ("growth", "shrinking", "bell", "cyclic", "stable"))
    assert counts["burr"] > 0
    assert all(counts["abc_class"][k] > 0 for k in ("A", "B", "C"))


def test_a_large_run_goes_through_a_job(app, as_role, segmented, monkeypatch):
    import app.segments.views as views

    monkeypatch.setitem(app.config, "JOBS_SYNCHRONOUS", True)
    monkeypatch.setattr(views, "BACKGROUND_CUSTOMERS", 10)
    client = as_role("manager")
    form = client.get("/segments/run").get_data(as_text=True)
    start = re.search(r'name="window_start"[^>]*value="([^"]+)"', form).group(1)
    end = re.search(r'name="window_end"[^>]*value="([^"]+)"', form).group(1)
    response = client.post("/segments/run", data={"window_start": start, "window_end": end, "abc_a": "80",
                                                  "abc_b": "95", "trajectory_value": "revenue"})
    assert response.status_code == 303 and "/jobs/" in response.headers["Location"]
    done = client.get(response.headers["Location"])
    assert done.status_code == 302 and done.headers["Location"].endswith("/segments/")
    from app.segments.models import SegmentationRun

    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(SegmentationRun.id))) == 2
        db.session.remove()


def test_overview_and_list_in_german_use_the_users_words(as_role, segmented):
    client = as_role("manager")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    html = client.get("/segments/").get_data(as_text=True)
    for word in ("Zeitfresser", "Cash-Cows", "Betreuungsstrategie je Segment", "Quersubventionierung", "Kletten"):
        assert word in html, word
    listing = client.get("/customers/?burr=1").get_data(as_text=True)
    assert "Klette" in listing and "Kundennr." in listing


def test_checklist_with_an_overlong_note_saves_nothing_and_says_why(app, as_role, segmented):
    from app.segments.models import ChecklistEntry

    client = as_role("manager")
    url = f"/customers/{segmented['star_id']}/checklist"
    response = client.post(url, data={"trait_wants_solution": "y", "note": "x" * 2001})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The checklist was not saved" in page and "2000" in page
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ChecklistEntry.id))) == 0
        db.session.remove()


def _list_numbers(client, query: str) -> list[str]:
    """Every customer number the list shows for ``query``, page by page."""
    numbers, url = [], f"/customers/?{query}"
    for _page in range(1000):  # the pages carry keyset cursors: follow the Next link, bounded
        html = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
        numbers += re.findall(r'<a href="/customers/\d+">(\d+)</a>', html)
        following = re.search(r'<a href="([^"]+)"[^>]*rel="next"', html)
        if following is None:
            return numbers
        url = following.group(1).replace("&amp;", "&")
    raise AssertionError("the list never ends")


def test_customer_list_export_is_what_the_list_shows(as_role, segmented):
    import csv

    from openpyxl import load_workbook

    client = as_role("manager")
    query = "segment=star&sort=revenue&dir=asc"
    listed = _list_numbers(client, query)
    assert len(listed) > 50, "more than one page"
    html = client.get(f"/customers/?{query}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "/customers/export.csv?segment=star&amp;sort=revenue&amp;dir=asc" in html
    data = client.get(f"/customers/export.csv?{query}").data
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=","))
    assert [row["Customer no."] for row in rows] == listed
    assert {row["Potential segment"] for row in rows} == {"Stars"}
    revenues = [float(row["Revenue (€)"]) for row in rows]
    assert revenues == sorted(revenues)
    sheet = load_workbook(io.BytesIO(client.get(f"/customers/export.xlsx?{query}").data)).active
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == listed
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    since = sheet.cell(2, 3)
    assert sheet.cell(1, 3).value == "Customer since" and since.is_date and since.number_format == "YYYY-MM-DD"
    assert sheet.cell(1, 9).value == "Revenue (€)"
    assert sheet.cell(2, 9).data_type == "n" and sheet.cell(2, 9).number_format == "#,##0.00"
    # a search narrows the export like the list
    searched = list(csv.DictReader(io.StringIO(client.get("/customers/export.csv?q=004711").data.decode("utf-8-sig"))))
    assert [row["Customer no."] for row in searched] == ["004711"]
    assert client.get("/customers/export.pdf").status_code == 404


def test_customer_list_export_for_service_staff_has_no_money(as_role, segmented):
    client = as_role("service")
    client.post("/language", data={"lang": "de", "next": "/"})
    csv_text = client.get("/customers/export.csv?sort=revenue").data.decode("utf-8-sig")
    header = csv_text.splitlines()[0].split(";")
    assert header == ["Kundennr.", "Name", "Kunde seit", "ABC-Klasse", "Potenzialsegment", "Ertragsstufe", "Verlauf",
                      "Klette"]
    assert len(csv_text.splitlines()) == segmented["customers"] + 1
    assert "€" not in csv_text
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(client.get("/customers/export.xlsx").data)).active
    assert [cell.value for cell in sheet[1]] == header


def _second_run(client) -> None:
    form = client.get("/segments/run").get_data(as_text=True)
    start = re.search(r'name="window_start"[^>]*value="([^"]+)"', form).group(1)
    end = re.search(r'name="window_end"[^>]*value="([^"]+)"', form).group(1)
    response = client.post("/segments/run", data={"window_start": start, "window_end": end, "abc_a": "70",
                                                  "abc_b": "90", "trajectory_value": "revenue"})
    assert response.status_code == 303


def _all_pages(client, url: str) -> list[str]:
    numbers = []
    while url:
        html = client.get(url).get_data(as_text=True)
        numbers += re.findall(r'<a href="/customers/\d+">(\d+)</a>', html)
        following = re.search(r'<a href="([^"]+)" rel="next"', html)
        url = following.group(1).replace("&amp;", "&") if following else None
    return numbers


def test_every_transition_cell_opens_the_customers_who_moved_that_way(app, as_role, segmented):
    from app.segments.models import Customer, CustomerSegment, SegmentationRun

    client = as_role("leadership")
    _second_run(as_role("manager"))
    with app.app_context():
        first, second = db.session.scalars(db.select(SegmentationRun.id).order_by(SegmentationRun.id)).all()
        db.session.remove()
    compare = client.get(f"/segments/compare?a={first}&b={second}&dimension=abc_class").get_data(as_text=True)
    links = re.findall(r'data-from="(\w+)" data-to="(\w+)"><a href="([^"]+)"[^>]*>([\d,]+)</a>', compare)
    assert len(links) >= 4 and ("A", "B") in {(a, b) for a, b, _, _ in links}
    for before, after, url, count in links:
        numbers = _all_pages(client, url.replace("&amp;", "&"))
        assert len(numbers) == int(count.replace(",", "")), (before, after)
        with app.app_context():
            a, b = db.aliased(CustomerSegment), db.aliased(CustomerSegment)
            expected = set(db.session.scalars(
                db.select(Customer.customer_no).join(a, a.customer_id == Customer.id)
                .join(b, b.customer_id == Customer.id)
                .where(a.run_id == first, b.run_id == second, a.abc_class == before, b.abc_class == after)))
            db.session.remove()
        assert set(numbers) == expected, (before, after)
    for bad in ("dimension=nonsense&key=A", "dimension=abc_class&key=Q", "dimension=abc_class&key=A&then=999999&to=A",
                f"dimension=abc_class&key=A&then={second}&to=nonsense"):
        assert client.get(f"/segments/runs/{first}/customers?{bad}").status_code == 404, bad
    assert client.get(f"/segments/runs/{first}/customers?dimension=abc_class&key=A&page=x").status_code == 200
    for then in ("99999999999999999999999", "2147483648", "-5", "x"):  # no such run: the class alone, never a 500
        response = client.get(f"/segments/runs/{first}/customers?dimension=abc_class&key=A&then={then}&to=A")
        assert response.status_code in (200, 404), then
    mangled = client.get(f"/segments/runs/{first}/customers?dimension=abc_class&key=A&after=%25%25&before=x&last=zz")
    assert mangled.status_code == 200 and "That page link could not be read" in mangled.get_data(as_text=True)
    assert as_role("service").get(f"/segments/runs/{first}/customers?dimension=abc_class&key=A").status_code == 403


def test_the_run_history_opens_any_run_with_its_parameters_and_counts(app, as_role, segmented):
    from app.segments.models import SegmentationRun

    manager = as_role("manager")
    _second_run(manager)
    with app.app_context():
        first, second = db.session.scalars(db.select(SegmentationRun).order_by(SegmentationRun.id)).all()
        expected = {run.id: (run.window_start, run.window_end, run.summary["counts"]) for run in (first, second)}
        db.session.remove()
    history = as_role("leadership").get("/segments/runs").get_data(as_text=True)
    for run_id in expected:
        assert f'href="/segments/runs/{run_id}"' in history
    page = as_role("leadership").get(f"/segments/runs/{first.id}").get_data(as_text=True)
    start, end, counts = expected[first.id]
    assert f'data-figure="window">{start} – {end}<' in page
    assert 'data-figure="abc">A 80.0 %, B 95.0 %<' in page and 'data-figure="by">Manager<' in page
    later = as_role("leadership").get(f"/segments/runs/{second.id}").get_data(as_text=True)
    assert 'data-figure="abc">A 70.0 %, B 90.0 %<' in later
    section = page[page.find('data-dimension="abc_class"'):]
    link = re.search(r'data-key="A"><a href="([^"]+)">([\d,]+)</a>', section)
    assert int(link.group(2).replace(",", "")) == counts["abc_class"]["A"]
    assert len(_all_pages(as_role("manager"), link.group(1).replace("&amp;", "&"))) == counts["abc_class"]["A"]
    assert as_role("service").get(f"/segments/runs/{first.id}").status_code == 403
    assert as_role("leadership").get("/segments/runs/999999").status_code == 404


@pytest.mark.parametrize("dimension", ["abc_class", "trajectory", "potential_segment"])
def test_a_class_of_a_run_pages_through_exactly_its_customers(app, as_role, segmented, monkeypatch, dimension):
    """Keyset pages (Next to the end, then Previous back from Last): every customer of the class once,
    the count read from the run's kept class counts; the customers without a class ("—") too."""
    from app.segments import views
    from app.segments.models import Customer, CustomerSegment, SegmentationRun

    monkeypatch.setattr(views, "PAGE_SIZE", 7)
    client = as_role("manager")
    with app.app_context():
        run_id = db.session.scalar(db.select(SegmentationRun.id))
        keys = db.session.execute(db.select(getattr(CustomerSegment, dimension), db.func.count())
                                  .where(CustomerSegment.run_id == run_id)
                                  .group_by(getattr(CustomerSegment, dimension))).all()
        db.session.remove()
    for key, count in keys:
        url = f"/segments/runs/{run_id}/customers?dimension={dimension}&key={'—' if key is None else key}"
        html = client.get(url).get_data(as_text=True)
        assert f"{count:,} customers in run" in html, (key, count)
        numbers = _all_pages(client, url)
        with app.app_context():
            column = getattr(CustomerSegment, dimension)
            expected = set(db.session.scalars(db.select(Customer.customer_no).join(
                CustomerSegment, CustomerSegment.customer_id == Customer.id).where(
                CustomerSegment.run_id == run_id, column.is_(None) if key is None else column == key)))
            db.session.remove()
        assert len(numbers) == len(set(numbers)) == count and set(numbers) == expected, key
        last = re.search(r'<a href="([^"]+)" rel="last"', html)
        if last:
            back, url = [], last.group(1).replace("&amp;", "&")
            while url:
                page = client.get(url).get_data(as_text=True)
                back = re.findall(r'<a href="/customers/\d+">(\d+)</a>', page) + back
                previous = re.search(r'<a href="([^"]+)" rel="prev"', page)
                url = previous.group(1).replace("&amp;", "&") if previous else None
            assert back == numbers, key


def test_the_transition_matrix_is_counted_once_per_pair_of_runs(app, as_role, segmented, monkeypatch):
    """Two stored runs never change: the compare page counts their transitions once per pair and
    dimension (kept in figure_cache) and shows the same matrix from then on."""
    from app.segments import runs
    from app.segments.models import SegmentationRun

    client = as_role("manager")
    _second_run(client)
    with app.app_context():
        first, second = db.session.scalars(db.select(SegmentationRun.id).order_by(SegmentationRun.id)).all()
        fresh = runs.transition_matrix(first, second, "abc_class")
        db.session.remove()
    counted = []
    original = runs.transition_counts
    monkeypatch.setattr(runs, "transition_counts", lambda *args: counted.append(args) or original(*args))
    url = f"/segments/compare?a={first}&b={second}&dimension=abc_class"
    pages = [client.get(url).get_data(as_text=True) for _ in range(3)]
    matrices = [re.findall(r'data-from="(\w+)" data-to="(\w+)"><a href="[^"]+"[^>]*>([\d,]+)</a>', page)
                for page in pages]
    assert len(counted) == 1 and matrices[0] == matrices[1] == matrices[2] and pages[1] == pages[2]
    cells = matrices[0]
    assert {(a, b): int(n.replace(",", "")) for a, b, n in cells} == {
        (a, b): int(fresh.at[a, b]) for a in fresh.index for b in fresh.columns if fresh.at[a, b]}
    client.get(f"/segments/compare?a={first}&b={second}&dimension=trajectory")
    assert len(counted) == 2
