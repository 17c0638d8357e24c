"""Facility capacity from OSM tags: ``capacity:beds``, ``beds``, ``capacity`` ...

:func:`parse_capacity` reads capacity-like tag values (``"120 beds"``, ``"约50床"``,
``"20-30"``) as numbers; :func:`capacity_columns` gives a layer's facilities their
``capacity``, ``capacity_source`` and ``capacity_raw`` columns, from the first tag of
:data:`CAPACITY_TAG_KEYS` that parses, else the layer's default. Used by the OSM
sources (which tags to read), the facility tables and :mod:`geoapp.layers`.
"""

from __future__ import annotations

import logging
import re
from typing import Any, cast

import numpy as np
import pandas as pd

from geoapp.catalog import Layer

log = logging.getLogger(__name__)

__all__ = ["CAPACITY_TAG_KEYS", "MAX_CAPACITY", "capacity_columns", "parse_capacity"]

#: OSM tags read as a facility's capacity, in order of precedence: the first one that
#: parses wins (``capacity:beds`` and ``beds`` count beds; ``capacity`` is OSM's
#: general "how many people/places"; ``capacity:persons`` is rare but mapped).
CAPACITY_TAG_KEYS = ("capacity:beds", "beds", "capacity", "capacity:persons")
#: Capacities above this are taken as mapping errors (unknown).
MAX_CAPACITY = 100_000.0

_NUM = r"(\d+(?:\.\d+)?)"
_CAPACITY_RX = re.compile(
    r"^(?:approx\.?|approximately|about|around|ca\.?|circa|c\.|~|≈|约|大约|近)?\s*"
    + _NUM
    + r"\s*(?:(?:-|–|—|~|to|至|到)\s*"
    + _NUM
    + r")?\s*[a-z\u4e00-\u9fff()（）.\s]*$"
)


def parse_capacity(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """Parse OSM capacity-like tag values (``capacity``, ``beds``) to numbers.

    ``"120"``, ``"120 beds"``, ``"120张"``, ``"1,200"``, ``"approx. 50"``, ``"ca 50"``
    and ``"约50床"`` give the number; a range ``"20-30"`` gives its midpoint (25).
    Anything else (``"yes"``, ``"many"``, ``"20;30"``, a negative number, a value above
    :data:`MAX_CAPACITY`) is unknown.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Float capacities (NaN = unknown) and a boolean mask of the values that were
        given (not empty) but could not be read.
    """
    s = pd.Series(values, dtype="object").astype("string").str.strip().str.lower()
    given = (s.notna() & (s != "")).to_numpy(dtype=bool)
    s = s.str.replace("，", ",", regex=False).str.replace(r"(?<=\d),(?=\d{3}\b)", "", regex=True)
    parts = s.str.extract(_CAPACITY_RX)
    lo = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    hi = pd.to_numeric(parts[1], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    out = np.where(np.isnan(hi), lo, (lo + hi) / 2.0)
    out[~np.isnan(hi) & (hi < lo)] = np.nan
    out[out > MAX_CAPACITY] = np.nan
    return out, given & np.isnan(out)


def capacity_columns(facilities: pd.DataFrame, layer: Layer) -> dict[str, np.ndarray]:
    """Return the capacity columns of a layer's facilities, from tags or the layer default.

    Parameters
    ----------
    facilities
        Features of one layer (tag columns as in the ``features`` table, ``osm_id``).
    layer
        The layer; its ``capacity`` table's ``default`` (if any) fills unknown values.

    Returns
    -------
    dict
        ``capacity`` (float, NaN = unknown), ``capacity_source`` (``"table"`` for rows
        of a facility table, ``"osm"`` for an OSM capacity tag (the demo's synthetic
        tags included), ``"layer_default"``, or ``""`` when unknown) and
        ``capacity_raw`` (the tag text read, or the first unreadable one, else "").
        The first of :data:`CAPACITY_TAG_KEYS` that parses wins.
    """
    n = len(facilities)
    cap = np.full(n, np.nan)
    raw = np.full(n, "", dtype=object)
    for key in CAPACITY_TAG_KEYS:
        if key not in facilities.columns:
            continue
        text = facilities[key].to_numpy(dtype=object)
        val, bad = parse_capacity(text)
        take = np.isnan(cap) & ~np.isnan(val)
        cap[take] = val[take]
        raw[take] = text[take]
        unread = np.isnan(cap) & bad & (raw == "")
        raw[unread] = text[unread]
    source = np.full(n, "", dtype=object)
    known = ~np.isnan(cap)
    if "osm_id" in facilities.columns:
        table = facilities["osm_id"].astype(str).str.startswith("table/").to_numpy(dtype=bool)
    else:
        table = np.zeros(n, dtype=bool)
    source[known & table] = "table"
    source[known & ~table] = "osm"
    default = (layer.capacity or {}).get("default")
    if default is not None:
        fill = ~known
        cap[fill] = float(cast(float, default))  # a number (the catalog checks it)
        source[fill] = "layer_default"
    n_bad = int(((raw != "") & ~known).sum())
    if n_bad:  # geoapp.sfca turns this into a warning sentence of the run
        log.info(
            "layer %s: %d facilities have a capacity tag that is not a number (e.g. %r); "
            "their capacity is %s",
            layer.id,
            n_bad,
            str(raw[(raw != "") & ~known][0]),
            "the layer default" if default is not None else "unknown",
        )
    return {"capacity": cap, "capacity_source": source, "capacity_raw": raw}
