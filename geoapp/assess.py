"""The assessment report: every layer analysed and judged against a standards profile.

:func:`assess` is the computation behind ``geoapp report`` and ``geoapp verify`` (the
same recipe gives the same figures); :func:`report` (also ``geoapp.report``) writes the
report folder: ``report.html``/``.pdf``, ``compliance.csv``, ``bundles/<layer>/`` and
``report.json``, which records the region's :class:`~geoapp.spec.RegionSpec` (key
``params.region``), every other parameter and the SHA-256 of every input, so
:func:`geoapp.verify.verify` can re-run it. Reports written before the spec record
``params.region_args`` (``load_region`` keywords) and ``params.layer_files``;
:func:`recorded_spec` reads both forms.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from geoapp import catalog as _catalog
from geoapp import export
from geoapp import zones as _zones
from geoapp._atomic import write_manifest
from geoapp.bundle import write_bundle
from geoapp.catalog import Layer
from geoapp.demand import PROFILE_DIR, Demand
from geoapp.errors import InputError
from geoapp.inputs import Progress, catalog_of, get_graph, load_region, region_demand, spec_of, tick
from geoapp.paths import package_file, public_path, scrub_paths
from geoapp.region import Region
from geoapp.spec import DEFAULT_TIMEOUT_S, PRESETS, RegionSpec, as_spec
from geoapp.workflow import (
    LayerAnalysis,
    analyse_layer,
    heritage,
    region_meta,
    speed_kmh_of,
    versions,
    zones_table,
)


@dataclass
class Assessment:
    """Everything one report run computed (:func:`assess`); nothing read from ``attrs``."""

    region: Region
    layers: dict[str, Layer]
    demand: Demand
    analyses: dict[str, LayerAnalysis]
    zones: pd.DataFrame
    compliance: pd.DataFrame
    profile: Any
    projection: dict[str, Any] | None = None
    heritage: Any = None
    #: The recipe the region was loaded from (None for a region built from frames).
    spec: RegionSpec | None = None


def recorded_spec(params: Mapping[str, Any]) -> RegionSpec:
    """Return the region recipe of a report's ``params`` (``report.json``).

    ``params["region"]`` (:meth:`RegionSpec.to_dict`), or, in reports written before
    it, ``params["region_args"]`` (``load_region`` keywords) with
    ``params["layer_files"]``.
    """
    if params.get("region") is not None:
        return RegionSpec.from_dict(params["region"])
    return RegionSpec.from_load_args(
        params.get("region_args") or {}, [str(f) for f in params.get("layer_files") or []]
    )


def _recipe(
    region: Region | RegionSpec | str | Mapping[str, Any] | None,
    region_args: Mapping[str, Any] | None,
    layer_files: Iterable[str | os.PathLike[str]],
) -> Region | RegionSpec:
    """Return the region (loaded) or its spec, from the new or the older arguments."""
    files = tuple(str(f) for f in layer_files)
    if region_args is not None:
        if region is not None:
            raise InputError("give the region as a RegionSpec or as region_args, not both")
        return RegionSpec.from_load_args(region_args, files)
    if isinstance(region, Region):
        if files:
            raise InputError(
                "layer_files apply when a region is loaded; put them in its RegionSpec"
            )
        return region
    spec = as_spec(region) if region is not None else RegionSpec()
    return spec.replace(layer_files=(*spec.layer_files, *files)) if files else spec


def assess(
    region: Region | RegionSpec | str | None = None,
    *,
    layers: Iterable[str] | None = None,
    standard: str | None = None,
    projection: str | None = None,
    year: int | None = None,
    mode: str = "network",
    speed_kmh: float | None = None,
    progress: Progress | None = None,
    region_args: Mapping[str, Any] | None = None,
    layer_files: Iterable[str] = (),
) -> Assessment:
    """Load the region, analyse the layers and judge them against a standards profile.

    The computation behind ``geoapp report`` and ``geoapp verify`` (same recipe, same
    figures).

    Parameters
    ----------
    region
        A :class:`~geoapp.spec.RegionSpec`, a preset name, or a region loaded already
        (used as it is); None: the demo.
    layers
        Layer ids (default every layer of the catalog but ``heritage``).
    standard, projection, year
        Standards profile (a shipped id or a TOML file), projection table and year.
    mode, speed_kmh
        As for :func:`geoapp.workflow.analyse_layer`.
    region_args, layer_files
        The older form of the recipe (``load_region`` keywords and extra layer files),
        as reports before :class:`~geoapp.spec.RegionSpec` recorded it.
    """
    from geoapp import compliance as _compliance
    from geoapp import projection as _projection
    from geoapp import standards as _standards

    recipe = _recipe(region, region_args, layer_files)
    if isinstance(recipe, Region):
        loaded, spec, cat = recipe, spec_of(recipe), catalog_of(recipe)
    else:
        spec = recipe
        cat = _catalog.load_catalog(extra_files=list(spec.layer_files))
        loaded = load_region(spec, catalog=cat, progress=progress)
    chosen = [
        _catalog.get_layer(lid, cat)
        for lid in (layers or [lid for lid in cat if lid != "heritage"])
    ]
    demand = region_demand(loaded, progress=progress)
    proj_info = None
    before_demand = demand
    if projection:
        table = _projection.read_projection(projection)
        demand, proj_info = _projection.apply_projection(demand, table, year=year)
        proj_info = {**proj_info, "file": public_path(projection)}  # shown in the report
    graph = get_graph(loaded, progress=progress) if mode == "network" else None
    analyses = {}
    for k, layer in enumerate(chosen):
        tick(
            progress,
            f"Analysing {layer.name()} ({k + 1}/{len(chosen)})",
            0.3 + 0.4 * k / len(chosen),
        )
        analyses[layer.id] = analyse_layer(
            loaded,
            layer,
            demand=demand,
            graph=graph,
            mode=mode,
            speed_kmh=speed_kmh,
            with_catchments=False,
        )
    zones = zones_table(loaded, analyses) if analyses else pd.DataFrame()
    if proj_info is not None:
        proj_info = _projection_gap(proj_info, analyses, before_demand)
    profile = _standards.profile_for_layers(chosen, standard)
    comp = _compliance.compliance_table(
        {k: a.access for k, a in analyses.items()},
        {k: a.facilities for k, a in analyses.items()},
        {k: a.layer for k, a in analyses.items()},
        profile,
        boundaries=loaded.boundaries,
        search_limit_m={k: float(a.meta["search_limit_m"]) for k, a in analyses.items()},
        region_name=loaded.name,
    )
    her = None
    if "heritage" in cat:
        her_access = analyses["heritage"].access if "heritage" in analyses else None
        her = heritage(loaded, her_access, layer=cat["heritage"])
    return Assessment(
        loaded, cat, demand, analyses, zones, comp, profile, proj_info, her, spec=spec
    )


def assess_supply(result: Assessment, *, mode: str = "network", method: str = "2sfca") -> dict:
    """Capacity against demand of each analysed layer with ``[capacity]`` and facilities.

    The report's capacity section: :func:`geoapp.sfca.compute_supply` by the floating
    catchment ``method`` (:data:`geoapp.fca.METHODS`, as ``geoapp supply --method``);
    returns :class:`geoapp.sfca.Supply` by layer id.
    """
    from geoapp import sfca

    region, demand = result.region, result.demand
    graph = get_graph(region) if mode == "network" else None  # memoised: the run's graph
    out = {}
    for lid, a in result.analyses.items():
        if not a.layer.capacity or not len(a.facilities):
            continue
        out[lid] = sfca.compute_supply(
            demand.points,
            a.facilities,
            a.layer,
            graph=graph,
            mode=mode,
            method=method,
            boundaries=region.boundaries,
            region_name=region.name,
        )
    return out


def _projection_gap(info: dict, analyses: Mapping[str, LayerAnalysis], before: Demand) -> dict:
    """Add the residents aged 60+ beyond each 60+ layer's target, today and projected."""
    table = info["table"].set_index("district")
    old = before.points.set_index("demand_id")["pop_60plus"]
    gap_layers = []
    for lid, a in analyses.items():
        if a.layer.population != "age_60plus" or a.status != "ok":
            continue
        acc = a.access
        beyond = (acc["dist_m"].astype(float) > a.layer.target_m).to_numpy()
        dist = acc["district"].astype(str)
        after = acc["pop_60plus"].where(beyond, 0.0).groupby(dist).sum()
        was = old.reindex(acc["demand_id"]).to_numpy()
        before_s = pd.Series(was, index=acc.index).where(beyond, 0.0).groupby(dist).sum()
        table[f"uncovered_60plus_before_{lid}"] = before_s.reindex(table.index).fillna(0.0)
        table[f"uncovered_60plus_after_{lid}"] = after.reindex(table.index).fillna(0.0)
        gap_layers.append(lid)
    return {**info, "table": table.reset_index(), "gap_layers": gap_layers}


