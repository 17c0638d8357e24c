"""The app's server warms itself while the first browser loads (``app_pages.preload``).

``streamlit run streamlit_app.py`` must start the server from ``app`` (a ``st.App`` with
the warm-up as its start-up hook), and a visit must still draw the pages; a warm-up
that fails must cost the page only its time, never the page.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from streamlit.web.server.app_discovery import discover_asgi_app

from app_pages import preload

ROOT = Path(__file__).resolve().parents[1]


def test_streamlit_run_starts_the_server_with_the_warm_up():
    # what ``streamlit run`` itself checks to serve the file through ``st.App``
    found = discover_asgi_app(ROOT / "streamlit_app.py")
    assert found.is_asgi_app and found.import_string == "streamlit_app:app"
    # imported as the server does, the file draws nothing and hands over the hook
    code = "import streamlit as st, streamlit_app as s; print(isinstance(s.app, st.App))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["True"]
    assert "missing ScriptRunContext" not in out.stderr  # no page drawn outside a visit


def test_the_warm_up_imports_the_first_page_and_reads_the_demo(monkeypatch):
    loaded = []
    from geoapp import workflow

    monkeypatch.setattr(workflow, "load_region", lambda spec: loaded.append(spec))
    preload.warm_imports()
    assert loaded == ["demo"]
    assert all(name in sys.modules for name in preload.MODULES)


def test_the_first_pages_are_read_from_disk_never_computed(tmp_path, monkeypatch):
    from app_pages import compute, disk
    from app_pages.state import DEMO_KEY

    monkeypatch.setenv("GEOAPP_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(preload, "_page_started", preload.threading.Event())
    asked = []
    for name in ("coverage_map", "district_stats", "heritage_basic", "overview_map"):
        monkeypatch.setattr(compute, name, lambda *a, name=name: asked.append(name))
    monkeypatch.setattr(compute, "demo_region", lambda: SimpleNamespace(edges=[0]))
    monkeypatch.setattr(compute, "facilities_by_layer", lambda *a: {"heritage": None})
    # a fresh machine: nothing on disk, nothing read (the first page computes)
    assert not disk.kept("demand_notes", DEMO_KEY, ())
    assert preload.warm_first_pages() == [] and asked == []
    # kept by an earlier run: the Coverage page's analysis and map, then the Overview's
    monkeypatch.setattr(disk, "kept", lambda kind, key, settings: key == DEMO_KEY)
    monkeypatch.setattr(compute, "demand_notes", lambda *a: asked.append("notes"))

    def analysis(key, region, layer_id, mode, speed):
        asked.append((layer_id, mode, speed))
        return SimpleNamespace(layer=SimpleNamespace(target_m=900.0))

    monkeypatch.setattr(compute, "analysis", analysis)
    assert preload.warm_first_pages() == ["demand notes", "coverage", "overview"]
    # the Coverage page's defaults: the first layer, on the network, at its own pace
    first = next(iter(compute.catalog()))
    assert asked[:3] == [
        "notes",
        (first, "network", compute.speed_key(first, None)),
        "coverage_map",
    ]
    assert asked[3:] == ["district_stats", "heritage_basic", "overview_map"]
    # a page started: the warm-up stops at its next step (it would only slow the page)
    preload.wait(0)
    assert preload.warm_first_pages() == []


def test_a_failed_warm_up_lets_the_page_run(monkeypatch, caplog):
    monkeypatch.setattr(preload, "MODULES", ("app_pages.no_such_module",))
    monkeypatch.setattr(preload, "_done", preload.threading.Event())
    monkeypatch.setattr(preload, "_started", preload.threading.Lock())
    with caplog.at_level("INFO", logger="app_pages.preload"):
        assert preload.start()
        assert preload.wait(30)  # the page goes on: it imports what it needs itself
    assert "warm-up failed" in caplog.text
    assert not preload.start()  # once per server


def test_the_lifespan_starts_the_warm_up_and_yields(monkeypatch):
    started = []
    monkeypatch.setattr(preload, "start", lambda: started.append(True) or True)

    async def serve() -> None:
        async with preload.lifespan(object()):
            assert started == [True]

    asyncio.run(serve())
