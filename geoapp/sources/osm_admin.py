"""OpenStreetMap administrative boundaries from a local extract, clipped relations included.

Read with pyosmium straight from the file (``.osm.pbf``, ``.osm``, ``.osm.bz2``), so the
PBF and XML readers give the same districts. An extract cut from a larger file keeps
boundary relations whose member ways are only partly inside. Each such relation is
either

* **closed along the extract's edge**: when the available member ways form open
  chains whose loose ends all lie on the extract's edge (its header bounding box, or
  the data extent), the chains are closed along that box and the district is kept,
  covering its part inside the extract; or
* **named in a warning**: with its relation id, admin level, how many buildings of the
  extract lie in the area its available ways span, and that their residents are
  counted under :data:`geoapp.region.OUTSIDE_DISTRICTS`.

Nothing is dropped silently.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import geopandas as gpd
import numpy as np
import shapely
import shapely.ops
from shapely.geometry import box

from geoapp.region import (
    ADMIN_AREA_COLUMNS,
    BOUNDARY_COLUMNS,
    OUTSIDE_DISTRICTS,
    WGS84,
    empty_gdf,
)
from geoapp.sources._osm_common import remember_newest
from geoapp.sources.boundaries import parse_population

if TYPE_CHECKING:
    from osmium.osm import Relation, Way

log = logging.getLogger(__name__)

#: A loose end this close to the extract's box (as a share of its diagonal) is on its edge.
EDGE_TOLERANCE = 0.01

_COMPLETE_HINT = (
    "Use an extract that holds the whole boundary (e.g. cut it with `osmium extract "
    "--strategy smart -S types=multipolygon,boundary`), or pass district boundaries "
    "with --boundaries."
)


@dataclass(frozen=True)
class AdminBoundaries:
    """Districts read from an extract's admin boundaries, and what could not be used.

    Attributes
    ----------
    boundaries
        The boundaries contract plus ``population`` (float, from the ``population``
        tag; NaN when absent or unparsable).
    warnings
        Plain sentences: one per relation closed along the extract's edge or left out.
    closed, incomplete
        Relation ids closed along the edge / left out.
    """

    boundaries: gpd.GeoDataFrame
    warnings: tuple[str, ...] = ()
    closed: tuple[int, ...] = ()
    incomplete: tuple[int, ...] = ()


@dataclass
class _Relation:
    rid: int
    tags: dict[str, str]
    outer: list[int] = field(default_factory=list)
    inner: list[int] = field(default_factory=list)
    centre: list[int] = field(default_factory=list)


#: The administrative boundary relations of the last file a reader's pass went through,
#: their member ways and the newest timestamp (:func:`remember_admin`), keyed by the
#: file's path, size and modification time.
_ADMIN_MEMO: dict[tuple[str, int, int], tuple[list, dict, Any, bool]] = {}


def admin_members(relation: Any) -> tuple[list[int], list[int], list[int], list[int]]:
    """Return a relation's outer and inner way ids and its admin_centre and label node ids.

    ``relation`` is a pyosmium relation; a way of any role but ``inner`` is outer.
    """
    out: dict[str, list[int]] = {"outer": [], "inner": [], "admin_centre": [], "label": []}
    for m in relation.members:
        if m.type == "w":
            out["inner" if m.role == "inner" else "outer"].append(int(m.ref))
        elif m.type == "n" and m.role in ("admin_centre", "label"):
            out[m.role].append(int(m.ref))
    return out["outer"], out["inner"], out["admin_centre"], out["label"]


def remember_admin(
    path: Any, relations: list, ways: dict, newest: Any, newest_seen: bool = True
) -> None:
    """Record the admin boundaries a reader's pass saw in ``path`` (every relation and way).

    ``relations``: ``(id, tags, outer, inner, admin_centre, label)`` of every
    ``boundary=administrative`` relation (:func:`admin_members`), ``ways``: ``{way id:
    (node ids, lon/lat with NaN where the node is not in the file)}`` of their member
    ways in the file, ``newest``: the newest timestamp of all ways and relations (also
    recorded by :func:`remember_newest` when ``newest_seen``; a reader that did not
    collect the timestamps, :func:`object_date_needed` being False, passes False).
    ``read_admin_areas`` then reads nothing again. Only the last file is kept.
    """
    stamp = _stamp(path)
    _ADMIN_MEMO.clear()
    if stamp is not None:
        _ADMIN_MEMO[stamp] = (relations, ways, newest, newest_seen)
    if newest_seen:
        remember_newest(path, newest)


def admin_memo(path: Any) -> tuple[list, dict, Any, bool] | None:
    """Return what :func:`remember_admin` recorded for ``path`` (None: nothing)."""
    stamp = _stamp(path)
    return _ADMIN_MEMO.get(stamp) if stamp is not None else None


def _stamp(path: Any) -> tuple[str, int, int] | None:
    try:
        st = os.stat(path)
        return (os.path.realpath(path), st.st_size, st.st_mtime_ns)
    except (OSError, TypeError, ValueError):
        return None


def _population(tags: dict[str, str]) -> float:
    """Return the ``population`` tag as a number (NaN when absent or unparsable)."""
    value = tags.get("population")
    # parse_population costs a pandas call: most boundaries carry no population
    return np.nan if value is None else float(parse_population([value])[0])


def _runs(coords: list[tuple[float, float] | None]) -> list[np.ndarray]:
    """Split a way's coordinates at missing locations into runs of >= 2 points."""
    out: list[np.ndarray] = []
    cur: list[tuple[float, float]] = []
    for c in [*coords, None]:
        if c is None:
            if len(cur) >= 2:
                out.append(np.asarray(cur))
            cur = []
        else:
            cur.append(c)
    return out


