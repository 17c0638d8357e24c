"""Write files and whole folders atomically: build beside the target, then rename.

A failed write never leaves a half-written file and never destroys the previous one.
:func:`atomic_dir` does the same for a folder of files (a result bundle): readers and
an interrupted run find the complete previous folder or the complete new one.

Every output folder also gets a ``manifest.json`` (:func:`write_manifest`): the relative
path, size and SHA-256 of every file written, checked by ``geoapp verify``
(:func:`check_manifest`). The folders of ``compare``, ``export`` and ``diff`` are written
with :func:`output_folder`, which refuses a folder holding anything but an earlier
output of the same command (:func:`check_output_folder`).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import json
import logging
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any, Literal, overload

from geoapp.errors import OutputError, output_error

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, no cleanup race guard
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    The temporary file keeps the target's suffix, so drivers that infer the format
    from the extension (GeoPackage, GeoJSON) still work. On any exception the
    temporary file is removed and ``target`` is left untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.unlink()  # let the writer create it (some drivers refuse an existing file)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except BaseException:
        for p in (
            tmp_path,
            Path(str(tmp_path) + "-journal"),
            Path(str(tmp_path) + "-wal"),
            Path(str(tmp_path) + "-shm"),
        ):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        raise


def write_text(target: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``target`` atomically and return the path."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(target)


def write_bytes(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically and return the path."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


# ------------------------------------------------------------------ whole folders

#: ``renameat2`` flag: swap two paths atomically (Linux >= 3.15, glibc >= 2.28).
RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_TMP_TAG = ".geoapp-tmp-"
_OLD_TAG = ".geoapp-old-"


def _renameat2() -> Any:  # a ctypes function, or None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):  # not glibc >= 2.28, or not Linux
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_RENAMEAT2 = _renameat2() if sys.platform.startswith("linux") else None


def exchange(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Swap two existing paths atomically; return False when the system cannot.

    Uses Linux ``renameat2(..., RENAME_EXCHANGE)``. Returns False (and changes nothing)
    when the C library lacks it or the file system refuses it (``ENOSYS``,
    ``EINVAL``, ``ENOTSUP``); other failures raise :class:`OSError`.
    """
    if _RENAMEAT2 is None:
        return False
    ret = _RENAMEAT2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    if ret == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), os.fspath(a), None, os.fspath(b))


@overload
def _lock(path: Path, *, block: Literal[True] = ...) -> int: ...
@overload
def _lock(path: Path, *, block: bool) -> int | None: ...
def _lock(path: Path, *, block: bool = True) -> int | None:
    """Open ``path`` (a folder) and take an exclusive ``flock``; None if held elsewhere.

    The lock is released when the returned descriptor is closed (:func:`_unlock`) or
    the process dies (even by SIGKILL), which is how a leftover folder of a dead run is
    recognised. Without ``fcntl`` (Windows) nothing is locked and -1 is returned.
    """
    if fcntl is None:  # pragma: no cover
        return -1
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
    except BlockingIOError:
        _unlock(fd)
        return None
    except BaseException:
        _unlock(fd)
        raise
    return fd


def _unlock(fd: int) -> None:
    if fd >= 0:
        os.close(fd)


