"""Many regions x layers on ``dask.distributed``, and one large region split by district.

A batch spec is a TOML file listing runs; each run names a region the way the CLI's
region options do and the layers to analyse::

    [defaults]                        # optional: keys every run takes unless it sets them
    mode = "network"

    [[run]]
    name = "demo"                     # the run's folder: DIR/demo/<layer>/
    region = "demo"                   # or osm = "city.osm.pbf", place = "...", gpkg = "..."
    layers = ["elderly_care", "community_services"]

    [[run]]
    name = "helsinki"
    osm = "data/helsinki.osm.pbf"     # relative paths resolve against the spec's folder
    boundaries = "data/districts.geojson"
    facilities = ["homes.csv:elderly_care:wgs84"]
    layers = ["elderly_care"]
    speed_kmh = 3.6
    split = true                      # analyse district by district (see below)

:func:`read_spec` validates the whole file at once (every problem named by file, run
and key, raised together); :func:`run_batch` runs one task per run on a ``LocalCluster``
or an existing scheduler, each task loading its region, demand and network once and
then analysing and writing every layer (:func:`run_one`). A run that fails (a corrupt
extract, a layer without data) is reported in ``batch.csv`` / ``batch.json`` and does
not stop the others.

Split and merge
---------------
A run with ``split = true`` is analysed district by district, each part with a halo as
wide as the search distance, and merged into exactly the whole region's analysis; see
:mod:`geoapp.batch_split`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import pandas as pd

from geoapp import catalog as _catalog
from geoapp import coverage, export, network, workflow
from geoapp._atomic import MANIFEST, check_manifest
from geoapp._validate import Problems, Table, did_you_mean
from geoapp.batch_split import Progress, analyse_split
from geoapp.bundle import write_bundle
from geoapp.catalog import Layer
from geoapp.demand import Demand
from geoapp.errors import GeoappError, InputError
from geoapp.region import Region
from geoapp.spec import RegionSpec, parse_facility_spec

log = logging.getLogger(__name__)

#: The summary files :func:`run_batch` writes into the output folder.
SUMMARY_CSV = "batch.csv"
SUMMARY_JSON = "batch.json"
#: Columns of ``batch.csv`` (one row per run and layer).
SUMMARY_COLUMNS = (
    "run",
    "scenario",
    "layer",
    "status",
    "error",
    "seconds",
    "load_seconds",
    "output",
    "analysis_status",
    "n_demand_points",
    "n_facilities",
    "run_id",
)
#: ``status`` values: written, failed, or not finished when the batch was interrupted.
STATUSES = ("ok", "failed", "cancelled")

#: Region source keys of a run (exactly one; ``region`` may only be ``"demo"``).
SOURCE_KEYS = ("region", "osm", "place", "gpkg")
#: Keys of a run table (and of ``[defaults]``, except ``name``).
RUN_KEYS = {
    "name": "the run's name, also its output folder (DIR/<name>/<layer>/)",
    "region": '"demo" (the embedded synthetic demo)',
    "osm": "a local .osm / .osm.pbf / .osm.bz2 extract",
    "place": "a place name fetched from OpenStreetMap",
    "gpkg": "a region saved by 'geoapp fetch'",
    "boundaries": "district boundaries file (PATH[#LAYER][:DATUM]) or 'beijing'",
    "admin_level": "OSM admin_level of the districts (an integer)",
    "census": "district population CSV or 'beijing'",
    "zones": "zone mapping: 'beijing', a TOML file or 'density'",
    "population": "population GeoTIFF",
    "facilities": "list of facility tables 'FILE:LAYER:COORDS' or {file, layer, coords}",
    "layer_files": "list of extra layer TOML files",
    "timeout": "seconds a place download may take",
    "facility_max_street_m": "largest distance (m) of a table's facility from a street",
    "layers": "list of layer ids (see 'geoapp layers')",
    "mode": "'network' or 'euclidean'",
    "speed_kmh": "walking speed in km/h",
    "catchments": "true/false: catchment polygons (default true)",
    "map": "true/false: map.html in each bundle (default true)",
    "gpkg_bundle": "true/false: bundle.gpkg in each bundle (default true)",
    "split": "true/false: analyse district by district with a halo (default false)",
    "scenario": "[[run.scenario]] tables: name and facilities added to the run's region",
}
_COORDS = ("wgs84", "gcj02", "bd09")
_NAME_RE = re.compile(r"[^\W][\w.\- ]*")


# --------------------------------------------------------------------------- the spec


@dataclass(frozen=True)
class ScenarioSpec:
    """A scenario of a run: the run's region with more facility tables.

    Attributes
    ----------
    name
        Folder of its bundles: ``DIR/<run>/<name>/<layer>/``.
    facility_tables
        ``(path, layer, coords)`` triples added to the run's own tables.
    """

    name: str
    facility_tables: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class RunSpec:
    """One validated run of a batch spec.

    Attributes
    ----------
    name
        The run's name and output folder (``DIR/<name>/<layer>/``).
    index
        Position in the spec, from 1.
    load
        The run's region recipe (:class:`~geoapp.spec.RegionSpec`; paths resolved
        against the spec's folder, ``layer_files`` included). A mapping of
        :func:`geoapp.workflow.load_region` keywords is converted
        (:meth:`RegionSpec.from_load_args <geoapp.spec.RegionSpec.from_load_args>`).
    layers
        Layer ids, in the spec's order.
    layer_files
        Extra layer TOML files (absolute paths).
    mode
        ``"network"`` or ``"euclidean"``.
    speed_kmh
        Walking speed, or None for the analysis default.
    catchments, html_map, gpkg_bundle
        Which optional outputs each bundle gets.
    split
        Analyse the region district by district (:func:`analyse_split`).
    scenarios
        Variants of the region with extra facility tables; each writes its bundles to
        ``DIR/<name>/<scenario>/<layer>/``.
    """

    name: str
    index: int
    load: RegionSpec
    layers: tuple[str, ...]
    layer_files: tuple[str, ...] = ()
    mode: str = "network"
    speed_kmh: float | None = None
    catchments: bool = True
    html_map: bool = True
    gpkg_bundle: bool = True
    split: bool = False
    scenarios: tuple[ScenarioSpec, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.load, RegionSpec):
            spec = RegionSpec.from_load_args(self.load, self.layer_files)
            object.__setattr__(self, "load", spec)


@dataclass(frozen=True)
class BatchSpec:
    """A validated batch spec: its file and its runs."""

    path: Path
    runs: tuple[RunSpec, ...]


def _resolve(base: Path, value: str) -> str:
    return str(base / Path(os.path.expanduser(value)))


def _check_file(problems: list[str], where: str, key: str, value: str, path: Path) -> None:
    if not path.is_file():
        problems.append(f"{where}: key '{key}': file {value!r} not found (looked for {path})")


def read_spec(path: str | os.PathLike[str]) -> BatchSpec:
    """Read and validate a batch spec TOML file.

    Parameters
    ----------
    path
        The spec file: ``[[run]]`` tables (and an optional ``[defaults]`` table), see
        the module docstring. Relative paths in it resolve against its folder.

    Returns
    -------
    BatchSpec

    Raises
    ------
    InputError
        Listing every problem found, each naming the file, the run (number and name)
        and the key: unknown keys, missing or duplicate names, no or several region
        sources, missing input files, unknown layers, bad values.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: batch spec not found; give the path of a TOML file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder; give the batch spec TOML file") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc}); save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}. Fix the syntax.") from None

    base = path.resolve().parent
    problems: list[str] = []
    for key in sorted(set(data) - {"run", "defaults"}):
        problems.append(
            f"{path}: key '{key}': unknown top-level key; a spec holds [[run]] tables and "
            "an optional [defaults] table"
        )
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        problems.append(f"{path}: key 'defaults': must be a table ([defaults])")
        defaults = {}
    for key in sorted(set(defaults) - set(RUN_KEYS)):
        problems.append(
            f"{path}: [defaults]: key '{key}': unknown key; allowed: {', '.join(RUN_KEYS)}"
        )
    if "name" in defaults:
        problems.append(f"{path}: [defaults]: key 'name': each run sets its own name")
    runs_raw = data.get("run")
    if runs_raw is None:
        problems.append(f"{path}: no runs; add [[run]] tables with name, a region and layers")
        runs_raw = []
    elif not isinstance(runs_raw, list) or not all(isinstance(r, dict) for r in runs_raw):
        problems.append(f"{path}: key 'run': must be [[run]] tables")
        runs_raw = []

    runs: list[RunSpec] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(runs_raw, start=1):
        name = raw.get("name")
        where = f"{path}: run {i}" + (f" ({name!r})" if isinstance(name, str) else "")
        merged = {**{k: v for k, v in defaults.items() if k in RUN_KEYS and k != "name"}, **raw}
        run = _validate_run(merged, raw, i, where, base, problems)
        if isinstance(name, str) and name:
            folded = name.casefold()
            if folded in seen:
                problems.append(
                    f"{where}: key 'name': {name!r} is also the name of run {seen[folded]}; "
                    "every run needs its own name (it is its output folder)"
                )
            seen.setdefault(folded, i)
        if run is not None:
            runs.append(run)
    if problems:
        raise InputError(f"{path}: the batch spec has {len(problems)} problem(s):", problems)
    return BatchSpec(path, tuple(runs))


