"""The layer catalog: service types defined as TOML files.

A layer file describes one service type (``elderly_care``, ``pharmacy`` ...), the
population it serves, the life-circle radii to report and how to recognise its features
among OpenStreetMap-style tags. The shipped catalog is package data,
``geoapp/data/layers/`` (read with :mod:`importlib.resources`, so it works from a wheel
or ``pip install .``); the repository's ``layers/`` is a symbolic link to that folder, so
planners edit one copy. A planner adds a service type by dropping a new file there, by
pointing ``$GEOAPP_LAYERS`` at another folder, or by passing ``extra_files``
(``--layer-file PATH`` on the command line; a file whose id is a shipped layer's
overrides it, with a warning).

Schema (``id``, ``label``, ``population`` and ``match`` are required, and the reach:
either ``radii_m`` and ``target_m`` in metres, or ``minutes`` and ``target_min`` in
walking minutes; the others optional)::

    id = "pharmacy"
    label = { en = "Pharmacies", zh = "药店" }
    population = "total"            # "total" or "age_60plus"
    radii_m = [300, 500, 1000]      # ascending, whole metres, at most 50 000 (MAX_RADIUS_M)
    target_m = 500                  # distance a resident should be within
    # ... or, for a life circle written in minutes (GB 50180-2018: 5, 10, 15 minutes):
    # minutes = [5, 10, 15]         # ascending walking times; reach = minutes x speed
    # target_min = 15               # time a resident should be within
    # speed_kmh = 3.6               # default walking speed of the layer's residents
    #                               # (km/h; default: the adult preset, 4.5)
    target_share = 0.85             # share of the layer's residents that should be
                                    # within target_m (0..1; default 0.85)
    [capacity]                      # optional: what a facility holds (geoapp supply)
    unit = "beds"                   # text
    default = 30                    # per facility of unknown capacity (optional)
    per_1000 = 40                   # the standard: capacity per 1,000 of the demand
    source = "GB 50437 ..."         # where per_1000 comes from
    description = { en = "...", zh = "..." }
    standard = "GB 50180-2018 ..."  # where the radii come from
    color = "#1f77b4"
    [[match]]                       # ANY table matches; inside a table EVERY key must
    amenity = "pharmacy"            # a string: equal; a list: any of; true: key present;
                                    # false: key absent (or empty); the key ``osm_id``
                                    # names features (``osm_id = ["node/1", "way/2"]``)
    name_hints = ["pharma", "药店"] # optional: names that suggest the service (regular
                                    # expressions, case-insensitive); features so named
                                    # that match no table are listed (never counted)
    read_tags = ["dispensing"]      # optional: more tag keys to carry as columns
    classify = "heritage"           # optional: add a class column (``heritage_class``)
"""

from __future__ import annotations

import contextlib
import importlib.resources
import logging
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

from geoapp import settings
from geoapp._validate import Problems, Table, is_number, read_toml
from geoapp.errors import InputError, LayerFileError

log = logging.getLogger(__name__)

#: Package-data folder (inside ``geoapp``) holding the shipped catalog; the repository's
#: ``layers/`` is a symbolic link to it.
LAYER_RESOURCE = ("data", "layers")
#: The shipped catalog folder as a path (an installed package is a folder on disk; a
#: zipped one is read through :func:`shipped_layer_dir`).
DEFAULT_LAYER_DIR = Path(str(importlib.resources.files("geoapp").joinpath(*LAYER_RESOURCE)))

#: Largest radius or target a layer file may set, in metres. Walking catchments beyond
#: 50 km are not life circles, and the bounded network searches grow with the square of
#: the radius (1e8 m ran out of memory).
MAX_RADIUS_M = 50_000.0

