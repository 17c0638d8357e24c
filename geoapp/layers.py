"""Layers: which features of a region belong to each catalog layer.

The match rules come from the layer catalog (:mod:`geoapp.catalog`): a feature belongs
to a layer when it matches ANY of its ``[[match]]`` tables, and matches a table when
EVERY key of it matches (a string: that value; a list: any of its values; ``true``: the
key is present). OSM's multi-valued tags (``amenity=school;kindergarten``) match on any
of their values.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd

from geoapp.catalog import ID_KEYS, Layer
from geoapp.sources.capacity import capacity_columns

log = logging.getLogger(__name__)


def _value_mask(col: pd.Series, value: object) -> np.ndarray:
    if value is True:
        return (col.notna() & (col.astype(str) != "") & (col.astype(str) != "no")).to_numpy()
    if value is False:
        text = col.astype("string").str.strip()
        return (text.isna() | (text == "")).to_numpy(dtype=bool, na_value=True)
    values = [value] if isinstance(value, str) else list(cast(Iterable[object], value))
    # OSM allows several values separated by ';'
    s = col.astype("string")
    mask = s.isin(values).fillna(False).to_numpy(dtype=bool).copy()
    multi = s.str.contains(";", regex=False).fillna(False).to_numpy(dtype=bool)
    if multi.any():
        split = s[multi].str.split(";")
        vals = set(values)
        mask[multi] = [any(p.strip() in vals for p in parts) for parts in split]
    return mask


def match_mask(features: pd.DataFrame, layer: Layer) -> np.ndarray:
    """Return a boolean array: which rows of ``features`` belong to ``layer``.

    Tag keys are read from columns of the same name; a missing column never matches.
    """
    n = len(features)
    out = np.zeros(n, dtype=bool)
    for table in layer.match:
        m = np.ones(n, dtype=bool)
        for key, value in table.items():
            if key not in features.columns:
                m[:] = False
                break
            m &= _value_mask(features[key], value)
        out |= m
    return out


def select_features(features: gpd.GeoDataFrame, layer: Layer) -> gpd.GeoDataFrame:
    """Return the features of one layer as a facility table.

    Parameters
    ----------
    features
        Feature table with one column per OSM tag key, ``geometry`` and optionally
        ``osm_id`` and ``name`` (the output of any geoapp source).
    layer
        The layer whose match rules to apply.

    Returns
    -------
    geopandas.GeoDataFrame
        In the CRS of ``features``, columns: ``facility_id`` (str, unique: the
        ``osm_id`` when present), ``name`` (str, may be empty), ``layer`` (layer id),
        ``kind`` (the value of the first matching table's first key, e.g.
        ``nursing_home``), every tag column the match rules read, ``capacity``
        (float, NaN = unknown), ``capacity_source`` (``"table"`` | ``"osm"`` |
        ``"layer_default"`` | ``""``) and ``capacity_raw`` (the capacity tag text read)
        from the ``capacity:beds`` / ``beds`` / ``capacity`` / ``capacity:persons`` tags
        or the layer's ``[capacity] default``, and ``geometry`` (the original point or
        polygon). A heritage layer (``classify = "heritage"``) leaves out the places
        whose only heritage tag is ``historic=yes`` (:func:`place_names_only`).
    """
    mask = match_mask(features, layer)
    if layer.classify == "heritage":
        mask &= ~place_names_only(features)
    sub = features.loc[mask]
    kind = pd.Series("", index=sub.index, dtype=object)
    for table in reversed(layer.match):
        m = match_mask(sub, Layer(**{**layer.__dict__, "match": (table,)}))
        # the first tag the feature has (not a key that must be absent, nor its id)
        key = next((k for k, v in table.items() if v is not False and k not in ID_KEYS), "")
        if key in sub.columns:
            kind[m] = sub.loc[m, key].astype(str)
    if "osm_id" in sub.columns:
        fid = sub["osm_id"].astype(str)
    else:
        fid = pd.Series([f"{layer.id}/{i}" for i in range(len(sub))], index=sub.index)
    name = sub["name"].fillna("").astype(str) if "name" in sub.columns else ""
    cols = {
        "facility_id": fid.to_numpy(),
        "name": np.asarray(name),
        "layer": layer.id,
        "kind": kind.to_numpy(),
    }
    for k in layer.tag_keys():
        if k in sub.columns and k not in cols:
            cols[k] = sub[k].to_numpy()
    cols.update(capacity_columns(sub, layer))
    if layer.classify == "heritage":
        cols["heritage_class"] = heritage_classes(sub)
    out = gpd.GeoDataFrame(cols, geometry=sub.geometry.to_numpy(), crs=features.crs)
    if out["facility_id"].duplicated().any():
        out["facility_id"] = (
            out["facility_id"] + "#" + out.groupby("facility_id").cumcount().astype(str)
        )
    log.info("layer %s: %d features", layer.id, len(out))
    return out.reset_index(drop=True)


# ---------------------------------------------------------------------------
# Heritage protection classes
# ---------------------------------------------------------------------------

#: Protection classes of heritage sites, highest first. ``world`` (``heritage=1``, UNESCO
#: World Heritage), ``national`` (``heritage=2``, 全国重点文物保护单位), ``provincial``
#: (``heritage=3|4``, 省级 / 自治区级 and the province-level municipalities' 北京市、上海市、
#: 天津市、重庆市文物保护单位, and a bare 市级 / 市保: Beijing's 市级文物保护单位), ``local``
#: (``heritage=5..10``: 区级, 区保, 县级, a named prefecture city's 杭州市文物保护单位),
#: ``conservation_area`` (designated historic areas: 历史文化街区, 历史文化保护区, 历史文化
#: 名村/名镇, conservation areas; by class text or name, when no level is given),
#: ``listed`` (protected at a level the data does not state: ``heritage=yes``,
#: a ``heritage:operator`` or ``protection_title`` without a level, 'Kulturdenkmal',
#: 历史建筑, a cultural-assets protected area), ``historic`` (a historic feature with no
#: protection tag) and ``minor`` (memorials, monuments, statues, plaques, wayside
#: shrines and crosses, milestones and boundary stones with no protection tag).
HERITAGE_CLASSES = (
    "world", "national", "provincial", "local", "conservation_area", "listed", "historic", "minor",
)  # fmt: skip
#: The classes of officially designated (protected) heritage: the heritage layer's
#: coverage and status count only these (the others are reported apart).
DESIGNATED_CLASSES = HERITAGE_CLASSES[:6]
#: Designated historic areas (历史文化街区 ...), in a class text or a feature's name.
CONSERVATION_WORDS = re.compile(
    r"历史文化街区|历史文化保护区|历史街区|风貌保护区|历史文化名[村镇城]|"
    r"conservation\s*area|historic\s*district",
    re.IGNORECASE,
)
#: ``historic`` values of minor commemorative objects (classed ``minor`` unless a
#: protection tag says otherwise); any ``memorial=*`` (plaque, statue, bust ...) too.
MINOR_HISTORIC = frozenset(
    {
        "memorial", "monument", "wayside_cross", "wayside_shrine", "boundary_stone",
        "milestone", "marker", "plaque", "stone", "cannon", "tomb",
    }
)  # fmt: skip
#: Fewer designated sites than this in a heritage layer's data gives a warning.
FEW_DESIGNATED = 3

# Text of a protection title or an imported class column -> class, tried in order (the
# first hit wins): world, national, provincial (provinces, autonomous regions), local
# (districts, counties), provincial (the four province-level municipalities), local
# (a named prefecture city: 杭州市文物保护单位), provincial (a bare 市级 / 市保: the
# city level of Beijing, Shanghai, Tianjin, Chongqing, the lists this tool is fed).
# An English class name alone is taken as is.
_TITLE_RULES: tuple[tuple[str, str], ...] = (
    # recorded relics not (yet) designated: historic, not protected (checked first)
    ("historic", r"尚未核定|未核定|未定级|普查登记|登记(不可移动)?文物|not\s*designated"),
    # a designated historic area (历史文化街区), whatever level designated it
    ("conservation_area", CONSERVATION_WORDS.pattern),
    ("world", r"世界(文化|自然|)遗产|世界遺産|world\s*heritage|unesco|\bwhc\b"),
    ("national", r"全国重点|国家级|国家重点|国保|\bsach\b|国家文物局|national"),
    ("provincial", r"自治区级|自治区文物|省级|省文物|省保|provincial|\bstate\b|\bregional\b"),
    ("local", r"区级|县级|区县|区文物|县文物|区保|县保|旗级|local|municipal|county|district|city"),
    ("provincial", r"(北京|上海|天津|重庆)市?级?(文物|文保|$)|北京市|上海市|天津市|重庆市"),
    ("local", r"[\u4e00-\u9fff]市(级|文物|文保|保)"),
    ("provincial", r"市级|市文物|市文保|市保"),
    # an immovable relic with no level named: recorded, not designated
    ("historic", r"不可移动文物"),
)
_TITLE_RES = tuple((cls, re.compile(rx, re.IGNORECASE)) for cls, rx in _TITLE_RULES)
#: A class text that is just 市级 (city level): provincial in a province-level
#: municipality (Beijing ...), prefecture level elsewhere; read as ``provincial``.
BARE_CITY_LEVEL = re.compile(r"^\s*市级(文物保护单位|文保单位)?\s*$")


def _texts(frame: pd.DataFrame, key: str) -> np.ndarray:
    if key not in frame.columns:
        return np.full(len(frame), "", dtype=object)
    s = frame[key].astype("string").fillna("").str.strip()
    return s.to_numpy(dtype=object)


def _level_class(value: str) -> str:
    """Class from a ``heritage=*`` value: the admin level (1 world ... 10), else listed."""
    if not value or value.lower() == "no":
        return ""
    levels = [int(p) for p in value.replace(",", ";").split(";") if p.strip().isdigit()]
    if not levels:
        return "listed"
    lv = min(levels)
    if lv <= 1:
        return "world"
    if lv == 2:
        return "national"
    return "provincial" if lv <= 4 else "local"


def title_class(text: str) -> str:
    """Return the protection class a title or class-column text names ("" if blank).

    ``全国重点文物保护单位`` -> ``national``, ``北京市文物保护单位`` -> ``provincial``,
    ``区级文物保护单位`` -> ``local``, ``历史文化街区`` -> ``conservation_area``,
    ``Kulturdenkmal`` -> ``listed``; a class name (``world`` ... ``minor``) is taken as
    is. A bare ``市级`` / ``市保`` reads as ``provincial`` (Beijing's 市级文物保护单位; see
    :data:`BARE_CITY_LEVEL`), a named prefecture city's (``杭州市级``) as ``local``.
    """
    t = (text or "").strip()
    if not t or t.lower() == "no":
        return ""
    if t.lower() in HERITAGE_CLASSES:
        return t.lower()
    for cls, rx in _TITLE_RES:
        if rx.search(t):
            return cls
    return "listed"


def _best(*classes: str) -> str:
    ranks = [HERITAGE_CLASSES.index(c) for c in classes if c]
    return HERITAGE_CLASSES[min(ranks)] if ranks else ""


def heritage_classes(frame: pd.DataFrame) -> np.ndarray:
    """Return the protection class of every heritage feature (:data:`HERITAGE_CLASSES`).

    The highest class any of ``heritage=*`` (admin-level number), ``heritage:operator``
    (``whc`` world, ``sach`` / 国家文物局 national, any other: listed) and
    ``protection_title`` (see :func:`title_class`; an imported list's class column is
    read into this tag) gives. Without them, a ``boundary=protected_area`` (the
    heritage layer reads those with ``protect_class=22``) is ``listed``; a feature
    named like a designated historic area (:data:`CONSERVATION_WORDS`: 历史文化街区 ...)
    with no level is ``conservation_area``; a memorial,
    monument, statue, plaque (:data:`MINOR_HISTORIC`, any ``memorial=*``) is ``minor``;
    anything else is ``historic``.

    Parameters
    ----------
    frame
        Features with any of the columns ``heritage``, ``heritage:operator``,
        ``protection_title``, ``historic``, ``memorial``, ``boundary``, ``name``
        (missing columns count as empty).

    Returns
    -------
    numpy.ndarray
        One class string per row.
    """
    her = _texts(frame, "heritage")
    op = _texts(frame, "heritage:operator")
    title = _texts(frame, "protection_title")
    hist = _texts(frame, "historic")
    mem = _texts(frame, "memorial")
    bnd = _texts(frame, "boundary")
    name = _texts(frame, "name")
    out = np.empty(len(frame), dtype=object)
    for i in range(len(frame)):
        op_cls = title_class(op[i])
        if op[i] and op_cls in ("historic", "minor"):
            op_cls = "listed"
        cls = _best(_level_class(her[i]), op_cls, title_class(title[i]))
        if not cls and bnd[i] == "protected_area":
            cls = "listed"  # a protected area (cultural assets: protect_class=22)
        if cls in ("", "listed", "historic") and CONSERVATION_WORDS.search(name[i]):
            cls = "conservation_area"  # 历史文化街区 named, no level given
        if not cls:
            parts = {p.strip().lower() for p in hist[i].split(";")}
            minor = bool(parts & MINOR_HISTORIC) or (mem[i] not in ("", "no"))
            cls = "minor" if minor else "historic"
        out[i] = cls
    return out


def place_names_only(features: pd.DataFrame) -> np.ndarray:
    """Which features are places (``place=*``) whose only heritage tag is ``historic=yes``.

    In Beijing's OSM these are the names of demolished villages (a ``place=neighbourhood``
    with ``historic=yes``), not heritage sites: the heritage layer leaves them out.
    """
    n = len(features)
    if not n or "place" not in features.columns or "historic" not in features.columns:
        return np.zeros(n, dtype=bool)
    place = _texts(features, "place")
    hist = np.char.lower(_texts(features, "historic").astype(str))
    tagged = np.zeros(n, dtype=bool)
    for key in ("heritage", "heritage:operator", "protection_title", "memorial"):
        v = np.char.lower(_texts(features, key).astype(str))
        tagged |= (v != "") & (v != "no")
    return (place != "") & (hist == "yes") & ~tagged


def place_names_note(features: pd.DataFrame, layer: Layer) -> str:
    """Name the places :func:`place_names_only` left out of ``layer`` ("" if none)."""
    drop = match_mask(features, layer) & place_names_only(features)
    if not drop.any():
        return ""
    sub = features.loc[drop]
    ids = _texts(sub, "osm_id") if "osm_id" in sub.columns else np.array([""] * len(sub))
    names = _texts(sub, "name")
    shown = [f"{i} ({nm})" if nm else str(i) for i, nm in zip(ids, names, strict=True)]
    more = f" and {len(shown) - NEAR_MISS_LISTED} more" if len(shown) > NEAR_MISS_LISTED else ""
    return (
        f"{layer.name('en')}: {len(shown)} place{'' if len(shown) == 1 else 's'} tagged only "
        f"historic=yes (names of former villages or areas, not heritage sites) left out: "
        f"{'; '.join(shown[:NEAR_MISS_LISTED])}{more}. Tag a protected one with heritage=* "
        "or import it in an official list to count it."
    )


def split_designated(
    facilities: gpd.GeoDataFrame, layer: Layer
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Split a heritage layer's facilities into designated sites and the rest.

    Heritage coverage and its status count only the officially designated sites
    (:data:`DESIGNATED_CLASSES`); memorials, statues and unprotected historic features
    are reported apart. Any other layer: ``(facilities, empty frame)``.
    """
    if layer.classify != "heritage" or "heritage_class" not in facilities.columns:
        return facilities, facilities.iloc[:0]
    des = facilities["heritage_class"].astype(str).isin(DESIGNATED_CLASSES).to_numpy()
    return (
        facilities.loc[des].reset_index(drop=True),
        facilities.loc[~des].reset_index(drop=True),
    )


