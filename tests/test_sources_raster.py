"""Population rasters (geoapp.sources.raster): cells as arrays, checked values, WorldPop ages.

Every figure below is worked out by hand from the tiny rasters written in the test.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from geoapp.demand import DemandOptions, estimate_population
from geoapp.demand.profile import age_table
from geoapp.errors import InputError
from geoapp.sources.raster import (
    AGE_BANDS,
    age_shares,
    find_age_rasters,
    read_population_raster,
)

UTM = "EPSG:32650"  # Beijing: the China profile and China's WPP share aged 60+
X0, Y0 = 440_000.0, 4_420_000.0
CHN_60 = float(age_table().loc["CHN", "share_60plus"])


def _write(path, values, *, crs=UTM, origin=(X0, Y0 + 300), cell=100.0, nodata=-99999.0):
    import rasterio
    from rasterio.transform import from_origin

    arr = np.asarray(values, dtype="float64")
    dtype = "float64" if (np.abs(arr[np.isfinite(arr)]) > 1e38).any() else "float32"
    with rasterio.open(
        path, "w", driver="GTiff", height=arr.shape[0], width=arr.shape[1], count=1,
        dtype=dtype, crs=crs, transform=from_origin(*origin, cell, cell), nodata=nodata,
    ) as dst:  # fmt: skip
        dst.write(arr.astype(dtype), 1)
    return path


def _district(x0=-50, y0=-50, x1=350, y1=350, name="A") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"district": [name], "district_code": [""], "zone_type": ["core"], "zone_fine": [""]},
        geometry=[box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)],
        crs=UTM,
    ).to_crs(4326)


def _houses(specs) -> gpd.GeoDataFrame:
    """specs: (x, y, side, levels) in metres from X0, Y0."""
    return gpd.GeoDataFrame(
        {
            "building_id": [f"way/{i}" for i in range(len(specs))],
            "building": "house",
            "levels": [s[3] for s in specs],
            "name": None,
        },
        geometry=[box(X0 + x, Y0 + y, X0 + x + s, Y0 + y + s) for x, y, s, _ in specs],
        crs=UTM,
    ).to_crs(4326)


def _utm_xy(points: gpd.GeoSeries) -> np.ndarray:
    g = gpd.GeoSeries(points, crs=4326).to_crs(UTM)
    return np.column_stack([g.x, g.y])


# 3 x 3 cells of 100 m, top-left corner (X0, Y0 + 300): row r, column c has its centre
# at (X0 + 50 + 100c, Y0 + 250 - 100r). r1c1 is nodata and r2c2 is 0.
GRID = [[1, 2, 3], [4, -99999, 6], [7, 8, 0]]


# ------------------------------------------------------------------- same figures


def test_three_by_three_raster_gives_the_same_figures_as_before(tmp_path):
    """Figures of the polygon-per-cell reader (commit 7e4aba7), checked by hand."""
    path = _write(tmp_path / "pop.tif", GRID)
    cells = read_population_raster(path, _district())
    assert len(cells) == 7 and cells.total == pytest.approx(31.0)
    # alone: one point per populated cell, at its centre
    alone = estimate_population(None, _district(), raster=cells)
    pts = alone.points.set_index("demand_id")
    want = {"r0c0": 1, "r0c1": 2, "r0c2": 3, "r1c0": 4, "r1c2": 6, "r2c0": 7, "r2c1": 8}
    assert alone.method == "raster"
    assert sorted(pts.index) == sorted(f"raster/{k}" for k in want)
    for key, pop in want.items():
        r, c = int(key[1]), int(key[3])
        assert pts.loc[f"raster/{key}", "pop"] == pytest.approx(pop)
        assert pts.loc[f"raster/{key}", "pop_60plus"] == pytest.approx(pop * CHN_60)
        xy = _utm_xy(gpd.GeoSeries([pts.loc[f"raster/{key}", "geometry"]]))[0]
        assert xy == pytest.approx([X0 + 50 + 100 * c, Y0 + 250 - 100 * r], abs=1e-3)
    # two houses in r1c2 (100 m² and 300 m² of floor) share its 6 residents 1:3, one
    # house in r2c1 takes all 8; the other cells stay at their centres
    houses = _houses([(220, 120, 10, 1.0), (260, 150, 10, 3.0), (120, 20, 20, 1.0)])
    both = estimate_population(houses, _district(), raster=cells)
    got = both.points.set_index("demand_id")["pop"].to_dict()
    assert both.method == "raster+buildings"
    assert got == pytest.approx(
        {
            "way/0": 1.5,
            "way/1": 4.5,
            "way/2": 8.0,
            "raster/r0c0": 1.0,
            "raster/r0c1": 2.0,
            "raster/r0c2": 3.0,
            "raster/r1c0": 4.0,
            "raster/r2c0": 7.0,
        }  # fmt: skip
    )
    assert CHN_60 == pytest.approx(0.2153)  # the share the figures before were made with


def test_cells_are_located_by_grid_arithmetic(tmp_path):
    cells = read_population_raster(_write(tmp_path / "pop.tif", GRID), _district())
    pts = gpd.GeoSeries.from_xy(
        [X0 + 10, X0 + 299, X0 + 150, X0 + 500], [Y0 + 290, Y0 + 101, Y0 + 150, Y0 + 150], crs=UTM
    ).to_crs(4326)
    idx = cells.locate(pts)
    ids = cells.cell_ids()
    # r0c0, r1c2, r1c1 (nodata: no cell), outside the raster
    assert ids[idx[0]] == "r0c0" and ids[idx[1]] == "r1c2"
    assert idx[2] == -1 and idx[3] == -1


def test_many_cells_are_merged_into_blocks(tmp_path):
    # 4 x 4 cells, at most 4 points: 2 x 2 blocks
    vals = np.arange(1, 17, dtype=float).reshape(4, 4)
    path = _write(tmp_path / "pop.tif", vals, origin=(X0, Y0 + 400))
    cells = read_population_raster(path, _district(-10, -10, 410, 410), max_points=4)
    assert cells.block == 2 and len(cells) == 4
    by_id = dict(zip(cells.cell_ids(), cells.pop, strict=True))
    # block r0c0 holds 1 + 2 + 5 + 6, r2c2 holds 11 + 12 + 15 + 16
    assert by_id == {"r0c0": 14.0, "r0c2": 22.0, "r2c0": 46.0, "r2c2": 54.0}
    # its point is the residents-weighted centre of its cells: block r0c0, x = X0 +
    # (1*50 + 2*150 + 5*50 + 6*150) / 14, y = Y0 + 400 - (8*50 + 6*150... ) by rows
    k = list(cells.cell_ids()).index("r0c0")
    xy = _utm_xy(gpd.GeoSeries(cells.centres()[k : k + 1]))[0]
    x = X0 + (1 * 50 + 2 * 150 + 5 * 50 + 6 * 150) / 14
    y = Y0 + 400 - (3 * 50 + 11 * 150) / 14
    assert xy == pytest.approx([x, y], abs=1e-3)
    dem = estimate_population(None, _district(-10, -10, 410, 410), raster=cells)
    assert dem.total == pytest.approx(136.0)
    assert any("blocks of 2x2 cells" in w for w in dem.warnings)


# ------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("values", "nodata", "match"),
    [
        (np.full((3, 3), -99999.0), -99999.0, r"all 9 cells over the study area are nodata"),
        (np.full((3, 3), np.nan), np.nan, r"all 9 cells over the study area are nodata"),
        (np.zeros((3, 3)), -99999.0, r"no cell over the study area holds residents \(9 cells"),
        ([[0, 0, 0], [0, -99999, 0], [0, 0, 0]], -99999.0, r"8 cells are 0 and 1 nodata"),
        ([[1, np.inf, 1]] * 3, -99999.0, r"3 cells .* infinite values"),
        ([[1, np.nan, 1]] * 3, None, r"NaN cells not flagged as nodata"),
        ([[1, -5, 1]] * 3, -99999.0, r"negative values .*row 0, column 1: -5"),
        ([[1, 1e307, 1]] * 3, -99999.0, r"more than 100,000 residents per hectare"),
        ([[1, 2e5, 1]] * 3, -99999.0, r"more than 100,000 residents per hectare"),
    ],
)
def test_unusable_rasters_are_errors_naming_file_and_reason(tmp_path, values, nodata, match):
    path = _write(tmp_path / "bad_pop.tif", values, nodata=nodata)
    with pytest.raises(InputError, match=match) as err:
        read_population_raster(path, _district())
    assert "bad_pop.tif" in str(err.value)


def test_the_densest_plausible_cell_is_accepted(tmp_path):
    # 90,000 residents in one hectare: under the bound of 100,000
    cells = read_population_raster(_write(tmp_path / "p.tif", [[9e4]]), _district())
    assert cells.total == pytest.approx(9e4)
    # in degrees the bound follows the cell's area: 0.001° x 0.001° at 40° N is
    # 111.2 m x 85.2 m = 0.947 ha, so 94,700 is the most a cell may hold
    origin = (116.0, 40.0005)
    ll_district = gpd.GeoDataFrame(geometry=[box(115.99, 39.99, 116.01, 40.01)], crs=4326)
    ok = _write(tmp_path / "deg.tif", [[9.4e4]], crs="EPSG:4326", origin=origin, cell=0.001)
    assert read_population_raster(ok, ll_district).total == pytest.approx(9.4e4)
    bad = _write(tmp_path / "deg2.tif", [[9.6e4]], crs="EPSG:4326", origin=origin, cell=0.001)
    with pytest.raises(InputError, match="per hectare"):
        read_population_raster(bad, ll_district)


def test_no_populated_cell_inside_the_districts_is_an_error(tmp_path):
    # only the corner cell r0c0 holds people; the district covers the other corner
    path = _write(tmp_path / "corner.tif", [[5, 0, 0], [0, 0, 0], [0, 0, 0]])
    ell = _district().to_crs(UTM)  # an L: its bounds hold r0c0, its area does not
    ell.geometry = ell.geometry.difference(box(X0 - 60, Y0 + 200, X0 + 100, Y0 + 360))
    with pytest.raises(InputError, match=r"corner.tif.*none of the 1 populated cells"):
        read_population_raster(path, ell)


def test_raster_far_from_the_region_is_an_error(tmp_path):
    path = _write(tmp_path / "far.tif", GRID)
    far = gpd.GeoDataFrame(geometry=[box(10, 10, 11, 11)], crs=4326)
    with pytest.raises(InputError, match="far.tif: the raster does not overlap"):
        read_population_raster(path, far)


def test_truncated_geotiff_names_the_file(tmp_path):
    path = _write(tmp_path / "cut.tif", np.full((300, 300), 3.0), origin=(X0, Y0 + 30_000))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    big = _district(0, 0, 30_000, 30_000)
    with pytest.raises(InputError, match=r"cut.tif: .*(truncated|cannot be read)"):
        read_population_raster(path, big)


def test_not_a_raster_names_the_file(tmp_path):
    path = tmp_path / "notes.tif"
    path.write_text("not a raster", encoding="utf-8")
    with pytest.raises(InputError, match="notes.tif: cannot be read as a raster"):
        read_population_raster(path, _district())


# ------------------------------------------------------------------- WorldPop ages


def _age_set(folder, values_by_band, *, iso="chn", year=2020, grid_origin=(X0, Y0 + 200)):
    """Write ``<iso>_<f|m>_<age>_<year>.tif`` 2 x 2 rasters; values_by_band(sex, age)."""
    folder.mkdir(exist_ok=True)
    for sex in "fm":
        for age in AGE_BANDS:
            vals = values_by_band(sex, age)
            if vals is not None:
                _write(folder / f"{iso}_{sex}_{age}_{year}.tif", vals, origin=grid_origin)
    return folder


def _bands_60plus(sex, age):
    """Cell r0c0: 5 per 60-64 band, 1 per older band (60+ = 18, 65+ = 8); cell r0c1: 2
    per band (60+ = 20, 65+ = 16); cell r1c1: nodata; cell r1c0: 0."""
    if age < 60:
        return None
    first = 5.0 if age == 60 else 1.0
    return [[first, 2.0], [0.0, -99999.0]]


def test_age_rasters_give_the_60plus_share_per_cell(tmp_path):
    total = _write(tmp_path / "chn_ppp_2020.tif", [[100, 50], [0, 10]], origin=(X0, Y0 + 200))
    ages = _age_set(tmp_path / "ages", _bands_60plus)
    bounds = _district(-50, -50, 250, 250)
    cells = read_population_raster(total, bounds)
    dem = estimate_population(None, bounds, raster=cells, options=DemandOptions(age_rasters=ages))
    p = dem.points.set_index("demand_id")
    # r0c0: 18 of 100 aged 60+; r0c1: 20 of 50; r1c1: no age figure -> China's share
    assert p.loc["raster/r0c0", "pop_60plus"] == pytest.approx(18.0)
    assert p.loc["raster/r0c1", "pop_60plus"] == pytest.approx(20.0)
    assert p.loc["raster/r1c1", "pop_60plus"] == pytest.approx(10 * CHN_60)
    assert dem.profile["share_60plus"] == pytest.approx((18 + 20 + 10 * CHN_60) / 160)
    # 65+: 8 of 100 and 16 of 50 where the rasters say; the rest the country's share
    chn_65 = float(age_table().loc["CHN", "share_65plus"])
    assert dem.profile["share_65plus"] == pytest.approx((8 + 16 + 10 * chn_65) / 160)
    assert dem.profile["ages_from"] == "age rasters"
    note = next(a for a in dem.assumptions if "WorldPop age/sex rasters" in a)
    assert "chn_*_2020" in note and "chn_ppp_2020.tif" in note
    assert "1 of 3 demand points" in note
    assert "chn_*_2020" in dem.profile["source"]


def test_age_rasters_without_a_total_divide_by_all_bands(tmp_path):
    # every band under 60 holds 3 (26 files: 78), every band from 60 holds 2.2 (22):
    # the share aged 60+ is 22 / 100 in every cell
    ages = _age_set(tmp_path / "ages", lambda s, a: [[3.0, 3.0]] * 2 if a < 60 else [[2.2] * 2] * 2)
    found = find_age_rasters(ages)
    assert found.complete and len(found.files) == 36
    houses = _houses([(20, 120, 10, 1.0), (120, 20, 10, 2.0)])
    dem = estimate_population(houses, _district(-50, -50, 250, 250),
                              options=DemandOptions(age_rasters=found))  # fmt: skip
    pts = dem.points
    assert (pts["pop_60plus"] / pts["pop"]).to_numpy() == pytest.approx([0.22, 0.22])
    assert any("the sum of all age bands" in a for a in dem.assumptions)


def test_age_shares_by_hand(tmp_path):
    ages = find_age_rasters(_age_set(tmp_path / "ages", _bands_60plus))
    total = _write(tmp_path / "total.tif", [[100, 50], [0, 10]], origin=(X0, Y0 + 200))
    pts = gpd.GeoSeries.from_xy([X0 + 50, X0 + 150, X0 + 50], [Y0 + 150] * 2 + [Y0 + 50], crs=UTM)
    got = age_shares(ages, pts.to_crs(4326).to_numpy(), total=str(total))
    assert got.share_60plus[:2] == pytest.approx([0.18, 0.40])
    assert got.share_65plus[:2] == pytest.approx([0.08, 0.32])
    assert np.isnan(got.share_60plus[2])  # total 0: no share


def test_age_rasters_glob_and_missing_bands(tmp_path):
    folder = _age_set(tmp_path / "ages", _bands_60plus)
    assert len(find_age_rasters(str(folder / "chn_*_2020.tif")).files) == 10
    (folder / "chn_m_80_2020.tif").unlink()
    with pytest.raises(InputError, match=r"--age-rasters .*chn_m_80_2020.tif"):
        find_age_rasters(folder)
    with pytest.raises(InputError, match="no WorldPop age/sex raster found"):
        find_age_rasters(tmp_path / "nothing_*.tif")


def test_age_rasters_of_two_years_must_be_chosen(tmp_path):
    folder = _age_set(tmp_path / "ages", _bands_60plus)
    _age_set(folder, _bands_60plus, year=2019)
    with pytest.raises(InputError, match=r"2 sets .*chn_\*_2019, chn_\*_2020"):
        find_age_rasters(folder)
    assert find_age_rasters(f"{folder}/chn_*_2019.tif").label == "chn_*_2019"


def test_age_rasters_need_the_total_grid_or_all_bands(tmp_path):
    ages = find_age_rasters(_age_set(tmp_path / "ages", _bands_60plus))
    pts = gpd.GeoSeries.from_xy([X0 + 50], [Y0 + 150], crs=UTM).to_crs(4326).to_numpy()
    shifted = _write(tmp_path / "shifted.tif", [[1, 1], [1, 1]], origin=(X0 + 30, Y0 + 200))
    with pytest.raises(InputError, match="shifted.tif: not on the grid"):
        age_shares(ages, pts, total=str(shifted))
    with pytest.raises(InputError, match="every band from 0 to 80"):
        age_shares(ages, pts, total=None)


def test_share_60plus_and_age_rasters_together_is_an_error(tmp_path):
    with pytest.raises(InputError, match="--share-60plus .* or --age-rasters"):
        DemandOptions(share_60plus=0.3, age_rasters=str(tmp_path))


def test_age_rasters_option_reaches_the_region_recipe(tmp_path):
    from geoapp.cli_args import build_parser, region_spec_from_args
    from geoapp.spec import RegionSpec

    argv = ["coverage", "--age-rasters", "ages/chn_*_2020.tif", "--layer", "x", "--out", "o"]
    args = build_parser().parse_args(argv)
    spec = region_spec_from_args(args)
    assert spec.age_rasters == "ages/chn_*_2020.tif"
    assert RegionSpec.from_json(spec.to_json()) == spec


# ------------------------------------------------------------------- command line


@pytest.fixture(scope="module")
def small_extract(tmp_path_factory):
    """Streets (a 3 x 3 grid, 100 m apart) and two houses near Beijing, as .osm.pbf."""
    from osm_extract_builder import write_extract
    from pyproj import Transformer

    to_ll = Transformer.from_crs(UTM, 4326, always_xy=True).transform
    nodes, ways, n = {}, [], 0

    def node(x, y, tags=None):
        nonlocal n
        n += 1
        lon, lat = to_ll(X0 + x, Y0 + y)
        nodes[n] = (lon, lat, tags or {})
        return n

    for k, v in enumerate((0, 100, 200)):
        ways.append((k + 1, [node(0, v), node(100, v), node(200, v)], {"highway": "residential"}))
        ways.append((k + 10, [node(v, 0), node(v, 100), node(v, 200)], {"highway": "residential"}))
    for k, (x, y) in enumerate(((20, 120), (120, 20))):
        ids = [node(x, y), node(x + 10, y), node(x + 10, y + 10), node(x, y + 10)]
        ways.append((100 + k, [*ids, ids[0]], {"building": "house"}))
    node(100, 100, {"amenity": "social_facility", "social_facility": "nursing_home",
                    "social_facility:for": "senior", "name": "Home"})  # fmt: skip
    return write_extract(tmp_path_factory.mktemp("osm") / "small.osm.pbf", nodes, ways)


def test_cli_refuses_an_all_nodata_raster(small_extract, tmp_path, capsys):
    from geoapp.cli import main

    path = _write(tmp_path / "empty_pop.tif", np.full((2, 2), -99999.0), origin=(X0, Y0 + 200))
    rc = main(["coverage", "--osm", str(small_extract), "--population", str(path),
               "--layer", "elderly_care", "--out", str(tmp_path / "out"), "-q", "--no-map"])  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2
    assert "empty_pop.tif" in err and "nodata" in err and "Traceback" not in err


def test_cli_age_rasters_set_the_60plus_share(small_extract, tmp_path):
    from geoapp.cli import main

    total = _write(tmp_path / "chn_ppp_2020.tif", [[100, 50], [40, 10]], origin=(X0, Y0 + 200))
    ages = _age_set(tmp_path / "ages", _bands_60plus)
    out = tmp_path / "out"
    rc = main(["coverage", "--osm", str(small_extract), "--population", str(total),
               "--age-rasters", str(ages), "--layer", "elderly_care", "--out", str(out),
               "-q", "--no-map"])  # fmt: skip
    assert rc == 0
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert meta["population_profile"]["ages_from"] == "age rasters"
    assert any("WorldPop age/sex rasters chn_*_2020" in a for a in meta["assumptions"])
    demand = gpd.read_file(out / "demand.geojson")
    # house way/100 at (20..30, 120..130) lies in r0c0: all 100 residents, 18 aged 60+;
    # house way/101 in r1c1: 10 residents, nodata ages -> China's share
    by_id = demand.set_index("demand_id")
    assert by_id.loc["way/100", "pop_60plus"] == pytest.approx(18.0, rel=1e-6)
    assert by_id.loc["way/101", "pop_60plus"] == pytest.approx(10 * CHN_60, rel=1e-6)
