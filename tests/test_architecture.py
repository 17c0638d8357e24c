"""Data flows one way: no geoapp module imports a module of a higher level.

Levels as in docs/architecture.md: utilities → sources (and the catalog loader) →
layers/network/population/zones → coverage/gaps/heritage → maps/export/charts →
workflow/CLI.
"""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "geoapp"
LEVEL = {
    "errors": 0, "_atomic": 0, "_presets": 0, "_cache": 0, "crs": 0, "i18n": 0, "styles": 0, "__init__": 0,
    "region": 1, "sources": 1, "catalog": 1, "standards": 1,
    "layers": 2, "network": 2, "population": 2, "zones": 2, "projection": 2,
    "coverage": 3, "gaps": 3, "heritage": 3, "scenario": 3, "siting": 3, "supply": 3,
    "compliance": 3,
    "maps": 4, "export": 4, "charts": 4, "report": 4, "lookback": 4,
    "workflow": 5, "cli": 5, "verify": 5, "batch": 5,
}  # fmt: skip


def _module(path: Path) -> str:
    return "sources" if "sources" in path.parts else path.stem


def _imported(tree: ast.AST) -> set[str]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("geoapp"):
            parts = node.module.split(".")
            if len(parts) > 1:
                out.add(parts[1])
            else:
                out.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            for a in node.names:
                parts = a.name.split(".")
                if parts[0] == "geoapp" and len(parts) > 1:
                    out.add(parts[1])
    return out


FILES = sorted(PKG.rglob("*.py"))


def test_every_module_has_a_level():
    assert {_module(p) for p in FILES} <= set(LEVEL)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PKG)))
def test_no_upward_import(path):
    own = LEVEL[_module(path)]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    upward = {m for m in _imported(tree) if m in LEVEL and LEVEL[m] > own}
    assert not upward, f"{path.name} (level {own}) imports {sorted(upward)}"


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
        *PKG.parent.glob("app_pages/*.py"),
        *PKG.parent.glob("analyses/*.py"),
        PKG.parent / "streamlit_app.py",
    ]
)


@pytest.mark.parametrize("path", FILES + OUTSIDE, ids=lambda p: str(p.relative_to(PKG.parent)))
def test_no_private_names_of_other_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    used = _private_uses(tree)
    assert not used, f"{path.name} uses private names of other modules: {sorted(used)}"
