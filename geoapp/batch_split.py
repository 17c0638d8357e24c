"""Split one large region by district, analyse the parts, and merge them exactly.

A region too large for one worker's network can be analysed district by district
(:func:`split_by_district`, :func:`analyse_split`; :mod:`geoapp.batch` does so for a
run with ``split = true``). Each part holds the demand points of
one district, and the streets and facilities within the district's area (its polygon
and its demand points' hull) grown by a halo as wide as the search distance ``L``. This
is exact: a walk of length at most ``L`` from a demand point never leaves the disc of
radius ``L`` around it (a path is at least as long as the straight line), so every
street it uses and the facility it reaches lie within ``L`` of the district, inside the
part. A part's network is a subgraph of the whole, so it cannot invent shorter paths;
it holds every path of length ``<= L``, so it finds the same nearest facility at the
same distance, and anything farther is ``inf`` in both. Facilities whose nearest street
in the whole region lies outside the part are dropped from the part: in the whole they
join the network more than ``L`` from the district and serve nobody there, but in the
part they would snap to a nearer street that is left. The merge takes each demand
point's distance from its own district's part and recomputes the summary, gaps and
hexagons from the merged access table, so they equal the whole region's.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from geoapp import coverage, network, workflow
from geoapp import gaps as _gaps
from geoapp import heritage as _heritage
from geoapp.catalog import Layer
from geoapp.crs import local_crs
from geoapp.demand import Demand
from geoapp.errors import InputError
from geoapp.hexes import aggregate_h3
from geoapp.inputs import no_facility_warning
from geoapp.layers import class_groups, select_features, split_designated
from geoapp.region import META_WARNINGS, OUTSIDE_DISTRICTS, Region, whole_region_boundary

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]

#: Extra width of the halo beyond the search distance: access legs are measured in the
#: projected CRS and edge lengths may be geodesic (the UTM scale factor differs from 1
#: by up to 0.1 %), so the halo is grown by 1 % plus 1 m to stay on the safe side.
HALO_SLACK = 0.01
HALO_PAD_M = 1.0


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    from geoapp import __version__

    out = {"geoapp": __version__}
    for pkg in ("geopandas", "shapely", "scipy", "numpy", "pandas", "dask", "distributed"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def search_limit_m(layer: Layer, speed_kmh: float | None = None) -> float:
    """Return the search distance of a layer's analysis (metres).

    :func:`geoapp.workflow.analyse_layer` searches up to ``SEARCH_FACTOR`` times the
    layer's largest radius at the run's speed; a split needs a halo this wide.
    """
    resolved = layer.at_speed(speed_kmh)
    return float(resolved.max_radius_m) * workflow.SEARCH_FACTOR


@dataclass(frozen=True, eq=False)
class Part:
    """One district of a split region, with its halo.

    Attributes
    ----------
    district
        The district's name (``district`` of its demand points).
    region
        The part: the district's boundary, the streets (``nodes``/``edges``) and
        features within the district's area grown by the halo; no buildings or
        landuse (the demand is given).
    demand
        The whole region's demand with only this district's points.
    halo_m
        The halo's nominal width (the search distance it was built for).
    crs
        The whole region's local CRS (every part measures in it, as the whole does).
    """

    district: str
    region: Region
    demand: Demand
    halo_m: float
    crs: CRS = field(repr=False)


def _area_of(region: Region, points: gpd.GeoSeries, district: str, crs: CRS) -> BaseGeometry:
    """Return a district's area in ``crs``: its polygon(s) and its demand points' hull."""
    geoms = []
    rows = region.boundaries.loc[region.boundaries["district"].astype(str) == district]
    if len(rows):
        geoms.append(rows.geometry.to_crs(crs).union_all())
    if len(points):
        geoms.append(shapely.convex_hull(shapely.multipoints(points.to_crs(crs).to_numpy())))
    return shapely.union_all(geoms)


def _edge_lines(region: Region, crs: CRS) -> np.ndarray:
    """Edge geometries in ``crs``; straight node-to-node lines where one is missing."""
    lines = np.array(region.edges.geometry.to_crs(crs).to_numpy(), dtype=object)
    missing = shapely.is_missing(lines) | shapely.is_empty(lines)
    if missing.any():
        xy = region.nodes.set_index("node_id").geometry.to_crs(crs)
        u = xy.reindex(region.edges["u"].to_numpy()[missing]).to_numpy()
        v = xy.reindex(region.edges["v"].to_numpy()[missing]).to_numpy()
        lines[missing] = shapely.linestrings(
            np.stack([shapely.get_coordinates(u), shapely.get_coordinates(v)], axis=1)
        )
    return lines


def _feature_points(features: gpd.GeoDataFrame, crs: CRS) -> np.ndarray:
    """Features as points in ``crs``, as :func:`geoapp.network.snap` places them."""
    geoms = np.array(features.geometry.to_crs(crs).to_numpy(), dtype=object)
    other = ~(shapely.get_type_id(geoms) == 0) & ~shapely.is_missing(geoms)
    geoms[other] = shapely.point_on_surface(geoms[other])
    return geoms


def split_by_district(region: Region, demand: Demand, halo_m: float) -> list[Part]:
    """Split a region into one part per district of its demand, each with a halo.

    Parameters
    ----------
    region
        The whole region (not changed).
    demand
        The whole region's demand (:func:`geoapp.workflow.prepare_demand`); it is
        estimated once for the whole region because census scaling and settlement
        classes depend on all of it. Each part keeps its district's points.
    halo_m
        The search distance of the analysis (:func:`search_limit_m`); the halo is
        this plus :data:`HALO_SLACK` and :data:`HALO_PAD_M`.

    Returns
    -------
    list of Part
        One per district holding demand (demand outside every district forms the
        :data:`~geoapp.region.OUTSIDE_DISTRICTS` part), in name order.

    Raises
    ------
    InputError
        When the halo is not a positive number or the region has no streets.
    """
    if not (isinstance(halo_m, int | float) and math.isfinite(halo_m) and halo_m > 0):
        raise InputError(
            f"split_by_district: halo_m {halo_m!r} must be a positive number of metres"
        )
    if len(region.edges) == 0:
        raise InputError(
            f"Region {region.name!r} has no walking network to split; a split needs streets."
        )
    crs = local_crs(region.nodes)
    pts = demand.points
    if not pts.index.is_unique:
        raise InputError("split_by_district: the demand points' index must be unique")
    districts = pts["district"].astype(object).where(pts["district"].notna(), OUTSIDE_DISTRICTS)
    districts = districts.astype(str)
    lines = _edge_lines(region, crs)
    tree = shapely.STRtree(lines)
    fpts = _feature_points(region.features, crs)
    has_f = ~shapely.is_missing(fpts) & ~shapely.is_empty(fpts)
    whole_d = np.full(len(fpts), np.inf)
    if has_f.any():
        (src, _), dist = tree.query_nearest(fpts[has_f], return_distance=True, all_matches=False)
        whole_d[np.flatnonzero(has_f)[src]] = dist
    width = float(halo_m) * (1.0 + HALO_SLACK) + HALO_PAD_M
    parts = []
    for name in sorted(districts.unique()):
        mask = (districts == name).to_numpy()
        area = _area_of(region, pts.geometry[mask], name, crs)
        zone = shapely.buffer(area, width)
        shapely.prepare(zone)
        eidx = np.sort(tree.query(zone, predicate="intersects"))
        edges = region.edges.iloc[eidx]
        ends = np.union1d(edges["u"].to_numpy(), edges["v"].to_numpy())
        nodes = region.nodes.loc[region.nodes["node_id"].isin(ends)]
        inside = has_f & shapely.contains_xy(zone, *_xy(fpts))
        keep = inside.copy()
        if inside.any() and len(eidx):
            part_tree = shapely.STRtree(lines[eidx])
            _, dist = part_tree.query_nearest(fpts[inside], return_distance=True, all_matches=False)
            # A facility whose nearest street lies outside the part joins the whole network
            # more than the halo away from the district: it serves nobody here.
            keep[np.flatnonzero(inside)] = dist <= whole_d[inside] + 1e-9
        dropped = int(inside.sum() - keep.sum())
        if dropped:
            log.info(
                "part %r: %d features join the network outside the halo; left out", name, dropped
            )
        bnd = region.boundaries.loc[region.boundaries["district"].astype(str) == name]
        if len(bnd) == 0:
            zone_ll = gpd.GeoSeries([zone], crs=crs).to_crs("EPSG:4326").iloc[0]
            bnd = whole_region_boundary(name, zone_ll)
        part_region = region.with_(
            name=f"{region.name} [{name}]",
            boundaries=bnd,
            features=region.features.loc[keep],
            nodes=nodes,
            edges=edges,
            buildings=region.buildings.iloc[0:0],
            landuse=region.landuse.iloc[0:0],
            census=None,
        )
        part_demand = dataclasses.replace(demand, points=pts.loc[mask])
        parts.append(Part(name, part_region, part_demand, float(halo_m), crs))
        log.info(
            "part %r: %d demand points, %d of %d edges, %d features",
            name,
            int(mask.sum()),
            len(edges),
            len(region.edges),
            int(keep.sum()),
        )
    return parts


def _xy(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out = np.full((len(points), 2), np.nan)
    ok = ~shapely.is_missing(points) & ~shapely.is_empty(points)
    out[ok] = shapely.get_coordinates(points[ok])
    return out[:, 0], out[:, 1]


@dataclass(frozen=True)
class PartJob:
    """One part and the layer to analyse on it (the unit a cluster worker runs)."""

    part: Part
    layer: Layer
    speed_kmh: float | None


def _speed_of(layer: Layer, speed_kmh: float | None) -> float:
    """Return the walking speed of an analysis: the given one, the layer's or the adult preset."""
    if speed_kmh is not None:
        return float(speed_kmh)
    return float(getattr(layer, "speed_kmh", None) or coverage.WALK_SPEED_KMH)


