"""Heritage zones measured: sites, protected areas, their buffers and residents' access.

Heritage features are points (sites, monuments) and polygons. A polygon is a
**protected zone** (historic district, protected area) when it is tagged
``boundary=protected_area``, ``historic`` is one of :data:`ZONE_HISTORIC_VALUES`, or its
name or protection title names a historic area (:data:`ZONE_NAME_WORDS`: 历史文化街区
...) (or, when the table has neither a ``boundary`` nor a ``historic`` column, always);
any other polygon (a monument's or a listed building's footprint) is a **site** placed
at its representative point. A site inside a protected zone is ``protected``; the
others are flagged ``unprotected``.

Each zone gets a construction-control belt: the zone buffered by ``buffer_m`` (default
100 m), used later to keep proposed facility sites out of protected land.

Every site and zone has a protection class (``heritage_class``, see
:data:`geoapp.layers.HERITAGE_CLASSES`: world, national, provincial, local,
conservation_area, listed, historic, minor): counted per class, and residents' access
reported per class group (:data:`geoapp.layers.CLASS_GROUPS`) when the access table
carries ``dist_m_<group>``.

The heritage layer's coverage and status count the designated sites only
(:data:`geoapp.layers.DESIGNATED_CLASSES`; :func:`geoapp.layers.split_designated`):
memorials, statues and unprotected historic features are reported apart
(``n_undesignated`` and ``share_pop_undesignated_<target>``, from the access table's
``dist_m_undesignated``) and never make a status "met". :func:`with_class_counts` adds
the per-class counts to the layer's ``summary.csv``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoapp.catalog import Layer
from geoapp.coverage import facility_places
from geoapp.crs import local_crs
from geoapp.errors import InputError
from geoapp.layers import (
    CLASS_GROUPS,
    DESIGNATED_CLASSES,
    HERITAGE_CLASSES,
    heritage_class_warnings,
    heritage_classes,
)
from geoapp.region import DATA_AREA_COLUMN
from geoapp.zones import BROAD_TYPES

log = logging.getLogger(__name__)

WGS84 = "EPSG:4326"

#: ``historic`` values of polygons that are protected zones rather than sites.
ZONE_HISTORIC_VALUES = frozenset(
    {"district", "city", "town", "village", "area", "heritage_area", "protected_area"}
)

#: Words in a polygon's name or protection title that make it a protected zone (an
#: imported list's 历史文化街区 has no ``historic=district`` tag).
ZONE_NAME_WORDS = (
    "历史文化街区", "历史文化保护区", "历史街区", "风貌保护区", "历史文化名村", "历史文化名镇",
    "historic district", "conservation area",
)  # fmt: skip

#: The group of heritage features reported apart from coverage (memorials, statues,
#: unprotected historic features): ``dist_m_undesignated``, ``n_undesignated``.
UNDESIGNATED = "undesignated"

#: Default width of the construction-control belt around protected zones, metres.
DEFAULT_BUFFER_M = 100.0

_DEFAULT_RADII = (300.0, 500.0, 1000.0)


@dataclass
class HeritageReport:
    """Result of :func:`heritage_report` (every GeoDataFrame in EPSG:4326).

    Attributes
    ----------
    sites
        Point sites: ``site_id``, ``name``, ``kind``, ``heritage_class``,
        ``geometry_kind`` ("point" | "area"), ``protected`` (bool: inside a protected
        zone), ``unprotected`` (bool), ``zone_id`` (containing protected zone, or ""),
        ``district``, ``district_code``, ``zone_type``.
    zones
        Protected zones: ``zone_id``, ``name``, ``kind``, ``heritage_class``,
        ``area_km2``, ``district`` (containing its representative point), ``zone_type``,
        polygon geometry.
    buffers
        One row per zone: ``zone_id``, ``buffer_m``, ``belt_area_km2`` (area of the belt
        outside the zone), geometry = the zone grown by ``buffer_m`` (zone + belt).
    summary
        One row per district, per zone type and for the region (``level``, ``group``,
        ``district_code``, ``zone_type``): ``n_sites`` (the designated sites and zones,
        equal to ``n_designated`` and to ``summary.csv``'s ``n_designated``: memorials,
        statues and unlisted historic features are ``n_undesignated``, apart),
        ``n_protected_sites`` (designated sites inside a protected zone, and designated
        zones), ``n_unprotected_sites`` (designated sites outside every zone),
        ``share_sites_protected``, ``n_zones`` (protected zones of any class),
        ``protected_area_km2``, ``land_area_km2`` (the district's land the data covers,
        as ``summary.csv``'s ``area_km2``), ``share_land_protected``,
        ``n_<class>`` per protection class (sites and zones of the class, e.g.
        ``n_national``, ``n_minor``), ``n_designated`` (the six protected classes) and
        ``n_undesignated`` (the rest: historic, minor),
        and with an access table ``pop``, ``share_pop_R`` per radius and, when it
        carries ``dist_m_<group>``, ``share_pop_<group>_<target>`` (share within the
        target of a site of the group: ``national`` = world or national ...,
        ``designated`` = any protected class, ``undesignated`` = a memorial, statue or
        unprotected historic feature).
    buffer_m
        Belt width used.
    meta
        ``local_crs``, ``zone_rule`` and ``warnings`` (few designated sites, a bare
        市级 class).
    """

    sites: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame
    buffers: gpd.GeoDataFrame
    summary: pd.DataFrame
    buffer_m: float = DEFAULT_BUFFER_M
    meta: dict[str, Any] = field(default_factory=dict)


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name].astype("string").str.strip().str.lower().fillna("")
    return pd.Series("", index=frame.index, dtype="string")


def _ids(frame: pd.DataFrame) -> np.ndarray:
    for c in ("facility_id", "osm_id", "id"):
        if c in frame.columns:
            return frame[c].astype(str).to_numpy(dtype=object)
    return np.array([f"heritage/{i}" for i in range(len(frame))], dtype=object)


def _kinds(frame: pd.DataFrame) -> np.ndarray:
    kind = _col(frame, "kind") if "kind" in frame.columns else _col(frame, "historic")
    for c in ("historic", "heritage", "boundary"):
        alt = _col(frame, c)
        kind = kind.where(kind != "", alt)
    return kind.to_numpy(dtype=object)


def _zone_mask(frame: gpd.GeoDataFrame) -> np.ndarray:
    poly = frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    if "boundary" not in frame.columns and "historic" not in frame.columns:
        return poly
    tagged = (_col(frame, "boundary") == "protected_area") | _col(frame, "historic").isin(
        ZONE_HISTORIC_VALUES
    )
    words = "|".join(ZONE_NAME_WORDS)
    for c in ("name", "protection_title"):
        tagged |= _col(frame, c).str.contains(words, regex=True).fillna(False)
    return poly & tagged.to_numpy(dtype=bool)


def _districts_of(
    pts: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(pts)
    district = np.full(n, "", dtype=object)
    code = np.full(n, "", dtype=object)
    zt = np.full(n, "unknown", dtype=object)
    if boundaries is None or not len(boundaries) or not n:
        return district, code, zt
    b = _boundary_frame(boundaries)
    p = gpd.GeoDataFrame({"_p": np.arange(n)}, geometry=pts.geometry.to_numpy(), crs=WGS84)
    j = gpd.sjoin(p, b, how="inner", predicate="intersects")
    j = j[~j.index.duplicated(keep="first")]
    idx = j["_p"].to_numpy()
    district[idx] = j["district"].to_numpy()
    code[idx] = j["district_code"].to_numpy()
    zt[idx] = j["zone_type"].to_numpy()
    return district, code, zt


def _boundary_frame(boundaries: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    n = len(boundaries)

    def col(c: str, default: str) -> np.ndarray:
        if c in boundaries.columns:
            return boundaries[c].fillna(default).astype(str).to_numpy(dtype=object)
        return np.full(n, default, dtype=object)

    return gpd.GeoDataFrame(
        {
            "district": col("district", ""),
            "district_code": col("district_code", ""),
            "zone_type": col("zone_type", "unknown"),
        },
        geometry=boundaries.geometry.to_crs(WGS84).to_numpy(),
        crs=WGS84,
    )


def _access_shares(
    access: pd.DataFrame,
    key: str,
    radii: Sequence[float],
    dcol: str,
    dist: str = "dist_m",
    prefix: str = "share_pop_",
) -> pd.DataFrame:
    d = pd.to_numeric(access[dist], errors="coerce").fillna(np.inf).to_numpy(dtype=float)
    w = pd.to_numeric(access[dcol], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    keys = access[key].astype(object).to_numpy() if key else np.full(len(access), "region")
    df = pd.DataFrame({"k": keys, "w": w})
    for r in radii:
        df[f"c{r}"] = np.where(d <= r, w, 0.0)
    g = df.groupby("k", sort=False).sum()
    out = pd.DataFrame({"pop": g["w"]})
    for r in radii:
        lab = str(int(r)) if float(r).is_integer() else str(r)
        out[f"{prefix}{lab}"] = (g[f"c{r}"] / g["w"]).where(g["w"] > 0)
    return out


def _class_counts(
    keys: dict[str, tuple[np.ndarray, np.ndarray]], classes: np.ndarray
) -> pd.DataFrame:
    """``n_<class>`` and ``n_designated`` per (level, group) of every heritage feature.

    ``keys`` maps a level to (group of each site, group of each zone); ``classes`` is
    the class of each site then each zone.
    """
    rows = []
    for level, (site_keys, zone_keys) in keys.items():
        k = np.concatenate([site_keys, zone_keys]).astype(object)
        df = pd.DataFrame({"group": k, "cls": classes})
        ct = pd.crosstab(df["group"], df["cls"]) if len(df) else pd.DataFrame()
        ct = ct.reindex(columns=list(HERITAGE_CLASSES), fill_value=0)
        ct.columns = [f"n_{c}" for c in ct.columns]
        ct["n_designated"] = ct[[f"n_{c}" for c in DESIGNATED_CLASSES]].sum(axis=1)
        ct[f"n_{UNDESIGNATED}"] = (
            ct[[f"n_{c}" for c in HERITAGE_CLASSES]].sum(axis=1) - ct["n_designated"]
        )
        rows.append(ct.reset_index(names="group").assign(level=level))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def heritage_report(
    heritage_features: gpd.GeoDataFrame,
    boundaries: gpd.GeoDataFrame | None,
    *,
    access: gpd.GeoDataFrame | None = None,
    buffer_m: float = DEFAULT_BUFFER_M,
    layer: Layer | None = None,
    region_name: str = "region",
) -> HeritageReport:
    """Measure heritage sites and protected zones per district and zone type.

    Parameters
    ----------
    heritage_features
        Heritage features (the heritage layer's facility table from
        :func:`geoapp.layers.select_features`, or any table with points and polygons
        and optional ``historic``/``boundary``/``name`` columns).
    boundaries
        Districts (``district``, ``district_code``, ``zone_type``); None gives a
        region row only (with unknown land area).
    access
        Access table of the heritage layer (``dist_m``, ``pop``, ``district``,
        ``zone_type``); adds residents' coverage at the layer's radii to the summary.
    buffer_m
        Construction-control belt around protected zones, metres (≥ 0).
    layer
        The heritage layer (radii and demand column); default radii 300/500/1000 m
        weighted by all residents.
    region_name
        ``group`` of the summary's region row (the region's name, as in ``summary.csv``).

    Returns
    -------
    HeritageReport
        Areas are measured in the local projected CRS; all frames in EPSG:4326.
    """
    if buffer_m < 0:
        raise InputError(f"buffer_m must be ≥ 0 metres, not {buffer_m}; pass a width such as 100")
    feats = heritage_features
    if feats.crs is None:
        feats = feats.set_crs(WGS84)
    feats = feats.loc[feats.geometry.notna() & ~feats.geometry.is_empty].to_crs(WGS84)
    ref = boundaries if boundaries is not None and len(boundaries) else feats
    crs = local_crs(ref) if len(ref) else None

    is_zone = _zone_mask(feats)
    zf = feats.loc[is_zone]
    sf = feats.loc[~is_zone]
    ids, kinds = _ids(feats), _kinds(feats)
    classes = _classes_of(feats)
    names = (
        feats["name"].astype(object).where(feats["name"].notna(), "").to_numpy()
        if "name" in feats.columns
        else np.full(len(feats), "", dtype=object)
    )

    # --- zones
    zone_geom_local = zf.geometry.to_crs(crs) if crs is not None and len(zf) else zf.geometry
    zone_reps = gpd.GeoDataFrame(geometry=zf.geometry.representative_point().to_numpy(), crs=WGS84)
    zd, zc, zz = _districts_of(zone_reps, boundaries)
    zones = gpd.GeoDataFrame(
        {
            "zone_id": ids[is_zone],
            "name": names[is_zone],
            "kind": kinds[is_zone],
            "heritage_class": classes[is_zone],
            "area_km2": zone_geom_local.area.to_numpy() / 1e6 if len(zf) else np.array([]),
            "district": zd,
            "district_code": zc,
            "zone_type": zz,
        },
        geometry=zf.geometry.to_numpy(),
        crs=WGS84,
    )
    if len(zf):
        grown_local = zone_geom_local.buffer(buffer_m) if buffer_m > 0 else zone_geom_local
        belt = grown_local.area.to_numpy() - zone_geom_local.area.to_numpy()
        grown = gpd.GeoSeries(grown_local.to_numpy(), crs=crs).to_crs(WGS84).to_numpy()
    else:
        belt, grown = np.array([]), []
    buffers = gpd.GeoDataFrame(
        {
            "zone_id": ids[is_zone],
            "buffer_m": float(buffer_m),
            "belt_area_km2": np.asarray(belt) / 1e6,
        },
        geometry=grown,
        crs=WGS84,
    )

    # --- sites
    site_pts = sf.geometry.where(
        sf.geometry.geom_type == "Point", sf.geometry.representative_point()
    )
    sites = gpd.GeoDataFrame(
        {
            "site_id": ids[~is_zone],
            "name": names[~is_zone],
            "kind": kinds[~is_zone],
            "heritage_class": classes[~is_zone],
            "geometry_kind": np.where(
                sf.geometry.geom_type.isin(["Point", "MultiPoint"]).to_numpy(), "point", "area"
            ),
        },
        geometry=site_pts.to_numpy(),
        crs=WGS84,
    )
    zone_id = np.full(len(sites), "", dtype=object)
    if len(sites) and len(zones):
        zz_frame = gpd.GeoDataFrame(
            {"_zid": zones["zone_id"].to_numpy(), "_area": zones["area_km2"].to_numpy()},
            geometry=zones.geometry.to_numpy(),
            crs=WGS84,
        )
        sp = gpd.GeoDataFrame(
            {"_s": np.arange(len(sites))}, geometry=sites.geometry.to_numpy(), crs=WGS84
        )
        j = gpd.sjoin(sp, zz_frame, how="inner", predicate="intersects")
        # the smallest containing zone is the most specific one
        j = j.sort_values(["_s", "_area"], kind="stable").drop_duplicates("_s")
        zone_id[j["_s"].to_numpy()] = j["_zid"].to_numpy()
    sites["protected"] = zone_id != ""
    sites["unprotected"] = ~sites["protected"].to_numpy(dtype=bool)
    sites["zone_id"] = zone_id
    sd, sc, sz = _districts_of(sites, boundaries)
    sites["district"], sites["district_code"], sites["zone_type"] = sd, sc, sz

    # --- summary per district: designated sites and zones, as summary.csv counts them
    site_des = sites["heritage_class"].astype(str).isin(DESIGNATED_CLASSES).to_numpy(dtype=bool)
    zone_des = zones["heritage_class"].astype(str).isin(DESIGNATED_CLASSES).to_numpy(dtype=bool)
    site_in = site_des & (zone_id != "")  # a designated site inside a protected zone
    records: list[dict[str, object]] = []
    radii = tuple(layer.radii_m) if layer is not None else _DEFAULT_RADII
    dcol = layer.demand_column if layer is not None else "pop"
    if boundaries is not None and len(boundaries):
        b = _boundary_frame(boundaries)
        b_local = b.geometry.to_crs(crs)
        land = _land_km2(boundaries, b_local)
        if len(zf):
            union = shapely.union_all(zone_geom_local.to_numpy())
            prot = shapely.area(shapely.intersection(b_local.to_numpy(), union)) / 1e6
        else:
            prot = np.zeros(len(b))
        for i in range(len(b)):
            name = b["district"].iloc[i]
            records.append(
                {
                    "level": "district",
                    "group": name,
                    "district_code": b["district_code"].iloc[i],
                    "zone_type": b["zone_type"].iloc[i],
                    "n_sites": int(
                        ((sd == name) & site_des).sum() + ((zd == name) & zone_des).sum()
                    ),
                    "n_protected_sites": int(
                        ((sd == name) & site_in).sum() + ((zd == name) & zone_des).sum()
                    ),
                    "n_zones": int((zd == name).sum()),
                    "protected_area_km2": float(prot[i]),
                    "land_area_km2": float(land[i]),
                }
            )
    dist = pd.DataFrame(records)
    if len(dist):
        types = list(BROAD_TYPES) + sorted(set(dist["zone_type"]) - set(BROAD_TYPES))
        by_type = dist.groupby("zone_type")[
            ["n_sites", "n_protected_sites", "n_zones", "protected_area_km2", "land_area_km2"]
        ].sum()
        by_type = by_type.reindex(types, fill_value=0).reset_index()
        by_type.insert(0, "level", "zone_type")
        by_type.insert(1, "group", by_type["zone_type"])
        by_type.insert(2, "district_code", "")
        region_land = float(dist["land_area_km2"].sum())
        region_prot = float(dist["protected_area_km2"].sum())
    else:
        by_type = pd.DataFrame()
        region_land = np.nan
        region_prot = (
            float(shapely.area(shapely.union_all(zone_geom_local.to_numpy())) / 1e6)
            if len(zf)
            else 0.0
        )
    region = pd.DataFrame(
        [
            {
                "level": "region",
                "group": "region",
                "district_code": "",
                "zone_type": "",
                "n_sites": int(site_des.sum() + zone_des.sum()),
                "n_protected_sites": int(site_in.sum() + zone_des.sum()),
                "n_zones": len(zones),
                "protected_area_km2": region_prot,
                "land_area_km2": region_land,
            }
        ]
    )
    summary = pd.concat([f for f in (dist, by_type, region) if len(f)], ignore_index=True)
    summary["n_unprotected_sites"] = summary["n_sites"] - summary["n_protected_sites"]
    with np.errstate(invalid="ignore", divide="ignore"):
        summary["share_sites_protected"] = (
            summary["n_protected_sites"] / summary["n_sites"]
        ).where(summary["n_sites"] > 0)
        summary["share_land_protected"] = (
            (summary["protected_area_km2"] / summary["land_area_km2"])
            .where(summary["land_area_km2"] > 0)
            .clip(upper=1.0)
        )  # a zone running past the data

    if access is not None and len(access):
        acc = access
        if layer is not None and "layer" in acc.columns and (acc["layer"] == layer.id).any():
            acc = acc.loc[acc["layer"] == layer.id]
        parts = []
        for level, key in (("district", "district"), ("zone_type", "zone_type"), ("region", "")):
            if key and key not in acc.columns:
                continue
            sh = _access_shares(acc, key, radii, dcol).reset_index(names="group")
            sh.insert(0, "level", level)
            parts.append(sh)
        if parts:
            summary = summary.merge(pd.concat(parts), on=["level", "group"], how="left")
    summary, warnings = _with_class_parts(summary, sites, zones, feats, access, layer, dcol)
    summary.loc[summary["level"] == "region", "group"] = region_name
    n_unprot = int((site_des & (zone_id == "")).sum())
    if n_unprot:
        log.info(
            "%d of %d designated heritage sites lie outside every protected zone",
            n_unprot,
            int(site_des.sum()),
        )
    return HeritageReport(
        sites=sites,
        zones=zones,
        buffers=buffers,
        summary=summary,
        buffer_m=float(buffer_m),
        meta={
            "local_crs": str(crs) if crs is not None else "",
            "zone_rule": sorted(ZONE_HISTORIC_VALUES),
            "warnings": warnings,
        },
    )


def _land_km2(boundaries: gpd.GeoDataFrame, b_local: gpd.GeoSeries) -> np.ndarray:
    """Return each district's land in km²: the part the data covers, as ``summary.csv``.

    A partial extract's districts carry the land inside the data's extent
    (:data:`geoapp.region.DATA_AREA_COLUMN`, set by :func:`geoapp.inputs.with_data_area`);
    the summaries count that as the district's area, and so does ``land_area_km2``.
    """
    land = b_local.area.to_numpy(dtype=float) / 1e6
    if DATA_AREA_COLUMN in boundaries.columns:
        covered = pd.to_numeric(boundaries[DATA_AREA_COLUMN], errors="coerce").to_numpy(float)
        land = np.where(np.isnan(covered), land, covered)
    return land


def _classes_of(feats: gpd.GeoDataFrame) -> np.ndarray:
    """Return the features' ``heritage_class`` column, or their classes from the tags."""
    if "heritage_class" in feats.columns:
        return feats["heritage_class"].astype(str).to_numpy(dtype=object)
    return heritage_classes(feats)


