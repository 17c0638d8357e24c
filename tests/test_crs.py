"""GCJ-02 / BD-09 conversions against published reference pairs.

References (independent implementations of the public algorithm, with printed values):
- wandergis/coordtransform, test/app.js (JavaScript):
  wgs84togcj02(116.404, 39.915) = [116.41024449916938, 39.91640428150164]
  gcj02tobd09(116.404, 39.915)  = [116.41036949371029, 39.92133699351021]
  bd09togcj02(116.404, 39.915)  = [116.39762729119315, 39.90865673957631]  (1-step approx.)
  gcj02towgs84(116.404, 39.915) = [116.39775550083061, 39.91359571849836]  (1-step approx.)
- sshuair/coord-convert, README (Python): wgs2gcj(120, 40) = (120.00567568355486, 40.0013047896019)
- hujiulong/gcoord, test/unit/crs/GCJ02.spec.js (JavaScript, to 5 decimals):
  GCJ02 -> WGS84 (123, 45) = (122.99395597, 44.99804071); GCJ02 -> BD09 (123, 45) =
  (123.00636499, 45.00636899); outside China (183, 45) is unchanged.
Our inverses are iterative (exact to 1e-9 degrees), so they differ from the one-step
approximations above by a few 1e-7 degrees (a few centimetres).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from geoapp.crs import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    convert_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from geoapp.errors import CRSError, InputError

GEOD = Geod(ellps="WGS84")


def test_wgs84_to_gcj02_matches_coordtransform_and_coord_convert():
    lon, lat = wgs84_to_gcj02(116.404, 39.915)
    assert lon == pytest.approx(116.41024449916938, abs=1e-10)
    assert lat == pytest.approx(39.91640428150164, abs=1e-10)
    lon, lat = wgs84_to_gcj02(120, 40)
    assert lon == pytest.approx(120.00567568355486, abs=1e-10)
    assert lat == pytest.approx(40.0013047896019, abs=1e-10)


def test_gcj02_to_bd09_matches_coordtransform_and_gcoord():
    lon, lat = gcj02_to_bd09(116.404, 39.915)
    assert lon == pytest.approx(116.41036949371029, abs=1e-10)
    assert lat == pytest.approx(39.92133699351021, abs=1e-10)
    lon, lat = gcj02_to_bd09(123, 45)
    assert lon == pytest.approx(123.00636499, abs=5e-6)
    assert lat == pytest.approx(45.00636899, abs=5e-6)


def test_inverses_match_published_approximations_closely():
    lon, lat = bd09_to_gcj02(116.404, 39.915)
    assert lon == pytest.approx(116.39762729119315, abs=2e-6)
    assert lat == pytest.approx(39.90865673957631, abs=2e-6)
    lon, lat = gcj02_to_wgs84(116.404, 39.915)
    assert lon == pytest.approx(116.39775550083061, abs=2e-6)
    assert lat == pytest.approx(39.91359571849836, abs=2e-6)
    lon, lat = gcj02_to_wgs84(123, 45)
    assert lon == pytest.approx(122.99395597, abs=5e-6)
    assert lat == pytest.approx(44.99804071, abs=5e-6)


def test_exact_inverse_of_the_reference_point():
    lon, lat = gcj02_to_wgs84(116.41024449916938, 39.91640428150164)
    assert lon == pytest.approx(116.404, abs=1e-8)
    assert lat == pytest.approx(39.915, abs=1e-8)


def test_outside_china_gcj02_equals_wgs84():
    for lon, lat in [(183.0, 45.0), (2.35, 48.85), (-74.0, 40.7), (139.9, 35.7)]:
        assert wgs84_to_gcj02(lon, lat) == (lon, lat)
        assert gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_offset_in_beijing_is_about_500_metres():
    lon = np.array([116.404, 116.30, 116.65, 116.13])
    lat = np.array([39.915, 39.98, 40.13, 40.48])
    glon, glat = wgs84_to_gcj02(lon, lat)
    _, _, dist = GEOD.inv(lon, lat, glon, glat)
    assert np.all((dist > 300) & (dist < 800)), dist
    blon, blat = wgs84_to_bd09(lon, lat)
    _, _, dist_bd = GEOD.inv(lon, lat, blon, blat)
    assert np.all(dist_bd > dist)  # BD-09 adds another ~800 m on top


def test_vectorised_shapes_and_nan_passthrough():
    lon = np.array([[116.4, 116.5], [np.nan, 121.47]])
    lat = np.array([[39.9, 39.95], [31.2, 31.23]])
    out_lon, out_lat = gcj02_to_wgs84(lon, lat)
    assert out_lon.shape == (2, 2)
    assert np.isnan(out_lon[1, 0])
    assert np.all(np.isfinite(out_lon[[0, 0, 1], [0, 1, 1]]))


def test_convert_to_wgs84_dispatches_and_rejects_unknown_names():
    assert convert_to_wgs84(116.4, 39.9, "wgs84") == (116.4, 39.9)
    assert convert_to_wgs84(116.4, 39.9, "GCJ-02") == gcj02_to_wgs84(116.4, 39.9)
    assert convert_to_wgs84(116.4, 39.9, "bd09") == bd09_to_wgs84(116.4, 39.9)
    with pytest.raises(CRSError, match="wgs84, gcj02, bd09"):
        convert_to_wgs84(116.4, 39.9, "utm50")
    assert issubclass(CRSError, InputError)


china = st.tuples(st.floats(73.0, 135.0), st.floats(18.0, 53.5))


@settings(max_examples=200, deadline=None)
@given(china)
def test_gcj02_round_trip(pt):
    lon, lat = pt
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert abs(back[0] - lon) < 1e-6 and abs(back[1] - lat) < 1e-6
    fwd = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    assert abs(fwd[0] - lon) < 1e-6 and abs(fwd[1] - lat) < 1e-6


@settings(max_examples=200, deadline=None)
@given(china)
def test_bd09_round_trip(pt):
    lon, lat = pt
    back = bd09_to_gcj02(*gcj02_to_bd09(lon, lat))
    assert abs(back[0] - lon) < 1e-6 and abs(back[1] - lat) < 1e-6
    back = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert abs(back[0] - lon) < 1e-6 and abs(back[1] - lat) < 1e-6
