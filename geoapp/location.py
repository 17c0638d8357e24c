"""Facility location models in spopt's shape: LSCP, MCLP, p-median, p-center, capacitated MCLP.

Each model is a frozen dataclass built like ``spopt.locate``'s: ``from_cost_matrix`` (a
clients x facilities cost matrix, dense or scipy sparse) or ``from_geodataframe`` (demand and
candidate frames, distances by :func:`scipy.spatial.distance.cdist`'s metrics), then
``solve(time_limit=...)`` returns a :class:`LocationResult` with spopt's attributes
(``fac2cli``, ``cli2fac``, ``n_cli_uncov``, ``perc_cov``, ``mean_dist``) plus the objective,
the best proven bound, the gap, the solver, the time and the status.

Solvers (no PuLP needed):

* **MCLP** (maximal covering, Church & ReVelle 1974): :func:`geoapp.siting.maximise_coverage`
  (instance reduction, lazy greedy, swaps, Lagrangian bound; the HiGHS MIP only when the gap
  is not closed).
* **LSCP** (location set covering, Toregas et al. 1971), **p-median** (Hakimi 1964; ReVelle &
  Swain 1970) and **capacitated MCLP**: MIPs built as sparse matrices and solved by HiGHS
  (highspy). Only the pairs within reach (LSCP, MCLP) or with a finite cost (p-median) become
  variables, so a sparse cost matrix never turns dense.
* **p-center** (Hakimi 1965): the smallest radius whose set cover needs at most ``p``
  facilities, found by bisection over the distinct costs, each step an LSCP MIP (exact:
  Minieka 1970).

Conventions, as in spopt: the cost matrix has one row per client (demand point) and one
column per candidate facility; a missing entry of a sparse matrix, NaN or infinity means
"unreachable"; an explicit 0 is a distance of 0. ``p_facilities`` counts the predefined
(kept open) facilities too. ``p_mode="exactly"`` (spopt's behaviour, the default) opens
exactly ``p`` facilities and raises :class:`InfeasibleError` when there are fewer candidates;
``p_mode="at_most"`` opens at most ``p`` (coverage models stop when no candidate adds
anyone). For p-median and p-center an extra facility never makes the objective worse, so the
two modes differ only when ``p`` exceeds the candidates.

The capacitated MCLP (spopt issues #222 and #415, open there) maximises the demand weight
served within the radius when facility ``j`` serves at most ``capacity[j]`` of it. By default
each client is served whole by one facility or not at all (``split=False``, "single
sourcing": a resident goes to one place); ``split=True`` lets a client's demand be shared
among facilities within reach (the LP-style relaxation planners use for bed counts).
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import geopandas as gpd
import numpy as np
from scipy.sparse import coo_array, csc_array, csr_array, issparse, vstack
from scipy.spatial.distance import cdist

from geoapp import siting
from geoapp.errors import CRSError, InputError

log = logging.getLogger(__name__)

PMode = Literal["exactly", "at_most"]
P_MODES = ("exactly", "at_most")
#: MIP relative gap HiGHS stops at (spopt's CBC default is exact too).
MIP_REL_GAP = 1e-9


class InfeasibleError(InputError):
    """The model has no feasible solution (a client no facility can reach, ``p`` too small)."""


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class LocationResult:
    """What :meth:`solve` returns (attribute names as in ``spopt.locate``).

    Attributes
    ----------
    model
        ``"lscp"``, ``"mclp"``, ``"pmedian"``, ``"pcenter"`` or ``"cmclp"``.
    sites
        Column positions of the open facilities (predefined ones included), ascending.
    site_ids
        The facility labels of ``sites`` (the frame's index with ``from_geodataframe``,
        else the positions).
    fac2cli
        One list per facility: the clients it serves (empty when closed). For LSCP and
        MCLP every client within reach of an open facility, as spopt; for p-median,
        p-center and capacitated MCLP the clients assigned to it.
    cli2fac
        One list per client: the facilities of ``fac2cli`` that hold it.
    objective
        LSCP: facilities opened; MCLP: weight covered; p-median: weighted cost sum;
        p-center: the largest client-to-facility cost; capacitated MCLP: weight served.
    bound
        Best proven bound on the objective (lower for minimisation, upper for MCLP).
    gap
        ``|bound - objective| / |objective|`` (0: proven optimal).
    solver
        How the answer was found (``highs-mip``, ``lazy-greedy``, ``lagrangian``,
        ``highs-mip bisection`` ...).
    seconds
        Wall time of :meth:`solve`.
    status
        ``"Optimal"`` (proven) or ``"Time limit"`` (feasible, gap left).
    n_cli_uncov
        Clients not covered/served (coverage models and capacitated MCLP).
    perc_cov
        Share of clients covered, in percent (of the count, as spopt; coverage models).
    mean_dist
        p-median: ``objective / sum(weights)``.
    meta
        Sizes, the covered weight and share, each solver's figures.
    """

    model: str
    sites: np.ndarray
    site_ids: list[Any]
    fac2cli: list[list[int]]
    cli2fac: list[list[int]]
    objective: float
    bound: float
    gap: float
    solver: str
    seconds: float
    status: str
    n_cli_uncov: int | None = None
    perc_cov: float | None = None
    mean_dist: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- inputs


def _as_cost(cost_matrix: Any) -> csr_array:
    """Clients x facilities costs as CSR holding only the finite entries (explicit 0 kept)."""
    if issparse(cost_matrix):
        m = coo_array(cost_matrix)
        data = np.asarray(m.data, dtype=np.float64)
        keep = np.isfinite(data)
        rows, cols, data = m.row[keep], m.col[keep], data[keep]
        shape = m.shape
    else:
        arr = np.asarray(cost_matrix, dtype=np.float64)
        if arr.ndim != 2:
            raise InputError(
                f"cost_matrix: {arr.ndim} dimensions; pass a clients x facilities table"
            )
        rows, cols = np.nonzero(np.isfinite(arr))
        data = arr[rows, cols]
        shape = arr.shape
    if shape[0] == 0 or shape[1] == 0:
        raise InputError(f"cost_matrix: shape {shape}; it needs clients and facilities")
    if (data < 0).any():
        raise InputError("cost_matrix: costs must be >= 0 (NaN or inf for unreachable)")
    out = csr_array((data, (rows, cols)), shape=shape)
    out.sum_duplicates()
    out.sort_indices()
    return out


def _as_weights(weights: Any, n: int, what: str = "weights") -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim == 2 and w.shape[1] >= 1:
        w = w.sum(axis=1)
    if w.shape != (n,):
        raise InputError(f"{what}: {w.size} values for {n} rows; give one per row")
    if (~np.isfinite(w)).any() or (w < 0).any():
        raise InputError(f"{what}: every value must be a finite number >= 0")
    return w


def _as_predefined(arr: Any, n_fac: int) -> np.ndarray:
    """Positions of the predefined facilities.

    ``arr``: one 0/1 (or bool) value per facility, as spopt's ``predefined_facilities_arr``;
    any other array is read as facility positions.
    """
    if arr is None:
        return np.zeros(0, dtype=np.int64)
    a = np.asarray(arr)
    if a.dtype == bool or (a.shape == (n_fac,) and set(np.unique(a).tolist()) <= {0, 1}):
        if a.shape != (n_fac,):
            raise InputError(
                f"predefined_facilities_arr: {a.size} values for {n_fac} facilities; "
                "give one 0/1 per facility"
            )
        return np.flatnonzero(a.astype(bool))
    pos = np.unique(a.astype(np.int64))
    if len(pos) and (pos.min() < 0 or pos.max() >= n_fac):
        raise InputError(f"predefined_facilities_arr: positions must lie in 0..{n_fac - 1}")
    return pos


def _check_p(p: Any, n_fac: int, n_pre: int, p_mode: str, *, least: int = 1) -> int:
    if isinstance(p, bool) or not isinstance(p, int | np.integer):
        raise InputError(f"p_facilities: {p!r} must be a whole number")
    if p_mode not in P_MODES:
        raise InputError(f"p_mode: {p_mode!r}; use 'exactly' or 'at_most'")
    if p < least:
        raise InfeasibleError(f"p_facilities: {p} facilities; at least {least} is needed")
    if p < n_pre:
        raise InfeasibleError(
            f"p_facilities: {p} is fewer than the {n_pre} predefined facilities kept open"
        )
    if p_mode == "exactly" and p > n_fac:
        raise InfeasibleError(
            f"p_facilities: exactly {p} facilities asked for but there are only {n_fac} "
            "candidates; lower p or pass p_mode='at_most'"
        )
    return int(p)


def _check_radius(r: Any) -> float:
    try:
        v = float(r)
    except (TypeError, ValueError):
        v = float("nan")
    if isinstance(r, bool) or not math.isfinite(v) or v < 0:
        raise InputError(f"service_radius: {r!r} must be a distance >= 0")
    return v


def _points_xy(gdf: gpd.GeoDataFrame, col: str, what: str) -> np.ndarray:
    if col not in gdf.columns:
        raise InputError(f"{what}: no column {col!r}; columns: {', '.join(map(str, gdf.columns))}")
    geoms = gpd.GeoSeries(gdf[col], crs=gdf.crs)
    if geoms.isna().any() or geoms.is_empty.any():
        bad = int(np.flatnonzero(geoms.isna().to_numpy() | geoms.is_empty.to_numpy())[0])
        raise InputError(f"{what}: row {bad} has no geometry in {col!r}")
    not_pt = (geoms.geom_type != "Point").to_numpy()
    if not_pt.any():
        log.info("%s: %d non-point geometries stand in by their centroid", what, not_pt.sum())
        geoms = geoms.copy()
        geoms[not_pt] = geoms[not_pt].centroid
    return np.column_stack([geoms.x.to_numpy(), geoms.y.to_numpy()])


def _frames_xy(
    gdf_demand: gpd.GeoDataFrame,
    gdf_fac: gpd.GeoDataFrame,
    demand_col: str,
    facility_col: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of both frames in one planar system (geographic CRS: local UTM, metres)."""
    if (gdf_demand.crs is None) != (gdf_fac.crs is None) or (
        gdf_demand.crs is not None and not gdf_demand.crs.equals(gdf_fac.crs)
    ):
        raise CRSError(
            f"gdf_demand ({gdf_demand.crs}) and gdf_fac ({gdf_fac.crs}) have different "
            "coordinate reference systems; bring them to one (to_crs)"
        )
    dem, fac = gdf_demand, gdf_fac
    if dem.crs is not None and dem.crs.is_geographic:
        utm = dem.set_geometry(demand_col).estimate_utm_crs()
        dem = dem.set_geometry(demand_col).to_crs(utm)
        fac = fac.set_geometry(facility_col).to_crs(utm)
        log.info("geographic coordinates projected to %s: distances in metres", utm.name)
    return _points_xy(dem, demand_col, "gdf_demand"), _points_xy(fac, facility_col, "gdf_fac")