def _sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def input_files(result: Assessment, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every input file of an assessment with its SHA-256, size and modification date.

    The region's files (extract, GeoPackage, boundaries, census, zones, population
    raster, facility tables), every layer file of the catalog, the standards profile,
    the demand profile and the projection table; the demo region is recorded by the
    source of its generator (``geoapp/sources/demo.py``).
    """
    from geoapp.sources import demo as _demo

    spec = recorded_spec(params)
    found: list[tuple[str, str]] = []
    if spec.source == "demo":
        found.append(("region (demo generator)", _demo.__file__))
    for key in ("osm", "gpkg", "boundaries", "census", "zones", "population", "study_area"):
        v = getattr(spec, key)
        file = _polygon_file(v) if key in ("boundaries", "study_area") else None
        if v and Path(str(v)).is_file():
            found.append((key, str(v)))
        elif file is not None:  # PATH#LAYER:DATUM
            found.append((key, str(file)))
        elif v == "beijing" and key == "census":
            found.append(
                (
                    "census (shipped)",
                    str(Path(_zones.__file__).parent / "data" / "census" / "beijing_2020.csv"),
                )
            )
    if spec.age_rasters:
        found.extend(_age_raster_files(str(spec.age_rasters)))
    for path, layer_id, _coords in spec.facilities:
        found.append((f"facilities ({layer_id})", str(path)))
    for layer in result.layers.values():
        found.append((f"layer {layer.id}", layer.source_file))
    found.append(("standards profile", result.profile.file))
    prof = result.demand.profile
    pfile = Path(str(prof.get("file", "")))
    if not pfile.is_file():
        pfile = PROFILE_DIR / f"{prof.get('name', '')}.toml"
    if pfile.is_file():
        found.append(("demand profile", str(pfile)))
    if params.get("projection"):
        found.append(("projection", str(params["projection"])))
    out: list[dict[str, Any]] = []
    for role, path in dict.fromkeys(found):
        p = Path(path)
        if not p.is_file():
            out.append({"role": role, "path": str(p), "sha256": "", "bytes": None, "date": ""})
            continue
        st = p.stat()
        out.append({
            "role": role,
            "path": str(p.resolve()),
            "sha256": _sha256(p),
            "bytes": st.st_size,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(st.st_mtime)),
        })  # fmt: skip
    return out


def _polygon_file(value: object) -> Path | None:
    """Return the file of a ``PATH[#LAYER][:DATUM]`` value, None for names or presets."""
    if not isinstance(value, str) or not value.strip():
        return None
    from geoapp.sources.boundaries import parse_boundary_spec

    try:
        path = parse_boundary_spec(value).path
    except InputError:  # not a file form (names with a colon): nothing to hash
        return None
    return path if path.is_file() else None


def _age_raster_files(given: str) -> list[tuple[str, str]]:
    """Return ``(role, path)`` of every WorldPop age band ``--age-rasters`` picks.

    Each band (``age raster f 60`` ...) is an input the demand was made from; when the
    folder or glob no longer finds the set, the value itself is recorded (no SHA-256).
    """
    from geoapp.sources.raster import find_age_rasters

    try:
        ages = find_age_rasters(given)
    except InputError:
        return [("age rasters", given)]
    return [(f"age raster {sex} {age}", path) for (sex, age), path in sorted(ages.files.items())]


def report_command(params: Mapping[str, Any]) -> str:
    """Return the one ``geoapp report`` command line that re-creates a report."""
    import shlex

    spec = recorded_spec(params)
    parts = ["geoapp", "report"]
    if spec.source in PRESETS:
        parts += ["--region", spec.source]
    for key, flag in (("osm", "--osm"), ("place", "--place"), ("gpkg", "--gpkg"),
                      ("boundaries", "--boundaries"), ("census", "--census"), ("zones", "--zones"),
                      ("population", "--population"), ("admin_level", "--admin-level"),
                      ("study_area", "--study-area"), ("age_rasters", "--age-rasters"),
                      ("share_60plus", "--share-60plus")):  # fmt: skip
        if getattr(spec, key) not in (None, ""):
            parts += [flag, str(getattr(spec, key))]
    if spec.place is not None and spec.timeout != DEFAULT_TIMEOUT_S:
        parts += ["--timeout", f"{spec.timeout:g}"]
    for path, layer_id, coords in spec.facilities:
        parts += ["--facilities", f"{path}:{layer_id}:{coords}"]
    for f in spec.layer_files:
        parts += ["--layer-file", str(f)]
    for lid in params.get("layers") or []:
        parts += ["--layer", lid]
    for key, flag in (("standard", "--standard"), ("projection", "--projection"), ("year", "--year"),
                      ("compare", "--compare"), ("speed_kmh", "--speed")):  # fmt: skip
        if params.get(key) not in (None, ""):
            parts += [flag, str(params[key])]
    if params.get("mode", "network") != "network":
        parts += ["--mode", params["mode"]]
    if params.get("fca_method", "2sfca") not in ("2sfca", None):
        parts += ["--fca-method", str(params["fca_method"])]
    if params.get("organisation"):
        parts += ["--organisation", str(params["organisation"])]
    if params.get("atlas"):
        parts.append("--atlas")
    parts += ["--lang", params.get("lang", "en"), "--out", str(params.get("out", "DIR"))]
    return shlex.join(parts)


def report(
    region: Region | RegionSpec | str,
    out_dir: str | os.PathLike[str],
    *,
    layers: Iterable[str] | None = None,
    lang: str = "en",
    standard: str | None = None,
    compare: str | os.PathLike[str] | None = None,
    projection: str | None = None,
    year: int | None = None,
    mode: str = "network",
    speed: float | str | None = None,
    pdf: bool = True,
    progress: Progress | None = None,
) -> dict[str, Path]:
    """Write an assessment report folder: report.html/.pdf, compliance.csv, bundles/.

    The folder (new, empty or an earlier report: :func:`geoapp.reporting.check_report_target`)
    is written aside and swapped in as a whole. ``bundles/<layer>/`` holds each layer's
    bundle (:func:`geoapp.bundle.write_bundle`, with zones.csv); ``report.json`` records
    the region's recipe (``params.region``), the inputs' SHA-256, every parameter, the
    versions and the command, for ``geoapp verify``.

    Parameters
    ----------
    region
        A :class:`~geoapp.spec.RegionSpec`, a preset name, or a region loaded from one
        by :func:`geoapp.workflow.load_region` (the spec it was loaded from is
        recorded, so ``geoapp verify`` can load it again).
    out_dir
        The report folder.
    layers
        Layer ids (default every layer but ``heritage``).
    compare
        An earlier report folder or bundle for the before/after section.
    speed
        Walking speed: km/h or a preset (``"adult"``, ``"elderly"``); None: each
        layer's own.

    The cover's organisation, the atlas and the floating catchment method of the
    capacity section are those of the enclosing :func:`geoapp.reporting.options` block.

    Returns
    -------
    dict
        ``html``, ``compliance``, ``record`` (``report.json``) and ``pdf`` -> path.

    Examples
    --------
    >>> import json, tempfile, geoapp
    >>> folder = tempfile.mkdtemp() + "/report"
    >>> paths = geoapp.report("demo", folder, layers=["elderly_care"], pdf=False)
    >>> sorted(paths)
    ['compliance', 'html', 'record']
    >>> record = json.loads(paths["record"].read_text(encoding="utf-8"))
    >>> record["params"]["region"], record["command"].split(" --out ")[0]
    ({'region': 'demo'}, 'geoapp report --region demo --layer elderly_care --lang en')
    """
    return build_report(
        out_dir,
        region,
        layers=layers,
        lang=lang,
        standard=standard,
        compare=compare,
        projection=projection,
        year=year,
        mode=mode,
        speed_kmh=speed_kmh_of(speed),
        pdf=pdf,
        progress=progress,
    )


def build_report(
    out_dir: str | os.PathLike[str],
    region: Region | RegionSpec | str | None = None,
    *,
    layers: Iterable[str] | None = None,
    lang: str = "en",
    standard: str | None = None,
    compare: str | os.PathLike[str] | None = None,
    projection: str | None = None,
    year: int | None = None,
    mode: str = "network",
    speed_kmh: float | None = None,
    pdf: bool = True,
    progress: Progress | None = None,
    region_args: Mapping[str, Any] | None = None,
    layer_files: Iterable[str] = (),
) -> dict[str, Path]:
    """:func:`report` with the folder first (``geoapp report``; None region: the demo).

    ``region_args`` and ``layer_files`` are the older form of the recipe
    (``load_region`` keywords), still accepted. Inside :func:`names_only` the files
    are named without their folders everywhere in the report (a report served to
    others, e.g. by the app, names no server folder).
    """
    from geoapp import lookback
    from geoapp import reporting as _report

    out = Path(out_dir)
    _report.check_report_target(out)
    recipe = _recipe(region, region_args, layer_files)
    spec = recipe if isinstance(recipe, RegionSpec) else spec_of(recipe)
    if spec is None:
        raise InputError(
            "report: the region was not loaded from a RegionSpec, so the report could not "
            "record how to load it again (geoapp verify); pass its RegionSpec or a preset "
            "name (e.g. 'demo') instead"
        )
    chosen = list(layers) if layers else None
    params = {
        "region": spec.to_dict(),
        "layers": chosen,
        "lang": lang,
        "standard": str(standard) if standard else None,
        "compare": str(compare) if compare else None,
        "projection": str(projection) if projection else None,
        "year": year,
        "mode": mode,
        "speed_kmh": speed_kmh,
        "out": Path(out).name,  # run from the folder holding it (no folder of this machine)
        **_report.current_options(),  # the cover's organisation, the atlas, the FCA method
    }
    result = assess(
        recipe,
        layers=chosen,
        standard=standard,
        projection=projection,
        year=year,
        mode=mode,
        speed_kmh=speed_kmh,
        progress=progress,
    )
    inputs = [{**i, "path": recorded_path(i["path"], out)} for i in input_files(result, params)]
    # recorded from the folder holding the report, where its command is run again
    params = recorded_params(params, out)
    source = scrub_paths(result.region.source)
    if _NAMES_ONLY.get():
        inputs, params, source = _names_only(inputs, params, source)
    run_id = export.new_run_id()
    seen: dict[str, None] = {}
    for a in result.analyses.values():
        seen.update(dict.fromkeys(a.warnings))
    with export.bundle_folder(out, run_id) as tmp:
        bundles = {}
        for k, (lid, a) in enumerate(result.analyses.items()):
            tick(
                progress,
                f"Writing the {a.layer.name()} bundle",
                0.7 + 0.1 * k / len(result.analyses),
            )
            zt = result.zones[result.zones["layer"] == lid] if len(result.zones) else None
            write_bundle(a, result.region, tmp / _report.BUNDLES / lid, html_map=False, gpkg=False,
                         zones_table=zt, run_id=run_id)  # fmt: skip
            bundles[lid] = f"{_report.BUNDLES}/{lid}"
        comparison = None
        if compare:
            comparison = lookback.diff_reports(compare, tmp)
        data = _report.ReportData(
            region_name=result.region.label,
            source=source,
            synthetic=bool(result.region.synthetic),
            boundaries=result.region.boundaries,
            region_meta={**region_meta(result.region), "bbox": result.region.meta.get("bbox")},
            analyses=result.analyses,
            zones=result.zones,
            compliance=result.compliance,
            profile=result.profile,
            inputs=inputs,
            params=params,
            command=report_command(params),
            versions=versions(),
            created=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            warnings=tuple(seen),
            heritage=result.heritage,
            comparison=comparison,
            projection=result.projection,
            streets=result.region.edges,
            supply=assess_supply(result, mode=mode, method=params["fca_method"]),
            **_report.current_options(),
        )
        tick(progress, "Writing the report", 0.85)
        paths = _report.write_report(
            data, tmp, lang=lang, pdf=pdf, record={"run_id": run_id, "bundles": bundles},
            progress=progress,
        )  # fmt: skip
        # last: every file of the folder (bundles included) with its size and SHA-256
        write_manifest(tmp, command="report", run_id=run_id)
    tick(progress, f"Report written to {out}", 1.0)
    return {k: out / p.name for k, p in paths.items()}


def recorded_path(path: str | os.PathLike[str], out: str | os.PathLike[str]) -> str:
    """Return a file as ``report.json`` records it, without a folder of this machine.

    A file shipped with geoapp is ``geoapp/<path in the package>``
    (:func:`geoapp.paths.public_path`); any other file is relative to the folder
    holding the report folder ``out`` (``data/homes.csv`` for ``out`` = ``reports/r1``
    and the file ``reports/data/homes.csv``), where the recorded command is run.
    :func:`resolve_recorded` finds it again.
    """
    public = public_path(path)
    if package_file(public) is not None:
        return public
    try:
        rel = os.path.relpath(Path(path).resolve(), Path(out).resolve().parent)
    except ValueError:  # another drive (Windows)
        return public
    return Path(rel).as_posix()


def resolve_recorded(path: str, root: str | os.PathLike[str]) -> Path:
    """Return the file a recorded path names (:func:`recorded_path`) for report ``root``.

    ``geoapp/...`` is the installed package's file; a relative path is taken from the
    folder holding ``root`` when something is there, else from the working folder
    (reports of earlier versions recorded absolute or working-folder paths).
    """
    shipped = package_file(path)
    if shipped is not None:
        return shipped
    p = Path(path)
    base = Path(root).resolve().parent
    if not p.is_absolute() and (base / p).exists():
        return base / p
    return p


_RECIPE_FILES = (
    "osm", "gpkg", "boundaries", "census", "zones", "population", "study_area", "age_rasters",
)  # fmt: skip
_PARAM_FILES = ("standard", "projection", "compare")


def _map_recipe(params: Mapping[str, Any], change: Callable[[str], str]) -> dict[str, Any]:
    """Return ``params`` with ``change`` applied to every file path of the recipe."""
    region = dict(params.get("region") or {})
    for key in _RECIPE_FILES:
        if isinstance(region.get(key), str):
            region[key] = change(region[key])
    if isinstance(region.get("facilities"), list):
        region["facilities"] = [
            [change(t[0]), *t[1:]] if isinstance(t, list) and t and isinstance(t[0], str) else t
            for t in region["facilities"]
        ]
    if isinstance(region.get("layer_files"), list):
        region["layer_files"] = [
            change(f) if isinstance(f, str) else f for f in region["layer_files"]
        ]
    out = {**params, "region": region} if "region" in params else dict(params)
    for key in _PARAM_FILES:
        if isinstance(out.get(key), str):
            out[key] = change(out[key])
    return out


def recorded_params(params: Mapping[str, Any], out: str | os.PathLike[str]) -> dict[str, Any]:
    """Return a report's parameters with every existing file as :func:`recorded_path` names it.

    Values that are no file here (a preset such as ``demo`` or ``beijing``, a
    standards profile id, ``FILE#layer:datum`` forms) stay as typed.
    """
    return _map_recipe(params, lambda v: recorded_path(v, out) if Path(v).exists() else v)


def resolve_params(params: Mapping[str, Any], root: str | os.PathLike[str]) -> dict[str, Any]:
    """Return recorded parameters with their files found again (:func:`resolve_recorded`)."""

    def find(v: str) -> str:
        p = resolve_recorded(v, root)
        return str(p) if p.exists() else v

    return _map_recipe(params, find)


#: Set by :func:`names_only`: reports name their files without folders.
_NAMES_ONLY: contextvars.ContextVar[bool] = contextvars.ContextVar("names_only", default=False)


@contextlib.contextmanager
def names_only() -> Iterator[None]:
    """Within this block, reports name every file without its folder (no server path).

    For a report served to others (the app): the inputs table, the command, the source
    and ``report.json`` give file names only, so ``geoapp verify`` needs the files
    next to where it runs.
    """
    token = _NAMES_ONLY.set(True)
    try:
        yield
    finally:
        _NAMES_ONLY.reset(token)


def _names_only(
    inputs: list[dict[str, Any]], params: Mapping[str, Any], source: str
) -> tuple[list[dict[str, Any]], dict[str, Any], str]:
    """Return the inputs, parameters and source with every file named without its folder."""

    def name(value: Any) -> Any:
        return Path(value).name if isinstance(value, str) and os.sep in value else value

    region = dict(params["region"])
    for key, value in region.items():
        if key == "facilities":
            region[key] = [[name(v[0]), *v[1:]] for v in value]
        elif key == "layer_files":
            region[key] = [name(v) for v in value]
        else:
            region[key] = name(value)
    # the folders of absolute paths in the source ("osm-file:/srv/x/city.osm.pbf")
    source = re.sub(r"(?<![\w.])(?:[A-Za-z]:)?[/\\](?:[^/\\\n:+,;]+[/\\])+", "", source)
    named = [{**i, "path": name(str(i["path"]))} for i in inputs]
    out = {**params, "region": region, "out": Path(str(params.get("out", ""))).name}
    for key in ("standard", "compare", "projection"):
        out[key] = name(out.get(key))
    return named, out, source


__all__ = [
    "Assessment",
    "assess",
    "assess_supply",
    "build_report",
    "input_files",
    "names_only",
    "recorded_params",
    "recorded_path",
    "recorded_spec",
    "report",
    "report_command",
    "resolve_params",
    "resolve_recorded",
]
