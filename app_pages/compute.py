"""The app's cached computations: region, demand, network, analyses, tables, maps.

Every computation is a call into :mod:`geoapp`, cached: ``st.cache_resource`` for the
region, demand, the walking network, analyses and maps (large objects used read-only:
a cache hit costs nothing, where ``st.cache_data`` would unpickle a copy of a
17,000-row GeoDataFrame on every rerun), ``st.cache_data`` for the small tables pages
display or download. Cache functions take a ``region_key`` string that identifies the
loaded region and the region itself as an unhashed ``_region`` argument, so no frame
is ever hashed. Nothing here reads the session (:mod:`app_pages.state` does).

Speed
-----
* Distances do not depend on the radius or the walking speed: one analysis per
  (layer, mode) serves every radius of a metre layer; a minute-based layer has one
  per walking speed (its reach is minutes x speed). :func:`speed_key` gives both
  spellings of "the layer's own pace" one key.
* Catchments are computed lazily, for the selected radius only.
* The Coverage map is a base kept in the browser plus overlays
  (:class:`geoapp.maps.MapParts`): a change of layer, radius, mode, speed or language
  replaces only the overlays (``st_folium(feature_group_to_add=...)``), so no new
  iframe and no reloaded Leaflet. A district drill-down only changes the bounds.
* One background worker (:mod:`app_pages.warm`) fills these caches newest request
  first.
* Analyses, gaps, catchments and maps of regions keyed by their content are also
  kept on disk (:mod:`app_pages.disk`), so a restarted app, or a region loaded again,
  draws at once.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
import streamlit as st

from app_pages import disk
from geoapp import coverage, maps, settings, workflow
from geoapp.catalog import Layer, load_catalog
from geoapp.demand import Demand
from geoapp.gaps import find_gaps
from geoapp.layers import select_features
from geoapp.region import Region

SPEEDS = coverage.SPEED_PRESETS  # one source of the walking-speed presets
#: Most GeoJSON features one map sends to the browser (``GEOAPP_MAP_MAX_FEATURES``
#: overrides :data:`geoapp.maps.MAX_FEATURES`); larger layers are aggregated.
MAP_MAX_FEATURES = settings.map_max_features(maps.MAX_FEATURES)


#: Regions up to this many street edges keep the app's own disk copy of their demand.
DEMAND_ON_DISK_MAX_EDGES = 250_000


@st.cache_resource(show_spinner=False)
def catalog() -> dict[str, Layer]:
    """Return the shipped layer catalog."""
    return load_catalog()


@st.cache_resource(show_spinner=False)
def demo_region() -> Region:
    """Return the embedded synthetic demo region (loaded once per server)."""
    return workflow.load_region("demo")


def catalog_settings() -> tuple[str, ...]:
    """Return the catalog as disk-cache settings (a result made with other layers is stale)."""
    return tuple(repr(v) for v in catalog().values())


@st.cache_resource(show_spinner=False, max_entries=4)
def demand(region_key: str, _region: Region) -> Demand:
    """Return the region's demand (a :class:`geoapp.demand.Demand`, shared, read-only).

    Kept on disk under the region key too, as the analyses are, for regions up to
    :data:`DEMAND_ON_DISK_MAX_EDGES` street edges: every page header shows the demand's
    profile and warnings, and the estimate's own cache first hashes every frame of the
    region (0.2-0.4 s of a restarted app's first page on the demo). A parsed extract's
    frames come with their digests, so a city's estimate is found without hashing, and a
    second copy of it would only add a write of tens of MB to its first load.
    """
    if len(_region.edges) > DEMAND_ON_DISK_MAX_EDGES:
        return workflow.prepare_demand(_region)
    return disk.cached("demand", region_key, (), lambda: workflow.prepare_demand(_region))


@st.cache_resource(show_spinner=False, max_entries=8)
def demand_notes(region_key: str, _region: Region) -> tuple[dict[str, Any], str, list[str]]:
    """Return what a page header says of the demand: its profile, method and warnings.

    A few hundred bytes, kept on disk beside the demand: a restarted app's first page
    reads these, not the whole estimate (0.2-0.3 s on the demo), when its analyses are
    on disk too.
    """

    def notes() -> tuple[dict[str, Any], str, list[str]]:
        dem = demand(region_key, _region)
        return dict(dem.profile), str(dem.method), [str(w) for w in dem.warnings]

    if len(_region.edges) > DEMAND_ON_DISK_MAX_EDGES:
        return notes()
    return disk.cached("demand_notes", region_key, (), notes)


@st.cache_resource(show_spinner=False, max_entries=4)
def graph(region_key: str, _region: Region):
    """Return the walking network of the region."""
    return workflow.get_graph(_region)


def speed_key(layer_id: str, speed_kmh: float | None) -> float | None:
    """Return the speed an analysis of ``layer_id`` depends on (None for a metre layer).

    Distances do not depend on the walking speed, so a layer defined in metres has one
    analysis for every speed. A minute-based layer's reach (``minutes x speed``), hence
    its coverage shares and gaps, does: its analyses are keyed by the speed (None:
    the layer's own pace).
    """
    layer = catalog().get(layer_id)
    if layer is None or not layer.minutes:
        return None
    # None is the layer's own pace: one key (and one analysis) for both spellings
    return round(float(layer.walk_speed_kmh if speed_kmh is None else speed_kmh), 2)


@st.cache_resource(show_spinner=False, max_entries=24)
def analysis(
    region_key: str, _region: Region, layer_id: str, mode: str, speed: float | None = None
) -> workflow.LayerAnalysis:
    """Return one layer's coverage and gaps, without catchments (see :func:`catchments`).

    ``speed`` is :func:`speed_key`: None for a metre-based layer (distances do not
    depend on the speed; pages derive minutes from ``dist_m``), the walking speed
    (km/h) for a minute-based one, whose reach it sets.
    """
    layer = catalog()[layer_id]

    def compute() -> workflow.LayerAnalysis:
        dem = demand(region_key, _region)
        g = graph(region_key, _region) if mode == "network" else None
        kwargs: dict[str, Any] = {} if speed is None else {"speed_kmh": float(speed)}
        return workflow.analyse_layer(
            _region, layer, demand=dem, graph=g, mode=mode, with_catchments=False, **kwargs
        )

    # kept on disk too: a restarted app (or a region loaded again) draws at once
    return disk.cached("analysis", region_key, (repr(layer), mode, speed), compute)


@st.cache_resource(show_spinner=False, max_entries=48)
def gaps_at(
    region_key: str,
    _region: Region,
    layer_id: str,
    mode: str,
    speed: float | None,
    radius_m: float,
) -> gpd.GeoDataFrame:
    """Return the layer's gaps at the radius the planner chose (shared, read-only).

    The analysis finds gaps at the layer's target; the map and the gaps table show
    the ones at the chosen radius, counted in the layer's population.
    """
    res = analysis(region_key, _region, layer_id, mode, speed)
    if abs(float(radius_m) - float(res.layer.target_m)) < 1e-6 or len(res.facilities) == 0:
        return res.gaps
    limit = float(res.meta.get("search_limit_m", max(res.layer.radii_m) * 3))
    return disk.cached(
        "gaps",
        region_key,
        (repr(res.layer), mode, speed, float(radius_m)),
        lambda: find_gaps(
            res.access,
            res.layer,
            search_limit_m=limit,
            target_m=float(radius_m),
            on_fragment=res.on_fragment,
        ),
    )


@st.cache_resource(show_spinner=False, max_entries=24)
def catchments(
    region_key: str,
    _region: Region,
    layer_id: str,
    radius_m: float | None = None,
    speed: float | None = None,
) -> gpd.GeoDataFrame | None:
    """Return network catchments of one layer's facilities at one radius (or all radii).

    Catchments are the slow part of an analysis (0.4 s to 6 s per radius on the demo),
    so the map asks only for the radius it shows; the export asks for all of them.
    """
    res = analysis(region_key, _region, layer_id, "network", speed)
    if len(res.facilities) == 0:
        return None
    radii = list(res.layer.radii_m) if radius_m is None else [float(radius_m)]
    return disk.cached(
        "catchments",
        region_key,
        (repr(res.layer), tuple(radii), speed),
        lambda: coverage.catchments(
            graph(region_key, _region), res.facilities, radii, demand_access=res.access
        ),
    )


@st.cache_resource(show_spinner=False, max_entries=8)
def facilities_by_layer(region_key: str, _region: Region) -> dict[str, gpd.GeoDataFrame]:
    """Return every catalog layer's facilities in the region (shared, read-only; on disk)."""
    cat = catalog()
    return disk.cached(
        "facilities",
        region_key,
        catalog_settings(),
        lambda: {lid: select_features(_region.features, layer) for lid, layer in cat.items()},
    )


@st.cache_data(show_spinner=False, max_entries=8)
def district_stats(region_key: str, _region: Region) -> pd.DataFrame:
    """Return population, 60+ and facility counts per district (kept on disk)."""
    return disk.cached(
        "stats",
        region_key,
        catalog_settings(),
        lambda: _district_stats(region_key, _region),
    )


def _district_stats(region_key: str, _region: Region) -> pd.DataFrame:
    dem = demand(region_key, _region).points
    stats = (
        pd.DataFrame(
            {
                "district": dem["district"].astype(str),
                "pop": dem["pop"],
                "pop_60plus": dem["pop_60plus"],
            }
        )
        .groupby("district", as_index=False)[["pop", "pop_60plus"]]
        .sum()
    )
    bnd = _region.boundaries[["district", "zone_type"]].astype({"district": str})
    stats = bnd.merge(stats, on="district", how="left").fillna({"pop": 0.0, "pop_60plus": 0.0})
    total = 0
    for lid, fac in facilities_by_layer(region_key, _region).items():
        if lid == "heritage":
            # designated heritage sites and zones, as summary.csv's n_designated and the
            # Heritage page count them (memorials, statues, unlisted features apart)
            summ = heritage_basic(region_key, _region).summary
            rows = summ[summ["level"] == "district"]
            counts = dict(zip(rows["group"].astype(str), rows["n_sites"], strict=True))
            stats[lid] = stats["district"].map(counts).fillna(0).astype(int)
            total = total + stats[lid]
            continue
        if len(fac) == 0 or len(_region.boundaries) == 0:
            stats[lid] = 0
            continue
        # placed as summary.csv places them (one rule: geoapp.coverage.facility_places)
        places = coverage.facility_places(fac, dem, _region.boundaries)
        counts = places["district"].value_counts()
        stats[lid] = stats["district"].map(counts).fillna(0).astype(int)
        total = total + stats[lid]
    stats["facilities"] = total
    return stats


@st.cache_data(show_spinner=False, max_entries=8)
def zones_table(
    region_key: str,
    _region: Region,
    layer_ids: tuple[str, ...],
    mode: str,
    by: str = "zone_type",
    speed_kmh: float | None = None,
) -> pd.DataFrame:
    """Return the zone comparison of the given layers, by zone type or by settlement.

    ``speed_kmh`` sets the reach of minute-based layers (metre layers ignore it).
    """
    analyses = {
        lid: analysis(region_key, _region, lid, mode, speed_key(lid, speed_kmh))
        for lid in layer_ids
    }
    return workflow.compare(_region, analyses, by=by)


@st.cache_resource(show_spinner=False, max_entries=8)
def zone_chart_png(
    region_key: str,
    _region: Region,
    layer_ids: tuple[str, ...],
    mode: str,
    by: str,
    speed_kmh: float | None,
    lang_code: str,
) -> bytes:
    """Return the Compare page's zone chart as PNG bytes (drawn once per settings)."""
    import io

    import matplotlib.pyplot as plt

    from geoapp import charts

    table = zones_table(region_key, _region, layer_ids, mode, by, speed_kmh)
    fig = charts.zone_comparison_chart(table, lang=lang_code)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


@st.cache_resource(show_spinner=False, max_entries=4)
def heritage_basic(region_key: str, _region: Region):
    """Return the heritage report without residents' access (sites, zones, counts; on disk)."""
    return disk.cached(
        "heritage",
        region_key,
        catalog_settings(),
        lambda: workflow.heritage(_region),
    )


@st.cache_resource(show_spinner=False, max_entries=4)
def heritage_report(region_key: str, _region: Region):
    """Return the heritage report with residents' access to heritage."""
    access = None
    if "heritage" in catalog():
        mode = "network" if len(_region.edges) else "euclidean"
        access = analysis(region_key, _region, "heritage", mode).access
    return workflow.heritage(_region, access=access)


@st.cache_resource(show_spinner=False, max_entries=6)
def bundle_files(
    region_key: str,
    _region: Region,
    layer_id: str,
    mode: str,
    speed: float | None,
    with_catch: bool,
    lang_code: str,
) -> dict[str, bytes]:
    """Return the export bundle of one layer as ``{file name: bytes}`` (built once).

    Empty layers are not shipped: without catchments there is no catchments.geojson
    (and no empty table in the GeoPackage). The bytes are cached per settings, so the
    download buttons get the same content, hence the same link, on every rerun.
    """
    res = analysis(region_key, _region, layer_id, mode, speed)
    if with_catch and mode == "network":
        res = workflow.LayerAnalysis(
            **{**res.__dict__, "catchments": catchments(region_key, _region, layer_id, None, speed)}
        )
    from geoapp import bundle  # the Export page's (GeoPackage, QGIS project): not at start

    zt = zones_table(region_key, _region, (layer_id,), mode, "zone_type", speed)
    with tempfile.TemporaryDirectory(prefix="geoapp-export-") as tmp:
        paths = bundle.write_bundle(
            res, _region, tmp, zones_table=zt, html_map=False, strip_paths=True, lang=lang_code
        )
        out = {Path(p).name: Path(p).read_bytes() for p in paths.values()}
    catch = res.catchments
    if (catch is None or len(catch) == 0) and out.pop("catchments.geojson", None) is not None:
        import json

        meta = json.loads(out["metadata.json"].decode("utf-8"))
        meta["files"] = [f for f in meta.get("files", []) if f != "catchments.geojson"]
        out["metadata.json"] = json.dumps(meta, ensure_ascii=False, indent=2).encode("utf-8")
    # the whole map as the CLI writes it (with catchments on: at every radius)
    m = maps.coverage_map(
        **_coverage_kwargs(
            region_key, _region, layer_id, mode, speed, None, with_catch, lang_code, None, None
        )
    )
    out["map.html"] = maps.map_html(m).encode("utf-8")
    return _with_manifest(out)


def _with_manifest(files: dict[str, bytes]) -> dict[str, bytes]:
    """Re-list ``manifest.json`` for the files as downloaded (map added, catchments gone).

    The same form as the CLI's bundles (``geoapp verify`` and QGIS users read it): every
    other file with its size and SHA-256.
    """
    import hashlib
    import json

    old = files.get("manifest.json")
    if old is None:
        return files
    doc = json.loads(old.decode("utf-8"))
    doc["files"] = {
        name: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        for name, data in sorted(files.items())
        if name != "manifest.json"
    }
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    return {**files, "manifest.json": text.encode("utf-8")}


def bundle_names(with_catch: bool) -> list[str]:
    """Return the file names of an export bundle (catchments only when they are on)."""
    names = [
        "bundle.gpkg",
        "bundle.qgz",
        "demand.geojson",
        "facilities.geojson",
        "gaps.geojson",
        "manifest.json",
        "map.html",
        "metadata.json",
        "summary.csv",
        "zones.csv",
    ]
    if with_catch:
        names.insert(1, "catchments.geojson")
    return names


@st.cache_resource(show_spinner=False, max_entries=6)
def bundle_zip(
    region_key: str,
    _region: Region,
    layer_id: str,
    mode: str,
    speed: float | None,
    with_catch: bool,
    lang_code: str,
) -> bytes:
    """Return the whole export bundle as ZIP bytes (built once per settings).

    The ZIP entries carry a fixed date, so the same settings give the same bytes.
    """
    import io
    import zipfile

    files = bundle_files(region_key, _region, layer_id, mode, speed, with_catch, lang_code)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(f"{layer_id}_{name}", date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def layer_name(layer_id: str, lang_code: str) -> str:
    """Return a layer's label in ``lang_code`` (its id when the catalog has no such layer)."""
    layer = catalog().get(layer_id)
    return layer.name(lang_code) if layer is not None else layer_id


def _coverage_kwargs(
    region_key: str,
    _region: Region,
    layer_id: str,
    mode: str,
    speed: float | None,
    radius_m: float | None,
    with_catch: bool,
    lang_code: str,
    basemap: str | None,
    tianditu_key: str | None,
) -> dict[str, Any]:
    res = analysis(region_key, _region, layer_id, mode, speed)
    catch = None
    if with_catch and mode == "network":
        catch = catchments(region_key, _region, layer_id, radius_m, speed)
    gaps = (
        res.gaps
        if radius_m is None
        else gaps_at(region_key, _region, layer_id, mode, speed, float(radius_m))
    )
    return {
        "region_boundaries": _region.boundaries,
        "hexes": res.hexes,
        "facilities": res.facilities,
        "catchments": catch,
        "gaps": gaps,
        "edges": _region.edges,
        "layer": res.layer,
        "lang": lang_code,
        "basemap": basemap,
        "tianditu_key": tianditu_key,
        "synthetic": _region.synthetic,
        "radius_m": radius_m,
        "mode": mode,
        "speed_kmh": speed,
        "search_limit_m": res.meta.get("search_limit_m"),
        "access": res.access,
        "max_features": MAP_MAX_FEATURES,
    }


@st.cache_resource(show_spinner=False, max_entries=48)
def coverage_map(
    region_key: str,
    _region: Region,
    layer_id: str,
    mode: str,
    speed: float | None,
    radius_m: float | None,
    with_catch: bool,
    lang_code: str,
    basemap: str | None,
    tianditu_key: str | None,
) -> maps.MapParts:
    """Return the Coverage page's map as a base and overlays (shared, read-only).

    ``speed`` is :func:`speed_key`. The gaps drawn are those at ``radius_m`` (the
    layer's target when None), the catchments (when on) those at ``radius_m``. Every
    setting of one region shares the base, so :func:`show_map` keeps the map in the
    browser and redraws only the overlays.
    """

    def compute() -> maps.MapParts:
        return maps.coverage_map_parts(
            **_coverage_kwargs(
                region_key, _region, layer_id, mode, speed, radius_m, with_catch, lang_code,
                basemap, tianditu_key,
            )
        )  # fmt: skip

    if tianditu_key:  # a map holding the planner's key is never written to disk
        return compute()
    settings = (repr(catalog()[layer_id]), mode, speed, radius_m, with_catch, lang_code, basemap,
                MAP_MAX_FEATURES)  # fmt: skip
    return disk.cached("map", region_key, settings, compute)


@st.cache_resource(show_spinner=False, max_entries=8)
def overview_map(
    region_key: str, _region: Region, lang_code: str, basemap: str | None, tianditu_key: str | None
) -> folium.Map:
    """Return the overview map: districts by zone type, streets, every layer's facilities."""
    if tianditu_key:
        return _overview_map(region_key, _region, lang_code, basemap, tianditu_key)
    return disk.cached(
        "overview",
        region_key,
        (lang_code, basemap, MAP_MAX_FEATURES, catalog_settings()),
        lambda: _overview_map(region_key, _region, lang_code, basemap, None),
    )


def _overview_map(
    region_key: str, _region: Region, lang_code: str, basemap: str | None, tianditu_key: str | None
) -> folium.Map:
    return maps.overview_map(
        _region.boundaries,
        facilities_by_layer(region_key, _region),
        lang_code,
        catalog=catalog(),
        edges=_region.edges,
        stats=district_stats(region_key, _region),
        basemap=basemap,
        tianditu_key=tianditu_key,
        synthetic=_region.synthetic,
        title=_region.label,
        max_features=MAP_MAX_FEATURES,
    )


@st.cache_resource(show_spinner=False, max_entries=8)
def heritage_map(
    region_key: str, _region: Region, lang_code: str, basemap: str | None, tianditu_key: str | None
) -> folium.Map:
    """Return the heritage map: protected zones, sites (unprotected in red)."""
    report = heritage_report(region_key, _region)
    return maps.heritage_map(
        _region.boundaries,
        report.sites,
        report.zones,
        lang=lang_code,
        edges=_region.edges,
        basemap=basemap,
        tianditu_key=tianditu_key,
        synthetic=_region.synthetic,
        title=layer_name("heritage", lang_code),
        max_features=MAP_MAX_FEATURES,
    )
