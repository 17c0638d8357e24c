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
  ``site-packages/pyogrio/tests/fixtures/naturalearth_lowres/``.

Usage::

    python tools/build_ages.py WPP_DATA_DIR geoapp/data/ages
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pycountry
import pyogrio
import pyreadr

YEAR = 2025

#: Natural Earth rows without an ISO 3166 alpha-3 code (``-99``): the WPP country whose
#: figures they take (N. Cyprus: Cyprus; Somaliland: Somalia; Kosovo: WPP's own entry).
NE_FIXES = {"France": "FRA", "Norway": "NOR", "N. Cyprus": "CYP", "Somaliland": "SOM"}
#: WPP locations whose M49 code pycountry does not know.
M49_EXTRA = {412: "XKX", 830: "CHI"}


def shares(wpp_dir: Path) -> pd.DataFrame:
    """Return one row per WPP location: ``m49``, ``iso3``, ``name``, shares, total."""
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


def main(wpp_dir: str, out_dir: str) -> None:
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


if __name__ == "__main__":
    main(*sys.argv[1:3])
