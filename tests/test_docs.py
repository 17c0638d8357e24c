"""The newcomer's documents: the README's commands and example run, the links resolve,
and the API reference builds offline from the docstrings."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
INSTALL_AND_RUN_APP = "pip install -e . && streamlit run streamlit_app.py"
INSTALL_AND_TEST = 'pip install -e ".[test]" && python -m pytest'


def _section(text: str, title: str) -> str:
    """The text of the ``## title`` section (up to the next ``## ``)."""
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    assert m, f"README has no '## {title}' section"
    return m.group(1)


def _code_blocks(text: str, lang: str) -> list[tuple[int, str]]:
    """(first line number, code) of every fenced ``lang`` block of ``text``."""
    out = []
    for m in re.finditer(rf"^```{lang}\n(.*?)^```", text, flags=re.M | re.S):
        out.append((text[: m.start()].count("\n") + 2, m.group(1)))
    return out


def test_quickstart_holds_exactly_the_two_commands():
    quick = _section(README.read_text(encoding="utf-8"), "Quickstart")
    blocks = [code.strip() for _, code in _code_blocks(quick, "bash")]
    assert blocks == [INSTALL_AND_RUN_APP, INSTALL_AND_TEST]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    # the same command, pip told to be quiet
    assert INSTALL_AND_TEST.replace("pip install -e", "pip install -q -e") in ci.splitlines()


def test_library_example_is_within_the_first_80_lines():
    text = README.read_text(encoding="utf-8")
    blocks = [(n, code) for n, code in _code_blocks(text, "python") if "import geoapp" in code]
    assert blocks, "no library example in the README"
    first, code = blocks[0]
    last = first + code.count("\n") - 1
    assert last <= 80, f"the library example ends on line {last}"
    assert 'geoapp.load_region("demo")' in code
    assert "geoapp.analyse(region" in code
    assert len(code.strip().splitlines()) == 5


def test_readme_is_short_and_keeps_no_diary():
    text = README.read_text(encoding="utf-8")
    assert 150 <= len(text.splitlines()) <= 250
    # dated measurements and session notes belong in benchmarks/README.md
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text)
    assert not re.search(r"\b(this|last|previous) session\b", text, flags=re.I)
    assert "What the data can tell, and what it cannot" in text
    assert "(benchmarks/README.md)" in _section(text, "Speed")


@pytest.mark.parametrize(
    "doc",
    [
        "README.md",
        "docs/architecture.md",
        "docs/checks.md",
        "docs/guide.md",
        "benchmarks/README.md",
    ],
)
def test_relative_links_resolve(doc):
    path = ROOT / doc
    text = path.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [link for link in links if not re.match(r"[a-z]+:", link)]
    missing = [link for link in local if not (path.parent / link).exists()]
    assert not missing, f"{doc} links to missing files: {missing}"


@pytest.mark.slow
def test_readme_library_example_runs_on_the_demo(tmp_path):
    """The five lines, as printed in the README, run offline and write the bundle."""
    text = README.read_text(encoding="utf-8")
    code = next(c for _, c in _code_blocks(text, "python") if "import geoapp" in c)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["GEOAPP_CACHE_DIR"] = str(tmp_path / "cache")  # no shared cache: a cold run
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    meta = json.loads((tmp_path / "out" / "elderly_care" / "metadata.json").read_text())
    assert meta["layer"] == "elderly_care" and meta["synthetic"] is True
    assert "metadata.json" in meta["files"] and "summary.csv" in meta["files"]
    # the printed summary is the coverage table: the region row and the 15-minute shares
    assert "share_pop_60plus_15min" in proc.stdout
    assert "region" in proc.stdout


@pytest.mark.slow
def test_api_reference_builds_offline(tmp_path):
    out = tmp_path / "api"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_api.py"), str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    face = (out / "geoapp.html").read_text(encoding="utf-8")
    for name in ("analyse", "load_region"):
        assert f'id="{name}"' in face, name
    # numpy sections are rendered as headings (the docformat is numpy, not reST)
    workflow = (out / "geoapp" / "workflow.html").read_text(encoding="utf-8")
    assert '<h6 id="parameters">Parameters</h6>' in workflow
    assert (out / "index.html").is_file()
    # offline: no page loads a script, style or font from the web
    for page in out.rglob("*.html"):
        assert not re.search(r"""(src|href)="https?://[^"]+\.(js|css|woff2?)""", page.read_text())
