"""libosmium's OPL text, parsed in bulk (the pyosmium PBF reader's second half).

:func:`geoapp.sources.osm_pbf.read_pbf_osmium` has libosmium write the objects it keeps as
OPL ("Object Per Line") text; the helpers here split a whole kind of lines into fields in
one call, find the tags the rules read with one regular expression over all of them and
parse the node lists with pandas' C parser. Keys and values stay escaped (``%<hex>%``)
until a rule or a column reads them (:func:`opl_text`).
"""

from __future__ import annotations

import mmap
import os
import re
import warnings
from operator import itemgetter

import numpy as np
import pandas as pd

__all__ = [
    "OPL_KINDS",
    "admin_members_of",
    "decoded_values",
    "node_counts",
    "opl_fields",
    "opl_file_sections",
    "opl_grouped",
    "opl_ids",
    "opl_key",
    "opl_lon_lat",
    "opl_sections",
    "opl_tags",
    "opl_text",
    "opl_way_nodes",
    "tag_matches",
]

#: libosmium's OPL escapes every code point outside these ranges as ``%<hex>%``.
_OPL_PLAIN = ((0x21, 0x24), (0x26, 0x2B), (0x2D, 0x3C), (0x3E, 0x3F), (0x41, 0x7E),
              (0xA1, 0xAC), (0xAE, 0x5FF))  # fmt: skip
_OPL_ESCAPE = re.compile(r"%([0-9a-fA-F]+)%")
#: The kinds of OPL lines, each with the fields the reader needs.
OPL_KINDS = (b"nTxy", b"wTN", b"rTM")
#: A way's node list ``Nn<id>x<lon>y<lat>,...`` as lines ``<id> <lon> <lat>`` (``N``, ``n``
#: deleted).
_OPL_NODE_LINES = bytes.maketrans(b"xy,", b"  \n")


def opl_key(key: str) -> bytes:
    """Return ``key`` as libosmium's OPL writer spells it."""
    return "".join(
        ch if any(a <= ord(ch) <= b for a, b in _OPL_PLAIN) else f"%{ord(ch):x}%" for ch in key
    ).encode()


def opl_text(value: bytes) -> str:
    """Return the tag value or key ``value`` of an OPL line as the string OSM holds."""
    text = value.decode()
    return _OPL_ESCAPE.sub(lambda m: chr(int(m[1], 16)), text) if "%" in text else text


def opl_tags(field: bytes) -> dict[bytes, bytes]:
    """Return the tags of an OPL ``T`` field (``Tk=v,k=v``), keys and values still escaped.

    ``=`` and ``,`` inside keys and values are escaped in OPL, so splitting is safe.
    """
    if len(field) < 2:
        return {}
    parts = iter(field[1:].replace(b"=", b",").split(b","))
    return dict(zip(parts, parts, strict=True))


