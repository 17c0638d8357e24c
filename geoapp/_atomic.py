"""Write files and whole folders atomically: build beside the target, then rename.

A failed write never leaves a half-written file and never destroys the previous one.
:func:`atomic_dir` does the same for a folder of files (a result bundle): readers and
an interrupted run find the complete previous folder or the complete new one.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, overload

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
