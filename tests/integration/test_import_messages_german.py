"""The after-sales and observation imports name file and column problems in the UI language."""
from __future__ import annotations

import io

import pytest

from tests.integration.audit_fixtures import build_world


@pytest.fixture
def german_manager(as_role):
    client = as_role("manager")
    client.post("/language", data={"lang": "de", "next": "/"})
    return client


def upload(client, url: str, data: bytes, name: str):
    return client.post(url, data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_after_sales_import_problems_in_german(german_manager):
    page = upload(german_manager, "/after-sales/import", b"Kundennummer;Datum;Wiederkauf\n004711;2025-01-01;ja\n",
                  "outcomes.csv")
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "Die Pflichtspalte &#39;sale_satisfaction&#39; fehlt" in html
    assert "Required column" not in html
    mixed = "Kundennummer;Datum\n004711;Müller\n".encode() + "004712;Jäger\n".encode("cp1252")
    html = upload(german_manager, "/after-sales/import", mixed, "outcomes.csv").get_data(as_text=True)
    assert "Zeile 3 ist die erste in Windows-1252" in html


def test_observation_import_problems_in_german(app, users, german_manager):
    world = build_world(app, users)
    url = f"/audits/{world.audit_id}/import"
    html = upload(german_manager, url, b"touchpoint;metric\nhotline;wait\n", "obs.csv").get_data(as_text=True)
    assert "Die Pflichtspalte &#39;value&#39; fehlt" in html
    assert "Required column" not in html
    html = upload(german_manager, url, b"x", "obs.xls").get_data(as_text=True)
    assert "Das ist eine alte Excel-Datei (.xls)" in html
    assert "old Excel" not in html
