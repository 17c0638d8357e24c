"""OpenStreetMap online: fetch a place, bounding box or polygon through osmnx.

Downloads go through osmnx (Nominatim for place names, Overpass for data) with its
response cache switched on and a request timeout, and are normalised by the same
helpers as local extracts (:mod:`geoapp.sources._osm_common`), so both give the same
:class:`~geoapp.region.Region` frames.

Errors are one clear line, never a traceback wall: an unreachable network raises
:class:`~geoapp.errors.NetworkUnavailableError`, an unknown place
:class:`~geoapp.errors.PlaceNotFoundError`.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from geoapp.catalog import Layer
from geoapp.errors import GeoappError, InputError, NetworkUnavailableError, PlaceNotFoundError
from geoapp.region import (
    BOUNDARY_COLUMNS,
    BUILDING_COLUMNS,
    BUILDING_USE_KEYS,
    EDGE_COLUMNS,
    LANDUSE_COLUMNS,
    LANDUSE_VALUES,
    NODE_COLUMNS,
    WGS84,
    Region,
    empty_gdf,
    whole_region_boundary,
)
from geoapp.sources._osm_common import (
    OSM_ATTRIBUTION,
    attach_pois,
    building_poi_nodes,
    catalog_tags,
    feature_keys,
    graph_to_frames,
    make_buildings,
    make_features,
    make_landuse,
    osm_ids,
    resolve_catalog,
    simplify_walk_graph,
    walk_tags,
    widen_tags,
)
from geoapp.sources.boundaries import osm_admin_boundaries

log = logging.getLogger(__name__)

PlaceQuery: TypeAlias = str | tuple[float, float, float, float] | Polygon | MultiPolygon

#: Default bound on a whole :func:`fetch_place` download, in seconds (``--timeout``).
DEFAULT_TIMEOUT_S = 180.0


@contextlib.contextmanager
def _osmnx_settings(timeout: float, cache_dir: str | os.PathLike[str] | None) -> Iterator[None]:
    """Switch on osmnx's cache and set its timeout, restoring the settings afterwards."""
    import osmnx as ox

    saved = {
        "use_cache": ox.settings.use_cache,
        "requests_timeout": ox.settings.requests_timeout,
        "cache_folder": ox.settings.cache_folder,
    }
    ox.settings.use_cache = True
    ox.settings.requests_timeout = timeout
    if cache_dir is not None:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        ox.settings.cache_folder = str(cache_dir)
    try:
        yield
    finally:
        for key, value in saved.items():
            setattr(ox.settings, key, value)


def _network_error(exc: BaseException, what: str) -> NetworkUnavailableError:
    detail = type(exc).__name__
    text = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
    return NetworkUnavailableError(
        f"Cannot reach OpenStreetMap ({what}: {detail}{': ' + text if text else ''}). Check "
        "the internet connection or proxy and try again, or work offline with a local "
        "extract (--osm FILE.osm.pbf) or the embedded demo."
    )


def _validate_bbox(bbox: tuple[Any, ...]) -> Polygon:
    try:
        west, south, east, north = (float(x) for x in bbox)
    except (TypeError, ValueError):
        raise InputError(
            f"Bounding box {bbox!r} must be four numbers (west, south, east, north) in degrees."
        ) from None
    problems = []
    if not (-180 <= west <= 180 and -180 <= east <= 180):
        problems.append(f"longitudes {west}, {east} must be within -180..180")
    if not (-90 <= south <= 90 and -90 <= north <= 90):
        problems.append(f"latitudes {south}, {north} must be within -90..90")
    if west >= east:
        problems.append(f"west ({west}) must be less than east ({east})")
    if south >= north:
        problems.append(f"south ({south}) must be less than north ({north})")
    if problems:
        raise InputError(
            f"Bounding box {bbox!r} is not (west, south, east, north) in WGS84 degrees:", problems
        )
    return box(west, south, east, north)


