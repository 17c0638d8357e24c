"""Result bundles are atomic as a whole: an interrupted re-run leaves the old bundle.

Unit tests of the folder swap (``_atomic.atomic_dir``: exchange, fallback, recovery after
a crash), the rules for which folders may be replaced, and an end-to-end test that kills
``geoapp coverage`` re-runs with SIGKILL and finds a complete, single-run bundle each time.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyogrio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geoapp import _atomic, export
from geoapp.cli import main
from geoapp.errors import OutputError

ROOT = Path(__file__).resolve().parent.parent


def _write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)


def _read(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.iterdir())}


def _siblings(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name != folder.name)


# ------------------------------------------------------------------ the folder swap


def test_atomic_dir_creates_a_new_folder(tmp_path):
    target = tmp_path / "out"
    with _atomic.atomic_dir(target, "run1") as tmp:
        assert tmp.parent == tmp_path and tmp != target
        _write(tmp, {"a.txt": "new"})
        assert not target.exists()  # nothing visible before the end
    assert _read(target) == {"a.txt": "new"}
    assert _siblings(target) == []


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "fallback"])
def test_atomic_dir_replaces_the_whole_folder(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(_atomic, "exchange", lambda a, b: False)
    target = tmp_path / "out"
    _write(target, {"a.txt": "old", "only_old.txt": "old"})
    with _atomic.atomic_dir(target, "run2") as tmp:
        _write(tmp, {"a.txt": "new"})
        assert _read(target) == {"a.txt": "old", "only_old.txt": "old"}
    assert _read(target) == {"a.txt": "new"}
    assert _siblings(target) == []


def test_exchange_swaps_two_folders(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _write(a, {"x": "A"})
    _write(b, {"x": "B"})
    if not _atomic.exchange(a, b):
        pytest.skip("renameat2 RENAME_EXCHANGE is not available here")
    assert _read(a) == {"x": "B"} and _read(b) == {"x": "A"}


def test_exception_keeps_the_previous_folder(tmp_path):
    target = tmp_path / "out"
    _write(target, {"a.txt": "old"})
    with pytest.raises(OSError, match="disk full"), _atomic.atomic_dir(target, "run3") as tmp:
        _write(tmp, {"a.txt": "half"})
        raise OSError(errno.ENOSPC, "disk full")
    assert _read(target) == {"a.txt": "old"}
    assert _siblings(target) == []


_names = st.text(alphabet="abcdefgh_", min_size=1, max_size=6).map(lambda n: n + ".txt")
_trees = st.dictionaries(_names, st.text(alphabet="xyz \n", max_size=20), max_size=5)


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(old=st.none() | _trees, new=_trees, fail_after=st.none() | st.integers(0, 5),
       exchange=st.booleans())  # fmt: skip
def test_target_is_always_the_old_or_the_new_folder(old, new, fail_after, exchange):
    import tempfile
    from unittest import mock

    with (
        tempfile.TemporaryDirectory() as d,
        mock.patch.object(
            _atomic, "exchange", _atomic.exchange if exchange else (lambda a, b: False)
        ),
    ):
        target = Path(d) / "out"
        if old is not None:
            _write(target, old)
        failed = False
        try:
            with _atomic.atomic_dir(target, "h") as tmp:
                for i, (name, text) in enumerate(new.items()):
                    if fail_after is not None and i == fail_after:
                        raise OSError(errno.ENOSPC, "full")
                    (tmp / name).write_text(text)
                if fail_after is not None and fail_after >= len(new):
                    raise OSError(errno.ENOSPC, "full")
        except OSError:
            failed = True
        if failed and old is None:
            assert not target.exists()
        else:
            assert _read(target) == (old if failed else new)
        assert _siblings(target) == []


def _killed_script(body: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run ``body`` in a fresh interpreter that kills itself with SIGKILL somewhere."""
    code = "import os, signal\nfrom pathlib import Path\nfrom geoapp import _atomic\n"
    code += textwrap.dedent(body)
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    return proc


