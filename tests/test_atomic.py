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


# ------------------------------------------------------------------ manifests

#: SHA-256 of b"abc" (the FIPS 180-2 test vector) and of b"" (the empty message).
SHA_ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
SHA_EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_manifest_lists_every_file_with_size_and_sha256(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_bytes(b"abc")
    (tmp_path / "sub" / "empty.bin").write_bytes(b"")
    _atomic.write_manifest(tmp_path, command="compare", run_id="r1")
    doc = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert doc == {
        "geoapp_manifest": 1,
        "command": "compare",
        "run_id": "r1",
        "files": {
            "a.txt": {"bytes": 3, "sha256": SHA_ABC},
            "sub/empty.bin": {"bytes": 0, "sha256": SHA_EMPTY},
        },
    }
    assert _atomic.check_manifest(tmp_path) == []


def test_manifest_names_each_changed_missing_or_added_file(tmp_path):
    _write(tmp_path, {"a.txt": "abc", "b.txt": "bbb", "c.txt": "ccc"})
    _atomic.write_manifest(tmp_path, command="diff")
    (tmp_path / "a.txt").write_text("abd")  # same size, other bytes
    (tmp_path / "b.txt").unlink()
    (tmp_path / "user.txt").write_text("mine")
    diffs = _atomic.check_manifest(tmp_path)
    assert len(diffs) == 3, diffs
    assert diffs[0].startswith("a.txt: changed") and SHA_ABC[:16] in diffs[0]
    assert diffs[1].startswith("b.txt: missing")
    assert diffs[2].startswith("user.txt: not listed")


def test_manifest_missing_damaged_or_escaping_is_a_difference(tmp_path):
    _write(tmp_path, {"a.txt": "abc"})
    assert _atomic.check_manifest(tmp_path)[0].startswith("manifest.json: missing")
    (tmp_path / "manifest.json").write_text("{not json")
    assert "not a valid geoapp manifest" in _atomic.check_manifest(tmp_path)[0]
    outside = tmp_path.parent / "outside.txt"
    outside.write_bytes(b"abc")
    doc = {
        "geoapp_manifest": 1,
        "files": {
            "a.txt": {"bytes": 3, "sha256": SHA_ABC},
            "../outside.txt": {"bytes": 3, "sha256": SHA_ABC},
            str(outside): {"bytes": 3, "sha256": SHA_ABC},
        },
    }
    (tmp_path / "manifest.json").write_text(json.dumps(doc))
    diffs = _atomic.check_manifest(tmp_path)
    assert len(diffs) == 2 and all("leaves the folder" in d for d in diffs), diffs


@pytest.mark.parametrize(
    "path, ok",
    [
        ("a.txt", True),
        ("bundles/elderly_care", True),
        ("..", False),
        ("../x", False),
        ("bundles/../../x", False),
        ("/etc/passwd", False),
        ("C:/x", False),
        ("a\\..\\x", False),
        ("./a", False),
        ("a//b", False),
        ("", False),
        (3, False),
        (None, False),
    ],
)
def test_confined_paths(path, ok):
    assert _atomic.confined(path) is ok


# ------------------------------------------------------------------ command output folders


def test_output_folder_may_be_new_empty_or_an_earlier_output(tmp_path):
    _atomic.check_output_folder(tmp_path / "new" / "deeper", "compare", "out/compare/")
    (tmp_path / "empty").mkdir()
    _atomic.check_output_folder(tmp_path / "empty", "compare", "out/compare/")
    with _atomic.output_folder(tmp_path / "done", "compare") as tmp:
        (tmp / "zones.csv").write_text("a\n1\n")
    assert sorted(p.name for p in (tmp_path / "done").iterdir()) == ["manifest.json", "zones.csv"]
    _atomic.check_output_folder(tmp_path / "done", "compare", "out/compare/")


@pytest.mark.parametrize(
    "setup, text",
    [
        ("user", "holds other files (notes.txt)"),
        ("other_command", "not an earlier output of 'geoapp compare'"),
        ("added", "holds files that are not part of it (notes.txt)"),
        ("file", "is an existing file"),
    ],
)
def test_output_folder_holding_other_files_is_refused(tmp_path, setup, text):
    out = tmp_path / "out"
    if setup == "file":
        out.write_text("mine")
    elif setup == "user":
        _write(out, {"notes.txt": "mine"})
    else:
        with _atomic.output_folder(out, "diff" if setup == "other_command" else "compare") as t:
            (t / "zones.csv").write_text("a\n1\n")
        if setup == "added":
            (out / "notes.txt").write_text("mine")
    before = out.read_bytes() if out.is_file() else _read(out)
    with pytest.raises(OutputError) as info:
        _atomic.check_output_folder(out, "compare", "out/compare/")
    assert text in str(info.value) and str(out) in str(info.value)
    assert "--out" in str(info.value)
    assert (out.read_bytes() if out.is_file() else _read(out)) == before


@pytest.mark.parametrize(
    "exc", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()]
)
def test_failed_output_folder_keeps_the_previous_one(tmp_path, exc):
    out = tmp_path / "out"
    with _atomic.output_folder(out, "export") as tmp:
        (tmp / "a.geojson").write_text("old")
    before = _read(out)
    with pytest.raises(type(exc) if isinstance(exc, KeyboardInterrupt) else OutputError) as info:
        with _atomic.output_folder(out, "export") as tmp:
            (tmp / "a.geojson").write_text("new")
            raise exc
    if isinstance(exc, OSError):
        msg = str(info.value)
        assert "disk is full" in msg and str(out) in msg and "unchanged" in msg
        assert ".geoapp-tmp-" not in msg
    assert _read(out) == before
    assert _siblings(out) == []


