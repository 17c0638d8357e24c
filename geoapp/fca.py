"""The floating catchment area (FCA) family on a cost table.

Pure functions over a sparse origin-destination cost table (:class:`CostTable`): demand
locations are the origins, supply locations the destinations, and only the pairs in the
table exist (a pair missing from the table is out of reach). Costs may be asymmetric and
in any unit (metres, minutes): the weight functions and ``max_cost`` are in the same unit.

Methods, for demand ``P_i``, supply ``S_j``, weights ``w_ij = f(c_ij)`` on the pairs with
``c_ij <= max_cost``:

- :func:`two_step` (2SFCA, Luo & Wang 2003): ``R_j = S_j / sum_i w_ij P_i`` and
  ``A_i = sum_j w_ij R_j``. With :class:`Uniform` weights ``sum_i A_i P_i`` is the supply
  that reaches any demand.
- :func:`enhanced_two_step` (E2SFCA, Luo & Qi 2009): 2SFCA with a multi-zone
  :class:`Step` weight, by default the thirds of the reach weighted 1, 0.68 and 0.22.
- :func:`gravity` (gravity-based 2SFCA, Wang 2012): 2SFCA with a :class:`Gravity`
  weight ``(max(c, c_min) / scale) ** alpha``.
- :func:`three_step` (3SFCA, Wan, Zou & Sternberg 2012): the selection weight
  ``G_ij = w_ij / sum_k w_ik`` (over the supply in reach of ``i``) shares each
  resident's demand among the facilities it reaches, ``R_j = S_j / sum_i G_ij w_ij P_i``
  and ``A_i = sum_j G_ij w_ij R_j``.
- :func:`ratio` (the one-step floating catchment ratio): the supply within reach of a
  location over the demand within reach of it, ``sum_j w_ij S_j / sum_k w_ik P_k``
  (a second cost table from demand to demand gives the ``k``).

These are the definitions of PySAL ``access`` (``access.fca``); the tests check them
against it on its own test grids.

Several supply types at once: ``supply`` may be a 2-D array (one column per type) and
the result then has one column per type.

Where nothing is in reach
    ``A_i`` is **NaN** for a demand location with no pair within ``max_cost`` to a
    supply location of known (finite) supply: there is no catchment to measure, which is
    different from ``0`` (facilities in reach, none with supply left). A supply location
    whose weighted demand is 0 (no one, or no weight, in its catchment) has ratio NaN and
    adds nothing (``access`` would give ``inf``/NaN there). NaN supply means unknown: the
    location is left out of both steps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from geoapp.errors import InputError

#: Method names :func:`compute` takes (``supply --method`` in the CLI).
METHODS = ("2sfca", "e2sfca", "3sfca", "gravity")
#: E2SFCA's default zone weights (Luo & Qi 2009; PySAL access uses the same 1, 0.68, 0.22).
E2SFCA_WEIGHTS = (1.0, 0.68, 0.22)


# --------------------------------------------------------------------------- weights


class Weight(Protocol):
    """A distance-decay weight: costs in, weights (>= 0) out, vectorised."""

    def __call__(self, cost: np.ndarray) -> np.ndarray:  # pragma: no cover - protocol
        """Return the weight of each cost."""
        ...

    def describe(self) -> str:  # pragma: no cover - protocol
        """Return the weight in words, for metadata and reports."""
        ...


@dataclass(frozen=True)
class Uniform:
    """Weight 1 for every pair in reach (the 2SFCA of Luo & Wang 2003)."""

    def __call__(self, cost: np.ndarray) -> np.ndarray:
        """Return the weight of each cost."""
        return np.ones_like(np.asarray(cost, dtype=float))

    def describe(self) -> str:
        """Return the weight in words."""
        return "uniform (1 within the reach)"


@dataclass(frozen=True)
class Step:
    """Multi-zone step weight: ``steps`` are ``(upper cost, weight)``, inclusive bounds.

    A cost above the last bound weighs 0, as ``access.weights.step_fn``.
    """

    steps: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        if not self.steps:
            raise InputError("fca.Step: give at least one (upper cost, weight) zone")
        for bound, w in self.steps:
            if not (math.isfinite(bound) and math.isfinite(w) and w >= 0):
                raise InputError(
                    f"fca.Step: zone ({bound!r}, {w!r}) must have a finite bound and a "
                    "finite weight >= 0"
                )
        object.__setattr__(
            self, "steps", tuple(sorted((float(b), float(w)) for b, w in self.steps))
        )

    @classmethod
    def thirds(cls, reach: float, weights: Sequence[float] = E2SFCA_WEIGHTS) -> Step:
        """Equal zones up to ``reach``, weighted ``weights`` (E2SFCA's default)."""
        k = len(weights)
        return cls(tuple((reach * (i + 1) / k, float(w)) for i, w in enumerate(weights)))

    def __call__(self, cost: np.ndarray) -> np.ndarray:
        """Return the weight of each cost."""
        c = np.asarray(cost, dtype=float)
        bounds = np.array([b for b, _ in self.steps])
        values = np.append(np.array([w for _, w in self.steps]), 0.0)
        return values[np.searchsorted(bounds, c, side="left")]

    def describe(self) -> str:
        """Return the weight in words."""
        return "step " + ", ".join(f"<= {b:g}: {w:g}" for b, w in self.steps)


@dataclass(frozen=True)
class Gaussian:
    """``exp(-c² / 2σ²)``, 1 at cost 0 (``access.weights.gaussian``)."""

    sigma: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.sigma) and self.sigma > 0):
            raise InputError(f"fca.Gaussian: sigma {self.sigma!r} must be a finite number > 0")

    def __call__(self, cost: np.ndarray) -> np.ndarray:
        """Return the weight of each cost."""
        c = np.asarray(cost, dtype=float)
        return np.exp(-(c * c) / (2.0 * self.sigma**2))

    def describe(self) -> str:
        """Return the weight in words."""
        return f"Gaussian, sigma {self.sigma:g}"


