"""Widgets the app's pages share: headers, banners, maps, pickers, tables, charts.

Each draws with Streamlit in the current language (:mod:`app_pages.state`) from the
cached results of :mod:`app_pages.compute`.
"""

from __future__ import annotations

import copy
import html
from collections.abc import Callable, Sequence
from typing import Any

import folium
import numpy as np
import pandas as pd
import streamlit as st

from app_pages.compute import demand_notes, layer_name
from app_pages.state import current_region, lang, tr
from app_pages.warnings_zh import in_language
from geoapp import maps
from geoapp.errors import GeoappError
from geoapp.i18n import STRINGS, t
from geoapp.messages import group_warnings
from geoapp.region import META_WARNINGS, Region

MAP_HEIGHT = 560

#: Less room above a page's header and a smaller title, so that the header is one row
#: and the map (the answer) starts above the fold at 1440x900.
HEADER_CSS = """<style>
[data-testid="stMainBlockContainer"] { padding-top: 2.2rem; }
[data-testid="stMain"] h1 { font-size: 1.9rem; padding: 0.1rem 0; }
[data-testid="stMain"] [data-testid="stMetricValue"] { font-size: 1.6rem; }
</style>"""


def page_header(page: str) -> tuple[Region, str, str]:
    """Draw a page's header as one compact row; return ``(region, region_key, language)``.

    Title | region, page intro and population profile | the synthetic-data label and
    the data warnings (a popover): one row of about 80 px instead of a stack of
    banners, so the page's map and figures start above the fold.
    """
    region, key = current_region()
    st.html(HEADER_CSS)
    title, about, notes = st.columns([1.6, 3.0, 1.4], vertical_alignment="center")
    title.title(tr(f"page_{page}"))
    lines = [f"**{region.label}**"]
    if f"{page}_intro" in STRINGS:
        lines.append(tr(f"{page}_intro"))
    profile, warnings = data_notes(key, region)
    if profile:
        lines.append(profile)
    about.caption("  \n".join(lines))
    with notes:
        synthetic_banner(region)
        if warnings:
            zh = lang() == "zh"
            label = f"数据提示（{len(warnings)}）" if zh else f"Data warnings ({len(warnings)})"
            with st.popover(f"⚠️ {label}", width="stretch"):
                for w in warnings:
                    st.markdown(f"- {w}")
    return region, key, lang()


def synthetic_banner(region: Region) -> None:
    """Show the 'synthetic demo data' label when the demo is loaded."""
    if region.synthetic:
        # a Material icon (bundled with Streamlit, offline): an alert without ``icon=``
        # searches its text for a leading emoji, and any non-ASCII text (the sign, or
        # Chinese) imports Streamlit's table of every emoji (0.3-0.6 s of the first page)
        st.warning(tr("synthetic_short"), icon=":material/warning:")


def data_notes(region_key: str, region: Region) -> tuple[str, list[str]]:
    """Return the region's population-profile line and data warnings, in the language.

    The warnings are those of the sources and of the population estimate, grouped
    (:func:`geoapp.messages.group_warnings`) and said in the reader's language.
    """
    try:
        p, method, demand_warnings = demand_notes(region_key, region)
    except GeoappError:
        return "", []
    zh = lang() == "zh"
    grouped = group_warnings([*region.meta.get(META_WARNINGS, []), *demand_warnings])
    warnings = [in_language(w, lang()) for w in grouped]  # in the reader's language
    name = t(f"profile_{p['name']}", "zh") if f"profile_{p['name']}" in STRINGS else p["name"]
    note = (
        f"人口估算：{name}（{p['m2_per_person']:g} m²/人，60岁及以上 {p['share_60plus']:.1%}）"
        if zh
        else f"Population profile {p['name']!r}: {p['m2_per_person']:g} m² per person, "
        f"{p['share_60plus']:.1%} aged 60+ ({method})"
    )
    return note, warnings


def show_data_warnings(region_key: str, region: Region) -> None:
    """Show the region's data warnings and demand profile (sources and population)."""
    note, warnings = data_notes(region_key, region)
    if not note:
        return
    st.caption(note)
    if warnings:
        zh = lang() == "zh"
        label = f"数据提示（{len(warnings)}）" if zh else f"Data warnings ({len(warnings)})"
        with st.expander(f"⚠️ {label}"):
            for w in warnings:
                st.markdown(f"- {w}")


def layer_label(layer_id: str, lang_code: str | None = None) -> str:
    """Return a layer's label in the current language (or ``lang_code``)."""
    return layer_name(layer_id, lang_code or lang())


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


