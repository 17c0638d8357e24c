"""State, caches and the shared sidebar of the Streamlit app.

Pages import from here; every computation is a call into :mod:`geoapp`, cached:
``st.cache_resource`` for the region, demand, the walking network, analyses and maps
(large objects used read-only: a cache hit costs nothing, where ``st.cache_data``
would unpickle a copy of a 17,000-row GeoDataFrame on every rerun), ``st.cache_data``
for the small tables pages display or download. Cache functions take a ``region_key``
string that identifies the loaded region and the region itself as an unhashed
``_region`` argument, so no frame is ever hashed.

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
* One background worker (:mod:`app_pages.warm`) fills the caches newest request
  first: after each run of the Coverage page, every setting one click away (other
  radii, layers, mode, speeds, catchments, language); after every page, the other
  pages at the session's settings.
* Analyses, gaps, catchments and maps of regions keyed by their content are also
  kept on disk (:mod:`app_pages.disk`), so a restarted app, or a region loaded again,
  draws at once.
"""

from __future__ import annotations

import copy
import functools
import logging
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
import streamlit as st

from app_pages import disk
from app_pages.uploads import FACILITY_CRS, Upload, load_uploads
from app_pages.warm import Warmer
from geoapp import coverage, maps, population, workflow
from geoapp.catalog import Layer, load_catalog
from geoapp.errors import GeoappError, NetworkUnavailableError
from geoapp.gaps import find_gaps
from geoapp.i18n import LANGUAGE_NAMES, STRINGS, t
from geoapp.layers import select_features
from geoapp.region import META_WARNINGS, Region

log = logging.getLogger(__name__)

DEMO_KEY = "demo"
SPEEDS = coverage.SPEED_PRESETS  # one source of the walking-speed presets
MAP_HEIGHT = 560
#: Most GeoJSON features one map sends to the browser (``GEOAPP_MAP_MAX_FEATURES``
#: overrides :data:`geoapp.maps.MAX_FEATURES`); larger layers are aggregated.
MAP_MAX_FEATURES = int(os.environ.get("GEOAPP_MAP_MAX_FEATURES", "0") or 0) or maps.MAX_FEATURES


# --------------------------------------------------------------------------- state


def lang() -> str:
    """Return the interface language chosen in the sidebar (``en`` or ``zh``)."""
    return st.session_state.get("lang", "en")


def tr(key: str, **fmt: object) -> str:
    """Return a UI string in the current language."""
    return t(key, lang(), **fmt)


def keep(key: str, default: Any, options: Sequence[Any] | None = None) -> dict[str, Any]:
    """Make widget ``key`` keep its value across pages, languages and reruns.

    Streamlit forgets a widget's value when the widget is not drawn in a run (another
    page) or when its label changes (another language). The value is kept in a shadow
    entry, restored into ``st.session_state[key]`` before the widget is drawn and
    updated by the widget's ``on_change``. Pass the returned ``key`` and ``on_change``
    to the widget, and no ``index``/``value``/``default``. A kept value no longer among
    ``options`` falls back to ``default`` (a list keeps its valid items).
    """
    shadow = f"_keep_{key}"
    state = st.session_state
    value = state[shadow] if shadow in state else state.get(key, default)
    if options is not None:
        opts = list(options)
        if isinstance(value, list):
            value = [v for v in value if v in opts]
        elif value not in opts:
            value = default
    state[key] = value
    state[shadow] = value

    def _save() -> None:
        st.session_state[shadow] = st.session_state[key]

    return {"key": key, "on_change": _save}


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


def current_region() -> tuple[Region, str]:
    """Return the loaded region and its cache key (the demo until another is loaded)."""
    if st.session_state.get("region") is None:
        st.session_state["region"] = demo_region()
        st.session_state["region_key"] = DEMO_KEY
    return st.session_state["region"], st.session_state["region_key"]


def set_region(region: Region, key: str) -> None:
    """Make ``region`` the loaded region and forget the district drill-down."""
    previous = st.session_state.get("region_key")
    if previous and previous != key:
        WARMER.forget(f"{previous}:")  # nothing more to warm for the region replaced
    st.session_state["region"] = region
    st.session_state["region_key"] = key
    st.session_state.pop("district", None)
    st.session_state.pop("district_pick", None)


def page_header(page: str) -> tuple[Region, str, str]:
    """Draw a page's title, region caption, synthetic banner and intro (when one exists).

    Returns the current ``(region, region_key, language)``.
    """
    region, key = current_region()
    st.title(tr(f"page_{page}"))
    st.caption(region.label)
    synthetic_banner(region)
    show_data_warnings(key, region)
    if f"{page}_intro" in STRINGS:
        st.write(tr(f"{page}_intro"))
    return region, key, lang()