@dataclass(frozen=True)
class ReachGaussian:
    """Gaussian that is 1 at the facility and 0 at the reach ``d0`` (Dai 2010).

    ``(exp(-c²/2d0²) - exp(-1/2)) / (1 - exp(-1/2))``, the ``decay="gaussian"`` of
    :func:`geoapp.sfca.two_step_fca`.
    """

    reach: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.reach) and self.reach > 0):
            raise InputError(f"fca.ReachGaussian: reach {self.reach!r} must be finite and > 0")

    def __call__(self, cost: np.ndarray) -> np.ndarray:
        """Return the weight of each cost."""
        c = np.asarray(cost, dtype=float)
        e = math.exp(-0.5)
        return np.clip((np.exp(-0.5 * (c / self.reach) ** 2) - e) / (1.0 - e), 0.0, 1.0)

    def describe(self) -> str:
        """Return the weight in words."""
        return f"Gaussian, 0 at the reach {self.reach:g}"


@dataclass(frozen=True)
class Gravity:
    """``(max(c, min_cost) / scale) ** alpha`` (``access.weights.gravity``; alpha < 0)."""

    scale: float
    alpha: float
    min_cost: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise InputError(f"fca.Gravity: scale {self.scale!r} must be finite and > 0")
        if not math.isfinite(self.alpha):
            raise InputError(f"fca.Gravity: alpha {self.alpha!r} must be finite")
        if not (math.isfinite(self.min_cost) and self.min_cost >= 0):
            raise InputError(f"fca.Gravity: min_cost {self.min_cost!r} must be finite and >= 0")

    def __call__(self, cost: np.ndarray) -> np.ndarray:
        """Return the weight of each cost."""
        c = np.maximum(np.asarray(cost, dtype=float), self.min_cost) / self.scale
        with np.errstate(divide="ignore"):
            w = np.power(c, self.alpha)
        if not np.isfinite(w).all():
            raise InputError(
                "fca.Gravity: a pair at cost 0 weighs infinitely with alpha < 0; "
                "set min_cost > 0 (e.g. the smallest cost that is meaningful)"
            )
        return w

    def describe(self) -> str:
        """Return the weight in words."""
        return f"gravity (max(c, {self.min_cost:g}) / {self.scale:g}) ^ {self.alpha:g}"


# --------------------------------------------------------------------------- cost table