#: Walking speed of an adult, km/h (the default of every layer that sets none).
WALK_SPEED_KMH = 4.5
#: Walking speed of older residents, km/h (the default of the elderly-care layer).
ELDERLY_SPEED_KMH = 3.6
#: The walking-speed presets of the command line and the app (the one source).
SPEED_PRESETS = {"adult": WALK_SPEED_KMH, "elderly": ELDERLY_SPEED_KMH}
#: Plausible walking speeds, km/h: slower is a typo, faster is not walking.
SPEED_RANGE_KMH = (0.5, 30.0)

POPULATIONS = ("total", "age_60plus")
_REQUIRED = ("id", "label", "population", "match")
_METRES = ("radii_m", "target_m")
_MINUTES = ("minutes", "target_min")
_OPTIONAL = (
    "description",
    "standard",
    "color",
    "icon",
    "order",
    "target_share",
    "capacity",
    "speed_kmh",
    "standard_profile",
    "name_hints",
    "read_tags",
    "classify",
    *_METRES,
    *_MINUTES,
)

#: Share of a layer's residents that should live within its ``target_m`` when the layer
#: file sets no ``target_share``: 85%, the 15-minute life-circle coverage target
#: (Shanghai's 14th Five-Year Plan: about 85% of urban residents within a 15-minute
#: walk of community public services by 2025).
DEFAULT_TARGET_SHARE = 0.85
_KNOWN = set(_REQUIRED) | set(_OPTIONAL)
#: Keys of a layer's ``[capacity]`` table.
CAPACITY_KEYS = ("unit", "default", "per_1000", "source")
#: Optional text keys of a layer file and their defaults.
_TEXT_DEFAULTS = {"standard": "", "color": "#3366cc", "icon": "info-sign", "standard_profile": ""}
#: Match keys that name feature columns rather than OSM tags: never fetched on, never
#: carried as tag columns (the sources always carry them).
ID_KEYS = ("osm_id", "name")
#: Classifications a layer file may ask for (``classify = "heritage"``: the protection
#: class of each heritage site, :func:`geoapp.layers.heritage_classes`).
CLASSIFIERS = ("heritage",)


def _speed_problem(speed_kmh: object, what: str = "walking speed") -> str | None:
    """Return why ``speed_kmh`` is not a plausible walking speed, or None when it is."""
    lo, hi = SPEED_RANGE_KMH
    try:
        v = float(speed_kmh)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        v = math.nan
    if not isinstance(speed_kmh, bool) and math.isfinite(v) and lo <= v <= hi:
        return None
    return (
        f"{what} {speed_kmh!r} km/h must be a number from {lo:g} to {hi:g} "
        f"(presets: {', '.join(f'{k} {x:g}' for k, x in SPEED_PRESETS.items())})"
    )


