"""Data flows one way: no geoapp module imports a module of a higher level.

The levels are read from the ONE table at the top of docs/architecture.md (``| module |
level | role |``, one row per module or sub-package of ``geoapp``): utilities →
sources (and the catalog and standards loaders) → layers/network/demand/zones →
coverage/gaps/heritage/... → maps/export/charts/report → workflow/CLI. A file inside a
sub-package (``geoapp/network/graph.py``) has the level of its package. The import graph
has no cycle, between files and between top-level modules.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "geoapp"
DOC = ROOT / "docs" / "architecture.md"

#: A level-table row: | `geoapp.<name>` | <level> | <role> |
_ROW = re.compile(r"^\|\s*`geoapp\.([A-Za-z_]\w*)`\s*\|\s*(\d+)\s*\|\s*(.*?)\s*\|\s*$")


def _level_rows(text: str) -> list[tuple[str, int, str]]:
    """The (module, level, role) rows of the level table (the part before the first ``##``)."""
    top = re.split(r"^## ", text, maxsplit=1, flags=re.M)[0]
    return [(m[1], int(m[2]), m[3]) for line in top.splitlines() if (m := _ROW.match(line.strip()))]


ROWS = _level_rows(DOC.read_text(encoding="utf-8"))
LEVEL = {name: level for name, level, _ in ROWS}
FILES = sorted(PKG.rglob("*.py"))


def _module(path: Path) -> str:
    """Top-level name of a geoapp file: its stem, or its sub-package for a file inside one."""
    rel = path.relative_to(PKG)
    return rel.parts[0] if len(rel.parts) > 1 else path.stem


def _dotted(path: Path) -> str:
    """Dotted module name of a geoapp file (``geoapp.network`` for network/__init__.py)."""
    parts = ["geoapp", *path.relative_to(PKG).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_dotted(p): p for p in FILES}


def _known(name: str, modules: Iterable[str]) -> str:
    """The longest known module that ``name`` is or lies in (``name`` itself if none)."""
    mods = set(modules)
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in mods:
            return ".".join(parts[:n])
    return name


def _targets(tree: ast.AST, me: str, is_package: bool, modules: Iterable[str]) -> set[str]:
    """Dotted geoapp modules imported anywhere in ``tree`` (absolute and relative imports).

    ``from geoapp.pkg import name`` counts the submodule ``geoapp.pkg.name`` when it is a
    module, else ``geoapp.pkg`` (the name comes from the package's ``__init__``).
    """
    mods = set(modules)
    here = me.split(".") if is_package else me.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1]
                mod = ".".join([*base, *(node.module.split(".") if node.module else [])])
            else:
                mod = node.module or ""
            if mod != "geoapp" and not mod.startswith("geoapp."):
                continue
            for a in node.names:
                sub = f"{mod}.{a.name}"
                out.add(sub if sub in mods else _known(mod, mods))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "geoapp" or a.name.startswith("geoapp."):
                    out.add(_known(a.name, mods))
    return out


def _top(dotted: str) -> str:
    """Top-level name of a dotted geoapp module (``__init__`` for the package itself)."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _file_targets(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return _targets(tree, _dotted(path), path.name == "__init__.py", MODULES)


def _imported(path: Path) -> set[str]:
    """Top-level geoapp names imported by ``path``."""
    return {_top(t) for t in _file_targets(path)}


def _cycle(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """One cycle of a directed graph as a list of nodes (first == last), or [] if none."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return []


# ------------------------------------------------------------------ the level table


def test_level_table_is_parsed_with_one_row_per_module():
    names = [name for name, _, _ in ROWS]
    assert len(names) >= 30, f"level table in {DOC.name} not found or cut short"
    assert len(names) == len(set(names)), "a module has two rows in the level table"
    assert all(0 <= level <= 5 and role for _, level, role in ROWS)
    # fixed points of the data flow
    assert LEVEL["errors"] == LEVEL["settings"] == LEVEL["__init__"] == 0
    assert LEVEL["sources"] == 1 and LEVEL["network"] == 2 and LEVEL["workflow"] == 5


def test_level_rows_parse_and_skip_other_tables():
    text = (
        "# t\n\n| module | level | role |\n|---|---|---|\n"
        "| `geoapp.errors` | 0 | errors |\n| `geoapp.sources` | 1 | sub-package: a, b |\n"
        "\n## Later\n| `geoapp.maps` | 4 | after the first heading: not a level row |\n"
    )
    assert _level_rows(text) == [("errors", 0, "errors"), ("sources", 1, "sub-package: a, b")]


