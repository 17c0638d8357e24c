"""One number everywhere (issue 24): every output of one run says the same figure.

* The demo's bundle set (``geoapp coverage``, ``geoapp compare`` and ``geoapp report
  --no-pdf``): ``summary.csv``, ``zones.csv``, ``compliance.csv``, ``report.json`` and
  ``report.html`` agree on every share, count, area and status at one reach per layer
  (elderly care: 15 minutes at 3.6 km/h = 900 m, in every zone type).
* Density zoning (``--zones density``), on the demo and on a small extract built here:
  the zone-type rows carry the facilities and the land, and every grouping adds up to
  the region.
* A layer with no facility in the data (the same extract without its care homes) is
  ``no_data`` everywhere with empty shares, and the CLI, the report and the analyst
  scripts say "no data", never 0%.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from osm_extract_builder import write_extract

from geoapp import cli
from geoapp import reporting as report

pytestmark = pytest.mark.slow

ANALYSES = Path(__file__).resolve().parents[1] / "analyses"
LAYERS = ("elderly_care", "community_services")
SHARE_TOL = 6e-5  # summary.csv and zones.csv carry shares to 4 decimals
SUMMED = ("n_facilities", "pop", "pop_60plus", "area_km2", "settled_km2")


def _cli(*args: str) -> str:
    """Run ``geoapp`` in-process and return what it printed (exit code 0 checked)."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):  # the rich console writes to sys.stdout of the moment
        code = cli.main([*args, "-q"])
    assert code == 0, buf.getvalue()
    return buf.getvalue()


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", keep_default_na=True)


# --------------------------------------------------------------------------- a small town


X0, Y0 = 24.90, 60.20
DX, DY = 0.0018, 0.0009  # about 100 m east-west and north-south


def _town(nodes: dict, ways: list, x0: float, n: int, first: int, levels: int):
    """A grid town of n x n street nodes with an apartment block in every block."""

    def nid(i: int, j: int) -> int:
        return first + i * n + j

    for i in range(n):
        for j in range(n):
            nodes[nid(i, j)] = (x0 + i * DX, Y0 + j * DY)
    wid = first
    for j in range(n):
        ways.append((wid, [nid(i, j) for i in range(n)], {"highway": "residential"}))
        wid += 1
    for i in range(n):
        ways.append((wid, [nid(i, j) for j in range(n)], {"highway": "residential"}))
        wid += 1
    k = first + 5000
    for i in range(n - 1):
        for j in range(n - 1):
            x, y = x0 + (i + 0.3) * DX, Y0 + (j + 0.3) * DY
            ring = []
            for dx, dy in ((0, 0), (0.4, 0), (0.4, 0.4), (0, 0.4)):
                nodes[k] = (x + dx * DX, y + dy * DY)
                ring.append(k)
                k += 1
            tags = {"building": "apartments", "building:levels": str(levels)}
            ways.append((wid, [*ring, ring[0]], tags))
            wid += 1
    return nid


