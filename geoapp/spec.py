"""The one region recipe: a frozen, JSON-serialisable :class:`RegionSpec`.

Every front end describes the region it analyses the same way: the command line's
region options (``--region``/``--osm``/``--place``/``--gpkg``, ``--boundaries`` ...),
a batch run (``[[run]]`` keys), the ``region`` record of a report's ``report.json``
(what ``geoapp verify`` re-loads) and the app's uploads all build a :class:`RegionSpec`
and load it with :func:`geoapp.workflow.load_region`::

    >>> from geoapp.spec import RegionSpec
    >>> spec = RegionSpec(osm="city.osm.pbf", facilities=["homes.csv:elderly_care:gcj02"])
    >>> spec.source, spec.facilities[0].coords
    ('osm', 'gcj02')
    >>> spec.to_json()
    '{"osm": "city.osm.pbf", "facilities": [["homes.csv", "elderly_care", "gcj02"]]}'
    >>> RegionSpec.from_json(spec.to_json()) == spec
    True

The spec holds names and paths only (never frames), so it can be written to JSON or
TOML and read back; files are read when the region is loaded, not here. This module
imports nothing heavy (``import geoapp.spec`` does not load geopandas).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from geoapp.errors import InputError

#: Named regions: ``RegionSpec(region="demo")`` is the embedded synthetic demo.
PRESETS = ("demo",)
#: The keys that name a region's source; a spec has exactly one (none: the demo).
SOURCE_KEYS = ("region", "osm", "place", "gpkg")
#: Default of ``timeout``: seconds a whole ``place`` download may take (``--timeout``).
DEFAULT_TIMEOUT_S = 180.0
#: Default of ``facility_max_street_m``: largest distance (m) of a table's facility from
#: a street.
DEFAULT_MAX_STREET_M = 500.0

#: Command-line option of each key, named in error messages beside the key.
OPTIONS = {
    "region": "--region",
    "osm": "--osm FILE",
    "place": "--place NAME",
    "gpkg": "--gpkg FILE",
    "boundaries": "--boundaries FILE",
    "admin_level": "--admin-level N",
    "census": "--census CSV",
    "zones": "--zones TOML",
    "population": "--population FILE.tif",
    "facilities": "--facilities FILE:LAYER:COORDS",
    "layer_files": "--layer-file PATH",
    "timeout": "--timeout SECONDS",
    "facility_max_street_m": "facility_max_street_m",
    "share_60plus": "--share-60plus SHARE",
    "age_rasters": "--age-rasters DIR_OR_GLOB",
    "study_area": "--study-area FILE|NAMES",
}
_PATH_KEYS = (
    "osm", "gpkg", "boundaries", "census", "zones", "population", "study_area", "age_rasters",
)  # fmt: skip
_TEXT_KEYS = ("region", "place", *_PATH_KEYS)


class FacilityTable(NamedTuple):
    """A facility table to add to a region: ``FILE:LAYER:COORDS`` on the command line.

    Attributes
    ----------
    path
        CSV or Excel file (``FILE.xlsx#Sheet2`` picks a sheet).
    layer
        Id of the layer its rows belong to.
    coords
        Datum of its coordinates: ``wgs84``, ``gcj02`` or ``bd09``.
    """

    path: str
    layer: str
    coords: str = "wgs84"

    def __str__(self) -> str:
        return f"{self.path}:{self.layer}:{self.coords}"


def parse_facility_spec(text: str, *, where: str = "--facilities") -> FacilityTable:
    """Parse ``FILE:LAYER:COORDS`` (the file may hold colons, e.g. ``C:/x.csv``).

    Parameters
    ----------
    text
        The option's value, e.g. ``homes.csv:elderly_care:gcj02``.
    where
        What the message names (an option, a key, ``entry 2`` of a list).

    Raises
    ------
    InputError
        ``text`` does not have three parts.

    Examples
    --------
    >>> parse_facility_spec("C:/data/homes.csv:elderly_care:gcj02")
    FacilityTable(path='C:/data/homes.csv', layer='elderly_care', coords='gcj02')
    """
    parts = str(text).rsplit(":", 2)
    if len(parts) != 3:
        raise InputError(
            f"{where} {text!r}: use FILE:LAYER:COORDS, e.g. homes.csv:elderly_care:gcj02"
        )
    return FacilityTable(*parts)


def _facility(item: Any, where: str) -> FacilityTable:
    """Return one facility table from a string, a 2- or 3-sequence or a mapping."""
    if isinstance(item, FacilityTable):
        return item
    if isinstance(item, str):
        return parse_facility_spec(item, where=where)
    if isinstance(item, Mapping) and {"layer"} <= set(item) <= {"file", "path", "layer", "coords"}:
        path = item.get("path", item.get("file"))
        return FacilityTable(path, item["layer"], item.get("coords", "wgs84"))
    if isinstance(item, list | tuple) and len(item) in (2, 3):
        return FacilityTable(*item)
    raise InputError(
        f"{where} {item!r}: give FILE:LAYER:COORDS, [file, layer, coords] or "
        "{file, layer, coords}"
    )


@dataclass(frozen=True)
class RegionSpec:
    """Everything that defines a study region, as names and paths (JSON-able).

    Exactly one source: ``region`` (a preset: ``"demo"``), ``osm``, ``place`` or
    ``gpkg``; with none the spec is the demo (``region="demo"``). The other keys are
    the user's files applied on top, as :func:`geoapp.workflow.load_region` documents.
    Paths may be given as :class:`os.PathLike`; they are kept as strings.

    Attributes
    ----------
    region
        A preset name (:data:`PRESETS`).
    osm, place, gpkg
        A local ``.osm``/``.osm.pbf``/``.osm.bz2`` extract, a place name fetched from
        OpenStreetMap, or a GeoPackage written by ``geoapp fetch``.
    boundaries
        District boundaries (``PATH[#LAYER][:DATUM]``), ``"beijing"`` (16 districts)
        or ``"beijing-subdistricts"`` (343 街道/乡镇).
    admin_level
        OSM ``admin_level`` of the districts (1 to 12).
    census
        District population CSV or ``"beijing"``.
    zones
        Zone mapping: ``"beijing"``, a TOML file or ``"density"``.
    population
        A population GeoTIFF used as the demand source.
    facilities
        Facility tables added to the region (:class:`FacilityTable`; strings
        ``FILE:LAYER:COORDS``, ``[file, layer, coords]`` lists and ``{file, layer,
        coords}`` tables are accepted and converted).
    layer_files
        Extra layer TOML files of the catalog the region is read with.
    timeout
        Seconds a whole ``place`` download may take.
    facility_max_street_m
        Largest distance (m) from a table's facility to the nearest street.
    share_60plus
        Share of residents aged 60+ (0..1) where no census gives it (None: the share
        of the country each point lies in, UN World Population Prospects 2024).
    age_rasters
        WorldPop age/sex rasters (a folder or a glob of ``chn_f_60_2020.tif`` ...):
        the share aged 60+ of each demand point's cell (not with ``share_60plus``).
    study_area
        The part of the region analysed (:mod:`geoapp.study_area`): a polygon file
        (``PATH[#LAYER][:DATUM]``) or comma-separated district / 街道 names
        (``"海淀区"``, ``"学院路街道,清华园街道"``); the region is cut to it and
        named after it.

    Raises
    ------
    InputError
        One error listing every bad key (named with its command-line option) and
        what to give instead.

    Examples
    --------
    >>> RegionSpec().to_dict()
    {'region': 'demo'}
    >>> spec = RegionSpec.from_dict({"place": "Dongcheng, Beijing", "timeout": 60})
    >>> spec.source, spec.timeout
    ('place', 60.0)
    >>> RegionSpec(region="demo", admin_level=20)
    Traceback (most recent call last):
    ...
    geoapp.errors.InputError: The region recipe has 1 problem(s):
      - key 'admin_level' (--admin-level N): 20 must be a whole number from 1 to 12 (e.g. 6)
    """

    region: str | None = None
    osm: str | None = None
    place: str | None = None
    gpkg: str | None = None
    boundaries: str | None = None
    admin_level: int | None = None
    census: str | None = None
    zones: str | None = None
    population: str | None = None
    facilities: tuple[FacilityTable, ...] = ()
    layer_files: tuple[str, ...] = ()
    timeout: float = DEFAULT_TIMEOUT_S
    facility_max_street_m: float = DEFAULT_MAX_STREET_M
    share_60plus: float | None = None
    study_area: str | None = None
    age_rasters: str | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []

        def bad(key: str, what: str) -> None:
            problems.append(f"key '{key}' ({OPTIONS[key]}): {what}")

        def put(key: str, value: Any) -> None:
            object.__setattr__(self, key, value)

        for key in _TEXT_KEYS:
            value = getattr(self, key)
            if isinstance(value, os.PathLike):
                value = os.fspath(value)
                put(key, value)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                bad(key, f"{value!r} must be a non-empty string")
        sources = [k for k in SOURCE_KEYS if getattr(self, k) is not None]
        if not sources:
            put("region", "demo")
        elif len(sources) > 1:
            bad(sources[1], f"a region has one source; this one sets {', '.join(sources)}")
        if isinstance(self.region, str) and self.region not in PRESETS:
            bad("region", f"{self.region!r} is not a named region; use {', '.join(PRESETS)}")
        level = self.admin_level
        if level is not None and (
            not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 12
        ):
            bad("admin_level", f"{level!r} must be a whole number from 1 to 12 (e.g. 6)")
        for key in ("timeout", "facility_max_street_m"):
            value = getattr(self, key)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value <= 0
            ):
                bad(key, f"{value!r} must be a positive number")
            else:
                put(key, float(value))
        share = self.share_60plus
        if share is not None:
            if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
                bad("share_60plus", f"{share!r} must be a share from 0 to 1 (e.g. 0.3)")
            else:
                put("share_60plus", float(share))
        tables = self.facilities
        if isinstance(tables, str | Mapping) or not isinstance(tables, Iterable):
            bad("facilities", f"{tables!r} must be a list of facility tables")
            tables = ()
        parsed = []
        for j, item in enumerate(tables, start=1):
            try:
                table = _facility(item, f"entry {j}")
            except InputError as exc:
                bad("facilities", str(exc))
                continue
            table = FacilityTable(
                *(os.fspath(v) if isinstance(v, os.PathLike) else v for v in table)
            )
            if not all(isinstance(v, str) and v.strip() for v in table):
                bad(
                    "facilities", f"entry {j} {tuple(table)!r}: file, layer and coords must be text"
                )
                continue
            parsed.append(table)
        put("facilities", tuple(parsed))
        files = self.layer_files
        if isinstance(files, str | os.PathLike) or not isinstance(files, Iterable):
            bad("layer_files", f"{files!r} must be a list of layer TOML paths")
            files = ()
        files = tuple(os.fspath(f) if isinstance(f, os.PathLike) else f for f in files)
        if not all(isinstance(f, str) and f.strip() for f in files):
            bad("layer_files", f"{list(files)!r} must be a list of layer TOML paths")
        put("layer_files", files)
        if problems:
            raise InputError(f"The region recipe has {len(problems)} problem(s):", problems)

    # ---------------------------------------------------------------- views

    @property
    def source(self) -> str:
        """``"demo"`` (a preset's name), ``"osm"``, ``"place"`` or ``"gpkg"``."""
        for key in ("osm", "place", "gpkg"):
            if getattr(self, key) is not None:
                return key
        return str(self.region)

    def replace(self, **changes: Any) -> RegionSpec:
        """Return a copy with ``changes`` (validated again).

        Setting another source clears the current one: ``spec.replace(osm="x.pbf")``
        of a demo spec is an ``osm`` spec.
        """
        if any(changes.get(k) is not None for k in SOURCE_KEYS):
            changes = {**{k: None for k in SOURCE_KEYS}, **changes}
        return dataclasses.replace(self, **changes)

    # ---------------------------------------------------------------- JSON

    def to_dict(self) -> dict[str, Any]:
        """Return the spec as plain JSON values, leaving out keys at their default.

        The source key is always there (``{"region": "demo"}`` for the demo);
        facility tables are ``[path, layer, coords]`` lists.
        """
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in SOURCE_KEYS and value is not None:
                out[f.name] = value
            elif value == f.default or value == ():
                continue
            elif f.name == "facilities":
                out[f.name] = [list(t) for t in value]
            elif f.name == "layer_files":
                out[f.name] = list(value)
            else:
                out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RegionSpec:
        """Build a spec from :meth:`to_dict`'s form (unknown keys are named in the error)."""
        if isinstance(data, RegionSpec):
            return data
        if not isinstance(data, Mapping):
            raise InputError(f"A region recipe must be a table of keys, not {data!r}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(
                "The region recipe has unknown key(s):",
                [f"key '{k}': unknown; allowed: {', '.join(known)}" for k in unknown],
            )
        return cls(**dict(data))

    def to_json(self, **kwargs: Any) -> str:
        """Return :meth:`to_dict` as JSON text (``kwargs`` go to :func:`json.dumps`)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    @classmethod
    def from_json(cls, text: str) -> RegionSpec:
        """Build a spec from :meth:`to_json`'s text."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise InputError(f"A region recipe must be JSON text ({exc})") from None
        return cls.from_dict(data)

    @classmethod
    def from_load_args(cls, args: Mapping[str, Any], layer_files: Iterable[str] = ()) -> RegionSpec:
        """Build a spec from ``load_region`` keywords (the ``region_args`` of older reports).

        ``source`` becomes ``region`` (only for a preset), ``facility_tables``
        becomes ``facilities``; ``layer_files`` is the report's own list.
        """
        data = {k: v for k, v in dict(args).items() if v not in (None, "", [], ())}
        source = data.pop("source", None)
        if source in PRESETS and not any(k in data for k in ("osm", "place", "gpkg")):
            data["region"] = source
        if "facility_tables" in data:
            data["facilities"] = data.pop("facility_tables")
        files = list(layer_files)
        if files:
            data["layer_files"] = files
        return cls.from_dict(data)


def as_spec(value: RegionSpec | str | Mapping[str, Any]) -> RegionSpec:
    """Return ``value`` as a :class:`RegionSpec`: a spec, a preset name or a dict.

    Raises
    ------
    InputError
        An unknown preset (naming the presets) or a bad dict.
    """
    if isinstance(value, RegionSpec):
        return value
    if isinstance(value, str):
        return RegionSpec(region=value)
    return RegionSpec.from_dict(value)


__all__ = [
    "DEFAULT_MAX_STREET_M",
    "DEFAULT_TIMEOUT_S",
    "PRESETS",
    "SOURCE_KEYS",
    "FacilityTable",
    "RegionSpec",
    "as_spec",
    "parse_facility_spec",
]
