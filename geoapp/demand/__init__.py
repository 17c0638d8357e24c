"""Demand: residents per building, per unbuilt residential landuse, or per raster cell.

:func:`estimate_population` returns a :class:`Demand` (a frozen dataclass): the demand
points plus how they were made (method, profile, warnings, a data-quality table per
district, the zone method and its thresholds). Its tuning parameters are a frozen
:class:`DemandOptions`; the frames are explicit arguments. Nothing travels in ``attrs``.

Modules (each step of the pipeline lives with the rules it applies):

* :mod:`geoapp.demand.profile`: demand profiles (floor area per person, share aged 60+,
  landuse density), chosen from the location, and the share aged 60+ per point (by
  country, UN World Population Prospects 2024);
* :mod:`geoapp.demand.housing`: which buildings house residents (homes only: no hotels,
  churches, casinos ...; mixed use keeps its upper floors) and their floor area;
* :mod:`geoapp.demand.landuse`: residential landuse, its unbuilt part and its points (at
  the density of the homes around or of the settlement's class);
* :mod:`geoapp.demand.scaling`: districts and control totals (census, boundary tags);
* :mod:`geoapp.demand.settlements`: place nodes (radii, tags) and each point's
  settlement and zone type;
* :mod:`geoapp.demand.checks`: place and street checks, the data-quality table;
* :mod:`geoapp.demand.estimate`: the pipeline, :class:`DemandOptions`, :class:`Demand`;
* :mod:`geoapp.demand.frames`: small frame helpers shared by the modules above.

H3 helpers (``h3_cells``, ``h3_polygons``, ``aggregate_h3``) are in :mod:`geoapp.hexes`.
"""

from geoapp.demand.checks import CHECK_FACTOR, POP_SOURCES, QUALITY_COLUMNS, check_places
from geoapp.demand.estimate import DEMAND_COLUMNS, Demand, DemandOptions, estimate_population
from geoapp.demand.housing import (
    DEFAULT_LEVELS,
    NON_RESIDENTIAL,
    RESIDENTIAL_BUILDINGS,
    VILLAGE_LEVELS,
    classify_buildings,
    housing_mask,
)
from geoapp.demand.landuse import LANDUSE_DENSITY_BY_CLASS, place_class, unbuilt_landuse
from geoapp.demand.profile import (
    CHINA_BBOX,
    DEFAULT_M2_PER_PERSON,
    DEFAULT_SHARE_60PLUS,
    LANDUSE_DENSITY_PER_KM2,
    PROFILE_DIR,
    country_ages,
    load_profile,
    profile_for,
)
from geoapp.demand.settlements import PLACE_RADIUS_M

__all__ = [
    "CHECK_FACTOR",
    "CHINA_BBOX",
    "DEFAULT_LEVELS",
    "DEFAULT_M2_PER_PERSON",
    "DEFAULT_SHARE_60PLUS",
    "DEMAND_COLUMNS",
    "LANDUSE_DENSITY_BY_CLASS",
    "LANDUSE_DENSITY_PER_KM2",
    "NON_RESIDENTIAL",
    "PLACE_RADIUS_M",
    "POP_SOURCES",
    "PROFILE_DIR",
    "QUALITY_COLUMNS",
    "RESIDENTIAL_BUILDINGS",
    "VILLAGE_LEVELS",
    "Demand",
    "DemandOptions",
    "check_places",
    "classify_buildings",
    "country_ages",
    "estimate_population",
    "housing_mask",
    "load_profile",
    "place_class",
    "profile_for",
    "unbuilt_landuse",
]
