"""The walking graph cache: ``.npz`` files on disk and an in-process memo.

:func:`cached_graph` returns :func:`geoapp.network.graph.build_graph` of a region's
nodes and edges, keyed on their content (and the cache layout version), from the
memo, from ``walkgraph-<key>.npz`` in :func:`default_cache_dir`, or built and saved.
:func:`clear_memo` forgets the in-process graphs and snaps (the disk cache is kept).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from concurrent.futures import Future
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from scipy.sparse import csr_array

from geoapp._atomic import atomic_path
from geoapp.cache import cache_root, frame_digest
from geoapp.network.graph import Route, WalkGraph, build_graph
from geoapp.network.snap import clear_snap_memo

log = logging.getLogger(__name__)


#: Bump when the cached array layout changes.
_CACHE_VERSION = 3
_MEMO: OrderedDict[str, WalkGraph] = OrderedDict()
_MEMO_SIZE = 4
#: Graphs being built, by key: a second caller waits for the first one's build.
_BUILDING: dict[str, Future[WalkGraph]] = {}
_MEMO_LOCK = threading.Lock()


def _graph_key(nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, crs: CRS | None) -> str:
    h = hashlib.blake2b(digest_size=16)
    # the same CRS prints differently after a GeoParquet round trip ("EPSG:4326" vs
    # PROJJSON): key on its WKT so a cached region finds the graph built from the parse
    h.update(f"v{_CACHE_VERSION}|{crs.to_wkt() if crs is not None else ''}".encode())
    # content digests, once per frame object (a parsed extract's frames come with theirs)
    h.update(frame_digest(nodes).encode())
    h.update(frame_digest(edges).encode())
    return h.hexdigest()


def default_cache_dir() -> Path:
    """Return the on-disk graph cache folder.

    ``$GEOAPP_CACHE_DIR/networks`` when set, else ``$XDG_CACHE_HOME/geoapp/networks``,
    else ``~/.cache/geoapp/networks``.
    """
    return cache_root() / "networks"


def _save_graph(graph: WalkGraph, path: Path) -> None:
    geoms = graph.geometry
    counts = shapely.get_num_coordinates(geoms).astype(np.int64)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            node_ids=graph.node_ids,
            xy=graph.xy,
            u_idx=graph.u_idx,
            v_idx=graph.v_idx,
            length_m=graph.length_m,
            coords=shapely.get_coordinates(geoms),
            counts=counts,
            csr_data=graph.csr.data,
            csr_indices=graph.csr.indices,
            csr_indptr=graph.csr.indptr,
            crs_wkt=np.array(graph.crs.to_wkt()),
            **cast(
                dict[str, Any], {f"route_{k}": v for k, v in _route_arrays(graph.route).items()}
            ),
        )


def _route_arrays(route: Route) -> dict[str, np.ndarray]:
    return {
        "data": route.csr.data,
        "indices": route.csr.indices,
        "indptr": route.csr.indptr,
        "chain_a": route.chain_a,
        "chain_b": route.chain_b,
        "chain_len": route.chain_len,
        "edge_chain": route.edge_chain,
        "edge_offset": route.edge_offset,
        "edge_forward": route.edge_forward,
    }


def _load_graph(path: Path, key: str) -> WalkGraph:
    with np.load(path, allow_pickle=False) as z:
        n = len(z["node_ids"])
        geoms = shapely.linestrings(
            z["coords"], indices=np.repeat(np.arange(len(z["counts"])), z["counts"])
        )
        csr = csr_array((z["csr_data"], z["csr_indices"], z["csr_indptr"]), shape=(n, n))
        rcsr = csr_array((z["route_data"], z["route_indices"], z["route_indptr"]), shape=(n, n))
        route = Route(
            rcsr,
            *(z[f"route_{k}"] for k in ("chain_a", "chain_b", "chain_len")),
            *(z[f"route_{k}"] for k in ("edge_chain", "edge_offset", "edge_forward")),
        )
        return WalkGraph(
            crs=CRS.from_wkt(str(z["crs_wkt"])),
            node_ids=z["node_ids"],
            xy=z["xy"],
            u_idx=z["u_idx"],
            v_idx=z["v_idx"],
            length_m=z["length_m"],
            geometry=geoms,
            csr=csr,
            key=key,
            _route=route,
        )


def cached_graph(
    nodes: gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame,
    cache_dir: str | os.PathLike[str] | bool | None = None,
    crs: CRS | str | None = None,
) -> WalkGraph:
    """Return :func:`build_graph` ``(nodes, edges)``, memoised in-process and on disk.

    Parameters
    ----------
    nodes, edges
        As for :func:`build_graph`.
    cache_dir
        Folder of the ``.npz`` cache; None uses :func:`default_cache_dir`; ``False``
        keeps only the in-process memo.
    crs
        As for :func:`build_graph`.

    Returns
    -------
    WalkGraph
        ``key`` holds the hash of the node and edge arrays the cache is keyed on.

    Notes
    -----
    Files are written atomically; an unreadable or unwritable cache only logs a
    warning and the graph is rebuilt. Thread-safe: a call for a graph that another
    thread is building waits for that build (and gets its result or its error).
    """
    key = _graph_key(nodes, edges, CRS.from_user_input(crs) if crs is not None else None)
    with _MEMO_LOCK:
        if key in _MEMO:
            _MEMO.move_to_end(key)
            return _MEMO[key]
        pending = _BUILDING.get(key)
        if pending is None:
            pending = _BUILDING[key] = Future()
            owner = True
        else:
            owner = False
    if not owner:  # the same graph is being built in another thread: wait for it
        return pending.result()
    try:
        graph = _load_or_build(nodes, edges, cache_dir, crs, key)
    except BaseException as exc:
        with _MEMO_LOCK:
            _BUILDING.pop(key, None)
        pending.set_exception(exc)
        raise
    with _MEMO_LOCK:
        _MEMO[key] = graph
        while len(_MEMO) > _MEMO_SIZE:
            _MEMO.popitem(last=False)
        _BUILDING.pop(key, None)
    pending.set_result(graph)
    return graph


def _load_or_build(
    nodes: gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame,
    cache_dir: str | os.PathLike[str] | bool | None,
    crs: CRS | str | None,
    key: str,
) -> WalkGraph:
    graph = None
    path = None
    if cache_dir is not False:
        folder = (
            default_cache_dir()
            if cache_dir in (None, True)
            else Path(cast("str | os.PathLike[str]", cache_dir))
        )
        path = folder / f"walkgraph-{key}.npz"
        if path.exists():
            try:
                graph = _load_graph(path, key)
                log.info("walking network loaded from cache %s", path)
            except Exception as exc:  # noqa: BLE001 - a broken cache file is rebuilt
                log.warning("walking network cache %s unreadable (%s); rebuilding", path, exc)
    if graph is None:
        graph = build_graph(nodes, edges, crs=crs)
        graph.key = key
        if path is not None:
            try:
                _save_graph(graph, path)
            except OSError as exc:
                log.warning("could not write walking network cache %s: %s", path, exc)
    return graph


def clear_memo() -> None:
    """Forget the in-process graph and snap memos (the disk cache is kept)."""
    with _MEMO_LOCK:
        _MEMO.clear()
    clear_snap_memo()
