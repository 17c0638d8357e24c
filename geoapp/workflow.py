"""One call per analysis step, shared by the CLI, the app and the analyst scripts.

The front door (also as ``geoapp.analyse``, ``geoapp.site``, ``geoapp.supply``) takes
a region as a :class:`~geoapp.region.Region`, a :class:`~geoapp.spec.RegionSpec` or a
preset name, and a layer as a :class:`~geoapp.catalog.Layer` or its id, and prepares
(and caches) the demand and the walking graph when they are not given::

    result = analyse("demo", "elderly_care")           # coverage + gaps of one layer
    sites = site("demo", "elderly_care", 3)            # three new sites
    capacity = supply("demo", "elderly_care")          # beds per 1,000 and 2SFCA

The steps underneath are thin compositions of the library's pure functions::

    region = load_region(RegionSpec(osm="city.osm.pbf"))   # sources (geoapp.inputs)
    demand, graph = prepare(region)                     # population + network (cached)
    result = analyse_layer(region, layer, demand=demand, graph=graph)   # coverage + gaps
    zones = compare(region, {layer.id: result})         # zone comparison
    write_bundle(result, region, "out/")                # export (geoapp.bundle)

Each step accepts an optional ``progress`` callback ``progress(message, fraction)``
that front ends wire to a progress bar (rich in the CLI, ``st.progress`` in the app).
"""

from __future__ import annotations

import logging
import platform
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd

from geoapp import __version__, artefacts, coverage, network
from geoapp import catalog as _catalog
from geoapp import gaps as _gaps
from geoapp import heritage as _heritage
from geoapp import siting as _siting
from geoapp.catalog import Layer
from geoapp.demand import Demand
from geoapp.errors import InputError
from geoapp.hexes import aggregate_h3
from geoapp.i18n import t as ui_text
from geoapp.inputs import (
    Progress,
    add_facility_tables,
    as_layer,
    as_region,
    get_graph,
    load_region,
    no_facility_warning,
    prepare,
    prepare_demand,
    region_demand,
    replace_districts,
    tick,
)
from geoapp.layers import class_groups, select_features, selection_warnings, split_designated
from geoapp.messages import group_warnings
from geoapp.region import META_WARNINGS, SYNTHETIC_LABEL, Region
from geoapp.spec import RegionSpec

if TYPE_CHECKING:
    import folium

    from geoapp import sfca as _sfca

# geoapp.maps, export and sfca are imported where they are used: unpickling an
# analysis (the app's first page) needs this module, not folium's map code, pyogrio or
# scipy.spatial.

log = logging.getLogger(__name__)

#: Distances are searched up to this multiple of a layer's largest radius, so gap
#: reasons can say how far the nearest facility is.
SEARCH_FACTOR = 3.0

#: A region as the front door takes it: loaded, its recipe, or a preset name.
RegionLike = Region | RegionSpec | str


@dataclass
class LayerAnalysis:
    """Everything computed for one layer on one region."""

    layer: Layer
    facilities: gpd.GeoDataFrame
    access: gpd.GeoDataFrame
    summary: pd.DataFrame
    catchments: gpd.GeoDataFrame | None
    gaps: gpd.GeoDataFrame
    hexes: gpd.GeoDataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    #: ``"ok"`` or ``"no_data"`` (no facility of the layer in the data for the region).
    status: str = "ok"
    #: Plain-sentence warnings for this analysis (region, demand and layer), in order.
    warnings: tuple[str, ...] = ()
    #: Per row of ``access`` (network mode): the demand point's nearest street is a
    #: fragment connected to no other street (``coverage.on_fragments``); None in
    #: straight-line mode. Gap reasons at any radius say so when most of a gap is on one.
    on_fragment: np.ndarray | None = None


