"""Independent references for ``tools/check_extract.py``, written without geoapp's code.

* :func:`walkable`, :func:`layer_matches`: a walking filter and layer tag rules written
  by hand from OSM's tagging rules and osmnx's "walk" network;
* :func:`read_raw`: the extract read directly with osmium (:class:`Raw`);
* :func:`build_refnet`, :func:`ref_search`, :func:`ref_point_distances`: a networkx
  graph with one edge per pair of consecutive way nodes (geodesic lengths), points
  snapped to the nearest raw segment, one multi-source Dijkstra from the facilities.

Nothing here imports geoapp: the references must not share the engine they check.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmium
import shapely
from pyproj import Geod

GEOD = Geod(ellps="WGS84")

# ------------------------------------------------------------------ walking filter
# Written by hand from OSM's tagging rules and osmnx's "walk" network (not geoapp's code):
# a way with a highway tag is walkable unless its highway value is not for people on
# foot, it is an area, a private service road, a street drawn with separately mapped
# sidewalks, or the access hierarchy closes it (foot=* decides when present, else access=*).
NOT_WALKABLE_HIGHWAY = {
    "abandoned", "bus_guideway", "construction", "cycleway", "motor", "motorway",
    "motorway_link", "no", "planned", "platform", "proposed", "raceway", "razed",
    "rest_area", "services",
}  # fmt: skip
SEPARATE_SIDEWALK_KEYS = ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right")


def _values(v: str | None) -> set[str]:
    return set() if not v else {p.strip() for p in v.split(";")}


def walkable(tags: dict[str, str]) -> bool:
    """Return True when a way with these tags belongs to the walking network."""
    hw = tags.get("highway")
    if not hw or _values(hw) & NOT_WALKABLE_HIGHWAY:
        return False
    if "yes" in _values(tags.get("area")) or "private" in _values(tags.get("service")):
        return False
    if any("separate" in _values(tags.get(k)) for k in SEPARATE_SIDEWALK_KEYS):
        return False
    for key in ("foot", "access"):
        if _values(tags.get(key)):
            return not (_values(tags.get(key)) & {"no", "private"})
    return True


def layer_matches(tags: dict[str, str], match: tuple) -> bool:
    """Apply a layer's rules by hand.

    ANY table matches when EVERY key of it does; a list means any of its values, true
    means present and not "no".
    """
    for table in match:
        ok = True
        for key, want in table.items():
            have = tags.get(key)
            if have is None or have == "":
                ok = False
            elif want is True:
                ok = have != "no"
            else:
                wanted = {want} if isinstance(want, str) else set(want)
                ok = bool(_values(have) & wanted) or have in wanted
            if not ok:
                break
        if ok:
            return True
    return False


# ------------------------------------------------------------------ raw file reading


@dataclass
class Raw:
    """What the script read from the file itself (osmium)."""

    # walkable segments: node ids and lon/lat of both ends
    seg_u: np.ndarray
    seg_v: np.ndarray
    seg_xy: np.ndarray  # (m, 4) lon_u, lat_u, lon_v, lat_v
    n_walk_ways: int
    n_clipped_ways: int
    tagged: dict[str, tuple[dict[str, str], float, float, int, int]]  # id -> tags, lon, lat
    # (nan when no node is in the file), nodes in the file, nodes referenced
    n_buildings: int
    n_residential_landuse: int
    bounds: tuple[float, float, float, float] | None


def read_raw(path: Path, keys: list[str], keep=None) -> Raw:
    """Read walkable ways and the elements carrying any catalog key, in one osmium pass.

    ``keep(lon, lat) -> bool mask`` limits the segments kept (the windows).
    """
    fp = (
        osmium.FileProcessor(str(path))
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("highway", "building", "landuse", *keys))
    )
    su, sv, sxy = [], [], []
    n_walk = n_clipped = n_bld = n_lu = 0
    tagged: dict[str, tuple[dict[str, str], float, float, int, int]] = {}
    keyset = set(keys)
    for o in fp:
        tags = {t.k: t.v for t in o.tags}
        kind = "node" if o.is_node() else "way" if o.is_way() else "relation"
        if "building" in tags and tags["building"] != "no" and kind != "node":
            n_bld += 1
        if tags.get("landuse") == "residential" and kind != "node":
            n_lu += 1
        if keyset & tags.keys():
            lon = lat = math.nan
            n_in = n_ref = 1
            if kind == "node":
                lon, lat = o.location.lon, o.location.lat
            elif kind == "way":
                pts = [(n.location.lon, n.location.lat) for n in o.nodes if n.location.valid()]
                n_in, n_ref = len(pts), len(o.nodes)
                if pts:
                    lon, lat = np.mean(pts, axis=0)
            tagged[f"{kind}/{o.id}"] = (tags, lon, lat, n_in, n_ref)
        if kind == "way" and walkable(tags):
            n_walk += 1
            nodes = [(n.ref, n.location) for n in o.nodes]
            clipped = False
            for (a, la), (b, lb) in zip(nodes[:-1], nodes[1:], strict=True):
                if not (la.valid() and lb.valid()):
                    clipped = True
                    continue
                if a == b:
                    continue
                su.append(a)
                sv.append(b)
                sxy.append((la.lon, la.lat, lb.lon, lb.lat))
            n_clipped += clipped
    xy = np.asarray(sxy, dtype=float).reshape(-1, 4)
    u = np.asarray(su, dtype=np.int64)
    v = np.asarray(sv, dtype=np.int64)
    if keep is not None and len(xy):
        m = keep(xy[:, 0], xy[:, 1]) | keep(xy[:, 2], xy[:, 3])
        xy, u, v = xy[m], u[m], v[m]
    header = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
    box = header.header().box()
    header.close()
    bounds = (
        (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)
        if box.valid()
        else None
    )
    return Raw(u, v, xy, n_walk, n_clipped, tagged, n_bld, n_lu, bounds)


# ------------------------------------------------------------------ reference network


@dataclass
class RefNet:
    """The reference walking network of the windows (networkx, geodesic metres)."""

    G: nx.Graph
    crs: object
    seg_u: np.ndarray
    seg_v: np.ndarray
    seg_len: np.ndarray
    seg_line: np.ndarray  # projected LineStrings, u -> v
    tree: shapely.STRtree = field(repr=False)

    def snap(self, pts: np.ndarray):
        """Nearest raw segment of each projected point: (segment, metres from u, access leg)."""
        (src, seg), dist = self.tree.query_nearest(pts, return_distance=True, all_matches=False)
        order = np.argsort(src, kind="stable")
        src, seg, dist = src[order], seg[order], dist[order]
        first = np.r_[True, src[1:] != src[:-1]]
        src, seg, dist = src[first], seg[first], dist[first]
        out_seg = np.full(len(pts), -1)
        out_pos = np.zeros(len(pts))
        out_acc = np.full(len(pts), np.inf)
        out_seg[src] = seg
        out_acc[src] = dist
        lines = self.seg_line[seg]
        glen = shapely.length(lines)
        frac = np.divide(
            shapely.line_locate_point(lines, pts[src]), glen, out=np.zeros(len(src)), where=glen > 0
        )
        out_pos[src] = np.clip(frac, 0, 1) * self.seg_len[seg]
        return out_seg, out_pos, out_acc


def build_refnet(raw: Raw, crs) -> RefNet:
    """Build the reference network of the raw segments (shortest duplicate kept)."""
    xy = raw.seg_xy
    _, _, length = GEOD.inv(xy[:, 0], xy[:, 1], xy[:, 2], xy[:, 3])
    length = np.asarray(length, dtype=float)
    G = nx.Graph()
    for a, b, w in zip(raw.seg_u.tolist(), raw.seg_v.tolist(), length.tolist(), strict=True):
        if G.has_edge(a, b) and G[a][b]["w"] <= w:
            continue
        G.add_edge(a, b, w=w)
    pu = gpd.GeoSeries(shapely.points(xy[:, 0], xy[:, 1]), crs="EPSG:4326").to_crs(crs)
    pv = gpd.GeoSeries(shapely.points(xy[:, 2], xy[:, 3]), crs="EPSG:4326").to_crs(crs)
    lines = shapely.linestrings(
        np.stack([shapely.get_coordinates(pu.values), shapely.get_coordinates(pv.values)], axis=1)
    )
    return RefNet(G, crs, raw.seg_u, raw.seg_v, length, lines, shapely.STRtree(lines))


@dataclass
class RefSearch:
    """One multi-source Dijkstra from a layer's facilities over the reference network."""

    dist: dict  # node -> metres
    label: dict  # node -> facility position
    fac_seg: np.ndarray
    fac_pos: np.ndarray
    fac_acc: np.ndarray


