"""Housing: which buildings house residents, and their floor area.

Residents per building = floor area / floor area per person, where floor area =
footprint area (measured in the local projected CRS) × ``building:levels`` (when
missing: :data:`DEFAULT_LEVELS`, or :data:`VILLAGE_LEVELS` in a village, see below).

**Homes only** (:func:`classify_buildings`). A building is no home, and holds nobody,
when (the first reason that applies is the one counted):

1. *building value*: its ``building`` value is in :data:`NON_RESIDENTIAL` (churches,
   schools, hotels, forts, casinos, offices, sheds ...);
2. *its own tags*: a use key of :data:`~geoapp.region.BUILDING_USE_KEYS` on the
   building says what it is used for (``amenity=place_of_worship``,
   ``tourism=hotel``, ``historic=fort``, ``office=*``, ``leisure=sports_centre``,
   ``military=*``, ``man_made=*`` ...): :func:`use_kind` ``"whole"``;
3. *a POI inside*: a node inside the footprint whose use fills a building
   (``amenity=casino``, ``tourism=hotel``, ``amenity=school`` ...);
4. *non-residential landuse*: its representative point lies in landuse of
   :data:`~geoapp.demand.landuse.NON_RESIDENTIAL_LANDUSE` (industrial, commercial,
   military, cemetery, religious, education ...) and in no residential landuse.

Rules 2-4 spare an explicitly residential building (a ``building`` value of
:data:`RESIDENTIAL_BUILDINGS`, or ``building:use=residential``): its use or POI takes its
ground floor (below). **Homes by their use**: care homes keep their residents
(``amenity=social_facility`` with ``social_facility`` = nursing_home, assisted_living or
group_home; ``amenity=nursing_home`` / ``retirement_home``): censuses count the
residents of care homes as residents (institutional households) and they are exactly
the 60+ residents elderly-care planning counts. ``historic`` values that mark a
historic *house* (building, house, manor, farm ...) do not exclude it.

**Mixed use** (shops below, flats above). A home whose own tags or POIs name a use that
takes a ground floor (a shop, a craft, an office, a café, a doctor ...: :func:`use_kind`
``"ground"``), and an explicitly residential building with any other non-residential
use, keeps its upper floors only: levels − 1 (none when it has one level). An untagged
building with such a use still needs residential evidence (below) to count at all.

**Evidence for untagged buildings** (:func:`housing_mask`). ``building`` values of
:data:`RESIDENTIAL_BUILDINGS` (house, apartments ...) always house residents; any other
value (mostly untagged ``building=yes``) only with residential evidence: a footprint of
at least :data:`MIN_HOME_FOOTPRINT_M2` (smaller ones are sheds and garages) **and** one
of: its representative point inside residential landuse; at least
:data:`MULTI_STOREY_LEVELS` tagged ``building:levels`` (multi-storey untagged buildings
are mostly flats, often above shops); a footprint within :data:`NEAR_HOME_M` of a
building that houses residents by these rules; or a house-sized footprint (up to
:data:`MAX_UNTAGGED_HOME_M2`) with at least :data:`CLUSTER_NEIGHBOURS` house-sized or
housing buildings within :data:`NEAR_HOME_M` (a village or neighbourhood whose homes are
not tagged, far from any tagged home or residential landuse: its residents must not
vanish). Large single-storey untagged halls away from homes (supermarkets, depots) do
not count. When the extract carries no residential evidence at all (no residential
building value, no residential landuse), untagged buildings of
:data:`MIN_HOME_FOOTPRINT_M2`–:data:`MAX_UNTAGGED_HOME_M2` count, with a warning.

**Village heights.** A home without ``building:levels`` in a village (its settlement
class is ``village``: within the radius of a ``place=village``, ``hamlet``,
``isolated_dwelling`` or ``farm`` node and of no town or city,
:func:`geoapp.demand.landuse.place_class`) has :data:`VILLAGE_LEVELS` levels instead of
:data:`DEFAULT_LEVELS`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geoapp.crs import local_crs
from geoapp.demand.frames import WGS84, first_containing, polygonal_mask, tag_values
from geoapp.demand.landuse import non_residential_landuse, place_class, residential_landuse
from geoapp.errors import InputError
from geoapp.region import BUILDING_POIS, BUILDING_USE_KEYS

log = logging.getLogger(__name__)

#: Levels assumed for a building without ``building:levels``. Two is a deliberately low
#: choice: most untagged buildings in OSM are low-rise (houses, village buildings,
#: annexes); high-rise housing is usually tagged with its levels, and census scaling
#: corrects the district totals anyway.
DEFAULT_LEVELS = 2
#: Levels assumed for a home without ``building:levels`` in a village: one full storey
#: and a habitable roof storey, the common village house of one to two storeys. OSM's
#: ``building:levels`` counts the full storeys below the roof (OSM wiki,
#: Key:building:levels: roof storeys go in ``roof:levels``), so a village house with an
#: attic is mapped with one level but its floor area is about one and a half footprints.
VILLAGE_LEVELS = 1.5

#: Untagged buildings smaller than this footprint (m²) are sheds, garages, kiosks.
MIN_HOME_FOOTPRINT_M2 = 30.0
#: Untagged buildings within this distance (m, footprint to footprint) of a home count.
NEAR_HOME_M = 50.0
#: Untagged buildings with at least this many ``building:levels`` count (mostly flats).
MULTI_STOREY_LEVELS = 3
#: Largest untagged footprint (m²) counted without other evidence (no residential
#: evidence in the extract, or in a cluster of house-sized buildings).
MAX_UNTAGGED_HOME_M2 = 1_000.0
#: An untagged house-sized building with at least this many house-sized or housing
#: buildings within :data:`NEAR_HOME_M` is a home of a village or neighbourhood whose
#: homes are not tagged.
CLUSTER_NEIGHBOURS = 3

#: ``building`` values that always house residents.
RESIDENTIAL_BUILDINGS = frozenset(
    {
        "house",
        "residential",
        "apartments",
        "detached",
        "semidetached_house",
        "terrace",
        "bungalow",
        "dormitory",
        "farm",
        "villa",
        "houseboat",
        "static_caravan",
        "ger",
        "stilt_house",
        "trullo",
    }
)


#: ``building`` tag values that house no residents.
NON_RESIDENTIAL = frozenset(
    {
        "retail",
        "commercial",
        "office",
        "industrial",
        "warehouse",
        "supermarket",
        "kiosk",
        "school",
        "kindergarten",
        "university",
        "college",
        "hospital",
        "clinic",
        "church",
        "chapel",
        "cathedral",
        "mosque",
        "temple",
        "shrine",
        "synagogue",
        "religious",
        "monastery",
        "garage",
        "garages",
        "carport",
        "parking",
        "shed",
        "hut",
        "cabin",
        "roof",
        "public",
        "civic",
        "government",
        "train_station",
        "transportation",
        "station",
        "hangar",
        "factory",
        "manufacture",
        "service",
        "transformer_tower",
        "water_tower",
        "storage_tank",
        "silo",
        "barn",
        "cowshed",
        "stable",
        "sty",
        "greenhouse",
        "farm_auxiliary",
        "stadium",
        "sports_hall",
        "sports_centre",
        "grandstand",
        "pavilion",
        "toilets",
        "bunker",
        "bridge",
        "tower",
        "gatehouse",
        "ruins",
        "construction",
        "digester",
        "fire_station",
        "police",
        "museum",
        "hotel",
        "no",
        # added for issue 23 (OSM wiki, Key:building: the commercial, civic, religious,
        # agricultural, storage, technical and other non-residential values, and the
        # values mappers use for forts, casinos and town halls)
        "fort",
        "castle",
        "casino",
        "townhall",
        "courthouse",
        "bank",
        "cinema",
        "theatre",
        "library",
        "kingdom_hall",
        "military",
        "barracks",
        "boathouse",
        "allotment_house",
        "beach_hut",
        "bakehouse",
        "conservatory",
        "lighthouse",
        "windmill",
        "watermill",
        "power",
        "substation",
        "tech_cab",
        "slurry_tank",
        "livestock",
        "riding_hall",
        "mall",
        "market",
        "restaurant",
        "toll_booth",
    }
)

#: ``building:use`` values that make a building explicitly residential.
RESIDENTIAL_USES = frozenset(
    {"residential", "apartments", "house", "detached", "residence", "dwelling", "terrace"}
)

#: Care homes: (key, value) of a building's use that keep its residents (see the
#: module docstring). ``amenity=social_facility`` counts only with a ``social_facility``
#: value of :data:`CARE_FACILITIES`.
HOME_USES = frozenset({("amenity", "nursing_home"), ("amenity", "retirement_home")})
#: ``social_facility`` values of a care home whose residents live there.
CARE_FACILITIES = frozenset({"nursing_home", "assisted_living", "group_home"})
#: ``historic`` values of a historic house (still a home).
HISTORIC_HOMES = frozenset(
    {"building", "house", "manor", "farm", "heritage", "yes", "townhouse", "farmhouse"}
)

#: Uses that fill a building (on the building or as a POI node inside it): by key, the
#: values (``True``: every value). OSM wiki, Key:amenity, Key:tourism, Key:historic,
#: Key:leisure, Key:man_made, Key:military, Key:aeroway, Key:healthcare, Key:shop.
WHOLE_USES: dict[str, frozenset[str] | bool] = {
    "amenity": frozenset(
        {
            "place_of_worship", "monastery", "school", "college", "university",
            "kindergarten", "hospital", "townhall", "courthouse", "police", "fire_station",
            "prison", "casino", "gambling", "theatre", "cinema", "library", "arts_centre",
            "community_centre", "conference_centre", "events_venue", "exhibition_centre",
            "marketplace", "parking", "bus_station", "ferry_terminal", "fuel", "car_wash",
            "public_bath", "crematorium", "mortuary", "ranger_station", "music_venue",
            "planetarium", "customs",
        }
    ),
    "tourism": frozenset(
        {"hotel", "hostel", "motel", "museum", "gallery", "alpine_hut", "wilderness_hut",
         "chalet", "camp_site", "caravan_site", "aquarium", "zoo", "theme_park"}
    ),
    "historic": frozenset(
        {"castle", "fort", "fortress", "church", "chapel", "monastery", "temple", "mosque",
         "tower", "city_gate", "ruins", "bunker", "palace", "mine", "industrial",
         "railway_station", "tomb", "mausoleum"}
    ),
    "leisure": frozenset(
        {"sports_centre", "sports_hall", "swimming_pool", "ice_rink", "stadium",
         "water_park", "bowling_alley", "horse_riding"}
    ),
    "military": True,
    "man_made": frozenset(
        {"works", "water_tower", "lighthouse", "windmill", "watermill", "tower", "silo",
         "storage_tank", "wastewater_plant", "water_works", "pumping_station", "kiln",
         "gasometer", "observatory", "telescope", "bunker_silo"}
    ),
    "aeroway": frozenset({"terminal", "hangar", "control_tower"}),
    "healthcare": frozenset({"hospital"}),
    "shop": frozenset(
        {"supermarket", "department_store", "mall", "wholesale", "doityourself", "car",
         "furniture", "garden_centre", "trade", "hardware", "warehouse"}
    ),
}  # fmt: skip
#: Uses that take a ground floor (shops below, flats above): by key, the values
#: (``True``: every value not in :data:`WHOLE_USES`).
GROUND_USES: dict[str, frozenset[str] | bool] = {
    "shop": True,
    "craft": True,
    "office": True,
    "healthcare": True,
    "amenity": frozenset(
        {
            "restaurant", "cafe", "fast_food", "bar", "pub", "biergarten", "ice_cream",
            "food_court", "pharmacy", "bank", "bureau_de_change", "money_transfer",
            "post_office", "doctors", "dentist", "clinic", "veterinary", "childcare",
            "driving_school", "language_school", "music_school", "training",
            "internet_cafe", "coworking_space", "social_centre", "studio", "dojo",
            "car_rental", "laundry", "police_post", "nightclub", "stripclub", "embassy",
        }
    ),
    "tourism": frozenset({"guest_house", "apartment"}),
    "leisure": frozenset(
        {"fitness_centre", "dance", "amusement_arcade", "adult_gaming_centre", "escape_game",
         "hackerspace", "sauna", "tanning_salon"}
    ),
}  # fmt: skip
#: Uses that fill a building when tagged on it but, as a POI node inside a larger
#: building, take its ground floor: a supermarket or furniture shop in the ground floor
#: of a block of flats (the standalone kind is mapped on its own outline).
POI_GROUND_USES = frozenset(
    {("shop", "supermarket"), ("shop", "furniture"), ("tourism", "gallery")}
)
#: Keys whose every value names a non-residential use when tagged on the building
#: itself (a POI node of an unlisted value, e.g. ``amenity=atm``, is ignored).
OWN_USE_KEYS = frozenset(
    {"amenity", "tourism", "historic", "office", "shop", "leisure", "military", "man_made",
     "craft", "healthcare", "aeroway"}
)  # fmt: skip

#: Keys whose value on the building itself always fills it (an office building, a
#: workshop), even where :data:`GROUND_USES` would take a ground floor for a POI node.
OWN_WHOLE_KEYS = frozenset({"office", "craft"})

#: Why a building is no home (``HousingDecision.reason``), in the order they are tried.
EXCLUSION_REASONS = ("building", "tag", "poi", "landuse")


def _in(table: Mapping[str, frozenset[str] | bool], key: str, value: str) -> bool:
    values = table.get(key)
    return values is True or (isinstance(values, frozenset) and value in values)


def use_kind(tags: Mapping[str, str], own: bool) -> str:
    """Return what a set of tags says of a building's use.

    Parameters
    ----------
    tags
        ``key -> value`` (lower case; a value may hold several, ``;``-separated).
    own
        The tags are the building's own (True) or those of POI nodes inside it (False).

    Returns
    -------
    str
        ``"home"`` (a care home: residents kept), ``"whole"`` (the use fills the
        building), ``"ground"`` (the use takes a ground floor) or ``""`` (nothing said).
        Of several tags, ``home`` wins, then ``whole``, then ``ground``.
    """
    kinds = set()
    for key, raw in tags.items():
        for value in (v.strip() for v in str(raw).split(";")):
            if not value or value == "no":
                continue
            if key == "building:use":
                kinds.add("home" if value in RESIDENTIAL_USES else "whole")
                continue
            if (key, value) in HOME_USES or (
                key == "amenity"
                and value == "social_facility"
                and set(str(tags.get("social_facility", "")).split(";")) & CARE_FACILITIES
            ):
                kinds.add("home")
            elif key == "amenity" and value == "social_facility":
                kinds.add("whole" if own else "")
            elif key == "historic" and value in HISTORIC_HOMES:
                continue
            elif own and key in OWN_WHOLE_KEYS:
                kinds.add("whole")
            elif not own and (key, value) in POI_GROUND_USES:
                kinds.add("ground")
            elif _in(WHOLE_USES, key, value):
                kinds.add("whole")
            elif _in(GROUND_USES, key, value):
                kinds.add("ground")
            elif own and key in OWN_USE_KEYS:
                kinds.add("whole")
    for kind in ("home", "whole", "ground"):
        if kind in kinds:
            return kind
    return ""


def _use_tags(row: Mapping[str, object]) -> dict[str, str]:
    out = {}
    for k in BUILDING_USE_KEYS:
        v = row.get(k)
        if isinstance(v, str) and v.strip():
            out[k] = v.strip().lower()
    return out


def _poi_tags(value: object) -> dict[str, str]:
    """Parse a :data:`~geoapp.region.BUILDING_POIS` cell (``k=v;k=v``) into a tag dict."""
    out: dict[str, str] = {}
    if not isinstance(value, str):
        return out
    key = None
    for tok in value.split(";"):
        tok = tok.strip().lower()
        if "=" in tok:
            key, _, v = tok.partition("=")
            out[key] = f"{out[key]};{v}" if key in out else v
        elif key is not None and tok:  # a multi-value's later part
            out[key] = f"{out[key]};{tok}"
    return out


@dataclass(frozen=True)
class HousingDecision:
    """Which buildings house residents, and why the others do not (one entry per building).

    Attributes
    ----------
    housing
        The building houses residents.
    in_residential
        Its representative point lies in residential landuse.
    reason
        Why it is no home (:data:`EXCLUSION_REASONS`; ``""``: not excluded, also when
        it lacks residential evidence).
    detail
        The building value or ``key=value`` behind ``reason`` (``""`` when none).
    upper_only
        Mixed use: only its upper floors (levels − 1) house residents.
    warnings
        Sentences for ``Demand.warnings``.
    """

    housing: np.ndarray
    in_residential: np.ndarray
    reason: np.ndarray
    detail: np.ndarray
    upper_only: np.ndarray
    warnings: tuple[str, ...] = ()


def _first_use(tags: Mapping[str, str], kind: str, own: bool) -> str:
    """Return the first ``key=value`` of ``tags`` whose own :func:`use_kind` is ``kind``."""
    for k, v in tags.items():
        one = {k: v}
        if k == "amenity" and "social_facility" in tags:
            one["social_facility"] = tags["social_facility"]
        for part in str(v).split(";"):
            if use_kind({**one, k: part}, own) == kind:
                return f"{k}={part}"
    return ""


def _judge_uses(
    buildings: gpd.GeoDataFrame,
    use_cols: list[str],
    has_use: np.ndarray,
    pois: np.ndarray,
    has_poi: np.ndarray,
    own_tags: dict[int, dict[str, str]],
    own_kind: np.ndarray,
    poi_tags: dict[int, dict[str, str]],
    poi_kind: np.ndarray,
) -> None:
    """Fill the tags and :func:`use_kind` of each building's own use and of its POIs.

    Buildings repeat a few tag sets (``amenity=school`` ...): each distinct set is
    parsed and judged once.
    """
    if has_use.any():
        at = np.flatnonzero(has_use)
        columns = [buildings[k].to_numpy(dtype=object)[at] for k in use_cols]
        columns = [np.array([v if isinstance(v, str) else None for v in c], dtype=object)
                   for c in columns]  # fmt: skip
        seen_own: dict[tuple[object, ...], tuple[dict[str, str], str]] = {}
        for i, values in zip(at, zip(*columns, strict=True), strict=True):
            hit = seen_own.get(values)
            if hit is None:
                tags = _use_tags(dict(zip(use_cols, values, strict=True)))
                hit = seen_own[values] = (tags, use_kind(tags, own=True))
            own_tags[int(i)], own_kind[i] = hit  # one dict per tag set, only read
    at = np.flatnonzero(has_poi)
    if len(at):
        codes, uniq = pd.factorize(pois[at])
        tag_sets = [_poi_tags(p) for p in uniq]
        poi_kind[at] = np.array([use_kind(t, own=False) for t in tag_sets], dtype=object)[codes]
        poi_tags.update(zip(at.tolist(), [tag_sets[c] for c in codes.tolist()], strict=True))


def _per_distinct(values: np.ndarray, test: Callable[[Any], bool]) -> np.ndarray:
    """Return ``test`` of each of ``values`` (False where missing), each distinct one tested once."""
    codes, uniq = pd.factorize(values)
    # code -1 (missing) takes the False appended
    return np.array([*(bool(test(v)) for v in uniq), False], dtype=bool)[codes]


def _first_use_of(
    seen: dict[tuple[bool, tuple[tuple[str, str], ...]], str], tags: dict[str, str], own: bool
) -> str:
    """:func:`_first_use` ``(tags, "whole", own)``, each distinct tag set worked out once."""
    key = (own, tuple(tags.items()))
    found = seen.get(key)
    if found is None:
        found = seen[key] = _first_use(tags, "whole", own)
    return found


def classify_buildings(
    buildings: gpd.GeoDataFrame,
    landuse: gpd.GeoDataFrame | None = None,
    *,
    non_residential: frozenset[str] | set[str] | None = None,
) -> HousingDecision:
    """Decide which buildings house residents (the rules in the module docstring).

    Parameters
    ----------
    buildings
        Footprints with a ``building`` column (EPSG:4326 or any CRS) and, when read from
        OSM, the :data:`~geoapp.region.BUILDING_USE_KEYS` and
        :data:`~geoapp.region.BUILDING_POIS` columns.
    landuse
        Landuse polygons (residential ones are evidence, non-residential ones exclude).
    non_residential
        ``building`` values that never house residents (default :data:`NON_RESIDENTIAL`).
    """
    return _classify(buildings, landuse, non_residential=non_residential)[0]


def _classify(
    buildings: gpd.GeoDataFrame,
    landuse: gpd.GeoDataFrame | None = None,
    *,
    non_residential: frozenset[str] | set[str] | None = None,
) -> tuple[HousingDecision, CRS | None, gpd.GeoSeries | None, gpd.GeoSeries | None]:
    """:func:`classify_buildings`, with the local CRS, the footprints in it and their points.

    The footprints and representative points (None where not polygonal) are returned
    so that :func:`housing_buildings` need not work them out again.
    """
    non_res = frozenset(
        str(v).lower() for v in (NON_RESIDENTIAL if non_residential is None else non_residential)
    )
    n = len(buildings)
    empty = np.zeros(0, dtype=bool)
    if not n:
        none = HousingDecision(empty, empty, np.zeros(0, dtype=object),
                               np.zeros(0, dtype=object), empty)  # fmt: skip
        return none, None, None, None
    poly = polygonal_mask(buildings)
    tag = tag_values(buildings, "building", "yes").replace("", "yes")
    reason = np.full(n, "", dtype=object)
    detail = np.full(n, "", dtype=object)
    upper = np.zeros(n, dtype=bool)

    # 1. building values
    by_value = tag.isin(non_res).to_numpy() & poly
    reason[by_value] = "building"
    detail[by_value] = "building=" + tag.to_numpy()[by_value].astype(str)

    # 2-3. the building's own use and the POIs inside
    own_kind = np.full(n, "", dtype=object)
    poi_kind = np.full(n, "", dtype=object)
    use_cols = [k for k in BUILDING_USE_KEYS if k in buildings.columns]
    has_use = np.zeros(n, dtype=bool)
    for k in use_cols:  # tag_values(buildings, k) != "", worked out on the tagged rows only
        given = buildings[k].notna().to_numpy()
        if given.any():
            vals = buildings[k][given].astype("string").str.strip().fillna("")
            has_use[given] |= vals.to_numpy(dtype=object) != ""
    pois = (
        buildings[BUILDING_POIS].to_numpy(dtype=object)
        if BUILDING_POIS in buildings.columns
        else np.full(n, None, dtype=object)
    )
    has_poi = _per_distinct(pois, lambda v: isinstance(v, str) and bool(v.strip()))
    own_tags: dict[int, dict[str, str]] = {}
    poi_tags: dict[int, dict[str, str]] = {}
    _judge_uses(buildings, use_cols, has_use, pois, has_poi, own_tags, own_kind, poi_tags, poi_kind)
    care = (own_kind == "home") | (poi_kind == "home")
    explicit = (tag.isin(RESIDENTIAL_BUILDINGS).to_numpy() | care) & poly & ~by_value
    if "building:use" in buildings.columns:
        bu = tag_values(buildings, "building:use").to_numpy()
        res_use = _per_distinct(bu, lambda v: bool(set(v.split(";")) & RESIDENTIAL_USES))
        explicit |= res_use & poly & ~by_value
    open_ = poly & ~by_value & ~care
    whole_own = open_ & (own_kind == "whole")
    whole_poi = open_ & (poi_kind == "whole")
    ground = open_ & ((own_kind == "ground") | (poi_kind == "ground"))
    # an explicitly residential building keeps its upper floors whatever its use says
    upper |= explicit & ~care & (whole_own | whole_poi | ground)
    # an untagged one with a use filling it is no home
    by_tag = whole_own & ~explicit
    reason[by_tag] = "tag"
    first: dict[tuple[bool, tuple[tuple[str, str], ...]], str] = {}
    for i in np.flatnonzero(by_tag):
        detail[i] = _first_use_of(first, own_tags[int(i)], True)
    by_poi = whole_poi & ~explicit & ~by_tag
    reason[by_poi] = "poi"
    for i in np.flatnonzero(by_poi):
        detail[i] = _first_use_of(first, poi_tags[int(i)], False)
    upper |= ground & ~explicit & ~by_tag & ~by_poi

    # 4. non-residential landuse (measured at the representative point)
    crs = local_crs(buildings.loc[poly]) if poly.any() else None
    geoms = buildings.geometry
    loc = geoms.where(poly).to_crs(crs) if crs is not None else geoms
    reps = loc.representative_point() if crs is not None else loc
    res_lu = residential_landuse(landuse)
    in_res = np.zeros(n, dtype=bool)
    if len(res_lu) and crs is not None:
        idx = first_containing(reps.where(poly), res_lu.geometry.to_crs(crs))
        in_res = (idx >= 0) & poly
    other_lu = non_residential_landuse(landuse)
    if len(other_lu) and crs is not None:
        cand = poly & (reason == "") & ~explicit & ~in_res
        if cand.any():
            j = first_containing(reps.where(cand), other_lu.geometry.to_crs(crs))
            hit = (j >= 0) & cand
            reason[hit] = "landuse"
            detail[hit] = "landuse=" + other_lu["landuse"].to_numpy()[j[hit]].astype(str)

    # mixed use in a building of one tagged level: the use takes its only floor
    tagged = (
        pd.to_numeric(buildings["levels"], errors="coerce").to_numpy(dtype=float)
        if "levels" in buildings.columns
        else np.full(n, np.nan)
    )
    one_floor = upper & (reason == "") & np.isfinite(tagged) & (tagged > 0) & (tagged <= 1)
    for i in np.flatnonzero(one_floor):
        own_use = _first_use(own_tags.get(int(i), {}), "ground", True) or _first_use(
            own_tags.get(int(i), {}), "whole", True
        )
        reason[i] = "tag" if own_use else "poi"
        detail[i] = (
            own_use
            or _first_use(poi_tags.get(int(i), {}), "ground", False)
            or (_first_use(poi_tags.get(int(i), {}), "whole", False))
        )
    upper &= ~one_floor
    housing, warnings = _evidence(
        buildings, poly, explicit & ~one_floor, reason != "", in_res, bool(len(res_lu)), crs, loc
    )
    decision = HousingDecision(housing, in_res, reason, detail, upper & housing, tuple(warnings))
    if crs is None:
        return decision, None, None, None
    return decision, crs, loc, reps


def housing_mask(
    buildings: gpd.GeoDataFrame,
    landuse: gpd.GeoDataFrame | None = None,
    *,
    non_residential: frozenset[str] | set[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Decide which buildings house residents (:func:`classify_buildings`).

    Parameters
    ----------
    buildings
        Footprints with a ``building`` column (EPSG:4326 or any CRS).
    landuse
        Landuse polygons (residential ones are evidence).
    non_residential
        ``building`` values that never house residents (default :data:`NON_RESIDENTIAL`).

    Returns
    -------
    tuple
        ``(housing, in_residential, warnings)``: boolean arrays per building (houses
        residents; representative point inside residential landuse) and warnings.
    """
    d = classify_buildings(buildings, landuse, non_residential=non_residential)
    return d.housing, d.in_residential, list(d.warnings)


