"""Layer targets: ``target_share`` (default 85%) and the reserved ``capacity`` table."""

import pytest

from geoapp.catalog import DEFAULT_TARGET_SHARE, load_catalog, parse_layer_file
from geoapp.errors import LayerFileError

BASE = (
    'id = "pharmacy"\nlabel = { en = "Pharmacies", zh = "药店" }\npopulation = "total"\n'
    "radii_m = [300, 500]\ntarget_m = 500\n"
)
MATCH = '[[match]]\namenity = "pharmacy"\n'


def _write(tmp_path, extra: str = "", tables: str = ""):
    f = tmp_path / "pharmacy.toml"
    f.write_text(BASE + extra + MATCH + tables, encoding="utf-8")
    return f


def test_target_share_default_and_given(tmp_path):
    assert DEFAULT_TARGET_SHARE == 0.85
    assert parse_layer_file(_write(tmp_path)).target_share == 0.85
    assert parse_layer_file(_write(tmp_path, "target_share = 0.6\n")).target_share == 0.6
    assert parse_layer_file(_write(tmp_path, "target_share = 1\n")).target_share == 1.0


@pytest.mark.parametrize("bad", ["1.5", "0", "-0.2", "nan", '"85%"', "true", "85"])
def test_target_share_must_be_a_share(tmp_path, bad):
    with pytest.raises(LayerFileError, match="target_share") as exc:
        parse_layer_file(_write(tmp_path, f"target_share = {bad}\n"))
    assert "pharmacy.toml" in str(exc.value) and "between 0 and 1" in str(exc.value)


def test_capacity_is_a_table(tmp_path):
    layer = parse_layer_file(_write(tmp_path, tables='[capacity]\nunit = "beds"\nper_1000 = 40\n'))
    assert layer.capacity == {"unit": "beds", "per_1000": 40}
    assert parse_layer_file(_write(tmp_path)).capacity == {}
    with pytest.raises(LayerFileError, match="capacity.*must be a table"):
        parse_layer_file(_write(tmp_path, "capacity = 12\n"))


def test_shipped_layers_carry_the_85_percent_target():
    cat = load_catalog()
    assert {lid: layer.target_share for lid, layer in cat.items()} == {lid: 0.85 for lid in cat}
