"""Demand profiles: floor area per person, share aged 60+, density of residential land.

A profile is a TOML file in ``geoapp/data/profiles/`` (:data:`PROFILE_DIR`), read by
:func:`load_profile` and chosen from the region's location by :func:`profile_for`;
:func:`resolve_profile` applies the caller's overrides (the first step of
:func:`geoapp.demand.estimate_population`).

**Ages by country** (:func:`country_ages`). The share aged 60+ (and 65+) of every
point comes, in this order, from: its district's census share (a census with
``pop_60plus``); the caller's ``share_60plus``; a profile given as a file or dict that
sets one; else the share of the country the point lies in, from the UN World
Population Prospects 2024 (:data:`AGES_DIR`, ``wpp2024_ages.csv``: 1 July 2025, medium
variant; ``SOURCE.md`` there cites it), the country found in Natural Earth's 1:110m
polygons (``countries.geojson``), or, for the countries under 5,000 km² (Monaco,
Andorra, Liechtenstein, San Marino, Luxembourg, ...), in their 10 m outlines from
OpenStreetMap (``small_countries.geojson``). A point in no country (off every coast by more than
:data:`COUNTRY_SNAP_KM`) or in one WPP gives no figure for takes the World figure, with
a warning naming the country. The shipped profiles' own ``share_60plus`` (China, census
2020; World) is then only the figure reported for the profile. A ``--population``
raster carries no ages: for local shares give WorldPop's age/sex rasters
(``--age-rasters``, :func:`geoapp.demand.estimate.raster_ages`: the share of each
point's cell, before the country's), ``--share-60plus`` or a census with ``pop_60plus``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoapp._presets import preset_path
from geoapp._validate import Problems, Table, read_toml
from geoapp.demand.frames import WGS84, first_containing
from geoapp.errors import InputError

#: Folder of the shipped profiles (``china.toml``, ``world.toml``).
PROFILE_DIR = Path(__file__).resolve().parent.parent / "data" / "profiles"
#: Folder of the shares by age per country (``wpp2024_ages.csv``, ``countries.geojson``,
#: ``SOURCE.md``).
AGES_DIR = Path(__file__).resolve().parent.parent / "data" / "ages"
#: The shipped profiles: their share aged 60+ gives way to the country's.
SHIPPED_PROFILES = ("china", "world")
#: A point outside every country polygon takes the nearest country within this distance
#: (km; measured in degrees of latitude, about 111 km each): the 1:110m coastlines cut
#: off islands and harbours.
COUNTRY_SNAP_KM = 50.0
#: Edition and date of the ages table, for sentences and metadata.
AGES_SOURCE = (
    "UN World Population Prospects 2024 (medium variant, population by five-year age "
    "group, 1 July 2025; CC BY 3.0 IGO)"
)

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
    data = read_toml(path, what="demand profile")
    problems = Problems(path)
    t = Table(data, problems)
    for key, lo, hi in (
        ("m2_per_person", 1.0, 500.0),
        ("share_60plus", 0.0, 1.0),
        ("landuse_density_per_km2", 0.0, 200_000.0),
    ):
        t.number(
            key,
            lo=lo,
            hi=hi,
            required=f"missing; give a number in {lo:g}..{hi:g}",
            what=f"{{value!r}} must be a number in {lo:g}..{hi:g}",
        )
    problems.raise_if_any(f"Demand profile {path} is malformed:")
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
        region's location"``) and ``ages_by_country`` (True: the share aged 60+ is the
        country's, :func:`country_ages`; a shipped profile without a ``share_60plus``
        override); an override is named at the start of ``source``.

    Raises
    ------
    InputError
        A share outside 0..1 or a floor area per person that is not positive.
    """
    by_country = False
    if isinstance(profile, Mapping):
        prof = {**load_profile("world"), **dict(profile)}
        chosen = "given"
        by_country = "share_60plus" not in profile
    elif profile is not None:
        prof = load_profile(profile)
        chosen = "given"
        by_country = str(profile) in SHIPPED_PROFILES
    else:
        prof = load_profile(profile_for(frames))
        chosen = "from the region's location"
        by_country = True
    if m2_per_person is not None:
        prof["m2_per_person"] = float(m2_per_person)
        prof["source"] = f"m2_per_person={m2_per_person:g} given; " + prof.get("source", "")
    if share_60plus is not None:
        if not 0 <= float(share_60plus) <= 1:
            raise InputError(f"share_60plus must be between 0 and 1, not {share_60plus}")
        prof["share_60plus"] = float(share_60plus)
        prof["source"] = f"share_60plus={share_60plus:g} given; " + prof.get("source", "")
        by_country = False
    if landuse_density_per_km2 is not None:
        prof["landuse_density_per_km2"] = float(landuse_density_per_km2)
    m2 = float(prof["m2_per_person"])
    if m2 <= 0:
        raise InputError(f"m2_per_person must be positive, not {m2}")
    prof["chosen"] = chosen
    prof["ages_by_country"] = by_country
    return prof


