"""geoapp verify: passes on an untouched report, fails when an input, an indicator or any file
of the folder (report.html, report.pdf, a bundle's GeoJSON) changes; refuses a damaged
report.json, a bundle path leaving the folder and an unusable --rtol (exit 2, no traceback).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from geoapp import assess, catalog, cli, reporting, verify
from geoapp.spec import RegionSpec


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("verify")
    layer_file = base / "elderly_care.toml"  # an input file of the run, outside the package
    shutil.copy(catalog.load_catalog()["elderly_care"].source_file, layer_file)
    out = base / "report"
    assess.build_report(
        out, RegionSpec(layer_files=[str(layer_file)]), layers=["elderly_care"], pdf=True
    )
    return out, layer_file


@pytest.fixture
def copy(built, tmp_path):
    """A copy of the report folder, to edit, beside it (inputs are recorded relative to it)."""
    out = built[0].parent / f"copy-{tmp_path.name}"
    shutil.copytree(built[0], out)
    yield out
    shutil.rmtree(out, ignore_errors=True)


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


@pytest.mark.slow
def test_untouched_report_verifies(built):
    out, _ = built
    before = snapshot(out)
    assert cli.main(["verify", str(out), "-q"]) == 0
    res = verify.verify(out)
    assert res.ok and res.checked > 100 and res.inputs_checked >= 4
    # report.html, .pdf, .docx, .json, compliance.csv and the bundle's 8 files (with its manifest)
    assert res.files_checked == 5 + 8 == len(before) - 1  # all but the manifest itself
    assert snapshot(out) == before  # verify writes nothing


@pytest.mark.slow
def test_changed_input_file_fails(built):
    out, layer_file = built
    original = layer_file.read_bytes()
    try:
        layer_file.write_bytes(original + b"\n# edited after the report was made\n")
        res = verify.verify(out)
        assert not res.ok
        # named as report.json records it (no folder of the machine: relative to the report)
        assert any(layer_file.name in d and "changed" in d for d in res.differences)
        assert cli.main(["verify", str(out), "-q"]) == 1
    finally:
        layer_file.write_bytes(original)


@pytest.mark.slow
def test_edited_indicator_fails(copy):
    path = copy / "bundles" / "elderly_care" / "summary.csv"
    s = pd.read_csv(path, encoding="utf-8-sig")
    row = s.index[(s["level"] == "district")][0]
    s.loc[row, "share_pop_60plus_15min"] = s.loc[row, "share_pop_60plus_15min"] * 0.9 + 0.01
    s.to_csv(path, index=False, encoding="utf-8-sig")
    res = verify.verify(copy)
    assert not res.ok
    assert len(res.differences) == 2, res.differences
    assert res.differences[0].startswith("bundles/elderly_care/summary.csv: changed since")
    d = res.differences[1]
    assert "summary.csv" in d and "share_pop_60plus_15min" in d and str(s.loc[row, "group"]) in d


@pytest.mark.slow
def test_edited_compliance_fails(copy):
    c = pd.read_csv(copy / "compliance.csv")
    c.loc[0, "status"] = "met" if c.loc[0, "status"] != "met" else "not_met"
    c.to_csv(copy / "compliance.csv", index=False)
    res = verify.verify(copy)
    assert [d for d in res.differences if "compliance.csv" in d and "'status'" in d]


def test_verify_refuses_a_folder_that_is_not_a_report(tmp_path):
    assert cli.main(["verify", str(tmp_path), "-q"]) == 2


# ------------------------------------------------------------------ every file of the folder


def _only_file_differences(res: verify.VerifyResult) -> list[str]:
    """The differences, checking that the re-run found every indicator equal."""
    assert res.checked > 100
    return res.differences


@pytest.mark.slow
def test_edited_report_html_fails_naming_it(copy, capsys):
    html_path = copy / "report.html"
    text = html_path.read_text(encoding="utf-8")
    # the first percentage of the page, e.g. "83.8%" -> "93.8%"
    import re

    m = re.search(r">(\d)(\d\.\d)%<", text)
    assert m is not None
    edited = text[: m.start(1)] + str((int(m.group(1)) + 1) % 10) + text[m.start(1) + 1 :]
    html_path.write_text(edited, encoding="utf-8")
    diffs = _only_file_differences(verify.verify(copy))
    assert len(diffs) == 1 and diffs[0].startswith("report.html: changed since it was written")
    code, out, _ = run(capsys, ["verify", str(copy), "-q"])
    assert code == 1 and "report.html: changed" in out


@pytest.mark.slow
def test_swapped_report_pdf_fails_naming_it(copy, tmp_path):
    other = reporting.write_pdf("<h1>Another report</h1><p>93.8% met</p>", tmp_path / "o.pdf")
    assert other.read_bytes()[:5] == b"%PDF-"  # a valid PDF, just not this report's
    shutil.copy(other, copy / "report.pdf")
    diffs = _only_file_differences(verify.verify(copy))
    assert len(diffs) == 1 and diffs[0].startswith("report.pdf: changed since it was written")


@pytest.mark.slow
def test_changed_bundle_geojson_fails_naming_it(copy):
    bundle = copy / "bundles" / "elderly_care"
    doc = json.loads((bundle / "demand.geojson").read_text(encoding="utf-8"))
    for f in doc["features"]:
        f["properties"]["dist_m"] = 1
    (bundle / "demand.geojson").write_text(json.dumps(doc), encoding="utf-8")
    gaps = json.loads((bundle / "gaps.geojson").read_text(encoding="utf-8"))
    assert gaps["features"]  # the demo has gaps: emptying them is a change
    gaps["features"] = []
    (bundle / "gaps.geojson").write_text(json.dumps(gaps), encoding="utf-8")
    diffs = _only_file_differences(verify.verify(copy))
    assert [d.split(":")[0] for d in diffs] == [
        "bundles/elderly_care/demand.geojson",
        "bundles/elderly_care/gaps.geojson",
    ], diffs


@pytest.mark.slow
def test_added_missing_file_and_missing_manifest_fail(copy):
    (copy / "bundles" / "elderly_care" / "extra.geojson").write_text("{}", encoding="utf-8")
    (copy / "report.pdf").unlink()
    diffs = _only_file_differences(verify.verify(copy))
    assert diffs == [
        "report.pdf: missing (listed in manifest.json)",
        "bundles/elderly_care/extra.geojson: not listed in manifest.json (a file added after the run)",
    ]
    (copy / "manifest.json").unlink()
    diffs = verify.verify(copy).differences
    assert len(diffs) == 1 and diffs[0].startswith("manifest.json: missing")


# ------------------------------------------------------------------ refused: exit 2


def _edit_record(folder: Path, edit) -> None:
    path = folder / "report.json"
    rec = json.loads(path.read_text(encoding="utf-8"))
    edit(rec)
    path.write_text(json.dumps(rec), encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize("sub", ["../outside", "/tmp", "bundles/../../outside", "C:/x"])
def test_bundle_path_leaving_the_folder_is_refused(copy, capsys, sub):
    (copy.parent / "outside").mkdir(exist_ok=True)  # a real folder to escape to
    _edit_record(copy, lambda rec: rec["bundles"].update(elderly_care=sub))
    code, _, err = run(capsys, ["verify", str(copy), "-q"])
    assert code == 2
    assert "bundles.elderly_care" in err and "leaving the report folder" in err


@pytest.mark.slow
def test_bundle_link_out_of_the_folder_is_refused(copy, capsys, tmp_path):
    outside = tmp_path / "elsewhere"
    shutil.copytree(copy / "bundles" / "elderly_care", outside)
    (copy / "bundles" / "link").symlink_to(outside)
    _edit_record(copy, lambda rec: rec["bundles"].update(elderly_care="bundles/link"))
    code, _, err = run(capsys, ["verify", str(copy), "-q"])
    assert code == 2 and "leaving the report folder" in err


@pytest.mark.slow
@pytest.mark.parametrize(
    "edit, text",
    [
        (
            lambda rec: rec["params"].update(layers="elderly_care"),
            "params.layers is 'elderly_care'",
        ),
        (lambda rec: rec.update(inputs={"path": "x"}), "'inputs' is {'path': 'x'}"),
        (lambda rec: rec.update(params=["demo"]), "'params' is ['demo']"),
        (lambda rec: rec.update(bundles=["bundles/elderly_care"]), "'bundles' is"),
        (lambda rec: rec["params"].update(year="2035"), "params.year is '2035'"),
    ],
)
def test_record_field_of_the_wrong_type_is_refused(copy, capsys, edit, text):
    _edit_record(copy, edit)
    code, _, err = run(capsys, ["verify", str(copy), "-q"])
    assert code == 2 and text in err and "report.json" in err
    assert "Unknown layer" not in err


@pytest.mark.slow
@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe\x00garbage", b""])
def test_report_json_not_json_says_so(copy, capsys, content):
    (copy / "report.json").write_bytes(content)
    code, _, err = run(capsys, ["verify", str(copy), "-q"])
    assert code == 2 and "report.json: not valid JSON" in err
    assert "no report.json" not in err


@pytest.mark.parametrize("rtol", ["-1", "nan", "inf", "-inf", "1", "2"])
def test_rtol_out_of_range_is_refused(tmp_path, capsys, rtol):
    code, _, err = run(capsys, ["verify", str(tmp_path), "-q", f"--rtol={rtol}"])
    assert code == 2 and f"--rtol {float(rtol)}" in err and "below 1" in err


@pytest.mark.parametrize("rtol", [0.0, 1e-6, 0.5])
def test_rtol_in_range_is_accepted(rtol):
    assert verify.check_rtol(rtol) == rtol