def _osm_file(path: Path) -> Any:
    """Return an ``osmium.io.File`` with its format named (``.xml`` is not guessed)."""
    import osmium

    name = path.name.lower()
    if name.endswith(".pbf"):
        fmt = "pbf"
    elif name.endswith(".bz2"):
        fmt = "osm.bz2"
    elif name.endswith(".gz"):
        fmt = "osm.gz"
    else:
        fmt = "osm"
    return osmium.io.File(str(path), fmt)


def _member_ways(
    path: Path, way_ids: Collection[int], node_ids: Collection[int] = ()
) -> tuple[dict[int, list[tuple[float, float] | None]], dict[int, tuple[float, float]]]:
    """Return the ways ``way_ids`` of ``path`` with their node locations, and nodes ``node_ids``.

    One pass over the nodes and ways: libosmium stores every node location in a sparse
    index (:func:`osmium.index` ``flex_mem``, 16 bytes a node when the ids are spread) and
    Python keeps the ways asked for. ``osmium.filter.IdFilter`` is not used: its dense id
    set takes half a megabyte per 4 M id range touched, gigabytes when the ids are spread
    widely (a tiled or merged extract). Returns ``{way id: [(lon, lat) or None where the
    node is not in the file]}`` in file order and ``{node id: (lon, lat)}`` of the
    ``node_ids`` in the file with a valid location.
    """
    import osmium
    from osmium.filter import EntityFilter
    from osmium.osm import NODE, WAY

    wanted = set(way_ids)
    ways: dict[int, list[tuple[float, float] | None]] = {}
    fp = osmium.FileProcessor(_osm_file(path), NODE | WAY).with_locations("flex_mem")
    fp = fp.with_filter(EntityFilter(WAY))  # the locations are stored before the filter
    for w in cast("Iterable[Way]", fp):
        if w.id in wanted:
            ways[int(w.id)] = [(n.lon, n.lat) if n.location.valid() else None for n in w.nodes]
    return ways, _locations_of(fp.node_location_storage, node_ids)


def _locations_of(store: Any, node_ids: Collection[int]) -> dict[int, tuple[float, float]]:
    """Return ``{node id: (lon, lat)}`` of the ``node_ids`` in ``store`` with a valid location."""
    out: dict[int, tuple[float, float]] = {}
    for nid in node_ids:
        try:
            loc = store.get(nid)
        except KeyError:  # not in the file
            continue
        if loc.valid():
            out[int(nid)] = (loc.lon, loc.lat)
    return out