#: Most rows a table is shown as plain HTML (:func:`show_small_table`); longer ones get
#: the data grid (sorting, scrolling).
SMALL_TABLE_ROWS = 30


def show_small_table(table: Any, *, max_rows: int = SMALL_TABLE_ROWS) -> None:
    """Show a short :class:`app_pages.tables.Table` as plain HTML, a long one as a data grid.

    Up to ``max_rows`` rows (the demo's 9 districts, Beijing's 16) read as well in a
    table of text, numbers right-aligned and formatted as :func:`app_pages.tables.as_text`
    does, and the browser loads no Arrow table and no grid for it (issue 29: the first
    page's map shows sooner).
    """
    from app_pages.tables import TEXT, as_text

    if len(table.frame) > max_rows:
        show_table(table)
        return
    right = [h for h, kind in table.column_kinds.items() if kind != TEXT]
    st.html(text_table_html(as_text(table, lang()), right=right))


def share_chart(
    groups: Sequence[str],
    shares: Sequence[float],
    *,
    title: str,
    target: float | None = None,
    zones: bool = False,
) -> None:
    """Draw a bar chart of coverage shares: 0-100 % fixed, the target line, zone order.

    ``groups`` are district names or, with ``zones``, zone-type ids (shown by name,
    in zone order and colours from :mod:`geoapp.styles`); ``title`` is the share axis's
    title. The chart is plain HTML (:func:`share_bars_html`), one bar per row: no
    Vega-Lite and no Arrow table for the browser to load and lay out, which cost the
    first page about 0.4 CPU-s of the browser's before the map showed (issue 29).
    """
    st.html(share_bars_html(groups, shares, title=title, target=target, zones=zones, lg=lang()))


def share_bars_html(
    groups: Sequence[str],
    shares: Sequence[float],
    *,
    title: str,
    target: float | None = None,
    zones: bool = False,
    lg: str = "en",
) -> str:
    """Return the HTML of :func:`share_chart`: one bar per group on a fixed 0-100 % axis.

    Each row is the group's name, a bar as wide as its share (NaN: no bar, "no data"),
    the share with one decimal and a tooltip; a dashed red line marks ``target`` (a
    share in 0-1; None: no line); below, the axis (0, 25, 50, 75, 100) and its title,
    ``title (%)``. With ``zones`` the groups are zone-type ids, shown by name in zone
    order and coloured as on the maps.

    Examples
    --------
    >>> html_ = share_bars_html(["A"], [0.5], title="Share covered", target=0.85)
    >>> 'data-share="50.0"' in html_ and "left:85.0%" in html_ and "Share covered (%)" in html_
    True
    """
    from geoapp.styles import zone_color, zone_name, zone_sort_key

    pairs = [(str(g), float(v)) for g, v in zip(groups, shares, strict=True)]
    if zones:
        pairs.sort(key=lambda p: zone_sort_key(p[0]))
    gtitle = t("zone_type" if zones else "district", lg)
    share_title = f"{title} (%)"
    nd = t("no_data_value", lg)
    esc = html.escape
    line = ""
    if target is not None and not pd.isna(target):
        tpc = min(max(float(target) * 100, 0.0), 100.0)
        line = (
            f'<div class="geoapp-target" title="{esc(t("target", lg))}: {tpc:.0f}%" '
            f'style="position:absolute;left:{tpc:.1f}%;top:-3px;bottom:-3px;'
            'border-left:2px dashed #b00020"></div>'
        )
    rows = []
    for gid, share in pairs:
        name = zone_name(gid, lg) if zones else gid
        color = zone_color(gid) if zones else "#3b6ea8"
        ok = not pd.isna(share)
        pc = min(max(share * 100, 0.0), 100.0) if ok else 0.0
        value = f"{share * 100:.1f}%" if ok else nd
        tip = esc(f"{gtitle} {name}: {value}")
        bar = f'<div style="width:{pc:.1f}%;height:100%;background:{color}"></div>' if ok else ""
        rows.append(
            f'<div class="geoapp-bar-label" style="text-align:right;overflow-wrap:anywhere">'
            f"{esc(name)}</div>"
            f'<div class="geoapp-bar" data-share="{pc:.1f}" title="{tip}" '
            f'style="position:relative;height:18px;background:#eef1f5">{bar}{line}</div>'
            f'<div style="font-variant-numeric:tabular-nums">{esc(value)}</div>'
        )
    ticks = "".join(
        f'<span style="position:absolute;left:{v}%;transform:translateX(-50%)">{v}</span>'
        for v in (0, 25, 50, 75, 100)
    )
    axis = (
        f'<div style="text-align:right;font-weight:600">{esc(gtitle)}</div>'
        f'<div class="geoapp-axis" style="position:relative;height:1.2em;color:#555">{ticks}</div>'
        "<div></div><div></div>"
        f'<div class="geoapp-axis-title" style="text-align:center;color:#555">'
        f"{esc(share_title)}</div><div></div>"
    )
    return (
        f'<div class="geoapp-share-bars" role="figure" aria-label="{esc(share_title)}" '
        'style="display:grid;grid-template-columns:minmax(5em,max-content) 1fr 4.5em;'
        'gap:5px 10px;align-items:center;font-size:0.85rem;margin:0.3rem 0 0.8rem">'
        f"{''.join(rows)}{axis}</div>"
    )


