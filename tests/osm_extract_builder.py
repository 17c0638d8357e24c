"""Build small OpenStreetMap extracts in tests with pyosmium (``.osm`` and ``.osm.pbf``).

Not a test module: helpers imported by the source tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import osmium
from osmium.osm.mutable import Node, Relation, Way

TIMESTAMP = "2024-01-01T00:00:00Z"


def write_extract(
    path: str | Path,
    nodes: Mapping[int, tuple[float, float] | tuple[float, float, Mapping[str, str]]],
    ways: Iterable[tuple[int, list[int], Mapping[str, str]]],
    relations: Iterable[tuple[int, list[tuple[str, int, str]], Mapping[str, str]]] = (),
    bbox: tuple[float, float, float, float] | None = None,
    *,
    timestamps: Mapping[tuple[str, int], str] | None = None,
    header: Mapping[str, str] | None = None,
) -> Path:
    """Write nodes ``{id: (lon, lat[, tags])}``, ways ``(id, refs, tags)`` and relations
    ``(id, [(type "n"|"w"|"r", ref, role)], tags)`` to ``path`` (format from its suffix).

    ``bbox`` (west, south, east, north) goes into the file header, as ``osmium extract``
    writes it (``<bounds>`` in XML). Every object carries :data:`TIMESTAMP` unless
    ``timestamps`` gives its own (key ``("n"|"w"|"r", id)``); ``header`` adds options to
    the file header (e.g. ``osmosis_replication_timestamp``).
    """
    path = Path(path)
    if path.exists():
        path.unlink()
    common = {"version": 1, "changeset": 1, "timestamp": TIMESTAMP, "uid": 1, "user": "t"}
    header_ = osmium.io.Header()
    for key, value in (header or {}).items():
        header_.set(key, value)
    stamp = dict(timestamps or {})

    def common_of(kind: str, oid: int) -> dict:
        return {**common, "timestamp": stamp.get((kind, oid), TIMESTAMP)}

    if bbox is not None:
        header_.add_box(osmium.osm.Box(osmium.osm.Location(bbox[0], bbox[1]),
                                      osmium.osm.Location(bbox[2], bbox[3])))  # fmt: skip
    writer = osmium.SimpleWriter(str(path), header=header_)
    try:
        for nid in sorted(nodes):
            spec = nodes[nid]
            tags = dict(spec[2]) if len(spec) > 2 else {}
            writer.add_node(
                Node(id=nid, location=(spec[0], spec[1]), tags=tags, **common_of("n", nid))
            )
        for wid, refs, tags in sorted(ways, key=lambda w: w[0]):
            writer.add_way(Way(id=wid, nodes=list(refs), tags=dict(tags), **common_of("w", wid)))
        for rid, members, tags in sorted(relations, key=lambda r: r[0]):
            writer.add_relation(
                Relation(id=rid, members=list(members), tags=dict(tags), **common_of("r", rid))
            )
    finally:
        writer.close()
    return path
