"""OpenStreetMap XML extracts (``.osm``, ``.osm.xml``, ``.osm.bz2``), read with osmnx.

Extracts are usually clipped to a bounding box or polygon, so ways and relations may
reference nodes that are not in the file. Before osmnx reads it, the file is cleaned
into two trimmed copies (one for the walking network, one for the features): an XML
way is cut at its missing nodes (a walkable way becomes one way per run of present
nodes; a closed way such as a building keeps its present nodes, closed again, as
pyrosm does; any other way keeps its longest run) and relation members that are
missing are dropped. The load never fails on a clipped extract.

The XML reader keeps isolated rings and splits loop streets, closed service rings and
parallel ways (the halves of a ring crossed by a street) into segments, as the PBF
reader's per-node segments are, so both give the same walking network.
"""

from __future__ import annotations

import bz2
import contextlib
import logging
import tempfile
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from geoapp.catalog import Layer
from geoapp.errors import GeoappError, InputError
from geoapp.region import (
    BUILDING_COLUMNS,
    BUILDING_USE_KEYS,
    EDGE_COLUMNS,
    LANDUSE_COLUMNS,
    LANDUSE_VALUES,
    NODE_COLUMNS,
    empty_gdf,
)
from geoapp.sources._osm_common import (
    GET_EXTRACT,
    Frames,
    any_value_tags,
    attach_pois,
    building_poi_nodes,
    catalog_tags,
    feature_keys,
    graph_to_frames,
    is_walkable_way,
    make_buildings,
    make_features,
    make_landuse,
    osm_ids,
    simplify_walk_graph,
    walk_tags,
    widen_tags,
)

log = logging.getLogger(__name__)

__all__ = ["read_xml"]


def _open_xml(path: Path) -> IO[bytes]:
    if path.name.lower().endswith(".bz2"):
        return bz2.open(path, "rb")
    return open(path, "rb")  # noqa: SIM115 - closed by the caller's with


def _iter_elements(path: Path) -> Iterator[ET.Element]:
    """Yield the top-level elements (bounds, node, way, relation) of an OSM XML file."""
    with _open_xml(path) as fh:
        root: ET.Element | None = None
        depth = 0
        for event, elem in ET.iterparse(fh, events=("start", "end")):
            if event == "start":
                if root is None:
                    root = elem
                    if elem.tag != "osm":
                        raise InputError(
                            f"{path}: not an OpenStreetMap XML file (root element "
                            f"<{elem.tag}>, expected <osm>). {GET_EXTRACT}"
                        )
                depth += 1
                continue
            depth -= 1
            if depth == 1:
                yield elem
                assert root is not None  # set at the first start event
                root.clear()


def _xml_error(path: Path, exc: BaseException) -> InputError:
    return InputError(
        f"{path}: cannot read this OpenStreetMap XML file ({type(exc).__name__}: "
        f"{str(exc)[:200]}). It may be truncated or corrupt. {GET_EXTRACT}"
    )


def _runs(refs: list[str], present: set[str]) -> list[list[str]]:
    """Split a way's node refs into runs of consecutive present nodes."""
    runs: list[list[str]] = [[]]
    for r in refs:
        if r in present:
            runs[-1].append(r)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if len(run) >= 2]


def _way_element(src: ET.Element, way_id: str, refs: list[str]) -> ET.Element:
    way = ET.Element("way", {**src.attrib, "id": way_id})
    for r in refs:
        ET.SubElement(way, "nd", {"ref": r})
    for tag in src.findall("tag"):
        ET.SubElement(way, "tag", dict(tag.attrib))
    way.tail = "\n"
    return way


