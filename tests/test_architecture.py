"""The layout's rules, checked on the source (see README, "Where things are").

* The domain apps import only the apps to their left, in ``DOMAIN`` order:
  debtors <- compliance <- messaging <- cases <- reminders <- imports / selfservice / scoring.
  ``cases`` comes before ``reminders``: a reminder's call task puts a case in its collector's
  queue, and what reminders must do when something happens to a case (a payment) they learn
  from a signal the cases send (``cases.payments.payment_recorded``).
* The surfaces (workspace, portal, api) import the domain, never one another.
* Nothing imports ``demo`` but the benchmarks and the tests; nothing imports the project
  package (``collections_app``) but the project itself, ``demo`` and the tests.
* No import inside a function, except where a comment says why.
* One database engine: no code asks which one it runs on, and none writes Django's private
  queryset attributes.

A module that needs to go against one of these is a sign the code is in the wrong app.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Left to right; the apps of one tier may not import one another.
DOMAIN = (("debtors",), ("compliance",), ("messaging",), ("cases",), ("reminders",))
DOMAIN_TOP = ("imports", "selfservice", "scoring")
SURFACES = ("workspace", "portal", "api")
PROJECT = "collections_app"
DEMO = "demo"
APPS = (*(app for tier in DOMAIN for app in tier), *DOMAIN_TOP, *SURFACES, DEMO, PROJECT)


def _allowed(app: str) -> set[str]:
    """The apps ``app`` may import (besides itself)."""
    order = [*(tier for tier in DOMAIN), DOMAIN_TOP]
    domain = {a for tier in order for a in tier}
    for index, tier in enumerate(order):
        if app in tier:
            return {a for earlier in order[:index] for a in earlier}
    if app in SURFACES:
        return domain
    if app == DEMO:
        return domain | {PROJECT}
    if app == PROJECT:
        return set(APPS)
    raise AssertionError(app)


def _modules(app: str) -> list[Path]:
    return sorted(
        path
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts
    )


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("app", APPS)
def test_each_app_imports_only_what_its_place_allows(app):
    forbidden = set(APPS) - _allowed(app) - {app}
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _modules(app)
        for name in sorted(_imports(path) & forbidden)
    ]
    assert offenders == []


def test_the_rules_are_not_vacuous():
    """Every app exists and holds code, and the order forbids what it should."""
    for app in APPS:
        assert _modules(app), app
    assert "reminders" not in _allowed("cases") and "cases" in _allowed("reminders")
    assert "workspace" not in _allowed("portal") and "api" not in _allowed("workspace")
    assert DEMO not in _allowed("workspace") and "selfservice" not in _allowed("imports")


def test_nothing_but_benchmarks_and_tests_imports_demo():
    offenders = [
        f"{path.relative_to(ROOT)}"
        for app in APPS
        if app != DEMO
        for path in _modules(app)
        if DEMO in _imports(path)
    ]
    scripts = [p.relative_to(ROOT) for p in (ROOT / "scripts").rglob("*.py") if DEMO in _imports(p)]
    assert offenders == [] and scripts == []


def _is_commented(lines: list[str], lineno: int) -> bool:
    """A comment on the import's line, or in the comment and import lines right above it."""
    if "#" in lines[lineno - 1]:
        return True
    index = lineno - 2
    while index >= 0:
        text = lines[index].strip()
        if text.startswith("#"):
            return True
        if not text.startswith(("import ", "from ")):
            return False
        index -= 1
    return False


def test_no_import_inside_a_function_without_a_reason():
    offenders = []
    for app in APPS:
        for path in _modules(app):
            source = path.read_text(encoding="utf-8")
            lines = source.splitlines()
            for node in ast.walk(ast.parse(source)):
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Import | ast.ImportFrom) and not _is_commented(
                        lines, inner.lineno
                    ):
                        offenders.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    assert sorted(set(offenders)) == []


# Python and templates of the apps, the benchmarks and the scripts; migrations are history.
_SOURCES = [
    path
    for top in (*APPS, "bench", "scripts", "templates")
    for path in (ROOT / top).rglob("*")
    if path.suffix in {".py", ".html"} and "migrations" not in path.relative_to(ROOT).parts
]


def test_one_database_engine():
    pattern = re.compile(r"connection\.vendor|sqlite", re.IGNORECASE)
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _SOURCES
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert len(_SOURCES) > 100 and offenders == []


def test_no_private_queryset_attribute_is_written():
    pattern = re.compile(r"\._(result_cache|prefetch_done|prefetched_objects_cache)\b")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _SOURCES
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []
