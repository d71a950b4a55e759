"""Every import's preview shows the column mapping (your header → our field) and the first rows as read,
numbers and dates in the user's format, before anything is written."""
from __future__ import annotations

import html as markup
import io
import re

from app.extensions import db
from tests.integration.audit_fixtures import build_world, count_observations


def _post(client, url, text, name="datei.csv"):
    return client.post(url, data={"file": (io.BytesIO(text.encode("utf-8")), name)}, content_type="multipart/form-data")


def _table(html: str, kind: str) -> list[list[str]]:
    """The cells of a preview table (mapping or rows), header row first."""
    table = re.search(rf'<table class="data" data-preview="{kind}">(.*?)</table>', html, flags=re.S)
    assert table, f"no {kind} table in the preview"
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1), flags=re.S)
    return [[markup.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)] for row in rows]


def test_customer_value_preview_shows_mapping_and_first_rows_in_german(app, as_role):
    client = as_role("manager")
    client.post("/language", data={"lang": "de"})
    text = ("Kundennummer;Kunde seit;Periode;Umsatz;Außenumsatz\n"
            "0070001;01.02.2015;2024-01;1.234,5;50.000,00\n0070001;01.02.2015;2024-02;1000;50.000,00\n")
    html = _post(client, "/customers/import", text).get_data(as_text=True)
    assert _table(html, "mapping")[1:] == [["Kundennummer", "customer_id"], ["Kunde seit", "customer_since"],
                                           ["Periode", "period"], ["Umsatz", "revenue"], ["Außenumsatz", "potential"]]
    rows = _table(html, "rows")
    assert rows[0] == ["Zeile", "customer_id", "customer_since", "period", "revenue", "potential"]
    assert rows[1] == ["2", "0070001", "01.02.2015", "2024-01", "1.234,50", "50.000,00"]
    assert len(rows) == 3
    from app.segments.models import Customer

    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Customer.id))) == 0  # nothing written yet
        db.session.remove()


def test_wide_customer_file_maps_period_columns_to_revenue(app, as_role):
    html = _post(as_role("manager"), "/customers/import", "Kundennummer;2024-01;2024-02\n0001;10;20\n").get_data(
        as_text=True)
    assert ["2024-01", "revenue 2024-01"] in _table(html, "mapping")


def test_observation_preview_shows_mapping_and_first_rows(app, as_role, users):
    world = build_world(app, users)
    client = as_role("manager")
    text = ("Kontaktpunkt;Kennzahl;Wert;Kundenstatus;Kundennummer;Kanal;Datum\n"
            "hotline;wait;1234,5;Bestandskunde;004711;Telefon;15.11.2026\n")
    html = _post(client, f"/audits/{world.audit_id}/import", text).get_data(as_text=True)
    mapping = _table(html, "mapping")
    assert ["Kontaktpunkt", "touchpoint"] in mapping and ["Kanal", "channel"] in mapping
    rows = _table(html, "rows")
    assert rows[0] == ["Row", "touchpoint", "metric", "value", "customer_status", "customer_id", "channel",
                       "observed_at"]
    assert rows[1] == ["2", "Hotline", "Waiting time", "1,234.50", "existing customer", "004711", "phone",
                       "2026-11-15"]
    assert count_observations(app) == 0


def test_after_sales_preview_shows_mapping_and_first_rows(app, as_role):
    from app.segments.models import Customer

    with app.app_context():
        db.session.add(Customer(customer_no="004711", name="Kunde"))
        db.session.commit()
        db.session.remove()
    text = "Kundennummer;Datum;Zufriedenheit Verkauf;Zufriedenheit After-Sales;Wiederkauf\n004711;15.03.2025;5;ja;ja\n"
    html = _post(as_role("manager"), "/after-sales/import", text).get_data(as_text=True)
    assert ["Kundennummer", "customer_id"] in _table(html, "mapping")
    rows = _table(html, "rows")
    assert rows[1] == ["2", "004711", "2025-03-15", "5", "yes", "yes"]