def _evidence(
    buildings: gpd.GeoDataFrame,
    poly: np.ndarray,
    explicit: np.ndarray,
    excluded: np.ndarray,
    in_res: np.ndarray,
    has_res_lu: bool,
    crs: object,
    loc: gpd.GeoSeries,
) -> tuple[np.ndarray, list[str]]:
    """Apply the evidence rules to buildings neither explicit homes nor excluded."""
    n = len(buildings)
    never = excluded | ~poly
    footprint = np.where(poly, loc.area.to_numpy(), 0.0) if crs is not None else np.zeros(n)
    untagged = ~explicit & ~never & (footprint >= MIN_HOME_FOOTPRINT_M2)
    warnings: list[str] = []
    if not explicit.any() and not has_res_lu:
        housing = explicit | (untagged & (footprint <= MAX_UNTAGGED_HOME_M2))
        if housing.any():  # none counted: the "no population" path says what to do
            warnings.append(
                f"The extract has no residential evidence (no building=house/apartments/... "
                f"and no landuse=residential): {int(housing.sum()):,} untagged buildings of "
                f"{MIN_HOME_FOOTPRINT_M2:g}–{MAX_UNTAGGED_HOME_M2:,.0f} m² were counted as "
                "housing. Give a census (--census) or a population raster (--population)."
            )
        return housing, warnings
    levels = (
        pd.to_numeric(buildings["levels"], errors="coerce").to_numpy(dtype=float)
        if "levels" in buildings.columns
        else np.full(n, np.nan)
    )
    tall = untagged & (np.nan_to_num(levels, nan=0.0) >= MULTI_STOREY_LEVELS)
    anchor = explicit | (untagged & (in_res | tall))
    near = np.zeros(n, dtype=bool)
    cand = np.flatnonzero(untagged & ~anchor)
    if len(cand) and anchor.any():
        a = gpd.GeoSeries(loc.to_numpy()[anchor], crs=crs)
        c = loc.to_numpy()[cand]
        hit = np.unique(a.sindex.query(c, predicate="dwithin", distance=NEAR_HOME_M)[0])
        near[cand[hit]] = True
    # clusters of house-sized untagged buildings (villages mapped without tags)
    cluster = np.zeros(n, dtype=bool)
    house_sized = untagged & ~anchor & ~near & (footprint <= MAX_UNTAGGED_HOME_M2)
    cand = np.flatnonzero(house_sized)
    if len(cand):
        peers = np.flatnonzero(house_sized | anchor | near)
        tree = shapely.STRtree(loc.to_numpy()[peers])
        ci, pj = tree.query(loc.to_numpy()[cand], predicate="dwithin", distance=NEAR_HOME_M)
        other = peers[pj] != cand[ci]
        counts = np.bincount(ci[other], minlength=len(cand))
        cluster[cand[counts >= CLUSTER_NEIGHBOURS]] = True
    housing = anchor | near | cluster
    skipped = untagged & ~housing
    if skipped.any():
        log.info(
            "%d untagged buildings without residential evidence not counted as housing",
            int(skipped.sum()),
        )
    if skipped.sum() >= max(50, 0.2 * untagged.sum()):
        warnings.append(
            f"{int(skipped.sum()):,} untagged buildings ({footprint[skipped].sum() / 1e6:.2f} "
            "km² of footprint) show no residential evidence (not in residential landuse, "
            f"fewer than {MULTI_STOREY_LEVELS} levels, not near a home, not in a cluster of "
            "house-sized buildings) and were not counted as housing. If many are homes, the "
            "population is too low there: give a census (--census) or a population raster "
            "(--population)."
        )
    return housing, warnings


