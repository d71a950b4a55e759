"""Build step for the wheel: compiled German catalogs and the migrations go into the package.

Compiling at build time (rather than at app start) keeps the installed app read-only
and complete: every app server and worker starts with the same catalogs, none needs
write access to site-packages or races another to write them, and a broken .po file
fails the build instead of a deployment. An editable install (`make install`) compiles
in place with `make translations` instead.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class build_py_with_catalogs_and_migrations(build_py):
    """build_py, then .po -> .mo beside each catalog and migrations/ -> app/migrations."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        package = Path(self.build_lib) / "app"
        for po in sorted(package.glob("*/translations/*/LC_MESSAGES/messages.po")):
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=po.parent.parent.name)
            with po.with_suffix(".mo").open("wb") as fh:
                write_mo(fh, catalog)
        shutil.copytree(ROOT / "migrations", package / "migrations", dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": build_py_with_catalogs_and_migrations})