def _extract(path: Path, *, care_homes: bool) -> Path:
    """Two towns 5 km apart and three farm houses up a lane, with their services.

    Under ``--zones density`` (1 km cells, Degree of Urbanisation): town A (10 x 10
    streets, about 19,000 residents) is the core, town B (8 x 8, about 9,800) a new
    town, the houses rural. Community services: a clinic and a pharmacy in A, a clinic
    in B, a village hall by the houses; elderly care: a care home in A and one in B
    (none when ``care_homes`` is False: the layer has no facility in the data).
    """
    nodes: dict = {}
    ways: list = []
    a = _town(nodes, ways, X0, 10, 1, 6)
    b = _town(nodes, ways, X0 + 50 * DX, 8, 20_000, 5)
    nodes[40_010] = (X0 + 20 * DX, Y0)
    nodes[40_011] = (X0 + 35 * DX, Y0)
    ways.append((30_000, [a(9, 0), 40_010, 40_011, b(0, 0)], {"highway": "tertiary"}))
    lane = [a(0, 9)]
    for q in range(6):
        nodes[41_000 + q] = (X0, Y0 + (9 + 5 * (q + 1)) * DY)
        lane.append(41_000 + q)
    ways.append((30_001, lane, {"highway": "unclassified"}))
    k, wid = 42_000, 30_100
    for q in (2, 4, 5):
        x, y = X0 + 0.2 * DX, Y0 + (9 + 5 * (q + 1)) * DY
        ring = []
        for dx, dy in ((0, 0), (0.12, 0), (0.12, 0.2), (0, 0.2)):
            nodes[k] = (x + dx * DX, y + dy * DY)
            ring.append(k)
            k += 1
        ways.append((wid, [*ring, ring[0]], {"building": "house"}))
        wid += 1
    nodes[90_001] = (X0 + 3.5 * DX, Y0 + 3.5 * DY, {"amenity": "clinic", "name": "A clinic"})
    nodes[90_002] = (X0 + 1.5 * DX, Y0 + 5.5 * DY, {"amenity": "pharmacy", "name": "A"})
    nodes[90_003] = (X0 + 50.5 * DX, Y0 + 1.5 * DY, {"amenity": "clinic", "name": "B clinic"})
    nodes[90_004] = (X0 + 0.3 * DX, Y0 + 34 * DY, {"amenity": "community_centre"})
    if care_homes:
        nodes[90_011] = (X0 + 4.5 * DX, Y0 + 2.5 * DY, {"amenity": "nursing_home"})
        nodes[90_012] = (X0 + 51.5 * DX, Y0 + 2.5 * DY, {"amenity": "nursing_home"})
    return write_extract(path, nodes, ways)


# --------------------------------------------------------------------------- checks


def _sums_to_region(s: pd.DataFrame, where: str) -> None:
    """Every grouping of a summary adds up to its region row (facilities, land, people)."""
    region = s[s["level"] == "region"].iloc[0]
    for level in ("district", "zone_type", "settlement"):
        part = s[s["level"] == level]
        if not len(part):
            continue
        for col in SUMMED:
            # summary.csv rounds each row (counts to integers, km² to 3 decimals)
            tol = 0.002 * len(part) if col.endswith("km2") else 0.5 * len(part)
            assert abs(part[col].sum() - region[col]) <= tol, (where, level, col)


def _target_col(meta: dict) -> tuple[str, float]:
    """summary.csv's share column at the layer's target and the target in metres."""
    dcol = "pop_60plus" if meta["layer"] == "elderly_care" else "pop"
    label = next(lab for lab, m in meta["reach_m"].items() if abs(m - meta["target_m"]) < 1e-6)
    return f"share_{dcol}_{label}", float(meta["target_m"])


def _cells(html_text: str, row_attr: str) -> list[tuple[dict, list[tuple[str | None, str]]]]:
    """Rows carrying ``row_attr``: (row attrs, [(data-v, text) of each cell])."""

    class P(HTMLParser):
        def __init__(self):
            super().__init__()
            self.rows: list = []
            self.cur = None
            self.cell = None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "tr" and row_attr in a:
                self.cur = (a, [])
                self.rows.append(self.cur)
            elif tag == "td" and self.cur is not None:
                self.cell = [a.get("data-v"), ""]
                self.cur[1].append(self.cell)

        def handle_data(self, data):
            if self.cell is not None:
                self.cell[1] += data

        def handle_endtag(self, tag):
            if tag == "td":
                self.cell = None
            if tag == "tr":
                self.cur = None

    p = P()
    p.feed(html_text)
    return [(a, [tuple(c) for c in cells]) for a, cells in p.rows]


# --------------------------------------------------------------------------- the demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    base = tmp_path_factory.mktemp("one_number")
    printed = _cli("coverage", "--region", "demo", "--layer", "elderly_care", "--out",
                   str(base / "coverage"))  # fmt: skip
    _cli("compare", "--region", "demo", "--out", str(base / "compare"))
    _cli("report", "--region", "demo", "--lang", "en", "--no-pdf", "--out", str(base / "report"))
    return base, printed