#: Columns :func:`exclusion_table` adds to the data-quality table (``Demand.quality``).
EXCLUSION_COLUMNS = (
    "excluded_buildings",
    "excluded_by_building_value",
    "excluded_by_tag",
    "excluded_by_poi",
    "excluded_by_landuse",
    "mixed_use_buildings",
)


@dataclass(frozen=True)
class Homes:
    """The housing buildings of an extract and their floor area (one entry per building).

    Attributes
    ----------
    frame
        The housing buildings (rows of the buildings table; an empty EPSG:4326 frame
        with a ``building_id`` column when there are none).
    floor_area_m2
        Footprint (local projected CRS) × levels (levels − 1 for mixed use), m².
    ids
        ``building_id`` as str (``building/<n>`` when the table has no such column).
    points
        Representative point of each footprint (EPSG:4326 shapely geometries).
    warnings, assumptions
        Sentences for ``Demand.warnings`` / ``Demand.assumptions``.
    excluded
        The buildings that are no homes (:func:`classify_buildings`): ``building_id``,
        ``reason`` (:data:`EXCLUSION_REASONS`), ``detail`` and their representative
        point (EPSG:4326); mixed-use homes too, with reason ``"mixed"``.
    local
        The footprints of ``frame`` in a local projected CRS (None: not computed).
    local_points
        Their representative points in that CRS (``points`` before projecting back;
        None: not computed).
    in_residential
        Whether each representative point lies in residential landuse, measured in that
        CRS (as :func:`classify_buildings` found it; None: not known).
    """

    frame: gpd.GeoDataFrame
    floor_area_m2: np.ndarray
    ids: np.ndarray
    points: np.ndarray
    warnings: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()
    excluded: gpd.GeoDataFrame | None = None
    local: gpd.GeoSeries | None = None
    local_points: gpd.GeoSeries | None = None
    in_residential: np.ndarray | None = None