@dataclass(frozen=True)
class CostTable:
    """A sparse table of costs from origins (demand) to destinations (supply).

    ``origin`` and ``dest`` are positions (0-based) in ``origin_ids`` / ``dest_ids``;
    a pair absent from the table is out of reach. Build it with :meth:`from_frame`
    (a long table, as PySAL access takes) or :meth:`from_matrix`.
    """

    origin: np.ndarray
    dest: np.ndarray
    cost: np.ndarray
    origin_ids: pd.Index
    dest_ids: pd.Index

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_origins, n_dests)``."""
        return len(self.origin_ids), len(self.dest_ids)

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        origins: Sequence[Any] | pd.Index,
        dests: Sequence[Any] | pd.Index,
        origin: str = "origin",
        dest: str = "dest",
        cost: str = "cost",
    ) -> CostTable:
        """Read a long cost table (one row per origin, destination and cost).

        Rows whose origin or destination is not among ``origins`` / ``dests`` are an
        error naming the first unknown ids (pass the full id lists); a missing, negative
        or NaN cost is an error naming the row. Duplicate pairs keep the smallest cost.
        """
        for col in (origin, dest, cost):
            if col not in frame.columns:
                raise InputError(
                    f"cost table: no column {col!r} (columns: "
                    f"{', '.join(map(str, frame.columns))}); name the origin, destination "
                    "and cost columns"
                )
        o_ids, d_ids = pd.Index(origins), pd.Index(dests)
        for ids, what in ((o_ids, "origins"), (d_ids, "destinations")):
            if not ids.is_unique:
                dup = ids[ids.duplicated()].unique()[:5].tolist()
                raise InputError(f"cost table: the {what} have duplicate ids {dup}")
        oi = o_ids.get_indexer(frame[origin])
        di = d_ids.get_indexer(frame[dest])
        for pos, col, what in ((oi, origin, "origins"), (di, dest, "destinations")):
            bad = np.flatnonzero(pos < 0)
            if len(bad):
                ex = frame[col].iloc[bad[:5]].tolist()
                raise InputError(
                    f"cost table: {len(bad):,} rows have a {col!r} that is not among the "
                    f"{what} (e.g. {ex}); give every id in the {what} list"
                )
        c = pd.to_numeric(frame[cost], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(c) | (c < 0))
        if len(bad):
            r = int(bad[0])
            raise InputError(
                f"cost table: row {r} has cost {frame[cost].iloc[r]!r}; every cost must be a "
                f"finite number >= 0 ({len(bad):,} rows are not); leave out pairs out of reach"
            )
        return cls._dedup(oi, di, c, o_ids, d_ids)

    @classmethod
    def from_matrix(
        cls,
        matrix: Any,
        *,
        origins: Sequence[Any] | pd.Index | None = None,
        dests: Sequence[Any] | pd.Index | None = None,
    ) -> CostTable:
        """Read a dense or sparse cost matrix.

        A dense ``(n_origins, n_dests)`` array marks pairs out of reach with ``inf`` or
        NaN; a SciPy sparse array's stored entries are the pairs (explicit zeros
        included).
        """
        canonical = False
        if hasattr(matrix, "row") and hasattr(matrix, "col"):  # COO: keep duplicates apart
            oi = np.asarray(matrix.row, dtype=np.int64)
            di = np.asarray(matrix.col, dtype=np.int64)
            c = np.asarray(matrix.data, dtype=float)
            n, m = matrix.shape
        elif hasattr(matrix, "tocsr"):
            csr = matrix.tocsr()
            # a canonical CSR array holds each pair once: no sort needed
            canonical = bool(getattr(csr, "has_canonical_format", False))
            n, m = csr.shape
            oi = np.repeat(np.arange(n, dtype=np.int64), np.diff(csr.indptr))
            di = np.asarray(csr.indices, dtype=np.int64)
            c = np.asarray(csr.data, dtype=float)
        else:
            arr = np.asarray(matrix, dtype=float)
            if arr.ndim != 2:
                raise InputError(f"cost matrix: expected 2 dimensions, got {arr.ndim}")
            n, m = arr.shape
            oi, di = np.nonzero(np.isfinite(arr))
            c = arr[oi, di]
        if (c < 0).any() or not np.isfinite(c).all():
            raise InputError("cost matrix: costs must be finite numbers >= 0")
        o_ids = pd.RangeIndex(n) if origins is None else pd.Index(origins)
        d_ids = pd.RangeIndex(m) if dests is None else pd.Index(dests)
        if len(o_ids) != n or len(d_ids) != m:
            raise InputError(
                f"cost matrix: shape {n}x{m} but {len(o_ids)} origins and {len(d_ids)} "
                "destinations were given"
            )
        if canonical:
            return cls(oi, di, c, o_ids, d_ids)
        return cls._dedup(oi, di, c, o_ids, d_ids)

    @classmethod
    def _dedup(
        cls, oi: np.ndarray, di: np.ndarray, c: np.ndarray, o_ids: pd.Index, d_ids: pd.Index
    ) -> CostTable:
        oi = np.asarray(oi, dtype=np.int64)
        di = np.asarray(di, dtype=np.int64)
        order = np.lexsort((c, di, oi))
        oi, di, c = oi[order], di[order], c[order]
        first = np.ones(len(oi), dtype=bool)
        first[1:] = (oi[1:] != oi[:-1]) | (di[1:] != di[:-1])
        return cls(oi[first], di[first], np.asarray(c[first], dtype=float), o_ids, d_ids)

    def within(self, max_cost: float | None) -> CostTable:
        """Keep the pairs with cost <= ``max_cost`` (all when None)."""
        if max_cost is None:
            return self
        keep = self.cost <= float(max_cost)
        return CostTable(
            self.origin[keep], self.dest[keep], self.cost[keep], self.origin_ids, self.dest_ids
        )


# --------------------------------------------------------------------------- methods


def _vector(values: Any, n: int, what: str, *, allow_2d: bool) -> np.ndarray:
    arr = np.asarray(pd.DataFrame(values) if isinstance(values, pd.DataFrame) else values)
    arr = arr.astype(float)
    if arr.ndim == 2 and not allow_2d:
        raise InputError(f"fca: {what} must be one value per location")
    if arr.shape[0] != n or arr.ndim not in (1, 2):
        raise InputError(f"fca: {what} has {arr.shape[0]} values but the cost table has {n}")
    if (arr[np.isfinite(arr)] < 0).any():
        raise InputError(f"fca: {what} has negative values")
    return arr


def _prepare(
    demand: Any, supply: Any, costs: CostTable, max_cost: float | None, weight: Weight | None
) -> tuple[np.ndarray, np.ndarray, CostTable, np.ndarray]:
    n, m = costs.shape
    p = _vector(demand, n, "demand", allow_2d=False)
    if np.isnan(p).any():
        raise InputError("fca: demand has NaN values; give 0 where nobody lives")
    s = _vector(supply, m, "supply", allow_2d=True)
    if max_cost is not None and not (
        isinstance(max_cost, int | float) and not math.isnan(max_cost)
    ):
        raise InputError(f"fca: max_cost {max_cost!r} must be a number")
    near = costs.within(max_cost)
    w = (Uniform() if weight is None else weight)(near.cost)
    if w.shape != near.cost.shape or not np.isfinite(w).all() or (w < 0).any():
        raise InputError("fca: the weight function must give finite weights >= 0")
    return p, s, near, np.asarray(w, dtype=float)


def _columns(s: np.ndarray) -> np.ndarray:
    return s if s.ndim == 2 else s[:, None]


def _one(
    p: np.ndarray, sk: np.ndarray, near: CostTable, w: np.ndarray, *, select: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both steps for one supply column: ``(A_i, R_j, weighted demand per j)``.

    ``select``: 3SFCA's selection weight, taken over the supply locations of known
    supply in reach of each demand location.
    """
    n, m = near.shape
    known = np.isfinite(sk)[near.dest]
    if select:
        g = np.zeros_like(w)
        g[known] = _selection(near.origin[known], w[known], n)
        w = g * w
    # the weighted demand in every catchment, whether its supply is known or not
    denom = np.bincount(near.dest, weights=w * p[near.origin], minlength=m).astype(float)
    o, d = near.origin[known], near.dest[known]
    ratio = np.full(m, np.nan)
    ok = (denom > 0) & np.isfinite(sk)
    ratio[ok] = sk[ok] / denom[ok]
    contrib = w[known] * np.where(np.isfinite(ratio[d]), ratio[d], 0.0)
    acc = np.full(n, np.nan)
    reached = np.bincount(o, minlength=n) > 0
    acc[reached] = np.bincount(o, weights=contrib, minlength=n)[reached]
    return acc, ratio, denom


