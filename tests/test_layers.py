"""The layers of the code (STYLE.md, "Dependencies point down"): referrals/ is the ground floor
and imports no feature; the pages that gather features sit above them and no feature imports
them. Checked on the import graph of portal/, read with `ast`: every import, those inside
functions included, but not those under `if TYPE_CHECKING:` (type hints, never run)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PORTAL = Path(__file__).resolve().parents[1] / "portal"

# What the ground floor (portal/referrals/) may not import: the features built on it and
# everything above them.
ABOVE_REFERRALS = (
    "triage",
    "treatment",
    "letters",
    "scheduling",
    "authorizations",
    "messages",
    "attachments",
    "accounts",
    "admin",
    "pages",
    "fhir",
    "cli",
    "demo",
)
# The feature packages: none of them imports portal.pages, the layer above them.
FEATURES = (
    "referrals",
    "triage",
    "treatment",
    "letters",
    "scheduling",
    "messages",
    "attachments",
    "accounts",
    "admin",
    "auth",
    "audit",
    "clinics",
    "scales",
    "authorizations",
)


@dataclass(frozen=True)
class Import:
    importer: str  # module names, dotted: portal.referrals.intake
    imported: str
    line: int

    def __str__(self) -> str:
        return f"{self.importer} (line {self.line}) imports {self.imported}"


def module_name(path: Path) -> str:
    parts = path.relative_to(PORTAL.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package(module: str) -> str:
    """The top-level package of a portal module (portal.referrals.intake -> referrals)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "portal" else ""


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST):
    """Every import statement that runs: a `if TYPE_CHECKING:` body is skipped (not its else)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def imports_in(source: str, module: str, *, is_package: bool, modules: set[str]) -> list[Import]:
    """The portal modules `module` imports. `from a import b` counts as importing a.b when
    that is a module (in `modules`), else a."""
    found = []
    for node in _import_nodes(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:  # relative: from the importer's own package upwards
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            ]
        found.extend(
            Import(module, name, node.lineno)
            for name in dict.fromkeys(names)
            if name == "portal" or name.startswith("portal.")
        )
    return found


@cache
def import_graph() -> tuple[Import, ...]:
    """Every import among portal's modules."""
    paths = sorted(PORTAL.rglob("*.py"))
    modules = {module_name(path) for path in paths}
    return tuple(
        found
        for path in paths
        for found in imports_in(
            path.read_text(encoding="utf-8"),
            module_name(path),
            is_package=path.name == "__init__.py",
            modules=modules,
        )
    )


def test_the_graph_reads_imports_in_functions_and_skips_type_checking():
    source = """
from typing import TYPE_CHECKING
from portal.referrals import states
import portal.letters.pdf as pdf
from . import service
if TYPE_CHECKING:
    from portal.treatment.models import Assessment
else:
    from portal.clock import clinic_today
def later():
    from portal.attachments.service import add_upload
"""
    modules = {"portal.referrals.states", "portal.referrals.service", "portal.referrals"}
    imported = {
        i.imported
        for i in imports_in(source, "portal.referrals.intake", is_package=False, modules=modules)
    }
    assert imported == {
        "portal.referrals.states",
        "portal.letters.pdf",
        "portal.referrals.service",
        "portal.clock",
        "portal.attachments.service",
    }


def test_the_graph_covers_every_package():
    importers = {package(i.importer) for i in import_graph()}
    assert set(FEATURES) <= importers


def test_referrals_imports_no_feature():
    upward = [
        str(i)
        for i in import_graph()
        if package(i.importer) == "referrals" and package(i.imported) in ABOVE_REFERRALS
    ]
    assert upward == []


def test_no_feature_imports_the_pages():
    downward = [
        i
        for i in import_graph()
        if package(i.importer) in FEATURES and package(i.imported) == "pages"
    ]
    assert [str(i) for i in downward] == []


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
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
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_among_portal_modules():
    edges: dict[str, set[str]] = {}
    for i in import_graph():
        if i.imported != i.importer:
            edges.setdefault(i.importer, set()).add(i.imported)
    assert cycles(edges) == []
