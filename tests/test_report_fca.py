"""The report's capacity section by the floating catchment method asked for (``--fca-method``).

The report must show, for the method chosen, the figures ``geoapp supply --method`` gives
for the same region and layer (the methods themselves are checked against PySAL access's
own test grids in ``test_fca.py``), name the method in the capacity section, the method
section and the parameters appendix, in English and in Chinese, and record it so the
command re-creates the report.
"""

from __future__ import annotations

import html
import json
import re

import pytest

import geoapp
from geoapp import assess, cli, report_pages
from geoapp import reporting as report
from geoapp.errors import InputError
from geoapp.sfca import method_label


def _text(folder) -> str:
    page = (folder / "report.html").read_text(encoding="utf-8")
    page = re.sub(r"<svg.*?</svg>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _cells(folder, title: str) -> list[list[str]]:
    """The rows (cell texts) of the table right after the heading ``title``."""
    page = (folder / "report.html").read_text(encoding="utf-8")
    start = page.index(html.escape(title, quote=True))
    table = page[start : page.index("</table>", start)]
    rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)
    cells = [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r)] for r in rows]
    return [c for c in cells if c]  # the header row holds th cells only


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("fca")
    en = base / "en"
    argv = ["report", "--region", "demo", "--layer", "elderly_care", "--lang", "en",
            "--fca-method", "e2sfca", "--no-pdf", "--out", str(en), "-q"]  # fmt: skip
    assert cli.main(argv) == 0
    zh = base / "zh"
    with report.options(fca_method="gravity"):  # the Python form of --fca-method
        assess.build_report(zh, "demo", layers=["elderly_care"], lang="zh", pdf=False)
    return {"en": en, "zh": zh}


@pytest.mark.slow
def test_the_english_report_shows_the_chosen_method_and_its_figures(built):
    d = built["en"]
    label = method_label("e2sfca", None)
    text = _text(d)
    # named three times: the capacity table's title, the method section, the appendix
    assert text.count(label) >= 3
    assert method_label("2sfca", None) not in text
    t = report.T["en"]
    title = t["fca_title"].format(
        layer="Elderly care", unit="beds", who=t["residents60_of"], method=label, reach="900 m"
    )
    rows = _cells(d, title)
    # the figures of geoapp supply --method e2sfca for the same region and layer
    ref = geoapp.supply("demo", "elderly_care", method="e2sfca").table
    ref = ref[ref["level"].isin(["region", "district", "zone_type"])]
    assert len(rows) == len(ref)
    for row, (_, r) in zip(rows, ref.iterrows(), strict=True):
        assert row[2] == f"{r['capacity']:,.0f}"
        assert row[3] == f"{r['capacity_per_1000']:,.1f}"
        assert row[4] == f"{r['sfca_per_1000']:,.1f}", (row, r["group"])
    rec = json.loads((d / "report.json").read_text(encoding="utf-8"))
    assert rec["params"]["fca_method"] == "e2sfca"
    assert "--fca-method e2sfca" in rec["command"]


@pytest.mark.slow
def test_the_chinese_report_names_the_method_in_chinese(built):
    d = built["zh"]
    text = _text(d)
    label = report_pages.fca_label("gravity", None, "zh")
    assert label == report_pages.FCA_ZH["gravity"]
    assert text.count(label) >= 3
    assert method_label("gravity", None) not in text  # not the English name
    rec = json.loads((d / "report.json").read_text(encoding="utf-8"))
    assert rec["params"]["fca_method"] == "gravity"
    assert "--fca-method gravity" in rec["command"]


def test_an_unknown_method_is_refused_before_the_work(tmp_path):
    with pytest.raises(InputError, match="e2sfca"), report.options(fca_method="m2sfca"):
        assess.build_report(tmp_path / "r", "demo", pdf=False)
    assert not (tmp_path / "r").exists()
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["report", "--fca-method", "m2sfca", "--out", "x"])


def test_the_default_method_is_2sfca_and_not_in_the_command():
    args = cli.build_parser().parse_args(["report", "--region", "demo", "--out", "x"])
    assert args.fca_method == "2sfca"
    params = {"region": {"region": "demo"}, "fca_method": "2sfca", "out": "x"}
    assert "--fca-method" not in assess.report_command(params)