def _way_refs(path: Path, way_ids: Collection[int]) -> tuple[dict[int, list[int]], Any]:
    """Return the node ids of the ways ``way_ids`` of ``path``, and its newest way's timestamp.

    A pass over the ways only (no ``IdFilter``: see :func:`_member_ways`).
    """
    import osmium
    from osmium.osm import WAY

    wanted = set(way_ids)
    refs: dict[int, list[int]] = {}
    newest = None
    for w in cast("Iterable[Way]", osmium.FileProcessor(_osm_file(path), WAY)):
        ts = w.timestamp
        if newest is None or ts > newest:
            newest = ts
        if w.id in wanted:
            refs[int(w.id)] = [int(n.ref) for n in w.nodes]
    return refs, newest


def _node_locations(path: Path, node_ids: Collection[int]) -> dict[int, tuple[float, float]]:
    """Return ``{node id: (lon, lat)}`` of the ``node_ids`` in ``path`` (valid locations).

    libosmium stores every node location in a sparse index, with no Python per node.
    """
    import osmium
    from osmium.osm import NODE

    store = osmium.index.create_map("flex_mem")
    reader = osmium.io.Reader(_osm_file(path), NODE)
    try:
        osmium.apply(reader, osmium.NodeLocationsForWays(store))
    finally:
        reader.close()
    return _locations_of(store, node_ids)


def _scan(
    path: Path, level: str
) -> tuple[dict[int, _Relation], dict[int, list[np.ndarray]], dict[int, bool], dict, Any]:
    """Read admin relations at ``level``, their member ways, centre nodes and the header box."""
    import osmium
    from osmium.filter import EntityFilter, TagFilter
    from osmium.osm import NODE, RELATION, WAY

    rels: dict[int, _Relation] = {}
    for r in cast(
        "Iterable[Relation]",
        osmium.FileProcessor(_osm_file(path), RELATION).with_filter(
            TagFilter(("boundary", "administrative"))
        ),
    ):
        tags = {t.k: t.v for t in r.tags}
        if tags.get("admin_level", "").strip() != level:
            continue
        rel = _Relation(int(r.id), tags)
        for m in r.members:
            if m.type == "w":
                (rel.inner if m.role == "inner" else rel.outer).append(int(m.ref))
            elif m.type == "n" and m.role in ("admin_centre", "label"):
                rel.centre.append(int(m.ref))
        rels[rel.rid] = rel
    way_ids = {w for r in rels.values() for w in (*r.outer, *r.inner)}
    lines: dict[int, list[np.ndarray]] = {}
    whole: dict[int, bool] = {}
    closed_ways: dict[int, tuple[dict[str, str], np.ndarray]] = {}
    centres: dict[int, tuple[float, float]] = {}
    if rels:
        node_ids = {n for r in rels.values() for n in r.centre}
        ways, centres = _member_ways(path, way_ids, node_ids)
        for wid, coords in ways.items():
            lines[wid] = _runs(coords)
            whole[wid] = all(c is not None for c in coords)
    else:
        fp = osmium.FileProcessor(_osm_file(path), NODE | WAY).with_locations()
        fp = fp.with_filter(EntityFilter(WAY))
        fp = fp.with_filter(TagFilter(("boundary", "administrative")))
        for w in cast("Iterable[Way]", fp):  # the entity filter keeps ways only
            coords = [(n.lon, n.lat) if n.location.valid() else None for n in w.nodes]
            tags = {t.k: t.v for t in w.tags}
            if (
                tags.get("admin_level", "").strip() == level
                and len(coords) >= 4
                and w.nodes[0].ref == w.nodes[-1].ref
                and all(c is not None for c in coords)
                and tags.get("name")
            ):
                closed_ways[int(w.id)] = (tags, np.asarray(coords))
    header = osmium.io.Reader(_osm_file(path), osmium.osm.osm_entity_bits.NOTHING).header().box()
    hbox = None
    if header.valid():
        bl, tr = header.bottom_left, header.top_right
        hbox = box(bl.lon, bl.lat, tr.lon, tr.lat)
    return rels, lines, whole, {"closed_ways": closed_ways, "centres": centres}, hbox


