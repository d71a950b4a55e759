"""The customer search ignores case, accents and the written-out umlaut, on SQLite and PostgreSQL alike."""
from __future__ import annotations

import io
import re

import pytest

from app.extensions import db
from app.segments.search import fold

CUSTOMER_FILE = (
    "Kundennummer;Name;Periode;Umsatz\n"
    "0070001;Müller Haustechnik GmbH;2024-01;100,00\n"
    "0070002;MUELLER & Söhne KG;2024-01;200,00\n"
    "0070003;Muller Bau;2024-01;300,00\n"
    "0070004;Straßenbau Öztürk;2024-01;400,00\n"
    "0070005;Schmidt Logistik;2024-01;500,00\n"
    "0070006;Feuerwehrbedarf Bauer;2024-01;600,00\n"
).encode("utf-8")


@pytest.mark.parametrize("text, key", [
    ("Müller", "muller"), ("MÜLLER", "muller"), ("Muller", "muller"), ("Mueller", "muller"),
    ("MUELLER", "muller"), ("Straße", "strasse"), ("STRASSE", "strasse"), ("Bäcker", "backer"),
    ("Baecker", "backer"), ("Öztürk", "ozturk"), ("Oeztuerk", "ozturk"), ("José  García", "jose garcia"),
    # a vowel pair of its own is kept: eu, au, qu
    ("Feuer", "feuer"), ("Bauer", "bauer"), ("Quelle", "quelle"), ("", ""), (None, ""),
])
def test_fold(text, key):
    assert fold(text) == key


def _numbers(html: str) -> set[str]:
    return set(re.findall(r'<a href="/customers/\d+">(\d+)</a>', html))


def _import(client) -> None:
    page = client.post("/customers/import", data={"file": (io.BytesIO(CUSTOMER_FILE), "kunden.csv")},
                       content_type="multipart/form-data")
    action = re.search(r'action="(/customers/import/[^"]+)"', page.get_data(as_text=True)).group(1)
    assert client.post(action).status_code == 303


def test_search_finds_mueller_however_it_is_written(as_role):
    client = as_role("manager")
    _import(client)
    muellers = {"0070001", "0070002", "0070003"}
    for term in ("müller", "MÜLLER", "Muller", "Mueller", "mueller", "MULLER", "mül"):
        html = client.get(f"/customers/?q={term}", headers={"HX-Request": "true"}).get_data(as_text=True)
        assert _numbers(html) == muellers, term
    for term, expected in (("strasse", {"0070004"}), ("STRASSENBAU oztürk", {"0070004"}),
                           ("oeztuerk", {"0070004"}), ("70005", {"0070005"}), ("0070006", {"0070006"}),
                           ("feuer", {"0070006"}), ("bauer", {"0070006"}), ("50%", set()), ("_", set())):
        html = client.get("/customers/", query_string={"q": term},
                          headers={"HX-Request": "true"}).get_data(as_text=True)
        assert _numbers(html) == expected, term


def test_the_key_follows_a_name_changed_by_import_or_by_the_orm(app, as_role):
    from app.segments.models import Customer

    client = as_role("manager")
    _import(client)
    renamed = CUSTOMER_FILE.replace("Schmidt Logistik".encode(), "Schröder Logistik".encode())
    page = client.post("/customers/import", data={"file": (io.BytesIO(renamed), "kunden.csv")},
                       content_type="multipart/form-data")
    client.post(re.search(r'action="(/customers/import/[^"]+)"', page.get_data(as_text=True)).group(1))
    with app.app_context():
        stored = db.session.scalar(db.select(Customer).where(Customer.customer_no == "0070005"))
        assert stored.search_key == "0070005 schroder logistik"
        stored.name = "Weiß GmbH"
        db.session.add(Customer(customer_no="0070099", name="Gärtnerei Köhler"))
        db.session.execute(db.insert(Customer), [{"customer_no": "0070100", "name": "Ärzte-Bedarf"}])
        db.session.commit()
        db.session.remove()
    for term, expected in (("schroeder", set()), ("WEISS", {"0070005"}), ("koehler", {"0070099"}),
                           ("aerzte", {"0070100"})):
        html = client.get("/customers/", query_string={"q": term},
                          headers={"HX-Request": "true"}).get_data(as_text=True)
        assert _numbers(html) == expected, term


def test_the_list_export_follows_the_search_before_any_run(as_role):
    client = as_role("manager")
    _import(client)
    response = client.get("/customers/export.csv", query_string={"q": "Mueller"})
    assert response.status_code == 200
    lines = response.data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Customer no.,Name,Customer since,ABC class")
    assert sorted(line.split(",")[0] for line in lines[1:]) == ["0070001", "0070002", "0070003"]
    assert all(line.split(",")[3:8] == ["", "", "", "", ""] for line in lines[1:])  # no classes yet


NAMES = ("Müller", "MUELLER & Söhne", "Straßenbau Öztürk", "Feuer Bauer", "José García", "50% Rabatt_GmbH",
         'Der "Laden"', "Weiß\\Schwarz", "Ab", "Quelle Kühne", "Bäckerei Baecker")
TERMS = ("mul", "mu", "m", "muller", "bau", "strasse", "ozturk", "50%", "_", "ab", "garcia",
         '"laden"', "weiss\\sch", "kuhne", "back", "ller ", "zzz", "0000")


def test_the_trigram_search_finds_exactly_what_like_finds(app):
    """With the trigram index (FTS5 on SQLite, pg_trgm on PostgreSQL) the search returns the same
    customers as a LIKE over every key: short terms, LIKE's own characters, quotes, backslashes."""
    from app.segments.analysis import search_filter
    from app.segments.models import Customer
    from app.segments.search import like_pattern

    with app.app_context():
        db.session.execute(db.insert(Customer), [
            {"customer_no": f"{n:07d}", "name": f"{NAMES[n % len(NAMES)]} {n}"} for n in range(1, 400)])
        db.session.commit()
        Customer.query.filter(Customer.customer_no == "0000007").one().name = "Umbenannt Köhler"
        db.session.execute(db.delete(Customer).where(Customer.customer_no == "0000008"))
        db.session.commit()
        for term in TERMS:
            folded = fold(term)
            indexed = set(db.session.scalars(db.select(Customer.customer_no).where(*search_filter(folded))))
            plain = {number for number, key in db.session.execute(db.select(Customer.customer_no, Customer.search_key))
                     if folded in key}
            assert indexed == plain, term
            like = set(db.session.scalars(db.select(Customer.customer_no).where(
                Customer.search_key.like(like_pattern(folded), escape="\\"))))
            assert like == plain, term
        assert set(db.session.scalars(db.select(Customer.customer_no).where(*search_filter("kohler")))) == {"0000007"}
        assert not db.session.scalars(db.select(Customer.customer_no).where(*search_filter("0000008"))).all()
