"""Study areas (``--study-area``): the run cut to a district or a polygon, maps on the data.

The fixture is a small extract (``fixtures.homes_grid``): a street grid with homes over
two districts, West (lon 116.30-116.32) and East (116.32-116.34), lat 39.98-40.00, census
10,000 and 20,000 residents. Answers are worked out by hand from those numbers: a study area that
is half of West counts 5,000 residents, one over half of each district 5,000 + 10,000.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import box

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fixtures import (  # noqa: E402
    EAST,
    WEST,
    WEST_EAST,
    homes_grid,
    two_district_census,
    two_districts,
)

from geoapp import cli, hexes, maps, workflow  # noqa: E402
from geoapp.errors import InputError  # noqa: E402
from geoapp.spec import RegionSpec  # noqa: E402
from geoapp.study_area import (  # noqa: E402
    SLIVER_SHARE,
    StudyArea,
    clip_boundaries,
    resolve_study_area,
)

pytestmark = pytest.mark.usefixtures("own_cache")
CARE_HOME = {"amenity": "social_facility", "social_facility": "nursing_home", "name": "养老院"}


@pytest.fixture
def files(tmp_path):
    return {
        "osm": homes_grid(
            tmp_path / "grid.osm.pbf",
            WEST_EAST,
            places=[(116.305, 39.99, CARE_HOME), (116.335, 39.99, CARE_HOME)],
        ),
        "boundaries": two_districts(tmp_path / "districts.geojson"),
        "census": two_district_census(tmp_path / "census.csv"),
    }


def _spec(files, **extra) -> RegionSpec:
    return RegionSpec(
        osm=str(files["osm"]),
        boundaries=str(files["boundaries"]),
        census=str(files["census"]),
        **extra,
    )


def _polygon_file(path: Path, geom) -> Path:
    gpd.GeoDataFrame({"name": ["x"]}, geometry=[geom], crs="EPSG:4326").to_file(
        path, driver="GeoJSON"
    )
    return path


# ---------------------------------------------------------------- the recipe


def test_study_area_is_a_spec_key_of_load_region_and_an_option(files):
    import geoapp

    spec = _spec(files, study_area="West")
    assert RegionSpec.from_json(spec.to_json()) == spec
    assert json.loads(spec.to_json())["study_area"] == "West"
    assert geoapp.load_region(spec).name == "West"
    args = cli.build_parser().parse_args(
        ["coverage", "--layer", "elderly_care", "--out", "o", "--osm", "x.pbf",
         "--study-area", "海淀区"]
    )  # fmt: skip
    assert workflow_spec(args).study_area == "海淀区"


def workflow_spec(args):
    from geoapp.cli_args import region_spec_from_args

    return region_spec_from_args(args)


# ---------------------------------------------------------------- clipping


def test_a_district_name_clips_the_run_to_that_district(files):
    whole = workflow.load_region(_spec(files))
    region = workflow.load_region(_spec(files, study_area="West"))
    assert region.name == "West" and region.label == "West"
    assert list(region.boundaries["district"]) == ["West"]
    # buildings and facilities: only those inside West (the blocks west of lon 116.32)
    pts = region.buildings.geometry.representative_point()
    assert len(region.buildings) == 25 and (pts.x < 116.32).all()
    assert len(whole.buildings) == 50
    assert list(region.features["name"].dropna()) == ["养老院"]
    # streets: every kept street touches West, the network is still one piece
    assert region.edges.geometry.intersects(WEST).all()
    assert len(region.edges) < len(whole.edges)
    assert set(region.nodes["node_id"]) >= set(region.edges["u"]) | set(region.edges["v"])
    # the census rule: West is whole inside, so it keeps its 10,000 residents
    assert list(region.census["pop"]) == [10000]
    demand = workflow.prepare_demand(region)
    assert demand.total == pytest.approx(10000, rel=1e-6)
    assert region.meta["study_area"]["area_km2"] == pytest.approx(
        gpd.GeoSeries([WEST], crs=4326).to_crs(32650).area.iloc[0] / 1e6, rel=1e-3
    )


def test_a_polygon_file_clips_the_run_and_names_the_region_after_it(files, tmp_path):
    # half of West by area (same latitude band, half the longitude span)
    path = _polygon_file(tmp_path / "campus.geojson", box(116.30, 39.98, 116.31, 40.00))
    region = workflow.load_region(_spec(files, study_area=str(path)))
    assert region.name == "campus"
    assert list(region.boundaries["district"]) == ["West"]
    assert region.census["pop"].iloc[0] == pytest.approx(5000, rel=2e-3)
    assert region.census["pop_60plus"].iloc[0] == pytest.approx(1000, rel=2e-3)
    pts = region.buildings.geometry.representative_point()
    assert len(region.buildings) > 0 and (pts.x < 116.31).all()
    demand = workflow.prepare_demand(region)
    assert demand.total == pytest.approx(5000, rel=2e-3)


def test_a_polygon_over_two_districts_gives_each_its_covered_share(files, tmp_path):
    path = _polygon_file(tmp_path / "middle.geojson", box(116.31, 39.98, 116.33, 40.00))
    region = workflow.load_region(_spec(files, study_area=str(path)))
    assert sorted(region.boundaries["district"]) == ["East", "West"]
    pops = dict(zip(region.census["district"], region.census["pop"], strict=True))
    assert pops["West"] == pytest.approx(5000, rel=2e-3)
    assert pops["East"] == pytest.approx(10000, rel=2e-3)
    demand = workflow.prepare_demand(region)
    assert demand.total == pytest.approx(15000, rel=2e-3)
    assert any("partly inside" in w for w in region.meta["warnings"])


def test_a_gcj02_polygon_file_is_converted(files, tmp_path):
    from geoapp.crs import wgs84_to_gcj02

    lon, lat = wgs84_to_gcj02(np.array([116.30, 116.31]), np.array([39.98, 40.00]))
    path = _polygon_file(tmp_path / "amap.geojson", box(lon[0], lat[0], lon[1], lat[1]))
    area = resolve_study_area(f"{path}:gcj02")
    x0, y0, x1, y1 = shapely.bounds(area.geometry)
    # back within a few metres (the box's corners move apart by ~1 m in GCJ-02)
    assert (x0, y0, x1, y1) == pytest.approx((116.30, 39.98, 116.31, 40.00), abs=5e-5)
    assert "gcj02" in area.source


def test_names_that_match_nothing_are_named_with_the_closest(files):
    with pytest.raises(InputError) as err:
        workflow.load_region(_spec(files, study_area="Wset"))
    text = str(err.value) + " ".join(err.value.problems if hasattr(err.value, "problems") else [])
    assert "Wset" in text


def test_an_ambiguous_subdistrict_name_asks_which():
    with pytest.raises(InputError) as err:
        resolve_study_area("八里庄")
    text = str(err.value) + " ".join(getattr(err.value, "problems", []) or [])
    assert "八里庄街道（朝阳区）" in text and "八里庄街道（海淀区）" in text


def test_a_study_area_outside_the_data_says_so(files, tmp_path):
    path = _polygon_file(tmp_path / "far.geojson", box(116.5, 39.5, 116.6, 39.6))
    with pytest.raises(InputError, match="does not overlap"):
        workflow.load_region(_spec(files, study_area=str(path)))


def test_slivers_of_neighbouring_districts_are_dropped():
    # the study area is West drawn by another source, 2 m off: East gets a sliver
    m = 2 / 111_320
    area = StudyArea("West", box(116.30, 39.98, 116.32 + m, 40.00), "test")
    bnd = gpd.GeoDataFrame(
        {"district": ["West", "East"], "district_code": ["D1", "D2"], "zone_type": "unknown",
         "zone_fine": ""},
        geometry=[WEST, EAST], crs="EPSG:4326",
    )  # fmt: skip
    out, census, _ = clip_boundaries(bnd, None, area)
    assert list(out["district"]) == ["West"]
    assert SLIVER_SHARE > 0.001  # a 2 m strip of a 1.7 km wide area is 0.1 %
    # but a small district wholly inside a large study area (a campus extract's own
    # boundary inside a whole district) is kept, though it is 0.1 % of the area
    big = StudyArea("Big", box(116.0, 39.7, 116.7, 40.2), "test")
    campus = bnd.iloc[[0]].set_geometry([box(116.30, 39.98, 116.31, 39.99)], crs=4326)
    out, _, _ = clip_boundaries(campus, None, big)
    assert list(out["district"]) == ["West"] and out.geometry.iloc[0].area == pytest.approx(1e-4)


# ---------------------------------------------------------------- maps open on the data


def _fit_bounds(html: str) -> tuple[float, float, float, float]:
    """Return (south, west, north, east) of the map's fitBounds call in the saved page."""
    found = re.findall(r"fitBounds\(\s*\[\[\s*([-\d.e]+),\s*([-\d.e]+)\],\s*\[\s*([-\d.e]+),"
                       r"\s*([-\d.e]+)\]\]", html)  # fmt: skip
    assert found, "the map calls fitBounds"
    return tuple(float(v) for v in found[-1])


