"""The "homes not mapped" and street-fallback warnings said in Chinese (the 中文 app).

The warnings are made here by the functions that make them in a run
(:func:`geoapp.demand.checks.street_check`, :func:`geoapp.demand.estimate.street_sourced`)
on a hand-built street frame, so a change of their English wording shows here.
"""

from __future__ import annotations

import re

import geopandas as gpd
import pytest
from shapely.geometry import LineString

from app_pages.warnings_zh import in_language
from geoapp.demand import checks, estimate

#: Words a Chinese warning may keep: command-line options and data set names.
ALLOWED = {"population", "tif", "FILE", "WorldPop", "GHS", "POP", "census"}


def _streets(kinds: list[str]) -> gpd.GeoDataFrame:
    """One 1,000 m (about 0.0117° at 40° N) street per kind, side by side."""
    lines = [
        LineString([(116.30, 39.90 + 0.01 * k), (116.30 + 1000 / 85_300, 39.90 + 0.01 * k)])
        for k in range(len(kinds))
    ]
    return gpd.GeoDataFrame(
        {"highway": kinds, "length_m": [1000.0] * len(kinds)}, geometry=lines, crs="EPSG:4326"
    )


def _english_words(text: str) -> set[str]:
    return set(re.findall(r"(?<![-\w])[A-Za-z]{3,}", text)) - ALLOWED


@pytest.mark.parametrize("census_scaled", [True, False])
def test_homes_not_mapped_is_said_in_chinese(census_scaled):
    # 3 km of residential street, 12 homes: 4 per km, below 10 per km
    line = checks.street_check(
        _streets(["residential"] * 3), 12, 45_678.0, "buildings", census_scaled=census_scaled
    )
    assert line is not None and "homes are not mapped" in line
    zh = in_language(line, "zh")
    assert not _english_words(zh), zh
    assert "3 公里" in zh and "12 栋" in zh and "每公里 4.0 栋" in zh and "45,678" in zh
    # the census-scaled total is not called too few; the estimate without census is
    assert ("偏少" in zh) is (not census_scaled)
    assert ("--census" in zh) is (not census_scaled)


@pytest.mark.parametrize(
    ("kinds", "which"), [(["residential", "primary"], "居住"), (["footway", "primary"], "可步行")]
)
def test_street_fallback_is_said_in_chinese(kinds, which):
    sourced = estimate.street_sourced(_streets(kinds))
    (line,) = sourced.warnings
    zh = in_language(line, "zh")
    assert not _english_words(zh), zh
    km = re.search(r"along the ([\d.,]+) km", line).group(1)
    assert f"{km} 公里{which}街道" in zh
    assert in_language(line, "en") == line
