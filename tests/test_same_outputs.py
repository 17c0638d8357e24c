"""``benchmarks/same_outputs.py`` normalises report.docx's dates as it does the HTML's."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

from geoapp.report_docx import write_docx

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "same_outputs.py"


def _module():
    spec = importlib.util.spec_from_file_location("same_outputs", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _page(created: str, residents: str) -> str:
    return (
        "<html><body><h1>Report</h1>"
        f"<p>Created {created}</p>"
        "<table><tr><th>What</th><th>File</th><th>Bytes</th><th>SHA-256</th></tr>"
        "<tr><td>demo</td><td>geoapp/sources/demo.py</td><td>16,254</td>"
        f"<td>{'ab' * 32}</td></tr>"
        f"<tr><td>Residents</td><td>{residents}</td><td></td><td></td></tr></table>"
        "</body></html>"
    )


def _docx(folder: Path, created: str, residents: str) -> Path:
    out = folder / "demo_report"
    out.mkdir(parents=True)
    return write_docx(_page(created, residents), out / "report.docx", lang="en")


@pytest.fixture(scope="module")
def same_outputs():
    return _module()


def test_docx_dates_are_normalised_but_figures_are_not(tmp_path, same_outputs):
    a = _docx(tmp_path / "a", "2026-12-07 20:03 UTC", "1,234")
    time.sleep(2.1)  # the ZIP entries' write times (2 s resolution) differ too
    b = _docx(tmp_path / "b", "2026-12-08 09:41 UTC", "1,234")
    c = _docx(tmp_path / "c", "2026-12-07 20:03 UTC", "1,235")
    assert a.read_bytes() != b.read_bytes()  # not trivially equal
    digest = [same_outputs.normalised(p, []) for p in (a, b, c)]
    assert digest[0] == digest[1]  # only the date differs: the same output
    assert digest[0] != digest[2]  # a figure differs: a difference


def test_docx_demo_generator_digest_is_normalised(tmp_path, same_outputs):
    a = _docx(tmp_path / "a", "2026-12-07 20:03 UTC", "7")
    html = _page("2026-12-07 20:03 UTC", "7").replace("16,254", "16,300")
    b_dir = tmp_path / "b" / "demo_report"
    b_dir.mkdir(parents=True)
    b = write_docx(html.replace("ab" * 32, "cd" * 32), b_dir / "report.docx", lang="en")
    # the demo generator is a file of the code: its size and SHA-256 change with any edit
    assert same_outputs.normalised(a, []) == same_outputs.normalised(b, [])