@functools.cache
def age_table() -> pd.DataFrame:
    """Return the shipped shares by age per country (``wpp2024_ages.csv``), index ``iso3``.

    Columns ``m49``, ``name``, ``share_60plus``, ``share_65plus``, ``pop_thousands``; row
    ``WLD`` is the World.
    """
    table = pd.read_csv(AGES_DIR / "wpp2024_ages.csv", keep_default_na=False, na_values=[""])
    return table.set_index("iso3")


@functools.cache
def country_polygons() -> gpd.GeoDataFrame:
    """Return the shipped country polygons (``countries.geojson``): ``iso3``, ``name``."""
    return gpd.read_file(AGES_DIR / "countries.geojson").to_crs(WGS84)


@functools.cache
def small_country_polygons() -> gpd.GeoDataFrame:
    """Return the small countries' polygons at 10 m (``small_countries.geojson``).

    Columns ``iso3``, ``name``, ``area_km2``: every country under 5,000 km² that WPP
    gives figures for (Monaco, Andorra, Liechtenstein, San Marino, Luxembourg, Malta,
    Singapore, island states, ...), which the 1:110m map lacks or draws too coarsely.
    """
    return gpd.read_file(AGES_DIR / "small_countries.geojson").to_crs(WGS84)


@dataclass(frozen=True)
class CountryAges:
    """The share aged 60+ and 65+ of each point, from its country (:func:`country_ages`).

    Attributes
    ----------
    iso3
        The point's country (``""``: none found).
    share_60plus, share_65plus
        Per point, the country's shares (the World's where it has none).
    countries
        One row per country found: ``iso3``, ``name``, ``share_60plus``,
        ``share_65plus``, ``points`` (how many points), most points first.
    warnings
        Sentences naming the countries that fell back to the World figure.
    """

    iso3: np.ndarray
    share_60plus: np.ndarray
    share_65plus: np.ndarray
    countries: pd.DataFrame
    warnings: tuple[str, ...] = ()


def country_ages(points: np.ndarray | gpd.GeoSeries) -> CountryAges:
    """Return the share aged 60+ and 65+ of the country each point lies in (WPP 2024).

    Parameters
    ----------
    points
        EPSG:4326 points (shapely geometries or a GeoSeries in any CRS).

    Notes
    -----
    Each point is first looked up, exactly, in the small countries' 10 m outlines
    (:func:`small_country_polygons`); the others on a 0.01° grid (about 1 km; the 1:110m
    borders are coarser) in the 1:110m map less those small countries (a point in its
    hole takes the nearest country within :data:`COUNTRY_SNAP_KM`), so a region of
    100,000 points costs a few hundred polygon tests.
    """
    if isinstance(points, gpd.GeoSeries):
        geoms = np.asarray(
            (points.to_crs(WGS84) if points.crs is not None else points).to_numpy(), dtype=object
        )
    else:
        geoms = np.asarray(points, dtype=object)
    table = age_table()
    rec: dict[str, dict[str, Any]] = {
        str(k): {str(c): x for c, x in v.items()} for k, v in table.to_dict("index").items()
    }
    world = rec["WLD"]
    n = len(geoms)
    iso = np.full(n, "", dtype=object)
    ok = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    if ok.any():
        exact = shapely.point_on_surface(geoms[ok])
        small = small_country_polygons()
        ks = first_containing(gpd.GeoSeries(exact, crs=WGS84), small.geometry)
        iso[np.flatnonzero(ok)[ks >= 0]] = small["iso3"].to_numpy(dtype=object)[ks[ks >= 0]]
        ok[np.flatnonzero(ok)[ks >= 0]] = False  # the rest: on the 1:110m map
    if ok.any():
        xy = np.round(shapely.get_coordinates(shapely.point_on_surface(geoms[ok])), 2)
        cells, inverse = np.unique(xy, axis=0, return_inverse=True)
        inverse = np.asarray(inverse).reshape(-1)
        polys = country_polygons()
        polys = polys[~polys["iso3"].isin(set(small["iso3"]))].reset_index(drop=True)
        cell_pts = gpd.GeoSeries(shapely.points(cells), crs=WGS84)
        k = first_containing(cell_pts, polys.geometry)
        miss = np.flatnonzero(k < 0)
        if len(miss):
            pi, gi = polys.sindex.nearest(
                cell_pts.iloc[miss].to_numpy(), max_distance=COUNTRY_SNAP_KM / 111.0
            )
            k[miss[pi]] = gi
        cell_iso = np.where(k >= 0, polys["iso3"].to_numpy(dtype=object)[np.maximum(k, 0)], "")
        iso[ok] = cell_iso[inverse]
    known = np.array([c in rec and c != "" for c in iso], dtype=bool)
    s60 = np.array([float(rec[c]["share_60plus"]) if ok_ else float(world["share_60plus"])
                    for c, ok_ in zip(iso, known, strict=True)], dtype=float)  # fmt: skip
    s65 = np.array([float(rec[c]["share_65plus"]) if ok_ else float(world["share_65plus"])
                    for c, ok_ in zip(iso, known, strict=True)], dtype=float)  # fmt: skip
    warnings: list[str] = []
    counts = pd.Series(iso).value_counts()
    rows = []
    names = (
        pd.concat([country_polygons(), small_country_polygons()])
        .drop_duplicates("iso3")
        .set_index("iso3")["name"]
    )
    for code, cnt in counts.items():
        if code == "":
            warnings.append(
                f"{cnt:,} demand points lie in no country of the shipped map (more than "
                f"{COUNTRY_SNAP_KM:g} km off its coasts): the World share aged 60+ "
                f"({float(world['share_60plus']):.1%}) was used there; give --share-60plus or --age-rasters."
            )
            continue
        if code not in rec:
            warnings.append(
                f"No share aged 60+ is shipped for {names.get(code, code)} ({code}; "
                f"{cnt:,} demand points): the World share ({float(world['share_60plus']):.1%}, "
                f"{AGES_SOURCE}) was used there; give --share-60plus or --age-rasters."
            )
            continue
        rows.append(
            {
                "iso3": code,
                "name": str(rec[str(code)]["name"]),
                "share_60plus": float(rec[str(code)]["share_60plus"]),
                "share_65plus": float(rec[str(code)]["share_65plus"]),
                "points": int(cnt),
            }
        )
    countries = pd.DataFrame(
        rows, columns=["iso3", "name", "share_60plus", "share_65plus", "points"]
    )
    return CountryAges(iso, s60, s65, countries, tuple(warnings))