_RUN_NAME = (
    "{value!r} must be a folder name: letters, digits, '_', '-', '.' and spaces, "
    "starting with a letter or digit"
)
#: Input keys of a run that name a file, and the named datasets each also accepts.
_RUN_FILES = (("boundaries", ("beijing",)), ("census", ("beijing",)),
              ("zones", ("beijing", "density")), ("population", ()))  # fmt: skip


def _folder_name(v: object) -> bool:
    return (
        isinstance(v, str)
        and bool(_NAME_RE.fullmatch(v))
        and v not in (".", "..")
        and v == v.strip()
    )


def _need_file(t: Table, key: str, value: str, path: Path) -> None:
    _check_file(t.problems.lines, t.problems.where, key, value, path)


def _run_source(t: Table, base: Path) -> dict[str, Any]:
    """Return the run's one region source (region, osm, place or gpkg) as load keywords."""
    sources = [k for k in SOURCE_KEYS if k in t]
    if len(sources) != 1:
        if sources:
            t.bad(sources[1], f"a run takes one region source; it sets {', '.join(sources)}")
        else:
            t.bad(
                "region",
                'no region; set one of region = "demo", osm = FILE, place = NAME, gpkg = FILE',
            )
        return {}
    key = sources[0]
    value = t.text(key, what="{value!r} must be a non-empty string")
    if value is None:
        return {}
    if key == "region":
        t.check(
            key,
            (
                lambda v: v == "demo",
                '{value!r}: the only named region is "demo"; use osm/place/gpkg',
            ),
        )
        return {"source": "demo"}
    if key == "place":
        return {"place": value}
    full = _resolve(base, value)
    _need_file(t, key, value, Path(full))
    return {key: full}


