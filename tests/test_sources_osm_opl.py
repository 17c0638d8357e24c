"""The OPL helpers of the osmium reader, on lines written out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from geoapp.sources.osm_opl import (
    admin_members_of,
    node_counts,
    opl_fields,
    opl_ids,
    opl_way_nodes,
)


def test_ids_are_read_in_one_call_and_a_bad_one_is_refused():
    assert opl_ids([b"w7", b"w12345678901", b"w-3"], b"w").tolist() == [7, 12345678901, -3]
    assert opl_ids([], b"w").tolist() == []
    with pytest.raises(ValueError, match="2 id fields"):
        opl_ids([b"w7", b"wx"], b"w")


def test_fields_split_at_spaces_and_line_ends():
    section = b"w1 T N\nw2 Thighway=path Nn1x1.5y2.5,n2x3y4"
    fields, stride, at = opl_fields(section, b"wTN")
    assert stride == 3
    assert at == {b"w": 0, b"T": 1, b"N": 2}
    assert fields == [b"w1", b"T", b"N", b"w2", b"Thighway=path", b"Nn1x1.5y2.5,n2x3y4"]


def test_node_lists_with_a_missing_location_and_an_empty_way():
    lists = [b"Nn1x24.9432708y60.1665138,n5xy", b"N", b"Nn7x-0.0000001y-90"]
    counts = node_counts(lists)
    assert counts.tolist() == [2, 0, 1]
    ids, xy = opl_way_nodes(lists, counts)
    assert ids.tolist() == [1, 5, 7]
    # the decimals parse to the doubles Python gives the same text
    assert xy[0].tolist() == [24.9432708, 60.1665138]
    assert np.isnan(xy[1]).all()  # node 5 is not in the file
    assert xy[2].tolist() == [-1e-07, -90.0]


def test_admin_members_by_role():
    members = b"w10@outer,w11@inner,w12@,n5@admin_centre,n6@label,n7@,r8@subarea,w13@inner%20%x"
    outer, inner, centre, label = admin_members_of(members.split(b","))
    # a way of any role but exactly "inner" is outer; nodes count as centre or label only
    assert (outer, inner, centre, label) == ([10, 12, 13], [11], [5], [6])
    assert admin_members_of([b""]) == ([], [], [], [])
