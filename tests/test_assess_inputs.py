"""What a report records of its inputs, and what its region row is called.

The fixture is a small extract (``fixtures.homes_grid``): streets every 0.004° over lon
116.30-116.34, lat 39.98-40.00, a six-storey home in every block and two nursing homes;
two districts, West (lon < 116.32) and East, census 10,000 and 20,000 residents. The
study area ``campus.geojson`` is the western half of West.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fixtures import WEST_EAST, homes_grid, two_district_census, two_districts  # noqa: E402

from geoapp import assess, verify, workflow  # noqa: E402
from geoapp.spec import RegionSpec  # noqa: E402

pytestmark = pytest.mark.usefixtures("own_cache")
CARE_HOME = {"amenity": "social_facility", "social_facility": "nursing_home", "beds": "50"}


@pytest.fixture
def files(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    districts = two_districts(data / "districts.geojson")
    census = two_district_census(data / "census.csv")
    campus = data / "campus.geojson"
    gpd.GeoDataFrame(
        {"name": ["x"]}, geometry=[box(116.30, 39.98, 116.31, 40.00)], crs="EPSG:4326"
    ).to_file(campus, driver="GeoJSON")
    return {
        "osm": homes_grid(
            data / "grid.osm.pbf",
            WEST_EAST,
            places=[(116.305, 39.99, CARE_HOME), (116.335, 39.99, CARE_HOME)],
        ),
        "boundaries": districts,
        "census": census,
        "campus": campus,
    }


def _spec(files, **extra) -> RegionSpec:
    return RegionSpec(
        osm=str(files["osm"]),
        boundaries=str(files["boundaries"]),
        census=str(files["census"]),
        **extra,
    )


def _sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ---------------------------------------------------------------- the region row


def test_the_region_row_is_named_after_the_study_area(files):
    region = workflow.load_region(_spec(files, study_area=str(files["campus"])))
    a = workflow.analyse(region, "elderly_care", with_catchments=False)
    row = a.summary[a.summary["level"] == "region"]
    assert list(row["group"]) == ["campus"]
    assert a.meta["region"] == "campus"
    # the bundle's CSV says the same
    csv = workflow.csv_ready(a.summary)
    assert list(csv.loc[csv["level"] == "region", "group"]) == ["campus"]


def test_the_region_row_of_a_whole_extract_is_the_region_name(files):
    region = workflow.load_region(_spec(files))
    a = workflow.analyse(region, "elderly_care", with_catchments=False)
    assert region.name != "region"
    assert list(a.summary.loc[a.summary["level"] == "region", "group"]) == [region.name]


# ---------------------------------------------------------------- inputs hashed


def _fake_assessment() -> SimpleNamespace:
    """What input_files reads of an assessment: no layer, a profile, no demand profile."""
    from geoapp import standards

    profile = standards.load_profile(None)
    return SimpleNamespace(layers={}, profile=profile, demand=SimpleNamespace(profile={}))


def test_input_files_hash_the_study_area_and_every_age_band(files, tmp_path):
    bands = tmp_path / "ages"
    bands.mkdir()
    written = {}
    for sex in "fm":
        for age in (0, 1, *range(5, 85, 5)):
            p = bands / f"chn_{sex}_{age}_2020.tif"
            p.write_bytes(f"{sex}{age}".encode())
            written[f"age raster {sex} {age}"] = p
    (bands / "readme.txt").write_text("not a band", encoding="utf-8")
    spec = _spec(files, study_area=f"{files['campus']}:wgs84", age_rasters=str(bands))
    rows = assess.input_files(_fake_assessment(), {"region": spec.to_dict()})
    by_role = {r["role"]: r for r in rows}
    assert by_role["study_area"]["sha256"] == _sha(files["campus"])
    # 18 bands x 2 sexes, each with its own hash; the other file is no input
    ages = {k: v for k, v in by_role.items() if k.startswith("age raster")}
    assert len(ages) == 36
    for role, path in written.items():
        assert ages[role]["sha256"] == _sha(path), role
    assert not any("readme" in str(r["path"]) for r in rows)


def test_study_area_names_are_no_file(files):
    spec = _spec(files, study_area="West")
    rows = assess.input_files(_fake_assessment(), {"region": spec.to_dict()})
    assert "study_area" not in {r["role"] for r in rows}


@pytest.mark.slow
def test_verify_sees_a_changed_study_area_file(files, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "reports" / "r1"
    spec = _spec(files, study_area=str(files["campus"]))
    assess.build_report(out, spec, layers=["elderly_care"], pdf=False)
    rec = json.loads((out / "report.json").read_text(encoding="utf-8"))
    # recorded from the folder holding the report: no folder of this machine
    assert rec["params"]["region"]["study_area"] == "../data/campus.geojson"
    assert "--study-area ../data/campus.geojson" in rec["command"]
    assert str(tmp_path) not in (out / "report.json").read_text(encoding="utf-8")
    roles = {i["role"]: i for i in rec["inputs"]}
    assert roles["study_area"]["sha256"] == _sha(files["campus"])
    summary = pd.read_csv(out / "bundles" / "elderly_care" / "summary.csv", encoding="utf-8-sig")
    assert list(summary.loc[summary["level"] == "region", "group"]) == ["campus"]
    assert verify.verify(out).ok
    # the same polygon written again with other bytes: verify names the changed input
    gdf = gpd.read_file(files["campus"])
    gdf["name"] = ["changed"]
    gdf.to_file(files["campus"], driver="GeoJSON")
    res = verify.verify(out)
    assert not res.ok
    assert any(d.startswith("input study_area:") and "changed" in d for d in res.differences)