# ------------------------------------------------------------------ compare and export folders

#: command -> (its arguments, the files it writes besides manifest.json)
FOLDER_COMMANDS = {
    "compare": (
        ["compare", "--region", "demo", "--layer", "heritage", "-q"],
        {"zones.csv", "zones.png"},
    ),
    "export": (
        ["export", "--region", "demo", "--format", "csv", "-q"],
        {f"{n}.csv" for n in ("boundaries", "buildings", "edges", "features", "landuse", "nodes")},
    ),
}


def _bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _run(capsys, argv: list[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = main(argv)
    cap = capsys.readouterr()
    assert "Traceback" not in cap.err + cap.out
    return code, cap.err


@pytest.fixture(scope="module", params=sorted(FOLDER_COMMANDS))
def folder_output(request, tmp_path_factory):
    """A finished ``compare`` / ``export`` output folder (copied per test)."""
    argv, _ = FOLDER_COMMANDS[request.param]
    out = tmp_path_factory.mktemp(request.param) / "out"
    assert main([*argv, "--out", str(out)]) == 0
    return request.param, out


@pytest.fixture
def earlier(folder_output, tmp_path):
    import shutil

    command, old = folder_output
    out = tmp_path / "out"
    shutil.copytree(old, out)
    return command, out


@pytest.mark.slow
def test_folder_output_has_a_manifest_and_reruns_into_itself(earlier, capsys):
    command, out = earlier
    argv, files = FOLDER_COMMANDS[command]
    assert {p.name for p in out.iterdir()} == {*files, "manifest.json"}
    assert _atomic.check_manifest(out) == []
    doc = _atomic.read_manifest(out)
    assert doc is not None and doc["command"] == command
    code, _ = _run(capsys, [*argv, "--out", str(out)])
    assert code == 0 and _atomic.check_manifest(out) == []
    assert _atomic.read_manifest(out)["run_id"] != doc["run_id"]
    assert _siblings(out) == []


@pytest.mark.slow
@pytest.mark.parametrize("command", sorted(FOLDER_COMMANDS))
def test_folder_output_into_a_user_folder_is_refused(tmp_path, capsys, command):
    out = tmp_path / "mine"
    _write(out, {"zones.csv": "my own table", "notes.txt": "mine"})
    before = _bytes(out)
    code, err = _run(capsys, [*FOLDER_COMMANDS[command][0], "--out", str(out)])
    assert code == 2
    assert "holds other files" in err and "notes.txt" in err and f"geoapp {command}" in err
    assert "choose a new or empty folder" in err
    assert _bytes(out) == before


@pytest.mark.slow
def test_a_bundle_is_no_export_folder(tmp_path, capsys):
    """``export --out BUNDLE`` would have replaced the bundle's GeoJSON files one by one."""
    out = tmp_path / "bundle"
    assert main(["coverage", *ARGS, "--layer", "heritage", "--out", str(out)]) == 0
    before = _bytes(out)
    code, err = _run(
        capsys, ["export", "--region", "demo", "-q", "--format", "geojson", "--out", str(out)]
    )
    assert code == 2 and "not an earlier output of 'geoapp export'" in err
    assert _bytes(out) == before


@pytest.mark.slow
@pytest.mark.parametrize(
    "err_no, text",
    [
        (errno.ENOSPC, "disk is full"),
        (errno.EROFS, "read-only"),
    ],
)
def test_failed_folder_rerun_keeps_the_previous_output(earlier, capsys, monkeypatch, err_no, text):
    command, out = earlier
    before = _bytes(out)
    calls = []
    real = export.write_csv

    def failing_csv(df, path):
        calls.append(path)
        if len(calls) == 2 or command == "compare":  # after a first file, or compare's one CSV
            raise OSError(err_no, os.strerror(err_no), str(path))
        return real(df, path)

    monkeypatch.setattr(export, "write_csv", failing_csv)
    code, err = _run(capsys, [*FOLDER_COMMANDS[command][0], "--out", str(out)])
    assert code == 2 and calls
    assert text in err and str(out) in err and "previous output" in err and "unchanged" in err
    assert ".geoapp-tmp-" not in err and "malformed" not in err
    assert _bytes(out) == before
    assert _siblings(out) == []


@pytest.mark.slow
def test_interrupted_folder_rerun_keeps_the_previous_output(earlier, capsys, monkeypatch):
    command, out = earlier
    before = _bytes(out)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(export, "write_csv", interrupted)
    code, err = _run(capsys, [*FOLDER_COMMANDS[command][0], "--out", str(out)])
    assert code == 130 and "interrupted" in err
    assert _bytes(out) == before
    assert _siblings(out) == []


@pytest.mark.parametrize("command", sorted(FOLDER_COMMANDS))
def test_folder_output_in_a_read_only_location(capsys, command):
    # Tests run as root, which ignores permission bits; /sys refuses new folders even to root.
    target = Path("/sys/geoapp-test-out")
    try:
        target.mkdir()
    except OSError:
        pass
    else:  # pragma: no cover - a system where /sys takes folders: clean up and skip
        target.rmdir()
        pytest.skip("/sys accepts new folders here")
    code, err = _run(capsys, [*FOLDER_COMMANDS[command][0], "--out", str(target)])
    assert code == 2
    assert str(target) in err and "choose a folder you can write to (--out)" in err
    assert ".geoapp-" not in err and "malformed" not in err
    assert not target.exists()
