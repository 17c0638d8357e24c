"""Warnings said once: exact repeats dropped, lines alike grouped into one.

A run collects warnings from every step (sources, demand, each layer); the same line can
come twice (a region warning repeated per layer) or dozens of times with only a name or
a number changed (72 tiles of one extract, 40 villages). :func:`group_warnings` turns
them into what a reader can take in; the CLI, ``metadata.json``, the app and the report
show its result.

Example
-------
>>> group_warnings(["Place 'A': 3 residents.", "Place 'A': 3 residents.",
...                 "Place 'B': 5 residents.", "No streets."])
["Place 'A': 3 residents. (2 warnings like this one, also: 'B', 5)", 'No streets.']
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["MAX_EXAMPLES", "group_warnings", "warning_shape"]

#: Lines shown per group: the first in full, the others by what differs.
MAX_EXAMPLES = 3

# a quoted name ('...' or "...") or a number (1,234.5, 20.6×, 2%, node/123's digits)
_VARYING = re.compile(r"'[^']*'|\"[^\"]*\"|\d+(?:[.,]\d+)*")


def _parts(line: str) -> tuple[str, list[str]]:
    """Return the line's shape (names and numbers blanked) and its names and numbers."""
    values = _VARYING.findall(line)
    return _VARYING.sub("\x00", line), values


_GROUPED = re.compile(r" \(\d+ warnings like this one, also: .*\)$", re.S)


def warning_shape(line: str) -> str:
    """Return the shape of a warning: names and numbers blanked, the group suffix dropped.

    A line :func:`group_warnings` made from several has the shape of its members, so a
    caller can tell that a raw warning was already said as part of a group.
    """
    return _parts(_GROUPED.sub("", str(line).strip()))[0]


def group_warnings(lines: Iterable[str]) -> list[str]:
    """Return the warnings once each, lines that differ only by names/numbers grouped.

    Exact repeats are dropped (the first kept, in order). Lines of the same shape (the
    same words, with only quoted names and numbers differing) become one line, where
    the first of them stood: the first line in full, then how many there were and the
    names and numbers that differ in up to :data:`MAX_EXAMPLES` - 1 more of them.

    Parameters
    ----------
    lines
        Warnings, in the order they were raised (empty or blank lines are dropped).

    Returns
    -------
    list of str
        One line per distinct warning or group, in order of first appearance.
    """
    unique = list(dict.fromkeys(s for s in (str(x).strip() for x in lines) if s))
    groups: dict[str, list[tuple[str, list[str]]]] = {}
    for line in unique:
        shape, values = _parts(line)
        groups.setdefault(shape, []).append((line, values))
    out: list[str] = []
    for members in groups.values():
        first, first_values = members[0]
        if len(members) == 1:
            out.append(first)
            continue
        examples = []
        for _, values in members[1:MAX_EXAMPLES]:
            differ = [v for k, v in enumerate(values) if v != first_values[k]]
            examples.append(", ".join(differ))
        more = "; …" if len(members) > MAX_EXAMPLES else ""
        out.append(
            f"{first} ({len(members)} warnings like this one, also: {'; '.join(examples)}{more})"
        )
    return out
