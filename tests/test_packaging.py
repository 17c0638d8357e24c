"""Packaging: pyproject.toml and environment.yml agree, and the built wheel is a real package."""

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# conda-forge names that differ from PyPI's
CONDA_TO_PYPI = {"h3-py": "h3", "matplotlib-base": "matplotlib", "pyosmium": "osmium"}


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


# ------------------------------------------------------------------ a real package

_NOT_SOURCE = (".git", "__pycache__", "build", "dist", "*.egg-info", ".pytest_cache",
               ".ruff_cache", ".mypy_cache", ".hypothesis", "cache", "out", ".venv")  # fmt: skip


def test_layers_folder_is_the_package_catalog():
    """One copy: the repository's layers/ is the package's data folder."""
    from geoapp.catalog import load_catalog, shipped_layer_dir

    assert (ROOT / "layers").resolve() == (ROOT / "geoapp" / "data" / "layers").resolve()
    with shipped_layer_dir() as folder:
        assert folder.resolve() == (ROOT / "layers").resolve()
    shipped = {p.stem for p in (ROOT / "layers").glob("*.toml")}
    assert set(load_catalog()) == shipped and shipped


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Build the wheel from a copy of the repository, offline (no build isolation)."""
    src = tmp_path_factory.mktemp("src") / "geoapp-src"
    shutil.copytree(ROOT, src, symlinks=True, ignore=shutil.ignore_patterns(*_NOT_SOURCE))
    dist = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-w", str(dist), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (whl,) = dist.glob("geoapp-*.whl")
    return whl


@pytest.mark.slow
def test_wheel_ships_the_catalog_and_data_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for toml in (ROOT / "layers").glob("*.toml"):
        assert f"geoapp/data/layers/{toml.name}" in names
    for sub in ("census", "zones"):
        for f in (ROOT / "geoapp" / "data" / sub).iterdir():
            assert f"geoapp/data/{sub}/{f.name}" in names
    assert "geoapp/data/census/beijing_2020.csv" in names
    assert "geoapp/data/zones/beijing.toml" in names
    assert not [n for n in names if n.startswith("layers/")]
    assert "geoapp/py.typed" in names  # PEP 561: the package's annotations are for users too
    entry = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "geoapp = geoapp.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()


@pytest.mark.slow
def test_wheel_installed_in_a_fresh_venv_runs_outside_the_repo(wheel, tmp_path):
    venv = tmp_path / "venv"
    # --system-site-packages: the dependencies are already installed; geoapp itself must
    # come from the venv's own site-packages.
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)],
        check=True,
        timeout=120,
    )
    py = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GEOAPP_LAYERS")}
    subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        env=env,
        timeout=300,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(args, cwd=work, env=env, capture_output=True, text=True, timeout=600)

    where = run(str(py), "-c", "import geoapp; print(geoapp.__file__)")
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout + where.stderr
    layers = run(str(venv / "bin" / "geoapp"), "layers")
    assert layers.returncode == 0, layers.stderr
    assert "elderly_care" in layers.stdout and "养老服务" in layers.stdout
    cov = run(str(venv / "bin" / "geoapp"), "coverage", "--region", "demo", "--layer",
              "elderly_care", "--out", "OUT", "-q")  # fmt: skip
    assert cov.returncode == 0, cov.stderr
    meta = json.loads((work / "OUT" / "metadata.json").read_text(encoding="utf-8"))
    # the shipped layer file, named by its place in the package (no folder of the machine)
    assert meta["layer"] == "elderly_care"
    assert meta["layer_file"] == "geoapp/data/layers/elderly_care.toml"
    assert {"map.html", "bundle.gpkg", "summary.csv"} <= set(meta["files"])
