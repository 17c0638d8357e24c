"""Demand profiles: floor area per person, share aged 60+, density of residential land.

A profile is a TOML file in ``geoapp/data/profiles/`` (:data:`PROFILE_DIR`), read by
:func:`load_profile` and chosen from the region's location by :func:`profile_for`;
:func:`resolve_profile` applies the caller's overrides (the first step of
:func:`geoapp.demand.estimate_population`).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from geoapp._presets import preset_path
from geoapp.demand.frames import WGS84
from geoapp.errors import InputError

#: Folder of the shipped profiles (``china.toml``, ``world.toml``).
PROFILE_DIR = Path(__file__).resolve().parent.parent / "data" / "profiles"

#: Housing floor area per person, m² (China profile). Beijing, Seventh National
#: Population Census 2020: 34.89 m² per person (rounded).
DEFAULT_M2_PER_PERSON = 35.0

#: Share of residents aged 60+ of the China profile: Seventh National Population
#: Census 2020: 18.70% of the population aged 60 and over.
DEFAULT_SHARE_60PLUS = 0.187

#: Residents per km² of unbuilt residential landuse (both shipped profiles): 100 per
#: hectare. GB 50180-2018's residential-area indicators imply roughly 10,000–30,000
#: residents per km² of residential land from low-rise to high-rise; the low end.
LANDUSE_DENSITY_PER_KM2 = 10_000.0

#: China's bounding box (lon min, lat min, lon max, lat max): inside it the ``china``
#: profile is chosen, elsewhere ``world``.
CHINA_BBOX = (73.5, 18.1, 135.1, 53.6)


def load_profile(name_or_path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a demand profile: a shipped name (``"china"``, ``"world"``) or a TOML path.

    Returns
    -------
    dict
        ``name``, ``m2_per_person``, ``share_60plus``, ``landuse_density_per_km2`` and
        ``source`` (the citations joined).

    Raises
    ------
    InputError
        When the file is missing or a value is out of range, naming the key.
    """
    path = preset_path(
        PROFILE_DIR,
        name_or_path,
        "demand profile",
        "the path of a TOML file like geoapp/data/profiles/world.toml",
    )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path}: not a valid UTF-8 TOML profile ({exc}); fix the file") from None
    problems = []
    for key, lo, hi in (
        ("m2_per_person", 1.0, 500.0),
        ("share_60plus", 0.0, 1.0),
        ("landuse_density_per_km2", 0.0, 200_000.0),
    ):
        v = data.get(key)
        if not isinstance(v, int | float) or not lo <= v <= hi:
            problems.append(f"{path}: key '{key}': {v!r} must be a number in {lo:g}..{hi:g}")
    if problems:
        raise InputError(f"Demand profile {path} is malformed:", problems)
    return {
        "name": str(data.get("name", path.stem)),
        "m2_per_person": float(data["m2_per_person"]),
        "share_60plus": float(data["share_60plus"]),
        "landuse_density_per_km2": float(data["landuse_density_per_km2"]),
        "source": "; ".join(
            str(data[k])
            for k in ("m2_source", "share_60plus_source", "landuse_density_source")
            if k in data
        ),
        "file": str(path),
    }


def profile_for(frames: list[gpd.GeoDataFrame | gpd.GeoSeries | None]) -> str:
    """Return the profile name for data at this location (``"china"`` or ``"world"``).

    The centre of the frames' joint bounds (in EPSG:4326) inside :data:`CHINA_BBOX`
    gives ``"china"``, anything else ``"world"`` (the bbox is coarse: it also holds
    parts of neighbouring countries; pass ``DemandOptions(profile=...)`` there).
    """
    bounds = [
        (f.to_crs(WGS84) if f.crs is not None else f).total_bounds
        for f in frames
        if f is not None and len(f)
    ]
    bounds = [b for b in bounds if np.isfinite(b).all()]
    if not bounds:
        return "world"
    b = np.array(bounds)
    lon = (b[:, 0].min() + b[:, 2].max()) / 2
    lat = (b[:, 1].min() + b[:, 3].max()) / 2
    x0, y0, x1, y1 = CHINA_BBOX
    return "china" if x0 <= lon <= x1 and y0 <= lat <= y1 else "world"