def _run_inputs(t: Table, base: Path) -> dict[str, Any]:
    """Boundaries, census, zones, population (a file or a named dataset), admin level, limits."""
    load: dict[str, Any] = {}
    for key, named in _RUN_FILES:
        what = "{value!r} must be a file path" + (f" or {named[0]!r}" if named else "")
        value = t.text(key, what=what)
        if value is None or value in named:
            if value is not None:
                load[key] = value
            continue
        full = _resolve(base, value)
        target = Path(full)
        if key == "boundaries":
            from geoapp.sources.boundaries import parse_boundary_spec

            target = parse_boundary_spec(full).path
        _need_file(t, key, value, target)
        load[key] = full
    level = t.integer(
        "admin_level", lo=1, hi=12, what="{value!r} must be an integer from 1 to 12 (e.g. 6)"
    )
    if level is not None:
        load["admin_level"] = level
    for key in ("timeout", "facility_max_street_m"):
        v = t.number(key, lo=0, lo_open=True, what="{value!r} must be a positive number")
        if v is not None:
            load[key] = float(v)
    return load


def _run_catalog(t: Table, base: Path) -> tuple[list[str], Mapping[str, Layer] | None]:
    """Return the run's extra layer files (resolved) and catalog (None if it cannot load)."""
    files = t.texts("layer_files", default=[], what="must be a list of layer TOML paths") or []
    files = [_resolve(base, f) for f in files]
    try:
        return files, _catalog.load_catalog(extra_files=files)
    except GeoappError as exc:
        t.bad("layer_files", str(exc))
        return files, None