def ref_search(net: RefNet, fac_pts: np.ndarray, limit: float) -> RefSearch:
    """Run one multi-source Dijkstra from the projected facility points up to ``limit``."""
    seg, pos, acc = net.snap(fac_pts) if len(fac_pts) else (np.zeros(0, int),) * 3
    G = net.G
    S = ("source",)
    added = [S]
    for i in range(len(fac_pts)):
        if seg[i] < 0 or acc[i] > limit:
            continue
        F = ("facility", i)
        added.append(F)
        G.add_edge(S, F, w=float(acc[i]))
        s = seg[i]
        for node, off in ((net.seg_u[s], pos[i]), (net.seg_v[s], net.seg_len[s] - pos[i])):
            if not G.has_edge(F, node) or G[F][node]["w"] > off:
                G.add_edge(F, node, w=float(off))
    try:
        if len(added) == 1:
            return RefSearch({}, {}, seg, pos, acc)
        pred, dist = nx.dijkstra_predecessor_and_distance(G, S, cutoff=limit, weight="w")
    finally:
        G.remove_nodes_from(added)
    label: dict = {}
    for node in sorted(dist, key=dist.get):
        if node == S:
            continue
        p = pred[node][0]
        label[node] = node[1] if isinstance(node, tuple) else label[p]
    dist = {k: v for k, v in dist.items() if not isinstance(k, tuple)}
    label = {k: v for k, v in label.items() if not isinstance(k, tuple)}
    return RefSearch(dist, label, seg, pos, acc)


def ref_point_distances(net: RefNet, rs: RefSearch, pts: np.ndarray, limit: float):
    """Return the reference distance and nearest facility of each point (inf beyond limit)."""
    seg, pos, acc = net.snap(pts)
    out = np.full(len(pts), np.inf)
    lab = np.full(len(pts), -1)
    on_seg = defaultdict(list)
    for i, s in enumerate(rs.fac_seg):
        if s >= 0 and rs.fac_acc[i] <= limit:
            on_seg[int(s)].append(i)
    for i in range(len(pts)):
        s = seg[i]
        if s < 0:
            continue
        cands = []
        for node, off in ((net.seg_u[s], pos[i]), (net.seg_v[s], net.seg_len[s] - pos[i])):
            if node in rs.dist:
                cands.append((rs.dist[node] + off, rs.label[node]))
        for f in on_seg.get(int(s), ()):
            cands.append((rs.fac_acc[f] + abs(rs.fac_pos[f] - pos[i]), f))
        if cands:
            d, f = min(cands)
            d += acc[i]
            if d <= limit:
                out[i], lab[i] = d, f
    return out, lab