def heritage_class_warnings(
    facilities: pd.DataFrame, layer: Layer, *, imported: bool = False
) -> list[str]:
    """Warnings about a heritage layer's classes: few designated sites, bare 市级.

    Parameters
    ----------
    facilities
        The layer's facilities (:func:`select_features`, with ``heritage_class``).
    layer
        The layer (its name goes into the sentences).

    Returns
    -------
    list of str
        Plain sentences (empty when there is nothing to say).
    """
    if "heritage_class" not in facilities.columns or not len(facilities):
        return []
    cls = facilities["heritage_class"].astype(str)
    counts = cls.value_counts()
    n_des = int(cls.isin(DESIGNATED_CLASSES).sum())
    name = layer.name("en")
    out: list[str] = []
    if n_des < FEW_DESIGNATED:
        parts = ", ".join(f"{int(counts.get(c, 0))} {c}" for c in ("historic", "minor"))
        out.append(
            f"{name}: the data holds {n_des} officially protected (designated) site"
            f"{'' if n_des == 1 else 's'} among {len(facilities)} heritage features "
            f"({parts}); protected sites are often mapped without heritage or "
            "protection_title tags, so heritage access is uncertain here. "
            + (
                "A list was imported for this layer: see the warnings about its rows, and "
                "check that it covers this extract and its coordinate system."
                if imported
                else "Import the official list of protected sites (文物保护单位) with a class "
                "column: --facilities FILE:heritage:COORDS."
            )
        )
    title = _texts(facilities, "protection_title")
    bare = np.array([bool(BARE_CITY_LEVEL.match(t)) for t in title], dtype=bool)
    if bare.any():
        out.append(
            f"{name}: {int(bare.sum())} sites have the class 市级 (city level), read as "
            "provincial (the city level of Beijing, Shanghai, Tianjin or Chongqing); for a "
            "prefecture city's list write the city's name (e.g. 杭州市级) or local in the "
            "class column."
        )
    return out


