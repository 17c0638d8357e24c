"""Content digests of frames (the keys of the demand and network caches)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geoapp.cache import frame_digest, remember_digest


def _frame(xs, names, crs="EPSG:4326") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": names, "n": range(len(xs))}, geometry=shapely.points(xs, [0.0] * len(xs)), crs=crs
    )


def test_equal_content_gives_equal_digests_and_any_change_another():
    base = _frame([1.0, 2.0, 3.0], ["a", "b", None])
    assert frame_digest(base) == frame_digest(_frame([1.0, 2.0, 3.0], ["a", "b", None]))
    changed = [
        _frame([1.0, 2.0, 3.5], ["a", "b", None]),  # a coordinate
        _frame([1.0, 2.0, 3.0], ["a", "b", "c"]),  # a value
        _frame([1.0, 2.0], ["a", "b"]),  # a row
        _frame([1.0, 2.0, 3.0], ["a", "b", None], crs="EPSG:3857"),  # the CRS
        _frame([1.0, 2.0, 3.0], ["a", "b", None]).rename(columns={"n": "m"}),  # a name
        _frame([1.0, 2.0, 3.0], ["a", "b", None]).astype({"n": "float64"}),  # a dtype
    ]
    digests = {frame_digest(base), *(frame_digest(f) for f in changed)}
    assert len(digests) == 1 + len(changed)


def test_a_remembered_digest_belongs_to_that_object_only():
    f = _frame([1.0, 2.0], ["a", "b"])
    computed = frame_digest(_frame([1.0, 2.0], ["a", "b"]))
    remember_digest(f, "parsed:file-hash:edges")
    assert frame_digest(f) == "parsed:file-hash:edges"
    # a copy, or a frame derived from it, is hashed by its content
    assert frame_digest(f.copy()) == computed
    assert frame_digest(f.iloc[:1]) != computed


def test_unhashable_values_are_hashed_by_their_text():
    a = pd.DataFrame({"tags": [["a", "b"], ["c"]]})
    b = pd.DataFrame({"tags": [["a", "b"], ["d"]]})
    assert frame_digest(a) != frame_digest(b)
    assert frame_digest(a) == frame_digest(pd.DataFrame({"tags": [["a", "b"], ["c"]]}))


@pytest.mark.slow
@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=20), st.data())
def test_changing_one_coordinate_changes_the_digest(xs, data):
    names = [str(i) for i in range(len(xs))]
    i = data.draw(st.integers(0, len(xs) - 1))
    moved = list(xs)
    moved[i] = xs[i] + 1.0 if abs(xs[i]) < 1e5 else xs[i] / 2 + 1.0
    assert frame_digest(_frame(xs, names)) != frame_digest(_frame(moved, names))
    assert frame_digest(_frame(xs, names)) == frame_digest(_frame(list(xs), names))