def ages_by_country(prof: Mapping[str, Any]) -> bool:
    """Return True when the profile's share aged 60+ gives way to the countries' (WPP).

    It does for the shipped profiles (chosen from the location or named) unless the
    caller gave ``share_60plus``; a profile file or dict keeps its own figure.
    """
    return bool(prof.get("ages_by_country"))


def profile_assumption(prof: Mapping[str, Any]) -> str:
    """Return the sentence naming the profile and its figures (for ``Demand.assumptions``)."""
    if prof.get("countries"):
        ages = "aged 60+ where no census gives it: " + ", ".join(
            f"{c['name']} {c['share_60plus']:.1%}" for c in prof["countries"][:3]
        )
        ages += f" ({AGES_SOURCE})"
    else:
        ages = f"{float(prof['share_60plus']):.1%} aged 60+ where no census gives it"
    return (
        f"profile {prof['name']!r} ({prof['chosen']}): {float(prof['m2_per_person']):g} m² "
        f"floor area per person, {ages}, "
        f"{float(prof['landuse_density_per_km2']):,.0f} residents/km² of unbuilt "
        "residential land in a city"
    )


def apply_country_ages(prof: dict[str, Any], ages: CountryAges, pop: np.ndarray) -> None:
    """Record the countries' shares in the profile (in place; ``prof`` is the run's own).

    ``share_60plus`` / ``share_65plus`` become the residents-weighted shares of the
    points' countries, ``countries`` the list of :class:`CountryAges` rows and the
    source names WPP 2024.
    """
    w = np.asarray(pop, dtype=float)
    if w.sum() > 0:
        prof["share_60plus"] = float(np.average(ages.share_60plus, weights=w))
        prof["share_65plus"] = float(np.average(ages.share_65plus, weights=w))
    prof["countries"] = ages.countries.to_dict("records")
    first = "; ".join(
        f"{c['name']}: {c['share_60plus']:.2%} aged 60+, {c['share_65plus']:.2%} aged 65+"
        for c in prof["countries"][:3]
    )
    note = f"share aged 60+ by country, {AGES_SOURCE}" + (f" ({first})" if first else "")
    src = [p for p in str(prof.get("source", "")).split("; ") if "aged 60+" not in p]
    prof["source"] = "; ".join([*src, note])


def shares_60plus(census_share: np.ndarray, default_share: float | np.ndarray) -> np.ndarray:
    """Return each point's share aged 60+: its district's census share, else the profile's.

    Parameters
    ----------
    census_share
        Per point, the census share aged 60+ of its district (NaN where none is given).
    default_share
        The share aged 60+ where no census gives it: one figure (``share_60plus``) or one
        per point (the points' countries, :func:`country_ages`).
    """
    return np.where(np.isfinite(census_share), census_share, default_share)


__all__ = [
    "AGES_DIR",
    "AGES_SOURCE",
    "COUNTRY_SNAP_KM",
    "SHIPPED_PROFILES",
    "CountryAges",
    "age_table",
    "ages_by_country",
    "apply_country_ages",
    "country_ages",
    "country_polygons",
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
