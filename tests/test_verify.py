"""geoapp verify: passes on an untouched report, fails when an input or an indicator changes."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from geoapp import assess, catalog, cli, verify
from geoapp.spec import RegionSpec


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("verify")
    layer_file = base / "elderly_care.toml"  # an input file of the run, outside the package
    shutil.copy(catalog.load_catalog()["elderly_care"].source_file, layer_file)
    out = base / "report"
    assess.build_report(
        out, RegionSpec(layer_files=[str(layer_file)]), layers=["elderly_care"], pdf=False
    )
    return out, layer_file


@pytest.mark.slow
def test_untouched_report_verifies(built):
    out, _ = built
    assert cli.main(["verify", str(out), "-q"]) == 0
    res = verify.verify(out)
    assert res.ok and res.checked > 100 and res.inputs_checked >= 4


@pytest.mark.slow
def test_changed_input_file_fails(built):
    out, layer_file = built
    original = layer_file.read_bytes()
    try:
        layer_file.write_bytes(original + b"\n# edited after the report was made\n")
        res = verify.verify(out)
        assert not res.ok
        assert any(str(layer_file) in d and "changed" in d for d in res.differences)
        assert cli.main(["verify", str(out), "-q"]) == 1
    finally:
        layer_file.write_bytes(original)


@pytest.mark.slow
def test_edited_indicator_fails(built, tmp_path):
    out, _ = built
    copy = tmp_path / "report"
    shutil.copytree(out, copy)
    path = copy / "bundles" / "elderly_care" / "summary.csv"
    s = pd.read_csv(path, encoding="utf-8-sig")
    row = s.index[(s["level"] == "district")][0]
    s.loc[row, "share_pop_60plus_15min"] = s.loc[row, "share_pop_60plus_15min"] * 0.9 + 0.01
    s.to_csv(path, index=False, encoding="utf-8-sig")
    res = verify.verify(copy)
    assert not res.ok
    assert len(res.differences) == 1, res.differences
    d = res.differences[0]
    assert "summary.csv" in d and "share_pop_60plus_15min" in d and str(s.loc[row, "group"]) in d


@pytest.mark.slow
def test_edited_compliance_fails(built, tmp_path):
    out, _ = built
    copy = tmp_path / "report"
    shutil.copytree(out, copy)
    c = pd.read_csv(copy / "compliance.csv")
    c.loc[0, "status"] = "met" if c.loc[0, "status"] != "met" else "not_met"
    c.to_csv(copy / "compliance.csv", index=False)
    res = verify.verify(copy)
    assert [d for d in res.differences if "compliance.csv" in d and "'status'" in d]


def test_verify_refuses_a_folder_that_is_not_a_report(tmp_path):
    assert cli.main(["verify", str(tmp_path), "-q"]) == 2