def versions() -> dict[str, str]:
    """Return the versions of geoapp, Python and the libraries that shape the results."""
    import importlib.metadata as md

    out = {"geoapp": __version__, "python": platform.python_version()}
    for pkg in (
        "geopandas",
        "shapely",
        "scipy",
        "numpy",
        "pandas",
        "osmnx",
        "pyrosm",
        "osmium",
        "rasterio",
        "h3",
        "folium",
    ):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def region_meta(region: Region) -> dict[str, Any]:
    """Return provenance for outputs, with the synthetic label where it applies."""
    meta: dict[str, Any] = {
        "region": region.label,
        "source": region.source,
        "synthetic": bool(region.synthetic),
        "zone_method": region.zone_method
        or region.meta.get("zone_method")
        or (
            "district attributes"
            if (region.boundaries.get("zone_type", "unknown") != "unknown").any()
            else "none: no zone data, one zone type 'unknown'"
        ),
        "attribution": region.meta.get(
            "attribution", "© OpenStreetMap contributors, ODbL" if not region.synthetic else ""
        ),
    }
    # when the data was current (the OSM file's header or newest object): never "now"
    meta["data_date"] = region.data_date
    meta["data_date_source"] = (
        f"{SYNTHETIC_LABEL}: invented, no survey date"
        if region.synthetic
        else region.meta.get("data_date_source") or ("" if region.data_date else "unknown")
    )
    if region.synthetic:
        meta["data_label"] = SYNTHETIC_LABEL
    return meta


def layer_meta(
    region: Region,
    layer: Layer,
    demand: Demand,
    *,
    mode: str,
    speed_kmh: float,
    search_limit_m: float,
    warnings: list[str],
    n_facilities: int,
    n_demand_points: int,
    access: gpd.GeoDataFrame | None = None,
) -> dict[str, Any]:
    """Return the metadata of one layer's analysis (``metadata.json`` of its bundle).

    The region's provenance (:func:`region_meta`), the layer at its walking speed,
    the demand's method, assumptions, profile, zones and data quality, the warnings
    and the counts. One function for :func:`analyse_layer` and the merged split
    analysis (:func:`geoapp.batch_split.merge_parts`), which add their timings and
    versions (and the split's parts) after it.

    Parameters
    ----------
    layer
        The layer at the analysis's speed (``layer.at_speed(speed_kmh)``).
    speed_kmh
        The walking speed the distances were converted at.
    search_limit_m
        How far facilities were searched (``SEARCH_FACTOR`` x the largest radius).
    access
        The access table: its residents per data-quality class
        (``data_quality_classes``: ``network_gap`` and ``edge_of_data``, each with
        ``demand_points``, ``pop`` and ``pop_60plus``; :func:`geoapp.artefacts.dq_pop`).
    """
    return {
        **region_meta(region),
        "layer": layer.id,
        "layer_label": dict(layer.label),
        "layer_file": layer.source_file,
        "mode": mode,
        "speed_kmh": speed_kmh,
        "radii_m": list(layer.radii_m),
        "target_m": layer.target_m,
        "minutes": list(layer.minutes),
        "target_min": layer.target_min,
        "reach_m": {k: round(v, 3) for k, v in layer.reach_m.items()},
        "search_limit_m": search_limit_m,
        "demand_method": demand.method,
        "assumptions": list(demand.assumptions),
        "population_profile": dict(demand.profile),
        "zone_method": demand.zone_method,
        "zone_params": dict(demand.zone_params),
        "control_totals": demand.control_totals,
        "data_quality": demand.quality.astype(object)
        .where(demand.quality.notna(), None)
        .to_dict(orient="records"),
        "warnings": group_warnings(warnings),
        "n_facilities": n_facilities,
        "n_demand_points": n_demand_points,
        "data_quality_classes": artefacts.dq_pop(access if access is not None else demand.points),
    }


def clipped_facilities(region: Region, facilities: gpd.GeoDataFrame) -> int:
    """Return how many ``facilities`` are ways cut by the extract's edge (``clipped``).

    Such a facility is kept from its nodes in the file (a smaller area or a point); the
    region's ``features`` say which (:func:`geoapp.sources.osm_file.read_osm_file`).
    """
    f = region.features
    if "clipped" not in f.columns or not len(facilities) or "facility_id" not in facilities:
        return 0
    cut = set(f.loc[f["clipped"].fillna(False).astype(bool), "osm_id"].astype(str))
    ids = facilities["facility_id"].astype(str).str.split("#").str[0]
    return int(ids.isin(cut).sum())


def dq_access(
    region: Region,
    access: gpd.GeoDataFrame,
    layer: Layer,
    search_limit_m: float,
    on_fragment: np.ndarray | None,
) -> gpd.GeoDataFrame:
    """Return ``access`` with its ``dq_class`` (:func:`geoapp.artefacts.with_dq_class`).

    Judged at the layer's target against the region's streets and the hull of all its
    data (streets, buildings, features, land use); one rule for the whole and the split run.
    """
    return artefacts.with_dq_class(
        access,
        target_m=float(layer.target_m),
        search_limit_m=search_limit_m,
        streets=region.edges,
        extent=(region.buildings, region.features, region.landuse),
        on_fragment=on_fragment,
    )


