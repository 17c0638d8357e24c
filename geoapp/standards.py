"""Standards as code: versioned planning profiles shipped as TOML.

A profile (``geoapp/data/standards/<id>.toml``) lists its sources, the life-circle levels
of the standard (minutes, walking reach, which facilities belong to which circle) and
the **rules** the compliance table checks (:mod:`geoapp.compliance`). Every rule cites
its source and clause and says how far it was verified (``"text"``, ``"secondary"``,
``"unverified"``). A rule may set other thresholds per zone type (``[rules.zones.rural]``):
TD/T 1062-2021's rural levels, Shanghai's 2024 radii for main city, new town and
market town.

Schema::

    id = "cn-gb50180-2018"           # lower-case letters, digits, '-', '_'
    version = "2018.1"
    title = { en = "...", zh = "..." }
    description = { en = "...", zh = "..." }    # optional
    [[sources]]                      # at least one
    id = "gb50180"; title = "..."; issuer = "..."; date = "..."; verified = "text"; note = "..."
    [[life_circles]]                 # optional
    id = "15min"; label = {...}; minutes = 15; reach_m = [800, 1000]; facilities = {...}
    [[rules]]                        # at least one
    id = "elderly_care_15min_share"
    layer = "elderly_care"           # the catalog layer it judges
    indicator = "share_within_reach" # or "beds_per_1000_60plus"
    reach_m = 1000                   # share_within_reach only
    threshold = 0.85                 # share (0..1] or beds per 1,000
    source = "..."; clause = "..."; verified = "secondary"
    [rules.zones.rural]              # optional override per zone type
    reach_m = 2000; threshold = 0.85; source = "..."; clause = "..."; verified = "unverified"

The reach a share rule is judged at (:meth:`Profile.reach`): one per layer and rule. A
layer written in walking minutes (elderly care, community services) is judged at its
life circle's minutes x the layer's walking speed, the reach of the layer's own outputs
(15 minutes at 3.6 km/h = 900 m); the standard's metre figure (``reach_m``, per zone) is
kept beside it as a reference, never as a second verdict. A layer written in metres is
judged at the standard's metres for the resident's zone type.
"""

from __future__ import annotations

import importlib.resources
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geoapp._validate import Problems, Table, did_you_mean, is_number, read_toml
from geoapp.errors import StandardFileError

if TYPE_CHECKING:
    from geoapp.catalog import Layer

#: Folder of the shipped profiles (package data).
STANDARDS_DIR = Path(str(importlib.resources.files("geoapp").joinpath("data", "standards")))
#: Profile used when a layer names none and the user passes none.
DEFAULT_PROFILE = "cn-gb50180-2018"
#: What a compliance rule can measure.
INDICATORS = ("share_within_reach", "beds_per_1000_60plus")
#: How far a value was checked while writing the profile.
VERIFIED = ("text", "secondary", "unverified")
ZONE_KEYS = ("core", "new_town", "rural", "unknown")

_TOP = {"id", "version", "title", "description", "sources", "life_circles", "rules"}
_SOURCE = {"id", "title", "issuer", "date", "verified", "note", "url"}
_CIRCLE = {"id", "label", "minutes", "reach_m", "residents", "facilities", "source", "clause",
           "verified"}  # fmt: skip
_RULE = {"id", "layer", "indicator", "life_circle", "reach_m", "threshold", "label", "source",
         "clause", "verified", "note", "zones"}  # fmt: skip
_ZONE = {"reach_m", "threshold", "source", "clause", "verified", "note"}


@dataclass(frozen=True)
class Threshold:
    """The threshold of a rule for one zone type (or the rule's default)."""

    threshold: float
    reach_m: float | None
    source: str
    clause: str
    verified: str


@dataclass(frozen=True)
class Rule:
    """One checkable rule of a profile."""

    id: str
    layer: str
    indicator: str
    threshold: float
    reach_m: float | None
    source: str
    clause: str
    verified: str
    label: Mapping[str, str] = field(default_factory=dict)
    life_circle: str = ""
    note: str = ""
    zones: Mapping[str, Threshold] = field(default_factory=dict)

    def for_zone(self, zone_type: str | None) -> Threshold:
        """Return the threshold that applies in ``zone_type`` (the default if none set)."""
        if zone_type is not None and zone_type in self.zones:
            return self.zones[zone_type]
        return Threshold(self.threshold, self.reach_m, self.source, self.clause, self.verified)

    def name(self, lang: str = "en") -> str:
        """Display name in ``lang`` (English, then the id, as fallbacks)."""
        return self.label.get(lang) or self.label.get("en") or self.id


@dataclass(frozen=True)
class Reach:
    """The reach a share rule is judged at (:meth:`Profile.reach`)."""

    #: Metres the rule's share is measured at (NaN for a rule without a reach).
    judged_m: float
    #: The standard's own metre figure for the zone type: a reference beside the verdict.
    standard_m: float | None
    #: Walking minutes of the life circle (minute-based layers), else None.
    minutes: float | None
    #: ``"minutes"`` (minutes x the layer's speed), ``"metres"`` (the standard's
    #: metres) or ``"none"``.
    basis: str