def _run_layers(t: Table) -> list[str]:
    layers = (
        t.check(
            "layers",
            (
                lambda v: isinstance(v, list) and bool(v) and all(isinstance(x, str) for x in v),
                "{value!r} must be a non-empty list of layer ids",
            ),
            required='missing; list the layer ids to analyse, e.g. layers = ["elderly_care"]',
        )
        or []
    )
    if len(set(layers)) != len(layers):
        t.bad("layers", f"{layers!r} names a layer twice")
    return layers


def _known_layers(t: Table, key: str, ids: Sequence[str], cat: Mapping[str, Layer] | None) -> None:
    if cat is None:
        return
    for lid in ids:
        if lid not in cat:
            t.bad(key, f"unknown layer {lid!r}{did_you_mean(lid, cat)}; known: {', '.join(cat)}")


def _run_scenario(
    sc: Mapping[str, Any],
    k: int,
    layers: Sequence[str],
    taken: set[str],
    cat: Mapping[str, Layer] | None,
    run: Problems,
    base: Path,
) -> ScenarioSpec | None:
    """Validate one [[run.scenario]] table; ``taken``: scenario names used so far (folded)."""
    sname = sc.get("name")
    p = run.within(f"scenario {k}" + (f" ({sname!r})" if isinstance(sname, str) else ""))
    s = Table(sc, p)
    s.unknown(("name", "facilities"), hint="a scenario has a name and facilities")
    name = s.check(
        "name",
        (_folder_name, "{value!r} must be a folder name (letters, digits, '_', '-', '.', spaces)"),
        (
            lambda v: v not in layers and v.casefold() not in taken,
            "{value!r} is already a layer or scenario of this run; choose another",
        ),
        required="missing; every scenario needs a name (its output folder)",
    )
    if name is not None:
        taken.add(name.casefold())
    if not sc.get("facilities"):
        s.bad("facilities", "missing; list the facility tables this scenario adds")
    tables = _facility_tables(sc.get("facilities", []), "facilities", p.add, p.where, base, p.lines)
    _known_layers(s, "facilities", [lid for _, lid, _ in tables], cat)
    return ScenarioSpec(sname, tuple(tables)) if isinstance(sname, str) else None


def _run_scenarios(
    t: Table, layers: list[str], cat: Mapping[str, Layer] | None, base: Path
) -> list[ScenarioSpec]:
    raw = t.check(
        "scenario",
        (
            lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v),
            "must be [[run.scenario]] tables with a name and facilities",
        ),
        default=[],
    )
    taken: set[str] = set()
    found = [
        _run_scenario(sc, k, layers, taken, cat, t.problems, base)
        for k, sc in enumerate(raw or (), 1)
    ]
    return [sc for sc in found if sc is not None]


def _validate_run(
    merged: dict, raw: dict, index: int, where: str, base: Path, problems: list[str]
) -> RunSpec | None:
    """Validate one run table; append problems; return the run when it is sound."""
    start = len(problems)
    p = Problems(where, lines=problems)
    t = Table(merged, p)
    Table(raw, p).unknown(RUN_KEYS, hint=f"allowed keys are {', '.join(RUN_KEYS)}")
    name = t.check(
        "name",
        (_folder_name, _RUN_NAME),
        required="missing; every run needs a name (its output folder)",
    )
    load = {**_run_source(t, base), **_run_inputs(t, base)}
    tables = _facility_tables(
        merged.get("facilities", []), "facilities", p.add, where, base, problems
    )
    if tables:
        load["facility_tables"] = tuple(tables)
    layer_files, cat = _run_catalog(t, base)
    layers = _run_layers(t)
    scenarios = _run_scenarios(t, layers, cat, base)
    _known_layers(t, "layers", layers, cat)
    _known_layers(t, "facilities", [lid for _, lid, _ in tables], cat)
    mode = t.choice("mode", coverage.MODES, default="network")
    speed = t.number(
        "speed_kmh",
        lo=0,
        lo_open=True,
        what="{value!r} must be a positive number of km/h (e.g. 4.5 or 3.6)",
    )
    flags = {
        key: t.flag(key, default=key != "split") is True
        for key in ("catchments", "map", "gpkg_bundle", "split")
    }
    if flags["split"] and mode == "euclidean":
        t.bad("split", 'a split run needs mode = "network" (the halo bounds walking paths)')

    if len(problems) > start:
        return None
    return RunSpec(
        name=name,
        index=index,
        load=cast(RegionSpec, load),  # keywords: __post_init__ makes the RegionSpec
        layers=tuple(layers),
        layer_files=tuple(layer_files),
        mode=mode,
        speed_kmh=float(speed) if speed is not None else None,
        catchments=flags["catchments"],
        html_map=flags["map"],
        gpkg_bundle=flags["gpkg_bundle"],
        split=flags["split"],
        scenarios=tuple(scenarios),
    )


