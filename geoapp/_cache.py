"""Where geoapp keeps derived data between runs (network graphs, the demo region)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """Return ``$GEOAPP_CACHE_DIR``, else ``$XDG_CACHE_HOME/geoapp``, else ``~/.cache/geoapp``."""
    if os.environ.get("GEOAPP_CACHE_DIR"):
        return Path(os.environ["GEOAPP_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "geoapp"