def _selection(origin: np.ndarray, w: np.ndarray, n: int) -> np.ndarray:
    """3SFCA's ``G_ij = w_ij / sum_k w_ik`` (0 where the sum is 0)."""
    total = np.bincount(origin, weights=w, minlength=n)[origin]
    return np.divide(w, total, out=np.zeros_like(w), where=total > 0)


def _steps(
    p: np.ndarray, s: np.ndarray, near: CostTable, w: np.ndarray, *, select: bool = False
) -> np.ndarray:
    """Both steps for every supply column; NaN where nothing is in reach."""
    cols = [_one(p, sk, near, w, select=select)[0] for sk in _columns(s).T]
    return np.column_stack(cols) if s.ndim == 2 else cols[0]


def two_step(
    demand: Any,
    supply: Any,
    costs: CostTable,
    *,
    max_cost: float | None = None,
    weight: Weight | None = None,
) -> np.ndarray:
    """2SFCA: ``A_i`` per demand location (capacity per unit of demand in reach).

    Parameters
    ----------
    demand
        ``P_i``, one value per origin of ``costs`` (>= 0).
    supply
        ``S_j``, one value per destination, or a 2-D array with a column per supply
        type; NaN is unknown supply (left out).
    costs
        The cost table (:class:`CostTable`).
    max_cost
        The catchment: pairs with a larger cost are out of reach (None: every pair).
    weight
        Distance decay (:class:`Uniform` when None).

    Returns
    -------
    numpy.ndarray
        ``A_i`` (one column per supply type for 2-D ``supply``); NaN where no supply
        location of known supply is within reach.
    """
    p, s, near, w = _prepare(demand, supply, costs, max_cost, weight)
    return _steps(p, s, near, w)


