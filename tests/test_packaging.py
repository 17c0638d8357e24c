"""pyproject.toml and environment.yml declare the same dependencies."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# conda-forge names that differ from PyPI's
CONDA_TO_PYPI = {"h3-py": "h3", "matplotlib-base": "matplotlib"}


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[ ;]", req.strip(), maxsplit=1)[0].lower()


def _pyproject() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    names = {_name(r) for r in data["project"]["dependencies"]}
    for extra in ("test", "china"):
        names |= {_name(r) for r in data["project"]["optional-dependencies"][extra]}
    return names


def _environment() -> set[str]:
    names = set()
    for line in (ROOT / "environment.yml").read_text().splitlines():
        m = re.match(r"^\s*-\s+([A-Za-z0-9_.\-]+)", line)
        if not m or m.group(1) in ("pip", "-e", "conda-forge"):
            continue
        n = _name(m.group(1))
        names.add(CONDA_TO_PYPI.get(n, n))
    names.discard("python")
    names.discard("pip:")
    return names


def test_environment_matches_pyproject():
    py, env = _pyproject(), _environment()
    assert py - env == set(), f"in pyproject.toml but not environment.yml: {sorted(py - env)}"
    assert env - py == set(), f"in environment.yml but not pyproject.toml: {sorted(env - py)}"


def test_entry_point_declared():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert data["project"]["scripts"]["geoapp"] == "geoapp.cli:main"


def test_layout():
    for p in (
        "geoapp",
        "layers",
        "analyses",
        "tests",
        "benchmarks",
        "streamlit_app.py",
        "README.md",
        ".ci/run",
    ):
        assert (ROOT / p).exists(), p
