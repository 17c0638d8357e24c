"""Write files atomically: into a temporary file beside the target, then rename.

A failed write never leaves a half-written file and never destroys the previous one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


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
