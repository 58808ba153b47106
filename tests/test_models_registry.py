"""portal/models.py imports every feature's models, so the metadata (and Alembic's
autogenerate) sees every table whichever modules happen to be loaded."""

from __future__ import annotations

import ast
from pathlib import Path

PORTAL = Path(__file__).resolve().parent.parent / "portal"


def test_every_models_module_is_imported_by_portal_models():
    modules = {
        ".".join(path.relative_to(PORTAL.parent).with_suffix("").parts)
        for path in PORTAL.rglob("models.py")
        if path.parent != PORTAL
    }
    tree = ast.parse((PORTAL / "models.py").read_text())
    imported = {
        f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert modules, "no models modules found"
    assert modules - imported == set()
