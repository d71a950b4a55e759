"""One URL, two renderings: the full page, or one named block for htmx."""
from __future__ import annotations

from functools import lru_cache

from flask import current_app, make_response, render_template
from flask_htmx import make_response as htmx_response  # noqa: F401  (re-exported)
from jinja2 import nodes
from jinja2_fragments.flask import render_block

from app.extensions import htmx


def wants_fragment() -> bool:
    """A non-boosted htmx request asks for the fragment, anything else the page."""
    return bool(htmx) and not htmx.boosted


@lru_cache(maxsize=256)
def _top_level_imports(template: str) -> tuple[tuple[str, tuple[tuple[str, str], ...] | str, bool], ...]:
    """The ``{% from … import … %}`` and ``{% import … as … %}`` outside any block of ``template``.

    Rendering a block alone skips the template's top level, so the macros imported
    there would be undefined in the fragment.
    """
    env = current_app.jinja_env
    source, _filename, _uptodate = env.loader.get_source(env, template)
    found = []
    for node in env.parse(source).body:
        if isinstance(node, nodes.FromImport) and isinstance(node.template, nodes.Const):
            names = tuple((n, n) if isinstance(n, str) else (n[0], n[1]) for n in node.names)
            found.append((node.template.value, names, node.with_context))
        elif isinstance(node, nodes.Import) and isinstance(node.template, nodes.Const):
            found.append((node.template.value, node.target, node.with_context))
    return tuple(found)


def _imported_names(template: str, context: dict) -> dict:
    """The names the top-level imports of ``template`` would define, for a block rendered alone."""
    names = {}
    for source, targets, with_context in _top_level_imports(template):
        if with_context:
            full = dict(context)
            current_app.update_template_context(full)
            module = current_app.jinja_env.get_template(source).make_module(full)
        else:
            module = current_app.jinja_env.get_template(source).module
        if isinstance(targets, str):
            names[targets] = module
        else:
            names.update({alias: getattr(module, name) for name, alias in targets})
    return names


def render(template: str, block: str = "content", status: int = 200, **context):
    """Render the page, or only ``block`` of it for a non-boosted htmx request."""
    if wants_fragment():
        body = render_block(template, block, **{**_imported_names(template, context), **context})
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response
