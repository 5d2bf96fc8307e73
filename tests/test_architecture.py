"""The direction of dependencies: debtors <- compliance <- collections_app.

``debtors`` imports neither of the others; ``compliance`` reads debtors and nothing of the
workflow. A module that needs to go against the arrow is in the wrong app.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "debtors": ("compliance", "collections_app"),
    "compliance": ("collections_app",),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_lower_layers_do_not_import_upper_ones(app):
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / app).rglob("*.py"))
        for name in sorted(_imports(path) & set(FORBIDDEN[app]))
    ]
    assert offenders == []