def _resolve_area(query: PlaceQuery) -> tuple[Polygon | MultiPolygon, str, str]:
    """Return (polygon in EPSG:4326, display name, source kind)."""
    import osmnx as ox
    from osmnx._errors import InsufficientResponseError

    if isinstance(query, Polygon | MultiPolygon):
        if query.is_empty or not query.is_valid:
            raise InputError("The study-area polygon is empty or invalid; draw it again.")
        minx, miny, maxx, maxy = query.bounds
        if not (-180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90):
            raise InputError(
                f"The study-area polygon's bounds {query.bounds} are not lon/lat degrees; "
                "give it in EPSG:4326."
            )
        return query, "Custom area", "osm-polygon"
    if isinstance(query, tuple | list) and not isinstance(query, str):
        poly = _validate_bbox(tuple(query))
        label = "bbox " + ",".join(f"{v:g}" for v in poly.bounds)
        return poly, label, "osm-bbox"
    if not isinstance(query, str) or not query.strip():
        raise InputError(
            f"Place query {query!r} must be a place name, a (west, south, east, north) "
            "tuple or a shapely Polygon."
        )
    name = query.strip()
    try:
        gdf = ox.geocode_to_gdf(name)
    except (InsufficientResponseError, TypeError, ValueError) as exc:
        raise PlaceNotFoundError(
            f"Place {name!r} was not found on OpenStreetMap as an area ({exc}). Check the "
            "spelling, add the country (e.g. 'Dongcheng District, Beijing, China'), or pass "
            "a bounding box (west, south, east, north)."
        ) from None
    if gdf is None or len(gdf) == 0:
        raise PlaceNotFoundError(
            f"Place {name!r} was not found on OpenStreetMap. Check the spelling or pass a "
            "bounding box (west, south, east, north)."
        )
    gdf = gdf.to_crs(WGS84) if gdf.crs is not None else gdf.set_crs(WGS84)
    geom = gdf.geometry.iloc[0]
    if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise PlaceNotFoundError(
            f"Place {name!r} is a point on OpenStreetMap, not an area; pass a bounding box "
            "(west, south, east, north) around it instead."
        )
    display = str(gdf["display_name"].iloc[0]) if "display_name" in gdf.columns else name
    log.info("geocoded %r to %s", name, display)
    return geom, name, "osm-place"


