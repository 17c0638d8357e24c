"""What-if page: add, close or move facilities on the map and see coverage change.

The scenario (:class:`geoapp.scenario.Scenario`) lives in ``st.session_state`` per
(region, layer, mode, speed), so it survives reruns, page switches and language
changes. The starting scenario is cached per server (it is immutable). The map is a
decision surface (:mod:`app_pages.scenario_map`): the base (tiles, streets) is drawn
once; the distance cells and gaps under the edits, the catchment of each added site,
the gained / lost cells, the facilities, the edits and the suggested sites are
FeatureGroups passed to ``st_folium(feature_group_to_add=...)``, so only they are
redrawn after a click. Suggested sites are listed in a translated table; selecting a
row centres the map on the site.
"""

from __future__ import annotations

import copy
import html
import json

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from app_pages import compute, scenario_map, state, widgets
from app_pages.tables import FLOAT1, INT, Table, as_text
from app_pages.tables import reach_text as reach_label
from app_pages.widgets import change_delta
from geoapp import export
from geoapp.errors import GeoappError
from geoapp.i18n import zone_name
from geoapp.region import Region
from geoapp.scenario import Scenario

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "action": "Map click",
        "act_add": "Add",
        "act_close": "Close",
        "act_move": "Move",
        "move_pick": "Click the facility to move, then the new place.",
        "move_from": "Moving {fid}: click its new place on the map.",
        "radius": "Reach shown",
        "covered_n": "Residents covered",
        "covered_60": "Aged 60+ covered",
        "facilities": "Facilities",
        "by_group": "Before and after, by district and zone",
        "level": "Level",
        "group": "Group",
        "before": "Covered before",
        "after": "Covered after",
        "change": "Change",
        "before60": "60+ before",
        "after60": "60+ after",
        "change60": "60+ change",
        "share_b": "Share before %",
        "share_a": "Share after %",
        "share_pp": "Change (pp)",
        "lvl_region": "Region",
        "lvl_district": "District",
        "lvl_zone_type": "Zone type",
        "lvl_settlement": "Settlement",
        "add_at": "Add a facility at coordinates",
        "lon": "Longitude",
        "lat": "Latitude",
        "add_btn": "Add facility",
        "close_pick": "Close a facility",
        "close_btn": "Close it",
        "undo": "Undo",
        "reset": "Reset",
        "edits": "{n} edits: {added} added, {moved} moved, {removed} closed",
        "edits_one": "1 edit: {added} added, {moved} moved, {removed} closed",
        "no_edits": "No edits yet: today's facilities.",
        "export": "Export the scenario",
        "dl_geojson": "Changed facilities (GeoJSON)",
        "dl_csv": "Before/after table (CSV)",
        "suggest": "Suggest sites",
        "suggest_k": "Number of new sites",
        "suggest_btn": "Suggest",
        "suggest_na": "Site suggestions are not available in this version (geoapp.siting).",
        "suggested": "Suggested sites (existing and scenario facilities kept)",
        "adopt": "Adopt the suggestions",
        "layer_added": "Added / moved",
        "layer_closed": "Closed",
        "layer_suggested": "Suggested",
        "edit_failed": "That edit could not be made",
    },
    "zh": {
        "action": "地图点击",
        "act_add": "新增",
        "act_close": "关闭",
        "act_move": "迁移",
        "move_pick": "先点击要迁移的设施，再点击新位置。",
        "move_from": "正在迁移 {fid}：请在地图上点击新位置。",
        "radius": "显示的可达范围",
        "covered_n": "覆盖人口",
        "covered_60": "覆盖 60 岁及以上",
        "facilities": "设施数",
        "by_group": "分区与分类的前后对比",
        "level": "层级",
        "group": "分组",
        "before": "现状覆盖",
        "after": "情景覆盖",
        "change": "变化",
        "before60": "60+ 现状",
        "after60": "60+ 情景",
        "change60": "60+ 变化",
        "share_b": "现状覆盖率 %",
        "share_a": "情景覆盖率 %",
        "share_pp": "变化（百分点）",
        "lvl_region": "全域",
        "lvl_district": "行政区",
        "lvl_zone_type": "区域类型",
        "lvl_settlement": "聚落类型",
        "add_at": "按坐标新增设施",
        "lon": "经度",
        "lat": "纬度",
        "add_btn": "新增设施",
        "close_pick": "关闭设施",
        "close_btn": "关闭",
        "undo": "撤销",
        "reset": "重置",
        "edits": "共 {n} 项修改：新增 {added}，迁移 {moved}，关闭 {removed}",
        "edits_one": "共 1 项修改：新增 {added}，迁移 {moved}，关闭 {removed}",
        "no_edits": "尚无修改：现状设施。",
        "export": "导出情景",
        "dl_geojson": "变更设施（GeoJSON）",
        "dl_csv": "前后对比表（CSV）",
        "suggest": "推荐选址",
        "suggest_k": "新增设施数",
        "suggest_btn": "推荐",
        "suggest_na": "此版本暂不提供选址推荐（geoapp.siting）。",
        "suggested": "推荐选址（保留现状与情景设施）",
        "adopt": "采纳推荐",
        "layer_added": "新增 / 迁移",
        "layer_closed": "已关闭",
        "layer_suggested": "推荐",
        "edit_failed": "无法完成该修改",
    },
}


