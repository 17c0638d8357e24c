"""geoapp: geospatial planning and service-coverage analyzer.

Who is within walking reach of elderly care, community services and heritage, and
where the gaps are, above all between the urban core, the new towns and rural areas.

The library in one screen (every name below is a :mod:`geoapp` attribute)::

    import geoapp

    region = geoapp.load_region("demo")          # or geoapp.RegionSpec(osm="city.osm.pbf",
                                                 #    census="census.csv", zones="density")
    result = geoapp.analyse(region, "elderly_care")  # demand and walking graph prepared
    result.summary                               # share within each radius, per district
    geoapp.write_bundle(result, region, "out/elderly_care/")   # GeoJSON, CSV, GeoPackage, map

    zones = geoapp.compare(region, {"elderly_care": result})   # core / new towns / rural
    sites = geoapp.site(region, "elderly_care", 3)             # three new sites
    beds = geoapp.supply(region, "elderly_care")               # beds per 1,000 and 2SFCA
    what_if = geoapp.Scenario.build(region, "elderly_care")    # add, close, move facilities
    geoapp.report(geoapp.RegionSpec(region="demo"), "out/report/")  # HTML + PDF report

``analyse``, ``site``, ``supply`` and ``Scenario.build`` take the same head: a region
(a :class:`Region`, a :class:`RegionSpec` or a preset name such as ``"demo"``) and a
layer (a ``Layer`` or its id, see ``geoapp layers``). Errors a user can cause are
:class:`GeoappError` subclasses (:class:`InputError`, :class:`OutputError` ...) whose
message names the file, row or key and what to do.

``import geoapp`` is cheap: the names above and the submodules (``geoapp.workflow``,
``geoapp.network`` ...) are imported on first use (PEP 562).
"""

from __future__ import annotations

import importlib as _importlib
import importlib.util as _importlib_util
import logging as _logging
import pkgutil as _pkgutil

__version__ = "0.1.0"

_logging.getLogger(__name__).addHandler(_logging.NullHandler())

#: The front door: each name and the module it comes from (imported on first use).
_FACE = {
    # region and layers
    "load_region": "geoapp.inputs",
    "RegionSpec": "geoapp.spec",
    "get_layer": "geoapp.catalog",
    # analyses
    "analyse": "geoapp.workflow",
    "compare": "geoapp.workflow",
    "site": "geoapp.workflow",
    "supply": "geoapp.workflow",
    "Scenario": "geoapp.scenario",
    # outputs
    "report": "geoapp.assess",
    "write_bundle": "geoapp.bundle",
    # result types
    "Region": "geoapp.region",
    "Layer": "geoapp.catalog",
    "Demand": "geoapp.demand",
    "LayerAnalysis": "geoapp.workflow",
    "SitingResult": "geoapp.siting",
    "SupplyAnalysis": "geoapp.workflow",
    # errors
    "GeoappError": "geoapp.errors",
    "InputError": "geoapp.errors",
    "OutputError": "geoapp.errors",
    "LayerFileError": "geoapp.errors",
    "StandardFileError": "geoapp.errors",
    "CRSError": "geoapp.errors",
    "NetworkUnavailableError": "geoapp.errors",
    "PlaceNotFoundError": "geoapp.errors",
    "EmptyResultError": "geoapp.errors",
}

__all__ = ["__version__", *_FACE]


def __getattr__(name: str) -> object:
    """Import a front-door name or a submodule on first use (PEP 562)."""
    if name in _FACE:
        value = getattr(_importlib.import_module(_FACE[name]), name)
    elif not name.startswith("__") and _importlib_util.find_spec(f"{__name__}.{name}"):
        value = _importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # the next access finds it without this function
    return value


def __dir__() -> list[str]:
    """Return the front door's names and the public submodules (for completion, ``help``)."""
    modules = {m.name for m in _pkgutil.iter_modules(__path__) if not m.name.startswith("_")}
    return sorted({*__all__, *modules})