def _empty_excluded() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"building_id": pd.Series(dtype=object), "reason": pd.Series(dtype=object),
         "detail": pd.Series(dtype=object)},
        geometry=[],
        crs=WGS84,
    )  # fmt: skip


def housing_buildings(
    buildings: gpd.GeoDataFrame | None,
    landuse: gpd.GeoDataFrame | None,
    *,
    non_residential: frozenset[str] | set[str] | None = None,
    default_levels: float = DEFAULT_LEVELS,
    village_levels: float = VILLAGE_LEVELS,
    features: gpd.GeoDataFrame | None = None,
) -> Homes:
    """Select the buildings housing residents (:func:`classify_buildings`) and their floor area.

    Parameters
    ----------
    buildings
        Footprints (``building_id``, ``building``, ``levels``, geometry; the OSM use
        columns when read from OSM) or None.
    landuse
        Landuse polygons (residential ones are evidence, non-residential ones exclude).
    non_residential
        ``building`` values that never house residents (default :data:`NON_RESIDENTIAL`).
    default_levels
        Levels of a building without a usable ``levels`` value.
    village_levels
        The same in a village (:data:`VILLAGE_LEVELS`).
    features
        Feature table: its ``place`` rows tell which buildings lie in villages (None:
        none does).

    Raises
    ------
    InputError
        Buildings without a coordinate reference system.
    """
    warnings: list[str] = []
    assumptions: list[str] = []
    excluded = _empty_excluded()
    upper = np.zeros(0, dtype=bool)
    in_res: np.ndarray | None = None
    if buildings is not None and len(buildings):
        if buildings.crs is None:
            raise InputError("buildings have no coordinate reference system; set one (EPSG:4326)")
        d, d_crs, d_local, d_reps = _classify(buildings, landuse, non_residential=non_residential)
        warnings += d.warnings
        housing = d.housing
        out = (d.reason != "") | d.upper_only
        if out.any():
            sub = buildings.loc[out]
            excluded = gpd.GeoDataFrame(
                {
                    "building_id": _ids(sub),
                    "reason": np.where(d.reason[out] != "", d.reason[out], "mixed"),
                    "detail": d.detail[out],
                },
                geometry=_local_points(sub, out, d_crs, d_reps).to_crs(WGS84).to_numpy(),
                crs=WGS84,
            )
        hb = buildings.loc[housing]
        upper = d.upper_only[housing]
        if len(hb):
            local = _from_local(hb, housing, d_crs, d_local)
            hreps = _from_local(hb, housing, d_crs, d_reps)
            if local is not None and hreps is not None:  # measured in the CRS of both
                in_res = d.in_residential[housing]
    else:
        hb = gpd.GeoDataFrame({"building_id": []}, geometry=[], crs=WGS84)
        local = hreps = None
    note = exclusion_note(excluded)
    if note:
        assumptions.append(note)
    if not len(hb):
        return Homes(
            hb,
            np.zeros(0),
            np.zeros(0, dtype=object),
            np.zeros(0, dtype=object),
            tuple(warnings),
            tuple(assumptions),
            excluded,
        )
    if local is None:
        local = hb.geometry.to_crs(local_crs(hb))
    if hreps is None:
        hreps = local.representative_point()
    footprint = local.area.to_numpy()
    reps = hreps.to_crs(WGS84).to_numpy()
    levels = (
        pd.to_numeric(hb["levels"], errors="coerce").to_numpy(dtype=float)
        if "levels" in hb.columns
        else np.full(len(hb), np.nan)
    )
    missing = ~np.isfinite(levels) | (levels <= 0)
    village = np.zeros(len(hb), dtype=bool)
    if missing.any() and features is not None:
        village[missing] = place_class(reps[missing], features) == "village"
    levels = np.where(missing, np.where(village, float(village_levels), float(default_levels)),
                      levels)  # fmt: skip
    if missing.any():
        where = f" ({int(village.sum())} in villages: {village_levels:g})" if village.any() else ""
        assumptions.append(
            f"{int(missing.sum())} of {len(hb)} housing buildings have no levels; "
            f"assumed {default_levels:g}{where}"
        )
    if upper.any():
        levels = np.where(upper, np.maximum(levels - 1.0, 0.0), levels)
    floor = footprint * levels
    keep = floor > 0
    if not keep.all():  # mixed use with one level: the use takes the only floor
        hb, floor, reps, local = hb.loc[keep], floor[keep], reps[keep], local.loc[keep]
        hreps = hreps.loc[keep]
        in_res = in_res[keep] if in_res is not None else None
    bid = _ids(hb)
    return Homes(
        hb, floor, bid, reps, tuple(warnings), tuple(assumptions), excluded, local, hreps, in_res
    )