def s(key: str, **fmt: object) -> str:
    """Return this page's string ``key`` in the current language."""
    text = STRINGS.get(state.lang(), STRINGS["en"]).get(key, STRINGS["en"][key])
    return text.format(**fmt) if fmt else text


@st.cache_resource(show_spinner=False, max_entries=16)
def start(region_key: str, _region: Region, layer_id: str, mode: str, speed: float) -> Scenario:
    """Return the starting scenario (today's facilities); immutable, shared."""
    dem = compute.demand(region_key, _region)
    g = compute.graph(region_key, _region) if mode == "network" else None
    layer = compute.catalog()[layer_id]
    return Scenario.build(_region, layer, demand=dem, graph=g, mode=mode, speed_kmh=speed)


@st.cache_resource(show_spinner=False, max_entries=16)
def default_site(
    region_key: str, _region: Region, layer_id: str, mode: str, speed: float
) -> tuple[float, float]:
    """Return the most populous demand point beyond the target reach (a useful first site)."""
    scn = start(region_key, _region, layer_id, mode, speed)
    acc = scn.access()
    col = scn.layer.demand_column
    far = acc[acc["dist_m"] > scn.layer.target_m]
    pick = far if len(far) else acc
    row = pick.loc[pick[col].astype(float).idxmax()] if len(pick) else None
    if row is None:
        c = scn.region.extent().geometry.iloc[0].centroid
        return round(float(c.x), 6), round(float(c.y), 6)
    pt = row.geometry if row.geometry.geom_type == "Point" else row.geometry.representative_point()
    return round(float(pt.x), 6), round(float(pt.y), 6)


def apply(scn: Scenario, action: str, clicked: dict, feature: dict) -> Scenario:
    """Apply one map click to the scenario (new clicks only; see the caller)."""
    fid = str(((feature or {}).get("properties") or {}).get("facility_id") or "")
    fid = html.unescape(fid)
    if action == "add" and clicked:
        return scn.add(float(clicked["lng"]), float(clicked["lat"]))
    if action == "close" and fid in scn.facility_ids:
        return scn.remove(fid)
    if action == "move":
        moving = st.session_state.get("scn_moving")
        fresh = clicked and clicked != st.session_state.get("scn_moving_click")
        if moving in scn.facility_ids and fresh and fid in ("", moving):
            st.session_state["scn_moving"] = None
            return scn.move(moving, float(clicked["lng"]), float(clicked["lat"]))
        if fid in scn.facility_ids:
            st.session_state["scn_moving"] = fid
            st.session_state["scn_moving_click"] = clicked
    return scn


# --------------------------------------------------------------------------- page

# the compact header of every page: title | region, intro, profile | data notes
region, key, lg = widgets.page_header("scenario")
WORDS = STRINGS.get(lg, STRINGS["en"])  # bound now: widgets may format after the run
cat = compute.catalog()