def opl_way_nodes(node_lists: list[bytes], counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the node ids and lon/lat (NaN where not in the file) of OPL ``N`` fields.

    ``node_lists`` holds each way's OPL ``N`` field (``Nn<id>x<lon>y<lat>,...``) and
    ``counts`` its number of nodes. The numbers are parsed by pandas' C parser in one
    call, one line per node: the ids as integers, and the decimal coordinates libosmium
    writes (1e-7 degree fixed point, at most ten digits) as one exact integer divided by
    a power of ten, so they are the doubles osmium's ``Location.lon``/``lat`` give.
    """
    import io

    total = int(counts.sum())
    if not total:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 2))
    # a node missing from the file has no location ("n5xy"): its line "5  " has two
    # empty fields, read as NaN
    text = b",".join(node_lists).translate(_OPL_NODE_LINES, b"Nn")
    table = pd.read_csv(
        io.BytesIO(text),
        sep=" ",
        header=None,
        names=["id", "x", "y"],
        dtype={"id": np.int64, "x": np.float64, "y": np.float64},
        na_values=[""],
        keep_default_na=False,
        engine="c",
    )
    if len(table) != total:
        raise ValueError(f"OPL node lists: {len(table)} nodes where {total} were expected")
    xy = table[["x", "y"]].to_numpy(dtype=np.float64)
    bad = ~((np.abs(xy[:, 0]) <= 180.0) & (np.abs(xy[:, 1]) <= 90.0))  # Location.valid()
    xy[bad] = np.nan
    return table["id"].to_numpy(dtype=np.int64), xy


def opl_ids(fields: list[bytes], kind: bytes) -> np.ndarray:
    """Return the ids of the OPL id fields ``fields`` (``<kind><id>``), parsed in one call.

    Raises
    ------
    ValueError
        When a field is no id of that kind.
    """
    text = b" ".join(fields).replace(kind, b"")
    with warnings.catch_warnings():
        # at a bad number numpy raises, or (older versions) warns and stops there
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            ids = np.fromstring(text, dtype=np.int64, sep=" ")
        except ValueError:
            ids = np.zeros(0, dtype=np.int64)
    if len(ids) != len(fields):
        raise ValueError(f"OPL ids: {len(ids)} numbers in {len(fields)} id fields")
    return ids


def _section_spans(text: bytes | mmap.mmap) -> tuple[tuple[int, int], ...]:
    """Return the (start, end) byte offsets of :func:`opl_sections`' three sections.

    Each section without its last line's newline; a kind with no line is empty.
    """
    n = len(text)
    end = n - (text[-1:] == b"\n")
    first_way = 0 if text[:1] == b"w" else text.find(b"\nw") + 1 or -1
    if first_way >= 0:
        a = first_way
        nl = text.find(b"\n", text.rfind(b"\nw") + 1)  # the end of the last way line
        w_end, b = (nl, nl + 1) if nl >= 0 else (end, n)
    else:
        a = w_end = b = 0 if text[:1] == b"r" else text.find(b"\nr") + 1 or n
    n_end = end if a >= n else max(a - 1, 0)
    return (0, n_end), (a, max(w_end, a)), (b, max(end, b))


def opl_sections(text: bytes) -> tuple[bytes, bytes, bytes]:
    """Return the node, way and relation lines of the OPL ``text`` as a sorted file holds them.

    A file sorted by type (nodes, then ways, then relations, as extracts are) is cut
    at two places; :func:`opl_fields` finds out when it was not.
    """
    (n0, n1), (w0, w1), (r0, r1) = _section_spans(text)
    return text[n0:n1], text[w0:w1], text[r0:r1]


def opl_file_sections(path: str | os.PathLike[str]) -> tuple[bytes, bytes, bytes]:
    """Return :func:`opl_sections` of the OPL file ``path``, each section read apart.

    The cuts are found in a memory map of the file (only the node lines and the last
    lines are scanned); each section is then read once, not the whole text read and
    copied again into its three parts (a large file's copies cost more than the reads).
    """
    with open(path, "rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            return b"", b"", b""
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            spans = _section_spans(mm)
        parts = []
        for start, stop in spans:
            fh.seek(start)
            parts.append(fh.read(stop - start))
    return parts[0], parts[1], parts[2]


def opl_grouped(text: bytes) -> tuple[bytes, bytes, bytes]:
    """Return the node, way and relation lines of the OPL ``text`` in any order."""
    lines = text.split(b"\n")
    n, w, r = (b"\n".join(x for x in lines if x[:1] == k) for k in (b"n", b"w", b"r"))
    return n, w, r


def opl_fields(section: bytes, names: bytes) -> tuple[list[bytes], int, dict[bytes, int]]:
    """Split the OPL lines ``section`` (one kind) into their fields, all at once.

    Returns the fields of all lines one after another, the number of fields per line
    and the position in a line of each field by its letter (``b"T"``: the tags).
    ``names`` are the letters every line must have, the first its kind.

    Raises
    ------
    ValueError
        When a line is of another kind or has its fields elsewhere.
    """
    if not section:
        return [], 1, {}
    end = section.find(b"\n")
    first = section if end < 0 else section[:end]
    letters = [f[:1] for f in first.split(b" ")]
    where = {k: i for i, k in enumerate(letters)}
    stride = len(letters)
    # OPL escapes every whitespace byte inside a field: fields are the runs between them
    fields = section.split()
    if len(fields) % stride or any(bytes([c]) not in where for c in names):
        raise ValueError(f"unexpected OPL layout: {first[:80]!r}")
    for letter in (names[:1], b"T"):  # every line has its fields in the same places
        column = fields[where[letter] :: stride]
        if b"\n".join(column).count(b"\n" + letter) != len(column) - 1:
            raise ValueError(f"unexpected OPL layout: {first[:80]!r}")
    return fields, stride, where


def tag_matches(
    tag_fields: list[bytes], keys: list[str]
) -> tuple[np.ndarray, np.ndarray, list[bytes]]:
    """Find the tags ``keys`` in OPL ``T`` fields with one regular expression over all.

    Returns, per tag found, the field it is in, the key's position in ``keys`` and the
    value (still escaped), in field order then tag order. Every field is opened with a
    tag whose key is the byte 0 (which OPL escapes): those count the fields.
    """
    if not tag_fields or not keys:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), []
    escaped = [opl_key(k) for k in keys]
    kid = {b: i for i, b in enumerate(escaped)}
    kid[b"\x00"] = -1
    # a literal first byte: the regular expression engine skips to each comma; the keys
    # as a trie (one branch per first byte), not tried one after another at each comma
    pattern = re.compile(rb",(\x00|" + _trie(sorted(set(escaped))) + rb")=([^,\n]*)")
    joined = (b"\n" + b"\n".join(tag_fields)).replace(b"\nT", b"\n,\x00=,")
    found = pattern.findall(joined)
    del joined
    key = np.fromiter(map(kid.__getitem__, map(itemgetter(0), found)), np.int64, len(found))
    opened = key < 0
    row = np.cumsum(opened) - 1
    sel = np.flatnonzero(~opened)
    return row[sel], key[sel], [found[i][1] for i in sel.tolist()]


def _trie(words: list[bytes]) -> bytes:
    """Return a regular expression matching exactly the non-empty ``words``, as a trie."""
    branches: dict[bytes, list[bytes]] = {}
    for w in words:
        branches.setdefault(w[:1], []).append(w[1:])
    alts = []
    for first, rests in branches.items():
        if len(rests) == 1:  # one word on this branch: its bytes as they are
            alts.append(re.escape(first + rests[0]))
            continue
        ends = b"" in rests
        rest = [r for r in rests if r]
        tail = _trie(rest) if rest else b""
        if tail:
            tail = b"(?:" + tail + b")" + (b"?" if ends else b"")
        alts.append(re.escape(first) + tail)
    return b"|".join(alts)


def decoded_values(values: list[bytes]) -> dict[bytes, str]:
    """Return ``{value: its text}`` of the escaped OPL ``values`` (each decoded once)."""
    return {v: opl_text(v) for v in set(values)}


def opl_lon_lat(xs: list[bytes], ys: list[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the lon, lat of OPL ``x``/``y`` fields with a valid location, and their rows."""
    n = len(xs)
    located = (np.fromiter(map(len, xs), np.int64, n) > 1) & (
        np.fromiter(map(len, ys), np.int64, n) > 1
    )
    rows = np.flatnonzero(located)
    if len(rows) < n:
        xs, ys = [xs[k] for k in rows.tolist()], [ys[k] for k in rows.tolist()]
    lon = np.fromiter(map(float, b" ".join(xs).replace(b"x", b"").split()), np.float64, len(rows))
    lat = np.fromiter(map(float, b" ".join(ys).replace(b"y", b"").split()), np.float64, len(rows))
    ok = (lon >= -180.0) & (lon <= 180.0) & (lat >= -90.0) & (lat <= 90.0)
    return lon[ok], lat[ok], rows[ok]


def admin_members_of(members: list[bytes]) -> tuple[list[int], list[int], list[int], list[int]]:
    """Return the outer and inner way ids and admin_centre and label node ids of OPL members.

    ``members`` are a relation's OPL members (``<type><ref>@<role>``), read as
    :func:`geoapp.sources.osm_admin.admin_members` reads a pyosmium relation: a way of
    any role but ``inner`` is outer (these roles are plain ASCII, never escaped).
    """
    outer: list[int] = []
    inner: list[int] = []
    nodes: dict[bytes, list[int]] = {b"admin_centre": [], b"label": []}
    for m in members:
        at = m.find(b"@")
        if m[:1] == b"w":
            (inner if m[at + 1 :] == b"inner" else outer).append(int(m[1:at]))
        elif m[:1] == b"n" and m[at + 1 :] in nodes:
            nodes[m[at + 1 :]].append(int(m[1:at]))
    return outer, inner, nodes[b"admin_centre"], nodes[b"label"]


def node_counts(node_lists: list[bytes]) -> np.ndarray:
    """Return the number of nodes of each OPL ``N`` field."""
    from itertools import repeat

    n = len(node_lists)
    # nodes per way: its commas plus one, none for an empty list ("N")
    counts = np.fromiter(map(bytes.count, node_lists, repeat(b",")), np.int64, n)
    counts += np.fromiter(map(len, node_lists), np.int64, n) > 1
    return counts