def synthetic_banner(region: Region) -> None:
    """Show the 'synthetic demo data' label when the demo is loaded."""
    if region.synthetic:
        # the sign in the text, not as ``icon=``: validating an icon imports Streamlit's
        # table of every emoji (0.3-0.5 s of the first page)
        st.warning(f"⚠️ {tr('synthetic_note')}")


# --------------------------------------------------------------------------- caches


@st.cache_resource(show_spinner=False, max_entries=4)
def demand(region_key: str, _region: Region) -> population.Demand:
    """Return the region's demand (a :class:`geoapp.population.Demand`, shared, read-only)."""
    return workflow.prepare_demand(_region)


def show_data_warnings(region_key: str, region: Region) -> None:
    """Show the region's data warnings and demand profile (sources and population)."""
    try:
        dem = demand(region_key, region)
    except GeoappError:
        return
    warnings = [*region.meta.get(META_WARNINGS, []), *dem.warnings]
    p = dem.profile
    zh = lang() == "zh"
    note = (
        f"人口估算：{p['name']}（{p['m2_per_person']:g} m²/人，60岁及以上 {p['share_60plus']:.1%}）"
        if zh
        else f"Population profile {p['name']!r}: {p['m2_per_person']:g} m² per person, "
        f"{p['share_60plus']:.1%} aged 60+ ({dem.method})"
    )
    st.caption(note)
    if warnings:
        label = f"数据提示（{len(warnings)}）" if zh else f"Data warnings ({len(warnings)})"
        with st.expander(f"⚠️ {label}"):
            for w in warnings:
                st.markdown(f"- {w}")


@st.cache_resource(show_spinner=False, max_entries=4)
def graph(region_key: str, _region: Region):
    """Return the walking network of the region."""
    return workflow.get_graph(_region)


#: The speed choices of the Coverage page: the layer's own pace (the default), the
#: presets, or a custom speed.
SPEED_CHOICES = ("layer", *SPEEDS, "custom")


def coverage_speed(layer_id: str | None = None) -> float | None:
    """Return the walking speed (km/h) chosen on the Coverage page (kept across pages).

    With "the layer's own pace" chosen: that layer's speed when ``layer_id`` is given,
    else None (each layer its own).
    """
    state = st.session_state
    choice = state.get("_keep_cov_speed", state.get("cov_speed", "layer"))
    if choice == "custom":
        return float(state.get("_keep_cov_speed_kmh", state.get("cov_speed_kmh", 4.0)))
    if choice == "layer" or choice not in SPEEDS:
        layer = catalog().get(layer_id) if layer_id else None
        return layer.walk_speed_kmh if layer is not None else None
    return float(SPEEDS[choice])