def _rings(parts: list[np.ndarray]) -> tuple[list[Any], list[Any]]:
    """Merge line parts; return (polygons of the closed rings, open chains)."""
    if not parts:
        return [], []
    coords = np.vstack(parts)
    index = np.repeat(np.arange(len(parts)), [len(p) for p in parts])
    lines = shapely.linestrings(coords, indices=index)
    merged = shapely.line_merge(shapely.union_all(lines))
    pieces = [g for g in shapely.get_parts(merged) if not g.is_empty]
    closed = [g for g in pieces if g.is_ring or g.is_closed]
    open_ = [g for g in pieces if not (g.is_ring or g.is_closed)]
    polys = list(shapely.get_parts(shapely.polygonize(closed))) if closed else []
    return [p for p in polys if p.area > 0], open_


def _on_edge(points: np.ndarray, area: Any, tol: float) -> np.ndarray:
    outside = ~shapely.contains(area, points)
    near = shapely.distance(points, area.exterior) <= tol
    return outside | near


def _close_along_edge(
    chains: list[Any],
    area: Any,
    taken: Any,
    centre: list[tuple[float, float]],
    others: Any = None,
) -> tuple[Any | None, str]:
    """Close open chains along the box ``area``; return (polygon or None, how chosen)."""
    clipped = [shapely.intersection(c, area) for c in chains]
    clipped = [c for c in clipped if not c.is_empty and c.length > 0]
    if not clipped:
        return None, ""
    # extend each clipped chain's ends straight to the box boundary, so they split it
    pieces = [area.exterior]
    for c in clipped:
        for part in shapely.get_parts(c):
            pieces.append(part)
            for end in (shapely.get_point(part, 0), shapely.get_point(part, -1)):
                near = shapely.ops.nearest_points(area.exterior, end)[0]
                if end.distance(near) > 0:
                    pieces.append(shapely.linestrings([[end.x, end.y], [near.x, near.y]]))
    noded = shapely.union_all(pieces)
    faces = [f for f in shapely.get_parts(shapely.polygonize([noded])) if f.area > 0]
    chain_union = shapely.union_all(clipped)
    faces = [f for f in faces if shapely.intersection(f.exterior, chain_union).length > 0]
    if not faces:
        return None, ""
    inside = [p for p in centre if area.contains(shapely.Point(p))]
    if inside:
        hit = [f for f in faces if any(f.contains(shapely.Point(p)) for p in inside)]
        if hit:
            return shapely.union_all(hit), "the side holding its admin centre"
    if others is not None and not others.is_empty:
        # a district holds no other district's boundary inside it
        tol = 1e-6 * max(1.0, float(np.hypot(*np.subtract(area.bounds[2:], area.bounds[:2]))))
        inner = [shapely.intersection(others, f.buffer(-tol)).length for f in faces]
        clean = [f for f, length in zip(faces, inner, strict=True) if length <= tol]
        if clean and len(clean) < len(faces):
            return shapely.union_all(clean), "the side that holds no other district's boundary"
    if taken is not None and not taken.is_empty:
        free = [f for f in faces if shapely.intersection(f, taken).area < 0.5 * f.area]
        if len(free) == 1 or (free and len(free) < len(faces)):
            return shapely.union_all(free), "the side not covered by the other districts"
    return min(faces, key=lambda f: f.area), "the smaller side (the data cannot tell which)"