@dataclass(frozen=True)
class Profile:
    """A versioned standards profile."""

    id: str
    version: str
    title: Mapping[str, str]
    sources: tuple[Mapping[str, str], ...]
    rules: tuple[Rule, ...]
    life_circles: tuple[Mapping[str, object], ...] = ()
    description: Mapping[str, str] = field(default_factory=dict)
    file: str = ""

    def rules_for(self, layer_id: str) -> tuple[Rule, ...]:
        """Rules judging one layer."""
        return tuple(r for r in self.rules if r.layer == layer_id)

    def life_circle_minutes(self, circle_id: str) -> float | None:
        """Return a life circle's walking minutes (``[[life_circles]]``); None if unknown or 0."""
        for c in self.life_circles:
            if c.get("id") == circle_id:
                m = c.get("minutes")
                if isinstance(m, int | float) and not isinstance(m, bool) and m > 0:
                    return float(m)
        return None

    def reach(self, rule: Rule, layer: Layer, zone_type: str | None = None) -> Reach:
        """Return the reach ``rule`` is judged at for ``layer`` in ``zone_type``.

        One life-circle reach per layer, the one every output of the layer uses:

        - a minute-based layer (``layer.minutes``) is judged at the rule's life circle
          (``life_circle``: its ``minutes``; else the layer's ``target_min``) times the
          layer's walking speed (``layer.walk_speed_kmh``; pass the layer as run,
          ``layer.at_speed(speed)``), the same in every zone type: 15 minutes at 3.6 km/h
          is 900 m in the layer's summary, its gaps, the app, the charts and the
          compliance table alike. The standard's metre figure for the zone
          (``rule.for_zone(zone_type).reach_m``, e.g. GB 50180's 1,000 m) is returned as
          ``standard_m``, a reference, never a second verdict;
        - a metre-based layer is judged at the standard's metres for the zone type.

        Parameters
        ----------
        rule
            A ``share_within_reach`` rule (other indicators have no reach: NaN).
        layer
            The layer at the run's speed.
        zone_type
            The zone type whose figures apply; None: the rule's default.
        """
        standard = rule.for_zone(zone_type).reach_m
        if rule.indicator != "share_within_reach":
            return Reach(float("nan"), standard, None, "none")
        if getattr(layer, "minutes", ()):
            minutes = self.life_circle_minutes(rule.life_circle)
            if minutes is None:
                minutes = float(layer.target_min or max(layer.minutes))
            per_min = layer.walk_speed_kmh * 1000.0 / 60.0  # as Layer.at_speed
            return Reach(float(minutes) * per_min, standard, float(minutes), "minutes")
        return Reach(float(standard) if standard is not None else float("nan"), standard, None,
                     "metres")  # fmt: skip

    def name(self, lang: str = "en") -> str:
        """Title in ``lang``."""
        return self.title.get(lang) or self.title.get("en") or self.id


def _is_profile_id(v: object) -> bool:
    return isinstance(v, str) and bool(v) and v.replace("-", "_").replace("_", "a").isalnum()


def _is_pair(v: object) -> bool:
    return isinstance(v, list) and len(v) == 2 and all(is_number(r) for r in v)


def _text_or(missing: str) -> Callable[[object], str]:
    """Say ``missing`` for an empty string, ``"<value> must be text"`` for anything else."""
    return lambda v: missing if isinstance(v, str) else f"{v!r} must be text"


_LANG_TABLE = "must be a table like { en = '...', zh = '...' }"
_SHARE = (lambda v: v <= 1, "{value!r} is a share: give it between 0 and 1 (0.85)")


def _check_threshold(t: Table, indicator: object, *, need_reach: bool) -> None:
    """Check a rule's (or a zone override's) threshold, reach and verification."""
    share = indicator == "share_within_reach"
    t.check(
        "threshold",
        (lambda v: is_number(v) and v > 0, "{value!r} must be a positive number"),
        *([_SHARE] if share else []),
        required="missing; every rule sets a threshold" if need_reach else None,
    )
    if share:
        t.number(
            "reach_m",
            lo=0,
            hi=50_000,
            lo_open=True,
            required="missing; a share rule needs a reach" if need_reach else None,
            what="{value!r} must be metres between 0 and 50,000",
        )
    t.choice("verified", VERIFIED, default="unverified")


def _check_sources(t: Table) -> list[dict[str, Any]]:
    sources = t.tables("sources")
    for s in sources:
        s.unknown(_SOURCE)
        for key in ("id", "title"):
            s.text(
                key, required="missing; name the source", what=_text_or("missing; name the source")
            )
        s.choice("verified", VERIFIED, default="unverified")
    return [dict(s.data) for s in sources]


def _check_circles(t: Table) -> list[dict[str, object]]:
    circles = t.tables("life_circles", nonempty=False, what="must be [[life_circles]] tables")
    for c in circles:
        c.unknown(_CIRCLE)
        c.check(
            "reach_m",
            (_is_pair, "must be [low, high] in metres"),
            required="missing; give [low, high] in metres",
        )
    return [dict(c.data) for c in circles]