# ---------------------------------------------------------------------------
# Near-misses: named like the service, matching no rule
# ---------------------------------------------------------------------------

#: Near-misses listed by id in the warning; the rest are counted.
NEAR_MISS_LISTED = 10


def _hint_pattern(layer: Layer) -> re.Pattern[str] | None:
    if not layer.name_hints:
        return None
    return re.compile("|".join(f"(?:{h})" for h in layer.name_hints), re.IGNORECASE)


def _named(names: pd.Series, rx: re.Pattern[str]) -> np.ndarray:
    return np.fromiter((bool(rx.search(str(n))) for n in names), dtype=bool, count=len(names))


def near_misses(
    features: pd.DataFrame, layer: Layer, buildings: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Return the features named like ``layer``'s service that match none of its rules.

    A name matches when any of the layer file's ``name_hints`` (regular expressions,
    case-insensitive) is found in it. Such features are NOT counted as facilities.

    Parameters
    ----------
    features
        The region's features (``osm_id``, ``name`` and tag columns).
    layer
        The layer (its ``match`` and ``name_hints``).
    buildings
        The region's building footprints (``building_id``, ``name``), optional: named
        buildings that are no feature are checked too.

    Returns
    -------
    pandas.DataFrame
        ``osm_id``, ``name`` and ``source`` (``"features"`` | ``"buildings"``), in the
        order found; empty when the layer has no ``name_hints``.
    """
    cols = ["osm_id", "name", "source"]
    rx = _hint_pattern(layer)
    if rx is None:
        return pd.DataFrame(columns=cols)
    parts = []
    ids_seen: set[str] = set()
    if "name" in features.columns and len(features):
        names = features["name"].astype("string").fillna("")
        hit = _named(names, rx) & ~match_mask(features, layer)
        ids = (
            features["osm_id"].astype(str)
            if "osm_id" in features.columns
            else pd.Series([f"feature/{i}" for i in range(len(features))], index=features.index)
        )
        ids_seen = set(ids)
        parts.append(
            pd.DataFrame(
                {"osm_id": ids[hit].to_numpy(), "name": names[hit].to_numpy(), "source": "features"}
            )
        )
    if buildings is not None and len(buildings) and "name" in buildings.columns:
        names = buildings["name"].astype("string").fillna("")
        bid = buildings["building_id"].astype(str) if "building_id" in buildings else None
        hit = _named(names, rx)
        if bid is not None:
            hit &= ~bid.isin(ids_seen).to_numpy(dtype=bool)
            ids_b = bid[hit].to_numpy()
        else:
            ids_b = np.array([f"building/{i}" for i in np.flatnonzero(hit)], dtype=object)
        parts.append(
            pd.DataFrame({"osm_id": ids_b, "name": names[hit].to_numpy(), "source": "buildings"})
        )
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)
    return out.drop_duplicates("osm_id").reset_index(drop=True)[cols]


def near_miss_warning(misses: pd.DataFrame, layer: Layer) -> str | None:
    """Return ONE warning naming the near-misses (:func:`near_misses`) and how to count them.

    None when there are none. The first :data:`NEAR_MISS_LISTED` are named with their
    ids (``node/123 (敬老院)``).
    """
    if misses is None or not len(misses):
        return None
    n = len(misses)
    head = misses.head(NEAR_MISS_LISTED)
    shown = [
        f"{i} ({name})" if name else str(i)
        for i, name in zip(head["osm_id"].astype(str), head["name"].astype(str), strict=True)
    ]
    more = f" and {n - NEAR_MISS_LISTED} more" if n > NEAR_MISS_LISTED else ""
    feat_ids = [str(i) for i in misses.loc[misses["source"] == "features", "osm_id"]]
    ways = []
    if feat_ids:
        listed = ", ".join(f'"{i}"' for i in feat_ids[:NEAR_MISS_LISTED])
        ways.append(
            f"add a table `[[match]] osm_id = [{listed}]` to a copy of the layer file "
            f"{layer.id}.toml and pass it with --layer-file"
        )
    ways.append(f"list them in a table and pass --facilities FILE:{layer.id}:COORDS")
    bld = "" if len(feat_ids) == n else " (building footprints only through a table)"
    return (
        f"{layer.name('en')}: {n} feature{'' if n == 1 else 's'} named like this service "
        f"match{'es' if n == 1 else ''} none of its tag rules and "
        f"{'is' if n == 1 else 'are'} NOT counted: {'; '.join(shown)}{more}. To count "
        f"them, tag them in OpenStreetMap as the layer file describes, "
        f"{', or '.join(ways)}{bld}."
    )


#: Coverage groups of a classified heritage layer: the sites of a class or higher
#: (``national`` = world + national ...; ``designated`` = every protected class). The
#: access table gets ``dist_m_<group>`` and the heritage summary ``share_pop_<group>_<R>``.
CLASS_GROUPS: dict[str, tuple[str, ...]] = {
    "national": HERITAGE_CLASSES[:2],
    "provincial": HERITAGE_CLASSES[:3],
    "local": HERITAGE_CLASSES[:4],
    "designated": DESIGNATED_CLASSES,
}


def class_groups(facilities: pd.DataFrame, layer: Layer) -> dict[str, np.ndarray]:
    """Return, per coverage group (:data:`CLASS_GROUPS`), which facilities belong to it.

    Empty for a layer without ``classify`` (or facilities without ``heritage_class``).
    """
    if layer.classify != "heritage" or "heritage_class" not in facilities.columns:
        return {}
    cls = facilities["heritage_class"].astype(str)
    return {g: cls.isin(members).to_numpy(dtype=bool) for g, members in CLASS_GROUPS.items()}


def selection_warnings(
    features: pd.DataFrame,
    layer: Layer,
    facilities: pd.DataFrame,
    buildings: pd.DataFrame | None = None,
    *,
    imported: bool = False,
) -> list[str]:
    """Warnings about what a layer's selection left out or holds little of.

    The near-misses (:func:`near_miss_warning`) and, for a classified heritage layer,
    :func:`heritage_class_warnings` (``imported``: a table was imported for the layer, so
    none is suggested) and the places left out (:func:`place_names_note`). Each is also
    logged.
    """
    out = [near_miss_warning(near_misses(features, layer, buildings), layer)]
    out += heritage_class_warnings(facilities, layer, imported=imported)
    if layer.classify == "heritage":
        out.append(place_names_note(features, layer))
    msgs = [w for w in out if w]
    for w in msgs:
        log.warning("%s", w)
    return msgs