def check_speed(speed_kmh: object, what: str = "walking speed") -> float:
    """Return ``speed_kmh`` as a float, or raise if it is not a plausible walking speed.

    Raises
    ------
    InputError
        Naming the value and the accepted range.
    """
    problem = _speed_problem(speed_kmh, what)
    if problem is not None:
        raise InputError(problem)
    return float(speed_kmh)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Layer:
    """One service type of the catalog.

    Attributes
    ----------
    id
        Identifier, lower-case letters, digits and underscores.
    label
        Display names by language code (at least ``en`` and ``zh``).
    population
        ``"total"`` or ``"age_60plus"``: which demand the layer serves.
    radii_m
        Life-circle distances to report, ascending, in metres. For a minute-based
        layer, ``minutes`` x the speed (``speed_kmh``, see :meth:`at_speed`).
    target_m
        Distance a resident should be within, in metres (for a minute-based layer,
        ``target_min`` x the speed).
    match
        Tag tables; a feature belongs to the layer when it matches any of them.
    target_share
        Share (0..1) of the layer's residents that should be within ``target_m``.
    capacity
        The layer file's ``[capacity]`` table (``unit``, ``default``, ``per_1000``,
        ``source``), read by :mod:`geoapp.sfca`; empty when the file sets none.
    """

    id: str
    label: Mapping[str, str]
    population: str
    radii_m: tuple[float, ...]
    target_m: float
    match: tuple[Mapping[str, object], ...]
    description: Mapping[str, str] = field(default_factory=dict)
    standard: str = ""
    color: str = "#3366cc"
    icon: str = "info-sign"
    order: int = 100
    source_file: str = ""
    target_share: float = DEFAULT_TARGET_SHARE
    capacity: Mapping[str, object] = field(default_factory=dict)
    #: Life-circle walking times in minutes (ascending). Empty for a layer defined in
    #: metres. A minute-based layer's ``radii_m`` are ``minutes x speed`` at the speed
    #: of the run (see :meth:`at_speed`).
    minutes: tuple[float, ...] = ()
    #: Walking time a resident should be within (minute-based layers), else None.
    target_min: float | None = None
    #: Walking speed (km/h) the radii were computed at, or the layer file's default
    #: speed; None: the adult preset (:data:`WALK_SPEED_KMH`).
    speed_kmh: float | None = None
    #: Standards profile judging this layer (``geoapp.standards``; "" = the default).
    standard_profile: str = ""
    #: Regular expressions (case-insensitive) of names that suggest this service: a
    #: feature so named that matches no ``match`` table is a near-miss, listed in a
    #: warning and never counted (:func:`geoapp.layers.near_misses`).
    name_hints: tuple[str, ...] = ()
    #: More tag keys the sources carry as columns for this layer (e.g. ``memorial``).
    read_tags: tuple[str, ...] = ()
    #: Class column to add to the layer's facilities: ``"heritage"`` (``heritage_class``)
    #: or "" (none).
    classify: str = ""

    @property
    def labels(self) -> tuple[str, ...]:
        """Column suffix of each radius, aligned with ``radii_m``.

        ``"300"`` (whole metres) for a metre-based layer, ``"15min"`` for a
        minute-based one: ``share_pop_300``, ``share_pop_15min``.
        """
        if self.minutes:
            return tuple(minutes_label(m) for m in self.minutes)
        return tuple(radius_label(r) for r in self.radii_m)

    def label_of(self, radius_m: float) -> str:
        """Column suffix of one of ``radii_m`` (see :attr:`labels`)."""
        for r, lab in zip(self.radii_m, self.labels, strict=True):
            if abs(float(r) - float(radius_m)) < 1e-6:
                return lab
        return radius_label(radius_m)

    @property
    def minute_based(self) -> bool:
        """True when the layer's life circles are walking times (``minutes``)."""
        return bool(self.minutes)

    @property
    def walk_speed_kmh(self) -> float:
        """The layer's walking speed: ``speed_kmh``, else the adult preset."""
        return float(self.speed_kmh) if self.speed_kmh else WALK_SPEED_KMH

    @property
    def reach_m(self) -> dict[str, float]:
        """Reach of each life circle in metres, by column suffix (``{"15min": 900.0}``)."""
        return {lab: float(r) for lab, r in zip(self.labels, self.radii_m, strict=True)}

    def at_speed(self, speed_kmh: float | None = None) -> Layer:
        """Return the layer with ``radii_m`` and ``target_m`` for a walking speed.

        For a minute-based layer the reach is ``minutes x speed``: a slower walker
        reaches less in the same minutes, so the speed changes the coverage. A
        metre-based layer keeps its radii (the speed only converts its distances to
        minutes) and records the speed.

        Parameters
        ----------
        speed_kmh
            Walking speed in km/h; None keeps the layer's own (its file's
            ``speed_kmh``, else the adult preset).

        Raises
        ------
        InputError
            If the speed is implausible, or the reach would pass ``MAX_RADIUS_M``.
        """
        speed = self.walk_speed_kmh if speed_kmh is None else check_speed(speed_kmh)
        if not self.minute_based:
            return self if speed_kmh is None else replace(self, speed_kmh=speed)
        per_min = speed * 1000.0 / 60.0
        radii = tuple(float(m) * per_min for m in self.minutes)
        target = float(self.target_min if self.target_min is not None else self.minutes[-1])
        if max(radii[-1], target * per_min) > MAX_RADIUS_M:
            raise InputError(
                f"layer {self.id!r}: {max(self.minutes[-1], target):g} minutes at "
                f"{speed:g} km/h reach more than {MAX_RADIUS_M:,.0f} m; use a walking "
                "speed (e.g. --speed 4.5)"
            )
        return replace(self, radii_m=radii, target_m=target * per_min, speed_kmh=speed)

    def name(self, lang: str = "en") -> str:
        """Return the label in ``lang``, falling back to English then the id."""
        return self.label.get(lang) or self.label.get("en") or self.id

    @property
    def demand_column(self) -> str:
        """Column of the demand table this layer serves (``pop`` or ``pop_60plus``)."""
        return "pop_60plus" if self.population == "age_60plus" else "pop"

    @property
    def max_radius_m(self) -> float:
        """Largest distance of interest: the largest radius or the target."""
        return float(max(max(self.radii_m), self.target_m))

    def osm_tags(self) -> dict[str, bool | str | list[str]]:
        """Return an osmnx ``tags`` dict wide enough to fetch every candidate feature.

        osmnx ORs all keys, so the dict over-fetches; :func:`select_features` then
        applies the exact AND/OR rules.
        """
        tags: dict[str, set[str] | bool] = {}
        for table in self.match:
            # The first tag key of each table is its most selective one; fetch on it (a
            # key that must be absent or names a feature column selects nothing).
            wanted = [(k, v) for k, v in table.items() if v is not False and k not in ID_KEYS]
            if not wanted:
                continue
            key, value = wanted[0]
            if value is True or tags.get(key) is True:
                tags[key] = True
                continue
            values = tags.setdefault(key, set())
            assert isinstance(values, set)
            values.update([value] if isinstance(value, str) else list(cast(Iterable[str], value)))
        return {k: (True if v is True else sorted(cast(set[str], v))) for k, v in tags.items()}

    def tag_keys(self) -> list[str]:
        """Return every tag key the match rules read, then the ``read_tags``.

        ``osm_id`` and ``name`` (:data:`ID_KEYS`) are feature columns, not tag keys.
        """
        keys: list[str] = []
        for table in self.match:
            keys.extend(k for k in table if k not in keys and k not in ID_KEYS)
        keys.extend(k for k in self.read_tags if k not in keys and k not in ID_KEYS)
        return keys


