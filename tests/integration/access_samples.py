"""Sample records for the role × URL walk: one real id per URL parameter name."""
from __future__ import annotations


def make_samples(app, users) -> dict[str, object]:
    """Create what the URL rules point at and return {parameter name: value}."""
    values: dict[str, object] = {"user_id": users["service"].id, "filename": "css/app.css"}
    return values