def _with_class_parts(
    summary: pd.DataFrame,
    sites: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    feats: gpd.GeoDataFrame,
    access: pd.DataFrame | None,
    layer: Layer | None,
    dcol: str,
) -> tuple[pd.DataFrame, list[str]]:
    """Add the class counts and class-group access to ``summary``; the class warnings."""
    summary = _with_classes(summary, sites, zones)
    if access is not None and len(access):
        summary = _with_class_access(summary, access, layer, dcol)
    frame = pd.DataFrame(
        {
            "heritage_class": _classes_of(feats),
            "protection_title": _col(feats, "protection_title").to_numpy(dtype=object),
        }
    )
    warnings = heritage_class_warnings(frame, layer if layer is not None else _default_layer())
    return summary, warnings


def _default_layer() -> Layer:
    return Layer(
        id="heritage",
        label={"en": "Heritage"},
        population="total",
        radii_m=_DEFAULT_RADII,
        target_m=_DEFAULT_RADII[-1],
        match=(),
    )


def _with_classes(
    summary: pd.DataFrame, sites: gpd.GeoDataFrame, zones: gpd.GeoDataFrame
) -> pd.DataFrame:
    """Add ``n_<class>`` and ``n_designated`` to every summary row (0 where none)."""
    classes = np.concatenate(
        [
            sites["heritage_class"].to_numpy(dtype=object),
            zones["heritage_class"].to_numpy(dtype=object),
        ]
    )
    keys = {
        "district": (sites["district"].to_numpy(), zones["district"].to_numpy()),
        "zone_type": (sites["zone_type"].to_numpy(), zones["zone_type"].to_numpy()),
        "region": (np.full(len(sites), "region"), np.full(len(zones), "region")),
    }
    counts = _class_counts(keys, classes)
    cols = [f"n_{c}" for c in HERITAGE_CLASSES] + ["n_designated", f"n_{UNDESIGNATED}"]
    out = summary.merge(counts, on=["level", "group"], how="left") if len(counts) else summary
    for c in cols:
        out[c] = pd.to_numeric(out[c], errors="coerce").fillna(0).astype(int) if c in out else 0
    return out