def radius_label(radius_m: float) -> str:
    """Return the column suffix for a radius: whole metres, e.g. ``share_pop_500``."""
    return str(int(round(float(radius_m))))


def minutes_label(minutes: float) -> str:
    """Return the column suffix for a walking time, e.g. ``share_pop_15min``."""
    m = float(minutes)
    return f"{int(m)}min" if m.is_integer() else f"{m:g}min"


def _is_id(v: object) -> bool:
    return isinstance(v, str) and bool(v) and v.replace("_", "a").isalnum() and v == v.lower()


def _number_list(v: object) -> bool:
    return (
        isinstance(v, list)
        and bool(v)
        and all(isinstance(r, int | float) and not isinstance(r, bool) for r in v)
    )


def _ascending(v: list[float]) -> bool:
    return all(b > a for a, b in zip(v, v[1:], strict=False))


def _tag_value(v: object) -> bool:
    return (
        isinstance(v, bool)
        or (isinstance(v, str) and bool(v))
        or (isinstance(v, list) and bool(v) and all(isinstance(x, str) for x in v))
    )


_POSITIVE = (lambda v: is_number(v) and v > 0, "{value!r} must be a positive, finite number")
_RADII_RULES = (
    (_number_list, "must be a non-empty list of numbers (metres)"),
    (lambda v: all(math.isfinite(r) for r in v), "{value} must be finite numbers (no nan or inf)"),
    (lambda v: all(r > 0 for r in v), "{value} must all be positive"),
    (
        lambda v: all(r <= MAX_RADIUS_M for r in v),
        f"{{value}} must be at most {MAX_RADIUS_M:,.0f} m (50 km); walking life "
        "circles are a few hundred metres to a few kilometres",
    ),
    (
        lambda v: all(float(r) == int(r) for r in v),
        "{value} must be whole metres (they name output columns)",
    ),
    (_ascending, "{value} must be strictly ascending"),
)
_TARGET_RULES = (
    _POSITIVE,
    (lambda v: v <= MAX_RADIUS_M, f"{{value!r}} must be at most {MAX_RADIUS_M:,.0f} m (50 km)"),
)
_MINUTES_RULES = (
    (_number_list, "must be a non-empty list of numbers (minutes)"),
    (
        lambda v: all(math.isfinite(m) and m > 0 for m in v),
        "{value} must be positive, finite numbers",
    ),
    (_ascending, "{value} must be strictly ascending"),
)
_LANG_TABLE = "must be a table like { en = '...', zh = '...' }"


