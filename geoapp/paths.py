"""Paths as outputs show them: never an absolute path of the machine that wrote them.

A bundle, a report or a message is read on other machines (sent to a colleague,
published, served by the app), so it names files without the folders of the machine
that wrote it: a file shipped with geoapp by its place in the package
(``geoapp/data/layers/elderly_care.toml``), any other file by its name
(``homes.csv``), a path given relative stays as given.

>>> public_path("/srv/venv/lib/python3.11/site-packages/geoapp/data/layers/heritage.toml")
'geoapp/data/layers/heritage.toml'
>>> public_path("/home/ana/data/homes.csv"), public_path("data/homes.csv")
('homes.csv', 'data/homes.csv')
>>> scrub_paths({"warnings": ["/home/ana/data/homes.csv: 2 rows rejected"]})
{'warnings': ['homes.csv: 2 rows rejected']}

:func:`package_file` finds a shipped file again from its public path (``geoapp verify``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

__all__ = ["PACKAGE", "package_file", "public_path", "scrub_paths"]

#: The folder of the installed package (``.../geoapp``).
PACKAGE = Path(__file__).resolve().parent
_NAME = "geoapp"

# an absolute POSIX path of two parts or more (not a URL's //host, not "km/h" inside a
# word), or a Windows drive path; group "path" is the whole path
_ABSOLUTE = re.compile(
    r"(?P<path>(?<![\w.~/\\])/(?:[^\s/'\"<>|:;,()\[\]{}]+/)+[^\s/'\"<>|:;,()\[\]{}]*"
    r"|(?<![\w])[A-Za-z]:\\(?:[^\s\\'\"<>|:;,()\[\]{}]+\\)*[^\s\\'\"<>|:;,()\[\]{}]*)"
)


def _public_parts(parts: tuple[str, ...]) -> str:
    """Return the public form of an absolute path's parts: ``geoapp/...`` or the last."""
    for i in range(len(parts) - 2, -1, -1):  # the innermost geoapp package holding it
        if parts[i] == _NAME and (parts[i + 1] == "data" or parts[-1].endswith(".py")):
            return "/".join((_NAME, *parts[i + 1 :]))
    named = [p for p in parts if p not in ("", "/", "\\")]
    return named[-1] if named else ""


def public_path(path: str | os.PathLike[str] | None) -> str:
    """Return how an output names ``path``: never with the folders of this machine.

    Parameters
    ----------
    path
        A file or folder path (None and "" give "").

    Returns
    -------
    str
        ``geoapp/<path in the package>`` for a file inside a geoapp package (this one
        or another installation's), the path as given when relative, else the name.
    """
    if path is None or path == "":
        return ""
    text = os.fspath(path)
    if not isinstance(text, str):
        return str(text)
    if re.match(r"^[A-Za-z]:\\", text):
        return _public_parts(PureWindowsPath(text).parts)
    pure = PurePosixPath(text)
    if not pure.is_absolute():
        return text
    return _public_parts(pure.parts)


def scrub_paths(value: Any) -> Any:
    """Return ``value`` with every absolute path in its texts replaced by :func:`public_path`.

    Mappings, lists and tuples are walked (keys are kept); other values pass through.
    Meant for metadata (warnings, sources, file names), not for data cells.
    """
    if isinstance(value, str):
        if "/" not in value and "\\" not in value:
            return value
        return _ABSOLUTE.sub(lambda m: public_path(m.group("path")), value)
    if isinstance(value, Mapping):
        return {k: scrub_paths(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_paths(v) for v in value]
    if isinstance(value, tuple):
        return tuple(scrub_paths(v) for v in value)
    return value


def package_file(public: str | os.PathLike[str]) -> Path | None:
    """Return the file of this installation a ``geoapp/...`` public path names, if any."""
    parts = PurePosixPath(os.fspath(public)).parts
    if len(parts) < 2 or parts[0] != _NAME:
        return None
    candidate = PACKAGE.joinpath(*parts[1:])
    return candidate if candidate.is_file() else None