def test_kill_between_the_fallback_renames_is_undone_by_the_next_run(tmp_path):
    target = tmp_path / "out"
    old = {
        "a.txt": "old",
        "metadata.json": json.dumps({"run_id": "r0", "files": ["a.txt", "metadata.json"]}),
    }
    _write(target, old)
    # Without renameat2 the swap is two renames; die right after the first one.
    _killed_script(
        """
        _atomic.exchange = lambda a, b: False
        real_rename = os.rename
        calls = []
        def rename(src, dst):
            real_rename(src, dst)
            calls.append(dst)
            if len(calls) == 1:
                os.kill(os.getpid(), signal.SIGKILL)
        os.rename = rename
        with _atomic.atomic_dir(Path("out"), "crash") as tmp:
            (tmp / "a.txt").write_text("new")
        """,
        tmp_path,
    )
    assert not target.exists()  # the previous folder is aside, the new one not in place
    assert any(".geoapp-old-" in n for n in _siblings(target))
    # The next run's first step puts the previous bundle back before anything else.
    export.check_bundle_target(target)
    assert _read(target) == old
    assert _siblings(target) == []


def test_kill_while_writing_leaves_the_old_folder_and_the_next_run_cleans_up(tmp_path):
    target = tmp_path / "out"
    _write(target, {"a.txt": "old"})
    _killed_script(
        """
        with _atomic.atomic_dir(Path("out"), "crash") as tmp:
            (tmp / "a.txt").write_text("half")
            os.kill(os.getpid(), signal.SIGKILL)
        """,
        tmp_path,
    )
    assert _read(target) == {"a.txt": "old"}
    assert any(".geoapp-tmp-" in n for n in _siblings(target))
    with _atomic.atomic_dir(target, "next") as tmp:
        _write(tmp, {"a.txt": "new"})
    assert _read(target) == {"a.txt": "new"}
    assert _siblings(target) == []