def _clean_xml(path: Path, out_dir: Path) -> tuple[Path, Path, dict[str, int]]:
    """Write trimmed copies of an OSM XML extract: one for the network, one for features.

    Returns the two paths and counts of what was trimmed.
    """
    present_nodes: set[str] = set()
    walk_refs: set[str] = set()
    way_refs: dict[str, list[str]] = {}
    walkable: set[str] = set()
    for elem in _iter_elements(path):
        if elem.tag == "node":
            present_nodes.add(elem.get("id", ""))
        elif elem.tag == "way":
            wid = elem.get("id", "")
            refs = [nd.get("ref", "") for nd in elem.findall("nd")]
            way_refs[wid] = refs
            tags = {t.get("k", ""): t.get("v", "") for t in elem.findall("tag")}
            if is_walkable_way(tags):
                walkable.add(wid)
    for wid in walkable:
        walk_refs.update(r for r in way_refs[wid] if r in present_nodes)

    stats = {"ways_trimmed": 0, "ways_dropped": 0, "members_dropped": 0}
    kept_ways: set[str] = set()
    net_path = out_dir / "network.osm"
    feat_path = out_dir / "features.osm"
    header = '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="geoapp">\n'
    with (
        open(net_path, "w", encoding="utf-8") as net,
        open(feat_path, "w", encoding="utf-8") as feat,
    ):
        net.write(header)
        feat.write(header)
        for elem in _iter_elements(path):
            elem.tail = "\n"
            if elem.tag == "bounds":
                text = ET.tostring(elem, encoding="unicode")
                net.write(text)
                feat.write(text)
            elif elem.tag == "node":
                text = ET.tostring(elem, encoding="unicode")
                feat.write(text)
                if elem.get("id") in walk_refs:
                    net.write(text)
            elif elem.tag == "way":
                wid = elem.get("id", "")
                refs = way_refs.get(wid, [])
                runs = _runs(refs, present_nodes)
                if sum(len(r) for r in runs) < len(refs):
                    stats["ways_trimmed"] += 1
                if not runs:
                    stats["ways_dropped"] += 1
                    continue
                kept_ways.add(wid)
                if len(runs) == 1 and len(runs[0]) == len(refs):
                    feat.write(ET.tostring(elem, encoding="unicode"))
                elif len(refs) > 3 and refs[0] == refs[-1]:
                    # a closed way (building, area) keeps its present nodes, closed again,
                    # as pyrosm does with a PBF: the same data gives the same footprints
                    kept = [r for r in refs[:-1] if r in present_nodes]
                    kept = kept + kept[:1] if len(kept) >= 3 else max(runs, key=len)
                    feat.write(ET.tostring(_way_element(elem, wid, kept), encoding="unicode"))
                else:
                    longest = max(runs, key=len)
                    feat.write(ET.tostring(_way_element(elem, wid, longest), encoding="unicode"))
                if wid in walkable:
                    for k, run in enumerate(runs):
                        # later pieces of a cut way get synthetic (negative) ids
                        piece_id = wid if k == 0 else str(-(abs(int(wid)) * 1000 + k))
                        net.write(
                            ET.tostring(_way_element(elem, piece_id, run), encoding="unicode")
                        )
            elif elem.tag == "relation":
                rel = ET.Element("relation", dict(elem.attrib))
                rel.tail = "\n"
                n_members = 0
                for m in elem.findall("member"):
                    mtype, ref = m.get("type"), m.get("ref", "")
                    ok = (
                        (mtype == "node" and ref in present_nodes)
                        or (mtype == "way" and ref in kept_ways)
                        or mtype == "relation"
                    )
                    if ok:
                        ET.SubElement(rel, "member", dict(m.attrib))
                        n_members += mtype != "relation"
                    else:
                        stats["members_dropped"] += 1
                if n_members == 0:
                    continue
                for tag in elem.findall("tag"):
                    ET.SubElement(rel, "tag", dict(tag.attrib))
                feat.write(ET.tostring(rel, encoding="unicode"))
        net.write("</osm>\n")
        feat.write("</osm>\n")
    if any(stats.values()):
        log.warning(
            "%s: clipped extract: %d ways trimmed at missing nodes, %d ways dropped, "
            "%d relation members dropped",
            path,
            stats["ways_trimmed"],
            stats["ways_dropped"],
            stats["members_dropped"],
        )
    stats["walkable_ways"] = len(walkable)
    return net_path, feat_path, stats


@contextlib.contextmanager
def _quiet_osmnx() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", FutureWarning)
        yield


def read_xml(
    path: Path,
    catalog: Mapping[str, Layer],
    network: bool,
    buildings: bool,
    level: str | None,
) -> Frames:
    """Read an OSM XML extract (plain or bzip2) with osmnx, trimmed where clipped.

    The file is first cleaned into a network copy and a features copy (see the module
    docstring); osmnx then reads the walking network of the one (when ``network``) and
    the catalog's features, the buildings (when ``buildings``) and the residential
    landuse of the other.

    Raises
    ------
    InputError
        When the file is not OSM XML, is truncated or is corrupt.
    """
    import osmnx as ox
    from osmnx._errors import InsufficientResponseError

    keys = feature_keys(catalog)
    tags = catalog_tags(catalog)
    wanted: dict[str, Any] = any_value_tags(tags)
    if buildings:
        wanted["building"] = True
        # the nodes of a building's use (POIs inside footprints: a casino, a shop)
        for key in BUILDING_USE_KEYS:
            wanted[key] = True
    for value in LANDUSE_VALUES:
        widen_tags(wanted, "landuse", value)
    with tempfile.TemporaryDirectory(prefix="geoapp-osm-") as tmp:
        try:
            net_path, feat_path, stats = _clean_xml(path, Path(tmp))
        except GeoappError:
            raise
        except (ET.ParseError, OSError, EOFError, ValueError) as exc:
            raise _xml_error(path, exc) from None
        nodes, edges = empty_gdf(NODE_COLUMNS), empty_gdf(EDGE_COLUMNS)
        try:
            with _quiet_osmnx():
                if network and stats["walkable_ways"]:
                    with walk_tags():
                        G = ox.graph_from_xml(
                            net_path, bidirectional=True, simplify=False, retain_all=True
                        )
                    nodes, edges = graph_to_frames(simplify_walk_graph(G))
                try:
                    raw = ox.features_from_xml(feat_path, tags=wanted)
                except InsufficientResponseError:
                    raw = None
        except GeoappError:
            raise
        except Exception as exc:
            raise _xml_error(path, exc) from None
    if raw is None or len(raw) == 0:
        empty = make_features(None, np.array([]), keys, tags)
        return empty, nodes, edges, empty_gdf(BUILDING_COLUMNS), empty_gdf(LANDUSE_COLUMNS), None
    raw = raw.to_crs("EPSG:4326") if raw.crs is not None else raw.set_crs("EPSG:4326")
    idx = raw.index
    ids = osm_ids(idx.get_level_values(0).to_numpy(), idx.get_level_values(1).to_numpy())
    raw = raw.reset_index(drop=True)
    raw["osm_id"] = ids
    features = make_features(raw, ids, keys, tags)
    bld = make_buildings(raw, ids) if buildings else empty_gdf(BUILDING_COLUMNS)
    if buildings and len(bld):
        bld = attach_pois(bld, *building_poi_nodes(raw))
    landuse = make_landuse(raw)
    return features, nodes, edges, bld, landuse, None
