"""geoapp diff / report --compare: a baseline against a scenario that adds one facility."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geoapp import _atomic, assess, cli, lookback
from geoapp.catalog import get_layer
from geoapp.spec import RegionSpec

# elderly care: 15 minutes at the elderly pace (3.6 km/h), 900 m
TARGET_M = get_layer("elderly_care").target_m


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    base_dir = tmp_path_factory.mktemp("lookback")
    base = base_dir / "base"
    assess.build_report(base, "demo", layers=["elderly_care"], pdf=False)
    # one new elderly-care home on the home of an uncovered resident inside the largest gap
    gaps = gpd.read_file(base / "bundles" / "elderly_care" / "gaps.geojson")
    dem = gpd.read_file(base / "bundles" / "elderly_care" / "demand.geojson")
    gap = gaps.sort_values("rank").iloc[0].geometry
    inside = dem[dem.within(gap) & (dem["dist_m"].astype(float) > TARGET_M)]
    c = gap.centroid
    d2 = (inside.geometry.x - c.x) ** 2 + (inside.geometry.y - c.y) ** 2  # ranking only
    p = inside.geometry.iloc[int(np.argmin(d2.to_numpy()))]
    table = base_dir / "new_home.csv"
    table.write_text(
        f"name,lon,lat,amenity\nNew home,{p.x:.7f},{p.y:.7f},nursing_home\n", encoding="utf-8"
    )
    scen = base_dir / "scenario"
    assess.build_report(
        scen,
        RegionSpec(facilities=[(str(table), "elderly_care", "wgs84")]),
        layers=["elderly_care"],
        compare=base,
        pdf=False,
    )
    return base, scen, base_dir


def _new_facility_id(base, scen):
    a = gpd.read_file(base / "bundles" / "elderly_care" / "facilities.geojson")
    b = gpd.read_file(scen / "bundles" / "elderly_care" / "facilities.geojson")
    new = sorted(set(b["facility_id"]) - set(a["facility_id"]))
    assert len(new) == 1 and set(a["facility_id"]) <= set(b["facility_id"])
    return new[0]


@pytest.mark.slow
def test_diff_shows_the_new_facility_gain_and_nothing_else(pair):
    base, scen, _ = pair
    new_id = _new_facility_id(base, scen)
    diff = lookback.diff_reports(base, scen)
    d = diff.layers["elderly_care"]
    assert d.gained > 0 and d.lost == 0
    assert (d.points["change"] == "gained").all()
    assert (d.points["facility_after"] == new_id).all()
    assert (d.points["dist_after_m"] <= TARGET_M).all()
    assert (d.points["dist_before_m"] > TARGET_M).all()

    # every other demand point is exactly as before; the others only got closer to the new home
    a = gpd.read_file(base / "bundles" / "elderly_care" / "demand.geojson").set_index("demand_id")
    b = gpd.read_file(scen / "bundles" / "elderly_care" / "demand.geojson").set_index("demand_id")
    b = b.loc[a.index]
    da, db = a["dist_m"].astype(float).to_numpy(), b["dist_m"].astype(float).to_numpy()
    by_new = (b["facility_id"] == new_id).to_numpy()
    assert np.array_equal(da[~by_new], db[~by_new], equal_nan=True)  # NaN: beyond the search
    assert (db[by_new] <= da[by_new]).all()
    assert by_new.sum() >= len(d.points)

    ch = d.changes
    reg = ch[ch["level"] == "region"].iloc[0]
    assert reg["gained"] == pytest.approx(d.gained)
    assert reg["covered_after"] - reg["covered_before"] == pytest.approx(d.gained)
    touched = set(d.points["district"])
    for _, r in ch[ch["level"] == "district"].iterrows():
        if r["group"] in touched:
            assert r["change"] > 0
        else:
            assert r["change"] == 0 and r["gained"] == 0 and r["lost"] == 0


@pytest.mark.slow
def test_diff_cli_writes_changes_and_map(pair, tmp_path):
    base, scen, _ = pair
    out = tmp_path / "diff"
    assert cli.main(["diff", str(base), str(scen), "--out", str(out)]) == 0
    changes = pd.read_csv(out / "changes.csv", encoding="utf-8-sig")
    assert set(changes["level"]) == {"region", "district", "zone_type"}
    pts = gpd.read_file(out / "points_changed.geojson")
    assert len(pts) and set(pts["change"]) == {"gained"}
    assert (out / "map_elderly_care.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    meta = json.loads((out / "diff.json").read_text(encoding="utf-8"))
    assert meta["layers"]["elderly_care"]["lost"] == 0


@pytest.mark.slow
def test_report_compare_adds_before_after(pair):
    base, scen, _ = pair
    html_text = (scen / "report.html").read_text(encoding="utf-8")
    section = html_text[html_text.index('id="compare"') : html_text.index('id="projection"')]
    assert "Not requested" not in section and "data:image/png;base64," in section
    assert str(base) in section


@pytest.mark.slow
def test_diff_of_a_report_with_itself_changes_nothing(pair):
    base, _, _ = pair
    d = lookback.diff_reports(base, base).layers["elderly_care"]
    assert d.gained == 0 and d.lost == 0 and (d.changes["change"].fillna(0) == 0).all()


def test_diff_refuses_a_folder_that_is_no_bundle(tmp_path):
    assert cli.main(["diff", str(tmp_path), str(tmp_path), "--out", str(tmp_path / "o")]) == 2


# ------------------------------------------------------------------ the diff folder


def run(capsys, argv: list[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(argv)
    cap = capsys.readouterr()
    assert "Traceback" not in cap.err + cap.out
    return code, cap.out, cap.err


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def siblings(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name != folder.name)


@pytest.fixture(scope="module")
def diff_out(pair):
    base, scen, base_dir = pair
    out = base_dir / "diff"
    assert cli.main(["diff", str(base), str(scen), "--out", str(out)]) == 0
    return out


@pytest.fixture
def earlier_diff(diff_out, tmp_path):
    out = tmp_path / "diff"
    shutil.copytree(diff_out, out)
    return out


@pytest.mark.slow
def test_diff_folder_has_a_manifest_and_reruns_into_itself(pair, earlier_diff, capsys):
    base, scen, _ = pair
    doc = _atomic.read_manifest(earlier_diff)
    assert doc is not None and doc["command"] == "diff"
    assert set(doc["files"]) == {
        "changes.csv", "points_changed.geojson", "map_elderly_care.png", "diff.json",
    }  # fmt: skip
    assert _atomic.check_manifest(earlier_diff) == []
    code, _, _ = run(capsys, ["diff", str(base), str(scen), "--out", str(earlier_diff)])
    assert code == 0 and _atomic.check_manifest(earlier_diff) == []
    assert _atomic.read_manifest(earlier_diff)["run_id"] != doc["run_id"]
    assert siblings(earlier_diff) == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "err_no, text", [(errno.ENOSPC, "disk is full"), (errno.EROFS, "read-only")]
)
def test_failed_diff_rerun_keeps_the_previous_folder(
    pair, earlier_diff, capsys, monkeypatch, err_no, text
):
    base, scen, _ = pair
    before = snapshot(earlier_diff)
    real = lookback.write_geojson

    def failing(gdf, path, meta=None):  # changes.csv is written, then this fails
        real(gdf, path, meta=meta)
        raise OSError(err_no, os.strerror(err_no), str(path))

    monkeypatch.setattr(lookback, "write_geojson", failing)
    code, _, err = run(capsys, ["diff", str(base), str(scen), "--out", str(earlier_diff)])
    assert code == 2 and text in err and str(earlier_diff) in err and "unchanged" in err
    assert ".geoapp-tmp-" not in err
    assert snapshot(earlier_diff) == before
    assert siblings(earlier_diff) == []


@pytest.mark.slow
def test_interrupted_diff_rerun_keeps_the_previous_folder(pair, earlier_diff, capsys, monkeypatch):
    base, scen, _ = pair
    before = snapshot(earlier_diff)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(lookback, "write_json", interrupted)
    code, _, _ = run(capsys, ["diff", str(base), str(scen), "--out", str(earlier_diff)])
    assert code == 130
    assert snapshot(earlier_diff) == before
    assert siblings(earlier_diff) == []


@pytest.mark.slow
@pytest.mark.parametrize("where", ["new", "inside_new", "old_bundle"])
def test_diff_into_a_compared_folder_is_refused(pair, capsys, where):
    base, scen, _ = pair
    out = {
        "new": scen,
        "inside_new": scen / "bundles" / "elderly_care" / "diff",
        "old_bundle": base / "bundles" / "elderly_care",
    }[where]
    before_b, before_s = snapshot(base), snapshot(scen)
    code, _, err = run(capsys, ["diff", str(base), str(scen), "--out", str(out)])
    assert code == 2 and "compared folder" in err and "--out out/diff/" in err
    assert snapshot(base) == before_b and snapshot(scen) == before_s


@pytest.mark.slow
def test_diff_into_a_bundle_or_user_folder_is_refused(pair, capsys, tmp_path):
    base, scen, _ = pair
    bundle = tmp_path / "bundle"
    shutil.copytree(scen / "bundles" / "elderly_care", bundle)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "changes.csv").write_text("my own table", encoding="utf-8")
    for out in (bundle, mine):
        before = snapshot(out)
        code, _, err = run(capsys, ["diff", str(base), str(scen), "--out", str(out)])
        assert code == 2 and "not an earlier output of 'geoapp diff'" in err
        assert snapshot(out) == before


def test_diff_in_a_read_only_location(pair, capsys):
    target = Path("/sys/geoapp-test-out")  # root ignores permission bits; /sys refuses folders
    try:
        target.mkdir()
    except OSError:
        pass
    else:  # pragma: no cover
        target.rmdir()
        pytest.skip("/sys accepts new folders here")
    base, scen, _ = pair
    code, _, err = run(capsys, ["diff", str(base), str(scen), "--out", str(target)])
    assert code == 2 and "choose a folder you can write to (--out)" in err and str(target) in err
    assert ".geoapp-" not in err


# ------------------------------------------------------------------ what diff compares


@pytest.fixture(scope="module")
def two_regions(tmp_path_factory):
    """community_services bundles of the demo city and of pyrosm's test extract."""
    import pyrosm

    base = tmp_path_factory.mktemp("regions")
    fast = ["--layer", "community_services", "-q", "--no-map", "--no-catchments"]
    demo, other = base / "demo", base / "other"
    assert cli.main(["coverage", "--region", "demo", *fast, "--out", str(demo)]) == 0
    pbf = pyrosm.get_data("test_pbf")
    assert cli.main(["coverage", "--osm", pbf, *fast, "--out", str(other)]) == 0
    return demo, other


