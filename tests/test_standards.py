"""Standards profiles (geoapp.standards) and the compliance table (geoapp.compliance)."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geoapp import catalog, compliance, standards
from geoapp.errors import StandardFileError

PROFILE = """
id = "tiny"
version = "1"
title = { en = "Tiny", zh = "小" }
[[sources]]
id = "s"
title = "A source"
verified = "text"
[[rules]]
id = "care_share"
layer = "elderly_care"
indicator = "share_within_reach"
reach_m = 1000
threshold = 0.85
source = "s"
clause = "1.1"
verified = "text"
[rules.zones.rural]
reach_m = 2000
threshold = 0.5
source = "s"
clause = "1.2 rural"
verified = "unverified"
[[rules]]
id = "care_beds"
layer = "elderly_care"
indicator = "beds_per_1000_60plus"
threshold = 40
source = "s"
clause = "2.1"
"""


@pytest.fixture()
def tiny_profile(tmp_path):
    p = tmp_path / "tiny.toml"
    p.write_text(PROFILE, encoding="utf-8")
    return standards.load_profile(p)


def test_shipped_profiles_load_and_cite_every_rule():
    ids = standards.shipped_profiles()
    assert {"cn-gb50180-2018", "cn-shanghai-2024"} <= set(ids)
    for pid in ids:
        prof = standards.load_profile(pid)
        assert prof.rules
        for rule in prof.rules:
            assert rule.source and rule.clause
            assert rule.verified in standards.VERIFIED
            for t in rule.zones.values():
                assert t.source and t.clause and t.verified in standards.VERIFIED


def test_shipped_national_profile_values():
    prof = standards.load_profile("cn-gb50180-2018")
    circles = {c["id"]: c for c in prof.life_circles}
    assert circles["15min"]["reach_m"] == [800, 1000]
    assert circles["10min"]["reach_m"] == [500, 500]
    assert circles["5min"]["reach_m"] == [300, 300]
    assert "block" in circles
    beds = next(r for r in prof.rules if r.indicator == "beds_per_1000_60plus")
    assert beds.threshold == 40
    share = next(r for r in prof.rules if r.id == "elderly_care_15min_share")
    assert share.threshold == 0.85 and "Shanghai" in share.clause  # cited to Shanghai, not national
    assert share.for_zone("rural").reach_m == 2000
    assert share.for_zone("core").reach_m == 1000  # no override: the default
    sh = standards.load_profile("cn-shanghai-2024")
    r = sh.rules_for("community_services")[0]
    assert [r.for_zone(z).reach_m for z in ("core", "new_town", "rural")] == [1000, 1500, 5000]


def test_layer_catalog_names_a_profile():
    layers = catalog.load_catalog()
    assert layers["elderly_care"].standard_profile == "cn-gb50180-2018"
    assert standards.profile_for_layers(layers.values()).id == "cn-gb50180-2018"


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (("threshold = 0.85", "threshold = 85"), "rules[0].threshold"),
        (('indicator = "share_within_reach"', 'indicator = "speed"'), "rules[0].indicator"),
        (("[rules.zones.rural]", "[rules.zones.suburb]"), "rules[0].zones.suburb"),
        (('verified = "unverified"', 'verified = "maybe"'), "rules[0].zones.rural.verified"),
        (('clause = "2.1"', 'klause = "2.1"'), "rules[1].klause"),
    ],
)
def test_bad_profile_names_file_and_key(tmp_path, edit, key):
    p = tmp_path / "bad.toml"
    p.write_text(PROFILE.replace(*edit), encoding="utf-8")
    with pytest.raises(StandardFileError) as exc:
        standards.load_profile(p)
    assert str(p) in str(exc.value) and f"'{key}'" in str(exc.value)


def test_unknown_profile_lists_shipped(tmp_path):
    with pytest.raises(StandardFileError, match="cn-gb50180-2018"):
        standards.load_profile(tmp_path / "missing.toml")


# ---- the compliance table on a hand-computed fixture ---------------------------------
#
# METRE_CARE: elderly care written in metres (300 / 500 / 1,000 m), so the profile's
# metre reaches are the verdict's, zone by zone; the shipped layer is written in minutes
# and is judged at 15 min x 3.6 km/h = 900 m everywhere (test_minute_based_layer_...).
#
# District A (core, x 0..1) and B (rural, x 1..2); district C (new_town, x 2..3) has
# residents but the whole region's zone types are A core, B rural, C new_town.
# elderly demand (pop_60plus) and distance:
#   A: 60 at 500 m, 30 at 900 m, 10 at 1500 m   -> within 1000 m: 90/100 = 0.90 >= 0.85 met
#   B: 20 at 1500 m, 20 at 2500 m               -> rural reach 2000 m: 20/40 = 0.50 >= 0.5 met
#      (at the default 1000 m it would be 0 and not met: the zone threshold matters)
#   C: 0 residents aged 60+                      -> no_data
# region: A 90 within 1000 + B 20 within 2000 = 110 / 140 = 0.7857 < 0.85 not met
# beds: facility in A 4 beds, facility in B unknown capacity.
#   A: 4 / 100 * 1000 = 40 >= 40 met; B: no capacity known -> no_data; C: no 60+ -> no_data
#   region: 4 / 140 * 1000 = 28.57, one facility unknown -> lower bound below 40 -> no_data


def _fixture():
    bnd = gpd.GeoDataFrame(
        {"district": ["A", "B", "C"], "zone_type": ["core", "rural", "new_town"]},
        geometry=[box(0, 0, 0.01, 0.01), box(0.01, 0, 0.02, 0.01), box(0.02, 0, 0.03, 0.01)],
        crs="EPSG:4326",
    )
    rows = [
        ("A", "core", 60, 500), ("A", "core", 30, 900), ("A", "core", 10, 1500),
        ("B", "rural", 20, 1500), ("B", "rural", 20, 2500), ("C", "new_town", 0, 100),
    ]  # fmt: skip
    acc = gpd.GeoDataFrame(
        {
            "district": [r[0] for r in rows],
            "zone_type": [r[1] for r in rows],
            "pop_60plus": [float(r[2]) for r in rows],
            "pop": [float(r[2]) * 5 + 10 for r in rows],
            "dist_m": [float(r[3]) for r in rows],
        },
        geometry=[Point(0.005, 0.005)] * 3 + [Point(0.015, 0.005)] * 2 + [Point(0.025, 0.005)],
        crs="EPSG:4326",
    )
    fac = gpd.GeoDataFrame(
        {"facility_id": ["f1", "f2"], "capacity": [4.0, np.nan]},
        geometry=[Point(0.004, 0.004), Point(0.016, 0.006)],
        crs="EPSG:4326",
    )
    return bnd, acc, fac


def _metre_care() -> catalog.Layer:
    import dataclasses

    care = catalog.load_catalog()["elderly_care"]
    return dataclasses.replace(
        care, minutes=(), target_min=None, radii_m=(300.0, 500.0, 1000.0), target_m=1000.0
    )


def _table(profile, fac=None, limit=3000.0, layer=None):
    bnd, acc, f = _fixture()
    layers = {"elderly_care": layer if layer is not None else _metre_care()}
    return compliance.compliance_table(
        {"elderly_care": acc},
        {"elderly_care": f if fac is None else fac},
        layers,
        profile,
        boundaries=bnd,
        search_limit_m={"elderly_care": limit},
        region_name="Tiny",
    )


def _get(t, rule, level, group):
    row = t[(t["rule"] == rule) & (t["level"] == level) & (t["group"] == group)]
    assert len(row) == 1, (rule, level, group)
    return row.iloc[0]


def test_compliance_hand_computed(tiny_profile):
    t = _table(tiny_profile)
    assert list(t.columns) == compliance.COLUMNS
    a = _get(t, "care_share", "district", "A")
    assert a["value"] == pytest.approx(0.90) and a["status"] == "met" and a["reach_m"] == 1000
    assert a["threshold"] == 0.85 and a["clause"] == "1.1"
    b = _get(t, "care_share", "district", "B")  # rural: its own reach and threshold
    assert b["value"] == pytest.approx(0.50) and b["status"] == "met"
    assert b["reach_m"] == 2000 and b["threshold"] == 0.5 and b["verified"] == "unverified"
    c = _get(t, "care_share", "district", "C")
    assert c["status"] == "no_data" and math.isnan(c["value"]) and c["residents"] == 0
    reg = _get(t, "care_share", "region", "Tiny")
    assert reg["value"] == pytest.approx(110 / 140) and reg["status"] == "not_met"
    assert math.isnan(reg["reach_m"])  # residents at two reaches
    z = _get(t, "care_share", "zone_type", "rural")
    assert z["value"] == pytest.approx(0.5) and z["status"] == "met"

    ba = _get(t, "care_beds", "district", "A")
    assert ba["value"] == pytest.approx(40.0) and ba["status"] == "met" and ba["capacity"] == 4
    bb = _get(t, "care_beds", "district", "B")
    assert bb["status"] == "no_data" and "capacity" in bb["status_reason"]
    br = _get(t, "care_beds", "region", "Tiny")
    assert br["value"] == pytest.approx(4 / 140 * 1000) and br["lower_bound"]
    assert br["status"] == "no_data"  # a lower bound below the threshold cannot say "not met"
    # every row says why (issue 24: a status and its reason, derived once)
    assert (t["status_reason"] != "").all()
    assert a["status_reason"] == "90.0% within 1,000 m meets the target 85%"
    assert math.isnan(c["value"]) and math.isnan(_get(t, "care_beds", "district", "C")["value"])


def test_minute_based_layer_is_judged_at_its_own_reach_in_every_zone(tiny_profile):
    """15 min x 3.6 km/h = 900 m everywhere; the standard's metres are a reference only.

    A: 60 + 30 within 900 m of 100 -> 0.90 met; B (rural): nobody within 900 m -> 0.0
    < 0.5 not met (the profile's 2,000 m stays in standard_reach_m); region 90 / 140.
    """
    layer = catalog.load_catalog()["elderly_care"].at_speed(3.6)
    t = _table(tiny_profile, layer=layer)
    share = t[t["rule"] == "care_share"]
    assert (share["reach_m"] == 900.0).all()  # one reach, no "–" for any group
    a = _get(t, "care_share", "district", "A")
    assert a["value"] == pytest.approx(0.90) and a["status"] == "met"
    assert a["standard_reach_m"] == 1000
    b = _get(t, "care_share", "district", "B")
    assert b["value"] == 0.0 and b["status"] == "not_met" and b["threshold"] == 0.5
    assert b["standard_reach_m"] == 2000  # the reference column, never a second verdict
    reg = _get(t, "care_share", "region", "Tiny")
    assert reg["value"] == pytest.approx(90 / 140) and reg["status"] == "not_met"
    # the same share as the layer's own summary at its 15-minute reach
    bnd, acc, fac = _fixture()
    from geoapp import coverage

    s = coverage.coverage_summary(acc, layer, boundaries=bnd, facilities=fac)
    d = s[s["level"] == "district"].set_index("group")
    assert d.loc["A", "share_pop_60plus_15min"] == pytest.approx(a["value"])
    assert d.loc["B", "share_pop_60plus_15min"] == pytest.approx(b["value"])
    # a faster walker reaches farther: the judged reach follows the speed
    fast = _table(tiny_profile, layer=layer.at_speed(4.5))
    fast_reach = fast.loc[fast["rule"] == "care_share", "reach_m"].tolist()
    assert fast_reach == pytest.approx([1125.0] * len(fast_reach))


def test_profile_reach_rule():
    prof = standards.load_profile("cn-gb50180-2018")
    rule = next(r for r in prof.rules if r.id == "elderly_care_15min_share")
    care = catalog.load_catalog()["elderly_care"]
    r = prof.reach(rule, care.at_speed(3.6), "rural")
    assert (r.judged_m, r.standard_m, r.minutes, r.basis) == (900.0, 2000.0, 15.0, "minutes")
    assert prof.reach(rule, care.at_speed(3.6), None).standard_m == 1000.0
    assert prof.reach(rule, _metre_care(), "rural").judged_m == 2000.0  # metres: per zone
    beds = next(r for r in prof.rules if r.indicator == "beds_per_1000_60plus")
    assert math.isnan(prof.reach(beds, care, None).judged_m)


def test_compliance_beds_not_met_when_all_known(tiny_profile):
    _, _, fac = _fixture()
    t = _table(tiny_profile, fac=fac.assign(capacity=[4.0, 0.0]))
    assert _get(t, "care_beds", "region", "Tiny")["status"] == "not_met"
    assert _get(t, "care_beds", "district", "B")["status"] == "not_met"


def test_compliance_no_facility_in_data_is_no_data(tiny_profile):
    _, _, fac = _fixture()
    t = _table(tiny_profile, fac=fac.iloc[0:0])
    assert (t["status"] == "no_data").all()


def test_compliance_reach_beyond_search_is_lower_bound(tiny_profile):
    t = _table(tiny_profile, limit=1800.0)  # rural reach 2000 m > 1800 m searched
    b = _get(t, "care_share", "district", "B")
    assert b["lower_bound"] and b["status"] == "met"  # 0.5 already meets 0.5
    a = _get(t, "care_share", "district", "A")
    assert not a["lower_bound"]


def test_compliance_does_not_change_inputs(tiny_profile):
    bnd, acc, fac = _fixture()
    before = (acc.copy(), fac.copy())
    compliance.compliance_table(
        {"elderly_care": acc}, {"elderly_care": fac}, catalog.load_catalog(), tiny_profile,
        boundaries=bnd,
    )  # fmt: skip
    pd.testing.assert_frame_equal(acc, before[0])
    pd.testing.assert_frame_equal(fac, before[1])


def test_report_html_escapes_every_data_string(tiny_profile):
    """District names, warnings and reasons are data: they reach the page escaped."""
    from types import SimpleNamespace

    from geoapp import gaps
    from geoapp import reporting as report

    evil = '<img src=x onerror="alert(1)">'
    bnd, acc, fac = _fixture()
    bnd = bnd.assign(district=[evil, "B", "C"])
    acc = acc.assign(district=acc["district"].replace({"A": evil}))
    layer = catalog.load_catalog()["elderly_care"]
    t = compliance.compliance_table(
        {"elderly_care": acc}, {"elderly_care": fac}, {"elderly_care": layer}, tiny_profile,
        boundaries=bnd, region_name=f"Region {evil}",
    )  # fmt: skip
    summary = pd.DataFrame(
        {
            "level": ["region", "district", "district"],
            "group": ["r", evil, "B"],
            "status": ["ok", "ok", "ok"],
            "n_facilities": [2, 1, 1],
            "pop": [1.0, 1.0, 1.0],
            "pop_60plus": [140.0, 100.0, 40.0],
            **{f"share_pop_60plus_{r}": [0.5, 0.6, 0.2] for r in (300, 500, 1000)},
        }
    )
    g = gaps.empty_gaps()
    analysis = SimpleNamespace(
        layer=layer, summary=summary, gaps=g, facilities=fac, access=acc, status="ok",
        warnings=(evil,), meta={"assumptions": [evil], "population_profile": {"name": evil}},
    )  # fmt: skip
    zones = pd.DataFrame(
        {"layer": ["elderly_care"], "zone_type": ["core"], "share_demand_1000": [0.5],
         "status": ["ok"], "layer_label": [evil], "layer_label_zh": [evil]}
    )  # fmt: skip
    data = report.ReportData(
        region_name=f"Region {evil}", source=evil, synthetic=False, boundaries=bnd,
        region_meta={"attribution": evil}, analyses={"elderly_care": analysis}, zones=zones,
        compliance=t, profile=tiny_profile,
        inputs=[{"role": evil, "path": evil, "sha256": "0" * 64, "bytes": 1}],
        params={"out": evil}, command=f"geoapp report --out '{evil}'", versions={"x": evil},
        created="now", warnings=(evil,),
    )  # fmt: skip
    for lang in ("en", "zh"):
        page = report.render_html(data, lang)
        assert "<img src=x" not in page and 'onerror="alert' not in page
        assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
