"""A district census on Beijing's 街道 / 乡镇 (``--boundaries beijing-subdistricts --census
beijing``): shared by parent district, and no census mismatch warning.

The census gives 16 districts, the boundaries 343 units, each with its parent district:
the two do not match row by row by design, so the "census table does not match the
district boundaries" warning must not be printed. The residents are checked against an
answer computed here from the shipped census and the units' polygons: a unit holds its
district's residents × its share of the district's area, and the extract (a street box
on Xueyuan Road) keeps each unit's residents × the share of the unit inside the box.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from shapely.geometry import box

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fixtures import XUEYUAN, homes_grid  # noqa: E402

from geoapp import workflow  # noqa: E402
from geoapp.sources.boundaries import BEIJING_SUBDISTRICTS, beijing_subdistricts  # noqa: E402
from geoapp.sources.census import beijing_census  # noqa: E402
from geoapp.spec import RegionSpec  # noqa: E402

BOX = box(*XUEYUAN)  # streets every 0.004°: 5 x 4 crossings
MISMATCH = "does not match the district boundaries"
pytestmark = pytest.mark.usefixtures("own_cache")


@pytest.fixture
def extract(tmp_path) -> Path:
    """Residential streets over BOX and a ten-storey home in every block."""
    return homes_grid(tmp_path / "xueyuan.osm.pbf", XUEYUAN, levels=10)


def _expected_residents() -> float:
    """Σ over units: district residents × unit area / district area × unit share in BOX."""
    units = beijing_subdistricts().frame.to_crs(32650)
    pop = beijing_census().set_index("district")["pop"].astype(float)
    district_area = units.area.groupby(units["parent_district"].to_numpy()).sum()
    inside = units.intersection(gpd_box()).area
    total = 0.0
    for k in range(len(units)):
        if inside.iloc[k] > 0:
            parent = units["parent_district"].iloc[k]
            total += pop[parent] * inside.iloc[k] / district_area[parent]
    return total


def gpd_box():
    import geopandas as gpd

    return gpd.GeoSeries([BOX], crs="EPSG:4326").to_crs(32650).iloc[0]


def _mismatch_logged(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if MISMATCH in r.getMessage()]


def test_district_census_on_subdistricts_gives_no_mismatch_warning(extract, caplog):
    spec = RegionSpec(osm=str(extract), boundaries=BEIJING_SUBDISTRICTS, census="beijing")
    with caplog.at_level(logging.WARNING, logger="geoapp"):
        region = workflow.load_region(spec)
        demand = workflow.prepare_demand(region)
    assert not _mismatch_logged(caplog)
    said = [*region.meta.get("warnings", []), *demand.warnings]
    assert not [w for w in said if MISMATCH in w or "matching no boundary" in w], said
    # the shares are right: the box's units keep their share of their district
    assert demand.total == pytest.approx(_expected_residents(), rel=2e-3)


def test_study_area_of_one_district_gives_no_mismatch_warning(extract, caplog):
    # the study area keeps Haidian's units: the other 15 districts' census rows are dropped
    spec = RegionSpec(osm=str(extract), boundaries=BEIJING_SUBDISTRICTS, census="beijing",
                      study_area="海淀区")  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="geoapp"):
        region = workflow.load_region(spec)
        demand = workflow.prepare_demand(region)
    assert not _mismatch_logged(caplog)
    assert set(region.boundaries["parent_district"]) == {"海淀区"}
    assert demand.total == pytest.approx(_expected_residents(), rel=2e-3)


def test_a_census_that_really_does_not_match_is_still_refused(extract, tmp_path):
    from geoapp.errors import InputError

    wrong = tmp_path / "census.csv"
    wrong.write_text("district,pop,pop_60plus\n不存在区,1000,200\n", encoding="utf-8")
    spec = RegionSpec(osm=str(extract), boundaries="beijing", census=str(wrong))
    with pytest.raises(InputError, match=MISMATCH) as err:
        workflow.prepare_demand(workflow.load_region(spec))
    assert "不存在区" in str(err.value)