def _within(bounds, extent, margin):
    s, w, n, e = bounds
    x0, y0, x1, y1 = extent
    return s >= y0 - margin and w >= x0 - margin and n <= y1 + margin and e <= x1 + margin


def _city_boundaries(path: Path) -> Path:
    """Two districts of a city, 40 × 55 km: the extract is a small corner of them."""
    return two_districts(
        path, west=box(116.0, 39.7, 116.32, 40.2), east=box(116.32, 39.7, 116.7, 40.2)
    )


def test_map_html_opens_on_the_extract_not_the_whole_city(files, tmp_path):
    spec = RegionSpec(
        osm=str(files["osm"]), boundaries=str(_city_boundaries(tmp_path / "c.geojson"))
    )
    region = workflow.load_region(spec)
    analysis = workflow.analyse(region, "elderly_care")
    m = workflow.coverage_map(region, analysis)
    out = maps.save_html(m, tmp_path / "map.html")
    bounds = _fit_bounds(out.read_text(encoding="utf-8"))
    assert _within(bounds, WEST_EAST, margin=0.01)  # the extract, ~1 km margin
    # the residents layer: cells of res 9 (0.105 km²) for the 7.6 km² extract, not the
    # res 7 (5.2 km²) the city's 2,900 km² would call for
    cells = _demand_cells(m)
    import h3

    km2 = cells.to_crs(32650).area / 1e6
    res9 = h3.cell_area(h3.latlng_to_cell(39.99, 116.32, 9), unit="km^2")  # 0.075 here
    assert len(cells) and km2.between(0.9 * res9, 1.1 * res9).all(), km2.describe()


