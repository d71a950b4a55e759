"""Every text the UI marks for translation has a German translation with the same placeholders."""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
# as babel.cfg says: Python under app/, Jinja templates in each area's templates/
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def ui_texts() -> dict[str, str]:
    """msgid -> first place it is used."""
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        ROOT / "app", METHODS, keywords=KEYWORDS, options_map={"**/templates/**.html": {"extensions": "jinja2.ext.do"}}
    ):
        for text in message if isinstance(message, tuple) else (message,):
            if text:
                found.setdefault(text, f"app/{filename}:{lineno}")
    return found


@cache
def catalog_of(folder: Path) -> dict[str, str]:
    """msgid -> German text of one area's catalog (``folder``/translations/de/...)."""
    catalog: dict[str, str] = {}
    po = folder / "translations" / "de" / "LC_MESSAGES" / "messages.po"
    if po.exists():
        with po.open("rb") as fh:
            for message in read_po(fh, locale="de"):
                if not (message.id and message.string):
                    continue
                if isinstance(message.id, str):
                    catalog[message.id] = message.string
                else:  # ngettext: the singular and the plural text, each with its German form
                    catalog[message.id[0]] = message.string[0]
                    catalog[message.id[1]] = message.string[-1]
    return catalog


def german() -> dict[str, str]:
    catalog: dict[str, str] = {}
    for folder in sorted(p.parent.parent for p in (ROOT / "app").glob("*/translations/de")):
        catalog.update(catalog_of(folder))
    return catalog


def test_every_ui_text_has_a_german_translation():
    texts, catalog = ui_texts(), german()
    assert len(texts) > 500  # the extraction found the app's texts at all
    missing = [f"{where}: {text!r}" for text, where in sorted(texts.items(), key=lambda kv: kv[1])
               if text not in catalog]
    assert not missing, "\n".join(missing)


def test_translations_keep_the_placeholders():
    wrong = [f"{text!r} -> {translated!r}" for text, translated in german().items()
             if sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(translated))]
    assert not wrong, "\n".join(wrong)


def test_each_area_translates_its_own_texts():
    """An area's texts are in its own catalog or the shell's (the one every area shares)."""
    shell = catalog_of(ROOT / "app" / "web")
    missing = []
    for text, where in ui_texts().items():
        area = where.split("/")[1]
        if area.endswith(".py"):  # a plain module of app/: the shell's catalog
            area = "web"
        if text not in shell and text not in catalog_of(ROOT / "app" / area):
            missing.append(f"{where}: {text!r}")
    assert not missing, "\n".join(sorted(missing))
