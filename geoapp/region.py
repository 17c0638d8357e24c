"""The :class:`Region` bundle every source produces (see docs/architecture.md)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from geoapp.styles import BROAD_ZONE_TYPES, ZONE_ORDER

WGS84 = "EPSG:4326"

#: Tag keys every feature table carries as columns (more may be present).
FEATURE_TAG_KEYS = (
    "amenity",
    "social_facility",
    "social_facility:for",
    "community_centre",
    "community_centre:for",
    "healthcare",
    "shop",
    "historic",
    "heritage",
    "boundary",
    "protect_class",
    "leisure",
    "tourism",
    "office",
    "place",
    "population",
)

BOUNDARY_COLUMNS = ("district", "district_code", "zone_type", "zone_fine")
#: Columns of ``Region.admin_areas``: the administrative boundaries complete in the data,
#: at every level, that may control the demand (geometry last). ``osm_id`` is
#: ``"relation/<id>"``; ``admin_level`` a string; ``population`` the parsed tag (NaN when
#: absent); ``centre`` and ``label`` the comma-separated ``"node/<id>"`` of its
#: ``admin_centre`` and of its ``label`` members (a capital is the admin centre of its
#: country, not the country: only a label member names the area's own place).
ADMIN_AREA_COLUMNS = ("osm_id", "name", "admin_level", "population", "centre", "label")
NODE_COLUMNS = ("node_id",)
EDGE_COLUMNS = ("u", "v", "length_m", "highway", "name")
BUILDING_COLUMNS = ("building_id", "building", "levels", "name")
LANDUSE_COLUMNS = ("landuse",)
#: Tag keys of a building's own use that the OSM readers carry as ``buildings`` columns
#: (str or None) beside :data:`BUILDING_COLUMNS`; :data:`BUILDING_POIS` holds the same
#: keys of the POI nodes inside the footprint. :mod:`geoapp.demand.housing` reads both
#: to keep non-residential buildings out of the homes.
BUILDING_USE_KEYS = (
    "amenity", "tourism", "historic", "office", "shop", "leisure", "military", "man_made",
    "craft", "healthcare", "aeroway", "social_facility", "building:use",
)  # fmt: skip
#: ``buildings`` column: the ``key=value`` tags (keys of :data:`BUILDING_USE_KEYS`) of
#: the nodes inside the footprint, sorted and joined by ``;`` (None: no such node).
BUILDING_POIS = "pois"
#: ``landuse`` values the OSM readers keep: residential (homes) and the non-residential
#: uses a building inside of is no home (OSM wiki, Key:landuse).
LANDUSE_VALUES = (
    "residential", "industrial", "commercial", "retail", "military", "cemetery",
    "religious", "education", "institutional", "railway", "port", "garages", "depot",
    "landfill", "quarry",
)  # fmt: skip
ZONE_TYPES = ZONE_ORDER  # one source: geoapp.styles
#: Per-point settlement classes (Degree-of-Urbanisation style, see geoapp.zones).
SETTLEMENT_TYPES = BROAD_ZONE_TYPES
#: District name of demand that lies outside every district boundary (kept, never dropped).
OUTSIDE_DISTRICTS = "(outside districts)"
#: Column of ``Region.boundaries``: the district's land inside the data's extent (km²),
#: set when the data covers only part of the districts (``geoapp.inputs``). Summaries
#: count it as the district's area, so areas and densities are those of the part analysed.
DATA_AREA_COLUMN = "data_area_km2"
#: Key of ``Region.meta`` holding plain-sentence data warnings raised by sources (list[str]).
META_WARNINGS = "warnings"
#: Key of ``Region.meta`` holding the data's date (:attr:`Region.data_date`).
META_DATA_DATE = "data_date"
#: Key of ``Region.meta`` holding the box an OSM file declares it covers (XML ``<bounds>``,
#: PBF header bbox) as ``[minx, miny, maxx, maxy]`` (EPSG:4326), None when it declares none.
#: Exports hold whole ways running past it; the demand's data extent is clipped to it.
META_DECLARED_BOUNDS = "declared_bounds"
#: A GeoPackage layer mixing points and shapes is written as points plus one layer per
#: kind of shape (``geoapp.export.split_geometry_types``); this column (the row's
#: position) joins them, and these are the shape layers' name suffixes.
GPKG_ROW = "geoapp_row"
GPKG_SHAPE_LAYERS = {"polygon": "footprints", "line": "lines", "collection": "collections"}

SYNTHETIC_LABEL = "synthetic demo data"


def empty_gdf(columns: tuple[str, ...] | list[str]) -> gpd.GeoDataFrame:
    """Return an empty GeoDataFrame in EPSG:4326 with the given columns."""
    return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in columns}, geometry=[], crs=WGS84)


@dataclass(frozen=True, eq=False)
class Region:
    """Everything loaded for one study area, every frame in EPSG:4326.

    Immutable: fields cannot be reassigned (use :meth:`with_` for a changed copy) and no
    step changes the frames in place. Column contracts are in docs/architecture.md.

    ``zone_method`` says how zone types are decided: ``None`` (the districts' own
    ``zone_type``), ``"density"`` (every demand point takes the class of the settlement
    it lies in, see :func:`geoapp.zones.classify_settlements`) or ``"mapping:<name>"``
    (a zone mapping already applied to ``boundaries``). ``population_raster`` is the
    path of a population GeoTIFF used as the demand source (``--population``).
    ``admin_areas`` (:data:`ADMIN_AREA_COLUMNS`) are the admin boundaries complete in a
    local extract that tag ``population`` or hold a place node carrying it: the demand
    estimate's control totals (not exported; empty for other sources).
    """

    name: str
    source: str
    boundaries: gpd.GeoDataFrame
    features: gpd.GeoDataFrame
    nodes: gpd.GeoDataFrame = field(default_factory=lambda: empty_gdf(NODE_COLUMNS))
    edges: gpd.GeoDataFrame = field(default_factory=lambda: empty_gdf(EDGE_COLUMNS))
    buildings: gpd.GeoDataFrame = field(default_factory=lambda: empty_gdf(BUILDING_COLUMNS))
    landuse: gpd.GeoDataFrame = field(default_factory=lambda: empty_gdf(LANDUSE_COLUMNS))
    census: pd.DataFrame | None = None
    synthetic: bool = False
    meta: dict[str, Any] = field(default_factory=dict)
    zone_method: str | None = None
    population_raster: str | None = None
    admin_areas: gpd.GeoDataFrame = field(default_factory=lambda: empty_gdf(ADMIN_AREA_COLUMNS))
    #: When the data was current: ``YYYY-MM-DDTHH:MM:SSZ`` (UTC) from the OSM file's header
    #: or its newest object (``meta["data_date_source"]`` says which); None when unknown
    #: or synthetic. Given as a field or kept in ``meta["data_date"]`` (a cached region).
    data_date: str | None = None

    def __post_init__(self) -> None:
        if self.data_date is None and self.meta.get(META_DATA_DATE):
            object.__setattr__(self, "data_date", str(self.meta[META_DATA_DATE]))

    @property
    def label(self) -> str:
        """Display name, marked as synthetic where it is."""
        if self.synthetic and SYNTHETIC_LABEL not in self.name:
            return f"{self.name} ({SYNTHETIC_LABEL})"
        return self.name

    def extent(self) -> gpd.GeoDataFrame:
        """Return the union of the district boundaries (or the data bbox) as one row."""
        if len(self.boundaries):
            geom = self.boundaries.geometry.union_all()
        else:
            frames = [f for f in (self.edges, self.buildings, self.features) if len(f)]
            bounds = pd.concat([f.geometry.bounds for f in frames]) if frames else None
            if bounds is None:
                return gpd.GeoDataFrame(geometry=[], crs=WGS84)
            geom = box(bounds.minx.min(), bounds.miny.min(), bounds.maxx.max(), bounds.maxy.max())
        return gpd.GeoDataFrame({"name": [self.name]}, geometry=[geom], crs=WGS84)

    def counts(self) -> dict[str, int]:
        """Return the number of rows of each frame (for logs and metadata)."""
        return {name: len(frame) for name, frame in self.layers().items()}

    def with_(self, **changes: Any) -> Region:
        """Return a copy with some fields replaced."""
        return replace(self, **changes)

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Return the frames by name, for export."""
        return {
            "boundaries": self.boundaries,
            "features": self.features,
            "nodes": self.nodes,
            "edges": self.edges,
            "buildings": self.buildings,
            "landuse": self.landuse,
        }


def whole_region_boundary(region_name: str, geometry: BaseGeometry) -> gpd.GeoDataFrame:
    """Return a one-row boundaries frame for data with no district boundaries."""
    return gpd.GeoDataFrame(
        {
            "district": [region_name],
            "district_code": [""],
            "zone_type": ["unknown"],
            "zone_fine": [""],
        },
        geometry=[geometry],
        crs=WGS84,
    )