def test_the_demo_outputs_agree_on_every_figure_at_one_reach(demo):
    base, _ = demo
    rep = base / "report"
    comp = _csv(rep / "compliance.csv")
    zones_cmp = _csv(base / "compare" / "zones.csv")
    record = json.loads((rep / "report.json").read_text(encoding="utf-8"))
    assert set(record["bundles"]) == set(LAYERS)
    html_text = (rep / "report.html").read_text(encoding="utf-8")

    # the coverage command's bundle is the report's bundle of the same layer
    own = _csv(base / "coverage" / "summary.csv")
    pd.testing.assert_frame_equal(own, _csv(rep / "bundles" / "elderly_care" / "summary.csv"))
    # the compare command's zones.csv is the report's, layer by layer
    for lid in LAYERS:
        z = _csv(rep / "bundles" / lid / "zones.csv")
        mine = zones_cmp[zones_cmp["layer"] == lid].reset_index(drop=True)
        pd.testing.assert_frame_equal(  # the other layers' radius columns are empty here
            mine.dropna(axis=1, how="all"), z.dropna(axis=1, how="all"), check_dtype=False
        )

    for lid in LAYERS:
        folder = rep / "bundles" / lid
        meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
        s = _csv(folder / "summary.csv")
        share_col, target = _target_col(meta)
        dcol = "pop_60plus" if lid == "elderly_care" else "pop"
        _sums_to_region(s, lid)

        # compliance.csv's share rule: one reach (the layer's 15 minutes) in every row,
        # the rural rows included; the standard's metres only as a reference column
        rule = comp[(comp["layer"] == lid) & (comp["indicator"] == "share_within_reach")]
        assert len(rule) == len(s[s["level"].isin(["region", "district", "zone_type"])])
        assert rule["reach_m"].to_numpy() == pytest.approx(np.full(len(rule), target))
        assert rule["standard_reach_m"].notna().all()
        key = s.set_index(["level", "group"])
        for _, r in rule.iterrows():
            group = r["group"]  # the region row carries the region's name in both tables
            row = key.loc[(r["level"], group)]
            assert r["status"] == row["status"], (lid, group)
            assert r["residents"] == pytest.approx(row[dcol], abs=0.5)
            assert r["n_facilities"] == row["n_facilities"], (lid, group)
            if r["status"] == "no_data":
                assert np.isnan(r["value"]) and np.isnan(row[share_col])
            else:
                assert r["value"] == pytest.approx(row[share_col], abs=SHARE_TOL), (lid, group)
        # compliance's districts and zone types add up to its region row
        region = rule[rule["level"] == "region"].iloc[0]
        for level in ("district", "zone_type"):
            part = rule[rule["level"] == level]
            assert part["residents"].sum() == pytest.approx(region["residents"])
            assert part["n_facilities"].sum() == region["n_facilities"]

        # zones.csv's zone-type rows are summary.csv's zone-type rows
        z = _csv(folder / "zones.csv")
        for grouping in ("zone_type", "settlement"):
            zz = z[z["grouping"] == grouping].set_index(grouping)
            ss = s[s["level"] == grouping].set_index("group")
            assert set(zz.index) == set(ss.index), (lid, grouping)
            for g, zr in zz.iterrows():
                sr = ss.loc[g]
                assert (zr["pop"], zr["pop_60plus"]) == (sr["pop"], sr["pop_60plus"])
                assert zr["facilities"] == sr["n_facilities"], (lid, grouping, g)
                assert zr["area_km2"] == pytest.approx(sr["area_km2"], abs=1e-3)
                assert zr["status"] == sr["status"], (lid, grouping, g)
                assert zr["target_radius_m"] == pytest.approx(target)
                if zr["status"] == "no_data":
                    assert np.isnan(zr["share_at_target"]) and np.isnan(sr[share_col])
                else:
                    assert zr["share_at_target"] == pytest.approx(sr[share_col], abs=SHARE_TOL)

        # no gap is drawn where the status is no_data
        gaps = pd.DataFrame(json.loads((folder / "gaps.geojson").read_text("utf-8"))["features"])
        if len(gaps):
            districts = {f["district"] for f in gaps["properties"]}
            status = s[s["level"] == "district"].set_index("group")["status"]
            assert not any(status.get(d) == "no_data" for d in districts)

        # report §5, the league table: the shares and statuses of summary.csv
        league = [r for r in _cells(html_text, "data-district") if r[0]["data-layer"] == lid]
        dist = s[s["level"] == "district"].set_index("group")
        assert len(league) == len(dist)
        for attrs, cells in league:
            row = dist.loc[attrs["data-district"]]
            assert cells[-1][1] == report.T["en"][row["status"]]
            share_cell = cells[3 + list(meta["reach_m"]).index(share_col.rsplit("_", 1)[1])]
            if row["status"] == "no_data":
                assert share_cell[1] == "no data"
            else:
                assert float(share_cell[0]) == pytest.approx(row[share_col])
                assert share_cell[1] == report.fmt_pct(row[share_col])

    # report §4, the compliance tables: compliance.csv's reach, value and status
    html_rows = _cells(html_text, "data-rule")
    assert len(html_rows) == len(comp)
    ckey = comp.set_index(["rule", "level", "group"])
    for attrs, cells in html_rows:
        row = ckey.loc[(attrs["data-rule"], attrs["data-level"], attrs["data-group"])]
        reach, value, status = cells[3], cells[5], cells[7]
        if row["indicator"] == "share_within_reach":
            assert float(reach[0]) == pytest.approx(row["reach_m"])
        got = float(value[0]) if value[0] not in (None, "nan") else np.nan
        assert got == pytest.approx(row["value"], nan_ok=True)
        assert status[0] == row["status"]
    # the demo's elderly care: the figure the app, the charts and the CLI show
    care = comp[(comp["rule"] == "elderly_care_15min_share") & (comp["level"] == "region")]
    assert care["reach_m"].item() == 900.0 and care["standard_reach_m"].item() == 1000.0
    assert "Reach judged (m)" in html_text and "Standard&#x27;s figure (m, reference)" in html_text