def enhanced_two_step(
    demand: Any,
    supply: Any,
    costs: CostTable,
    *,
    max_cost: float,
    weight: Weight | None = None,
) -> np.ndarray:
    """E2SFCA (Luo & Qi 2009): 2SFCA with zone weights, by default :meth:`Step.thirds`."""
    if weight is None:
        weight = Step.thirds(float(max_cost))
    return two_step(demand, supply, costs, max_cost=max_cost, weight=weight)


def gravity(
    demand: Any,
    supply: Any,
    costs: CostTable,
    *,
    max_cost: float | None = None,
    weight: Gravity,
) -> np.ndarray:
    """Gravity-based 2SFCA (Wang 2012): 2SFCA with a :class:`Gravity` weight."""
    if not isinstance(weight, Gravity):
        raise InputError("fca.gravity: give weight=fca.Gravity(scale, alpha, min_cost)")
    return two_step(demand, supply, costs, max_cost=max_cost, weight=weight)


def three_step(
    demand: Any,
    supply: Any,
    costs: CostTable,
    *,
    max_cost: float | None = None,
    weight: Weight | None = None,
) -> np.ndarray:
    """3SFCA (Wan, Zou & Sternberg 2012): 2SFCA with the selection weight ``G_ij``.

    ``G_ij = w_ij / sum_k w_ik`` over the supply locations ``k`` of known supply in
    reach of ``i`` (0 when that sum is 0); both steps use ``G_ij w_ij``. Same parameters and NaN rule as
    :func:`two_step`.
    """
    p, s, near, w = _prepare(demand, supply, costs, max_cost, weight)
    return _steps(p, s, near, w, select=True)


def ratio(
    demand: Any,
    supply: Any,
    supply_costs: CostTable,
    demand_costs: CostTable,
    *,
    max_cost: float | None = None,
    weight: Weight | None = None,
) -> np.ndarray:
    """Compute the one-step floating catchment ratio at each demand location.

    ``sum_j w_ij S_j / sum_k w_ik P_k``: the supply within reach of location ``i``
    (``supply_costs``: demand -> supply) over the demand within reach of it
    (``demand_costs``: demand -> demand, the location itself included at cost 0 if
    given). NaN where no demand is within reach.
    """
    n, m = supply_costs.shape
    if demand_costs.shape != (n, n):
        raise InputError(
            f"fca.ratio: demand_costs must be {n}x{n} (demand to demand), got "
            f"{demand_costs.shape[0]}x{demand_costs.shape[1]}"
        )
    p, s, near_s, ws = _prepare(demand, supply, supply_costs, max_cost, weight)
    _, _, near_d, wd = _prepare(demand, np.zeros(n), demand_costs, max_cost, weight)
    den = np.bincount(near_d.origin, weights=wd * p[near_d.dest], minlength=n)
    s2 = _columns(s)
    out = np.full((n, s2.shape[1]), np.nan)
    for k in range(s2.shape[1]):
        sk = s2[:, k]
        known = np.isfinite(sk)[near_s.dest]
        num = np.bincount(
            near_s.origin[known], weights=ws[known] * sk[near_s.dest[known]], minlength=n
        )
        ok = den > 0
        out[ok, k] = num[ok] / den[ok]
    return out if s.ndim == 2 else out[:, 0]