def test_map_html_of_a_study_area_opens_on_the_study_area(files, tmp_path):
    path = _polygon_file(tmp_path / "campus.geojson", box(116.30, 39.98, 116.31, 40.00))
    region = workflow.load_region(_spec(files, study_area=str(path)))
    analysis = workflow.analyse(region, "elderly_care")
    out = maps.save_html(workflow.coverage_map(region, analysis), tmp_path / "map.html")
    assert _within(_fit_bounds(out.read_text(encoding="utf-8")), (116.30, 39.98, 116.31, 40.00),
                   margin=0.002)  # fmt: skip


def test_the_report_map_opens_on_the_data(tmp_path):
    from geoapp.reporting import gaps_map_png

    city = gpd.GeoDataFrame({"district": ["C"], "zone_type": ["core"]},
                            geometry=[box(116.0, 39.7, 116.7, 40.2)], crs=4326)  # fmt: skip
    fac = gpd.GeoDataFrame(geometry=gpd.points_from_xy([116.30, 116.31], [39.98, 39.99]), crs=4326)
    gaps = gpd.GeoDataFrame({"rank": [1]}, geometry=[box(116.302, 39.982, 116.305, 39.985)],
                            crs=4326)  # fmt: skip
    # the PNG itself cannot be read for limits: draw it and read the axes instead
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    seen = {}
    orig = Figure.add_subplot

    def spy(self, *a, **k):
        ax = orig(self, *a, **k)
        seen["ax"] = ax
        return ax

    Figure.add_subplot = spy
    try:
        gaps_map_png(city, gaps, fac)
    finally:
        Figure.add_subplot = orig
    x0, x1 = seen["ax"].get_xlim()
    assert (x1 - x0) < 5_000  # metres: the 0.86 km of data plus margins, not the 60 km city


def _demand_cells(m) -> gpd.GeoDataFrame:
    """The residents layer's cells drawn on a map (its GeoJSON, decoded)."""
    from geoapp.maps import leaflet

    for child in m._children.values():
        if isinstance(child, leaflet.GeoJsonLayer) and child.pane == "geoapp-demand":
            return gpd.GeoDataFrame.from_features(json.loads(child.data_json), crs=4326)
    raise AssertionError("no residents layer")


# ---------------------------------------------------------------- the H3 resolution


def test_resolution_follows_the_study_area_size():
    # a 2 km² campus: the finest cells the demand holds (res 9: 19 cells of 0.105 km²)
    assert hexes.resolution_for_area(2.0) == 9
    # Beijing, 16,410 km²: res 7 (5.16 km², 3,180 cells: 56 across); res 6 would give 21
    assert hexes.resolution_for_area(16_410.0) == 7
    # 50 cells across = 2,500 cells: res 8 holds 2,500 cells of 0.737 km² in 1,843 km²
    assert hexes.resolution_for_area(1_900.0) == 8 and hexes.resolution_for_area(1_800.0) == 9
    res = [hexes.resolution_for_area(a) for a in (0.1, 10, 1e3, 1e4, 1e5, 1e7)]
    assert res == sorted(res, reverse=True) and min(res) == hexes.COARSEST_RES
    assert hexes.resolution_for_area(float("nan")) == 9