def _leftovers(target: Path, tag: str) -> list[Path]:
    prefix = f".{target.name}{tag}"
    try:
        entries = list(target.parent.iterdir())
    except FileNotFoundError:
        return []
    found = [p for p in entries if p.name.startswith(prefix) and p.is_dir() and not p.is_symlink()]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def recover_dir(target: str | os.PathLike[str]) -> list[str]:
    """Finish or undo what an interrupted :func:`atomic_dir` left beside ``target``.

    - A previous folder set aside by an interrupted fallback swap (``.NAME.geoapp-old-*``)
      is put back when ``target`` is missing, else removed (the swap had finished).
    - A temporary folder of a dead run (``.NAME.geoapp-tmp-*``: a half-written new
      folder, or the old one after an exchange) is removed.

    Folders still locked by a live run are left alone. Returns one plain sentence per
    action taken (also logged: a restore at WARNING level, a clean-up at INFO).
    """
    target = Path(os.path.realpath(target))
    done: list[str] = []
    for aside in _leftovers(target, _OLD_TAG):
        fd = _lock(aside, block=False)
        if fd is None:
            continue
        try:
            if not target.exists() and not target.is_symlink():
                os.rename(aside, target)
                done.append(
                    f"{target}: restored the previous folder left aside by an interrupted run"
                )
            else:
                shutil.rmtree(aside)
                done.append(f"{aside}: removed the previous folder of a finished swap")
        finally:
            _unlock(fd)
    for tmp in _leftovers(target, _TMP_TAG):
        fd = _lock(tmp, block=False)
        if fd is None:
            continue
        try:
            shutil.rmtree(tmp)
            done.append(f"{tmp}: removed the temporary folder of an interrupted run")
        finally:
            _unlock(fd)
    for line in done:  # a restored folder matters to the user; a removed leftover does not
        log.log(logging.WARNING if "restored" in line else logging.INFO, "%s", line)
    return done


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on folders
        pass
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    """Flush every file under ``folder`` to disk (a full disk may only show here)."""
    for root, _, files in os.walk(folder):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(root))


def _swap_in(new: Path, target: Path, tag: str) -> None:
    """Put folder ``new`` at ``target``; the previous ``target`` (if any) is removed."""
    if not target.exists() and not target.is_symlink():
        os.rename(new, target)
        return
    if exchange(new, target):
        shutil.rmtree(new, ignore_errors=True)  # now the previous folder
        return
    # Fallback: set the previous folder aside (locked, so no other run restores it while
    # we swap), move the new one in, then remove the previous one. A run killed between
    # the two renames leaves the previous folder aside; recover_dir() puts it back.
    aside = target.parent / f".{target.name}{_OLD_TAG}{tag}"
    fd = _lock(target)
    try:
        os.rename(target, aside)
        try:
            os.rename(new, target)
        except BaseException:
            os.rename(aside, target)
            raise
    finally:
        _unlock(fd)
    shutil.rmtree(aside, ignore_errors=True)


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike[str], tag: str) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; swap it in for ``target`` on success.

    The folder is built under ``.NAME.geoapp-tmp-TAG`` in the same parent and swapped
    in at the end (atomically with ``renameat2`` exchange where available, else by
    two renames that :func:`recover_dir` completes after a crash), so readers and an
    interrupted run see the complete previous folder or the complete new one, never a
    mix. On an exception the temporary folder is removed and ``target`` is unchanged.
    Leftovers of interrupted runs are cleaned up first (:func:`recover_dir`).

    The caller decides whether ``target`` may be replaced at all; this function
    replaces whatever folder is there.

    Parameters
    ----------
    target
        Folder to create or replace.
    tag
        Unique text for this run (e.g. its run id), part of the temporary names.
    """
    target = Path(os.path.realpath(target))  # "." and "out/" get a name; links: their folder
    target.parent.mkdir(parents=True, exist_ok=True)
    recover_dir(target)
    tmp = target.parent / f".{target.name}{_TMP_TAG}{tag}"
    tmp.mkdir()
    fd = _lock(tmp)
    try:
        yield tmp
        _fsync_tree(tmp)  # the data is on disk before the swap makes it the bundle
        _swap_in(tmp, target, tag)
        _fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        _unlock(fd)


# ------------------------------------------------------------------ manifests

#: The file of an output folder that lists every other file with its size and SHA-256.
MANIFEST = "manifest.json"


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Return the SHA-256 of a file's bytes as 64 hex digits."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _files_under(folder: Path) -> list[str]:
    """Every file under ``folder`` (recursively, hidden ones too) as a POSIX relative path."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in files:
            found.append(Path(root, name).relative_to(folder).as_posix())
    return sorted(found)