def _from_local(
    rows: gpd.GeoDataFrame, mask: np.ndarray, crs: CRS | None, per_building: gpd.GeoSeries | None
) -> gpd.GeoSeries | None:
    """Return ``per_building[mask]`` if it is what ``rows`` (``buildings[mask]``) would give.

    ``per_building`` holds a value of every building in ``crs``, as :func:`_classify`
    projected them (footprints or representative points); it serves when
    ``local_crs(rows)`` is that CRS and every row has one (None otherwise). The same
    numbers as projecting ``rows`` again: a projection maps each vertex on its own.
    """
    if crs is None or per_building is None or local_crs(rows) != crs:
        return None
    mine = per_building.loc[mask]
    return mine if bool(mine.notna().all()) else None


def _local_points(
    rows: gpd.GeoDataFrame, mask: np.ndarray, crs: CRS | None, reps: gpd.GeoSeries | None
) -> gpd.GeoSeries:
    """Return the representative points of ``rows`` (``buildings[mask]``), local CRS."""
    found = _from_local(rows, mask, crs, reps)
    if found is not None:
        return found
    return rows.geometry.to_crs(local_crs(rows)).representative_point()


def _ids(frame: pd.DataFrame) -> np.ndarray:
    if "building_id" in frame.columns:
        return frame["building_id"].astype(object).fillna("").astype(str).to_numpy()
    return np.array([f"building/{i}" for i in range(len(frame))], dtype=object)


