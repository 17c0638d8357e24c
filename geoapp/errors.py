"""Errors raised by geoapp.

Every error that a user can cause derives from :class:`GeoappError`, so front ends
(CLI, app, analyses) can catch one class and show its message without a traceback.
Messages name the file, row or field at fault and say what to do.
"""

from __future__ import annotations

import errno
import os


class GeoappError(Exception):
    """Base class of every error a user can cause."""


class InputError(GeoappError, ValueError):
    """A file or table given by the user cannot be used.

    Parameters
    ----------
    message
        What is wrong and what to do.
    problems
        Every problem found, when validation collected several before raising.
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = list(problems or [])
        if self.problems:
            message = message + "\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(message)


class LayerFileError(InputError):
    """A layer catalog TOML file is malformed."""


class StandardFileError(InputError):
    """A standards profile TOML file is malformed."""


class CRSError(InputError):
    """A coordinate reference system is missing, unknown or unsuitable."""


class NetworkUnavailableError(GeoappError, ConnectionError):
    """An online source (OpenStreetMap/Overpass/Nominatim) could not be reached."""


class PlaceNotFoundError(GeoappError, LookupError):
    """A place name could not be geocoded."""


class EmptyResultError(GeoappError):
    """A step produced nothing where something was required."""


class OutputError(GeoappError, OSError):
    """An output file or folder cannot be written (not a folder, read-only, disk full).

    Raised before anything existing is replaced, so the previous output stays intact.
    """


#: errno -> (what happened, what to do) for :func:`output_error`.
_OS_REASONS = {
    errno.ENOSPC: ("the disk is full", "free some space or choose another output folder (--out)"),
    errno.EDQUOT: (
        "the disk quota is used up",
        "free some space or choose another output folder (--out)",
    ),
    errno.EFBIG: (
        "a file grew past the size limit of the file system or of the shell (ulimit -f)",
        "raise the limit or choose another output folder (--out) on a larger file system",
    ),
    errno.EROFS: (
        "the file system is read-only",
        "choose a folder you can write to (--out)",
    ),
    errno.EACCES: ("permission denied", "choose a folder you can write to (--out)"),
    errno.EPERM: ("operation not permitted", "choose a folder you can write to (--out)"),
    errno.ENOTDIR: (
        "a part of the path is a file, not a folder",
        "choose another output path (--out)",
    ),
    errno.EISDIR: ("the path is a folder, not a file", "give a file path (--out FILE)"),
    errno.ENOENT: ("a part of the path does not exist", "create the folder or fix the path"),
}


def output_error(exc: OSError, target: str | os.PathLike[str], kept: str = "") -> OutputError:
    """Return an :class:`OutputError` explaining an :class:`OSError` raised while writing.

    Parameters
    ----------
    exc
        The operating-system error.
    target
        The file or folder being written (named in the message).
    kept
        A sentence saying what was left intact, e.g. "The previous bundle is unchanged."
    """
    what, todo = _OS_REASONS.get(
        exc.errno or 0, (exc.strerror or str(exc), "check the path and try again")
    )
    where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(target) else ""
    msg = f"Cannot write {target}: {what}{where}; {todo}."
    if kept:
        msg += " " + kept
    err = OutputError(msg)
    err.errno = exc.errno
    return err