def _facility_tables(
    facilities: Any,
    key: str,
    bad: Callable[[str, str], None],
    where: str,
    base: Path,
    problems: list[str],
) -> list[tuple[str, str, str]]:
    """Validate a list of facility tables; return ``(path, layer, coords)`` triples."""
    tables: list[tuple[str, str, str]] = []
    if not isinstance(facilities, list):
        bad(key, 'must be a list, e.g. ["homes.csv:elderly_care:gcj02"]')
        return tables
    for j, item in enumerate(facilities, start=1):
        if isinstance(item, str):
            try:
                file, lid, coords = parse_facility_spec(item, where=f"entry {j}")
            except InputError as exc:
                bad(key, str(exc))
                continue
        elif isinstance(item, dict) and {"file", "layer"} <= set(item) <= {
            "file",
            "layer",
            "coords",
        }:
            file, lid, coords = item["file"], item["layer"], item.get("coords", "wgs84")
        else:
            bad(
                key,
                f"entry {j} {item!r}: a string FILE:LAYER:COORDS or a table {{file, layer, coords}}",
            )
            continue
        if not all(isinstance(x, str) for x in (file, lid, coords)):
            bad(key, f"entry {j}: file, layer and coords must be strings")
            continue
        if coords.lower() not in _COORDS:
            bad(key, f"entry {j}: coords {coords!r} must be one of {', '.join(_COORDS)}")
        full = _resolve(base, file)
        plain = full if Path(full).is_file() or "#" not in full else full.rpartition("#")[0]
        _check_file(problems, where, key, file, Path(plain))
        tables.append((full, lid, coords))
    return tables


# --------------------------------------------------------------------------- one run


@dataclass
class Outcome:
    """One row of ``batch.csv``: what happened to one layer of one run."""

    run: str
    layer: str
    status: str
    error: str = ""
    scenario: str = ""
    seconds: float = 0.0
    load_seconds: float = 0.0
    output: str = ""
    analysis_status: str = ""
    n_demand_points: int | None = None
    n_facilities: int | None = None
    run_id: str = ""

    def as_row(self) -> dict[str, Any]:
        """Return the outcome as a ``batch.csv`` row."""
        return {c: getattr(self, c) for c in SUMMARY_COLUMNS}


