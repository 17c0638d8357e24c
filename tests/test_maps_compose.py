"""The Coverage page's map as a base kept in the browser plus overlays redrawn per setting."""

from __future__ import annotations

import copy

import folium
import pytest
from fixtures import map_region
from streamlit_folium import _get_map_string, generate_js_hash

from geoapp import maps
from geoapp.catalog import load_catalog


@pytest.fixture(scope="module")
def small():
    """The hand-made region of the map tests."""
    return map_region()


def _kwargs(small, layer, lang="en", radius=None):
    return dict(
        region_boundaries=small["bnd"],
        hexes=small["hexes"],
        facilities=small["fac"],
        gaps=small["gaps"],
        edges=small["edges"],
        layer=layer,
        lang=lang,
        synthetic=True,
        radius_m=radius,
    )


def _component_key(base: folium.Map) -> str:
    """The key streamlit-folium gives the component: a new key mounts a new iframe."""
    m = copy.deepcopy(base)
    m.get_root().render()
    m.render()
    return generate_js_hash(_get_map_string(m), "coverage_map")


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("layer_id", ["elderly_care", "community_services", "heritage"])
def test_parts_draw_the_same_layers_as_the_whole_map(small, layer_id, lang):
    layer = load_catalog()[layer_id]
    whole = maps.coverage_map(**_kwargs(small, layer, lang))
    parts = maps.coverage_map_parts(**_kwargs(small, layer, lang))
    assert maps.map_layers(parts.combined()) == maps.map_layers(whole)
    # of the layers only the streets (no text in their script) are in the base
    assert [d["name"] for d in maps.map_layers(parts.base)] == [maps.map_layers(whole)[0]["name"]]
    names = [fg.layer_name for fg in parts.overlays if fg.control]
    assert names == [d["name"] for d in maps.map_layers(whole)[1:]]


@pytest.mark.slow
def test_base_is_one_component_for_every_setting(small):
    cat = load_catalog()
    keys = {
        _component_key(maps.coverage_map_parts(**_kwargs(small, cat[lid], lang, radius)).base)
        for lid in ("elderly_care", "community_services", "heritage")
        for lang in ("en", "zh")
        for radius in (None, 300.0, 1000.0)
    }
    assert len(keys) == 1  # layer, language and radius changes keep the map in the browser


def test_overlays_hold_the_legend_notes_and_escaped_strings(small):
    parts = maps.coverage_map_parts(**_kwargs(small, load_catalog()["elderly_care"]))
    page = maps.map_html(parts.combined())
    assert "geoapp-coverage-legend" in page and "geoapp-note" in page and "geoapp-title" in page
    assert "<script>alert" not in page and "<b>Town</b>" not in page
    assert not maps.external_urls(page)
    # boxes inside a feature group follow it: shown when it is added, gone when removed
    assert page.count('.on("add", function (e)') >= 3