def coverage_mode(region: Region) -> str:
    """Return the distance mode chosen on the Coverage page (network when it has streets)."""
    if not len(region.edges):
        return "euclidean"
    state = st.session_state
    return str(state.get("_keep_cov_mode", state.get("cov_mode", "network")))


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
            # heritage sites, as the Heritage page counts them (protected zones apart)
            sites = heritage_basic(region_key, _region).sites
            counts = sites["district"].astype(str).value_counts() if len(sites) else {}
            stats[lid] = stats["district"].map(counts).fillna(0).astype(int)
            total = total + stats[lid]
            continue
        if len(fac) == 0 or len(_region.boundaries) == 0:
            stats[lid] = 0
            continue
        pts = fac.set_geometry(fac.geometry.representative_point())[["geometry"]]
        joined = gpd.sjoin(
            pts, _region.boundaries[["district", "geometry"]], how="inner", predicate="within"
        )
        counts = joined.groupby("district").size()
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
    zt = zones_table(region_key, _region, (layer_id,), mode, "zone_type", speed)
    with tempfile.TemporaryDirectory(prefix="geoapp-export-") as tmp:
        paths = workflow.write_bundle(
            res, _region, tmp, zones_table=zt, html_map=False, strip_paths=True
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
    return out


def bundle_names(with_catch: bool) -> list[str]:
    """Return the file names of an export bundle (catchments only when they are on)."""
    names = [
        "bundle.gpkg",
        "demand.geojson",
        "facilities.geojson",
        "gaps.geojson",
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


# --------------------------------------------------------------------------- maps


def basemap_choice() -> tuple[str | None, str | None]:
    """Return the basemap and Tianditu key chosen in the sidebar."""
    bm = st.session_state.get("basemap", "none")
    key = st.session_state.get("tianditu_key") or None
    if bm == "tianditu" and not key:
        return None, None
    return (None if bm == "none" else bm), key


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
        title=layer_label("heritage", lang_code),
        max_features=MAP_MAX_FEATURES,
    )


def district_bounds(region: Region, district: str | None) -> list[list[float]] | None:
    """Return ``[[south, west], [north, east]]`` of one district, or None."""
    if not district or len(region.boundaries) == 0:
        return None
    bnd = region.boundaries
    sel = bnd[bnd["district"].astype(str) == district]
    if len(sel) == 0:
        return None
    b = sel.geometry.to_crs("EPSG:4326").total_bounds if sel.crs else sel.total_bounds
    return [[float(b[1]), float(b[0])], [float(b[3]), float(b[2])]]


#: Leaflet focuses the map container on the first mouse-down (for its keyboard
#: handler); in the st_folium iframe that focus scrolled the app page to bring the
#: whole map into view (the first click on a map partly below the fold moved the page
#: by ~170 px, so the click landed elsewhere). Focus without scrolling instead.
NO_SCROLL_FOCUS = """<script>
(function () {
  var focus = HTMLElement.prototype.focus;
  HTMLElement.prototype.focus = function (opts) {
    return focus.call(this, Object.assign({}, opts || {}, {preventScroll: true}));
  };
})();
</script>"""


def show_map(
    m: folium.Map | maps.MapParts, key: str, bounds: list[list[float]] | None = None
) -> str | None:
    """Show a map with st_folium; return the district clicked (changes only).

    ``m`` is usually a shared cached map: it is copied, and ``bounds`` (e.g. from
    :func:`district_bounds`) zooms the copy. With :class:`geoapp.maps.MapParts` the
    base stays in the browser from one setting to the next (its script, hence the
    component, is unchanged) and only the overlays are replaced: no new iframe, no
    reloaded Leaflet. Only ``last_active_drawing`` is returned to Python, so panning
    and zooming do not rerun the app.
    """
    from streamlit_folium import st_folium

    parts = m if isinstance(m, maps.MapParts) else None
    # st_folium alters the map it renders; render a copy so a cached map gives the
    # same script (hence the same component, keeping its state) on every rerun.
    shown = copy.deepcopy(parts.base if parts is not None else m)
    shown.get_root().header.add_child(folium.Element(NO_SCROLL_FOCUS), name="geoapp_no_scroll")
    if bounds is not None:
        shown.fit_bounds(bounds)
    extra: dict[str, Any] = {}
    if parts is not None:
        extra["feature_group_to_add"] = [copy.deepcopy(fg) for fg in parts.overlays]
        extra["layer_control"] = parts.layer_control()
    out = st_folium(
        shown,
        height=MAP_HEIGHT,
        use_container_width=True,
        returned_objects=["last_active_drawing"],
        key=key,
        **extra,
    )
    feature = (out or {}).get("last_active_drawing") or {}
    props = feature.get("properties") or {}
    clicked = props.get("district")
    if not clicked:
        return None
    seen_key = f"{key}_seen_click"
    if st.session_state.get(seen_key) == clicked:
        return None
    st.session_state[seen_key] = clicked
    return str(clicked)


def district_picker(region: Region, key: str = "district_pick") -> str | None:
    """Show a district filter (also set by clicking the map) and return the choice."""
    names = (
        [str(d) for d in region.boundaries["district"].tolist()] if len(region.boundaries) else []
    )
    if len(names) <= 1:
        return None
    options = ["", *names]
    current = st.session_state.get("district")
    if current not in names:
        current = ""
    if st.session_state.get(key) != current:
        st.session_state[key] = current

    def _changed() -> None:
        st.session_state["district"] = st.session_state[key] or None

    all_label = tr("all_districts")

    st.selectbox(
        tr("district_filter"),
        options,
        key=key,
        format_func=lambda d: d or all_label,
        on_change=_changed,
    )
    return st.session_state.get("district") or None


def drill(clicked: str | None) -> None:
    """Apply a district clicked on a map and rerun so the page shows it."""
    if clicked and clicked != st.session_state.get("district"):
        st.session_state["district"] = clicked
        st.rerun()


# --------------------------------------------------------------------------- warm-up

#: Seconds of quiet after a page's last warm-up request before the worker starts, so
#: the browser draws the page without competing for the CPU (it takes 0.7-1.2 s to draw
#: a Coverage rerun on two cores; back-to-back control changes took 1.66 s on average
#: with 1.5 s, 1.88 s with 0.4 s).
WARM_IDLE_S = 1.5
#: Longest a page run keeps the warm-up from starting a step (the run's end releases it).
WARM_PAGE_HOLD_S = 60.0
#: Seconds without a page run before the Export bundle is built in the background.
WARM_QUIET_S = 6.0
#: Regions up to this many street edges get every "one click away" map warmed; larger
#: ones only the other radii of the layer shown (each analysis costs seconds there).
WARM_NEIGHBOURS_MAX_EDGES = 250_000
WARMER = Warmer(idle_s=WARM_IDLE_S)
#: Seconds the warm-up waits after a page of a region over
#: :data:`WARM_NEIGHBOURS_MAX_EDGES` street edges: the browser is still receiving and
#: drawing its map (1.5-2 s at city scale on two cores), which the warm-up's CPU slows.
WARM_HOLD_LARGE_S = 2.5


def _hold_if_large(region: Region) -> None:
    if len(region.edges) > WARM_NEIGHBOURS_MAX_EDGES:
        WARMER.hold(WARM_HOLD_LARGE_S)


def _speed_for(layer_id: str, choice: str, custom_kmh: float) -> float | None:
    """Return :func:`speed_key` of ``layer_id`` under a Coverage-page speed choice."""
    layer = catalog().get(layer_id)
    if layer is None:
        return None
    if choice == "custom":
        kmh: float | None = custom_kmh
    elif choice in SPEEDS:
        kmh = float(SPEEDS[choice])
    else:
        kmh = layer.walk_speed_kmh
    return speed_key(layer_id, kmh)


def _coverage_map_at(
    k: str,
    r: Region,
    layer_id: str,
    mode: str,
    speed: float | None,
    label: str | None,
    with_catch: bool,
    lang_code: str,
    basemap: str | None,
    tkey: str | None,
) -> None:
    """Fill the caches the Coverage page needs for one set of settings.

    ``label`` is the radius label (``"15min"``, ``"300"``); None or unknown: the
    layer's target, as the page shows by default.
    """
    res = analysis(k, r, layer_id, mode, speed)
    run = res.layer
    labels = list(run.labels)
    radius = float(run.radii_m[labels.index(label)]) if label in labels else float(run.target_m)
    if with_catch and mode == "network":
        catchments(k, r, layer_id, radius, speed)
    gaps_at(k, r, layer_id, mode, speed, radius)
    coverage_map(k, r, layer_id, mode, speed, radius, with_catch, lang_code, basemap, tkey)


def _kept(key: str, default: Any) -> Any:
    state = st.session_state
    return state.get(f"_keep_{key}", state.get(key, default))


#: Sidebar widgets that hold an extract to load instead of the region shown.
EXTRACT_UPLOADERS = ("up_osm", "bj_osm")


def about_to_switch(state: Mapping[str, Any]) -> bool:
    """Return True when an extract is picked in the sidebar but not loaded yet.

    The planner is about to replace the region: warming its other pages would only
    slow the load (a step cannot be stopped once begun).
    """
    loaded = set(state.get("_loaded_file_ids", ()))
    picked = (state.get(k) for k in EXTRACT_UPLOADERS)
    return any(f is not None and getattr(f, "file_id", None) not in loaded for f in picked)


def _loaded_files(*files: Any) -> None:
    """Record the sidebar files a Load button took (see :func:`about_to_switch`)."""
    st.session_state["_loaded_file_ids"] = [f.file_id for f in files if f is not None]


def warm_coverage(
    region: Region,
    region_key: str,
    layer_id: str,
    mode: str,
    radius_label: str,
    with_catch: bool,
) -> None:
    """Warm what one click on the Coverage page can ask for next (in the background).

    Newest first: the other radii of the layer shown; then (regions up to
    :data:`WARM_NEIGHBOURS_MAX_EDGES` street edges) the other layers at the radius the
    planner left them at, the other distance mode, the other walking speeds, the
    catchments toggle and the other language -- each one click away from the
    settings on screen.
    """
    if about_to_switch(st.session_state):
        WARMER.forget(f"{region_key}:")
        return
    lg = lang()
    bm, tk = basemap_choice()
    choice = str(_kept("cov_speed", "layer"))
    custom = float(_kept("cov_speed_kmh", 4.0))
    sk = _speed_for(layer_id, choice, custom)
    r, k = region, region_key
    res = analysis(k, r, layer_id, mode, sk)

    def at(lid: str, md: str, spd: float | None, lab: str | None, catch: bool, lc: str):
        return lambda: _coverage_map_at(k, r, lid, md, spd, lab, catch, lc, bm, tk)

    steps: list[tuple[str, Callable[[], object]]] = [
        (f"radius {lab}", at(layer_id, mode, sk, lab, with_catch, lg))
        for lab in res.layer.labels
        if lab != radius_label
    ]
    if len(region.edges) <= WARM_NEIGHBOURS_MAX_EDGES:
        for lid in catalog():
            if lid != layer_id:
                lab = _kept(f"cov_radius_{lid}", None)
                steps.append((f"layer {lid}", at(lid, mode, _speed_for(lid, choice, custom), lab,
                                                 with_catch, lg)))  # fmt: skip
        if len(region.edges):
            other = "euclidean" if mode == "network" else "network"
            steps.append((f"mode {other}", at(layer_id, other, sk, radius_label, False, lg)))
        for ch in ("layer", *SPEEDS):
            spd = _speed_for(layer_id, ch, custom)
            if spd != sk:
                steps.append((f"speed {ch}", at(layer_id, mode, spd, radius_label, with_catch, lg)))
        if mode == "network":
            steps.append(("catchments", at(layer_id, mode, sk, radius_label, not with_catch, lg)))
        other_lang = "zh" if lg == "en" else "en"
        steps.append(
            (f"language {other_lang}", at(layer_id, mode, sk, radius_label, with_catch, other_lang))
        )
    name = (
        f"{region_key}:coverage:{layer_id}:{mode}:{sk}:{radius_label}:{with_catch}:{lg}:{bm}:{tk}"
    )
    _hold_if_large(region)
    WARMER.request(name, steps)


def _warm_steps(
    region: Region, region_key: str, lang_code: str, basemap: str | None, tkey: str | None
) -> list[tuple[str, Callable[[], object]]]:
    """Return the cache-filling steps of every page at the settings kept in the session."""
    cat = catalog()
    layer_ids = list(cat)
    mode = coverage_mode(region)
    r, k = region, region_key
    choice = str(_kept("cov_speed", "layer"))
    custom = float(_kept("cov_speed_kmh", 4.0))
    compare_ids = tuple(
        _kept("cmp_layers", [lid for lid in layer_ids if lid != "heritage"] or layer_ids)
    )
    by = str(_kept("cmp_group_by", "zone_type"))
    cmp_speed = coverage_speed()
    steps: list[tuple[str, Callable[[], object]]] = [
        ("overview map", lambda: overview_map(k, r, lang_code, basemap, tkey)),
    ]
    if layer_ids:
        first = str(_kept("cov_layer", layer_ids[0]))
        if first in cat:
            sk = _speed_for(first, choice, custom)
            lab = _kept(f"cov_radius_{first}", None)
            catch = bool(_kept("cov_catch", False)) and mode == "network"
            steps.append(
                (
                    "coverage map",
                    lambda: _coverage_map_at(
                        k, r, first, mode, sk, lab, catch, lang_code, basemap, tkey
                    ),
                )
            )
    if "heritage" in cat:
        steps.append(("heritage", lambda: heritage_report(k, r)))
        steps.append(("heritage map", lambda: heritage_map(k, r, lang_code, basemap, tkey)))
    if compare_ids:
        steps.append(("zones table", lambda: zones_table(k, r, compare_ids, mode, by, cmp_speed)))
        steps.append(("zone chart", lambda: zone_chart_png(k, r, compare_ids, mode, by,
                                                           cmp_speed, lang_code)))  # fmt: skip
    return steps


def _export_steps(
    region: Region, region_key: str, lang_code: str
) -> list[tuple[str, Callable[[], object]]]:
    """Return the step that builds the Export page's files at its settings (or none)."""
    cat = catalog()
    if not cat or len(region.edges) > WARM_NEIGHBOURS_MAX_EDGES:
        return []  # a city's bundle takes many seconds: built when the page asks
    exp = str(_kept("exp_layer", next(iter(cat))))
    if exp not in cat:
        return []
    mode = coverage_mode(region)
    esk = speed_key(exp, coverage_speed(exp))
    r, k = region, region_key
    return [("export", lambda: bundle_zip(k, r, exp, mode, esk, False, lang_code))]


def _import_lazy_modules() -> None:
    # imported on first use (~1 s); not streamlit_folium: it registers its component
    # with the runtime when imported, so a session imports it
    import folium.plugins  # noqa: F401
    import matplotlib.pyplot  # noqa: F401


def warm_up(region: Region, region_key: str) -> None:
    """Fill the other pages' caches for ``region`` at the session's settings (background).

    Called after every page run, so it always queues behind that page's own
    neighbours (:func:`warm_coverage`); each set of settings is queued once.
    """
    if about_to_switch(st.session_state):
        WARMER.forget(f"{region_key}:")
        return
    lang_code = lang()
    basemap, tkey = basemap_choice()
    steps = _warm_steps(region, region_key, lang_code, basemap, tkey)
    steps.insert(1, ("lazy imports", _import_lazy_modules))
    settings = ":".join(
        str(_kept(key, "")) for key in ("cov_layer", "cov_speed", "cov_speed_kmh", "cov_mode",
                                        "cmp_layers", "cmp_group_by", "exp_layer")
    )  # fmt: skip
    name = f"{region_key}:pages:{lang_code}:{basemap}:{tkey}:{settings}"
    _hold_if_large(region)
    # behind the page's own neighbours: the other pages are further than one click away
    WARMER.request(name, steps, first=False)
    # the whole bundle (seconds of work) only once the planner has paused: begun just
    # before a click, it would slow that page
    WARMER.request(f"{name}:export", _export_steps(region, region_key, lang_code),
                   first=False, quiet_s=WARM_QUIET_S)  # fmt: skip


# --------------------------------------------------------------------------- sidebar


def _on_place(place: str) -> None:
    lg = lang()
    with st.status(t("fetching", lg, place=place), expanded=True) as status:
        try:
            region = workflow.load_region(
                place=place,
                catalog=catalog(),
                progress=lambda msg, frac: status.write(msg),
            )
        except NetworkUnavailableError:
            log.info("place fetch %r: no network", place, exc_info=True)
            status.update(label=t("fetch_failed", lg), state="error")
            st.session_state["place_error"] = t("offline_place", lg)
            return
        except GeoappError as exc:
            status.update(label=t("fetch_failed", lg), state="error")
            st.session_state["place_error"] = str(exc)
            return
        status.update(label=t("fetch_done", lg, place=place), state="complete")
    st.session_state.pop("place_error", None)
    set_region(region, f"place:{place}")


def _on_beijing(osm_path: Path, label: str) -> None:
    """Load Beijing: the extract ``osm_path`` with the 16 districts, 2020 census, zones."""
    lg = lang()
    with st.status(t("beijing_loading", lg), expanded=True) as status:
        try:
            region = workflow.load_region(
                osm=osm_path,
                boundaries="beijing",
                census="beijing",
                zones="beijing",
                catalog=catalog(),
                progress=lambda msg, frac: status.write(msg),
            )
        except GeoappError as exc:
            status.update(label=t("fetch_failed", lg), state="error")
            st.session_state["beijing_error"] = str(exc).replace(str(osm_path.parent) + "/", "")
            return
        status.update(label=t("fetch_done", lg, place=region.label), state="complete")
    st.session_state.pop("beijing_error", None)
    set_region(region, f"beijing:{label}")


def _beijing_form() -> None:
    lg = lang()
    st.caption(t("beijing_intro", lg))
    up = st.file_uploader(t("upload_osm", lg), type=["pbf", "osm", "bz2"], key="bj_osm")
    path_text = st.text_input(t("beijing_osm_path", lg), **keep("bj_osm_path", ""))
    if st.button(t("beijing_load", lg), key="bj_go", type="primary"):
        _loaded_files(up)
        if up is not None:
            import hashlib

            digest = hashlib.sha256(up.getvalue()).hexdigest()[:16]
            folder = Path(tempfile.gettempdir()) / f"geoapp-beijing-{digest}"
            folder.mkdir(parents=True, exist_ok=True)
            name = "".join(c if c.isalnum() or c in "._-" else "_" for c in Path(up.name).name)
            path = folder / (name or "beijing.osm.pbf")
            if not path.exists():
                path.write_bytes(up.getvalue())
            _on_beijing(path, f"upload:{digest}")
        elif path_text.strip():
            path = Path(path_text.strip()).expanduser()
            if not path.is_file():
                st.session_state["beijing_error"] = t("beijing_no_file", lg, path=path.name)
            else:
                st.session_state.pop("beijing_error", None)
                _on_beijing(path, f"path:{path.resolve()}:{path.stat().st_mtime_ns}")
        else:
            st.session_state["beijing_error"] = t("beijing_need_osm", lg)
    if st.session_state.get("beijing_error"):
        st.error(st.session_state["beijing_error"])


def process_pending_uploads() -> None:
    """Load the files queued in ``st.session_state['pending_uploads']``, if any.

    The queue holds ``{kind: (file name, bytes)}`` plus optional ``facility_crs`` and
    ``facility_layer`` entries; the sidebar's upload button fills it (tests may too).
    A bad file shows a message and leaves the loaded region untouched.
    """
    pending = st.session_state.pop("pending_uploads", None)
    if not pending:
        return
    opts = {k: pending.pop(k) for k in ("facility_crs", "facility_layer") if k in pending}
    uploads = {k: Upload(name=v[0], data=bytes(v[1])) for k, v in pending.items() if v}
    prev, _ = current_region()
    lg = lang()
    # a city-sized extract takes a while: say what is being read
    with st.status(t("working", lg), expanded=False) as status:
        outcome = load_uploads(
            uploads,
            previous=prev,
            lang=lg,
            catalog=catalog(),
            progress=lambda msg, frac: status.update(label=f"{msg} ({frac:.0%})"),
            **opts,
        )
        status.update(state="error" if outcome.error else "complete")
    if outcome.error:
        st.session_state["upload_error"] = outcome.error
        return
    st.session_state.pop("upload_error", None)
    assert outcome.region is not None and outcome.key is not None
    set_region(outcome.region, outcome.key)
    st.session_state["upload_ok"] = outcome.region.label


def _upload_form() -> None:
    lg = lang()
    files: dict[str, Any] = {}
    files["osm"] = st.file_uploader(t("upload_osm", lg), type=["pbf", "osm", "bz2"], key="up_osm")
    files["boundaries"] = st.file_uploader(
        t("upload_boundaries", lg), type=["geojson", "json", "gpkg", "zip"], key="up_bnd"
    )
    files["facilities"] = st.file_uploader(
        t("upload_facilities", lg), type=["csv", "xlsx"], key="up_fac"
    )
    crs = st.selectbox(
        t("upload_facilities_crs", lg),
        FACILITY_CRS,
        format_func=formatter("crs_"),
        help=t("facility_crs_help", lg),
        **keep("up_fac_crs", FACILITY_CRS[0], FACILITY_CRS),
    )
    layer_ids = list(catalog())
    layer = st.selectbox(
        t("layer", lg),
        layer_ids,
        format_func=layer_formatter(),
        **keep("up_fac_layer", layer_ids[0], layer_ids),
    )
    files["census"] = st.file_uploader(t("upload_census", lg), type=["csv"], key="up_census")
    files["zones"] = st.file_uploader(t("upload_zones", lg), type=["toml"], key="up_zones")
    if st.button(t("load_uploads", lg), key="up_go", type="primary"):
        _loaded_files(files["osm"])
        pending: dict[str, Any] = {
            k: (f.name, f.getvalue()) for k, f in files.items() if f is not None
        }
        if pending:
            pending.update(facility_crs=crs, facility_layer=layer)
            st.session_state["pending_uploads"] = pending
        else:
            st.session_state["upload_error"] = t("upload_need_data", lg)


REGION_SOURCES = ("demo", "beijing", "place", "upload")
BASEMAPS = ("none", "osm", "positron", "tianditu")


def sidebar() -> Region:
    """Draw the shared sidebar (language, region, basemap) and return the region.

    Every choice is kept across pages and languages (:func:`keep`).
    """
    with st.sidebar:
        st.radio(
            "Language / 语言",
            list(LANGUAGE_NAMES),
            format_func=lambda c: LANGUAGE_NAMES[c],
            horizontal=True,
            **keep("lang", "en", list(LANGUAGE_NAMES)),
        )
        lg = lang()
        st.subheader(t("region", lg))
        source = st.radio(
            t("region_source", lg),
            list(REGION_SOURCES),
            format_func=formatter("source_"),
            **keep("region_source", "demo", REGION_SOURCES),
        )
        if source == "demo":
            if st.session_state.get("region_key") not in (None, DEMO_KEY) and st.button(
                t("source_demo", lg), key="back_to_demo"
            ):
                set_region(demo_region(), DEMO_KEY)
        elif source == "beijing":
            _beijing_form()
        elif source == "place":
            place = st.text_input(
                t("place_name", lg), help=t("place_help", lg), **keep("place", "")
            )
            if st.button(t("fetch", lg), key="fetch_place", disabled=not place.strip()):
                _on_place(place.strip())
            if st.session_state.get("place_error"):
                st.error(st.session_state["place_error"])
        else:
            _upload_form()

        process_pending_uploads()
        if st.session_state.get("upload_error"):
            st.error(t("upload_error", lg) + "\n\n" + st.session_state["upload_error"])
        elif st.session_state.get("upload_ok"):
            st.success(t("upload_ok", lg, name=st.session_state.pop("upload_ok")))

        region, _ = current_region()
        st.caption(t("region_loaded", lg, name=region.label))
        if region.synthetic:
            st.caption(f"⚠️ {t('synthetic_short', lg)}")

        st.subheader(t("basemap", lg))
        st.selectbox(
            t("basemap", lg),
            list(BASEMAPS),
            format_func=formatter("basemap_"),
            label_visibility="collapsed",
            **keep("basemap", "none", BASEMAPS),
        )
        if st.session_state.get("basemap") == "tianditu":
            st.text_input(t("tianditu_key", lg), type="password", **keep("tianditu_key", ""))
            if not st.session_state.get("tianditu_key"):
                st.info(t("tianditu_needs_key", lg))
    return region


def layer_label(layer_id: str, lang_code: str | None = None) -> str:
    """Return a layer's label in the current language (or ``lang_code``)."""
    layer = catalog().get(layer_id)
    return layer.name(lang_code or lang()) if layer is not None else layer_id


def layer_formatter() -> Callable[[str], str]:
    """Return a ``format_func`` for layer ids, bound to the current language.

    Widgets may call it after the script run, when the session's language can no
    longer be read, so the language is fixed now.
    """
    lang_code = lang()
    return lambda layer_id: layer_label(layer_id, lang_code)


def formatter(prefix: str) -> Callable[[str], str]:
    """Return a ``format_func`` showing the UI string ``prefix + value`` (language fixed now)."""
    lang_code = lang()
    return lambda value: t(f"{prefix}{value}", lang_code)


def error_box(exc: GeoappError) -> None:
    """Show a user-caused error without a traceback."""
    st.error(f"{tr('error')}: {exc}")


def number_config(table: Any) -> dict[str, Any]:
    """Return the ``column_config`` of a :class:`app_pages.tables.Table`'s number columns."""
    from app_pages.tables import FLOAT1, FLOAT2, INT, PERCENT

    fmt = {PERCENT: "%.1f%%", INT: "localized", FLOAT1: "%.1f", FLOAT2: "%.2f"}
    return {
        header: st.column_config.NumberColumn(header, format=fmt[kind])
        for header, kind in table.column_kinds.items()
        if kind in fmt
    }


def show_table(table: Any, *, height: int | str = "auto") -> None:
    """Show a :class:`app_pages.tables.Table` with its number formats."""
    config = number_config(table)
    st.dataframe(table.frame, hide_index=True, width="stretch", column_config=config, height=height)


def share_chart(
    groups: Sequence[str],
    shares: Sequence[float],
    *,
    title: str,
    target: float | None = None,
    zones: bool = False,
    horizontal: bool = False,
) -> None:
    """Draw a bar chart of coverage shares: 0-100 % fixed, the target line, zone order.

    ``groups`` are district names or, with ``zones``, zone-type ids (shown by name,
    in zone order and colours from :mod:`geoapp.styles`); ``title`` is the share axis's
    title. The Vega-Lite spec is written by hand (Altair takes ~1 s to import and
    ~0.2 s to validate a chart) and holds no data: the shares and the target travel as
    the chart's data, so a change of radius, layer or mode leaves the spec as it was
    and the browser updates the drawn chart in place instead of building it anew.
    """
    lg = lang()
    gtitle = tr("zone_type") if zones else tr("district")
    frame = pd.DataFrame(
        {"group": [str(g) for g in groups], "share": [float(v) * 100 for v in shares]}
    )
    if zones:
        from geoapp.styles import zone_name, zone_sort_key

        frame = frame.assign(_o=frame["group"].map(zone_sort_key)).sort_values("_o", kind="stable")
        ids = tuple(frame["group"])
        frame = frame.drop(columns="_o").assign(group=[zone_name(z, lg) for z in ids])
    else:
        ids = tuple(frame["group"])
    frame["target"] = float("nan") if target is None else float(target) * 100
    spec = _share_spec(ids, title, zones, horizontal, lg, gtitle)
    st.vega_lite_chart(frame.reset_index(drop=True), copy.deepcopy(spec), width="stretch")


@functools.lru_cache(maxsize=256)
def _share_spec(
    ids: tuple[str, ...],
    title: str,
    zones: bool,
    horizontal: bool,
    lg: str,
    gtitle: str,
) -> dict[str, Any]:
    """Return the Vega-Lite spec of :func:`share_chart` (no data: it is passed apart)."""
    from geoapp.styles import zone_color, zone_name

    order = [zone_name(z, lg) for z in ids] if zones else list(ids)
    share_ch, group_ch = ("x", "y") if horizontal else ("y", "x")
    share_title = f"{title} (%)"
    color: dict[str, Any] = (
        {
            "field": "group",
            "type": "nominal",
            "scale": {"domain": order, "range": [zone_color(z) for z in ids]},
            "legend": None,
        }
        if zones
        else {"value": "#3b6ea8"}
    )
    bars = {
        "mark": {"type": "bar"},
        "encoding": {
            share_ch: {
                "field": "share",
                "type": "quantitative",
                "title": share_title,
                "scale": {"domain": [0, 100]},
            },
            group_ch: {
                "field": "group",
                "type": "nominal",
                "sort": order,
                "title": gtitle,
                "axis": {"labelAngle": 0, "labelLimit": 200, "labelOverlap": False},
            },
            "color": color,
            "tooltip": [
                {"field": "group", "type": "nominal", "title": gtitle},
                {"field": "share", "type": "quantitative", "title": share_title, "format": ".1f"},
            ],
        },
    }
    # one dashed line at the target share (the same on every row; none when NaN)
    rule = {
        "mark": {"type": "rule", "color": "#b00020", "strokeDash": [4, 3]},
        "encoding": {share_ch: {"field": "target", "type": "quantitative", "aggregate": "max"}},
    }
    height = max(160, 26 * len(ids)) if horizontal else 280
    return {"height": height, "layer": [bars, rule]}