def analyse_layer(
    region: Region,
    layer: Layer,
    *,
    demand: Demand,
    graph: network.WalkGraph | None = None,
    mode: str = "network",
    speed_kmh: float | None = None,
    with_catchments: bool = True,
    progress: Progress | None = None,
) -> LayerAnalysis:
    """Run coverage, catchments and gaps for one layer.

    Parameters
    ----------
    region
        The loaded region.
    layer
        The catalog layer to analyse.
    demand
        Output of :func:`prepare_demand` (its ``points`` are the demand; its warnings,
        profile and data-quality table go into the metadata).
    graph
        Output of :func:`get_graph`; required for ``mode="network"``.
    mode
        ``"network"`` (walking distance over streets) or ``"euclidean"``.
    speed_kmh
        Walking speed in km/h (presets: 4.5 adult, 3.6 elderly); None: the layer's
        own (its file's ``speed_kmh``, else the adult preset). For a minute-based layer
        the speed sets the reach (minutes x speed), so a slower walker is covered
        less; for a metre-based layer it only converts distances to ``walk_min``.
        ``LayerAnalysis.layer`` is the layer at this speed (``layer.at_speed``).
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    layer = layer.at_speed(speed_kmh)
    speed_kmh = layer.walk_speed_kmh
    warnings = [*region.meta.get(META_WARNINGS, []), *demand.warnings]
    tick(progress, f"{layer.name()}: selecting facilities", 0.05)
    facilities = select_features(region.features, layer)
    # near-misses (named like the service, matching no rule) and thin heritage classes
    imported = any(t.get("layer") == layer.id for t in region.meta.get("facility_tables", []))
    warnings += selection_warnings(
        region.features, layer, facilities, region.buildings, imported=imported
    )
    # heritage: coverage and status on designated sites; memorials ... reported apart
    facilities, apart = split_designated(facilities, layer)
    status = "ok"
    if len(facilities) == 0:
        status = "no_data"
        no_data = no_facility_warning(region, layer, n_apart=len(apart))
        warnings.append(no_data)
        log.warning("%s", no_data)
    timings["select_s"] = time.perf_counter() - t0

    t = time.perf_counter()
    tick(progress, f"{layer.name()}: walking distances", 0.2)
    limit = layer.max_radius_m * SEARCH_FACTOR
    on_net = mode == "network" and graph is not None and len(facilities) > 0
    # one snap of the demand to the streets serves distances, fragments and gaps
    net = cast(network.WalkGraph, graph)  # not None when on_net
    dsnap = network.snap(net, demand.points) if on_net and len(demand.points) else None
    access = coverage.compute_access(
        demand.points,
        facilities,
        graph=graph,
        mode=mode,
        max_dist_m=limit,
        speed_kmh=speed_kmh,
        layer_id=layer.id,
        demand_snap=dsnap,
    )
    for group, members in class_groups(facilities, layer).items():
        # a classified layer (heritage): distance to the nearest site of a class or higher
        access[f"dist_m_{group}"] = (
            coverage.compute_access(
                demand.points,
                facilities.loc[members],
                graph=graph,
                mode=mode,
                max_dist_m=limit,
                speed_kmh=speed_kmh,
                layer_id=layer.id,
                demand_snap=dsnap,
            )["dist_m"].to_numpy()
            if members.any()
            else np.inf
        )
    if len(apart):  # heritage apart from coverage: nearest memorial, statue ... (never judged)
        access[f"dist_m_{_heritage.UNDESIGNATED}"] = coverage.compute_access(
            demand.points, apart, graph=graph, mode=mode, max_dist_m=limit,
            speed_kmh=speed_kmh, layer_id=layer.id, demand_snap=dsnap,
        )["dist_m"].to_numpy()  # fmt: skip
    on_fragment = None
    if on_net and dsnap is not None and len(access) == len(demand.points):
        on_fragment = coverage.on_fragments(net, access, demand_snap=dsnap)
        fragments = coverage.fragment_warning(
            graph, access, layer_id=layer.id, on_fragment=on_fragment
        )
        if fragments:
            warnings.append(fragments)
    if len(facilities):  # the residents whose gap the data made (geoapp.artefacts)
        access = dq_access(region, access, layer, limit, on_fragment)
    timings["distance_s"] = time.perf_counter() - t

    t = time.perf_counter()
    summary = coverage.coverage_summary(
        access, layer, boundaries=region.boundaries, facilities=facilities, region_name=region.name
    )
    if layer.classify == "heritage":  # counts per protection class, the apart ones too
        every = pd.concat([facilities, apart], ignore_index=True)
        summary = _heritage.with_class_counts(summary, every, access, region.boundaries)
    timings["summary_s"] = time.perf_counter() - t

    catchments = None
    if with_catchments and mode == "network" and graph is not None and len(facilities):
        t = time.perf_counter()
        tick(progress, f"{layer.name()}: catchments", 0.5)
        catchments = coverage.catchments(graph, facilities, layer.radii_m, demand_access=access)
        timings["catchments_s"] = time.perf_counter() - t

    t = time.perf_counter()
    tick(progress, f"{layer.name()}: gaps", 0.8)
    # no facility in the data is missing data, not missing service: no gaps
    gap_areas = (
        _gaps.find_gaps(access, layer, search_limit_m=limit, on_fragment=on_fragment)
        if len(facilities)
        else _gaps.empty_gaps()
    )
    hexes = aggregate_h3(access)
    timings["gaps_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t0

    meta = {
        **layer_meta(
            region,
            layer,
            demand,
            mode=mode,
            speed_kmh=speed_kmh,
            search_limit_m=limit,
            warnings=warnings,
            n_facilities=len(facilities),
            n_demand_points=len(demand.points),
            access=access,
        ),
        # facilities mapped as ways cut by the extract's edge, kept from their present nodes
        "clipped_facilities": clipped_facilities(region, facilities),
        **(
            {"heritage_classes": _heritage.class_totals(pd.concat([facilities, apart]))}
            if layer.classify == "heritage"
            else {}
        ),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "versions": versions(),
    }
    tick(progress, f"{layer.name()}: done", 1.0)
    return LayerAnalysis(
        layer,
        facilities,
        access,
        summary,
        catchments,
        gap_areas,
        hexes,
        meta,
        status=status,
        warnings=tuple(group_warnings(warnings)),
        on_fragment=on_fragment,
    )


def compare(
    region: Region,
    analyses: Mapping[str, LayerAnalysis],
    targets: Mapping | None = None,
    *,
    by: str = "zone_type",
) -> pd.DataFrame:
    """Compare coverage across zone types (or ``by="settlement"``) for every analysed layer.

    The result is ``zones.csv``; unreached residents count at each layer's search limit.
    """
    return _gaps.compare_zones(
        {k: a.access for k, a in analyses.items()},
        {k: a.facilities for k, a in analyses.items()},
        {k: a.layer for k, a in analyses.items()},
        targets=targets,
        boundaries=region.boundaries,
        search_limit_m={k: float(a.meta["search_limit_m"]) for k, a in analyses.items()},
        by=by,
    )


def zones_table(
    region: Region, analyses: Mapping[str, LayerAnalysis], targets: Mapping | None = None
) -> pd.DataFrame:
    """Return ``zones.csv``: the comparison by zone type, then by settlement class.

    A ``grouping`` column says which (``"zone_type"`` or ``"settlement"``); each row
    fills the column of its own grouping. With planned zones (the Beijing preset, a zone
    TOML) the two differ: the township seats of an ecological district are ``new_town``
    settlements inside a ``rural`` zone type.
    """
    by_zone = compare(region, analyses, targets).assign(grouping="zone_type")
    has_settlement = all("settlement" in a.access.columns for a in analyses.values())
    if not analyses or not has_settlement:
        return by_zone[["grouping", *by_zone.columns[:-1]]]
    by_settlement = compare(region, analyses, targets, by="settlement").assign(
        grouping="settlement"
    )
    both = pd.concat([by_zone, by_settlement], ignore_index=True)
    first = ["grouping", "layer", "zone_type", "settlement"]
    return both[[*first, *[c for c in both.columns if c not in first]]]


def heritage(
    region: Region,
    access: gpd.GeoDataFrame | None = None,
    buffer_m: float = 100.0,
    layer: Layer | None = None,
) -> _heritage.HeritageReport:
    """Return the heritage report (sites, protected zones, per-district summary).

    ``layer`` is the heritage layer to use (default: the catalog's ``heritage``), so a
    user's ``--layer-file`` override is honoured.
    """
    layer = layer if layer is not None else _catalog.get_layer("heritage")
    feats = select_features(region.features, layer)
    return _heritage.heritage_report(
        feats,
        region.boundaries,
        access=access,
        buffer_m=buffer_m,
        layer=layer,
        region_name=region.name,
    )


def coverage_map(
    region: Region,
    analysis: LayerAnalysis,
    lang: str = "en",
    basemap: str | None = None,
    catchments_radius_m: float | None = None,
) -> folium.Map:
    """Return the folium map of one layer's coverage, with the OSM data's date in a note."""
    from geoapp import maps

    m = maps.coverage_map(
        region_boundaries=region.boundaries,
        hexes=analysis.hexes,
        facilities=analysis.facilities,
        catchments=analysis.catchments,
        gaps=analysis.gaps,
        edges=region.edges,
        layer=analysis.layer,
        lang=lang,
        basemap=basemap,
        synthetic=region.synthetic,
        radius_m=catchments_radius_m,
        mode=analysis.meta.get("mode", "network"),
        speed_kmh=analysis.meta.get("speed_kmh"),
        search_limit_m=analysis.meta.get("search_limit_m"),
        access=analysis.access,
    )
    if not region.synthetic:  # when the data was current (the demo says it is synthetic)
        date = region.data_date
        note = (
            ui_text("data_date", lang, date=date[:10])
            if date
            else ui_text("data_date_unknown", lang)
        )
        maps.add_note(m, note, position="bottomleft")
    return m


def csv_ready(df: pd.DataFrame) -> pd.DataFrame:
    """Round a result table for CSV (shares 4 decimals, counts integers).

    :func:`geoapp.export.csv_ready`, imported on first use.
    """
    from geoapp import export

    return export.csv_ready(df)


# ---- the front door: (region, layer) in, a result out ------------------------------------


def speed_kmh_of(speed: float | str | None) -> float | None:
    """Return a walking speed in km/h from a number or a preset name (``adult``, ``elderly``).

    Raises
    ------
    InputError
        Not a number or a preset, or outside the plausible walking speeds.
    """
    if speed is None:
        return None
    if isinstance(speed, str):
        key = speed.strip().lower()
        if key in _catalog.SPEED_PRESETS:
            return _catalog.SPEED_PRESETS[key]
        try:
            speed = float(key)
        except ValueError:
            raise InputError(
                f"speed {speed!r}: give km/h (e.g. 3.6) or a preset "
                f"({', '.join(_catalog.SPEED_PRESETS)})"
            ) from None
    return _catalog.check_speed(speed, "speed")


def _inputs(
    region: RegionLike,
    layer: Layer | str,
    demand: Demand | None,
    graph: network.WalkGraph | None,
    mode: str,
    progress: Progress | None,
) -> tuple[Region, Layer, Demand, network.WalkGraph | None]:
    """Resolve the front door's head and prepare what is missing (cached)."""
    if mode not in coverage.MODES:
        raise InputError(f"mode {mode!r} is unknown; use one of {', '.join(coverage.MODES)}")
    reg = as_region(region, progress=progress, prepare_graph=mode == "network")
    lay = as_layer(layer, region)
    if demand is None and graph is None:
        demand, graph = prepare(reg, mode=mode, progress=progress)
    if demand is None:
        demand = region_demand(reg, progress=progress)
    if graph is None and mode == "network":
        graph = get_graph(reg, progress=progress)
    return reg, lay, demand, graph


def analyse(
    region: RegionLike,
    layer: Layer | str,
    *,
    demand: Demand | None = None,
    graph: network.WalkGraph | None = None,
    speed: float | str | None = None,
    mode: str = "network",
    with_catchments: bool = True,
    progress: Progress | None = None,
) -> LayerAnalysis:
    """Who is within walking reach of one layer's facilities: coverage, catchments, gaps.

    :func:`analyse_layer` with the inputs prepared: the demand
    (:func:`~geoapp.inputs.prepare_demand`, kept for the region object and cached on
    disk) and the walking graph (cached) are computed when not given.

    Parameters
    ----------
    region
        A :class:`~geoapp.region.Region`, a :class:`~geoapp.spec.RegionSpec` or a
        preset name (``"demo"``).
    layer
        A :class:`~geoapp.catalog.Layer` or a layer id (looked up in the catalog of
        the region's spec, its ``layer_files`` included).
    demand, graph
        Reuse a demand estimate or a graph computed before.
    speed
        Walking speed: km/h or a preset (``"adult"`` 4.5, ``"elderly"`` 3.6); None:
        the layer's own.
    mode
        ``"network"`` (walking distance over streets) or ``"euclidean"``.
    with_catchments
        Also compute the catchment polygons (network mode).
    progress
        ``progress(message, fraction)`` callback.

    Returns
    -------
    LayerAnalysis
        ``summary`` holds the share of the layer's demand within each radius per
        region, district, zone type and settlement class.

    Examples
    --------
    The share of residents aged 60+ within the elderly-care target (900 m: 15 minutes
    at 3.6 km/h) on the synthetic demo, and the same share counted from the demand
    points' distances:

    >>> import geoapp
    >>> result = geoapp.analyse(geoapp.load_region("demo"), "elderly_care")
    >>> result.status, result.layer.target_m, result.meta["n_facilities"]
    ('ok', 900.0, 111)
    >>> whole = result.summary.query("level == 'region'").iloc[0]
    >>> round(float(whole["share_pop_60plus_15min"]), 2)
    0.79
    >>> acc = result.access
    >>> near = acc["dist_m"] <= 900
    >>> share = acc.loc[near, "pop_60plus"].sum() / acc["pop_60plus"].sum()
    >>> bool(abs(share - whole["share_pop_60plus_15min"]) < 1e-9)
    True
    """
    reg, lay, demand, graph = _inputs(region, layer, demand, graph, mode, progress)
    return analyse_layer(
        reg,
        lay,
        demand=demand,
        graph=graph,
        mode=mode,
        speed_kmh=speed_kmh_of(speed),
        with_catchments=with_catchments,
        progress=progress,
    )


def site(
    region: RegionLike,
    layer: Layer | str,
    k: int,
    *,
    demand: Demand | None = None,
    graph: network.WalkGraph | None = None,
    speed: float | str | None = None,
    progress: Progress | None = None,
    **options: Any,
) -> _siting.SitingResult:
    """Choose ``k`` new sites that bring the most residents within the layer's reach.

    :func:`geoapp.siting.site` with the region, layer, demand and graph resolved as
    :func:`analyse` resolves them; ``options`` are its keywords (``candidates``,
    ``exclude_heritage``, ``time_limit_s``, ``exact`` ...). Write the result with
    :func:`geoapp.bundle.write_siting_bundle`.

    Examples
    --------
    >>> import geoapp
    >>> result = geoapp.site("demo", "elderly_care", 2, time_limit_s=20)
    >>> len(result.sites), result.meta["target_m"]
    (2, 900.0)
    >>> added = result.meta["covered_after"] - result.meta["covered_before"]
    >>> bool(abs(added - result.sites["added_pop_60plus"].sum()) < 1e-6)
    True
    """
    reg, lay, demand, graph = _inputs(region, layer, demand, graph, "network", progress)
    assert graph is not None  # network mode: _inputs built it
    return _siting.site(
        reg,
        lay,
        k,
        demand=demand,
        graph=graph,
        speed_kmh=speed_kmh_of(speed),
        progress=progress,
        **options,
    )


@dataclass
class SupplyAnalysis:
    """Capacity against demand for one layer (:func:`supply`).

    Attributes
    ----------
    analysis
        The layer's coverage (:func:`analyse_layer`, without catchments).
    supply
        The 2SFCA ratio per demand point, the facilities' capacity and reach, and the
        supply table (:class:`geoapp.sfca.Supply`).
    meta
        The bundle's metadata (without ``run_id``): the analysis's, ``command``,
        ``supply`` (method, reach, capacity sources and totals) and every warning.
    """

    analysis: LayerAnalysis
    supply: _sfca.Supply
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def layer(self) -> Layer:
        """The layer at the analysis's walking speed."""
        return self.analysis.layer

    @property
    def table(self) -> pd.DataFrame:
        """Capacity per 1,000 of the demand per region, district, zone and settlement."""
        return self.supply.table

    @property
    def warnings(self) -> tuple[str, ...]:
        """The analysis's warnings, then the supply's (as ``meta["warnings"]`` has them)."""
        return tuple(self.meta.get("warnings", (*self.analysis.warnings, *self.supply.warnings)))


def supply(
    region: RegionLike,
    layer: Layer | str,
    *,
    demand: Demand | None = None,
    graph: network.WalkGraph | None = None,
    speed: float | str | None = None,
    mode: str = "network",
    reach_m: float | None = None,
    decay: str | None = None,
    method: str = "2sfca",
    progress: Progress | None = None,
) -> SupplyAnalysis:
    """Capacity (e.g. beds) per 1,000 of a layer's demand, and the 2SFCA ratio.

    The computation behind ``geoapp supply``: the layer's coverage (no catchments),
    then :func:`geoapp.sfca.compute_supply` on its facilities. Write the result with
    :func:`geoapp.bundle.write_supply_bundle`.

    Parameters
    ----------
    region, layer, demand, graph, speed, mode, progress
        As for :func:`analyse`.
    reach_m
        2SFCA catchment in metres; None: the layer's ``target_m``.
    decay
        ``None``/``"none"`` (Luo & Wang 2003) or ``"gaussian"`` (2sfca and 3sfca).
    method
        The floating catchment method, one of :data:`geoapp.fca.METHODS`: ``"2sfca"``,
        ``"e2sfca"``, ``"3sfca"`` or ``"gravity"`` (see :mod:`geoapp.fca`).

    Examples
    --------
    >>> import geoapp
    >>> result = geoapp.supply("demo", "elderly_care")
    >>> whole = result.table.query("level == 'region'").iloc[0]
    >>> result.supply.unit, int(whole["n_facilities"])
    ('beds', 111)
    >>> bool(abs(whole["capacity_per_1000"] - 1000 * whole["capacity"] / whole["demand"]) < 1e-6)
    True
    """
    if reach_m is not None and not (reach_m > 0 and reach_m < float("inf")):
        raise InputError(f"--reach {reach_m:g}: give a distance in metres > 0, e.g. 1000")
    reg, lay, demand, graph = _inputs(region, layer, demand, graph, mode, progress)
    analysis = analyse_layer(
        reg,
        lay,
        demand=demand,
        graph=graph,
        mode=mode,
        speed_kmh=speed_kmh_of(speed),
        with_catchments=False,
        progress=progress,
    )
    tick(progress, f"{lay.name()}: capacity and 2SFCA", 0.9)
    from geoapp import sfca as _sfca

    result = _sfca.compute_supply(
        demand.points,
        analysis.facilities,
        analysis.layer,
        graph=graph,
        mode=mode,
        reach_m=reach_m,
        decay=None if decay in (None, "none") else decay,
        method=method,
        boundaries=reg.boundaries,
        region_name=reg.name,
    )
    fac = result.facilities
    sfca_total = float(np.nansum(result.demand["sfca"] * result.demand[result.demand_col]))
    meta = {
        **analysis.meta,
        "command": "supply",
        "supply": {
            "method": _sfca.method_label(result.method, result.decay),
            "fca_method": result.method,
            "weight": result.weight,
            "reach_m": result.reach_m,
            "decay": result.decay,
            "mode": result.mode,
            "demand_col": result.demand_col,
            "unit": result.unit,
            "standard_per_1000": result.per_1000,
            "standard_source": str((analysis.layer.capacity or {}).get("source", "")),
            "unknown_capacity": "layer default when the layer file gives one, "
            "else excluded from totals and the 2SFCA ratio and counted",
            "n_facilities": len(fac),
            "capacity_sources": {
                (k or "unknown"): int(v) for k, v in fac["capacity_source"].value_counts().items()
            },
            "capacity_total": float(fac["capacity"].sum()),
            "capacity_serving_demand": float(fac.loc[fac["serves_demand"], "capacity"].sum()),
            "sum_sfca_x_demand": sfca_total,
        },
        "warnings": group_warnings([*analysis.warnings, *result.warnings]),
    }
    return SupplyAnalysis(analysis, result, meta)


__all__ = [
    "SEARCH_FACTOR",
    "LayerAnalysis",
    "RegionLike",
    "SupplyAnalysis",
    "add_facility_tables",
    "analyse",
    "analyse_layer",
    "compare",
    "coverage_map",
    "csv_ready",
    "get_graph",
    "heritage",
    "layer_meta",
    "load_region",
    "prepare",
    "prepare_demand",
    "region_meta",
    "replace_districts",
    "site",
    "speed_kmh_of",
    "supply",
    "versions",
    "zones_table",
]
