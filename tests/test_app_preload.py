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
    monkeypatch.setattr(preload, "_done", preload.threading.Event())
    preload.warm_up()
    assert preload.wait(0) and loaded == ["demo"]
    assert all(name in sys.modules for name in preload.MODULES)


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