def exclusion_note(excluded: gpd.GeoDataFrame | None) -> str:
    """Return the sentence counting the buildings that are no homes, by reason ("" if none).

    Lists the three commonest values or tags of each reason.
    """
    if excluded is None or not len(excluded):
        return ""
    reasons = excluded["reason"].to_numpy(dtype=object)
    label = {
        "building": "by their building value",
        "tag": "by their own tags",
        "poi": "by a POI inside",
        "landuse": "in non-residential landuse",
    }
    parts = []
    for r in EXCLUSION_REASONS:
        m = reasons == r
        if m.any():
            top = excluded.loc[m, "detail"].value_counts().head(3)
            ex = ", ".join(f"{k} {v:,}" for k, v in top.items())
            parts.append(f"{int(m.sum()):,} {label[r]} ({ex})")
    n_ex = int(np.isin(reasons, EXCLUSION_REASONS).sum())
    sentence = f"{n_ex:,} non-residential buildings hold no residents: " + "; ".join(parts)
    mixed = int((reasons == "mixed").sum())
    if mixed:
        sentence += (
            f"; {mixed:,} mixed-use buildings (shops or offices below) keep their upper floors"
        )
    return sentence if n_ex else sentence.split(": ", 1)[1].lstrip("; ")


def exclusion_table(
    excluded: gpd.GeoDataFrame | None,
    districts: np.ndarray,
    bgeo: gpd.GeoSeries | None,
) -> pd.DataFrame:
    """Return per district the buildings that are no homes, by reason (:data:`EXCLUSION_COLUMNS`).

    Parameters
    ----------
    excluded
        ``Homes.excluded``.
    districts
        District names by position, the outside-districts name last.
    bgeo
        District boundaries (EPSG:4326, positions as in ``districts``); None: one district.

    Returns
    -------
    pandas.DataFrame
        Index ``district``; integer columns :data:`EXCLUSION_COLUMNS`.
    """
    cols = list(EXCLUSION_COLUMNS)
    if excluded is None or not len(excluded):
        return pd.DataFrame(columns=cols, index=pd.Index([], name="district"), dtype="int64")
    if bgeo is not None:
        k = first_containing(excluded.geometry, bgeo)
        name = districts[np.where(k < 0, len(districts) - 1, k)]
    else:
        name = np.full(len(excluded), districts[0], dtype=object)
    reason = excluded["reason"].to_numpy(dtype=object)
    df = pd.DataFrame(
        {
            "district": name,
            "excluded_buildings": np.isin(reason, EXCLUSION_REASONS).astype(np.int64),
            "excluded_by_building_value": (reason == "building").astype(np.int64),
            "excluded_by_tag": (reason == "tag").astype(np.int64),
            "excluded_by_poi": (reason == "poi").astype(np.int64),
            "excluded_by_landuse": (reason == "landuse").astype(np.int64),
            "mixed_use_buildings": (reason == "mixed").astype(np.int64),
        }
    )
    return df.groupby("district", sort=False)[cols].sum()


