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
  (layer, mode) serves every radius and speed; the map is keyed by the radius only
  when catchments (the one radius-dependent layer) are shown.
* Catchments are computed lazily, for the selected radius only.
* Maps are built once per (layer, mode, language, basemap) and copied per rerun; a
  district drill-down only changes the copy's bounds.
* :func:`warm_up` fills the caches of the other pages in a background thread once the
  first page of a session has been drawn, so switching pages is instant.
"""

from __future__ import annotations

import copy
import logging
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
import streamlit as st

from app_pages.uploads import FACILITY_CRS, Upload, load_uploads
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


def current_region() -> tuple[Region, str]:
    """Return the loaded region and its cache key (the demo until another is loaded)."""
    if st.session_state.get("region") is None:
        st.session_state["region"] = demo_region()
        st.session_state["region_key"] = DEMO_KEY
    return st.session_state["region"], st.session_state["region_key"]


def set_region(region: Region, key: str) -> None:
    """Make ``region`` the loaded region and forget the district drill-down."""
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
        st.warning(tr("synthetic_note"), icon="⚠️")


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
    its coverage shares and gaps, does: its analyses are keyed by the speed.
    """
    layer = catalog().get(layer_id)
    if layer is None or not layer.minutes or speed_kmh is None:
        return None
    return round(float(speed_kmh), 2)


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
    dem = demand(region_key, _region)
    g = graph(region_key, _region) if mode == "network" else None
    kwargs: dict[str, Any] = {} if speed is None else {"speed_kmh": float(speed)}
    return workflow.analyse_layer(
        _region, layer, demand=dem, graph=g, mode=mode, with_catchments=False, **kwargs
    )


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
    return find_gaps(res.access, res.layer, search_limit_m=limit, target_m=float(radius_m))


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
    return coverage.catchments(
        graph(region_key, _region), res.facilities, radii, demand_access=res.access
    )


@st.cache_resource(show_spinner=False, max_entries=8)
def facilities_by_layer(region_key: str, _region: Region) -> dict[str, gpd.GeoDataFrame]:
    """Return every catalog layer's facilities in the region (shared, read-only)."""
    return {lid: select_features(_region.features, layer) for lid, layer in catalog().items()}


@st.cache_data(show_spinner=False, max_entries=8)
def district_stats(region_key: str, _region: Region) -> pd.DataFrame:
    """Return population, 60+ and facility counts per district."""
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


@st.cache_resource(show_spinner=False, max_entries=4)
def heritage_basic(region_key: str, _region: Region):
    """Return the heritage report without residents' access (sites, zones, counts)."""
    return workflow.heritage(_region)


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
    m = coverage_map(
        region_key, _region, layer_id, mode, speed, None, with_catch, lang_code, None, None
    )
    out["map.html"] = maps.map_html(copy.deepcopy(m)).encode("utf-8")
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


@st.cache_resource(show_spinner=False, max_entries=32)
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
) -> folium.Map:
    """Return the coverage map (shared: show it with :func:`show_map`, which copies it).

    ``speed`` is :func:`speed_key`. The gaps drawn are those at ``radius_m`` (the
    layer's target when None), the catchments (when on) those at ``radius_m``; with
    catchments on and ``radius_m=None`` (the export) they are drawn at every radius.
    """
    res = analysis(region_key, _region, layer_id, mode, speed)
    catch = None
    if with_catch and mode == "network":
        catch = catchments(region_key, _region, layer_id, radius_m, speed)
    gaps = (
        res.gaps
        if radius_m is None
        else gaps_at(region_key, _region, layer_id, mode, speed, float(radius_m))
    )
    m = maps.coverage_map(
        region_boundaries=_region.boundaries,
        hexes=res.hexes,
        facilities=res.facilities,
        catchments=catch,
        gaps=gaps,
        edges=_region.edges,
        layer=res.layer,
        lang=lang_code,
        basemap=basemap,
        tianditu_key=tianditu_key,
        synthetic=_region.synthetic,
        radius_m=radius_m,
        mode=mode,
        speed_kmh=speed,
        search_limit_m=res.meta.get("search_limit_m"),
        access=res.access,
    )
    return m


@st.cache_resource(show_spinner=False, max_entries=8)
def overview_map(
    region_key: str, _region: Region, lang_code: str, basemap: str | None, tianditu_key: str | None
) -> folium.Map:
    """Return the overview map: districts by zone type, streets, every layer's facilities."""
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


