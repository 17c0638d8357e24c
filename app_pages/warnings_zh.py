"""The run's warnings in Chinese for the 中文 app: :mod:`geoapp.warnings_zh` re-exported.

The translations live in the library (:mod:`geoapp.warnings_zh`) so the Chinese report
(``geoapp report --lang zh``) says the same warnings in the same words as the app.
"""

from __future__ import annotations

from geoapp.warnings_zh import PATTERNS, in_language, is_translated

__all__ = ["PATTERNS", "in_language", "is_translated"]