def building_points(homes: Homes, m2_per_person: float) -> gpd.GeoDataFrame | None:
    """Return one demand point per housing building: floor area / ``m2_per_person``.

    EPSG:4326 points with ``building_id``, ``floor_area_m2``, ``pop``, ``pop_source``
    (``"building"``) and ``_src`` (the building id); None when there are no homes.
    """
    if not len(homes.frame):
        return None
    return gpd.GeoDataFrame(
        {
            "building_id": homes.ids,
            "floor_area_m2": homes.floor_area_m2,
            "pop": homes.floor_area_m2 / m2_per_person,
            "pop_source": "building",
            "_src": homes.ids,
        },
        geometry=homes.points,
        crs=WGS84,
    )


__all__ = [
    "CARE_FACILITIES",
    "CLUSTER_NEIGHBOURS",
    "DEFAULT_LEVELS",
    "EXCLUSION_COLUMNS",
    "EXCLUSION_REASONS",
    "GROUND_USES",
    "HISTORIC_HOMES",
    "HOME_USES",
    "OWN_USE_KEYS",
    "OWN_WHOLE_KEYS",
    "POI_GROUND_USES",
    "RESIDENTIAL_USES",
    "VILLAGE_LEVELS",
    "WHOLE_USES",
    "HousingDecision",
    "classify_buildings",
    "exclusion_note",
    "exclusion_table",
    "use_kind",
    "MAX_UNTAGGED_HOME_M2",
    "MIN_HOME_FOOTPRINT_M2",
    "MULTI_STOREY_LEVELS",
    "NEAR_HOME_M",
    "NON_RESIDENTIAL",
    "RESIDENTIAL_BUILDINGS",
    "Homes",
    "building_points",
    "housing_buildings",
    "housing_mask",
]
