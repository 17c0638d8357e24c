"""User boundaries replace the source's districts and census (the demo's census fits only its own)."""

import pytest

from geoapp import workflow
from geoapp.region import META_WARNINGS, OUTSIDE_DISTRICTS
from geoapp.sources.demo import demo_region


def test_replace_districts_drops_the_old_census_and_says_so():
    region = demo_region()
    census_before = region.census.copy()
    meta_before = dict(region.meta)
    mine = region.boundaries.iloc[:3].copy()
    mine["district"] = ["North", "South", "East"]
    out = workflow.replace_districts(region, mine, source="my_districts.zip")
    assert out.census is None
    assert list(out.boundaries["district"]) == ["North", "South", "East"]
    (note,) = [w for w in out.meta[META_WARNINGS] if "my_districts.zip" in w]
    assert "--census CSV" in note and str(len(census_before)) in note
    # the input region is unchanged
    assert region.census.equals(census_before) and region.meta == meta_before
    assert len(region.boundaries) > 3


@pytest.mark.slow
def test_user_boundaries_give_demand_from_buildings_alone():
    """Without a census for them, the new districts' residents are the building estimate."""
    region = demo_region()
    mine = region.boundaries.copy()
    mine["district"] = mine["district"] + " (mine)"  # names no census row has
    loaded = workflow.load_region("demo", boundaries=mine)
    demand = workflow.prepare_demand(loaded)
    points = getattr(demand, "points", demand)  # a Demand (POP helper) or the frame
    assert len(points) > 0 and points["pop"].sum() > 0
    assert set(points["district"]) <= {*mine["district"], OUTSIDE_DISTRICTS}
