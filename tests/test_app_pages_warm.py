"""The app's background warm-up queue and its disk cache (no Streamlit needed)."""

from __future__ import annotations

import threading
import time

from app_pages import disk
from app_pages.warm import Warmer


def test_warmer_runs_newest_first_once_per_name():
    out: list[str] = []
    gate = threading.Event()
    w = Warmer(idle_s=0.0)
    w.request(
        "old",
        [("a", lambda: (gate.wait(5), out.append("old-1"))), ("b", lambda: out.append("old-2"))],
    )
    time.sleep(0.1)  # old-1 runs and waits on the gate
    assert w.request("new", [("c", lambda: out.append("new-1"))])
    assert not w.request("new", [("c", lambda: out.append("again"))])
    w.request("far", [("d", lambda: out.append("far-1"))], first=False)
    gate.set()
    assert w.wait_idle(10)
    # the step running finishes; then the newest request, the rest of the old one, the far one
    assert out == ["old-1", "new-1", "old-2", "far-1"]


def test_warmer_runs_a_quiet_batch_only_after_the_requests_stop():
    out: list[tuple[str, float]] = []
    w = Warmer(idle_s=0.0)
    t0 = time.monotonic()
    w.request("bundle", [("zip", lambda: out.append(("zip", time.monotonic())))], quiet_s=0.6)
    time.sleep(0.3)
    w.request("page", [("map", lambda: out.append(("map", time.monotonic())))], first=False)
    assert w.wait_idle(10)
    # queued first, but run last: 0.6 s after the last request (at 0.3 s), not after its own
    assert [name for name, _ in out] == ["map", "zip"]
    assert out[1][1] - t0 >= 0.85


def test_warmer_hold_delays_every_step():
    out: list[float] = []
    w = Warmer(idle_s=0.0)
    t0 = time.monotonic()
    w.hold(0.5)
    w.request("a", [("a", lambda: out.append(time.monotonic()))])
    assert w.wait_idle(10)
    assert len(out) == 1 and out[0] - t0 >= 0.45


def test_warmer_survives_a_failing_step(caplog):
    out: list[str] = []
    w = Warmer()

    def boom():
        raise RuntimeError("broken")

    w.request("x", [("boom", boom), ("ok", lambda: out.append("ok"))])
    assert w.wait_idle(10)
    assert out == ["ok"]
    assert any("boom failed" in r.getMessage() for r in caplog.records)


def test_warmer_forgets_a_region():
    out: list[str] = []
    gate = threading.Event()
    w = Warmer()
    w.request("r1:a", [("block", lambda: gate.wait(5))])
    time.sleep(0.1)
    w.request("r1:b", [("b", lambda: out.append("r1"))])
    w.request("r2:a", [("c", lambda: out.append("r2"))])
    w.forget("r1:")
    gate.set()
    assert w.wait_idle(10)
    assert out == ["r2"]
    assert w.request("r1:b", [("b", lambda: out.append("r1 again"))])  # may be asked again


def test_disk_cache_keeps_results_per_key_and_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("GEOAPP_CACHE_DIR", str(tmp_path))
    calls: list[int] = []

    def compute(v):
        def f():
            calls.append(v)
            return {"value": v}

        return f

    assert disk.cached("analysis", "demo", ("elderly", 3.6), compute(1)) == {"value": 1}
    assert disk.cached("analysis", "demo", ("elderly", 3.6), compute(2)) == {"value": 1}
    assert calls == [1]  # the second came from disk
    assert disk.cached("analysis", "demo", ("elderly", 4.5), compute(3)) == {"value": 3}
    assert disk.cached("analysis", "upload:abc", ("elderly", 3.6), compute(4)) == {"value": 4}
    # a place fetched online may change under the same name: never kept
    disk.cached("analysis", "place:Helsinki", (), compute(5))
    disk.cached("analysis", "place:Helsinki", (), compute(6))
    assert calls == [1, 3, 4, 5, 6]
    files = list((tmp_path / "app").glob("*.pkl"))
    assert len(files) == 3 and not list((tmp_path / "app").glob("*.tmp"))


def test_disk_cache_recomputes_a_broken_file_and_can_be_off(tmp_path, monkeypatch):
    monkeypatch.setenv("GEOAPP_CACHE_DIR", str(tmp_path))
    disk.cached("map", "demo", (1,), lambda: "first")
    (f,) = (tmp_path / "app").glob("*.pkl")
    f.write_bytes(b"not a pickle")
    assert disk.cached("map", "demo", (1,), lambda: "again") == "again"
    assert disk.cached("map", "demo", (1,), lambda: "third") == "again"  # rewritten
    monkeypatch.setenv("GEOAPP_APP_DISK_CACHE", "0")
    assert disk.cached("map", "demo", (1,), lambda: "off") == "off"


def test_disk_cache_keeps_the_newest_within_its_size(tmp_path):
    import os

    for i, size in enumerate([400, 300, 200, 100]):
        p = tmp_path / f"map-{i}.pkl"
        p.write_bytes(b"x" * size)
        os.utime(p, (1000 + i, 1000 + i))  # map-0 oldest
    assert disk.prune(tmp_path, max_bytes=350) == 2
    assert sorted(p.name for p in tmp_path.glob("*.pkl")) == ["map-2.pkl", "map-3.pkl"]
    assert disk.prune(tmp_path, max_bytes=350) == 0


def test_no_warm_up_while_an_extract_waits_to_be_loaded():
    from types import SimpleNamespace

    from app_pages.state import about_to_switch

    picked = SimpleNamespace(file_id="f1", name="city.osm.pbf")
    assert not about_to_switch({})  # nothing picked: warm the region shown
    assert about_to_switch({"up_osm": picked})  # picked, not loaded: the region goes
    assert about_to_switch({"bj_osm": picked, "_loaded_file_ids": ["f0"]})
    # once loaded, the file stays in the widget: the new region is warmed again
    assert not about_to_switch({"up_osm": picked, "_loaded_file_ids": ["f1"]})


def test_an_uploaded_beijing_extract_is_kept_once_under_a_safe_name(tmp_path, monkeypatch):
    import tempfile

    from app_pages.uploads import keep_extract

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    # sha256(b"abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
    path, digest = keep_extract("../my city (2024).osm.pbf", b"abc")
    assert digest == "ba7816bf8f01cfea"
    assert path == tmp_path / "geoapp-beijing-ba7816bf8f01cfea" / "my_city__2024_.osm.pbf"
    assert path.read_bytes() == b"abc"
    path.write_bytes(b"abc")  # the same content again: the file is reused, not rewritten
    before = path.stat().st_mtime_ns
    assert keep_extract("../my city (2024).osm.pbf", b"abc") == (path, digest)
    assert path.stat().st_mtime_ns == before
    # a name with nothing left gets the default name
    assert keep_extract("", b"abc")[0].name == "beijing.osm.pbf"