def test_module_maps_sub_package_files_to_the_package():
    assert _module(PKG / "errors.py") == "errors"
    assert _module(PKG / "__init__.py") == "__init__"
    assert _module(PKG / "sources" / "osm_file.py") == "sources"
    assert _module(PKG / "network" / "graph.py") == "network"
    assert _module(PKG / "anything_new" / "deep" / "x.py") == "anything_new"
    assert _dotted(PKG / "network" / "__init__.py") == "geoapp.network"
    assert _dotted(PKG / "sources" / "osm_file.py") == "geoapp.sources.osm_file"


def test_every_module_has_a_level():
    missing = {_module(p) for p in FILES} - set(LEVEL)
    assert not missing, f"add a row for {sorted(missing)} to the level table in {DOC}"


def test_every_level_row_names_an_existing_module():
    stale = set(LEVEL) - {_module(p) for p in FILES}
    assert not stale, f"level table rows without a module: {sorted(stale)}; drop them"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PKG)))
def test_no_upward_import(path):
    own = LEVEL[_module(path)]
    upward = {m for m in _imported(path) if m in LEVEL and LEVEL[m] > own}
    assert not upward, f"{path.name} (level {own}) imports {sorted(upward)}"


# ------------------------------------------------------------------ no import cycle


def test_targets_resolve_absolute_relative_and_package_imports():
    mods = {"geoapp", "geoapp.errors", "geoapp.net", "geoapp.net.graph", "geoapp.net.snap"}
    tree = ast.parse(
        "from geoapp import errors, __version__\n"
        "from geoapp.net import WalkGraph\n"
        "from . import snap\n"
        "from .graph import build\n"
        "import geoapp.errors\n"
        "def f():\n    from geoapp.net.graph import x\n"
        "import numpy\nfrom os import path\n"
    )
    got = _targets(tree, "geoapp.net.routing", False, mods)
    assert got == {"geoapp.errors", "geoapp", "geoapp.net", "geoapp.net.snap", "geoapp.net.graph"}
    init = _targets(ast.parse("from .graph import build\n"), "geoapp.net", True, mods)
    assert init == {"geoapp.net.graph"}


def test_cycle_finder():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"b"}}) == ["b", "b"]


@pytest.mark.slow
def test_no_import_cycle_between_files():
    graph = {me: _file_targets(path) - {me} for me, path in MODULES.items()}
    cycle = _cycle(graph)
    assert not cycle, "import cycle between geoapp files: " + " -> ".join(cycle)


@pytest.mark.slow
def test_no_import_cycle_between_top_level_modules():
    graph: dict[str, set[str]] = {}
    for path in FILES:
        me = _module(path)
        graph.setdefault(me, set()).update(_imported(path) - {me})
    cycle = _cycle(graph)
    assert not cycle, "import cycle between geoapp modules: " + " -> ".join(cycle)


# ------------------------------------------------------------------ no private names


def _private_uses(tree: ast.AST) -> set[str]:
    """Names starting with one underscore taken from another geoapp module."""
    aliases: dict[str, str] = {}
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("geoapp"):
            for a in node.names:
                mod_file = PKG.joinpath(*node.module.split(".")[1:], f"{a.name}.py")
                if mod_file.exists():  # a private MODULE of the package (shared internals)
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
                elif a.name.startswith("_") and not a.name.startswith("__"):
                    out.add(f"{node.module}.{a.name}")
                elif node.module == "geoapp" or a.name[:1].islower():
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("geoapp"):
                    aliases[a.asname or a.name.split(".")[0]] = a.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            out.add(f"{aliases[node.value.id]}.{node.attr}")
    return out


OUTSIDE = sorted(
    [
        *ROOT.glob("app_pages/*.py"),
        *ROOT.glob("analyses/*.py"),
        *ROOT.glob("tools/*.py"),
        ROOT / "streamlit_app.py",
    ]
)


@pytest.mark.parametrize("path", FILES + OUTSIDE, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_names_of_other_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    used = _private_uses(tree)
    assert not used, f"{path.name} uses private names of other modules: {sorted(used)}"
