"""Property: whatever clean values a German CSV carries, the import stores exactly them, and again is a no-op."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.extensions import db

customer_numbers = st.from_regex(r"0[0-9]{2,6}", fullmatch=True)
periods = st.sampled_from([f"{y}-{m:02d}" for y in (2023, 2024) for m in range(1, 13)])
amounts = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False, allow_infinity=False)
rows = st.dictionaries(st.tuples(customer_numbers, periods), amounts, min_size=1, max_size=30)


def german(amount) -> str:
    return f"{amount:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=rows)
def test_imported_values_equal_the_file(app, values):
    from app.segments.importing import check_upload, import_customer_values
    from app.segments.models import Customer, CustomerValue

    text = "Kundennummer;Periode;Umsatz\n" + "".join(
        f"{number};{period};{german(amount)}\n" for (number, period), amount in values.items())
    with app.app_context():
        try:
            check = check_upload(text.encode("cp1252"), "werte.csv")
            assert check.ok, [p.message for p in check.problems]
            import_customer_values(check)
            stored = {
                (number, period): revenue for number, period, revenue in db.session.execute(
                    db.select(Customer.customer_no, CustomerValue.period, CustomerValue.revenue)
                    .join(Customer, Customer.id == CustomerValue.customer_id)).all()
            }
            assert stored == {key: float(amount) for key, amount in values.items()}
            again = import_customer_values(check_upload(text.encode("cp1252"), "werte.csv"))
            assert again["values_new"] == 0 and again["values_changed"] == 0
        finally:
            db.session.rollback()
            db.session.execute(db.delete(CustomerValue))
            db.session.execute(db.delete(Customer))
            from app.segments.models import ImportLog

            db.session.execute(db.delete(ImportLog))
            db.session.commit()
            db.session.remove()
