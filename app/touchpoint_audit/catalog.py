"""The default touchpoint catalog (offer, renewal, hotline, inside sales, after-sales …), as data."""
from __future__ import annotations

from app.extensions import db
from app.touchpoint_audit.channels import seed_channels
from app.touchpoint_audit.models import Metric, Touchpoint

# Each metric: key, German and English name, unit, direction (which way is
# better for the customer), allowed range, whether it is a price (for the
# ENBP-style case check) and whether a product key is needed for like-for-like.
DEFAULT_CATALOG = [
    {
        "key": "offer", "name_de": "Angebot / Preis", "name_en": "Offer / price",
        "metrics": [
            {"key": "price", "name_de": "Angebotspreis", "name_en": "Offer price", "unit": "eur",
             "direction": "lower", "min": 0, "max": None, "is_price": True, "needs_product_key": True},
            {"key": "discount", "name_de": "Rabatt", "name_en": "Discount", "unit": "percent",
             "direction": "higher", "min": 0, "max": 100},
        ],
    },
    {
        "key": "renewal", "name_de": "Vertragsverlängerung", "name_en": "Contract renewal",
        "metrics": [
            {"key": "price", "name_de": "Verlängerungspreis", "name_en": "Renewal price", "unit": "eur",
             "direction": "lower", "min": 0, "max": None, "is_price": True, "needs_product_key": True},
        ],
    },
    {
        "key": "hotline", "name_de": "Hotline", "name_en": "Hotline",
        "metrics": [
            {"key": "wait", "name_de": "Wartezeit", "name_en": "Waiting time", "unit": "seconds",
             "direction": "lower", "min": 0, "max": 86400},
            {"key": "resolved", "name_de": "Beim ersten Anruf gelöst", "name_en": "Resolved on first call",
             "unit": "boolean", "direction": "higher", "min": 0, "max": 1},
        ],
    },
    {
        "key": "inside_sales", "name_de": "Innendienst", "name_en": "Inside sales",
        "metrics": [
            {"key": "care_rating", "name_de": "Betreuungsqualität (1–5)", "name_en": "Care rating (1–5)",
             "unit": "rating", "direction": "higher", "min": 1, "max": 5},
            {"key": "response_time", "name_de": "Antwortzeit", "name_en": "Response time", "unit": "hours",
             "direction": "lower", "min": 0, "max": 2000},
        ],
    },
    {
        "key": "after_sales", "name_de": "After-Sales-Service", "name_en": "After-sales service",
        "metrics": [
            {"key": "satisfaction", "name_de": "Zufriedenheit (1–5)", "name_en": "Satisfaction (1–5)",
             "unit": "rating", "direction": "higher", "min": 1, "max": 5},
            {"key": "resolved", "name_de": "Anliegen gelöst", "name_en": "Issue resolved",
             "unit": "boolean", "direction": "higher", "min": 0, "max": 1},
        ],
    },
    {
        "key": "new_customer_bonus", "name_de": "Neukundenbonus / Aktionen", "name_en": "New-customer bonus / promotions",
        "metrics": [
            {"key": "bonus", "name_de": "Bonus", "name_en": "Bonus", "unit": "eur",
             "direction": "higher", "min": 0, "max": None},
        ],
    },
]


def seed_catalog() -> int:
    """Insert the catalog's missing touchpoints and metrics, and the default channels whose key is
    missing; returns how many metrics were added."""

    seed_channels()
    added = 0
    existing = {tp.key: tp for tp in db.session.scalars(db.select(Touchpoint))}
    for position, spec in enumerate(DEFAULT_CATALOG):
        touchpoint = existing.get(spec["key"])
        if touchpoint is None:
            touchpoint = Touchpoint(key=spec["key"], name_de=spec["name_de"], name_en=spec["name_en"],
                                    position=position)
            db.session.add(touchpoint)
        have = {m.key for m in touchpoint.metrics}
        for mpos, m in enumerate(spec["metrics"]):
            if m["key"] in have:
                continue
            touchpoint.metrics.append(Metric(
                key=m["key"], name_de=m["name_de"], name_en=m["name_en"], unit=m["unit"],
                direction=m["direction"], min_value=m.get("min"), max_value=m.get("max"),
                is_price=m.get("is_price", False), needs_product_key=m.get("needs_product_key", False),
                position=mpos,
            ))
            added += 1
    db.session.flush()
    return added
