"""The layer catalog: loading, validation, matching."""

import geopandas as gpd
import pytest
from shapely.geometry import Point

from geoapp.catalog import get_layer, load_catalog, parse_layer_file
from geoapp.errors import LayerFileError
from geoapp.layers import match_mask, select_features

GOOD = """
id = "pharmacy"
label = { en = "Pharmacies", zh = "药店" }
population = "total"
radii_m = [300, 500, 1000]
target_m = 500
[[match]]
amenity = "pharmacy"
[[match]]
healthcare = "pharmacy"
"""


def test_shipped_catalog_has_three_layers_with_labels_and_radii():
    cat = load_catalog()
    assert list(cat) == ["elderly_care", "community_services", "heritage"]
    ec = cat["elderly_care"]
    assert ec.label == {"en": "Elderly care", "zh": "养老服务"}
    assert ec.population == "age_60plus" and ec.demand_column == "pop_60plus"
    # minute-based (tests/test_catalog_minutes.py): 5 / 10 / 15 minutes at the elderly pace
    assert ec.minutes == (5.0, 10.0, 15.0) and ec.target_min == 15
    assert ec.radii_m == (300.0, 600.0, 900.0) and ec.target_m == 900
    assert "GB 50180-2018" in ec.standard
    for layer in cat.values():
        assert "GB 50180-2018" in open(layer.source_file, encoding="utf-8").read()


def test_extra_layer_file_is_added(tmp_path):
    f = tmp_path / "pharmacy.toml"
    f.write_text(GOOD, encoding="utf-8")
    cat = load_catalog(extra_files=[f])
    assert cat["pharmacy"].name("zh") == "药店"
    assert cat["pharmacy"].osm_tags() == {"amenity": ["pharmacy"], "healthcare": ["pharmacy"]}


def test_dropping_a_file_into_the_folder_adds_a_layer(tmp_path):
    (tmp_path / "pharmacy.toml").write_text(GOOD, encoding="utf-8")
    assert list(load_catalog(tmp_path)) == ["pharmacy"]


@pytest.mark.parametrize(
    "text, key",
    [
        ("id = [", "not valid TOML"),
        (GOOD.replace('id = "pharmacy"', ""), "key 'id'"),
        (GOOD.replace("target_m = 500", "target_m = 500\ncolour = 'red'"), "key 'colour'"),
        (GOOD.replace("[300, 500, 1000]", "[500, 300, 1000]"), "key 'radii_m'"),
        (GOOD.replace('population = "total"', 'population = "kids"'), "key 'population'"),
        (GOOD.replace('amenity = "pharmacy"', "amenity = 3"), "key 'match[0].amenity'"),
    ],
)
def test_malformed_file_names_file_and_key(tmp_path, text, key):
    f = tmp_path / "bad.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(LayerFileError) as exc:
        parse_layer_file(f)
    assert str(f) in str(exc.value) and key in str(exc.value)


def test_all_problems_reported_at_once(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text(
        'id = "x"\nlabel = { en = "X" }\npopulation = "kids"\nradii_m = [5, 1]\ntarget_m = -1\n'
    )
    with pytest.raises(LayerFileError) as exc:
        parse_layer_file(f)
    msg = str(exc.value)
    for key in ("population", "radii_m", "target_m", "match"):
        assert f"key '{key}'" in msg


def test_unknown_layer_lists_known():
    with pytest.raises(LayerFileError, match="elderly_care"):
        get_layer("nope")


def _features():
    rows = [
        # (amenity, social_facility, social_facility:for, historic, heritage, healthcare, shop)
        ("social_facility", "nursing_home", "senior", None, None, None, None),  # 0 elderly
        ("social_facility", "nursing_home", "child", None, None, None, None),  # 1 not elderly
        ("nursing_home", None, None, None, None, None, None),  # 2 legacy elderly
        ("pharmacy", None, None, None, None, None, None),  # 3 community
        (None, None, None, "monument", None, None, None),  # 4 heritage
        (None, None, None, None, None, "dentist", None),  # 5 community (healthcare=*)
        (None, None, None, None, None, None, "supermarket;bakery"),  # 6 community (multi-value)
        ("social_facility", "day_care", "senior;disabled", None, None, None, None),  # 7 elderly
    ]
    cols = [
        "amenity",
        "social_facility",
        "social_facility:for",
        "historic",
        "heritage",
        "healthcare",
        "shop",
    ]
    data = {c: [r[i] for r in rows] for i, c in enumerate(cols)}
    data["osm_id"] = [f"node/{i}" for i in range(len(rows))]
    data["name"] = [f"f{i}" for i in range(len(rows))]
    return gpd.GeoDataFrame(data, geometry=[Point(i, 0) for i in range(len(rows))], crs="EPSG:4326")


def test_match_rules_and_or_and_multivalue():
    cat = load_catalog()
    f = _features()
    assert list(match_mask(f, cat["elderly_care"]).nonzero()[0]) == [0, 2, 7]
    assert list(match_mask(f, cat["community_services"]).nonzero()[0]) == [3, 5, 6]
    assert list(match_mask(f, cat["heritage"]).nonzero()[0]) == [4]


def test_select_features_columns():
    out = select_features(_features(), load_catalog()["elderly_care"])
    assert list(out.columns[:4]) == ["facility_id", "name", "layer", "kind"]
    assert list(out["facility_id"]) == ["node/0", "node/2", "node/7"]
    assert list(out["kind"]) == ["social_facility", "nursing_home", "social_facility"]
    assert out.crs == "EPSG:4326"


def test_missing_tag_column_never_matches():
    f = _features().drop(columns=["historic", "heritage"])
    assert select_features(f, load_catalog()["heritage"]).empty