def default_weight(method: str, reach: float, decay: str | None = None) -> Weight:
    """Return the weight :func:`compute` uses for ``method`` at catchment ``reach``.

    ``2sfca`` and ``3sfca``: uniform, or :class:`ReachGaussian` for
    ``decay="gaussian"``; ``e2sfca``: :meth:`Step.thirds`; ``gravity``:
    ``(max(c, reach/10) / reach) ** -1`` (inverse distance, 1 at the reach).
    """
    if method not in METHODS:
        raise InputError(f"fca: method {method!r}; use one of {', '.join(METHODS)}")
    if decay not in (None, "gaussian"):
        raise InputError(f"fca: decay {decay!r}; use None or 'gaussian'")
    if method == "e2sfca":
        return Step.thirds(reach)
    if method == "gravity":
        return Gravity(scale=reach, alpha=-1.0, min_cost=reach / 10.0)
    return ReachGaussian(reach) if decay == "gaussian" else Uniform()


def compute(
    method: str,
    demand: Any,
    supply: Any,
    costs: CostTable,
    *,
    max_cost: float | None,
    weight: Weight | None = None,
) -> np.ndarray:
    """Run one of :data:`METHODS` (``weight`` None: the method's usual weight)."""
    if method not in METHODS:
        raise InputError(f"fca: method {method!r}; use one of {', '.join(METHODS)}")
    if method == "3sfca":
        return three_step(demand, supply, costs, max_cost=max_cost, weight=weight)
    if method == "e2sfca":
        if max_cost is None:
            raise InputError("fca: e2sfca needs max_cost (the outer zone)")
        return enhanced_two_step(demand, supply, costs, max_cost=max_cost, weight=weight)
    if method == "gravity" and weight is None:
        if max_cost is None:
            raise InputError("fca: gravity without a weight needs max_cost to scale it")
        weight = default_weight("gravity", float(max_cost))
    return two_step(demand, supply, costs, max_cost=max_cost, weight=weight)


@dataclass(frozen=True)
class Result:
    """One supply type through :func:`solve`.

    Attributes
    ----------
    access
        ``A_i`` per demand location (NaN: nothing in reach).
    ratio
        ``R_j`` per supply location (NaN: unknown supply or no weighted demand).
    demand_in_reach
        The weighted demand ``sum_i w_ij P_i`` (3SFCA: ``sum_i G_ij w_ij P_i``) per
        supply location.
    method, weight
        The method (one of :data:`METHODS`) and a description of the weight.
    """

    access: np.ndarray
    ratio: np.ndarray
    demand_in_reach: np.ndarray
    method: str
    weight: str


def solve(
    method: str,
    demand: Any,
    supply: Any,
    costs: CostTable,
    *,
    max_cost: float | None,
    weight: Weight | None = None,
) -> Result:
    """:func:`compute` for one supply type, with each facility's ratio and demand."""
    if method not in METHODS:
        raise InputError(f"fca: method {method!r}; use one of {', '.join(METHODS)}")
    if weight is None:
        if max_cost is None and method in ("e2sfca", "gravity"):
            raise InputError(f"fca: {method} without a weight needs max_cost")
        weight = Uniform() if max_cost is None else default_weight(method, float(max_cost))
    p, s, near, w = _prepare(demand, supply, costs, max_cost, weight)
    if s.ndim != 1:
        raise InputError("fca.solve: one supply type at a time (use compute for several)")
    acc, ratio, denom = _one(p, s, near, w, select=method == "3sfca")
    return Result(acc, ratio, denom, method, weight.describe())
