"""Shipped TOML presets (demand profiles, zone mappings): a name or a user's file."""

from __future__ import annotations

import os
from pathlib import Path

from geoapp.errors import InputError


def preset_path(folder: Path, name_or_path: str | os.PathLike[str], what: str, hint: str) -> Path:
    """Return the shipped preset ``folder/<name>.toml``, else ``name_or_path`` as a file.

    Parameters
    ----------
    folder
        Folder of the shipped presets.
    name_or_path
        A preset name (case-insensitive) or the path of a TOML file.
    what
        What the preset is, for the message (``"demand profile"``).
    hint
        What to give instead, after the list of shipped presets.

    Raises
    ------
    InputError
        When neither exists, naming the shipped presets.
    """
    preset = folder / f"{str(name_or_path).lower()}.toml"
    path = preset if preset.is_file() else Path(name_or_path)
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in folder.glob("*.toml")))
        raise InputError(
            f"{name_or_path}: {what} not found; give a shipped one ({known}) or {hint}"
        )
    return path
