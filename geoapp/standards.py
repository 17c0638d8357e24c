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
"""

from __future__ import annotations

import importlib.resources
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from geoapp.errors import StandardFileError

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
        if zone_type in self.zones:
            return self.zones[zone_type]
        return Threshold(self.threshold, self.reach_m, self.source, self.clause, self.verified)

    def name(self, lang: str = "en") -> str:
        """Display name in ``lang`` (English, then the id, as fallbacks)."""
        return self.label.get(lang) or self.label.get("en") or self.id


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

    def name(self, lang: str = "en") -> str:
        """Title in ``lang``."""
        return self.title.get(lang) or self.title.get("en") or self.id


def _p(path: Path, key: str, what: str) -> str:
    return f"{path}: key '{key}': {what}"


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _check_threshold(path, where, indicator, data, problems, *, need_reach: bool) -> None:
    thr = data.get("threshold")
    if "threshold" not in data:
        if need_reach:
            problems.append(_p(path, f"{where}.threshold", "missing; every rule sets a threshold"))
    elif not _number(thr) or thr <= 0:
        problems.append(_p(path, f"{where}.threshold", f"{thr!r} must be a positive number"))
    elif indicator == "share_within_reach" and thr > 1:
        problems.append(
            _p(path, f"{where}.threshold", f"{thr!r} is a share: give it between 0 and 1 (0.85)")
        )
    if indicator == "share_within_reach":
        reach = data.get("reach_m")
        if reach is None and need_reach:
            problems.append(_p(path, f"{where}.reach_m", "missing; a share rule needs a reach"))
        elif reach is not None and (not _number(reach) or reach <= 0 or reach > 50_000):
            problems.append(
                _p(path, f"{where}.reach_m", f"{reach!r} must be metres between 0 and 50,000")
            )
    verified = data.get("verified", "unverified")
    if verified not in VERIFIED:
        problems.append(_p(path, f"{where}.verified", f"{verified!r} must be one of {VERIFIED}"))


def parse_profile(path: str | os.PathLike[str]) -> Profile:
    """Read and validate one profile file.

    Raises
    ------
    StandardFileError
        Listing every problem, each naming the file and the key.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StandardFileError(f"{path}: standards profile not found") from None
    except UnicodeDecodeError as exc:
        raise StandardFileError(f"{path}: not UTF-8 text ({exc}); save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise StandardFileError(f"{path}: not valid TOML: {exc}. Fix the syntax.") from None

    problems: list[str] = []
    for key in sorted(set(data) - _TOP):
        problems.append(_p(path, key, f"unknown key; allowed: {', '.join(sorted(_TOP))}"))
    for key in ("id", "version", "title", "sources", "rules"):
        if key not in data:
            problems.append(_p(path, key, "missing; every profile must set it"))
    pid = data.get("id")
    if "id" in data and (
        not isinstance(pid, str) or not pid or not pid.replace("-", "_").replace("_", "a").isalnum()
    ):
        problems.append(_p(path, "id", f"{pid!r} must be letters, digits, '-' and '_'"))
    if "version" in data and not isinstance(data["version"], str | int | float):
        problems.append(_p(path, "version", "must be a string like '2018.1'"))
    for key in ("title", "description"):
        if key in data and (
            not isinstance(data[key], dict) or "en" not in data[key]
        ):  # fmt: skip
            problems.append(_p(path, key, "must be a table like { en = '...', zh = '...' }"))

    sources = data.get("sources", [])
    source_ids = set()
    if not isinstance(sources, list) or ("sources" in data and not sources):
        problems.append(_p(path, "sources", "needs at least one [[sources]] table"))
        sources = []
    for i, s in enumerate(sources):
        where = f"sources[{i}]"
        if not isinstance(s, dict):
            problems.append(_p(path, where, "must be a table"))
            continue
        for key in sorted(set(s) - _SOURCE):
            problems.append(_p(path, f"{where}.{key}", "unknown key"))
        for key in ("id", "title"):
            if not isinstance(s.get(key), str) or not s.get(key):
                problems.append(_p(path, f"{where}.{key}", "missing; name the source"))
        if s.get("verified", "unverified") not in VERIFIED:
            problems.append(_p(path, f"{where}.verified", f"must be one of {VERIFIED}"))
        source_ids.add(s.get("id"))

    circles = data.get("life_circles", [])
    if not isinstance(circles, list):
        problems.append(_p(path, "life_circles", "must be [[life_circles]] tables"))
        circles = []
    for i, c in enumerate(circles):
        where = f"life_circles[{i}]"
        if not isinstance(c, dict):
            problems.append(_p(path, where, "must be a table"))
            continue
        for key in sorted(set(c) - _CIRCLE):
            problems.append(_p(path, f"{where}.{key}", "unknown key"))
        reach = c.get("reach_m", [])
        if not (isinstance(reach, list) and len(reach) == 2 and all(_number(r) for r in reach)):
            problems.append(_p(path, f"{where}.reach_m", "must be [low, high] in metres"))

    rules_in = data.get("rules", [])
    if not isinstance(rules_in, list) or ("rules" in data and not rules_in):
        problems.append(_p(path, "rules", "needs at least one [[rules]] table"))
        rules_in = []
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, r in enumerate(rules_in):
        where = f"rules[{i}]"
        if not isinstance(r, dict):
            problems.append(_p(path, where, "must be a table"))
            continue
        for key in sorted(set(r) - _RULE):
            problems.append(_p(path, f"{where}.{key}", f"unknown key; allowed: {sorted(_RULE)}"))
        for key in ("id", "layer", "indicator", "source", "clause"):
            if not isinstance(r.get(key), str) or not r.get(key):
                problems.append(_p(path, f"{where}.{key}", "missing; every rule sets it"))
        if r.get("id") in seen:
            problems.append(_p(path, f"{where}.id", f"{r.get('id')!r} is used twice"))
        seen.add(r.get("id"))
        ind = r.get("indicator")
        if isinstance(ind, str) and ind not in INDICATORS:
            problems.append(_p(path, f"{where}.indicator", f"{ind!r} must be one of {INDICATORS}"))
        _check_threshold(path, where, ind, r, problems, need_reach=True)
        zones_in = r.get("zones", {})
        zones: dict[str, Threshold] = {}
        if not isinstance(zones_in, dict):
            problems.append(_p(path, f"{where}.zones", "must be tables [rules.zones.<zone>]"))
            zones_in = {}
        for z, zd in zones_in.items():
            zw = f"{where}.zones.{z}"
            if z not in ZONE_KEYS:
                problems.append(_p(path, zw, f"unknown zone type; use one of {ZONE_KEYS}"))
                continue
            if not isinstance(zd, dict):
                problems.append(_p(path, zw, "must be a table"))
                continue
            for key in sorted(set(zd) - _ZONE):
                problems.append(_p(path, f"{zw}.{key}", "unknown key"))
            _check_threshold(path, zw, ind, zd, problems, need_reach=False)
            if not problems:
                zones[z] = Threshold(
                    float(zd.get("threshold", r.get("threshold"))),
                    float(zd.get("reach_m", r.get("reach_m")))
                    if zd.get("reach_m", r.get("reach_m")) is not None
                    else None,
                    str(zd.get("source", r.get("source", ""))),
                    str(zd.get("clause", r.get("clause", ""))),
                    str(zd.get("verified", r.get("verified", "unverified"))),
                )
        if problems:
            continue
        rules.append(
            Rule(
                id=r["id"],
                layer=r["layer"],
                indicator=ind,
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
        )
    if problems:
        raise StandardFileError(f"Standards profile {path} is malformed:", problems)
    return Profile(
        id=pid,
        version=str(data["version"]),
        title=dict(data["title"]),
        sources=tuple(dict(s) for s in sources),
        rules=tuple(rules),
        life_circles=tuple(dict(c) for c in circles),
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


def profile_for_layers(layers, standard: str | os.PathLike[str] | None = None) -> Profile:
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