has_network = len(region.edges) > 0
c1, c2, c3, c4 = st.columns([1.3, 1.1, 1.1, 1.3])
# every choice kept across pages and languages, checked against the current options;
# the layer is the Coverage page's (one key): both pages show the same layer
layer_id = c1.selectbox(
    state.tr("layer"),
    list(cat),
    format_func=widgets.layer_formatter(),
    **state.keep("cov_layer", next(iter(cat)), list(cat)),
)
cat_layer = cat[layer_id]
modes = ["network", "euclidean"] if has_network else ["euclidean"]
mode = c2.radio(
    state.tr("mode"),
    modes,
    format_func=widgets.formatter("mode_"),
    **state.keep("scn_mode", modes[0], modes),
)
speed_choices = ["layer", *compute.SPEEDS]
speed_choice = c3.radio(
    state.tr("speed"),
    speed_choices,
    format_func=widgets.formatter("speed_"),
    **state.keep("scn_speed", "layer", speed_choices),
)
# the layer's own pace by default (elderly care: 3.6 km/h); minute layers reach minutes x speed
speed = cat_layer.walk_speed_kmh if speed_choice == "layer" else float(compute.SPEEDS[speed_choice])
action = c4.radio(
    s("action"),
    ["add", "close", "move"],
    format_func=lambda a, _words=WORDS: _words[f"act_{a}"],
    horizontal=True,
    **state.keep("scn_action", "add", ["add", "close", "move"]),
)

try:
    with st.spinner(state.tr("working")):
        scn0 = start(key, region, layer_id, mode, speed)
        basemap, tkey = state.basemap_choice()
        m = scenario_map.base(key, region, scn0.demand, lg, basemap, tkey)
except GeoappError as exc:
    widgets.error_box(exc)
    st.stop()

state_key = f"{key}|{layer_id}|{mode}|{speed}"
states: dict[str, Scenario] = st.session_state.setdefault("scn_states", {})
scn: Scenario = states.get(state_key, scn0)
suggestions = st.session_state.get("scn_suggestions", {}).get(state_key)

layer = scn.layer
labels = dict(zip(layer.radii_m, layer.labels, strict=True))
reach_m = layer.reach_m  # label -> metres at the scenario's speed
target_label = layer.label_of(layer.target_m)
radius_label = st.select_slider(
    s("radius"),
    options=list(reach_m),
    format_func=lambda lab, lg=lg: reach_label(lab, lg, reach_m),  # as the Coverage page
    **state.keep(
        f"scn_radius_{layer_id}",
        target_label if target_label in reach_m else list(reach_m)[-1],
        list(reach_m),
    ),
)
radius = reach_m[radius_label]


# --- the map: base drawn once, the edits as one feature group
if action == "move":
    moving = st.session_state.get("scn_moving")
    st.info(s("move_from", fid=moving) if moving else s("move_pick"))
try:
    with st.spinner(state.tr("working")):
        drawn = scenario_map.layers(
            scn,
            scn0,
            state_key=state_key,
            radius_m=float(radius),
            lang=lg,
            suggestions=suggestions,
            dq=scenario_map.quality(key, region, layer_id, mode, speed),
        )
except GeoappError as exc:
    widgets.error_box(exc)
    st.stop()
# a suggested site selected in the table below: the map centres on it
focus = scenario_map.zoom_target(suggestions, scenario_map.selected_rows("scn_sug_table"))
out = st_folium(
    copy.deepcopy(m),
    height=widgets.MAP_HEIGHT,
    use_container_width=True,
    returned_objects=["last_clicked", "last_active_drawing"],
    feature_group_to_add=[copy.deepcopy(fg) for fg in drawn.overlays],
    layer_control=folium.LayerControl(collapsed=True),
    center=list(focus) if focus else None,
    zoom=scenario_map.ZOOM_TO if focus else None,
    key=f"scn_map_{state_key}",
)
out = out or {}
clicked = out.get("last_clicked") or {}
feature = out.get("last_active_drawing") or {}
signature = json.dumps([clicked, (feature.get("properties") or {}).get("facility_id")], default=str)
if (clicked or feature) and st.session_state.get("scn_seen") != signature:
    st.session_state["scn_seen"] = signature
    try:
        new = apply(scn, action, clicked, feature)
    except GeoappError as exc:
        st.error(f"{s('edit_failed')}: {exc}")
        new = scn
    if new is not scn:
        states[state_key] = new
        st.rerun()
    elif action == "move":
        st.rerun()