def _check_rule(r: Table, seen: set[str]) -> None:
    r.unknown(_RULE)
    for key in ("id", "layer", "indicator", "source", "clause"):
        r.text(
            key,
            required="missing; every rule sets it",
            what=_text_or("missing; every rule sets it"),
        )
    rid = r.get("id")
    if isinstance(rid, str):
        if rid in seen:
            r.bad("id", f"{rid!r} is used twice")
        seen.add(rid)
    ind = r.get("indicator")
    if isinstance(ind, str):
        r.choice("indicator", INDICATORS)
    _check_threshold(r, ind, need_reach=True)
    zones = r.table("zones", what="must be tables [rules.zones.<zone>]")
    if zones is not None:
        _check_zones(zones, ind)


def _check_zones(zones: Table, indicator: object) -> None:
    """Check ``[rules.zones.<zone>]``: known zone types, each a threshold override."""
    for z in zones.data:
        if z not in ZONE_KEYS:
            zones.bad(z, f"unknown zone type{did_you_mean(z, ZONE_KEYS)}; use one of "
                      f"{', '.join(ZONE_KEYS)}")  # fmt: skip
            continue
        zd = zones.table(z)
        if zd is not None:
            zd.unknown(_ZONE)
            _check_threshold(zd, indicator, need_reach=False)


def _rule(r: Mapping[str, Any]) -> Rule:
    zones = {}
    for z, zd in r.get("zones", {}).items():
        reach = zd.get("reach_m", r.get("reach_m"))
        zones[z] = Threshold(
            float(zd.get("threshold", r.get("threshold"))),
            float(reach) if reach is not None else None,
            str(zd.get("source", r.get("source", ""))),
            str(zd.get("clause", r.get("clause", ""))),
            str(zd.get("verified", r.get("verified", "unverified"))),
        )
    return Rule(
        id=r["id"],
        layer=r["layer"],
        indicator=r["indicator"],
        threshold=float(r["threshold"]),
        reach_m=float(r["reach_m"]) if r.get("reach_m") is not None else None,
        source=r["source"],
        clause=r["clause"],
        verified=r.get("verified", "unverified"),
        label=dict(r.get("label", {})),
        life_circle=str(r.get("life_circle", "")),
        note=str(r.get("note", "")),
        zones=zones,
    )


def parse_profile(path: str | os.PathLike[str]) -> Profile:
    """Read and validate one profile file.

    Raises
    ------
    StandardFileError
        Listing every problem, each naming the file and the key.
    """
    path = Path(path)
    data = read_toml(path, what="standards profile", error=StandardFileError)
    problems = Problems(path, StandardFileError)
    t = Table(data, problems)
    t.unknown(_TOP)
    t.require(("id", "version", "title", "sources", "rules"), "missing; every profile must set it")
    t.check("id", (_is_profile_id, "{value!r} must be letters, digits, '-' and '_'"))
    t.check(
        "version", (lambda v: isinstance(v, str | int | float), "must be a string like '2018.1'")
    )
    for key in ("title", "description"):
        t.labels(key, need=("en",), what=_LANG_TABLE)
    sources = _check_sources(t)
    circles = _check_circles(t)
    seen: set[str] = set()
    for r in t.tables("rules"):
        _check_rule(r, seen)
    problems.raise_if_any(f"Standards profile {path} is malformed:")
    return Profile(
        id=data["id"],
        version=str(data["version"]),
        title=dict(data["title"]),
        sources=tuple(sources),
        rules=tuple(_rule(r) for r in data["rules"]),
        life_circles=tuple(circles),
        description=dict(data.get("description", {})),
        file=str(path),
    )


def shipped_profiles() -> list[str]:
    """Ids of the shipped profiles."""
    return sorted(p.stem for p in STANDARDS_DIR.glob("*.toml"))


def profile_path(name_or_path: str | os.PathLike[str]) -> Path:
    """Path of a shipped profile id, else ``name_or_path`` as a file."""
    shipped = STANDARDS_DIR / f"{name_or_path}.toml"
    if shipped.is_file():
        return shipped
    path = Path(name_or_path)
    if not path.is_file():
        raise StandardFileError(
            f"--standard {name_or_path}: standards profile not found; give a shipped one "
            f"({', '.join(shipped_profiles())}) or the path of a TOML profile"
        )
    return path


def load_profile(name_or_path: str | os.PathLike[str] | None = None) -> Profile:
    """Load a shipped profile by id or a user's TOML file (default :data:`DEFAULT_PROFILE`)."""
    return parse_profile(profile_path(name_or_path or DEFAULT_PROFILE))


def profile_for_layers(
    layers: Iterable[Layer], standard: str | os.PathLike[str] | None = None
) -> Profile:
    """Return the profile of a run.

    ``standard`` when given, else the first layer's ``standard_profile`` (catalog key),
    else :data:`DEFAULT_PROFILE`.
    """
    if standard:
        return load_profile(standard)
    for layer in layers:
        name = getattr(layer, "standard_profile", "")
        if name:
            return load_profile(name)
    return load_profile(DEFAULT_PROFILE)
