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

Schema (``id``, ``label``, ``population``, ``radii_m``, ``target_m`` and ``match`` are
required; the others optional)::

    id = "pharmacy"
    label = { en = "Pharmacies", zh = "药店" }
    population = "total"            # "total" or "age_60plus"
    radii_m = [300, 500, 1000]      # ascending, whole metres, at most 50 000 (MAX_RADIUS_M)
    target_m = 500                  # distance a resident should be within
    target_share = 0.85             # share of the layer's residents that should be
                                    # within target_m (0..1; default 0.85)
    [capacity]                      # reserved for capacity modelling: a table,
                                    # accepted and stored, not used yet
    description = { en = "...", zh = "..." }
    standard = "GB 50180-2018 ..."  # where the radii come from
    color = "#1f77b4"
    [[match]]                       # ANY table matches; inside a table EVERY key must
    amenity = "pharmacy"            # a string: equal; a list: any of; true: key present
"""

from __future__ import annotations

import contextlib
import importlib.resources
import logging
import math
import os
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from geoapp.errors import LayerFileError

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

POPULATIONS = ("total", "age_60plus")
_REQUIRED = ("id", "label", "population", "radii_m", "target_m", "match")
_OPTIONAL = ("description", "standard", "color", "icon", "order", "target_share", "capacity",
             "standard_profile")  # fmt: skip

#: Share of a layer's residents that should live within its ``target_m`` when the layer
#: file sets no ``target_share``: 85%, the 15-minute life-circle coverage target
#: (Shanghai's 14th Five-Year Plan: about 85% of urban residents within a 15-minute
#: walk of community public services by 2025).
DEFAULT_TARGET_SHARE = 0.85
_KNOWN = set(_REQUIRED) | set(_OPTIONAL)


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
        Life-circle distances to report, ascending, in metres.
    target_m
        Distance a resident should be within, in metres.
    match
        Tag tables; a feature belongs to the layer when it matches any of them.
    target_share
        Share (0..1) of the layer's residents that should be within ``target_m``.
    capacity
        Reserved for capacity modelling: the layer file's ``[capacity]`` table as read,
        stored but not used yet.
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
    #: Default walking speed (km/h) of a minute-based layer; None: the adult preset.
    speed_kmh: float | None = None
    #: Standards profile judging this layer (``geoapp.standards``; "" = the default).
    standard_profile: str = ""

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

    def at_speed(self, speed_kmh: float | None = None) -> Layer:
        """Return the layer with ``radii_m`` and ``target_m`` for a walking speed.

        A metre-based layer is returned unchanged. (Stub: minute-based layers are
        being implemented.)
        """
        return self

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
            # The first key of each table is its most selective one; fetch on it.
            key, value = next(iter(table.items()))
            if value is True or tags.get(key) is True:
                tags[key] = True
                continue
            values = tags.setdefault(key, set())
            assert isinstance(values, set)
            values.update([value] if isinstance(value, str) else list(value))
        return {k: (True if v is True else sorted(v)) for k, v in tags.items()}

    def tag_keys(self) -> list[str]:
        """Return every tag key the match rules read."""
        keys: list[str] = []
        for table in self.match:
            keys.extend(k for k in table if k not in keys)
        return keys


def radius_label(radius_m: float) -> str:
    """Return the column suffix for a radius: whole metres, e.g. ``share_pop_500``."""
    return str(int(round(float(radius_m))))


def minutes_label(minutes: float) -> str:
    """Return the column suffix for a walking time, e.g. ``share_pop_15min``."""
    m = float(minutes)
    return f"{int(m)}min" if m.is_integer() else f"{m:g}min"


def _problem(path: Path, key: str, what: str) -> str:
    return f"{path}: key '{key}': {what}"


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
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LayerFileError(f"{path}: layer file not found") from None
    except UnicodeDecodeError as exc:
        raise LayerFileError(f"{path}: not UTF-8 text ({exc}); save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise LayerFileError(f"{path}: not valid TOML: {exc}. Fix the syntax.") from None

    problems: list[str] = []
    for key in sorted(set(data) - _KNOWN):
        problems.append(
            _problem(path, key, f"unknown key; allowed keys are {', '.join(sorted(_KNOWN))}")
        )
    for key in _REQUIRED:
        if key not in data:
            problems.append(_problem(path, key, "missing; every layer file must set it"))

    lid = data.get("id")
    if "id" in data and (
        not isinstance(lid, str)
        or not lid
        or not lid.replace("_", "a").isalnum()
        or lid != lid.lower()
    ):
        problems.append(_problem(path, "id", f"{lid!r} must be lower-case letters, digits, '_'"))

    label = data.get("label")
    if "label" in data:
        if not isinstance(label, dict) or not all(isinstance(v, str) for v in label.values()):
            problems.append(
                _problem(path, "label", "must be a table like { en = '...', zh = '...' }")
            )
        elif "en" not in label:
            problems.append(_problem(path, "label", "needs at least an 'en' entry"))

    pop = data.get("population")
    if "population" in data and pop not in POPULATIONS:
        problems.append(_problem(path, "population", f"{pop!r} must be one of {POPULATIONS}"))

    radii = data.get("radii_m")
    if "radii_m" in data:
        if (
            not isinstance(radii, list)
            or not radii
            or not all(isinstance(r, int | float) and not isinstance(r, bool) for r in radii)
        ):
            problems.append(
                _problem(path, "radii_m", "must be a non-empty list of numbers (metres)")
            )
        elif not all(math.isfinite(r) for r in radii):
            problems.append(
                _problem(path, "radii_m", f"{radii} must be finite numbers (no nan or inf)")
            )
        elif any(r <= 0 for r in radii):
            problems.append(_problem(path, "radii_m", f"{radii} must all be positive"))
        elif any(r > MAX_RADIUS_M for r in radii):
            problems.append(
                _problem(
                    path,
                    "radii_m",
                    f"{radii} must be at most {MAX_RADIUS_M:,.0f} m (50 km); walking life "
                    "circles are a few hundred metres to a few kilometres",
                )
            )
        elif any(float(r) != int(r) for r in radii):
            problems.append(
                _problem(
                    path, "radii_m", f"{radii} must be whole metres (they name output columns)"
                )
            )
        elif any(b <= a for a, b in zip(radii, radii[1:], strict=False)):
            problems.append(_problem(path, "radii_m", f"{radii} must be strictly ascending"))

    target = data.get("target_m")
    if "target_m" in data:
        if (
            not isinstance(target, int | float)
            or isinstance(target, bool)
            or not math.isfinite(target)
            or target <= 0
        ):
            problems.append(
                _problem(path, "target_m", f"{target!r} must be a positive, finite number")
            )
        elif target > MAX_RADIUS_M:
            problems.append(
                _problem(
                    path, "target_m", f"{target!r} must be at most {MAX_RADIUS_M:,.0f} m (50 km)"
                )
            )

    share = data.get("target_share", DEFAULT_TARGET_SHARE)
    if "target_share" in data and (
        not isinstance(share, int | float) or isinstance(share, bool) or not 0 < share <= 1
    ):
        problems.append(
            _problem(
                path,
                "target_share",
                f"{share!r} must be a share between 0 and 1 (e.g. 0.85 for 85%)",
            )
        )

    if "capacity" in data and not isinstance(data["capacity"], dict):
        problems.append(
            _problem(
                path,
                "capacity",
                f"{data['capacity']!r} must be a table ([capacity] with keys under it)",
            )
        )

    match = data.get("match")
    if "match" in data:
        if not isinstance(match, list) or not match:
            problems.append(_problem(path, "match", "needs at least one [[match]] table"))
        else:
            for i, table in enumerate(match):
                where = f"match[{i}]"
                if not isinstance(table, dict) or not table:
                    problems.append(_problem(path, where, "must be a non-empty table of tags"))
                    continue
                for k, v in table.items():
                    ok = (
                        v is True
                        or (isinstance(v, str) and v)
                        or (isinstance(v, list) and v and all(isinstance(x, str) for x in v))
                    )
                    if not ok:
                        problems.append(
                            _problem(
                                path,
                                f"{where}.{k}",
                                f"{v!r}: use a string, a list of strings or true",
                            )
                        )

    for key in ("description",):
        if key in data and not isinstance(data[key], dict):
            problems.append(_problem(path, key, "must be a table like { en = '...', zh = '...' }"))
    for key in ("standard", "color", "icon", "standard_profile"):
        if key in data and not isinstance(data[key], str):
            problems.append(_problem(path, key, "must be a string"))
    if "order" in data and not isinstance(data["order"], int):
        problems.append(_problem(path, "order", "must be an integer"))

    if problems:
        raise LayerFileError(f"Layer file {path} is malformed:", problems)

    return Layer(
        id=lid,
        label=dict(label),
        population=pop,
        radii_m=tuple(float(r) for r in radii),
        target_m=float(target),
        match=tuple(dict(t) for t in match),
        description=dict(data.get("description", {})),
        standard=data.get("standard", ""),
        color=data.get("color", "#3366cc"),
        icon=data.get("icon", "info-sign"),
        order=data.get("order", 100),
        source_file=str(path),
        target_share=float(share),
        capacity=dict(data.get("capacity", {})),
        standard_profile=data.get("standard_profile", ""),
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
    folder = layer_dir or os.environ.get("GEOAPP_LAYERS")
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