def _fetch_place(
    query: PlaceQuery,
    *,
    catalog: Mapping[str, Layer] | None = None,
    admin_level: int | str | None = None,
    network: bool = True,
    buildings: bool = True,
    timeout: float = 180,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Region:
    """Download the study area (no total deadline): the body of :func:`fetch_place`."""
    import osmnx as ox
    import requests
    from osmnx._errors import InsufficientResponseError, ResponseStatusCodeError

    catalog = resolve_catalog(catalog)
    keys = feature_keys(catalog)
    tags = catalog_tags(catalog)
    wanted: dict[str, Any] = dict(tags)
    if buildings:
        wanted["building"] = True
        # the nodes of a building's use (POIs inside footprints: a casino, a shop)
        for key in BUILDING_USE_KEYS:
            wanted[key] = True
    for value in LANDUSE_VALUES:
        widen_tags(wanted, "landuse", value)
    level = None if admin_level is None else str(admin_level).strip()
    if level is not None:
        widen_tags(wanted, "boundary", "administrative")

    nodes, edges = empty_gdf(NODE_COLUMNS), empty_gdf(EDGE_COLUMNS)
    raw = None
    step = "geocoding"
    with _osmnx_settings(timeout, cache_dir), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", FutureWarning)
        try:
            polygon, label, kind = _resolve_area(query)
            if network:
                step = "walking network"
                try:
                    with walk_tags():
                        G = ox.graph_from_polygon(
                            polygon, network_type="walk", simplify=False, retain_all=True
                        )
                    nodes, edges = network_frames(G)
                except InsufficientResponseError:
                    log.warning("%s: no walkable streets found on OpenStreetMap", label)
            step = "features"
            try:
                raw = ox.features_from_polygon(polygon, tags=wanted)
            except InsufficientResponseError:
                log.warning("%s: no matching features found on OpenStreetMap", label)
        except GeoappError:
            raise
        except (requests.exceptions.RequestException, ConnectionError, TimeoutError) as exc:
            raise _network_error(exc, step) from None
        except ResponseStatusCodeError as exc:
            raise _network_error(exc, step) from None

    if raw is not None and len(raw):
        raw = raw.to_crs(WGS84) if raw.crs is not None else raw.set_crs(WGS84)
        idx = raw.index
        ids = osm_ids(idx.get_level_values(0).to_numpy(), idx.get_level_values(1).to_numpy())
        raw = raw.reset_index(drop=True)
        raw["osm_id"] = ids
        features = make_features(raw, ids, keys, tags)
        bld = make_buildings(raw, ids) if buildings else empty_gdf(BUILDING_COLUMNS)
        if buildings and len(bld):
            bld = attach_pois(bld, *building_poi_nodes(raw))
        landuse = make_landuse(raw)
    else:
        features = make_features(None, np.array([]), keys, tags)
        bld, landuse = empty_gdf(BUILDING_COLUMNS), empty_gdf(LANDUSE_COLUMNS)

    boundaries = empty_gdf(BOUNDARY_COLUMNS)
    if level is not None:
        boundaries = osm_admin_boundaries(raw, level)
        if len(boundaries):
            clipped = shapely.intersection(
                np.asarray(boundaries.geometry.to_numpy(), dtype=object), polygon
            )
            keep = ~shapely.is_empty(clipped) & (shapely.area(clipped) > 0)
            boundaries = boundaries.loc[keep].copy()
            boundaries.geometry = clipped[keep]
            boundaries = boundaries.reset_index(drop=True)
        if len(boundaries) == 0:
            log.warning(
                "%s: no admin boundaries at admin_level=%s; using one district", label, level
            )
    if len(boundaries) == 0:
        boundaries = whole_region_boundary(label, polygon)

    source = {
        "osm-place": f"osm-place:{label}",
        "osm-bbox": "osm-bbox:" + ",".join(f"{v:g}" for v in polygon.bounds),
        "osm-polygon": "osm-polygon",
    }[kind]
    meta: dict[str, Any] = {
        "attribution": OSM_ATTRIBUTION,
        "query": query if isinstance(query, str) else list(polygon.bounds),
        "bbox": list(polygon.bounds),
        "reader": "osmnx",
        "admin_level": level,
    }
    region = Region(
        name=label,
        source=source,
        boundaries=boundaries,
        features=features,
        nodes=nodes,
        edges=edges,
        buildings=bld,
        landuse=landuse,
        synthetic=False,
        meta=meta,
    )
    region.meta["counts"] = region.counts()
    log.info("fetched %s: %s", label, region.meta["counts"])
    return region


def _past_deadline(deadline: float) -> Callable[..., Any]:
    """Return a requests response hook that fails every response after ``deadline``.

    osmnx retries forever on HTTP 429/504 (sleeping in between); the hook ends such a
    loop at the next response once the deadline has passed.
    """
    import requests

    def hook(response: Any, *args: Any, **kwargs: Any) -> Any:
        if time.monotonic() > deadline:
            raise requests.exceptions.Timeout("the --timeout for the whole download has passed")
        return response

    return hook


@contextlib.contextmanager
def _deadline_settings(deadline: float) -> Iterator[None]:
    """Add the deadline hook to osmnx's ``requests_kwargs``, restoring them afterwards."""
    import osmnx as ox

    saved = ox.settings.requests_kwargs
    hooks = dict(saved.get("hooks", {}))
    response_hooks = hooks.get("response", [])
    response_hooks = [response_hooks] if callable(response_hooks) else list(response_hooks)
    hooks["response"] = [*response_hooks, _past_deadline(deadline)]
    ox.settings.requests_kwargs = {**saved, "hooks": hooks}
    try:
        yield
    finally:
        ox.settings.requests_kwargs = saved


def fetch_place(
    query: PlaceQuery,
    *,
    catalog: Mapping[str, Layer] | None = None,
    admin_level: int | str | None = None,
    network: bool = True,
    buildings: bool = True,
    timeout: float = DEFAULT_TIMEOUT_S,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Region:
    """Download a study area from OpenStreetMap into a :class:`~geoapp.region.Region`.

    Parameters
    ----------
    query
        A place name geocoded by Nominatim (``"Dongcheng District, Beijing, China"``),
        a bounding box ``(west, south, east, north)`` in degrees, or a shapely
        (Multi)Polygon in EPSG:4326.
    catalog
        Layer catalog whose tags decide which features to fetch; default the shipped one.
    admin_level
        Also fetch administrative boundaries at this OSM ``admin_level`` and use them
        as districts; otherwise (or when none are found) the region is one district.
    network
        Fetch the walking network (osmnx ``network_type="walk"``).
    buildings
        Fetch building footprints (with ``building:levels``).
    timeout
        Seconds the WHOLE download may take (geocoding, network, features, with every
        retry); each HTTP request also times out after this long. The call returns
        within ``timeout`` (plus a fraction of a second) even when a server accepts
        the connection and never answers: the download runs in a worker thread that
        is abandoned when the time is up, and stops at its next response or timeout.
    cache_dir
        osmnx response cache folder (default osmnx's ``./cache``); the cache is always on.

    Returns
    -------
    Region
        Frames in EPSG:4326 per docs/architecture.md; ``source`` is
        ``"osm-place:<name>"``, ``"osm-bbox:<w,s,e,n>"`` or ``"osm-polygon"``.

    Raises
    ------
    NetworkUnavailableError
        OpenStreetMap servers cannot be reached (no connection, DNS failure, server
        error) or did not finish within ``timeout``.
    PlaceNotFoundError
        The place name does not geocode to an area.
    InputError
        A malformed bounding box or polygon, or a ``timeout`` that is not a positive
        number.
    """
    try:
        timeout = float(timeout)
    except (TypeError, ValueError):
        timeout = math.nan
    if not math.isfinite(timeout) or timeout <= 0:
        raise InputError(
            f"timeout {timeout!r} must be a positive number of seconds (--timeout SECONDS)."
        )
    deadline = time.monotonic() + timeout
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            with _deadline_settings(deadline):
                outcome["region"] = _fetch_place(
                    query,
                    catalog=catalog,
                    admin_level=admin_level,
                    network=network,
                    buildings=buildings,
                    timeout=timeout,
                    cache_dir=cache_dir,
                )
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="geoapp-fetch-place", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        what = query if isinstance(query, str) else "the study area"
        raise NetworkUnavailableError(
            f"OpenStreetMap did not finish sending {what!r} within {timeout:g} s: the "
            "servers are unreachable, silent or overloaded. Try again later, raise "
            "--timeout SECONDS for a large area, or work offline with a local extract "
            "(--osm FILE.osm.pbf) or the embedded demo (--region demo)."
        )
    if "error" in outcome:
        raise outcome["error"]
    return outcome["region"]


def network_frames(G: Any) -> tuple[Any, Any]:
    """Return ``(nodes, edges)`` frames from an UNSIMPLIFIED osmnx walking graph.

    The graph is simplified keeping isolated rings, and its loops and parallel edges
    are split into segments (:func:`geoapp.sources._osm_common.split_loops`), so an
    online fetch gives the same network as the same data read from a file.

    Parameters
    ----------
    G
        An osmnx ``MultiDiGraph`` built with ``simplify=False`` (e.g.
        ``ox.graph_from_polygon(..., simplify=False)`` or ``ox.graph_from_xml``) inside
        ``with walk_tags():`` (from the shared OSM helpers), so its edges carry the
        ``foot`` and ``access`` tags the access hierarchy needs.

    Returns
    -------
    (GeoDataFrame, GeoDataFrame)
        ``nodes`` and ``edges`` of the contract (docs/architecture.md).
    """
    return graph_to_frames(simplify_walk_graph(G))