def test_the_cli_table_shows_the_summary_status(demo):
    base, printed = demo
    s = _csv(base / "coverage" / "summary.csv")
    assert "status (85% within 900 m)" in printed
    region = s[s["level"] == "region"].iloc[0]
    line = next(ln for ln in printed.splitlines() if "│ region " in ln)
    assert f"{region['share_pop_60plus_15min']:.0%}" in line and region["status"] in line


def test_density_zones_of_the_demo_carry_their_facilities_and_land(tmp_path):
    _cli("coverage", "--region", "demo", "--layer", "elderly_care", "--zones", "density",
         "--out", str(tmp_path / "cov"))  # fmt: skip
    _cli("compare", "--region", "demo", "--layer", "elderly_care", "--zones", "density",
         "--out", str(tmp_path / "cmp"))  # fmt: skip
    s = _csv(tmp_path / "cov" / "summary.csv")
    _sums_to_region(s, "demo density")
    zones = s[s["level"] == "zone_type"].set_index("group")
    assert (zones["n_facilities"] > 0).all() and (zones["area_km2"] > 0).all()
    assert "unknown" not in zones.index
    z = _csv(tmp_path / "cmp" / "zones.csv")
    z = z[z["grouping"] == "zone_type"].set_index("zone_type")
    assert z["facilities"].to_dict() == zones["n_facilities"].to_dict()
    assert (z["facilities_per_10k"] > 0).all()
    assert z["area_km2"].sum() == pytest.approx(s[s["level"] == "region"]["area_km2"].item(), 1e-4)


# --------------------------------------------------------------------------- a small extract


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    base = tmp_path_factory.mktemp("town")
    return _extract(base / "town.osm.pbf", care_homes=True), _extract(
        base / "nocare.osm.pbf", care_homes=False
    )


