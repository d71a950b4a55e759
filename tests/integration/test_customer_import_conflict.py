"""A concurrent import that wrote the same customers first: the write is redone once, else refused cleanly."""
from __future__ import annotations

import pytest

from app.extensions import db

CSV = "Kundennummer;Periode;Umsatz\n00123;2024-01;10,00\n00123;2024-02;20,00\n".encode()


def counts():
    from app.segments.models import Customer, CustomerValue

    return (db.session.scalar(db.select(db.func.count(Customer.id))),
            db.session.scalar(db.select(db.func.count(CustomerValue.id))))


def stale_plans(monkeypatch, times):
    """Make the first ``times`` comparisons miss a customer that another import inserts right after."""
    import app.segments.importing as customer_import

    plan_import = customer_import.plan_import
    calls = []

    def plan_then_competitor(frame):
        plan = plan_import(frame)
        calls.append(plan)
        if len(calls) <= times:
            db.session.connection().exec_driver_sql(
                "INSERT INTO customers (customer_no, name, created_at) VALUES ('00123', 'x', '2024-01-01 00:00:00')")
        return plan

    monkeypatch.setattr(customer_import, "plan_import", plan_then_competitor)
    return calls


def test_a_collision_is_written_again_against_the_new_state(app, monkeypatch):
    from app.segments.importing import check_upload, import_customer_values

    with app.app_context():
        check = check_upload(CSV, "werte.csv")
        calls = stale_plans(monkeypatch, times=1)
        result = import_customer_values(check)
        assert len(calls) == 2 and result["values_new"] == 2
        assert counts() == (1, 2)
        db.session.remove()


def test_a_second_collision_writes_nothing_and_says_why(app, monkeypatch):
    from app.segments.importing import ImportConflict, check_upload, import_customer_values

    with app.app_context():
        check = check_upload(CSV, "werte.csv")
        stale_plans(monkeypatch, times=2)
        with pytest.raises(ImportConflict, match="Another import wrote values for the same customers"):
            import_customer_values(check)
        assert counts() == (0, 0)
        db.session.remove()


@pytest.mark.parametrize("language, text", [
    ("en", "Another import wrote values for the same customers at the same time"),
    ("de", "Ein anderer Import hat gleichzeitig Werte derselben Kunden geschrieben"),
])
def test_the_confirm_page_says_so_in_the_users_language(app, as_role, monkeypatch, language, text):
    from tests.integration.test_segments_import import confirm_url, upload

    client = as_role("manager")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    html = upload(client, CSV).get_data(as_text=True)
    stale_plans(monkeypatch, times=2)
    done = client.post(confirm_url(html), follow_redirects=True)
    assert done.status_code == 200 and text in done.get_data(as_text=True)
    with app.app_context():
        assert counts() == (0, 0)
        db.session.remove()