def _frame_column(gdf: gpd.GeoDataFrame, cols: str | Sequence[str] | None, what: str) -> Any:
    if cols is None:
        return None
    names = [cols] if isinstance(cols, str) else list(cols)
    missing = [c for c in names if c not in gdf.columns]
    if missing:
        raise InputError(f"{what}: no column {missing[0]!r} in the frame")
    values = gdf[names].apply(lambda s: s.astype("float64")).to_numpy()
    return values[:, 0] if len(names) == 1 else values.sum(axis=1)


def _base_fields(cost_matrix: Any, predefined_facilities_arr: Any, name: str) -> dict[str, Any]:
    """Read the fields every model shares from ``from_cost_matrix``'s arguments."""
    cost = _as_cost(cost_matrix)
    return {
        "cost": cost,
        "predefined": _as_predefined(predefined_facilities_arr, cost.shape[1]),
        "facility_ids": list(range(cost.shape[1])),
        "name": name,
    }


@dataclass(frozen=True)
class _Frames:
    """The frames of a ``from_geodataframe`` call and their clients x facilities costs."""

    gdf_demand: gpd.GeoDataFrame
    gdf_fac: gpd.GeoDataFrame
    cost: np.ndarray

    @classmethod
    def read(
        cls,
        gdf_demand: gpd.GeoDataFrame,
        gdf_fac: gpd.GeoDataFrame,
        demand_col: str,
        facility_col: str,
        distance_metric: str,
    ) -> _Frames:
        d_xy, f_xy = _frames_xy(gdf_demand, gdf_fac, demand_col, facility_col)
        try:
            cost = cdist(d_xy, f_xy, metric=distance_metric)
        except ValueError as exc:
            raise InputError(f"distance_metric: {distance_metric!r}: {exc}") from exc
        return cls(gdf_demand, gdf_fac, cost)

    def weights(self, cols: str | Sequence[str]) -> Any:
        """Return the demand frame's weight column(s), summed per row."""
        return _frame_column(self.gdf_demand, cols, "weights_cols")

    def facility_values(self, col: str | None, what: str = "gdf_fac") -> Any:
        """Return one value per candidate from column ``col`` (None: no column)."""
        return _frame_column(self.gdf_fac, col, what)

    def model(self, model_cls: Any, *args: Any, **settings: Any) -> Any:
        """Build ``model_cls.from_cost_matrix(costs, *args, **settings)``, candidates by index."""
        model = model_cls.from_cost_matrix(self.cost, *args, **settings)
        return replace(model, facility_ids=list(self.gdf_fac.index))


