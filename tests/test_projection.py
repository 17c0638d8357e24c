"""--projection: district factors re-weight the demand for a year."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geoapp import assess, projection, workflow
from geoapp.errors import InputError


@pytest.fixture(scope="module")
def demand():
    return workflow.prepare_demand(workflow.load_region("demo"))


def _table(tmp_path, text):
    p = tmp_path / "proj.csv"
    p.write_text(text, encoding="utf-8")
    return projection.read_projection(p)


@pytest.mark.slow
def test_factors_per_district_and_default(demand, tmp_path):
    t = _table(
        tmp_path,
        "district,year,factor_60plus,factor_total\n*,2035,1.5,\nOld Town,2035,2.0,1.1\n"
        "Old Town,2030,1.2,\n",
    )
    new, info = projection.apply_projection(demand, t, year=2035)
    old_pts, new_pts = demand.points, new.points
    old_town = (old_pts["district"] == "Old Town").to_numpy()
    np.testing.assert_allclose(
        new_pts["pop_60plus"].to_numpy()[old_town], old_pts["pop_60plus"].to_numpy()[old_town] * 2.0
    )
    np.testing.assert_allclose(
        new_pts["pop"].to_numpy()[old_town], old_pts["pop"].to_numpy()[old_town] * 1.1
    )
    np.testing.assert_allclose(
        new_pts["pop_60plus"].to_numpy()[~old_town],
        old_pts["pop_60plus"].to_numpy()[~old_town] * 1.5,
    )
    np.testing.assert_array_equal(
        new_pts["pop"].to_numpy()[~old_town], old_pts["pop"].to_numpy()[~old_town]
    )
    assert info["year"] == 2035
    row = info["table"].set_index("district").loc["Old Town"]
    assert row["pop_60plus_after"] == pytest.approx(2.0 * row["pop_60plus_before"])
    # the input demand is unchanged
    assert demand.points is old_pts and "projection for 2035" in new.assumptions[-1]


@pytest.mark.slow
def test_year_must_be_chosen_and_present(demand, tmp_path):
    t = _table(tmp_path, "district,year,factor_60plus\n*,2030,1.2\n*,2035,1.5\n")
    with pytest.raises(InputError, match="--year"):
        projection.apply_projection(demand, t)
    with pytest.raises(InputError, match="2040"):
        projection.apply_projection(demand, t, year=2040)


@pytest.mark.slow
def test_60plus_capped_at_total_with_warning(demand, tmp_path):
    t = _table(tmp_path, "district,year,factor_60plus,factor_total\n*,2050,10,1\n")
    new, _ = projection.apply_projection(demand, t)
    assert (new.points["pop_60plus"] <= new.points["pop"] + 1e-9).all()
    assert any("capped" in w for w in new.warnings)


@pytest.mark.slow
def test_missing_districts_are_named(demand, tmp_path):
    t = _table(tmp_path, "district,year,factor_60plus\nOld Town,2035,1.5\n")
    new, _ = projection.apply_projection(demand, t)
    assert any("no row for" in w and "West Hills" in w for w in new.warnings)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("district,year\n*,2035\n", "factor_60plus"),
        ("district,year,factor_60plus\n*,20x5,1.5\n", "row 2: column 'year'"),
        ("district,year,factor_60plus\n*,2035,-1\n", "row 2: column 'factor_60plus'"),
        ("district,year,factor_60plus\n*,2035,1\n*,2035,2\n", "repeated"),
    ],
)
def test_bad_tables_name_row_and_column(tmp_path, text, where):
    with pytest.raises(InputError, match=where):
        _table(tmp_path, text)


def test_shipped_example_is_labelled_an_illustration():
    t = projection.read_projection(projection.EXAMPLE)
    assert list(t["year"]) == [2035] and list(t["district"]) == ["*"]
    assert "ILLUSTRATION" in projection.EXAMPLE.read_text(encoding="utf-8")
    assert "not a projection" in (projection.EXAMPLE.parent / "SOURCE.md").read_text(
        encoding="utf-8"
    )


@pytest.mark.slow
def test_projection_raises_the_elderly_gap(tmp_path):
    before = assess.assess("demo", layers=["elderly_care"])
    after = assess.assess("demo", layers=["elderly_care"], projection=str(projection.EXAMPLE))

    def uncovered(result):
        acc = result.analyses["elderly_care"].access
        target = result.analyses["elderly_care"].layer.target_m  # 15 min at 3.6 km/h
        return float(acc.loc[acc["dist_m"] > target, "pop_60plus"].sum())

    # one factor everywhere: 1.6x the residents aged 60+ beyond the target
    assert uncovered(after) == pytest.approx(1.6 * uncovered(before), rel=1e-9)
    # gap areas keep at least that scale (small areas pass the 10-resident minimum)
    g0 = before.analyses["elderly_care"].gaps["uncovered_demand"].sum()
    g1 = after.analyses["elderly_care"].gaps["uncovered_demand"].sum()
    assert g1 >= 1.6 * g0 * (1 - 1e-9)
    s0 = before.analyses["elderly_care"].summary.set_index(["level", "group"])["pop_60plus"]
    s1 = after.analyses["elderly_care"].summary.set_index(["level", "group"])["pop_60plus"]
    pd.testing.assert_series_equal(s1, s0 * 1.6, rtol=1e-9)
    assert after.projection["year"] == 2035
    # the report's table: residents aged 60+ beyond the target per district, today and 2035
    t = after.projection["table"].set_index("district")
    np.testing.assert_allclose(
        t["uncovered_60plus_after_elderly_care"], 1.6 * t["uncovered_60plus_before_elderly_care"]
    )
    assert t["uncovered_60plus_before_elderly_care"].sum() == pytest.approx(uncovered(before))