def show_map(m: folium.Map, key: str, bounds: list[list[float]] | None = None) -> str | None:
    """Show a map with st_folium; return the district clicked (changes only).

    ``m`` is usually a shared cached map: it is copied, and ``bounds`` (e.g. from
    :func:`district_bounds`) zooms the copy. Only ``last_active_drawing`` is returned
    to Python, so panning and zooming do not rerun the app.
    """
    from streamlit_folium import st_folium

    # st_folium alters the map it renders; render a copy so a cached map gives the
    # same script (hence the same component, keeping its state) on every rerun.
    shown = copy.deepcopy(m)
    shown.get_root().header.add_child(folium.Element(NO_SCROLL_FOCUS), name="geoapp_no_scroll")
    if bounds is not None:
        shown.fit_bounds(bounds)
    out = st_folium(
        shown,
        height=MAP_HEIGHT,
        use_container_width=True,
        returned_objects=["last_active_drawing"],
        key=key,
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

#: Seconds between the first page of a region and the warm-up of the others.
WARM_DELAY_S = 1.5
_WARM_LOCK = threading.Lock()
_WARM_DONE: set[str] = set()


def _run_steps(
    name: str, steps: list[tuple[str, Callable[[], object]]], delay_s: float = 0.0
) -> None:
    if delay_s > 0:
        time.sleep(delay_s)
    for label, step in steps:
        try:
            step()
        except Exception:  # noqa: BLE001 - a failed warm-up only means a slower page later
            log.warning("warm-up %s: %s failed", name, label, exc_info=True)
    log.info("warm-up %s done", name)


def in_background(
    name: str, steps: list[tuple[str, Callable[[], object]]], delay_s: float = 0.0
) -> bool:
    """Run cache-filling ``steps`` once per ``name`` in a daemon thread, after ``delay_s``.

    The steps call this module's cached functions, which lock per cache key: a page
    that needs a value being computed here waits for it instead of computing it again.
    Steps must not touch ``st.session_state`` (there is no session in the thread).
    Returns True when a thread was started.
    """
    with _WARM_LOCK:
        if name in _WARM_DONE:
            return False
        _WARM_DONE.add(name)
    threading.Thread(
        target=_run_steps,
        args=(name, steps, delay_s),
        name=f"geoapp-warm-{name}",
        daemon=True,
    ).start()
    return True


def _warm_steps(
    region: Region, region_key: str, lang_code: str, basemap: str | None, tkey: str | None
) -> list[tuple[str, Callable[[], object]]]:
    """Return the cache-filling steps of every page, the default page first."""
    cat = catalog()
    layer_ids = list(cat)
    mode = "network" if len(region.edges) else "euclidean"
    compare_ids = tuple(lid for lid in layer_ids if lid != "heritage") or tuple(layer_ids)
    r, k = region, region_key

    def sk(lid: str) -> float | None:
        return speed_key(lid, SPEEDS["adult"])

    steps: list[tuple[str, Callable[[], object]]] = [
        ("overview map", lambda: overview_map(k, r, lang_code, basemap, tkey)),
    ]
    if layer_ids:
        first = layer_ids[0]
        steps.append(
            (
                "coverage map",
                lambda: coverage_map(
                    k, r, first, mode, sk(first), None, False, lang_code, basemap, tkey
                ),
            )
        )
    if "heritage" in cat:
        steps.append(("heritage map", lambda: heritage_map(k, r, lang_code, basemap, tkey)))
    steps += [
        (f"analysis {lid}", lambda lid=lid: analysis(k, r, lid, mode, sk(lid))) for lid in layer_ids
    ]
    steps.append(
        ("zones table", lambda: zones_table(k, r, compare_ids, mode, "zone_type", SPEEDS["adult"]))
    )
    steps.append(("heritage", lambda: heritage_basic(k, r)))
    if layer_ids:
        # the Export page's files at its default settings, ready for the first click
        first = layer_ids[0]
        steps.append(("export", lambda: bundle_zip(k, r, first, mode, sk(first), False, lang_code)))
    return steps


def _import_lazy_modules() -> None:
    # imported on first use by st.bar_chart and the charts (~1 s); not streamlit_folium:
    # it registers its component with the runtime when imported, so a session imports it
    import altair  # noqa: F401
    import folium.plugins  # noqa: F401
    import matplotlib.pyplot  # noqa: F401


def warm_up(region: Region, region_key: str) -> None:
    """Fill every page's caches for ``region`` in the background (once per region).

    Called after the first page of a session has been sent; starts after
    :data:`WARM_DELAY_S` so the browser draws that page's map without competing for
    the CPU. By the time the user switches page, its analyses and map are ready.
    """
    lang_code = lang()
    basemap, tkey = basemap_choice()
    steps = _warm_steps(region, region_key, lang_code, basemap, tkey)
    steps.insert(1, ("lazy imports", _import_lazy_modules))
    in_background(f"{region_key}:{lang_code}:{basemap}:{tkey}", steps, delay_s=WARM_DELAY_S)


def warm_radii(
    region: Region,
    region_key: str,
    layer_id: str,
    mode: str,
    speed: float | None,
    radii_m: Sequence[float],
    lang_code: str,
) -> None:
    """Build the coverage map (and gaps) of one layer at its other radii in the background.

    The map shows the gaps at the chosen radius, so each radius has its own map; with
    them ready, moving the radius slider only shows a cached map.
    """
    basemap, tkey = basemap_choice()
    r, k = region, region_key
    steps: list[tuple[str, Callable[[], object]]] = [
        (
            f"coverage map {layer_id} {rad:g}",
            lambda rad=float(rad): coverage_map(
                k, r, layer_id, mode, speed, rad, False, lang_code, basemap, tkey
            ),
        )
        for rad in radii_m
    ]
    in_background(
        f"{region_key}:radii:{layer_id}:{mode}:{speed}:{lang_code}:{basemap}:{tkey}", steps
    )


def warm_catchments(
    region: Region, region_key: str, layer_id: str, speed_kmh: float | None = None
) -> None:
    """Compute one layer's catchments at its other radii in the background."""
    layer = catalog().get(layer_id)
    if layer is None:
        return
    r, k = region, region_key
    speed = speed_key(layer_id, speed_kmh)
    radii = analysis(k, r, layer_id, "network", speed).layer.radii_m
    steps: list[tuple[str, Callable[[], object]]] = [
        (
            f"catchments {layer_id} {rad:g}",
            lambda rad=float(rad): catchments(k, r, layer_id, rad, speed),
        )
        for rad in radii
    ]
    in_background(f"{region_key}:catchments:{layer_id}:{speed}", steps)


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
    outcome = load_uploads(uploads, previous=prev, lang=lang(), catalog=catalog(), **opts)
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
    in zone order and colours from :mod:`geoapp.styles`).
    """
    import altair as alt

    from geoapp.styles import zone_color, zone_name, zone_sort_key

    lg = lang()
    frame = pd.DataFrame({"group": list(groups), "share": [float(v) * 100 for v in shares]})
    if zones:
        frame = frame.assign(_o=frame["group"].map(zone_sort_key)).sort_values("_o")
        colors = [zone_color(z) for z in frame["group"]]
        frame["group"] = frame["group"].map(lambda z: zone_name(z, lg))
        color = alt.Color(
            "group:N",
            scale=alt.Scale(domain=frame["group"].tolist(), range=colors),
            legend=None,
        )
    else:
        color = alt.value("#3b6ea8")
    order = frame["group"].tolist()
    gtitle = tr("zone_type") if zones else tr("district")
    value = alt.X if horizontal else alt.Y
    cat = alt.Y if horizontal else alt.X
    enc = {
        ("x" if horizontal else "y"): value(
            "share:Q", title=f"{title} (%)", scale=alt.Scale(domain=[0, 100])
        ),
        ("y" if horizontal else "x"): cat(
            "group:N",
            sort=order,
            title=gtitle,
            axis=alt.Axis(labelAngle=0, labelLimit=200, labelOverlap=False),
        ),
    }
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            color=color,
            tooltip=[
                alt.Tooltip("group:N", title=gtitle),
                alt.Tooltip("share:Q", title=f"{title} (%)", format=".1f"),
            ],
            **enc,
        )
    )
    chart = bars
    if target is not None:
        line = pd.DataFrame({"target": [float(target) * 100]})
        rule = alt.Chart(line).mark_rule(color="#b00020", strokeDash=[4, 3])
        rule = rule.encode(**{("x" if horizontal else "y"): "target:Q"})
        chart = bars + rule
    height = max(160, 26 * len(frame)) if horizontal else 280
    st.altair_chart(chart.properties(height=height), width="stretch")
