"""The OPL helpers of the fast PBF read: sections read apart, keys found by one trie.

Answers worked out by hand from the OPL text (libosmium's "Object Per Line" format).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from osm_extract_builder import write_extract

from geoapp.catalog import load_catalog
from geoapp.sources.osm_opl import opl_file_sections, opl_sections, tag_matches
from geoapp.sources.osm_pbf import read_pbf_osmium

NODES = b"n1 v1 Tamenity=cafe x24.9 y60.1\nn2 v1 T x24.91 y60.11\n"
WAYS = b"w10 v1 Thighway=path Nn1x24.9y60.1,n2x24.91y60.11\n"
RELS = b"r20 v1 Tbuilding=yes Mw10@outer\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (NODES + WAYS + RELS, (NODES[:-1], WAYS[:-1], RELS[:-1])),
        (NODES, (NODES[:-1], b"", b"")),
        (WAYS + RELS, (b"", WAYS[:-1], RELS[:-1])),
        (NODES + RELS, (NODES[:-1], b"", RELS[:-1])),
        (RELS[:-1], (b"", b"", RELS[:-1])),
    ],
)
def test_file_sections_cut_the_kinds_of_lines(
    tmp_path: Path, text: bytes, expected: tuple[bytes, bytes, bytes]
) -> None:
    path = tmp_path / "kept.opl"
    path.write_bytes(text)
    assert opl_file_sections(path) == expected
    assert opl_sections(text) == expected  # the in-memory cut agrees


def test_file_sections_of_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "kept.opl"
    path.write_bytes(b"")
    assert opl_file_sections(path) == (b"", b"", b"")


def test_tag_matches_tells_keys_that_share_a_beginning() -> None:
    fields = [
        b"Tsidewalk=left,sidewalk:both=separate,name=A",
        b"Tname:en=B,highway=path,side=x",
        b"T",
        b"Thighway=foot%20%way,sidewalk:left=no",
    ]
    keys = ["sidewalk:both", "sidewalk", "name", "highway", "sidewalk:left"]
    row, key, value = tag_matches(fields, keys)
    # name:en and side are not asked for; each tag found in field order
    assert row.tolist() == [0, 0, 0, 1, 3, 3]
    assert key.tolist() == [1, 0, 2, 3, 3, 4]
    assert value == [b"left", b"separate", b"A", b"path", b"foot%20%way", b"no"]


def test_a_closed_way_tagged_area_no_is_no_building_footprint(tmp_path: Path) -> None:
    """pyrosm's area rule: a building ring is a polygon, unless it says area=no."""
    square = [(24.90, 60.10), (24.901, 60.10), (24.901, 60.101), (24.90, 60.101)]
    nodes: dict = {}
    ways = []
    for w, dx in enumerate((0.0, 0.01, 0.02)):
        ids = [100 * (w + 1) + i for i in range(4)]
        for nid, (x, y) in zip(ids, square, strict=True):
            nodes[nid] = (x + dx, y)
        tags = [{"building": "yes"}, {"building": "yes", "area": "no"}, {"building": "house"}]
        ways.append((w + 1, [*ids, ids[0]], tags[w]))
    pbf = write_extract(tmp_path / "rings.osm.pbf", nodes, ways)
    frames = read_pbf_osmium(pbf, load_catalog(), False, True, None)
    buildings = frames[3]
    assert sorted(buildings["building_id"]) == ["way/1", "way/3"]
    assert set(buildings.geometry.geom_type) == {"Polygon"}