def read_admin_boundaries(
    path: str | os.PathLike[str],
    admin_level: int | str,
    *,
    buildings: gpd.GeoDataFrame | None = None,
    extent: Any = None,
    source: str | None = None,
) -> AdminBoundaries:
    """Read the admin boundaries at ``admin_level`` of a local extract as districts.

    Parameters
    ----------
    path
        ``.osm.pbf``, ``.osm`` or ``.osm.bz2``.
    admin_level
        OSM ``admin_level`` (e.g. 8).
    buildings
        The extract's buildings (EPSG:4326), to count what an unusable relation spans.
    extent
        The data extent (a shapely geometry in EPSG:4326), used as the extract's edge
        when the file's header has no bounding box.
    source
        Name of the file in the warnings; default ``path``.

    Returns
    -------
    AdminBoundaries
    """
    path = Path(path)
    level = str(admin_level).strip()
    label = source or str(path)
    rels, lines, whole, extra, hbox = _scan(path, level)
    area = hbox if hbox is not None else (extent.envelope if extent is not None else None)
    rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    closed_ids: list[int] = []
    incomplete_ids: list[int] = []
    unused: list[str] = []
    pts = None
    if buildings is not None and len(buildings):
        pts = shapely.point_on_surface(np.asarray(buildings.geometry.to_numpy(), dtype=object))

    def _row(tags: dict[str, str], geom: Any) -> dict[str, Any]:
        name = tags.get("name") or tags.get("name:en") or tags.get("official_name") or "unnamed"
        code = tags.get("ref") or tags.get("ISO3166-2") or ""
        return {
            "district": name,
            "district_code": code,
            "zone_type": "unknown",
            "zone_fine": "",
            "population": _population(tags),
            "geometry": geom,
        }

    if not rels:
        for tags, coords in extra["closed_ways"].values():
            poly = shapely.make_valid(shapely.polygons(coords))
            if poly.area > 0:
                rows.append(_row(tags, poly))
    pending: list[tuple[_Relation, list[Any], list[Any], list[Any], int]] = []
    for rel in rels.values():
        outer_parts = [p for w in rel.outer for p in lines.get(w, [])]
        inner_parts = [p for w in rel.inner for p in lines.get(w, [])]
        missing = sum(1 for w in (*rel.outer, *rel.inner) if w not in lines)
        outers, open_chains = _rings(outer_parts)
        inners, _ = _rings(inner_parts)
        if outers and not open_chains:
            geom = shapely.union_all(outers)
            if inners:
                geom = shapely.difference(geom, shapely.union_all(inners))
            rows.append(_row(rel.tags, shapely.make_valid(geom)))
            continue
        pending.append((rel, outers, inners, open_chains, missing))
    taken = shapely.union_all([r["geometry"] for r in rows]) if rows else None
    for rel, outers, inners, open_chains, missing in pending:
        name = rel.tags.get("name") or "unnamed"
        n_ways = len(rel.outer) + len(rel.inner)
        what = f"{name} (relation {rel.rid}, admin_level {level})"
        ends_on_edge = False
        if open_chains and area is not None:
            tol = EDGE_TOLERANCE * float(np.hypot(*np.subtract(area.bounds[2:], area.bounds[:2])))
            xy = [
                shapely.get_coordinates(shapely.get_point(c, i))
                for c in open_chains
                for i in (0, -1)
            ]
            ends = shapely.points(np.vstack(xy))
            ends_on_edge = bool(_on_edge(ends, area, tol).all())
        if ends_on_edge:
            centre = [extra["centres"][n] for n in rel.centre if n in extra["centres"]]
            own = {*rel.outer, *rel.inner}
            other_lines = [
                shapely.linestrings(p) for w, parts in lines.items() if w not in own for p in parts
            ]
            others = shapely.union_all(other_lines) if other_lines else None
            face, how = _close_along_edge(open_chains, area, taken, centre, others)
            if face is not None:
                geom = shapely.union_all([face, *outers])
                if inners:
                    geom = shapely.difference(geom, shapely.union_all(inners))
                geom = shapely.make_valid(geom)
                # its population tag counts the whole district, not the part kept
                rows.append({**_row(rel.tags, geom), "population": np.nan})
                taken = geom if taken is None else shapely.union(taken, geom)
                closed_ids.append(rel.rid)
                tag_note = (
                    " Its population tag counts the whole district and is not used."
                    if np.isfinite(_population(rel.tags))
                    else ""
                )
                warnings.append(
                    f"{label}: {what} is cut by the extract's edge; its boundary was closed "
                    f"along the extract's bounding box ({how}), so the district covers only "
                    f"its part inside the extract.{tag_note}"
                )
                continue
        available = [*outers, *open_chains]
        if not available and not inners:
            log.info("%s: %s has none of its %d ways in the extract", label, what, n_ways)
            continue
        span = shapely.convex_hull(shapely.union_all(available))
        n_bld = int(shapely.contains(span, pts).sum()) if pts is not None else 0
        if missing:
            gone = f"{missing} of its {n_ways} member ways are missing"
        else:
            gone = "some of its member ways are cut"
        unused.append(
            f"{label}: {what} is incomplete in this extract ({gone}, and the ways present "
            f"do not close its boundary), so it is not used as a district. {n_bld} "
            "buildings of the extract lie in the area its available ways span; {where} "
            f"{_COMPLETE_HINT}"
        )
        incomplete_ids.append(rel.rid)
    where = (
        f'their residents are counted under "{OUTSIDE_DISTRICTS}".'
        if rows
        else "with no usable district at this level, the whole extract is one district."
    )
    warnings.extend(u.replace("{where}", where) for u in unused)
    for w in warnings:
        log.warning("%s", w)
    if rows:
        out = gpd.GeoDataFrame(rows, geometry="geometry", crs=WGS84)
        geoms = np.asarray(out.geometry.to_numpy(), dtype=object)
        keep = ~shapely.is_empty(geoms) & (shapely.area(geoms) > 0)
        out = out.loc[keep].reset_index(drop=True)
    else:
        out = empty_gdf((*BOUNDARY_COLUMNS, "population"))
        out["population"] = out["population"].astype(float)
    return AdminBoundaries(
        boundaries=out,
        warnings=tuple(warnings),
        closed=tuple(closed_ids),
        incomplete=tuple(incomplete_ids),
    )