def analyse_part(job: PartJob) -> gpd.GeoDataFrame:
    """Return the access table of one part (its district's demand points).

    The part's network is built in the whole region's CRS, so access legs are measured
    as in the whole; the search distance is the layer's, as in the whole analysis.
    """
    part, layer = job.part, job.layer.at_speed(job.speed_kmh)
    # heritage: designated sites only, as in the whole run (geoapp.layers.split_designated)
    facilities, apart = split_designated(select_features(part.region.features, layer), layer)
    if len(part.region.edges) == 0:
        # no street within the halo: in the whole region every point here is farther
        # than the search distance from the network, so nobody is reached either way
        graph, facilities, apart = None, facilities.iloc[0:0], apart.iloc[0:0]
        mode = "euclidean"
    else:
        graph = network.cached_graph(part.region.nodes, part.region.edges, crs=part.crs)
        mode = "network"
    points = part.demand.points
    dsnap = network.snap(graph, points) if graph is not None and len(points) else None

    def distances(to: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        return coverage.compute_access(
            points,
            to,
            graph=graph,
            mode=mode,
            max_dist_m=search_limit_m(job.layer, job.speed_kmh),
            speed_kmh=_speed_of(layer, job.speed_kmh),
            layer_id=job.layer.id,
            demand_snap=dsnap,
        )

    access = distances(facilities)
    # the columns the whole run adds (geoapp.workflow.analyse_layer): per class group the
    # nearest site of the group, and the nearest undesignated feature (heritage)
    for group, members in class_groups(facilities, layer).items():
        access[f"dist_m_{group}"] = (
            distances(facilities.loc[members])["dist_m"].to_numpy() if members.any() else np.inf
        )
    if len(apart):
        access[f"dist_m_{_heritage.UNDESIGNATED}"] = distances(apart)["dist_m"].to_numpy()
    # the street-fragment flag as the whole gives it: the part holds every street within
    # the halo, so with a halo wider than a fragment (coverage.FRAGMENT_M) a point's
    # street is cut off here exactly when it is in the whole region (a narrower halo can
    # only flag more: a street cut at its edge)
    frag = (
        coverage.on_fragments(cast(network.WalkGraph, graph), points, demand_snap=dsnap)
        if dsnap is not None  # (then graph is not None)
        else np.zeros(len(points), dtype=bool)
    )
    return access.assign(access_mode="network", on_fragment=frag)


def merge_parts(
    region: Region,
    layer: Layer,
    demand: Demand,
    accesses: Iterable[gpd.GeoDataFrame],
    *,
    speed_kmh: float | None = None,
    with_catchments: bool = True,
    parts: Sequence[Part] = (),
) -> workflow.LayerAnalysis:
    """Merge the parts' access tables into the whole region's analysis.

    Each demand point keeps the distance of its own district's part; the summary, gaps
    and hexagons are recomputed from the merged table, in the whole demand's order, so
    they equal :func:`geoapp.workflow.analyse_layer` on the whole region.
    Catchments are not computed for a split run (``catchments`` is None; a warning
    says so when they were asked for).
    """
    t0 = time.perf_counter()
    frames = [a for a in accesses]
    access = pd.concat(frames) if frames else demand.points.iloc[0:0]
    access = gpd.GeoDataFrame(access, geometry="geometry", crs=demand.points.crs)
    access = access.loc[demand.points.index]
    access.attrs = {}
    on_fragment = None
    if "on_fragment" in access.columns:
        on_fragment = access["on_fragment"].fillna(False).to_numpy(bool)
        access = access.drop(columns="on_fragment")
    rlayer = layer.at_speed(speed_kmh)
    limit = search_limit_m(layer, speed_kmh)
    facilities, apart = split_designated(select_features(region.features, layer), layer)
    warnings = [*region.meta.get(META_WARNINGS, []), *demand.warnings]
    status = "ok"
    if len(facilities) == 0:
        status = "no_data"
        warnings.append(no_facility_warning(region, layer, n_apart=len(apart)))
    if with_catchments:
        warnings.append(
            "Catchment polygons are not computed for a run split by district (split = true); "
            "run it whole for catchments."
        )
    if len(facilities):  # the data-quality classes as the whole run gives them
        access = workflow.dq_access(region, access, rlayer, limit, on_fragment)
    summary = coverage.coverage_summary(
        access, rlayer, boundaries=region.boundaries, facilities=facilities, region_name=region.name
    )
    if layer.classify == "heritage":  # counts per protection class, as the whole run's
        every = pd.concat([facilities, apart], ignore_index=True)
        summary = _heritage.with_class_counts(summary, every, access, region.boundaries)
    if len(facilities) and on_fragment is not None:
        fragments = coverage.fragment_warning(
            None, access, layer_id=layer.id, on_fragment=on_fragment
        )
        if fragments:
            warnings.append(fragments)
    gaps = (
        _gaps.find_gaps(access, rlayer, search_limit_m=limit, on_fragment=on_fragment)
        if len(facilities)
        else _gaps.empty_gaps()
    )
    hexes = aggregate_h3(access)
    speed = _speed_of(rlayer, speed_kmh)
    meta = {
        **workflow.layer_meta(
            region,
            rlayer,
            demand,
            mode="network",
            speed_kmh=speed,
            search_limit_m=limit,
            warnings=warnings,
            n_facilities=len(facilities),
            n_demand_points=len(access),
            access=access,
        ),
        "split": {
            "by": "district",
            "parts": [
                {
                    "district": p.district,
                    "n_demand_points": len(p.demand.points),
                    "n_edges": len(p.region.edges),
                }
                for p in parts
            ],
            "halo_m": limit * (1.0 + HALO_SLACK) + HALO_PAD_M,
        },
        "timings_s": {"merge_s": round(time.perf_counter() - t0, 3)},
        "versions": _versions(),
    }
    return workflow.LayerAnalysis(
        rlayer,
        facilities,
        access,
        summary,
        None,
        gaps,
        hexes,
        meta,
        status=status,
        warnings=tuple(warnings),
        on_fragment=on_fragment if len(facilities) else None,
    )


def analyse_split(
    region: Region,
    layer: Layer,
    *,
    demand: Demand,
    speed_kmh: float | None = None,
    with_catchments: bool = True,
    map_parts: Callable[[Callable, list], list] | None = None,
    progress: Progress | None = None,
) -> workflow.LayerAnalysis:
    """Analyse one layer district by district and merge: equal to the whole analysis.

    Parameters
    ----------
    region, layer, demand
        As for :func:`geoapp.workflow.analyse_layer` (network mode).
    speed_kmh
        Walking speed; None for the analysis default.
    with_catchments
        Asked-for catchments are not computed for a split run; a warning says so.
    map_parts
        ``map_parts(func, items)`` -> list of results; default the built-in ``map``
        (one part after the other); :func:`run_batch` passes one that spreads the
        parts over the cluster.
    progress
        ``progress(message, fraction)``.

    Returns
    -------
    geoapp.workflow.LayerAnalysis
        ``distances`` and ``summary`` equal to the whole region's (see the module
        docstring for why), ``catchments`` None, ``meta["split"]`` naming the parts.
    """
    limit = search_limit_m(layer, speed_kmh)
    if progress is not None:
        progress(f"{layer.name()}: splitting by district (halo {limit:,.0f} m)", 0.05)
    parts = split_by_district(region, demand, limit)
    jobs = [PartJob(p, layer, speed_kmh) for p in parts]
    mapper = map_parts or (lambda f, items: list(map(f, items)))
    if progress is not None:
        progress(f"{layer.name()}: {len(parts)} parts", 0.2)
    accesses = mapper(analyse_part, jobs)
    if progress is not None:
        progress(f"{layer.name()}: merging {len(parts)} parts", 0.8)
    return merge_parts(
        region,
        layer,
        demand,
        accesses,
        speed_kmh=speed_kmh,
        with_catchments=with_catchments,
        parts=parts,
    )