def _check_reach_keys(t: Table) -> None:
    """Check that the reach is in metres (radii_m, target_m) or minutes (minutes, target_min)."""
    has_m = [k for k in _METRES if k in t]
    has_min = [k for k in _MINUTES if k in t]
    if has_m and has_min:
        t.bad(
            has_min[0],
            f"the file also sets {', '.join(has_m)}: give the reach either in metres "
            "(radii_m, target_m) or in walking minutes (minutes, target_min), not both",
        )
    elif has_min:
        t.require(_MINUTES, "missing; a minute-based layer sets minutes and target_min")
    else:
        t.require(
            _METRES,
            "missing; set radii_m and target_m (metres), or minutes and target_min "
            "(walking minutes)",
        )


def _check_minutes_reach(t: Table, minutes: list[float], target_min: float, speed: object) -> None:
    kmh = float(speed or WALK_SPEED_KMH)  # type: ignore[arg-type]
    reach = max(max(minutes), target_min) * kmh / 60.0 * 1000.0
    if reach > MAX_RADIUS_M:
        t.bad(
            "minutes",
            f"{max(minutes):g} minutes at {kmh:g} km/h reach {reach:,.0f} m, more than "
            f"{MAX_RADIUS_M:,.0f} m (50 km)",
        )


def _check_capacity(t: Table) -> dict[str, object]:
    """Check the ``[capacity]`` table and return it (``{}`` when the file sets none).

    unit = "beds" (text), default = 30 (per facility of unknown capacity, optional),
    per_1000 = 40 (the standard's indicator: capacity per 1,000 of the layer's demand,
    optional), source = "..." (citation, text).
    """
    cap = t.table("capacity", what="{value!r} must be a table ([capacity] with keys under it)")
    if cap is None:
        return {}
    cap.unknown(CAPACITY_KEYS, hint="[capacity] takes unit, default, per_1000 and source")
    for key in ("unit", "source"):
        cap.text(key)
    for key, example in (("default", "30 beds per facility"), ("per_1000", "40 per 1,000")):
        cap.number(
            key,
            lo=0,
            hi=1e6,
            lo_open=True,
            hi_open=True,
            what=f"{{value!r}} must be a positive number (e.g. {example})",
        )
    return dict(cap.data)


def _check_match(t: Table) -> list[dict[str, object]]:
    tables = t.tables("match", entry="must be a non-empty table of tags")
    for m in tables:
        if not m.data:
            t.problems.add(m.prefix, "must be a non-empty table of tags")
        for key in m.data:
            m.check(
                key,
                (_tag_value, "{value!r}: use a string, a list of strings, true or false"),
            )
        if m.data and all(v is False for v in m.data.values()):
            t.problems.add(
                m.prefix, "every key is false (absent); name at least one tag the feature has"
            )
    return [dict(m.data) for m in tables]