@pytest.mark.slow
def test_diff_of_two_regions_is_refused_on_the_terminal(two_regions, capsys, tmp_path):
    demo, other = two_regions
    out = tmp_path / "diff"
    code, _, err = run(capsys, ["diff", str(demo), str(other), "--out", str(out)])
    assert code == 2 and "cover different places" in err and "do not overlap" in err
    assert "Demo Metropolis" in err and not out.exists()


@pytest.mark.slow
def test_renamed_region_over_the_same_area_is_warned_on_the_terminal(two_regions, capsys, tmp_path):
    demo, _ = two_regions
    renamed = tmp_path / "renamed"
    shutil.copytree(demo, renamed)
    meta = json.loads((renamed / "metadata.json").read_text(encoding="utf-8"))
    meta["region"] = "Demo Metropolis, next year's extract"
    (renamed / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    code, out, _ = run(capsys, ["diff", str(demo), str(renamed), "--out", str(tmp_path / "d")])
    assert code == 0 and "The region changed" in out and "next year's extract" in out
    saved = json.loads((tmp_path / "d" / "diff.json").read_text(encoding="utf-8"))
    assert any("The region changed" in w for w in saved["warnings"])


@pytest.mark.slow
@pytest.mark.parametrize(
    "damage, text",
    [
        ({"metadata.json": b'{"layer": "communi'}, "no readable metadata.json"),
        ({"metadata.json": b"[1, 2]"}, "no readable metadata.json"),
        ({"metadata.json": b"\xff\xfe"}, "no readable metadata.json"),
        ({"demand.geojson": "truncate"}, "demand.geojson: cannot be read as GeoJSON"),
        ({"demand.geojson": b""}, "demand.geojson: cannot be read as GeoJSON"),
    ],
)
def test_damaged_bundle_is_one_clear_message(two_regions, capsys, tmp_path, damage, text):
    demo, _ = two_regions
    bad = tmp_path / "bad"
    shutil.copytree(demo, bad)
    for name, content in damage.items():
        if content == "truncate":
            data = (bad / name).read_bytes()
            content = data[: len(data) // 2]
        (bad / name).write_bytes(content)
    code, _, err = run(capsys, ["diff", str(demo), str(bad), "--out", str(tmp_path / "d")])
    assert code == 2 and text in err and str(bad) in err
    assert not (tmp_path / "d").exists()


# ------------------------------------------------------------------ the before/after map


def _gid(fig, gid: str) -> list:
    return [a for a in fig.findobj() if getattr(a, "get_gid", lambda: None)() == gid]


def _hand_diff(points: list[tuple[float, float, str, float]]) -> lookback.LayerDiff:
    """A diff worked out by hand: points (lon, lat, change, residents aged 60+)."""
    pts = gpd.GeoDataFrame(
        {"change": [c for *_, c, _ in points], "weight": [w for *_, w in points]},
        geometry=gpd.points_from_xy([p[0] for p in points], [p[1] for p in points]),
        crs="EPSG:4326",
    )
    gained = sum(w for *_, c, w in points if c == "gained")
    lost = sum(w for *_, c, w in points if c == "lost")
    changes = pd.DataFrame(columns=lookback.CHANGE_COLUMNS)
    return lookback.LayerDiff("elderly_care", 900.0, "pop_60plus", changes, pts, gained, lost)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_before_after_map_has_a_legend_a_scale_bar_and_a_north_arrow(lang):
    """Two districts 0.02° (about 1.7 km at 40°N) wide each; 3 points gained, 1 lost."""
    from shapely.geometry import box

    from geoapp import report_figures as rf

    bnd = gpd.GeoDataFrame(
        {"district": ["West", "East"]},
        geometry=[box(116.40, 39.90, 116.42, 39.92), box(116.42, 39.90, 116.44, 39.92)],
        crs="EPSG:4326",
    )
    diff = _hand_diff(
        [
            (116.405, 39.905, "gained", 100.0),
            (116.410, 39.910, "gained", 50.0),
            (116.430, 39.915, "gained", 25.0),
            (116.435, 39.905, "lost", 10.0),
        ]
    )
    fig = lookback.diff_map_figure(diff, bnd, lang=lang)
    (ax,) = fig.axes
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    if lang == "en":
        assert texts == [
            "Districts",
            "Gained coverage: 175 residents aged 60+",
            "Lost coverage: 10 residents aged 60+",
        ]
    else:
        assert texts == ["区县", "新增覆盖：60岁及以上 175 人", "失去覆盖：60岁及以上 10 人"]
    # the scale bar: its width in the map's metres is the length its label says
    (bar,) = _gid(fig, rf.SCALE_BAR)
    (label,) = _gid(fig, rf.SCALE_LABEL)
    x0, x1 = ax.get_xlim()
    # the map spans 0.04° of longitude at 39.9°N: about 3.41 km, a bar of 500 m
    assert 3300 < x1 - x0 < 4200
    assert bar.get_width() == pytest.approx(500.0)
    assert label.get_text() == ("500 m" if lang == "en" else "500 米")
    (arrow,) = _gid(fig, rf.NORTH_ARROW)
    assert arrow.get_text() == "N"
    png = lookback.diff_map_png(diff, bnd, lang=lang)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_before_after_map_without_change_says_so():
    from geoapp import report_figures as rf

    fig = lookback.diff_map_figure(_hand_diff([]), None, lang="en")
    (ax,) = fig.axes
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ["No resident gained or lost coverage"]
    assert _gid(fig, rf.SCALE_BAR) and _gid(fig, rf.NORTH_ARROW)