def test_density_zone_rows_of_an_extract_count_everything(town, tmp_path):
    """Hand count: community services A 2 (core), B 1 (new town), the hall 1 (rural);
    care homes A 1, B 1. Without boundaries the extract is one district, zone unknown:
    the land not settled counts as rural, never as a 0-resident 'unknown' row."""
    extract, _ = town
    _cli("compare", "--osm", str(extract), "--zones", "density", "--out", str(tmp_path / "z"))
    z = _csv(tmp_path / "z" / "zones.csv")
    zt = z[z["grouping"] == "zone_type"]
    facilities = {
        lid: zt[zt["layer"] == lid].set_index("zone_type")["facilities"].to_dict() for lid in LAYERS
    }
    assert facilities == {
        "elderly_care": {"core": 1, "new_town": 1, "rural": 0},
        "community_services": {"core": 2, "new_town": 1, "rural": 1},
    }
    for lid in LAYERS:
        _cli("coverage", "--osm", str(extract), "--zones", "density", "--layer", lid,
             "--out", str(tmp_path / lid))  # fmt: skip
        s = _csv(tmp_path / lid / "summary.csv")
        _sums_to_region(s, lid)
        rows = s[s["level"] == "zone_type"].set_index("group")
        assert set(rows.index) == {"core", "new_town", "rural"}
        assert rows["n_facilities"].to_dict() == facilities[lid]
        # the towns' land is their settled area, the rest of the extract is rural
        assert rows.loc["core", "area_km2"] == pytest.approx(rows.loc["core", "settled_km2"])
        assert rows.loc["rural", "area_km2"] > 10 * rows.loc["rural", "settled_km2"]
        mine = zt[zt["layer"] == lid].set_index("zone_type")
        assert mine["area_km2"].to_dict() == pytest.approx(rows["area_km2"].to_dict(), abs=1e-3)
        assert mine["pop"].to_dict() == rows["pop"].to_dict()
        assert mine["status"].to_dict() == rows["status"].to_dict()


def _script(name: str, *args: str) -> str:
    spec = importlib.util.spec_from_file_location(f"one_{name}", ANALYSES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert module.main(list(args)) == 0
    return buf.getvalue()


def test_a_layer_without_facilities_is_no_data_everywhere(town, tmp_path):
    _, extract = town
    printed = _cli("coverage", "--osm", str(extract), "--layer", "elderly_care", "--out",
                   str(tmp_path / "cov"))  # fmt: skip
    _cli("report", "--osm", str(extract), "--zones", "density", "--lang", "en", "--no-pdf",
         "--out", str(tmp_path / "rep"))  # fmt: skip
    for summary in (tmp_path / "cov" / "summary.csv",
                    tmp_path / "rep" / "bundles" / "elderly_care" / "summary.csv"):  # fmt: skip
        s = _csv(summary)
        assert (s["status"] == "no_data").all()
        assert s.filter(like="share_").isna().all().all()  # empty, never 0.0
        assert s["pop_60plus"].iloc[0] > 0  # the residents are there: only the data is not
    z = _csv(tmp_path / "rep" / "bundles" / "elderly_care" / "zones.csv")
    assert (z["status"] == "no_data").all()
    assert z.filter(like="share_").isna().all().all()
    comp = _csv(tmp_path / "rep" / "compliance.csv")
    care = comp[comp["layer"] == "elderly_care"]
    assert (care["status"] == "no_data").all() and care["value"].isna().all()
    # the community services of the same run are judged as usual
    assert set(comp.loc[comp["layer"] == "community_services", "status"]) <= {"met", "not_met"}

    # on screen: the CLI table, the report's league and compliance tables say "no data"
    table = [ln for ln in printed.splitlines() if ln.startswith("│")]
    assert table and all("no data" in ln and "%" not in ln for ln in table)
    html_text = (tmp_path / "rep" / "report.html").read_text(encoding="utf-8")
    league = [r for r in _cells(html_text, "data-district") if r[0]["data-layer"] == "elderly_care"]
    assert league
    for _, cells in league:
        assert [c[1] for c in cells[3:6]] == ["no data"] * 3 and "%" not in "".join(
            c[1] for c in cells
        )
    rows = [r for r in _cells(html_text, "data-rule") if r[0]["data-rule"].startswith("elderly")]
    shares = [c for a, c in rows if a["data-rule"] == "elderly_care_15min_share"]
    assert shares and all(c[5][1] == "no data" for c in shares)

    # the analyst scripts say "no data", never "0 residents aged 60+ beyond 900 m"
    text = _script("elderly_care_gaps", "--osm", str(extract), "--out", str(tmp_path / "gaps"))
    assert "no data" in text.lower() and "beyond 900 m" not in text
    assert not re.search(r"\b0%", text) and "status no_data" in text
    text = _script("life_circle_coverage", "--osm", str(extract), "--layer", "elderly_care",
                   "--out", str(tmp_path / "lcc"))  # fmt: skip
    care_lines = [ln for ln in text.splitlines() if "min (" in ln]
    assert care_lines and all("no data" in ln and "%" not in ln for ln in care_lines)