# --------------------------------------------------------------------------- HiGHS


def _new_highs() -> Any:
    """Return a ``highspy.Highs`` whose construction banner does not reach stdout."""
    import highspy

    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:
        return highspy.Highs()
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


@dataclass(frozen=True)
class _Mip:
    """A MIP ``min/max c @ x  s.t. row_lo <= A x <= row_hi, col_lo <= x <= col_hi``."""

    c: np.ndarray
    a: csc_array
    row_lo: np.ndarray
    row_hi: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    integer: np.ndarray  # bool per column
    maximise: bool = False


def _solve_mip(mip: _Mip, time_limit: float) -> tuple[np.ndarray | None, float, float, str]:
    """Solve with HiGHS; returns (x or None, objective, dual bound, model status).

    No warm start: highspy 1.16's ``setSolution`` with presolve on reported objectives and
    bounds without the offset of the columns presolve fixed (a set cover of 3 reported as
    an optimum of 2), so the objective is also recomputed from ``x`` here.
    """
    import highspy

    h = _new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", max(0.1, float(time_limit)))
    h.setOptionValue("mip_rel_gap", MIP_REL_GAP)
    h.setOptionValue("threads", 1)
    a = csc_array(mip.a)
    a.sort_indices()
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = a.shape[1]
    lp.num_row_ = a.shape[0]
    lp.sense_ = highspy.ObjSense.kMaximize if mip.maximise else highspy.ObjSense.kMinimize
    lp.col_cost_ = np.asarray(mip.c, dtype=np.float64)
    lp.col_lower_ = np.where(np.isfinite(mip.col_lo), mip.col_lo, -inf)
    lp.col_upper_ = np.where(np.isfinite(mip.col_hi), mip.col_hi, inf)
    lp.row_lower_ = np.where(np.isfinite(mip.row_lo), mip.row_lo, -inf)
    lp.row_upper_ = np.where(np.isfinite(mip.row_hi), mip.row_hi, inf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(np.float64)
    kint, kcon = highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous
    lp.integrality_ = [kint if i else kcon for i in mip.integer]
    h.passModel(lp)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    if info.primal_solution_status != highspy.kSolutionStatusFeasible:
        return None, math.nan, math.nan, status
    x = np.asarray(h.getSolution().col_value, dtype=np.float64)
    bound = float(info.mip_dual_bound)
    return x, float(mip.c @ x), bound, status


def _gap(objective: float, bound: float) -> float:
    if not math.isfinite(bound):
        return math.inf
    gap = abs(bound - objective) / max(abs(objective), 1e-12) if objective else abs(bound)
    return 0.0 if gap < 1e-9 else float(gap)


def _status(gap: float, mip_status: str | None = None) -> str:
    """``"Optimal"`` when HiGHS says so or the gap is closed, else ``"Time limit"``."""
    return "Optimal" if mip_status == "Optimal" or gap <= 1e-7 else "Time limit"


# --------------------------------------------------------------------------- results


def _coverage_lists(
    within: csr_array, open_: np.ndarray, n_fac: int
) -> tuple[list[list[int]], list[list[int]]]:
    """fac2cli / cli2fac: every client within reach of each open facility (spopt's LSCP/MCLP)."""
    csc = csc_array(within)
    csc.sort_indices()
    fac2cli: list[list[int]] = [[] for _ in range(n_fac)]
    for j in open_:
        fac2cli[int(j)] = csc.indices[csc.indptr[j] : csc.indptr[j + 1]].tolist()
    return fac2cli, _invert(fac2cli, within.shape[0])


def _invert(fac2cli: list[list[int]], n_cli: int) -> list[list[int]]:
    cli2fac: list[list[int]] = [[] for _ in range(n_cli)]
    for j, clients in enumerate(fac2cli):
        for i in clients:
            cli2fac[i].append(j)
    return cli2fac


def _assignment_lists(
    rows: np.ndarray, cols: np.ndarray, n_cli: int, n_fac: int
) -> tuple[list[list[int]], list[list[int]]]:
    order = np.lexsort((rows, cols))
    fac2cli: list[list[int]] = [[] for _ in range(n_fac)]
    for i, j in zip(rows[order], cols[order], strict=True):
        fac2cli[int(j)].append(int(i))
    return fac2cli, _invert(fac2cli, n_cli)


def _nearest_open(cost: csr_array, open_: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest open facility of each client and its cost (-1 / inf when none reaches it)."""
    sub = csc_array(cost[:, open_]).tocsr()
    n = cost.shape[0]
    best = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.inf)
    lengths = np.diff(sub.indptr)
    has = np.flatnonzero(lengths > 0)
    for i in has:  # clients x open facilities: small rows
        lo, hi = sub.indptr[i], sub.indptr[i + 1]
        k = lo + int(np.argmin(sub.data[lo:hi]))
        best[i] = open_[sub.indices[k]]
        dist[i] = sub.data[k]
    return best, dist


def _pad_exact(open_: np.ndarray, p: int, n_fac: int, score: np.ndarray) -> np.ndarray:
    """Add closed facilities (highest ``score`` first) until ``p`` are open."""
    open_ = np.unique(open_)
    if len(open_) >= p:
        return open_
    closed = np.setdiff1d(np.arange(n_fac), open_)
    extra = closed[np.argsort(-score[closed], kind="stable")][: p - len(open_)]
    return np.sort(np.concatenate([open_, extra]))


# --------------------------------------------------------------------------- models


@dataclass(frozen=True)
class _Base:
    cost: csr_array  # clients x facilities, finite entries only
    predefined: np.ndarray
    facility_ids: list[Any]
    name: str

    @property
    def n_cli(self) -> int:
        return int(self.cost.shape[0])

    @property
    def n_fac(self) -> int:
        return int(self.cost.shape[1])

    def _within(self, radius: float) -> csr_array:
        c = self.cost
        keep = c.data <= radius
        rows = np.repeat(np.arange(c.shape[0]), np.diff(c.indptr))[keep]
        return csr_array((np.ones(int(keep.sum())), (rows, c.indices[keep])), shape=c.shape)

    def _result(self, model: str, sites: np.ndarray, **kw: Any) -> LocationResult:
        sites = np.sort(np.asarray(sites, dtype=np.int64))
        return LocationResult(
            model=model, sites=sites, site_ids=[self.facility_ids[j] for j in sites], **kw
        )


@dataclass(frozen=True)
class LSCP(_Base):
    """Location set covering: the fewest facilities within ``service_radius`` of every client."""

    service_radius: float = 0.0

    @classmethod
    def from_cost_matrix(
        cls,
        cost_matrix: Any,
        service_radius: float,
        predefined_facilities_arr: Any = None,
        name: str = "lscp",
    ) -> LSCP:
        """Build from a clients x facilities cost matrix (dense or scipy sparse)."""
        return cls(
            **_base_fields(cost_matrix, predefined_facilities_arr, name),
            service_radius=_check_radius(service_radius),
        )

    @classmethod
    def from_geodataframe(
        cls,
        gdf_demand: gpd.GeoDataFrame,
        gdf_fac: gpd.GeoDataFrame,
        demand_col: str,
        facility_col: str,
        service_radius: float,
        predefined_facility_col: str | None = None,
        distance_metric: str = "euclidean",
        name: str = "lscp",
    ) -> LSCP:
        """Build from demand and candidate frames (see the module's notes on CRS)."""
        f = _Frames.read(gdf_demand, gdf_fac, demand_col, facility_col, distance_metric)
        return f.model(cls, service_radius, f.facility_values(predefined_facility_col), name)

    def solve(self, time_limit: float = 60.0) -> LocationResult:
        """Solve the set cover with HiGHS.

        Raises
        ------
        InfeasibleError
            A client has no facility within the radius.
        """
        t0 = time.perf_counter()
        within = self._within(self.service_radius)
        sites, obj, bound, status = _set_cover(
            within, self.predefined, siting.check_time_limit(time_limit)
        )
        if sites is None:
            raise InfeasibleError(_uncoverable_message(within, self.service_radius))
        fac2cli, cli2fac = _coverage_lists(within, sites, self.n_fac)
        gap = _gap(obj, bound)
        return self._result(
            "lscp",
            sites,
            fac2cli=fac2cli,
            cli2fac=cli2fac,
            objective=obj,
            bound=bound,
            gap=gap,
            solver="highs-mip",
            seconds=time.perf_counter() - t0,
            status=_status(gap, status),
            n_cli_uncov=0,
            perc_cov=100.0,
            meta={"pairs_within": int(within.nnz)},
        )


def _uncoverable_message(within: csr_array, radius: float) -> str:
    bad = np.flatnonzero(np.diff(within.indptr) == 0)
    return (
        f"service_radius {radius:g}: {len(bad)} client(s) have no facility within reach "
        f"(rows {', '.join(map(str, bad[:5]))}{' ...' if len(bad) > 5 else ''}); raise the "
        "radius or add candidates"
    )


def _set_cover(
    within: csr_array, predefined: np.ndarray, time_limit: float
) -> tuple[np.ndarray | None, float, float, str]:
    """Minimum set cover of the clients by facilities (HiGHS); None when a client is bare.

    Returns the open facilities (None: none found), their number, HiGHS's lower bound on
    that number and its model status.
    """
    n_cli, n_fac = within.shape
    if (np.diff(within.indptr) == 0).any():
        return None, math.nan, math.nan, "Infeasible"
    lo = np.zeros(n_fac)
    lo[predefined] = 1.0
    mip = _Mip(
        c=np.ones(n_fac),
        a=csc_array(within),
        row_lo=np.ones(n_cli),
        row_hi=np.full(n_cli, np.inf),
        col_lo=lo,
        col_hi=np.ones(n_fac),
        integer=np.ones(n_fac, dtype=bool),
    )
    x, _, bound, status = _solve_mip(mip, time_limit)
    if x is None:
        return None, math.nan, bound, status
    sites = np.flatnonzero(x > 0.5)
    return sites, float(len(sites)), bound, status


@dataclass(frozen=True)
class MCLP(_Base):
    """Maximal covering: ``p`` facilities covering the most client weight within the radius."""

    weights: np.ndarray = field(default_factory=lambda: np.zeros(0))
    service_radius: float = 0.0
    p_facilities: int = 1
    p_mode: str = "exactly"

    @classmethod
    def from_cost_matrix(
        cls,
        cost_matrix: Any,
        weights: Any,
        service_radius: float,
        p_facilities: int,
        predefined_facilities_arr: Any = None,
        name: str = "mclp",
        *,
        p_mode: PMode = "exactly",
    ) -> MCLP:
        """Build from a clients x facilities cost matrix and one weight per client."""
        base = _base_fields(cost_matrix, predefined_facilities_arr, name)
        n_cli, n_fac = base["cost"].shape
        return cls(
            **base,
            weights=_as_weights(weights, n_cli),
            service_radius=_check_radius(service_radius),
            p_facilities=_check_p(p_facilities, n_fac, len(base["predefined"]), p_mode, least=1),
            p_mode=p_mode,
        )

    @classmethod
    def from_geodataframe(
        cls,
        gdf_demand: gpd.GeoDataFrame,
        gdf_fac: gpd.GeoDataFrame,
        demand_col: str,
        facility_col: str,
        weights_cols: str | Sequence[str],
        service_radius: float,
        p_facilities: int,
        predefined_facility_col: str | None = None,
        distance_metric: str = "euclidean",
        **settings: Any,
    ) -> MCLP:
        """Build from demand and candidate frames (``settings``: ``name``, ``p_mode``)."""
        f = _Frames.read(gdf_demand, gdf_fac, demand_col, facility_col, distance_metric)
        return f.model(
            cls,
            f.weights(weights_cols),
            service_radius,
            p_facilities,
            f.facility_values(predefined_facility_col),
            **settings,
        )

    def solve(self, time_limit: float = 60.0, exact: bool | None = None) -> LocationResult:
        """Solve with :func:`geoapp.siting.maximise_coverage` (its MIP only if needed)."""
        t0 = time.perf_counter()
        time_limit = siting.check_time_limit(time_limit)
        within = self._within(self.service_radius)
        cover = csr_array(within.T)  # facilities x clients
        w = self.weights.copy()
        pre = self.predefined
        pre_cov = np.zeros(self.n_cli, dtype=bool)
        if len(pre):
            pre_cov[np.unique(csr_array(cover[pre]).indices)] = True
        pre_w = float(w[pre_cov].sum())
        w[pre_cov] = 0.0
        k = self.p_facilities - len(pre)
        meta: dict[str, Any] = {"pairs_within": int(within.nnz), "predefined": len(pre)}
        if k > 0 and w.sum() > 0:
            sol = siting.maximise_coverage(cover, w, k, time_limit_s=time_limit, exact=exact)
            chosen, obj, bound, solver = sol.chosen, sol.objective, sol.bound, sol.solver
            meta["solver_detail"] = sol.meta
        else:
            chosen, obj, bound, solver = np.zeros(0, dtype=np.int64), 0.0, 0.0, "predefined"
        sites = np.union1d(pre, chosen).astype(np.int64)
        if self.p_mode == "exactly":
            sites = _pad_exact(sites, self.p_facilities, self.n_fac, cover @ self.weights)
        fac2cli, cli2fac = _coverage_lists(within, sites, self.n_fac)
        n_unc = sum(1 for c in cli2fac if not c)
        covered_w = float(self.weights[[bool(c) for c in cli2fac]].sum())
        total = float(self.weights.sum())
        meta.update(covered_weight=covered_w, perc_weight=100.0 * covered_w / total if total else 0)
        objective, bound = pre_w + obj, pre_w + bound
        gap = _gap(objective, bound)
        return self._result(
            "mclp",
            sites,
            fac2cli=fac2cli,
            cli2fac=cli2fac,
            objective=objective,
            bound=bound,
            gap=gap,
            solver=solver,
            seconds=time.perf_counter() - t0,
            status=_status(gap),
            n_cli_uncov=n_unc,
            perc_cov=(1.0 - n_unc / self.n_cli) * 100.0,
            meta=meta,
        )


def _p_count_row(n_pairs: int, n_fac: int, p: int, p_mode: str) -> tuple[csr_array, float, float]:
    """Return the row ``sum_j y_j (== | <=) p`` (y columns after ``n_pairs`` x columns)."""
    row = csr_array(
        (np.ones(n_fac), (np.zeros(n_fac, dtype=np.int64), n_pairs + np.arange(n_fac))),
        shape=(1, n_pairs + n_fac),
    )
    return row, (float(p) if p_mode == "exactly" else 0.0), float(p)


def _assignment_blocks(cost: csr_array) -> tuple[np.ndarray, np.ndarray, csr_array, csr_array]:
    """Pair rows/cols, ``sum_j x_ij`` per client and ``x_ij - y_j`` per pair (x then y)."""
    n_cli, n_fac = cost.shape
    rows = np.repeat(np.arange(n_cli), np.diff(cost.indptr))
    cols = cost.indices.astype(np.int64)
    n_pairs = len(rows)
    assign = csr_array(
        (np.ones(n_pairs), (rows, np.arange(n_pairs))), shape=(n_cli, n_pairs + n_fac)
    )
    link = csr_array(
        (
            np.concatenate([np.ones(n_pairs), -np.ones(n_pairs)]),
            (np.tile(np.arange(n_pairs), 2), np.concatenate([np.arange(n_pairs), n_pairs + cols])),
        ),
        shape=(n_pairs, n_pairs + n_fac),
    )
    return rows, cols, assign, link


@dataclass(frozen=True)
class PMedian(_Base):
    """p-median: ``p`` facilities minimising the weighted cost of each client to its nearest."""

    weights: np.ndarray = field(default_factory=lambda: np.zeros(0))
    p_facilities: int = 1
    p_mode: str = "exactly"

    @classmethod
    def from_cost_matrix(
        cls,
        cost_matrix: Any,
        weights: Any,
        p_facilities: int,
        predefined_facilities_arr: Any = None,
        name: str = "p-median",
        *,
        p_mode: PMode = "exactly",
    ) -> PMedian:
        """Build from a clients x facilities cost matrix and one weight per client."""
        base = _base_fields(cost_matrix, predefined_facilities_arr, name)
        n_cli, n_fac = base["cost"].shape
        return cls(
            **base,
            weights=_as_weights(weights, n_cli),
            p_facilities=_check_p(p_facilities, n_fac, len(base["predefined"]), p_mode),
            p_mode=p_mode,
        )

    @classmethod
    def from_geodataframe(
        cls,
        gdf_demand: gpd.GeoDataFrame,
        gdf_fac: gpd.GeoDataFrame,
        demand_col: str,
        facility_col: str,
        weights_cols: str | Sequence[str],
        p_facilities: int,
        predefined_facility_col: str | None = None,
        distance_metric: str = "euclidean",
        **settings: Any,
    ) -> PMedian:
        """Build from demand and candidate frames (``settings``: ``name``, ``p_mode``)."""
        f = _Frames.read(gdf_demand, gdf_fac, demand_col, facility_col, distance_metric)
        return f.model(
            cls,
            f.weights(weights_cols),
            p_facilities,
            f.facility_values(predefined_facility_col),
            **settings,
        )

    def solve(self, time_limit: float = 60.0) -> LocationResult:
        """Solve the assignment MIP (pairs with a finite cost only) with HiGHS.

        Raises
        ------
        InfeasibleError
            A client has no finite cost to any facility.
        """
        t0 = time.perf_counter()
        time_limit = siting.check_time_limit(time_limit)
        cost = self.cost
        if (np.diff(cost.indptr) == 0).any():
            bad = np.flatnonzero(np.diff(cost.indptr) == 0)
            raise InfeasibleError(f"cost_matrix: client rows {bad[:5].tolist()} reach no facility")
        rows, cols, assign, link = _assignment_blocks(cost)
        n_pairs, n_fac = len(rows), self.n_fac
        prow, plo, phi = _p_count_row(n_pairs, n_fac, self.p_facilities, self.p_mode)
        a = vstack([assign, link, prow]).tocsc()
        ylo = np.zeros(n_fac)
        ylo[self.predefined] = 1.0
        mip = _Mip(
            c=np.concatenate([self.weights[rows] * cost.data, np.zeros(n_fac)]),
            a=a,
            row_lo=np.concatenate([np.ones(len(self.weights)), np.full(n_pairs, -np.inf), [plo]]),
            row_hi=np.concatenate([np.ones(len(self.weights)), np.zeros(n_pairs), [phi]]),
            col_lo=np.concatenate([np.zeros(n_pairs), ylo]),
            col_hi=np.ones(n_pairs + n_fac),
            integer=np.concatenate([np.zeros(n_pairs, dtype=bool), np.ones(n_fac, dtype=bool)]),
        )
        x, obj, bound, status = _solve_mip(mip, time_limit)
        if x is None:
            raise InfeasibleError(
                f"p-median with p = {self.p_facilities}: HiGHS found no solution ({status})"
            )
        sites = np.flatnonzero(x[n_pairs:] > 0.5)
        near, dist = _nearest_open(cost, sites)  # ties or fractional x: nearest open
        objective = float((self.weights * dist).sum())
        fac2cli, cli2fac = _assignment_lists(np.arange(self.n_cli), near, self.n_cli, n_fac)
        gap = _gap(objective, bound)
        total = float(self.weights.sum())
        return self._result(
            "pmedian",
            sites,
            fac2cli=fac2cli,
            cli2fac=cli2fac,
            objective=objective,
            bound=min(bound, objective),
            gap=gap,
            solver="highs-mip",
            seconds=time.perf_counter() - t0,
            status=_status(gap, status),
            mean_dist=objective / total if total else 0.0,
            meta={"pairs": n_pairs, "mip_status": status, "max_dist": float(dist.max())},
        )


@dataclass(frozen=True)
class PCenter(_Base):
    """p-center: ``p`` facilities minimising the largest client-to-nearest-facility cost."""

    p_facilities: int = 1
    p_mode: str = "exactly"

    @classmethod
    def from_cost_matrix(
        cls,
        cost_matrix: Any,
        p_facilities: int,
        predefined_facilities_arr: Any = None,
        name: str = "p-center",
        *,
        p_mode: PMode = "exactly",
    ) -> PCenter:
        """Build from a clients x facilities cost matrix."""
        base = _base_fields(cost_matrix, predefined_facilities_arr, name)
        n_fac = base["cost"].shape[1]
        return cls(
            **base,
            p_facilities=_check_p(p_facilities, n_fac, len(base["predefined"]), p_mode),
            p_mode=p_mode,
        )

    @classmethod
    def from_geodataframe(
        cls,
        gdf_demand: gpd.GeoDataFrame,
        gdf_fac: gpd.GeoDataFrame,
        demand_col: str,
        facility_col: str,
        p_facilities: int,
        predefined_facility_col: str | None = None,
        distance_metric: str = "euclidean",
        **settings: Any,
    ) -> PCenter:
        """Build from demand and candidate frames (``settings``: ``name``, ``p_mode``)."""
        f = _Frames.read(gdf_demand, gdf_fac, demand_col, facility_col, distance_metric)
        return f.model(cls, p_facilities, f.facility_values(predefined_facility_col), **settings)

    def solve(self, time_limit: float = 60.0) -> LocationResult:
        """Bisection over the distinct costs; each step a set cover with at most ``p`` open.

        Raises
        ------
        InfeasibleError
            A client reaches no facility.
        """
        t0 = time.perf_counter()
        deadline = t0 + siting.check_time_limit(time_limit)
        cost = self.cost
        p = self.p_facilities
        if (np.diff(cost.indptr) == 0).any():
            raise InfeasibleError("cost_matrix: a client reaches no facility; p-center undefined")
        radii = np.unique(cost.data)
        # the answer is at least each client's nearest cost; at the largest cost each client
        # is reached by every facility it can reach at all
        lo = int(np.searchsorted(radii, _row_min(cost).max()))
        hi = len(radii) - 1
        best_sites, n_open, _, status = _set_cover(
            self._within(float(radii[hi])), self.predefined, deadline - time.perf_counter()
        )
        if best_sites is None or n_open > p:
            raise InfeasibleError(
                f"p_facilities: {p} facilities cannot reach every client ({status}); "
                "raise p or add candidates"
            )
        steps, proven = 1, True
        while lo < hi:
            mid = (lo + hi) // 2
            left = deadline - time.perf_counter()
            if left <= 0:
                proven = False
                break
            sites, n_open, bnd, status = _set_cover(
                self._within(float(radii[mid])), self.predefined, left
            )
            steps += 1
            if sites is not None and n_open <= p:
                hi, best_sites = mid, sites
            elif bnd > p + 1e-6 or status == "Infeasible":
                lo = mid + 1
            else:  # undecided at the time limit
                proven = False
                break
        sites = best_sites
        if self.p_mode == "exactly":
            sites = _pad_exact(sites, p, self.n_fac, -_col_mean(cost))
        near, dist = _nearest_open(cost, sites)
        objective = float(dist.max())
        bound = float(radii[lo])  # every smaller radius needs more than p facilities
        fac2cli, cli2fac = _assignment_lists(np.arange(self.n_cli), near, self.n_cli, self.n_fac)
        gap = _gap(objective, min(bound, objective))
        return self._result(
            "pcenter",
            sites,
            fac2cli=fac2cli,
            cli2fac=cli2fac,
            objective=objective,
            bound=min(bound, objective),
            gap=gap,
            solver="highs-mip bisection",
            seconds=time.perf_counter() - t0,
            status=_status(gap, "Optimal" if proven and lo == hi else None),
            meta={"distinct_costs": len(radii), "set_cover_steps": steps},
        )


def _row_min(cost: csr_array) -> np.ndarray:
    out = np.full(cost.shape[0], np.inf)
    n = np.diff(cost.indptr)
    has = n > 0
    out[has] = np.minimum.reduceat(cost.data, cost.indptr[:-1][has])
    return out


def _col_mean(cost: csr_array) -> np.ndarray:
    csc = csc_array(cost)
    n = np.maximum(np.diff(csc.indptr), 1)
    return np.asarray(csc.sum(axis=0)).ravel() / n


@dataclass(frozen=True)
class CapacitatedMCLP(_Base):
    """Capacitated MCLP: at most ``p`` facilities, each serving at most its capacity.

    Maximises the client weight served within ``service_radius``. ``split=False``: each
    client is served whole by one facility or not at all; ``split=True``: a client's weight
    may be shared among facilities within reach.
    """

    weights: np.ndarray = field(default_factory=lambda: np.zeros(0))
    capacities: np.ndarray = field(default_factory=lambda: np.zeros(0))
    service_radius: float = 0.0
    p_facilities: int = 1
    p_mode: str = "at_most"
    split: bool = False

    @classmethod
    def from_cost_matrix(
        cls,
        cost_matrix: Any,
        weights: Any,
        service_radius: float,
        p_facilities: int,
        facility_capacities: Any,
        predefined_facilities_arr: Any = None,
        name: str = "cmclp",
        *,
        p_mode: PMode = "at_most",
        split: bool = False,
    ) -> CapacitatedMCLP:
        """Build from a cost matrix, client weights and one capacity per facility."""
        base = _base_fields(cost_matrix, predefined_facilities_arr, name)
        n_cli, n_fac = base["cost"].shape
        return cls(
            **base,
            weights=_as_weights(weights, n_cli),
            capacities=_as_weights(facility_capacities, n_fac, "facility_capacities"),
            service_radius=_check_radius(service_radius),
            p_facilities=_check_p(p_facilities, n_fac, len(base["predefined"]), p_mode),
            p_mode=p_mode,
            split=bool(split),
        )

    @classmethod
    def from_geodataframe(
        cls,
        gdf_demand: gpd.GeoDataFrame,
        gdf_fac: gpd.GeoDataFrame,
        demand_col: str,
        facility_col: str,
        weights_cols: str | Sequence[str],
        service_radius: float,
        p_facilities: int,
        facility_capacity_col: str,
        predefined_facility_col: str | None = None,
        **settings: Any,
    ) -> CapacitatedMCLP:
        """Build from frames (``settings``: ``distance_metric``, ``name``, ``p_mode``, ``split``)."""
        metric = settings.pop("distance_metric", "euclidean")
        f = _Frames.read(gdf_demand, gdf_fac, demand_col, facility_col, metric)
        return f.model(
            cls,
            f.weights(weights_cols),
            service_radius,
            p_facilities,
            f.facility_values(facility_capacity_col, "facility_capacity_col"),
            f.facility_values(predefined_facility_col),
            **settings,
        )

    def solve(self, time_limit: float = 60.0) -> LocationResult:
        """Solve the capacitated coverage MIP with HiGHS (pairs within the radius only)."""
        t0 = time.perf_counter()
        time_limit = siting.check_time_limit(time_limit)
        within = self._within(self.service_radius)
        rows, cols, assign, link = _assignment_blocks(within)
        n_pairs, n_fac, n_cli = len(rows), self.n_fac, self.n_cli
        w = self.weights
        # capacity: sum_i w_i x_ij - cap_j y_j <= 0
        capm = csr_array(
            (
                np.concatenate([w[rows], -self.capacities]),
                (
                    np.concatenate([cols, np.arange(n_fac)]),
                    np.concatenate([np.arange(n_pairs), n_pairs + np.arange(n_fac)]),
                ),
            ),
            shape=(n_fac, n_pairs + n_fac),
        )
        prow, plo, phi = _p_count_row(n_pairs, n_fac, self.p_facilities, self.p_mode)
        a = vstack([assign, link, capm, prow]).tocsc()
        ylo = np.zeros(n_fac)
        ylo[self.predefined] = 1.0
        mip = _Mip(
            c=np.concatenate([w[rows], np.zeros(n_fac)]),
            a=a,
            row_lo=np.concatenate([np.full(n_cli + n_pairs + n_fac, -np.inf), [plo]]),
            row_hi=np.concatenate([np.ones(n_cli), np.zeros(n_pairs + n_fac), [phi]]),
            col_lo=np.concatenate([np.zeros(n_pairs), ylo]),
            col_hi=np.ones(n_pairs + n_fac),
            integer=np.concatenate([np.full(n_pairs, not self.split), np.ones(n_fac, dtype=bool)]),
            maximise=True,
        )
        x, obj, bound, status = _solve_mip(mip, time_limit)
        if x is None:
            raise InfeasibleError(f"capacitated MCLP: HiGHS found no solution ({status})")
        share = x[:n_pairs]
        sites = np.flatnonzero(x[n_pairs:] > 0.5)
        used = share > 1e-9
        fac2cli, cli2fac = _assignment_lists(rows[used], cols[used], n_cli, n_fac)
        served = np.bincount(rows, weights=share * w[rows], minlength=n_cli)
        load = np.bincount(cols, weights=share * w[rows], minlength=n_fac)
        n_unc = sum(1 for c in cli2fac if not c)
        objective = float(served.sum())
        total = float(w.sum())
        gap = _gap(objective, bound)
        return self._result(
            "cmclp",
            sites,
            fac2cli=fac2cli,
            cli2fac=cli2fac,
            objective=objective,
            bound=max(bound, objective),
            gap=gap,
            solver="highs-mip",
            seconds=time.perf_counter() - t0,
            status=_status(gap, status),
            n_cli_uncov=n_unc,
            perc_cov=(1.0 - n_unc / n_cli) * 100.0,
            meta={
                "split": self.split,
                "served": served,
                "load": load,
                "perc_weight": 100.0 * objective / total if total else 0.0,
                "pairs_within": n_pairs,
                "mip_status": status,
            },
        )


__all__ = [
    "LSCP",
    "MCLP",
    "P_MODES",
    "CapacitatedMCLP",
    "InfeasibleError",
    "LocationResult",
    "PCenter",
    "PMedian",
]
