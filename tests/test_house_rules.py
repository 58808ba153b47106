"""Rules of the house (STYLE.md) that a reader would otherwise have to check by hand:
referral states named only through portal/referrals/states.py, objects loaded through their
permission loaders, migrations that stand alone, modules that fit in a head."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from portal.referrals.states import State

ROOT = Path(__file__).resolve().parents[1]
PORTAL = ROOT / "portal"
STATE_VALUES = frozenset(s.value for s in State)
STATE_NAMES = frozenset({"state", "to_state", "from_state"})
MAX_MODULE_LINES = 400


def _python_files(*, exclude: tuple[str, ...] = ()) -> list[Path]:
    return [
        p for p in sorted(PORTAL.rglob("*.py")) if p.relative_to(ROOT).as_posix() not in exclude
    ]


def _constants(node: ast.AST) -> list[ast.Constant]:
    """String constants that are `node` itself or the elements of a literal collection."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [c for element in node.elts for c in _constants(element)]
    return []


def state_literals(source: str) -> list[tuple[int, str]]:
    """(line, value) of every state name written as a string where a state is meant: compared
    with something, given to `.in_()`, passed or assigned as a state."""
    found = []
    for node in ast.walk(ast.parse(source)):
        candidates: list[ast.Constant] = []
        if isinstance(node, ast.Compare):
            for operand in [node.left, *node.comparators]:
                candidates += _constants(operand)
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in {"in_", "not_in"}:
                for arg in node.args:
                    candidates += _constants(arg)
            for keyword in node.keywords:
                if keyword.arg in STATE_NAMES:
                    candidates += _constants(keyword.value)
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Attribute | ast.Name)
            and getattr(t, "attr", getattr(t, "id", "")) in STATE_NAMES
            for t in node.targets
        ):
            candidates += _constants(node.value)
        found += [(c.lineno, c.value) for c in candidates if c.value in STATE_VALUES]
    return sorted(found)


def test_the_state_literal_finder_finds_what_it_should():
    source = """
if referral.state == "draft": pass
if referral.state in ("completed", "declined"): pass
rows = select(Referral).where(Referral.state.in_(["submitted"]))
event = ReferralEvent(to_state="in_review")
referral.state = "accepted"
label = {"submitted": referral.submitted_at}  # a key that happens to be a state's name
"""
    assert [value for _line, value in state_literals(source)] == [
        "draft",
        "completed",
        "declined",
        "submitted",
        "in_review",
        "accepted",
    ]


@pytest.mark.parametrize(
    "path", _python_files(exclude=("portal/referrals/states.py",)), ids=lambda p: p.name
)
def test_no_state_literal_outside_the_state_machine(path):
    assert state_literals(path.read_text(encoding="utf-8")) == []


# In a template: a quoted state name inside a Jinja expression that speaks of a state.
TEMPLATE_EXPRESSION = re.compile(r"{[{%](.*?)[%}]}", re.S)
QUOTED_STATE = re.compile("['\"](" + "|".join(sorted(STATE_VALUES)) + ")['\"]")


@pytest.mark.parametrize("path", sorted((ROOT / "templates").rglob("*.html")), ids=lambda p: p.name)
def test_no_state_literal_in_templates(path):
    offending = [
        expression.strip()
        for expression in TEMPLATE_EXPRESSION.findall(path.read_text(encoding="utf-8"))
        if "state" in expression and QUOTED_STATE.search(expression)
    ]
    assert offending == [], "use the `states` global: states.State.X or a group"


def test_no_view_module_loads_by_id_itself():
    """Objects reached by id come through their feature's get_<thing>_or_404 loader."""
    offending = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in _python_files()
        if p.name.endswith("views.py")
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if "db.session.get(" in line
    ]
    assert offending == []


def test_migrations_do_not_import_the_application():
    offending = []
    for path in sorted((ROOT / "migrations" / "versions").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            offending += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "portal"]
    assert offending == []


def test_modules_fit_in_a_head():
    too_long = {
        str(p.relative_to(ROOT)): lines
        for p in _python_files()
        if (lines := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert too_long == {}
