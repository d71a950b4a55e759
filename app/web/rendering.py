"""One URL, two renderings: the full page, or one named block for htmx."""
from __future__ import annotations

from flask import make_response, render_template
from flask_htmx import make_response as htmx_response  # noqa: F401  (re-exported)
from jinja2_fragments.flask import render_block

from app.extensions import htmx


def wants_fragment() -> bool:
    """A non-boosted htmx request asks for the fragment, anything else the page."""
    return bool(htmx) and not htmx.boosted


def render(template: str, block: str = "content", status: int = 200, **context):
    """Render the page, or only ``block`` of it for a non-boosted htmx request."""
    if wants_fragment():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response