def read_admin_areas(
    path: str | os.PathLike[str], *, place_ids: Any = (), place_names: Any = ()
) -> gpd.GeoDataFrame:
    """Read the administrative boundaries complete in an extract, at every level.

    Only relations that may control the demand are built: those tagging ``population``,
    those whose ``admin_centre`` or ``label`` member is one of ``place_ids`` (place
    nodes carrying ``population``) and those named like one of ``place_names`` (a
    municipality named after its village: :func:`geoapp.demand.settlements.settlement_places`
    decides which is a place's own area). A relation is complete when every member way is in
    the file with all its nodes and its outer ways close into rings; others are left
    out (they cannot be measured; :func:`read_admin_boundaries` reports the districts).
    Passes over the relations and the ways, and over the nodes (into libosmium's
    sparse location index) only when a selected relation has all its member ways in
    the file.

    Parameters
    ----------
    path
        ``.osm.pbf``, ``.osm`` or ``.osm.bz2``.
    place_ids
        ``"node/<id>"`` strings of the place nodes carrying ``population``.
    place_names
        Names of those place nodes (compared case-insensitively).

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`~geoapp.region.ADMIN_AREA_COLUMNS` and an EPSG:4326 geometry.
    """
    path = Path(path)
    wanted = {int(str(p).split("/")[1]) for p in place_ids if str(p).startswith("node/")}
    names = {str(n).strip().casefold() for n in place_names if isinstance(n, str) and n.strip()}

    def selected(tags: dict[str, str], centre: list[int], label: list[int]) -> bool:
        pop = _population(tags)
        named = str(tags.get("name") or "").strip().casefold() in names
        return bool((np.isfinite(pop) and pop > 0) or wanted.intersection(centre + label) or named)

    memo = admin_memo(path)  # the reader's pass saw them: no pass here
    if memo is not None:
        rels = [r for r in memo[0] if selected(r[1], r[4], r[5])]
        parts = _memo_parts(memo[1])
    else:
        rels, parts = _scan_admin_areas(path, selected)
    rows: list[dict[str, Any]] = []
    for rid, tags, outer, inner, centre, label in rels:
        outer_parts, inner_parts = parts(outer), parts(inner)
        if not outer_parts or inner_parts is None:
            continue
        outers, open_chains = _rings(outer_parts)
        if not outers or open_chains:
            continue
        geom = shapely.union_all(outers)
        inners, _ = _rings(inner_parts)
        if inners:
            geom = shapely.difference(geom, shapely.union_all(inners))
        geom = shapely.make_valid(geom)
        if geom.is_empty or geom.area <= 0:
            continue
        rows.append(
            {
                "osm_id": f"relation/{rid}",
                "name": tags.get("name") or tags.get("name:en") or None,
                "admin_level": (tags.get("admin_level") or "").strip(),
                "population": _population(tags),
                "centre": ",".join(f"node/{n}" for n in centre),
                "label": ",".join(f"node/{n}" for n in label),
                "geometry": geom,
            }
        )
    if not rows:
        return _empty_admin_areas()
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=WGS84)


