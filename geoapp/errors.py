"""Errors raised by geoapp.

Every error that a user can cause derives from :class:`GeoappError`, so front ends
(CLI, app, analyses) can catch one class and show its message without a traceback.
Messages name the file, row or field at fault and say what to do.
"""

from __future__ import annotations


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


class CRSError(InputError):
    """A coordinate reference system is missing, unknown or unsuitable."""


class NetworkUnavailableError(GeoappError, ConnectionError):
    """An online source (OpenStreetMap/Overpass/Nominatim) could not be reached."""


class PlaceNotFoundError(GeoappError, LookupError):
    """A place name could not be geocoded."""


class EmptyResultError(GeoappError):
    """A step produced nothing where something was required."""
