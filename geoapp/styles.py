"""Zone types: their order, names (English and Chinese) and colours, in one place.

The map, the charts, the tables of the app and the CLI all take the zone order, the
display names and the colours from here, so the urban core has one name and one
colour everywhere. This module is level 0 and imports nothing from geoapp.

The broad types are classes true for any city, not the categories of one plan:
``core`` is the main urban core (中心城区: in Beijing the six central districts, of
which Dongcheng and Xicheng form the capital core functional area, fine type
``capital_core``, 首都功能核心区), ``new_town`` the other towns and dense clusters
(新城), ``rural`` everything else (乡村地区), ``unknown`` what could not be classified.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

#: Zone types in display order: tables, charts, legends and zones.csv rows follow it.
ZONE_ORDER: tuple[str, ...] = ("core", "new_town", "rural", "unknown")

#: The three classes a demand point or district can be given (``unknown`` is the lack
#: of one).
BROAD_ZONE_TYPES: tuple[str, ...] = ZONE_ORDER[:3]


@dataclass(frozen=True)
class ZoneStyle:
    """Display name and colour of one zone type."""

    en: str
    zh: str
    color: str

    def name(self, lang: str = "en") -> str:
        """Return the name in ``lang`` (``"en"`` or ``"zh"``; other codes give English)."""
        return self.zh if lang == "zh" else self.en


#: Name and colour of every broad zone type (colour-blind-safe hues, distinct from the
#: green-to-red distance scale of the coverage maps).
ZONE_STYLES: Mapping[str, ZoneStyle] = {
    "core": ZoneStyle("Urban core", "中心城区", "#3b6ea8"),
    "new_town": ZoneStyle("New towns", "新城", "#e1a23b"),
    "rural": ZoneStyle("Rural areas", "乡村地区", "#5a9e5a"),
    "unknown": ZoneStyle("Unclassified", "未分类", "#999999"),
}

#: Colour of a zone type not in :data:`ZONE_STYLES`.
OTHER_ZONE_COLOR = "#777777"

#: Names of the fine zone types: the Beijing Master Plan 2016-2035 categories and the
#: Degree-of-Urbanisation classes. A zone mapping file may bring its own labels.
ZONE_FINE_NAMES: Mapping[str, Mapping[str, str]] = {
    "capital_core": {"en": "Capital core functional area", "zh": "首都功能核心区"},
    "central": {"en": "Central urban area", "zh": "中心城区"},
    "sub_centre": {"en": "Municipal sub-centre", "zh": "城市副中心"},
    "plain_new_town": {"en": "Plain-area new town", "zh": "平原新城"},
    "ecological": {"en": "Ecological conservation area", "zh": "生态涵养区"},
    "urban_centre": {"en": "Urban centre", "zh": "城市中心"},
    "urban_cluster": {"en": "Urban cluster", "zh": "城镇集群"},
    "rural": {"en": "Rural areas", "zh": "乡村地区"},
    "": {"en": "", "zh": ""},
}


def zone_name(zone_type: str, lang: str = "en") -> str:
    """Return the display name of a broad zone type (the type itself when unknown)."""
    style = ZONE_STYLES.get(str(zone_type))
    return style.name(lang) if style is not None else str(zone_type)


def zone_color(zone_type: str) -> str:
    """Return the colour (``#rrggbb``) of a broad zone type."""
    style = ZONE_STYLES.get(str(zone_type))
    return style.color if style is not None else OTHER_ZONE_COLOR


def zone_fine_name(zone_fine: str, lang: str = "en") -> str:
    """Return the display name of a fine zone type (the type itself when unknown)."""
    entry = ZONE_FINE_NAMES.get(zone_fine or "")
    if entry is None:
        return str(zone_fine)
    return entry.get(lang) or entry.get("en", "")


def zone_sort_key(zone_type: str) -> int:
    """Return the position of a zone type in :data:`ZONE_ORDER` (others after it)."""
    try:
        return ZONE_ORDER.index(str(zone_type))
    except ValueError:
        return len(ZONE_ORDER)


__all__ = [
    "BROAD_ZONE_TYPES",
    "OTHER_ZONE_COLOR",
    "ZONE_FINE_NAMES",
    "ZONE_ORDER",
    "ZONE_STYLES",
    "ZoneStyle",
    "zone_color",
    "zone_fine_name",
    "zone_name",
    "zone_sort_key",
]