def _message(exc: BaseException) -> str:
    if isinstance(exc, GeoappError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _speed_kwargs(speed_kmh: float | None) -> dict[str, Any]:
    return {} if speed_kmh is None else {"speed_kmh": float(speed_kmh)}


def run_one(
    run: RunSpec,
    out_dir: str | os.PathLike[str],
    *,
    map_parts: Callable[[Callable, list], list] | None = None,
) -> list[Outcome]:
    """Load one run's region once and analyse and write each of its layers.

    This is the task :func:`run_batch` sends to the workers; it never raises for a
    failing region or layer (the failure is the returned outcome). The bundle of layer
    ``L`` goes to ``out_dir/<run name>/<L>/`` (:func:`geoapp.bundle.write_bundle`,
    atomic), exactly what ``geoapp coverage`` writes for that region and layer; each
    scenario's to ``out_dir/<run name>/<scenario>/<L>/`` (the region with the
    scenario's facility tables added, the network reused).

    Parameters
    ----------
    run
        A run from :func:`read_spec`.
    out_dir
        The batch output folder.
    map_parts
        For split runs: ``map_parts(func, parts)`` applies ``func`` to every part
        (default: one after the other here; :func:`run_batch` spreads them over the
        cluster).

    Returns
    -------
    list of Outcome
        One per scenario (the run itself first) and layer, in the run's order.
    """
    out = Path(out_dir) / run.name
    t0 = time.perf_counter()
    variants = [("", ()), *((sc.name, sc.facility_tables) for sc in run.scenarios)]
    try:
        layers = _catalog.load_catalog(extra_files=list(run.layer_files))
        region = workflow.load_region(run.load, catalog=layers)
        graph = None
        if run.mode == "network" and not run.split:
            graph = workflow.get_graph(region)
    except Exception as exc:  # noqa: BLE001 - every failure is reported, not raised
        msg = _message(exc)
        log.error(
            "run %r failed while loading its region: %s",
            run.name,
            msg,
            exc_info=not isinstance(exc, GeoappError),
        )
        secs = round(time.perf_counter() - t0, 3)
        return [
            Outcome(run.name, lid, "failed", msg, scenario=sc, load_seconds=secs)
            for sc, _ in variants
            for lid in run.layers
        ]
    base_s = time.perf_counter() - t0
    outcomes = []
    for scenario, tables in variants:
        t1 = time.perf_counter()
        try:
            reg = region
            if tables:
                reg = workflow.add_facility_tables(
                    region,
                    tables,
                    catalog=layers,
                    max_street_m=run.load.facility_max_street_m,
                )
            demand = workflow.prepare_demand(reg)
        except Exception as exc:  # noqa: BLE001 - every failure is reported, not raised
            msg = _message(exc)
            log.error("run %r scenario %r failed: %s", run.name, scenario, msg)
            secs = round(base_s + time.perf_counter() - t1, 3)
            outcomes += [
                Outcome(run.name, lid, "failed", msg, scenario=scenario, load_seconds=secs)
                for lid in run.layers
            ]
            continue
        load_s = round(base_s + time.perf_counter() - t1, 3)
        folder = out / scenario if scenario else out
        for lid in run.layers:
            outcomes.append(
                _one_layer(
                    run, reg, demand, graph, layers, lid, folder, scenario, load_s, map_parts
                )
            )
    return outcomes


def _one_layer(
    run: RunSpec,
    region: Region,
    demand: Demand,
    graph: network.WalkGraph | None,
    layers: Mapping[str, Layer],
    lid: str,
    folder: Path,
    scenario: str,
    load_s: float,
    map_parts: Callable[[Callable, list], list] | None,
) -> Outcome:
    """Analyse and write one layer of a run (or scenario); the failure is the outcome."""
    t = time.perf_counter()
    target = folder / lid
    try:
        layer = _catalog.get_layer(lid, layers)
        if run.split:
            result = analyse_split(
                region,
                layer,
                demand=demand,
                with_catchments=run.catchments,
                map_parts=map_parts,
                **_speed_kwargs(run.speed_kmh),
            )
        else:
            result = workflow.analyse_layer(
                region,
                layer,
                demand=demand,
                graph=graph,
                mode=run.mode,
                with_catchments=run.catchments,
                **_speed_kwargs(run.speed_kmh),
            )
        paths = write_bundle(result, region, target, html_map=run.html_map, gpkg=run.gpkg_bundle)
        meta = json.loads(paths["metadata"].read_text(encoding="utf-8"))
    except Exception as exc:  # noqa: BLE001 - every failure is reported, not raised
        msg = _message(exc)
        log.error(
            "run %r %slayer %r failed: %s",
            run.name,
            f"scenario {scenario!r} " if scenario else "",
            lid,
            msg,
        )
        return Outcome(
            run.name,
            lid,
            "failed",
            msg,
            scenario=scenario,
            seconds=round(time.perf_counter() - t, 3),
            load_seconds=load_s,
        )
    log.info("run %r layer %r: bundle written to %s", run.name, lid, target)
    return Outcome(
        run.name,
        lid,
        "ok",
        scenario=scenario,
        seconds=round(time.perf_counter() - t, 3),
        load_seconds=load_s,
        output=str(target),
        analysis_status=result.status,
        n_demand_points=len(result.access),
        n_facilities=len(result.facilities),
        run_id=str(meta.get("run_id", "")),
    )


# --------------------------------------------------------------------------- the batch


@dataclass
class BatchResult:
    """What :func:`run_batch` did: one outcome per run and layer, and the summary files."""

    outcomes: list[Outcome]
    csv: Path
    json: Path
    seconds: float
    scheduler: str = ""
    interrupted: bool = False

    @property
    def failed(self) -> list[Outcome]:
        """The outcomes that are not ``ok``."""
        return [o for o in self.outcomes if o.status != "ok"]

    @property
    def ok(self) -> bool:
        """True when every layer of every run was written."""
        return not self.failed and not self.interrupted


def _scenarios(run: RunSpec) -> tuple[str, ...]:
    return ("", *(sc.name for sc in run.scenarios))


def check_targets(spec: BatchSpec, out_dir: str | os.PathLike[str]) -> None:
    """Raise before any work when a bundle folder of the batch may not be written.

    Raises
    ------
    OutputError
        ``out_dir`` is a file or a bundle, or ``<run>/<layer>`` folders hold other
        files (:func:`geoapp.export.check_bundle_target`); every such folder is named.
    """
    from geoapp.errors import OutputError

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is an existing file; give a folder for the batch")
    if export.read_bundle_metadata(out) is not None:
        raise OutputError(
            f"--out {out} is a coverage bundle; give a folder of its own for the batch "
            "(each run writes DIR/<run>/<layer>/)"
        )
    problems = []
    for run in spec.runs:
        for scenario in ("", *(sc.name for sc in run.scenarios)):
            for lid in run.layers:
                try:
                    export.check_bundle_target(out / run.name / scenario / lid)
                except GeoappError as exc:
                    problems.append(str(exc))
    if problems:
        raise OutputError(
            f"{len(problems)} bundle folder(s) in {out} may not be written:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )


def reconcile_outcomes(
    outcomes: Sequence[Outcome], out_dir: str | os.PathLike[str]
) -> list[Outcome]:
    """Return the outcomes as the disk has them, so ``batch.csv`` is true to the files.

    A run marked ``cancelled`` (the batch was interrupted) whose bundle is complete on
    disk (its ``manifest.json`` matches every file) is ``ok``, with the bundle's own
    ``run_id`` and a note; an ``ok`` row records the ``run_id`` of the bundle on disk
    (the last writer's). Other rows are unchanged.
    """
    out = Path(out_dir)
    fixed = []
    for o in outcomes:
        folder = out / o.run / o.scenario / o.layer
        meta = export.read_bundle_metadata(folder) if o.status in ("ok", "cancelled") else None
        if meta is None:
            fixed.append(o)
            continue
        disk_id = str(meta.get("run_id", ""))
        if o.status == "cancelled":
            complete = (folder / MANIFEST).is_file() and not check_manifest(folder)
            if complete:
                o = replace(
                    o,
                    status="ok",
                    error="finished before the interrupt (read from its bundle on disk)",
                    output=str(folder),
                    run_id=disk_id,
                )
        elif disk_id != o.run_id:
            o = replace(o, run_id=disk_id)
        fixed.append(o)
    return fixed


def write_summary(
    outcomes: Sequence[Outcome],
    out_dir: str | os.PathLike[str],
    *,
    spec: BatchSpec | None = None,
    seconds: float | None = None,
    scheduler: str = "",
) -> tuple[Path, Path]:
    """Write ``batch.csv`` (one row per run and layer) and ``batch.json``, atomically."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame([o.as_row() for o in outcomes], columns=list(SUMMARY_COLUMNS))
    for col in ("n_demand_points", "n_facilities"):
        table[col] = table[col].astype("Int64")
    csv = export.write_csv(table, out / SUMMARY_CSV)
    doc = {
        "spec": str(spec.path) if spec is not None else "",
        "scheduler": scheduler,
        "seconds": round(seconds, 3) if seconds is not None else None,
        "n_ok": sum(o.status == "ok" for o in outcomes),
        "n_failed": sum(o.status == "failed" for o in outcomes),
        "n_cancelled": sum(o.status == "cancelled" for o in outcomes),
        "results": [o.as_row() for o in outcomes],
    }
    js = export.write_json(doc, out / SUMMARY_JSON)
    return csv, js


def _dask_map(func: Callable, items: list) -> list:
    """Map ``func`` over ``items`` on the cluster this task runs on (from inside a task)."""
    from distributed import worker_client

    with worker_client() as client:
        futures = client.map(func, items, pure=False)
        return client.gather(futures)


def run_batch(
    spec: BatchSpec,
    out_dir: str | os.PathLike[str],
    *,
    workers: int = 2,
    scheduler: str | None = None,
    local_directory: str | os.PathLike[str] | None = None,
    memory_limit: str | float | None = "auto",
    progress: Progress | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> BatchResult:
    """Run every run of ``spec`` on dask.distributed and write the batch summary.

    Parameters
    ----------
    spec
        From :func:`read_spec`.
    out_dir
        Output folder: each bundle goes to ``out_dir/<run>/<layer>/``, the summary to
        ``out_dir/batch.csv`` and ``batch.json``. With ``scheduler`` the workers write
        there too, so it must be the same path on every worker (a shared disk).
    workers
        Worker processes of the ``LocalCluster`` (one thread each); ignored with
        ``scheduler``.
    scheduler
        Address of a running scheduler (``tcp://host:8786``) instead of a local cluster.
    local_directory
        Scratch folder of the local workers (default: dask's temporary folder).
    memory_limit
        Per local worker, as for ``LocalCluster``.
    progress
        ``progress(message, fraction)``, called as runs finish.
    on_outcome
        Called with every outcome as its run finishes.

    Returns
    -------
    BatchResult
        Failed runs are in it (``status = "failed"`` with the error message); they
        never stop the others. On Ctrl-C the unfinished runs are cancelled, the
        summary marks them ``cancelled``, the cluster is closed and
        :class:`KeyboardInterrupt` propagates.
    """
    from distributed import Client, LocalCluster, as_completed

    out = Path(out_dir).resolve()
    check_targets(spec, out)
    t0 = time.perf_counter()
    n_total = sum(len(r.layers) * len(_scenarios(r)) for r in spec.runs)
    done: dict[int, list[Outcome]] = {}

    def finish(run: RunSpec, outcomes: list[Outcome]) -> None:
        done[run.index] = outcomes
        for o in outcomes:
            if on_outcome is not None:
                on_outcome(o)
        n_done = sum(len(v) for v in done.values())
        bad = sum(o.status != "ok" for o in outcomes)
        msg = f"{run.name}: {len(outcomes) - bad} of {len(outcomes)} layers written"
        (log.warning if bad else log.info)("%s", msg)
        if progress is not None:
            progress(msg, n_done / max(n_total, 1))

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=int(workers),
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # a free local port: never clash, never public
            local_directory=str(local_directory) if local_directory is not None else None,
            memory_limit=memory_limit,
        )
        address = cluster.scheduler_address
    else:
        address = scheduler
    interrupted = connected = False
    try:
        try:
            client = Client(cluster if cluster is not None else scheduler)
            connected = True
            out.mkdir(parents=True, exist_ok=True)
        except (OSError, TimeoutError, ValueError) as exc:
            raise GeoappError(
                f"--scheduler {scheduler}: cannot connect to a dask scheduler there ({exc}); "
                "start one (`dask scheduler`, then `dask worker ADDRESS`) or leave out "
                "--scheduler to use a local cluster."
            ) from None
        with client:
            log.info("batch of %d runs on %s", len(spec.runs), address)
            if progress is not None:
                progress(f"{len(spec.runs)} runs on {address}", 0.0)
            futures = {}
            for run in spec.runs:
                fut = client.submit(
                    run_one,
                    run,
                    str(out),
                    map_parts=_dask_map if run.split else None,
                    key=f"geoapp-run-{run.index}-{run.name}",
                    pure=False,
                )
                futures[fut] = run
            try:
                for fut in as_completed(futures):
                    run = futures[fut]
                    try:
                        outcomes = fut.result()
                    except Exception as exc:  # noqa: BLE001 - a dead worker fails its run
                        msg = f"the worker running it failed: {_message(exc)}"
                        outcomes = [
                            Outcome(run.name, lid, "failed", msg, scenario=sc)
                            for sc in _scenarios(run)
                            for lid in run.layers
                        ]
                    finish(run, outcomes)
            except KeyboardInterrupt:
                interrupted = True
                client.cancel(list(futures))
                raise
    finally:
        if cluster is not None:
            cluster.close()
        if connected:  # also on Ctrl-C: what finished is recorded, the rest cancelled
            outcomes = []
            for run in spec.runs:
                outcomes += done.get(
                    run.index,
                    [
                        Outcome(
                            run.name, lid, "cancelled", "the batch was interrupted", scenario=sc
                        )
                        for sc in _scenarios(run)
                        for lid in run.layers
                    ],
                )
            seconds = time.perf_counter() - t0
            outcomes = reconcile_outcomes(outcomes, out)
            csv, js = write_summary(outcomes, out, spec=spec, seconds=seconds, scheduler=address)
    return BatchResult(outcomes, csv, js, seconds, address, interrupted)