def _with_class_access(
    summary: pd.DataFrame, access: pd.DataFrame, layer: Layer | None, dcol: str
) -> pd.DataFrame:
    """Add ``share_pop_<group>_<target>`` from the access table's ``dist_m_<group>``."""
    acc = access
    if layer is not None and "layer" in acc.columns and (acc["layer"] == layer.id).any():
        acc = acc.loc[acc["layer"] == layer.id]
    target = float(layer.target_m) if layer is not None else _DEFAULT_RADII[-1]
    parts = []
    for group in (*CLASS_GROUPS, UNDESIGNATED):
        dist = f"dist_m_{group}"
        if dist not in acc.columns:
            continue
        level_parts = []
        for level, key in (("district", "district"), ("zone_type", "zone_type"), ("region", "")):
            if key and key not in acc.columns:
                continue
            sh = _access_shares(acc, key, (target,), dcol, dist, f"share_pop_{group}_")
            level_parts.append(
                sh.drop(columns="pop").reset_index(names="group").assign(level=level)
            )
        parts.append(pd.concat(level_parts).set_index(["level", "group"]))
    if not parts:
        return summary
    shares = pd.concat(parts, axis=1).reset_index()
    return summary.merge(shares, on=["level", "group"], how="left")


def with_class_counts(
    summary: pd.DataFrame,
    features: gpd.GeoDataFrame,
    access: gpd.GeoDataFrame,
    boundaries: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Add the heritage class counts to a layer's coverage summary (``summary.csv``).

    Parameters
    ----------
    summary
        :func:`geoapp.coverage.coverage_summary` of the heritage layer (its rows
        ``level`` x ``group``).
    features
        Every heritage feature of the layer, designated or not (with
        ``heritage_class``), placed in groups by :func:`geoapp.coverage.facility_places`
        (the rule of ``n_facilities``).
    access
        The layer's access table; with ``dist_m_undesignated`` the summary gets
        ``share_pop_undesignated_<R>`` at every radius column of ``share_pop_<R>``
        (covered by a memorial, statue or unprotected historic feature: said apart,
        never judged).
    boundaries
        The region's districts (as given to the summary).

    Returns
    -------
    pandas.DataFrame
        A new summary with ``n_<class>`` per :data:`geoapp.layers.HERITAGE_CLASSES`,
        ``n_designated`` (equal to ``n_facilities``: the sites coverage counts) and
        ``n_undesignated`` (count, int); the input is not changed.
    """
    out = summary.copy()
    cls = (
        features["heritage_class"].astype(str).to_numpy(dtype=object)
        if "heritage_class" in features.columns
        else np.full(len(features), "historic", dtype=object)
    )
    places = (
        facility_places(features, access, boundaries)
        if len(features)
        else pd.DataFrame({"district": [], "zone_type": [], "settlement": []}, dtype=object)
    )
    empty = np.zeros(0, dtype=object)
    keys = {
        level: (places[level].to_numpy(dtype=object), empty)
        for level in ("district", "zone_type", "settlement")
    }
    is_region = (out["level"] == "region").to_numpy()
    region_group = str(out.loc[is_region, "group"].iloc[0]) if is_region.any() else "region"
    keys["region"] = (np.full(len(features), region_group, dtype=object), empty)
    counts = _class_counts(keys, cls) if len(features) else pd.DataFrame()
    cols = [f"n_{c}" for c in HERITAGE_CLASSES] + ["n_designated", f"n_{UNDESIGNATED}"]
    if len(counts):
        out = out.merge(counts, on=["level", "group"], how="left")
    for c in cols:
        out[c] = pd.to_numeric(out[c], errors="coerce").fillna(0).astype(int) if c in out else 0
    dist = f"dist_m_{UNDESIGNATED}"
    if dist in access.columns and len(access):
        d = pd.to_numeric(access[dist], errors="coerce").fillna(np.inf).to_numpy(dtype=float)
        w = pd.to_numeric(access["pop"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
        for col in [c for c in summary.columns if c.startswith("share_pop_")]:
            lab = col.removeprefix("share_pop_")
            if not lab.replace(".", "").isdigit():
                continue  # share_pop_60plus_R, minute labels: metres only
            out[f"share_pop_{UNDESIGNATED}_{lab}"] = _group_shares(out, access, d <= float(lab), w)
    return out


def _group_shares(
    summary: pd.DataFrame, access: pd.DataFrame, covered: np.ndarray, w: np.ndarray
) -> np.ndarray:
    """Share of each summary row's residents (``pop``) with ``covered`` true."""
    out = np.full(len(summary), np.nan)
    for i, (level, group) in enumerate(zip(summary["level"], summary["group"], strict=True)):
        if level == "region":
            sel = np.ones(len(access), dtype=bool)
        elif level in access.columns:
            sel = (access[level].astype(object).where(access[level].notna(), "").astype(str)
                   == str(group)).to_numpy()  # fmt: skip
        else:
            continue
        tot = w[sel].sum()
        if tot > 0:
            out[i] = w[sel & covered].sum() / tot
    return out


def site_counts(
    report: HeritageReport, *, level: str = "region", group: str | None = None
) -> dict[str, Any]:
    """Count a heritage report's features the way the heritage layer's ``summary.csv`` does.

    Coverage counts the designated sites only (:data:`geoapp.layers.DESIGNATED_CLASSES`,
    sites and zones alike, as ``n_designated`` and ``n_facilities`` in ``summary.csv``);
    memorials, statues and unlisted historic features are counted apart.

    Parameters
    ----------
    report
        A :func:`heritage_report` result.
    level, group
        The summary row(s) to read: the region row by default; ``level="district"``
        with ``group`` a district's name for one district.

    Returns
    -------
    dict
        ``designated``, ``undesignated`` (int), ``classes`` (``{class: count}`` of the
        classes present, in :data:`geoapp.layers.HERITAGE_CLASSES` order) and
        ``designated_unprotected`` (designated point sites outside every protected zone).
    """
    s = report.summary
    rows = s[s["level"] == level]
    if group is not None:
        rows = rows[rows["group"] == group]

    def total(col: str) -> int:
        return int(pd.to_numeric(rows[col], errors="coerce").fillna(0).sum()) if col in rows else 0

    classes = {c: total(f"n_{c}") for c in HERITAGE_CLASSES}
    sites = report.sites
    if group is not None and level in sites.columns:
        sites = sites[sites[level] == group]
    des = sites["heritage_class"].astype(str).isin(DESIGNATED_CLASSES).to_numpy(dtype=bool)
    unprot = sites["unprotected"].to_numpy(dtype=bool) if "unprotected" in sites else des & False
    return {
        "designated": total("n_designated"),
        "undesignated": total(f"n_{UNDESIGNATED}"),
        "classes": {c: n for c, n in classes.items() if n},
        "designated_unprotected": int((des & unprot).sum()),
    }


def class_totals(features: pd.DataFrame) -> dict[str, int]:
    """Count heritage features per class, ``designated`` and ``undesignated`` (metadata)."""
    cls = (
        features["heritage_class"].astype(str)
        if "heritage_class" in features.columns
        else pd.Series([], dtype=str)
    )
    out = {c: int((cls == c).sum()) for c in HERITAGE_CLASSES}
    out["designated"] = int(cls.isin(DESIGNATED_CLASSES).sum())
    out[UNDESIGNATED] = len(cls) - out["designated"]
    return out


__all__ = [
    "DEFAULT_BUFFER_M",
    "UNDESIGNATED",
    "class_totals",
    "site_counts",
    "with_class_counts",
    "ZONE_HISTORIC_VALUES",
    "ZONE_NAME_WORDS",
    "HeritageReport",
    "heritage_report",
]