# --- edits without the map: coordinates, close from a list, undo, reset
with st.expander(s("add_at"), expanded=False):
    lon0, lat0 = default_site(key, region, layer_id, mode, speed)
    a1, a2, a3 = st.columns([1, 1, 1])
    lon = a1.number_input(s("lon"), value=lon0, format="%.6f", key="scn_lon")
    lat = a2.number_input(s("lat"), value=lat0, format="%.6f", key="scn_lat")
    if a3.button(s("add_btn"), key="scn_add_btn"):
        try:
            states[state_key] = scn.add(float(lon), float(lat))
            st.rerun()
        except GeoappError as exc:
            st.error(f"{s('edit_failed')}: {exc}")
    if scn.facility_ids:
        b1, b2 = st.columns([2, 1])
        ids = list(scn.facility_ids)
        pick = b1.selectbox(s("close_pick"), ids, **state.keep("scn_close_pick", ids[0], ids))
        if b2.button(s("close_btn"), key="scn_close_btn"):
            states[state_key] = scn.remove(pick)
            st.rerun()

u1, u2, u3 = st.columns([1, 1, 4])
if u1.button(s("undo"), key="scn_undo", disabled=not scn.edits):
    states[state_key] = scn.undo()
    st.rerun()
if u2.button(s("reset"), key="scn_reset", disabled=not scn.edits):
    states[state_key] = scn0
    st.rerun()
acts = [e.action for e in scn.edits]
u3.caption(
    s(
        "edits_one" if len(acts) == 1 else "edits",
        n=len(acts),
        added=int((scn.facilities["scenario_action"] == "added").sum()),
        moved=int((scn.facilities["scenario_action"] == "moved").sum()),
        removed=len(scn.removed),
    )
    if acts
    else s("no_edits")
)

# --- figures: before / after
ch = scn.changes()
at_r = ch[np.isclose(ch["radius_m"], float(radius))]
reg = at_r[at_r["level"] == "region"].iloc[0]
dcol = layer.demand_column
m1, m2, m3, m4 = st.columns(4)
reach = reach_label(radius_label, lg, reach_m)  # the Coverage page's words and units
m1.metric(
    state.tr("covered_share", radius=reach),
    f"{reg['share_after_pct']:.1f}%" if pd.notna(reg["share_after_pct"]) else "–",
    **change_delta(reg["share_change_pp"], "{:+.1f} pp"),
)
m2.metric(
    s("covered_n"),
    f"{reg['covered_pop_after']:,.0f}",
    help=state.tr("covered_share", radius=reach),
    **change_delta(reg["covered_pop_change"], "{:+,.0f}"),
)
m3.metric(
    s("covered_60"),
    f"{reg['covered_pop_60plus_after']:,.0f}",
    help=state.tr("covered_share", radius=reach),
    **change_delta(reg["covered_pop_60plus_change"], "{:+,.0f}"),
)
m4.metric(
    s("facilities"),
    f"{len(scn.facility_ids):,}",
    **change_delta(len(scn.facility_ids) - len(scn0.facility_ids), "{:+d}"),
)