def resolve_profile(
    profile: str | os.PathLike[str] | Mapping[str, Any] | None,
    frames: list[gpd.GeoDataFrame | gpd.GeoSeries | None],
    *,
    m2_per_person: float | None = None,
    share_60plus: float | None = None,
    landuse_density_per_km2: float | None = None,
) -> dict[str, Any]:
    """Return the profile an estimate uses: the chosen one with the given overrides.

    Parameters
    ----------
    profile
        Profile name, TOML path or dict (a dict's missing keys come from ``world``);
        None: chosen from the location of ``frames`` (:func:`profile_for`).
    frames
        The region's frames (only their bounds are read, when ``profile`` is None).
    m2_per_person, share_60plus, landuse_density_per_km2
        Overrides of the profile's floor area per resident (m²), share aged 60+ and
        residents per km² of unbuilt residential landuse (None: the profile's).

    Returns
    -------
    dict
        :func:`load_profile`'s keys plus ``chosen`` (``"given"`` or ``"from the
        region's location"``); an override is named at the start of ``source``.

    Raises
    ------
    InputError
        A share outside 0..1 or a floor area per person that is not positive.
    """
    if isinstance(profile, Mapping):
        prof = {**load_profile("world"), **dict(profile)}
        chosen = "given"
    elif profile is not None:
        prof = load_profile(profile)
        chosen = "given"
    else:
        prof = load_profile(profile_for(frames))
        chosen = "from the region's location"
    if m2_per_person is not None:
        prof["m2_per_person"] = float(m2_per_person)
        prof["source"] = f"m2_per_person={m2_per_person:g} given; " + prof.get("source", "")
    if share_60plus is not None:
        if not 0 <= float(share_60plus) <= 1:
            raise InputError(f"share_60plus must be between 0 and 1, not {share_60plus}")
        prof["share_60plus"] = float(share_60plus)
        prof["source"] = f"share_60plus={share_60plus:g} given; " + prof.get("source", "")
    if landuse_density_per_km2 is not None:
        prof["landuse_density_per_km2"] = float(landuse_density_per_km2)
    m2 = float(prof["m2_per_person"])
    if m2 <= 0:
        raise InputError(f"m2_per_person must be positive, not {m2}")
    prof["chosen"] = chosen
    return prof


def profile_assumption(prof: Mapping[str, Any]) -> str:
    """Return the sentence naming the profile and its figures (for ``Demand.assumptions``)."""
    return (
        f"profile {prof['name']!r} ({prof['chosen']}): {float(prof['m2_per_person']):g} m² "
        f"floor area per person, {float(prof['share_60plus']):.1%} aged 60+ where no census "
        f"gives it, {float(prof['landuse_density_per_km2']):,.0f} residents/km² of unbuilt "
        "residential land"
    )


def shares_60plus(census_share: np.ndarray, default_share: float) -> np.ndarray:
    """Return each point's share aged 60+: its district's census share, else the profile's.

    Parameters
    ----------
    census_share
        Per point, the census share aged 60+ of its district (NaN where none is given).
    default_share
        The profile's share aged 60+ (``share_60plus``).
    """
    return np.where(np.isfinite(census_share), census_share, default_share)


__all__ = [
    "CHINA_BBOX",
    "DEFAULT_M2_PER_PERSON",
    "DEFAULT_SHARE_60PLUS",
    "LANDUSE_DENSITY_PER_KM2",
    "PROFILE_DIR",
    "load_profile",
    "profile_assumption",
    "profile_for",
    "resolve_profile",
    "shares_60plus",
]