def text_table_html(frame: pd.DataFrame, right: Sequence[str] = ()) -> str:
    """Return a table of text (:func:`app_pages.tables.as_text`) as a small HTML table.

    The first column is the row heading; the columns named in ``right`` (numbers) are
    right-aligned. A handful of rows reads as well as a data grid
    and costs the browser nothing to load (``st.table``/``st.dataframe`` bring Arrow and
    a grid, ~0.3 CPU-s of the first page); long cells wrap.

    Examples
    --------
    >>> text_table_html(pd.DataFrame({"Rank": ["1"], "Why": ["a < b"]}))[:38]
    '<table class="geoapp-table" style="bor'
    """
    esc = html.escape
    base = "padding:4px 8px;border-bottom:1px solid #e6e9ef;vertical-align:top;text-align:"
    # the row heading (a rank, a name) never wraps: "排名" stays one word
    styles = [
        base
        + ("right" if c in right else "left")
        + (";white-space:nowrap" if i == 0 or c in right else "")
        for i, c in enumerate(frame.columns)
    ]
    head = "".join(
        f'<th style="{s}">{esc(str(c))}</th>' for s, c in zip(styles, frame.columns, strict=True)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<th style="{s}">{esc(str(v))}</th>'
            if i == 0
            else f'<td style="{s}">{esc(str(v))}</td>'
            for i, (s, v) in enumerate(zip(styles, row, strict=True))
        )
        + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return (
        '<table class="geoapp-table" style="border-collapse:collapse;width:100%;'
        f'font-size:0.85rem"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


#: A subheading and a caption inside an ``st.html`` block, styled as Streamlit's
#: ``st.subheader`` and ``st.caption`` (theme font sizes and the caption's grey).
SUBHEADING_STYLE = (
    "font-size:1.5rem;font-weight:600;line-height:1.2;margin:0;padding:0.75rem 0 0.5rem"
)
CAPTION_STYLE = "font-size:0.875rem;color:rgba(49,51,63,0.6);margin:0 0 0.5rem"


def section_html(heading: str, body: str, caption: str | None = None) -> str:
    """Return a section (a subheading, an optional caption, then ``body``) as HTML.

    One ``st.html`` element in place of ``st.subheader`` + ``st.caption`` + the body's
    element: the browser lays out each Streamlit element of the first page on its own,
    and fewer elements draw the page and its map sooner (issue 29). ``heading`` and
    ``caption`` are text (escaped); ``body`` is HTML.

    Examples
    --------
    >>> section_html("Gaps", "<table></table>", caption="a < b")[:4]
    '<h3 '
    >>> "a &lt; b" in section_html("Gaps", "", caption="a < b")
    True
    """
    note = "" if caption is None else caption_html(caption)
    return f'<h3 style="{SUBHEADING_STYLE}">{html.escape(heading)}</h3>{note}{body}'


def caption_html(text: str) -> str:
    """Return ``text`` (escaped) as a caption paragraph styled as ``st.caption``."""
    return f'<p style="{CAPTION_STYLE}">{html.escape(text)}</p>'


def side_by_side_html(*sections: str) -> str:
    """Return HTML ``sections`` side by side in equal columns (as ``st.columns``), one element.

    Examples
    --------
    >>> side_by_side_html("<p>a</p>", "<p>b</p>").count("flex:1 1 0")
    2
    """
    cells = "".join(f'<div style="flex:1 1 0;min-width:0">{s}</div>' for s in sections)
    return f'<div style="display:flex;gap:1rem">{cells}</div>'


def change_delta(value: float | int | None, fmt: str) -> dict[str, Any]:
    """Return ``st.metric`` keywords showing a change: green up, red down, grey zero.

    A change that rounds to zero in ``fmt`` (``"{:+.1f} pp"``) is neutral: "0 pp" in
    grey without an arrow, never a red "-0.0 pp". NaN or None: no delta.

    Examples
    --------
    >>> change_delta(-0.00001, "{:+.1f} pp")["delta"]
    '0.0 pp'
    >>> change_delta(2.5, "{:+.1f} pp")
    {'delta': '+2.5 pp'}
    """
    if value is None or pd.isna(value):
        return {"delta": None}
    text = fmt.format(value)
    if not any(c in "123456789" for c in text.split(" ")[0]):  # rounds to zero
        zero = fmt.format(0 if isinstance(value, int | np.integer) else 0.0).lstrip("+")
        return {"delta": zero, "delta_color": "off", "delta_arrow": "off"}
    return {"delta": text}


#: Outline colours of a district's status at the target.
STATUS_COLORS = {"met": "#1a9850", "not_met": "#d73027", "no_data": "#8c8c8c"}
#: Most districts labelled on the map (more only clutter it; the tooltips stay).
MAX_DISTRICT_LABELS = 40


@st.cache_resource(show_spinner=False, max_entries=4)
def district_shapes(region_key: str, _region: Region) -> Any:
    """Return the region's districts in EPSG:4326, simplified to about 20 m, with a label point."""
    bnd = _region.boundaries
    if len(bnd) == 0:
        return bnd
    shapes = bnd[["district", "geometry"]].copy()
    shapes = shapes.to_crs("EPSG:4326") if shapes.crs else shapes.set_crs("EPSG:4326")
    shapes["district"] = shapes["district"].astype(str)
    shapes["geometry"] = shapes.geometry.simplify(0.0002)
    points = shapes.geometry.representative_point()
    return shapes.assign(lat=points.y, lon=points.x)


def district_status_overlay(
    region_key: str,
    region: Region,
    shares: dict[str, tuple[float, str]],
) -> folium.FeatureGroup | None:
    """Return an overlay of the districts outlined by their status at the target, labelled.

    ``shares`` maps a district to ``(share covered at the reach shown, status)`` with
    the status of ``summary.csv`` (``met``, ``not_met``, ``no_data``). Each district is
    outlined green (met), red (not met) or grey (no data), with its name and share as a
    label (up to :data:`MAX_DISTRICT_LABELS` districts) and a tooltip; its features
    carry ``district`` so a click drills into it. None without districts.
    """
    shapes = district_shapes(region_key, region)
    if len(shapes) <= 1:
        return None
    lg = lang()
    nd = tr("no_data_value")
    fg = folium.FeatureGroup(name=tr("district_status_layer"), show=True)
    for row in shapes.itertuples(index=False):
        share, status = shares.get(row.district, (float("nan"), "no_data"))
        status = status if status in STATUS_COLORS else "no_data"
        text = nd if status == "no_data" or pd.isna(share) else f"{share:.1%}"
        color = STATUS_COLORS[status]
        folium.GeoJson(
            {
                "type": "Feature",
                "properties": {"district": row.district},
                "geometry": row.geometry.__geo_interface__,
            },
            style_function=lambda _f, c=color: {
                "color": c,
                "weight": 3,
                "opacity": 0.9,
                "fillColor": c,
                "fillOpacity": 0.03,
                "className": "geoapp-district-status",
            },
            tooltip=f"{row.district}: {text} · {t(f'status_{status}', lg)}",
        ).add_to(fg)
        if len(shapes) <= MAX_DISTRICT_LABELS:
            name = html.escape(row.district)
            folium.Marker(
                [row.lat, row.lon],
                icon=folium.DivIcon(
                    html=(
                        '<div class="geoapp-district-label" style="transform:translate(-50%,-50%);'
                        "white-space:nowrap;font:600 11px sans-serif;text-align:center;"
                        f"color:{color};text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 3px #fff"
                        f'">{name}<br>{html.escape(text)}</div>'
                    ),
                    icon_size=(0, 0),
                ),
                interactive=False,
            ).add_to(fg)
    return fg


def with_overlay(m: folium.Map | maps.MapParts, fg: folium.FeatureGroup | None) -> Any:
    """Return map parts ``m`` with one more overlay ``fg`` (``m`` itself when None)."""
    if fg is None or not isinstance(m, maps.MapParts):
        return m
    return maps.MapParts(m.base, (*m.overlays, fg))


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
    m: folium.Map | maps.MapParts,
    key: str,
    bounds: list[list[float]] | None = None,
    shown_layers: Sequence[str] = (),
) -> str | None:
    """Show a map with st_folium; return the district clicked (changes only).

    ``m`` is usually a shared cached map: it is copied, and ``bounds`` (e.g. from
    :func:`district_bounds`) zooms the copy. With :class:`geoapp.maps.MapParts` the
    base stays in the browser from one setting to the next (its script, hence the
    component, is unchanged) and only the overlays are replaced: no new iframe, no
    reloaded Leaflet. Only ``last_active_drawing`` is returned to Python, so panning
    and zooming do not rerun the app. Overlays named in ``shown_layers`` are drawn
    and ticked even where the map would hide them (the catchments of many
    facilities, once the planner turned them on).
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
        extra["feature_group_to_add"] = [
            shown_overlay(copy.deepcopy(fg), shown_layers) for fg in parts.overlays
        ]
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


def shown_overlay(fg: folium.FeatureGroup, shown_layers: Sequence[str]) -> folium.FeatureGroup:
    """Return overlay ``fg`` drawn and ticked when its name is in ``shown_layers``.

    :func:`geoapp.maps.coverage_map_parts` hides some overlays when they are added
    (a ``HideOnAdd`` child, e.g. the catchments of more than 25 facilities); the
    planner who turned them on sees them.
    """
    if fg.layer_name not in shown_layers:
        return fg
    for name, child in list(fg._children.items()):
        if type(child).__name__ == "HideOnAdd":
            del fg._children[name]
    fg.show = True
    return fg


#: Beijing's 16 districts in the Master Plan's order (the preset's): the central city,
#: the sub-centre, the plain new towns, the ecological conservation area.
BEIJING_ORDER = (
    "东城区", "西城区", "朝阳区", "海淀区", "丰台区", "石景山区", "通州区", "顺义区",
    "大兴区", "昌平区", "房山区", "门头沟区", "平谷区", "怀柔区", "密云区", "延庆区",
)  # fmt: skip


def official_order(names: Sequence[str], region: Region | None = None) -> list[str]:
    """Return district ``names`` in their official order, not in Unicode order.

    Beijing's districts follow the Master Plan (:data:`BEIJING_ORDER`, with or without
    the 区); other districts follow the order of the region's boundaries (the order of
    the file or preset they came from); names known to neither come last, as given.

    Examples
    --------
    >>> official_order(["丰台区", "东城区", "海淀区", "延庆区"])
    ['东城区', '海淀区', '丰台区', '延庆区']
    """
    rank: dict[str, int] = {}
    if region is not None and len(region.boundaries):
        rank = {str(d): i for i, d in enumerate(region.boundaries["district"])}
    beijing = {d: i for i, d in enumerate(BEIJING_ORDER)}
    beijing.update({d.removesuffix("区"): i for i, d in enumerate(BEIJING_ORDER)})

    def key(pair: tuple[int, str]) -> tuple[int, int]:
        k, name = pair
        if name in beijing:
            return (0, beijing[name])
        return (1, rank.get(name, len(rank) + k))

    return [n for _, n in sorted(enumerate(map(str, names)), key=key)]


def district_names(region: Region) -> list[str]:
    """Return the region's district names (the district picker's choices), official order."""
    if len(region.boundaries) == 0:
        return []
    return official_order([str(d) for d in region.boundaries["district"].tolist()], region)


def district_picker(region: Region, key: str = "district_pick") -> str | None:
    """Show a district filter (also set by clicking the map) and return the choice.

    The choice is checked against the region's districts on every run: a stored value
    that is no longer one of them (another region, a widget value that a language
    switch turned into a label) is "All districts", never a filter matching nothing.
    """
    names = district_names(region)
    if len(names) <= 1:
        return None
    options = ["", *names]
    current = st.session_state.get("district")
    if current not in names:
        current = ""
        st.session_state.pop("district", None)
    # set on every run, not only when it differs: the browser then shows the choice
    # formatted in the current language (it kept "All districts" after a switch to 中文)
    st.session_state[key] = current

    def _changed() -> None:
        picked = st.session_state.get(key)
        st.session_state["district"] = picked if picked in names else None

    all_label = tr("all_districts")

    st.selectbox(
        tr("district_filter"),
        options,
        key=key,
        format_func=lambda d: d or all_label,
        on_change=_changed,
    )
    district = st.session_state.get("district")
    return district if district in names else None


def drill(clicked: str | None) -> None:
    """Apply a district clicked on a map and rerun so the page shows it."""
    if clicked and clicked != st.session_state.get("district"):
        st.session_state["district"] = clicked
        st.rerun()
