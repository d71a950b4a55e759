"""The layout's arrows: no import cycle, pure cores, a shell that knows no area.

Every import counts, function-local ones included (they are found by walking the whole
syntax tree, not only the module's top level).
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "audits", "segmentation", "tabular")
CORES = ("audits", "segmentation", "tabular")
AREAS = ("accounts", "overview", "segments", "touchpoint_audit", "aftersales", "reports", "api")
# What one area may use of another: its tables, its loaders (rows -> frames), its vocabulary
# (segment kinds, labels), its analysis (what the report and the start pages show), and its
# rules and actions (the record rules and changes a second way in, the HTTP API, must apply
# exactly as the pages do: the observation row rule, who sees and logs into a round, a
# finding's logged change).
PUBLIC_OF_AN_AREA = ("models", "loaders", "kinds", "labels", "analysis", "rules", "actions")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found[module_name(path)] = path
    return found


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Every module (of ours or not) that ``name`` imports anywhere in its body."""
    is_package = path.name == "__init__.py"
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                out.add(candidate if candidate in known else base)
    return out


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def test_no_import_cycle():
    edges = {name: {t for t in targets if t in graph_ and t != name}
             for graph_ in [graph()] for name, targets in graph_.items()}
    index, low, stack, on_stack, cycles, counter = {}, {}, [], set(), [], [0]

    def visit(node):  # Tarjan's strongly connected components
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in edges:
        if node not in index:
            visit(node)
    assert not cycles, cycles


def test_the_cores_know_no_web_framework_database_or_app():
    forbidden = ("flask", "flask_", "sqlalchemy", "app", "werkzeug", "jinja2")
    wrong = [f"{name} imports {target}" for name, targets in graph().items() if name.split(".")[0] in CORES
             for target in targets if target == "app" or target.split(".")[0] in forbidden
             or target.startswith("flask_")]
    assert not wrong, wrong


def test_the_shell_knows_no_area():
    wrong = [f"{name} imports {target}" for name, targets in graph().items() if name.startswith("app.web")
             for target in targets if target.split(".")[:2][-1] in AREAS and target.startswith("app.")]
    assert not wrong, wrong


def test_an_area_uses_another_only_through_its_public_modules():
    wrong = []
    for name, targets in graph().items():
        parts = name.split(".")
        if parts[0] != "app" or len(parts) < 3 or parts[1] not in AREAS:
            continue
        for target in targets:
            tparts = target.split(".")
            if tparts[0] == "app" and len(tparts) >= 2 and tparts[1] in AREAS and tparts[1] != parts[1]:
                if len(tparts) < 3 or tparts[2] not in PUBLIC_OF_AN_AREA:
                    wrong.append(f"{name} imports {target}")
    assert not wrong, "\n".join(sorted(wrong))


def test_app_holds_few_plain_modules():
    plain = sorted(p.name for p in (ROOT / "app").glob("*.py"))
    besides = [name for name in plain if name not in ("__init__.py", "extensions.py", "models.py")]
    assert len(besides) <= 6, besides