def _is_regex(v: object) -> bool:
    import re

    if not isinstance(v, str) or not v.strip():
        return False
    try:
        re.compile(v)
    except re.error:
        return False
    return True


def _check_hints(t: Table) -> dict[str, Any]:
    """Check ``name_hints`` (regular expressions), ``read_tags`` and ``classify``."""
    hints = t.check(
        "name_hints",
        (
            lambda v: isinstance(v, list) and all(_is_regex(x) for x in v),
            "must be a list of regular expressions (e.g. ['养老', '(?i)nursing home']); "
            "check the brackets and escapes of each",
        ),
        default=[],
    )
    tags = t.texts("read_tags", default=[], what="must be a list of tag keys (strings)")
    classify = t.choice("classify", ("", *CLASSIFIERS), default="")
    return {"name_hints": hints or [], "read_tags": tags or [], "classify": classify or ""}


def _layer_values(t: Table) -> dict[str, Any]:
    """Check every key of a layer file, in the order the problems are reported."""
    v: dict[str, Any] = {
        "id": t.check("id", (_is_id, "{value!r} must be lower-case letters, digits, '_'")),
        "label": t.labels("label", need=("en",)),
        "population": t.choice("population", POPULATIONS),
        "radii_m": t.check("radii_m", *_RADII_RULES),
        "target_m": t.check("target_m", *_TARGET_RULES),
        "minutes": t.check("minutes", *_MINUTES_RULES),
        "target_min": t.check("target_min", _POSITIVE),
        "speed_kmh": t.check(
            "speed_kmh", (lambda s: _speed_problem(s) is None, lambda s: str(_speed_problem(s)))
        ),
    }
    if not t.problems and "minutes" in t:
        _check_minutes_reach(t, v["minutes"], v["target_min"], v["speed_kmh"])
    v["target_share"] = t.number(
        "target_share",
        lo=0,
        hi=1,
        lo_open=True,
        default=DEFAULT_TARGET_SHARE,
        what="{value!r} must be a share between 0 and 1 (e.g. 0.85 for 85%)",
    )
    v["capacity"] = _check_capacity(t)
    v["match"] = _check_match(t)
    v["description"] = t.check("description", (lambda d: isinstance(d, dict), _LANG_TABLE)) or {}
    for key, default in _TEXT_DEFAULTS.items():
        v[key] = t.text(key, blank=True, default=default, what="must be a string")
    v["order"] = t.integer("order", default=100, what="must be an integer")
    v.update(_check_hints(t))
    return v


def parse_layer_file(path: str | os.PathLike[str]) -> Layer:
    """Read and validate one layer file.

    Parameters
    ----------
    path
        Path of a TOML layer file.

    Returns
    -------
    Layer

    Raises
    ------
    LayerFileError
        Listing every problem found, each naming the file and the key.
    """
    path = Path(path)
    data = read_toml(path, what="layer file", error=LayerFileError)
    problems = Problems(path, LayerFileError)
    t = Table(data, problems)
    t.unknown(_KNOWN)
    t.require(_REQUIRED, "missing; every layer file must set it")
    _check_reach_keys(t)
    v = _layer_values(t)
    problems.raise_if_any(f"Layer file {path} is malformed:")
    return _build_layer(path, v)


def _build_layer(path: Path, v: dict[str, Any]) -> Layer:
    minutes, speed = v["minutes"], v["speed_kmh"]
    radii, target = v["radii_m"], v["target_m"]
    if minutes:
        layer = Layer(
            id=v["id"],
            label=dict(v["label"]),
            population=v["population"],
            radii_m=(),
            target_m=0.0,
            match=(),
            minutes=tuple(float(m) for m in minutes),
            target_min=float(v["target_min"]),
            speed_kmh=float(speed) if speed is not None else None,
        ).at_speed(None)
        radii, target = list(layer.radii_m), layer.target_m
    return Layer(
        id=v["id"],
        label=dict(v["label"]),
        population=v["population"],
        radii_m=tuple(float(r) for r in radii),
        target_m=float(target),
        minutes=tuple(float(m) for m in minutes or ()),
        target_min=float(v["target_min"]) if minutes else None,
        speed_kmh=float(speed) if speed is not None else None,
        match=tuple(v["match"]),
        description=dict(v["description"]),
        standard=v["standard"],
        color=v["color"],
        icon=v["icon"],
        order=v["order"],
        source_file=str(path),
        target_share=float(v["target_share"]),
        capacity=v["capacity"],
        standard_profile=v["standard_profile"],
        name_hints=tuple(v["name_hints"]),
        read_tags=tuple(v["read_tags"]),
        classify=v["classify"],
    )


