"""The app's cached computations (:mod:`app_pages.compute`) outside a Streamlit server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from app_pages import compute

ROOT = Path(__file__).resolve().parent.parent


class _Region:
    """What :func:`app_pages.compute.demand` reads of a region: its name and street edges."""

    def __init__(self, name: str, n_edges: int = 10) -> None:
        self.name, self.edges = name, range(n_edges)

    def __repr__(self) -> str:
        return self.name


def test_demand_is_kept_on_disk_under_the_region_key(tmp_path, monkeypatch):
    """A restarted app reads the demand from disk instead of estimating (and hashing) again."""
    monkeypatch.setenv("GEOAPP_CACHE_DIR", str(tmp_path))
    calls: list[str] = []

    def estimate(region):
        calls.append(region.name)
        return {"profile": f"estimated for {region.name}", "n": len(calls)}

    monkeypatch.setattr(compute.workflow, "prepare_demand", estimate)
    a, b, c = _Region("A"), _Region("B"), _Region("C")
    compute.demand.clear()
    first = compute.demand("upload:abc", a)
    compute.demand.clear()  # as a restarted server: the in-memory cache is gone
    again = compute.demand("upload:abc", a)
    assert calls == ["A"] and again == first == {"profile": "estimated for A", "n": 1}
    # another region key is another estimate
    assert compute.demand("upload:def", b)["n"] == 2 and calls == ["A", "B"]
    # a place fetched online is never kept (its data can change under the same name)
    for _ in range(2):
        compute.demand.clear()
        compute.demand("place:Krems", c)
    assert calls[-2:] == ["C", "C"]
    kept = sorted((tmp_path / "app").glob("demand-*.pkl"))
    assert len(kept) == 2  # A and B
    # a city (its frames' digests known, its estimate's own cache quick to find): no copy
    city = _Region("city", compute.DEMAND_ON_DISK_MAX_EDGES + 1)
    for _ in range(2):
        compute.demand.clear()
        compute.demand("upload:city", city)
    assert calls[-2:] == ["city", "city"]
    assert sorted((tmp_path / "app").glob("demand-*.pkl")) == kept
    compute.demand.clear()


def _assert_none_loaded(code: str) -> None:
    """Run ``code`` in a fresh interpreter; it must print ``LOADED []``."""
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "LOADED []" in proc.stdout, proc.stdout[-500:]


def test_the_first_page_does_not_import_the_export_stack():
    """Importing the app's modules leaves the bundle writer (GeoPackage, QGIS) for Export."""
    code = (
        "import sys\n"
        "import app_pages.sidebar, app_pages.state, app_pages.warm, app_pages.compute\n"
        "print('LOADED', [m for m in ('geoapp.bundle', 'geoapp.qgis_project', "
        "'geoapp.qgis_styles', 'matplotlib.pyplot') if m in sys.modules])\n"
    )
    _assert_none_loaded(code)


def test_the_first_page_imports_what_it_draws_and_unpickles_only():
    """A restarted app's first page imports no module only other pages or steps need.

    The first page unpickles the demand (``geoapp.demand``), the analysis
    (``geoapp.workflow``, ``geoapp.catalog``) and the map (``geoapp.maps``) and draws;
    labelling a population grid (``scipy.ndimage``, in ``geoapp.zones``), writing files
    (``geoapp.export``, pyogrio) and 2SFCA (``geoapp.sfca``, ``scipy.spatial``) are imported
    where they are used (issue 29: 0.1-0.2 CPU-s of the first page).
    """
    later = (
        "scipy.ndimage",
        "scipy.spatial",
        "pyogrio",
        "geoapp.export",
        "geoapp.sfca",
        "geoapp.fca",
    )
    code = (
        "import sys\n"
        "import app_pages.sidebar, app_pages.state, app_pages.warm, app_pages.compute\n"
        "import app_pages.widgets, app_pages.tables\n"
        "import geoapp.heritage, geoapp.workflow, geoapp.catalog, geoapp.demand.estimate\n"
        "import geoapp.maps.compose, geoapp.maps.leaflet, geoapp.zones, geoapp.inputs\n"
        f"print('LOADED', [m for m in {later!r} if m in sys.modules])\n"
    )
    _assert_none_loaded(code)
    # the functions that need them still find them
    from geoapp import workflow, zones

    # 1 km cells: four of 20,000 residents are an urban centre (>= 1,500 per km², 80,000
    # together >= 50,000); a lone cell of 1,000 is rural (< 5,000 for a cluster)
    pop = np.array([[2e4, 2e4, 0, 0, 0], [2e4, 2e4, 0, 0, 1e3], [0, 0, 0, 0, 0]])
    dou = zones.settlement_grid(pop)[0]
    assert dou.tolist() == [[2, 2, 0, 0, 0], [2, 2, 0, 0, 0], [0, 0, 0, 0, 0]]
    rounded = workflow.csv_ready(pd.DataFrame({"share_pop_300m": [0.123456], "pop": [9.6]}))
    assert rounded["share_pop_300m"].tolist() == [0.1235] and rounded["pop"].tolist() == [10]


def test_overview_counts_designated_heritage_as_summary_csv(tmp_path, monkeypatch):
    """The Overview's heritage column is summary.csv's n_designated per district.

    Memorials, statues and unlisted historic features are reported apart everywhere else
    (summary.csv, the report, the Heritage page), so the Overview does not count them.
    """
    from geoapp import catalog, workflow
    from geoapp.sources.demo import demo_region

    monkeypatch.setenv("GEOAPP_CACHE_DIR", str(tmp_path))
    region = demo_region()
    stats = compute.district_stats("demo-test", region).set_index("district")
    layer = catalog.get_layer("heritage", catalog.load_catalog())
    demand, graph = workflow.prepare(region)
    summary = workflow.analyse_layer(
        region, layer, demand=demand, graph=graph, with_catchments=False
    ).summary
    rows = summary[summary["level"] == "district"].set_index("group")
    n_des = rows["n_designated"].reindex(stats.index).fillna(0).astype(int)
    assert n_des.sum() > 0
    assert stats["heritage"].tolist() == n_des.tolist()
    # the facilities total adds the designated heritage sites, not every historic feature
    others = [c for c in stats.columns if c in catalog.load_catalog() and c != "heritage"]
    assert (stats["facilities"] == stats[others].sum(axis=1) + stats["heritage"]).all()