def confined(relative: object) -> bool:
    """Return True when ``relative`` is a relative path that stays inside its folder.

    Refused: anything but a non-empty string, an absolute path (``/x``, ``C:`` ...), a
    backslash, and any ``..``, ``.`` or empty part.
    """
    if not isinstance(relative, str) or not relative or "\\" in relative or "\0" in relative:
        return False
    path = PurePosixPath(relative)
    if path.is_absolute() or (len(relative) > 1 and relative[1] == ":"):
        return False
    return all(part not in ("", ".", "..") for part in relative.split("/"))


def write_manifest(
    folder: str | os.PathLike[str], *, command: str, run_id: str | None = None
) -> Path:
    """Write ``folder/manifest.json``: every file under ``folder`` with its size and SHA-256.

    Paths are relative to ``folder`` (POSIX separators); the manifest does not list
    itself. Call it last, when every other file of the folder is written.

    Parameters
    ----------
    folder
        The folder (usually the temporary folder of :func:`atomic_dir` before the swap).
    command
        The command that wrote the folder (``"report"``, ``"coverage"``, ``"compare"``
        ...): an output folder may be replaced only by the same command.
    run_id
        The run's id, when it has one.
    """
    folder = Path(folder)
    files = {
        rel: {"bytes": (folder / rel).stat().st_size, "sha256": sha256_file(folder / rel)}
        for rel in _files_under(folder)
        if rel != MANIFEST
    }
    doc = {"geoapp_manifest": 1, "command": command, "run_id": run_id, "files": files}
    return write_text(folder / MANIFEST, json.dumps(doc, indent=1, ensure_ascii=False) + "\n")


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Return ``folder/manifest.json`` when it is a geoapp manifest, else None."""
    try:
        doc = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(doc, dict) or not doc.get("geoapp_manifest"):
        return None
    files = doc.get("files")
    if not isinstance(files, dict) or not all(isinstance(v, dict) for v in files.values()):
        return None
    return doc


def check_manifest(folder: str | os.PathLike[str]) -> list[str]:
    """Compare a folder with its ``manifest.json``; return one sentence per difference.

    A listed file that is missing, whose size or SHA-256 differs, a file that is not
    listed (added later), a listed path leaving the folder (absolute or with ``..``),
    and a missing or unreadable manifest are each a difference naming the file.
    """
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        return [
            f"{MANIFEST}: missing, so the files of the folder cannot be checked (it was "
            "removed, or the folder was written by an older geoapp: re-create it)"
        ]
    doc = read_manifest(folder)
    if doc is None:
        return [f"{MANIFEST}: not a valid geoapp manifest (not JSON, or no 'files' object)"]
    diffs: list[str] = []
    listed: set[str] = set()
    for rel, entry in doc["files"].items():
        if not confined(rel):
            diffs.append(
                f"{MANIFEST}: the path {rel!r} leaves the folder (absolute or with '..'); "
                "refused, the file was not read"
            )
            continue
        listed.add(rel)
        target = folder / rel
        if not target.is_file():
            diffs.append(f"{rel}: missing (listed in {MANIFEST})")
            continue
        now = sha256_file(target)
        size = target.stat().st_size
        if now != entry.get("sha256") or size != entry.get("bytes"):
            diffs.append(
                f"{rel}: changed since it was written (SHA-256 recorded "
                f"{str(entry.get('sha256'))[:16]}…, now {now[:16]}…; {entry.get('bytes')} "
                f"bytes recorded, now {size})"
            )
    for rel in _files_under(folder):
        if rel != MANIFEST and rel not in listed:
            diffs.append(f"{rel}: not listed in {MANIFEST} (a file added after the run)")
    return diffs


# ------------------------------------------------------------------ command output folders


def probe_writable(folder: str | os.PathLike[str]) -> None:
    """Raise :class:`OutputError` now if a folder cannot be built beside ``folder``."""
    folder = Path(os.path.realpath(folder))
    parent = folder.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent  # the nearest existing folder: its subfolders get created
    try:
        probe = tempfile.mkdtemp(prefix=f".{folder.name}.geoapp-probe-", dir=parent)
        os.rmdir(probe)
    except OSError as exc:
        raise output_error(
            OSError(exc.errno, exc.strerror), folder, "Nothing was written."
        ) from None


def check_output_folder(folder: str | os.PathLike[str], command: str, example: str) -> None:
    """Raise unless ``geoapp COMMAND --out folder`` may write (and replace) ``folder``.

    Allowed: a path that does not exist yet, an empty folder, or an earlier output of
    the same command holding only the files its ``manifest.json`` lists (it is replaced
    as a whole, so nothing else may be in it). Leftovers of an interrupted earlier run
    beside ``folder`` are cleaned up first (:func:`recover_dir`).

    Parameters
    ----------
    folder
        The ``--out`` folder.
    command
        ``"compare"``, ``"export"``, ``"diff"`` ...
    example
        A folder to suggest in the message, e.g. ``"out/compare/"``.

    Raises
    ------
    OutputError
        ``folder`` is a file, holds other files, or cannot be written; nothing is touched.
    """
    folder = Path(folder)
    if folder.parent.is_dir():
        try:
            recover_dir(folder)
        except OSError as exc:
            log.warning("%s: could not clean up after an interrupted run: %s", folder, exc)
    if folder.exists() and not folder.is_dir():
        raise OutputError(
            f"Output folder {folder} (--out) is an existing file, not a folder; choose a folder "
            f"path (it is created), e.g. --out {example}"
        )
    if not folder.exists():
        if folder.is_symlink():
            raise OutputError(
                f"Output folder {folder} (--out) is a broken symbolic link; fix or remove it."
            )
        probe_writable(folder)
        return
    try:
        present = _files_under(folder)
        empty = not any(folder.iterdir())
    except OSError as exc:
        raise OutputError(
            f"Output folder {folder} (--out): cannot read the folder ({exc.strerror}); "
            "choose another folder."
        ) from None
    if empty:
        probe_writable(folder)
        return
    doc = read_manifest(folder)
    if doc is None or doc.get("command") != command:
        names = sorted(p.name for p in folder.iterdir())
        listed = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        raise OutputError(
            f"Output folder {folder} (--out) holds other files ({listed}) and is not an earlier "
            f"output of 'geoapp {command}'. Its output replaces the folder as a whole, so "
            f"choose a new or empty folder, e.g. --out {example}"
        )
    extra = [rel for rel in present if rel != MANIFEST and rel not in doc["files"]]
    if extra:
        shown = ", ".join(extra[:5]) + (f" and {len(extra) - 5} more" if len(extra) > 5 else "")
        raise OutputError(
            f"Output folder {folder} (--out) is an earlier output of 'geoapp {command}' but also "
            f"holds files that are not part of it ({shown}). A new run replaces the folder as "
            "a whole; move those files out or choose another folder."
        )
    probe_writable(folder)


@contextlib.contextmanager
def output_folder(
    target: str | os.PathLike[str], command: str, *, run_id: str | None = None
) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``target`` (with a manifest) when the block ends.

    Call :func:`check_output_folder` first. The files written into the yielded folder
    are listed in ``manifest.json`` (:func:`write_manifest`) and the folder is swapped
    in whole (:func:`atomic_dir`): a failed or interrupted run leaves the previous
    ``target`` as it was. A failed write (full disk, read-only folder) is an
    :class:`~geoapp.errors.OutputError` naming ``target``, never the temporary folder.
    """
    target = Path(target)
    run_id = run_id or time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(4)
    kept = (
        f"The previous output in {target} is unchanged."
        if target.is_dir() and any(target.iterdir())
        else "Nothing was written."
    )
    try:
        with atomic_dir(target, run_id) as tmp:
            yield tmp
            write_manifest(tmp, command=command, run_id=run_id)
    except OutputError as exc:
        raise OutputError(f"{exc} {kept}") from None
    except OSError as exc:
        raise output_error(OSError(exc.errno, exc.strerror), target, kept) from None