def _memo_parts(
    ways: dict[int, tuple[np.ndarray, np.ndarray]],
) -> Callable[[list[int]], list[np.ndarray] | None]:
    """Return ``parts`` (see :func:`_scan_admin_areas`) of the member ways a reader kept."""

    def parts(way_ids: list[int]) -> list[np.ndarray] | None:
        out = []
        for w in way_ids:
            got = ways.get(w)
            if got is None or len(got[1]) < 2 or np.isnan(got[1]).any():
                return None
            out.append(got[1])
        return out

    return parts


def _scan_admin_areas(
    path: Path, selected: Callable[[dict[str, str], list[int], list[int]], bool]
) -> tuple[list, Callable[[list[int]], list[np.ndarray] | None]]:
    """Read the ``selected`` admin relations of ``path`` and the coordinates of their ways.

    Passes over the relations and the ways, and over the nodes (into libosmium's sparse
    location index) only when a selected relation has all its member ways in the file.
    Returns the relations ``(id, tags, outer, inner, admin_centre, label)`` and
    ``parts(way_ids)``: each way's lon/lat, None when a way or one of its nodes is not
    in the file or a way has fewer than two nodes.
    """
    import osmium
    from osmium.osm import RELATION

    rels: list[tuple[int, dict[str, str], list[int], list[int], list[int], list[int]]] = []
    newest = None  # of every relation, then way: the file's data date (remember_newest)
    for r in cast("Iterable[Relation]", osmium.FileProcessor(_osm_file(path), RELATION)):
        ts = r.timestamp
        if newest is None or ts > newest:
            newest = ts
        if r.tags.get("boundary") != "administrative":
            continue
        tags = {t.k: t.v for t in r.tags}
        outer, inner, centre, label = admin_members(r)
        if selected(tags, centre, label):
            rels.append((int(r.id), tags, outer, inner, centre, label))
    if not rels:
        return [], lambda _ways: None
    way_ids = {w for _, _, o, i, _, _ in rels for w in (*o, *i)}
    refs, newest_way = _way_refs(path, way_ids)
    if newest_way is not None and (newest is None or newest_way > newest):
        newest = newest_way
    remember_newest(path, newest)  # osm_data_date need not read the file again
    # node locations only for the relations whose member ways are all in the file
    whole = [r for r in rels if r[2] and all(w in refs for w in (*r[2], *r[3]))]
    need = {n for r in whole for w in (*r[2], *r[3]) for n in refs[w]}
    loc = _node_locations(path, need) if need else {}

    def parts(ways: list[int]) -> list[np.ndarray] | None:
        out = []
        for w in ways:
            coords = [loc.get(n) for n in refs.get(w, [])]
            if w not in refs or any(c is None for c in coords) or len(coords) < 2:
                return None
            out.append(np.asarray(coords))
        return out

    return rels, parts


def _empty_admin_areas() -> gpd.GeoDataFrame:
    out = empty_gdf(ADMIN_AREA_COLUMNS)
    out["population"] = out["population"].astype(float)
    return out