st.subheader(s("by_group"))
rows = at_r[at_r["level"] != "region"]
shown = pd.DataFrame(
    {
        s("level"): [s(f"lvl_{lv}") for lv in rows["level"]],
        s("group"): [
            "–" if pd.isna(g) else zone_name(str(g), lg) if lv != "district" else str(g)
            for lv, g in zip(rows["level"], rows["group"], strict=True)
        ],
        s("before"): rows["covered_pop_before"].to_numpy(),
        s("after"): rows["covered_pop_after"].to_numpy(),
        s("change"): rows["covered_pop_change"].to_numpy(),
        s("before60"): rows["covered_pop_60plus_before"].to_numpy(),
        s("after60"): rows["covered_pop_60plus_after"].to_numpy(),
        s("change60"): rows["covered_pop_60plus_change"].to_numpy(),
        s("share_b"): rows["share_before_pct"].to_numpy(),
        s("share_a"): rows["share_after_pct"].to_numpy(),
        s("share_pp"): rows["share_change_pp"].to_numpy(),
    }
)
# as text, as the metrics read: thousands separators, one decimal, "–" for no value
kinds = {s(c): INT for c in ("before", "after", "change", "before60", "after60", "change60")}
kinds |= {s("share_b"): FLOAT1, s("share_a"): FLOAT1, s("share_pp"): FLOAT1}
st.dataframe(as_text(Table(shown, kinds), lg), hide_index=True, width="stretch")

# --- suggestions (geoapp.siting)
st.subheader(s("suggest"))
try:
    from geoapp import siting
except ImportError:
    siting = None
if siting is None:
    st.caption(s("suggest_na"))
else:
    k1, k2 = st.columns([1, 3])
    k = int(k1.number_input(s("suggest_k"), min_value=1, max_value=50, value=3, key="scn_k"))
    if k2.button(s("suggest_btn"), key="scn_suggest"):
        try:
            with st.spinner(state.tr("working")):
                sites, seconds, gap = scenario_map.suggest(
                    siting, region, key, layer_id, mode, k, scn
                )
            st.session_state.setdefault("scn_suggestions", {})[state_key] = sites
            st.session_state["scn_suggest_seconds"] = (seconds, gap)
            st.session_state.pop("scn_sug_table", None)  # a new list: no row selected
            st.rerun()
        except GeoappError as exc:
            widgets.error_box(exc)
    if suggestions is not None and len(suggestions):
        took, gap = st.session_state.get("scn_suggest_seconds") or (None, None)
        notes = [s("suggested")]
        if took is not None:
            notes.append(state.tr("scn_suggest_time", s=f"{took:,.1f}"))
        if gap is not None:
            notes.append(state.tr("scn_suggest_gap", gap=f"{gap:.1%}"))
        notes.append(state.tr("scn_zoom_hint"))
        st.caption(" · ".join(notes))
        st.dataframe(
            scenario_map.suggestions_table(suggestions, lg, layer.demand_column),
            hide_index=True,
            on_select="rerun",
            selection_mode="single-row",
            key="scn_sug_table",
        )
        if st.button(s("adopt"), key="scn_adopt"):
            new = scn
            pts = suggestions.geometry.to_crs(4326).representative_point()
            for rank, p in zip(suggestions["rank"], pts, strict=True):
                new = new.add(float(p.x), float(p.y), name=f"#{rank}")
            states[state_key] = new
            st.session_state["scn_suggestions"][state_key] = None
            st.rerun()

# --- export
st.subheader(s("export"))
changed = scn.added()
closed = scn.removed.copy()
closed["scenario_action"] = "removed"
keep = ["facility_id", "name", "capacity", "scenario_action", "geometry"]
both = pd.concat(
    [changed[[c for c in keep if c in changed.columns]], closed[[c for c in keep if c in closed]]],
    ignore_index=True,
)
geojson = (
    gpd.GeoDataFrame(both, geometry="geometry", crs=4326).to_json(drop_id=True)
    if len(both)
    else json.dumps({"type": "FeatureCollection", "features": []})
)
e1, e2 = st.columns(2)
e1.download_button(
    s("dl_geojson"),
    geojson.encode("utf-8"),
    file_name=f"scenario_{layer_id}_facilities.geojson",
    mime="application/geo+json",
    key="scn_dl_geojson",
)
e2.download_button(
    s("dl_csv"),
    export.csv_safe(ch).to_csv(index=False).encode("utf-8"),
    file_name=f"scenario_{layer_id}_before_after.csv",
    mime="text/csv",
    key="scn_dl_csv",
)