@contextlib.contextmanager
def shipped_layer_dir() -> Iterator[Path]:
    """Yield the shipped catalog folder as a real path (package data, ``geoapp/data/layers``).

    Read through :mod:`importlib.resources`, so it works from a wheel, ``pip install .``
    or an editable install alike (a zipped install is extracted for the duration).
    """
    res = importlib.resources.files("geoapp").joinpath(*LAYER_RESOURCE)
    with importlib.resources.as_file(res) as folder:
        yield Path(folder)


def load_catalog(
    layer_dir: str | os.PathLike[str] | None = None,
    extra_files: Iterable[str | os.PathLike[str]] = (),
) -> dict[str, Layer]:
    """Load every ``*.toml`` layer of a folder plus extra files.

    Parameters
    ----------
    layer_dir
        Folder of layer files; default ``$GEOAPP_LAYERS`` when set, else the shipped
        catalog (:func:`shipped_layer_dir`).
    extra_files
        More layer files; a file whose id is already loaded overrides that layer, and a
        warning says so.

    Returns
    -------
    dict
        Layers by id, ordered by their ``order`` key then id.

    Raises
    ------
    LayerFileError
        Naming every malformed file and key, or duplicate ids within the folder.
    """
    folder = layer_dir or settings.layer_dir()
    if folder is None:
        with shipped_layer_dir() as shipped:
            return _load_catalog(shipped, extra_files)
    return _load_catalog(Path(folder), extra_files)


def _load_catalog(folder: Path, extra_files: Iterable[str | os.PathLike[str]]) -> dict[str, Layer]:
    if not folder.is_dir():
        raise LayerFileError(
            f"{folder}: layer folder not found; pass an existing folder (or unset GEOAPP_LAYERS "
            "to use the shipped catalog)"
        )
    files = sorted(folder.glob("*.toml"))
    layers: dict[str, Layer] = {}
    problems: list[str] = []
    extra = [Path(f) for f in extra_files]
    for f in [*files, *extra]:
        try:
            layer = parse_layer_file(f)
        except LayerFileError as exc:
            problems.append(str(exc))
            continue
        if layer.id in layers and f in extra:
            log.warning(
                "Layer file %s overrides the layer %r defined in %s; rename its id to add a "
                "new layer instead.",
                f,
                layer.id,
                layers[layer.id].source_file,
            )
        elif layer.id in layers:
            problems.append(
                f"{f}: key 'id': {layer.id!r} is already defined in {layers[layer.id].source_file}"
            )
            continue
        layers[layer.id] = layer
    if problems:
        raise LayerFileError("The layer catalog has problems:", problems)
    return dict(sorted(layers.items(), key=lambda kv: (kv[1].order, kv[0])))


def get_layer(layer_id: str, catalog: Mapping[str, Layer] | None = None) -> Layer:
    """Return a layer by id, with a clear error listing the known ids."""
    catalog = catalog if catalog is not None else load_catalog()
    try:
        return catalog[layer_id]
    except KeyError:
        raise LayerFileError(
            f"Unknown layer {layer_id!r}; known layers: {', '.join(catalog)}. "
            "Pass --layer-file PATH for a layer of your own (or set GEOAPP_LAYERS to a "
            "folder of layer files)."
        ) from None