def test_a_temporary_folder_of_a_live_run_is_left_alone(tmp_path):
    target = tmp_path / "out"
    live = tmp_path / ".out.geoapp-tmp-live"
    _write(live, {"a.txt": "being written"})
    fd = os.open(live, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as a running atomic_dir() holds it
    try:
        assert _atomic.recover_dir(target) == []
        assert _read(live) == {"a.txt": "being written"}
    finally:
        os.close(fd)
    assert len(_atomic.recover_dir(target)) == 1 and not live.exists()


# ------------------------------------------------------------------ which folders may go


def test_check_bundle_target_accepts_new_empty_and_bundle_folders(tmp_path):
    export.check_bundle_target(tmp_path / "new" / "deeper")
    export.check_bundle_target(tmp_path)  # empty
    bundle = tmp_path / "b"
    _write(bundle, {"summary.csv": "x"})
    (bundle / "metadata.json").write_text(
        json.dumps({"run_id": "r", "files": ["metadata.json", "summary.csv"]})
    )
    export.check_bundle_target(bundle)
    assert export.read_bundle_metadata(bundle)["run_id"] == "r"


def test_check_bundle_target_refuses_user_folders_and_files(tmp_path):
    user = tmp_path / "thesis"
    _write(user, {"chapter1.docx": "mine", "metadata.json": '{"author": "me"}'})
    with pytest.raises(OutputError, match=r"not a geoapp bundle.*chapter1\.docx|chapter1\.docx"):
        export.check_bundle_target(user)
    afile = tmp_path / "notes.txt"
    afile.write_text("mine")
    with pytest.raises(OutputError, match="existing file"):
        export.check_bundle_target(afile)
    bundle = tmp_path / "b"
    _write(bundle, {"summary.csv": "x", "my_notes.txt": "mine"})
    (bundle / "metadata.json").write_text(
        json.dumps({"run_id": "r", "files": ["metadata.json", "summary.csv"]})
    )
    with pytest.raises(OutputError, match="my_notes.txt"):
        export.check_bundle_target(bundle)
    assert _read(user)["chapter1.docx"] == "mine" and afile.read_text() == "mine"
    assert (bundle / "my_notes.txt").read_text() == "mine"


# ------------------------------------------------------------------ end to end

ARGS = ["--region", "demo", "-q", "--no-map", "--no-catchments"]


def assert_complete_bundle(out: Path) -> dict:
    """Every listed file is there, nothing else, and all carry one run_id."""
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    run_id = meta["run_id"]
    assert sorted(meta["files"]) == sorted(p.name for p in out.iterdir())
    for name in meta["files"]:
        if name.endswith(".geojson"):
            doc = json.loads((out / name).read_text(encoding="utf-8"))
            assert doc["geoapp"]["run_id"] == run_id, name
            assert doc["geoapp"]["layer"] == meta["layer"], name
        elif name.endswith(".gpkg"):
            table = pyogrio.read_dataframe(out / name, layer="geoapp_metadata")
            value = dict(zip(table["key"], table["value"], strict=True))["run_id"]
            assert json.loads(value) == run_id
    return meta


@pytest.mark.slow
def test_bundle_files_share_one_run_id(tmp_path):
    out = tmp_path / "out"
    assert main(["coverage", *ARGS, "--layer", "heritage", "--out", str(out)]) == 0
    first = assert_complete_bundle(out)
    assert {"bundle.gpkg", "demand.geojson", "summary.csv"} <= set(first["files"])
    assert main(["coverage", *ARGS, "--layer", "community_services", "--out", str(out)]) == 0
    second = assert_complete_bundle(out)
    assert second["run_id"] != first["run_id"] and second["layer"] == "community_services"
    assert _siblings(out) == []


@pytest.mark.slow
def test_failed_rerun_keeps_the_previous_bundle(tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    assert main(["coverage", *ARGS, "--layer", "heritage", "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export, "write_csv", full_disk)
    capsys.readouterr()
    assert main(["coverage", *ARGS, "--layer", "elderly_care", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "disk is full" in err and str(out) in err and "unchanged" in err
    assert "Traceback" not in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert _siblings(out) == []


@pytest.mark.slow
def test_sigkill_during_rerun_leaves_a_complete_bundle(tmp_path):
    out = tmp_path / "out"
    assert main(["coverage", *ARGS, "--layer", "elderly_care", "--out", str(out)]) == 0
    old = assert_complete_bundle(out)
    cmd = [sys.executable, "-m", "geoapp.cli", "coverage", *ARGS, "--layer", "heritage"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # None: kill 1 s after the start (still computing); numbers: seconds after the
    # temporary bundle folder appeared (writing takes a few seconds here: demand.geojson
    # and bundle.gpkg are several MB).
    for delay in (None, 0.0, 0.3, 1.0, 2.0, 3.5):
        proc = subprocess.Popen(
            [*cmd, "--out", str(out)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            if delay is None:
                time.sleep(1.0)
            else:
                t0 = time.monotonic()
                while proc.poll() is None and time.monotonic() - t0 < 120:
                    if any(".geoapp-tmp-" in n for n in _siblings(out)):
                        break
                    time.sleep(0.01)
                time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.stderr.close()
        meta = assert_complete_bundle(out)  # old or new, never mixed
        assert meta["layer"] in ("elderly_care", "heritage")
        assert meta["run_id"] == old["run_id"] or meta["layer"] == "heritage"
    # A run left alone finishes, cleans up every leftover of the killed ones, and its
    # bundle replaces the old one.
    proc = subprocess.run([*cmd, "--out", str(out)], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    new = assert_complete_bundle(out)
    assert new["layer"] == "heritage" and new["run_id"] != old["run_id"]
    assert _siblings(out) == []
