"""What-if scenarios: add, close or move facilities and see coverage change at once.

A :class:`Scenario` holds, for one region and layer, every demand point's distance to
its nearest facility and the coverage totals of every summary row (region, district,
zone type, settlement). It is built once (:meth:`Scenario.build`: demand is snapped to
the walking network ONCE and the first distances come from
:func:`geoapp.coverage.compute_access`); each edit returns a new Scenario (nothing is
ever changed in place) updated by one bounded search from the changed site:

* :meth:`Scenario.add`: one single-source search from the new site up to the search
  bound (:func:`geoapp.network.distances_from`); a point is reassigned where the new
  site is strictly nearer.
* :meth:`Scenario.remove`: only the demand whose nearest facility it was is searched
  again, with one bounded multi-source search (:func:`geoapp.network.nearest`) from
  the remaining facilities that can reach them (those within twice the bound of the
  closed site, found by one search from it).
* :meth:`Scenario.move`: a removal and an add under the same id.

Only the changed points' summary rows are updated, so an edit and a summary cost the
area the site reaches, not the region. :meth:`Scenario.access` and
:meth:`Scenario.summary` return the same frames as
:func:`geoapp.coverage.compute_access` and :func:`geoapp.coverage.coverage_summary`
for the current facilities (tests check it after random edits). On an exact tie
between two facilities the nearest-facility id may be either (the distance is the
same).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any, cast

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree

from geoapp import coverage, network
from geoapp.catalog import Layer, radius_label
from geoapp.crs import local_crs
from geoapp.demand import Demand
from geoapp.errors import InputError
from geoapp.inputs import as_layer, as_region, region_demand
from geoapp.layers import select_features
from geoapp.region import OUTSIDE_DISTRICTS, Region
from geoapp.spec import RegionSpec

log = logging.getLogger(__name__)

WGS84 = "EPSG:4326"
#: Search bound as a multiple of the layer's largest radius (as ``workflow.analyse_layer``).
SEARCH_FACTOR = 3.0
#: Values of the ``scenario_action`` column of :attr:`Scenario.facilities`.
ACTIONS = ("existing", "added", "moved")
#: Summary levels reported by :meth:`Scenario.changes`.
CHANGE_LEVELS = ("region", "district", "zone_type", "settlement")
#: Prefix of the ids of added facilities: ``new-1``, ``new-2`` ...
NEW_PREFIX = "new-"


@dataclass(frozen=True)
class Edit:
    """One edit of a scenario (kept in :attr:`Scenario.edits`)."""

    action: str  # "add" | "remove" | "move"
    facility_id: str
    lon: float = float("nan")
    lat: float = float("nan")
    name: str = ""
    capacity: float = float("nan")


@dataclass(frozen=True, eq=False)
class _Base:
    """What every scenario of one build shares (read-only)."""

    region: Region
    layer: Layer
    mode: str
    speed_kmh: float
    limit_m: float
    graph: network.WalkGraph | None
    demand: gpd.GeoDataFrame
    dsnap: network.Snapped | None
    tindex: network.TargetIndex | None
    crs: Any
    dxy: np.ndarray  # demand points in crs (NaN where missing)
    dtree: cKDTree | None  # over the valid demand points
    dok: np.ndarray  # positions of the valid demand points
    weights: np.ndarray  # (n, 3): pop, pop_60plus, settled-area share
    rows: np.ndarray  # (n, levels): summary row of each point per level (-1 none)
    district: np.ndarray
    zone: np.ndarray
    settlement: np.ndarray | None
    boundaries: gpd.GeoDataFrame | None
    btree: shapely.STRtree | None
    bnames: np.ndarray
    summary0: pd.DataFrame
    row_of: dict[tuple[str, str], int]
    radii: tuple[float, ...]
    labels: tuple[str, ...]
    outside_demand: bool
    outside_row: bool
    initial: gpd.GeoDataFrame
    to_local: Transformer | None  # EPSG:4326 -> crs
    to_graph: Transformer | None  # EPSG:4326 -> graph.crs
    columns: dict[str, Any]  # summary0's columns as arrays (the parts an edit never changes)
    level: np.ndarray  # summary0's level column
    geom_name: str  # geometry column of the facility frames


@dataclass(frozen=True, eq=False)
class Scenario:
    """A what-if state of one layer's facilities (immutable; edits return new ones).

    Attributes
    ----------
    facilities
        Current facilities, EPSG:4326: ``facility_id`` (str, unique), ``name``,
        ``capacity`` (float, NaN unknown), ``scenario_action`` (``"existing"`` |
        ``"added"`` | ``"moved"``), geometry, plus the input columns.
    removed
        Closed facilities of the starting set (their original rows), EPSG:4326.
    edits
        The edits from the starting state, in order.
    """

    _b: _Base
    edits: tuple[Edit, ...]
    _kept: np.ndarray  # positions in the starting set still in place (not moved)
    _extra: tuple[dict[str, Any], ...]  # added or moved facilities (attributes, geometry)
    _removed_pos: tuple[int, ...]  # positions in the starting set that were closed
    _fids: tuple[str, ...]  # current ids: kept, then extra
    _dist: np.ndarray
    _code: np.ndarray  # nearest facility per point: index into _ids, -1 none
    _ids: tuple[str, ...]
    _fsnap: network.Snapped | None  # aligned with facilities (network mode)
    _fxy: np.ndarray  # facility points in crs, aligned with facilities
    _frows: np.ndarray  # (n_fac, 3) summary rows (district, zone, settlement), -1 none
    _cov: np.ndarray  # (rows, radii, 3) covered pop, pop_60plus, settled area
    _nfac: np.ndarray  # facilities per summary row
    _next_new: int
    _previous: Scenario | None = None
    _cache: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ build

    @classmethod
    def build(
        cls,
        region: Region | RegionSpec | str,
        layer: Layer | str,
        *,
        demand: Demand | gpd.GeoDataFrame | None = None,
        graph: network.WalkGraph | None = None,
        facilities: gpd.GeoDataFrame | None = None,
        speed_kmh: float | None = None,
        mode: str = "network",
        max_dist_m: float | None = None,
    ) -> Scenario:
        """Start a scenario from the region's facilities of ``layer``.

        Parameters
        ----------
        region
            The region (its ``boundaries`` group the summary, its ``features`` give the
            facilities): a :class:`~geoapp.region.Region`, a
            :class:`~geoapp.spec.RegionSpec` or a preset name (``"demo"``), as
            ``geoapp.analyse`` takes it.
        layer
            The catalog layer or its id; resolved at the walking speed
            (``layer.at_speed``).
        demand
            ``workflow.prepare_demand(region)`` (a :class:`~geoapp.demand.Demand`)
            or its ``points``. None: :func:`geoapp.inputs.region_demand` (the demand
            ``geoapp.analyse`` uses: ``prepare_demand``'s, kept for the region object
            and cached on disk).
        graph
            ``workflow.get_graph(region)``; None builds it from the region's streets
            (network mode).
        facilities
            The starting facilities; None: the layer's features in the region.
        speed_kmh
            Walking speed; None: the layer's default, else the adult preset (4.5).
        mode
            ``"network"`` or ``"euclidean"``.
        max_dist_m
            Search bound in metres; None: the layer's largest radius (or target), all
            that the summary and the changes need, so each edit searches only that far
            from the changed site. Distances beyond the bound are ``inf`` in
            :meth:`access`; pass ``SEARCH_FACTOR * layer.max_radius_m`` for the same
            distance table as ``workflow.analyse_layer`` (each edit then searches three
            times as far: about 7x slower on a city-sized network).

        Raises
        ------
        InputError
            Unknown mode, no streets in network mode, duplicate facility ids, bad speed.
        """
        if mode not in coverage.MODES:
            raise InputError(f"Scenario: mode {mode!r} is unknown; use one of {coverage.MODES}")
        layer = as_layer(layer, region)
        region = as_region(region)
        speed = speed_kmh if speed_kmh is not None else layer.speed_kmh
        speed = float(speed if speed is not None else coverage.WALK_SPEED_KMH)
        if not np.isfinite(speed) or speed <= 0:
            raise InputError(f"Scenario: walking speed {speed_kmh!r} km/h must be positive")
        layer = layer.at_speed(speed)
        if isinstance(demand, Demand):
            points = demand.points
        elif demand is None:
            points = region_demand(region).points
        else:
            points = demand
        if mode == "network" and graph is None:
            if len(region.edges) == 0:
                raise InputError(
                    f"Scenario: region {region.name!r} has no walking network; use "
                    "mode='euclidean' or load an extract with streets"
                )
            graph = network.cached_graph(region.nodes, region.edges)
        limit = float(max_dist_m) if max_dist_m is not None else layer.max_radius_m
        if not np.isfinite(limit) or limit <= 0:
            raise InputError(f"Scenario: max_dist_m {max_dist_m!r} must be a positive number")
        fac = select_features(region.features, layer) if facilities is None else facilities
        fac = _normalise_facilities(fac)

        net = cast(network.WalkGraph, graph)  # given or built above when mode is "network"
        dsnap = network.snap(net, points) if mode == "network" else None
        access = coverage.compute_access(
            points,
            fac,
            graph=graph,
            mode=mode,
            max_dist_m=limit,
            speed_kmh=speed,
            layer_id=layer.id,
            demand_snap=dsnap,
        )
        boundaries = region.boundaries if len(region.boundaries) else None
        summary0 = coverage.coverage_summary(access, layer, boundaries=boundaries, facilities=fac)

        crs = local_crs(points) if len(points) else local_crs(fac) if len(fac) else None
        dxy = _xy(points, crs)
        dok = np.flatnonzero(np.isfinite(dxy[:, 0]))
        dtree = cKDTree(dxy[dok]) if len(dok) else None
        pop = pd.to_numeric(points["pop"], errors="coerce").fillna(0).to_numpy(float)
        pop60 = pd.to_numeric(points["pop_60plus"], errors="coerce").fillna(0).to_numpy(float)
        weights = np.column_stack([pop, pop60, _settled_area_weights(points, pop)])
        district = _text(points, "district", OUTSIDE_DISTRICTS)
        zone = _text(points, "zone_type", "unknown")
        settlement = (
            _text(points, "settlement", "unknown") if "settlement" in points.columns else None
        )
        row_of = {
            (str(lv), str(g)): i
            for i, (lv, g) in enumerate(zip(summary0["level"], summary0["group"], strict=True))
        }
        levels = [
            np.zeros(len(points), dtype=np.int64),
            _rows(row_of, "district", district),
            _rows(row_of, "zone_type", zone),
        ]
        if settlement is not None:
            levels.append(_rows(row_of, "settlement", settlement))
        rows = np.column_stack(levels)
        btree = None
        bnames = np.zeros(0, dtype=object)
        if boundaries is not None and crs is not None:
            btree = shapely.STRtree(boundaries.geometry.to_crs(crs).to_numpy())
            bnames = _text(boundaries, "district", OUTSIDE_DISTRICTS)
        radii = tuple(float(r) for r in layer.radii_m)
        labels = tuple(_label(summary0, layer, r) for r in radii)
        outside_row = ("district", OUTSIDE_DISTRICTS) in row_of
        base = _Base(
            region=region,
            layer=layer,
            mode=mode,
            speed_kmh=speed,
            limit_m=limit,
            graph=graph,
            demand=points,
            dsnap=dsnap,
            tindex=network.index_targets(net, dsnap) if dsnap is not None else None,
            crs=crs,
            dxy=dxy,
            dtree=dtree,
            dok=dok,
            weights=weights,
            rows=rows,
            district=district,
            zone=zone,
            settlement=settlement,
            boundaries=boundaries,
            btree=btree,
            bnames=bnames,
            summary0=summary0,
            row_of=row_of,
            radii=radii,
            labels=labels,
            outside_demand=bool((district == OUTSIDE_DISTRICTS).any()),
            outside_row=outside_row,
            initial=fac,
            to_local=Transformer.from_crs(WGS84, crs, always_xy=True) if crs is not None else None,
            to_graph=(
                Transformer.from_crs(WGS84, graph.crs, always_xy=True)
                if graph is not None
                else None
            ),
            columns={c: summary0[c].array.copy() for c in summary0.columns},
            level=summary0["level"].to_numpy(dtype=object),
            geom_name=str(fac.geometry.name),
        )
        ids = tuple(str(x) for x in fac["facility_id"])
        code_of = {fid: i for i, fid in enumerate(ids)}
        fids = access["facility_id"].astype(str).to_numpy(dtype=object)
        code = np.array([code_of.get(f, -1) for f in fids], dtype=np.int64)
        dist = access["dist_m"].to_numpy(float).copy()
        fxy = _xy(fac, crs) if crs is not None else np.zeros((len(fac), 2))
        frows = _place(base, fxy)
        cov = np.zeros((len(summary0), len(radii), 3))
        _accumulate(base, cov, np.arange(len(points)), dist, +1.0)
        nfac = np.zeros(len(summary0), dtype=np.int64)
        _count(nfac, frows, +1)
        scn = cls(
            _b=base,
            edits=(),
            _kept=_frozen(np.arange(len(fac))),
            _extra=(),
            _removed_pos=(),
            _fids=ids,
            _dist=_frozen(dist),
            _code=_frozen(code),
            _ids=ids,
            _fsnap=network.snap(net, fac) if mode == "network" else None,
            _fxy=_frozen(fxy),
            _frows=_frozen(frows),
            _cov=_frozen(cov),
            _nfac=_frozen(nfac),
            _next_new=1,
        )
        log.info(
            "scenario for layer %r: %d demand points, %d facilities, bound %.0f m",
            layer.id,
            len(points),
            len(fac),
            limit,
        )
        return scn

    # ------------------------------------------------------------------ properties

    @property
    def layer(self) -> Layer:
        """The layer at the scenario's walking speed (radii in metres)."""
        return self._b.layer

    @property
    def region(self) -> Region:
        """The region."""
        return self._b.region

    @property
    def speed_kmh(self) -> float:
        """Walking speed, km/h."""
        return self._b.speed_kmh

    @property
    def limit_m(self) -> float:
        """Search bound in metres (farther is ``inf``)."""
        return self._b.limit_m

    @property
    def mode(self) -> str:
        """``"network"`` or ``"euclidean"``."""
        return self._b.mode

    @property
    def graph(self) -> network.WalkGraph | None:
        """The walking network (network mode)."""
        return self._b.graph

    @property
    def demand(self) -> gpd.GeoDataFrame:
        """The demand points (as given)."""
        return self._b.demand

    @property
    def facilities(self) -> gpd.GeoDataFrame:
        """Current facilities (EPSG:4326): the kept starting ones, then added / moved ones.

        Columns ``facility_id``, ``name``, ``capacity``, ``scenario_action`` and the
        starting table's columns (empty for added facilities). A new frame per call.
        """
        if "facilities" not in self._cache:
            base = self._b.initial.iloc[self._kept]
            if self._extra:
                attrs = pd.DataFrame(
                    [{k: v for k, v in e.items() if k != "geometry"} for e in self._extra]
                )
                ex = gpd.GeoDataFrame(
                    attrs, geometry=[e["geometry"] for e in self._extra], crs=WGS84
                )
                if base.geometry.name != "geometry":
                    ex = ex.rename_geometry(base.geometry.name)
                out = pd.concat([base, ex], ignore_index=True)
            else:
                out = base.reset_index(drop=True)
            self._cache["facilities"] = gpd.GeoDataFrame(
                out, geometry=base.geometry.name, crs=WGS84
            )
        return self._cache["facilities"].copy()

    @property
    def removed(self) -> gpd.GeoDataFrame:
        """Closed starting facilities (their original rows, EPSG:4326), in closing order."""
        return self._b.initial.iloc[list(self._removed_pos)].reset_index(drop=True)

    @property
    def facility_ids(self) -> tuple[str, ...]:
        """Ids of the current facilities (the order of :attr:`facilities`)."""
        return self._fids

    @property
    def initial(self) -> gpd.GeoDataFrame:
        """The starting facilities (normalised, ``scenario_action`` ``"existing"``)."""
        return self._b.initial

    # ------------------------------------------------------------------ edits

    def add(
        self,
        lon: float,
        lat: float,
        *,
        name: str | None = None,
        capacity: float | None = None,
    ) -> Scenario:
        """Return the scenario with a new facility at ``lon``/``lat`` (EPSG:4326).

        The new facility gets the id ``new-<k>`` (unique, never an existing id).

        Raises
        ------
        InputError
            If the coordinates are not finite WGS84 degrees, or ``capacity`` is not a
            finite number >= 0 (None: unknown).
        """
        lon, lat = _check_lonlat(lon, lat)
        capacity = _check_capacity(capacity)
        k = self._next_new
        taken = set(self._ids)
        while f"{NEW_PREFIX}{k}" in taken:
            k += 1
        fid = f"{NEW_PREFIX}{k}"
        cap = float("nan") if capacity is None else float(capacity)
        label = name if name is not None else fid
        edit = Edit("add", fid, lon, lat, label, cap)
        out = self._with_site(fid, lon, lat, name=label, capacity=cap, action="added")
        return out._evolve(edits=(*self.edits, edit), _next_new=k + 1, _previous=self)

    def remove(self, facility_id: str) -> Scenario:
        """Return the scenario with facility ``facility_id`` closed.

        Raises
        ------
        InputError
            If no current facility has that id.
        """
        fid = str(facility_id)
        out = self._without(fid)
        return out._evolve(edits=(*self.edits, Edit("remove", fid)), _previous=self)

    def move(self, facility_id: str, lon: float, lat: float) -> Scenario:
        """Return the scenario with facility ``facility_id`` moved to ``lon``/``lat``.

        The facility keeps its id, name and capacity; a starting facility is marked
        ``"moved"`` (an added one stays ``"added"``).
        """
        fid = str(facility_id)
        lon, lat = _check_lonlat(lon, lat)
        row = self._row(fid)
        action = "added" if row["scenario_action"] == "added" else "moved"
        name = str(row.get("name", ""))
        cap = float(row.get("capacity", float("nan")))
        out = self._without(fid, closing=False)
        out = out._with_site(fid, lon, lat, name=name, capacity=cap, action=action, like=row)
        edit = Edit("move", fid, lon, lat, name, cap)
        return out._evolve(edits=(*self.edits, edit), _previous=self)

    def undo(self) -> Scenario:
        """Return the scenario before the last edit (this one if there was none)."""
        return self._previous if self._previous is not None else self

    # ------------------------------------------------------------------ results

    def access(self) -> gpd.GeoDataFrame:
        """Return the access table, as :func:`geoapp.coverage.compute_access` would.

        Same columns and values for the current facilities: ``dist_m``,
        ``facility_id``, ``walk_min``, ``access_mode``, ``layer`` added to a copy of
        the demand.
        """
        out = self._b.demand.copy()
        out.attrs = {}
        n = len(out)
        ids = np.array(self._ids, dtype=object)
        fid = np.full(n, "", dtype=object)
        has = self._code >= 0
        fid[has] = ids[self._code[has]]
        out["dist_m"] = self._dist.astype(float)
        out["facility_id"] = pd.array(fid, dtype="str") if n else pd.array([], dtype="str")
        out["walk_min"] = coverage.walk_minutes(self._dist, self._b.speed_kmh)
        out["access_mode"] = self._b.mode
        out["layer"] = self._b.layer.id
        return out

    def summary(self) -> pd.DataFrame:
        """Return the coverage summary, as :func:`geoapp.coverage.coverage_summary` would.

        Built from the totals kept per summary row (only the edited points' rows
        change); when an edit changes the rows themselves (a facility placed outside
        every district where no such row existed, or the last one removed from it),
        the summary is recomputed in full.
        """
        b = self._b
        orow = b.row_of.get(("district", OUTSIDE_DISTRICTS), _NEW_OUTSIDE)
        outside_now = bool(len(self._frows)) and bool((self._frows[:, 0] == orow).any())
        if (b.outside_demand or outside_now) != b.outside_row:
            return coverage.coverage_summary(
                self.access(), b.layer, boundaries=b.boundaries, facilities=self.facilities
            )
        cols = dict(b.columns)
        pop, pop60, settled = (
            np.asarray(cols[c], dtype=float) for c in ("pop", "pop_60plus", "settled_km2")
        )
        for j, lab in enumerate(b.labels):
            # totals kept by adding and taking away: clear the rounding residue of an
            # emptied row (1e-9 of a resident or km² is nothing)
            cp, c6, ca = (
                np.where(np.abs(self._cov[:, j, q]) < 1e-9, 0.0, self._cov[:, j, q])
                for q in range(3)
            )
            cols[f"covered_pop_{lab}"] = cp
            cols[f"covered_pop_60plus_{lab}"] = c6
            cols[f"share_pop_{lab}"] = _share(cp, pop)
            cols[f"share_pop_60plus_{lab}"] = _share(c6, pop60)
            cols[f"share_area_{lab}"] = _share(ca, settled)
        total = len(self._fids)
        level = b.level
        nfac = self._nfac.copy()
        nfac[level == "region"] = total
        cols["n_facilities"] = pd.array(nfac, dtype="Int64")
        # pandas >= 3 copies on write, so sharing the unchanged columns is safe (and 3x faster)
        out = pd.DataFrame(cols, columns=list(b.summary0.columns), copy=not _COW)
        if float(b.layer.target_m) not in [float(r) for r in b.layer.radii_m]:
            # the status is judged at the target, which is no kept radius: in full
            return coverage.coverage_summary(
                self.access(), b.layer, boundaries=b.boundaries, facilities=self.facilities
            )
        # status and status_reason by the one rule of every summary (coverage.judge)
        return coverage.judge_summary(out, b.layer, has_facilities=total > 0)

    def changes(self) -> pd.DataFrame:
        """Before/after coverage per region, district, zone type and settlement.

        Returns
        -------
        pandas.DataFrame
            One row per group and radius: ``level``, ``group``, ``radius_m``,
            ``reach`` (the column label, e.g. ``"500"`` or ``"15min"``), ``is_target``,
            ``pop``, ``pop_60plus``, ``covered_pop_before``, ``covered_pop_after``,
            ``covered_pop_change``, ``covered_pop_60plus_before``,
            ``covered_pop_60plus_after``, ``covered_pop_60plus_change`` (residents,
            rounded to whole people), ``share_before_pct``, ``share_after_pct``
            (covered share of the layer's demand, %, one decimal) and
            ``share_change_pp`` (percentage points). "Before" is the starting state.
        """
        before, after = self._b.summary0, self.summary()
        dcol = self._b.layer.demand_column
        key = ["level", "group"]
        frames = []
        for r, lab in zip(self._b.radii, self._b.labels, strict=True):
            cols = [f"covered_pop_{lab}", f"covered_pop_60plus_{lab}", f"share_{dcol}_{lab}"]
            m = before[[*key, "pop", "pop_60plus", *cols]].merge(
                after[[*key, *cols]], on=key, how="outer", suffixes=("_before", "_after")
            )
            f = pd.DataFrame(
                {
                    "level": m["level"],
                    "group": m["group"],
                    "radius_m": float(r),
                    "reach": lab,
                    "is_target": abs(float(r) - float(self._b.layer.target_m)) < 1e-6,
                    "pop": m["pop"].fillna(0).round(0),
                    "pop_60plus": m["pop_60plus"].fillna(0).round(0),
                }
            )
            for what, c in (("covered_pop", cols[0]), ("covered_pop_60plus", cols[1])):
                b0 = m[f"{c}_before"].fillna(0.0)
                a0 = m[f"{c}_after"].fillna(0.0)
                f[f"{what}_before"] = b0.round(0)
                f[f"{what}_after"] = a0.round(0)
                f[f"{what}_change"] = (a0 - b0).round(0)
            sb = m[f"{cols[2]}_before"] * 100.0
            sa = m[f"{cols[2]}_after"] * 100.0
            f["share_before_pct"] = sb.round(1)
            f["share_after_pct"] = sa.round(1)
            f["share_change_pp"] = (sa - sb).round(1)
            frames.append(f)
        out = pd.concat(frames, ignore_index=True)
        order = {lv: i for i, lv in enumerate(CHANGE_LEVELS)}
        out["_o"] = out["level"].map(order).fillna(len(order))
        out = out.sort_values(["_o", "group", "radius_m"], kind="stable").drop(columns="_o")
        return out.reset_index(drop=True)

    def added(self) -> gpd.GeoDataFrame:
        """Return the facilities added or moved in this scenario (EPSG:4326)."""
        f = self.facilities
        return f[f["scenario_action"] != "existing"].copy()

    # ------------------------------------------------------------------ internals

    def _evolve(self, **changes: Any) -> Scenario:
        return dataclasses.replace(self, _cache={}, **changes)

    def _pos(self, fid: str) -> int:
        """Position of ``fid`` among the current facilities (raises when unknown)."""
        try:
            return self._fids.index(fid)
        except ValueError:
            raise InputError(
                f"Scenario: no current facility has facility_id {fid!r}; pick one of "
                f"scenario.facilities['facility_id'] ({len(self._fids)} facilities)"
            ) from None

    def _row(self, fid: str) -> dict[str, Any]:
        """Attributes (and geometry) of the current facility ``fid``."""
        i = self._pos(fid)
        if i < len(self._kept):
            return self._b.initial.iloc[int(self._kept[i])].to_dict()
        return dict(self._extra[i - len(self._kept)])

    def _with_site(
        self,
        fid: str,
        lon: float,
        lat: float,
        *,
        name: str,
        capacity: float,
        action: str,
        like: dict[str, Any] | None = None,
    ) -> Scenario:
        b = self._b
        site_xy = np.array([b.to_local.transform(lon, lat)]) if b.to_local is not None else None
        ids = self._ids if fid in self._ids else (*self._ids, fid)
        c = ids.index(fid)
        dist = self._dist.copy()
        code = self._code.copy()
        fsnap = None
        if b.mode == "network":
            assert b.graph is not None and b.to_graph is not None  # network mode
            fsnap = network.snap_xy(b.graph, np.array([b.to_graph.transform(lon, lat)]))
            m = network.distances_from(b.graph, fsnap, b.tindex, b.limit_m)
            idx, d = m.indices.astype(np.int64), m.data
        else:
            xy = site_xy
            if b.dtree is None:
                idx, d = np.zeros(0, np.int64), np.zeros(0)
            else:
                assert xy is not None  # euclidean mode: to_local is set
                near = np.asarray(b.dtree.query_ball_point(xy[0], b.limit_m), dtype=np.int64)
                idx = b.dok[near]
                d = np.hypot(*(b.dxy[idx] - xy[0]).T)
                ok = d <= b.limit_m
                idx, d = idx[ok], d[ok]
        better = d < dist[idx]
        idx, d = idx[better], d[better]
        cov = self._cov.copy()
        _accumulate(b, cov, idx, dist[idx], -1.0)
        dist[idx] = d
        code[idx] = c
        _accumulate(b, cov, idx, d, +1.0)

        row: dict[str, Any] = {} if like is None else dict(like)
        row.pop(b.geom_name, None)
        row.update(facility_id=fid, name=name, capacity=capacity, scenario_action=action)
        row["geometry"] = shapely.Point(lon, lat)
        fxy = np.vstack([self._fxy, site_xy]) if site_xy is not None else self._fxy
        frow = _place(b, fxy[-1:])
        nfac = self._nfac.copy()
        _count(nfac, frow, +1)
        if fsnap is not None and self._fsnap is not None:
            fs = self._fsnap
            fsnap = network.Snapped(
                np.concatenate([fs.edge, fsnap.edge]),
                np.concatenate([fs.along_m, fsnap.along_m]),
                np.concatenate([fs.access_m, fsnap.access_m]),
                fs.graph_key,
            )
        log.debug(
            "scenario: %s at %.6f, %.6f reaches %d nearer demand points", fid, lon, lat, len(idx)
        )
        return self._evolve(
            _extra=(*self._extra, row),
            _fids=(*self._fids, fid),
            _dist=_frozen(dist),
            _code=_frozen(code),
            _ids=ids,
            _fsnap=fsnap,
            _fxy=_frozen(fxy),
            _frows=_frozen(np.vstack([self._frows, frow])),
            _cov=_frozen(cov),
            _nfac=_frozen(nfac),
        )

    def _without(self, fid: str, *, closing: bool = True) -> Scenario:
        b = self._b
        i = self._pos(fid)
        keep = np.ones(len(self._fids), dtype=bool)
        keep[i] = False
        nk = len(self._kept)
        c = self._ids.index(fid)
        affected = np.flatnonzero(self._code == c)
        rest_ids = tuple(f for f in self._fids if f != fid)
        pos_of = {f: j for j, f in enumerate(self._ids)}
        rest_code = np.array([pos_of[f] for f in rest_ids], dtype=np.int64)
        dist = self._dist.copy()
        code = self._code.copy()
        cov = self._cov.copy()
        fsnap = self._fsnap.take(keep) if self._fsnap is not None else None
        fxy = self._fxy[keep]
        if len(affected):
            nd, nf = self._research(affected, fxy, fsnap, i)
            _accumulate(b, cov, affected, dist[affected], -1.0)
            dist[affected] = nd
            code[affected] = rest_code[nf] if len(rest_code) else -1
            code[affected[nf < 0]] = -1
            _accumulate(b, cov, affected, nd, +1.0)
        nfac = self._nfac.copy()
        _count(nfac, self._frows[~keep], -1)
        kept, extra, removed = self._kept, self._extra, self._removed_pos
        if i < nk:
            kept = kept[np.arange(nk) != i]
            if closing:
                removed = (*removed, int(self._kept[i]))
        else:
            extra = extra[: i - nk] + extra[i - nk + 1 :]
            if closing and self._extra[i - nk]["scenario_action"] == "moved":
                hit = np.flatnonzero(b.initial["facility_id"].to_numpy() == fid)
                removed = (*removed, *(int(h) for h in hit))
        log.debug("scenario: closing %s re-searched %d demand points", fid, len(affected))
        return self._evolve(
            _kept=_frozen(kept),
            _extra=extra,
            _removed_pos=removed,
            _fids=rest_ids,
            _dist=_frozen(dist),
            _code=_frozen(code),
            _fsnap=fsnap,
            _fxy=_frozen(fxy),
            _frows=_frozen(self._frows[keep]),
            _cov=_frozen(cov),
            _nfac=_frozen(nfac),
        )

    def _research(
        self,
        affected: np.ndarray,
        rest_xy: np.ndarray,
        rest_snap: network.Snapped | None,
        gone: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Nearest remaining facility of the ``affected`` points (positions among the rest)."""
        b = self._b
        n = len(affected)
        none = np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
        if len(rest_xy) == 0:
            return none
        if b.mode == "euclidean":
            pts = gpd.GeoSeries(shapely.points(b.dxy[affected]), crs=b.crs)
            fac = gpd.GeoSeries(shapely.points(rest_xy), crs=b.crs)
            return network.euclidean_nearest(pts, fac, b.limit_m, crs=b.crs)
        # only facilities within twice the bound of the closed site can reach its demand
        cand = np.arange(len(rest_xy))
        # network mode: the graph and every snap are set
        assert b.graph is not None and b.dsnap is not None and self._fsnap is not None
        assert rest_snap is not None
        if len(cand) > 32:
            site = self._fsnap.take(np.array([gone]))
            m = network.distances_from(b.graph, site, rest_snap, 2.0 * b.limit_m)
            cand = np.sort(m.indices.astype(np.int64))
            if len(cand) == 0:
                return none
        d, f = network.nearest(b.graph, b.dsnap.take(affected), rest_snap.take(cand), b.limit_m)
        return d, np.where(f >= 0, cand[np.maximum(f, 0)], -1)


# --------------------------------------------------------------------------- helpers

#: pandas copies on write (pandas >= 3): frames may share arrays safely.
_COW = int(pd.__version__.split(".")[0]) >= 3
#: Placeholder summary row of a facility inside no district when that row is missing.
_NEW_OUTSIDE = -2


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    a.flags.writeable = False
    return a


def _check_lonlat(lon: float, lat: float) -> tuple[float, float]:
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError):
        lon = lat = float("nan")
    if not (np.isfinite(lon) and np.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise InputError(
            f"Scenario: site ({lon!r}, {lat!r}) is not a WGS84 longitude/latitude; give "
            "degrees, longitude first (e.g. 116.40, 39.91)"
        )
    return lon, lat


def _check_capacity(capacity: object) -> float | None:
    """Return ``capacity`` (beds or places) as a float; None stays None (unknown)."""
    if capacity is None:
        return None
    try:
        value = float(capacity)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(capacity, bool) or not (np.isfinite(value) and value >= 0):
        raise InputError(
            f"Scenario.add: capacity={capacity!r} must be a number of beds or places >= 0 "
            "(e.g. capacity=120), or None when unknown"
        )
    return value


def _normalise_facilities(fac: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the facilities in EPSG:4326 with ``facility_id``, ``name``, ``capacity``."""
    if len(fac) and fac.crs is None:
        raise InputError("Scenario: the facilities have no coordinate reference system; set one")
    out = fac.to_crs(WGS84) if fac.crs is not None else fac.set_crs(WGS84)
    out = out.reset_index(drop=True).copy()
    out["facility_id"] = coverage.facility_ids(out).astype(str)
    dup = out["facility_id"][out["facility_id"].duplicated()].unique()
    if len(dup):
        raise InputError(
            f"Scenario: facility_id is not unique ({', '.join(map(str, dup[:5]))} repeat); "
            "give every facility its own id in the facility table"
        )
    out["name"] = (
        out["name"].astype(object).where(out["name"].notna(), "").astype(str)
        if "name" in out.columns
        else ""
    )
    out["capacity"] = (
        pd.to_numeric(out["capacity"], errors="coerce").astype(float)
        if "capacity" in out.columns
        else np.nan
    )
    out["scenario_action"] = "existing"
    return gpd.GeoDataFrame(out, geometry=out.geometry.name, crs=WGS84)


def _xy(frame: gpd.GeoDataFrame, crs: Any) -> np.ndarray:
    """Return point coordinates in ``crs`` (polygons: point on surface); NaN where missing."""
    if len(frame) == 0:
        return np.zeros((0, 2))
    geoms = (
        (frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame).to_crs(crs).to_numpy()
    )
    not_point = (shapely.get_type_id(geoms) != 0) & ~shapely.is_missing(geoms)
    if not_point.any():
        geoms = geoms.copy()
        geoms[not_point] = shapely.point_on_surface(geoms[not_point])
    out = np.full((len(geoms), 2), np.nan)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if ok.any():
        out[ok] = shapely.get_coordinates(geoms[ok])[:, :2]
    return out


def _text(frame: pd.DataFrame, col: str, default: str) -> np.ndarray:
    """Labels as ``coverage_summary`` groups them (missing or empty -> ``default``)."""
    if col not in frame.columns:
        return np.full(len(frame), default, dtype=object)
    s = frame[col].astype(object).where(frame[col].notna(), default).astype(str)
    s = s.where(s != "", default)
    return s.to_numpy(dtype=object)


def _rows(row_of: dict[tuple[str, str], int], level: str, labels: np.ndarray) -> np.ndarray:
    uniq, inv = np.unique(labels.astype(str), return_inverse=True)
    look = np.array([row_of.get((level, u), -1) for u in uniq], dtype=np.int64)
    return look[inv.reshape(-1)] if len(labels) else np.zeros(0, dtype=np.int64)


def _label(summary: pd.DataFrame, layer: Layer, radius: float) -> str:
    """Column suffix the summary uses for ``radius`` (``layer.label_of`` or metres)."""
    lab = layer.label_of(radius)
    if f"covered_pop_{lab}" in summary.columns:
        return lab
    return radius_label(radius)


def _settled_area_weights(points: gpd.GeoDataFrame, pop: np.ndarray) -> np.ndarray:
    """Each point's share of settled area, km² (as ``coverage_summary`` defines it)."""
    w = np.zeros(len(points))
    inhabited = pop > 0
    if not inhabited.any():
        return w
    sub = points.loc[inhabited]
    if "h3" in sub.columns and sub["h3"].notna().all() and (sub["h3"] != "").all():
        cells = pd.Series(sub["h3"].astype(str).to_numpy(dtype=object))
    else:
        pts = shapely.point_on_surface(sub.geometry.to_crs(WGS84).to_numpy())
        xy = shapely.get_coordinates(pts)
        res = coverage.AREA_H3_RES
        cells = pd.Series([h3.latlng_to_cell(lat, lon, res) for lon, lat in xy], dtype=object)
    counts = cells.map(cells.value_counts())
    uniq = cells.unique()
    area = dict(zip(uniq, (h3.cell_area(c, unit="km^2") for c in uniq), strict=True))
    w[inhabited] = cells.map(area).to_numpy(float) / counts.to_numpy(float)
    return w


def _share(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Covered / residents, NaN where there are none, at most 1 (as ``coverage_summary``)."""
    out = np.full(len(num), np.nan)
    pos = den > 0
    out[pos] = np.minimum(num[pos] / den[pos], 1.0)
    return out


def _accumulate(b: _Base, cov: np.ndarray, idx: np.ndarray, dist: np.ndarray, sign: float) -> None:
    """Add (``sign`` +1) or take away (-1) the points ``idx`` at ``dist`` from ``cov``."""
    if len(idx) == 0:
        return
    nrow = cov.shape[0]
    w = b.weights[idx] * sign
    rows = b.rows[idx]
    for j, r in enumerate(b.radii):
        inside = dist <= r
        if not inside.any():
            continue
        ri = rows[inside].ravel()  # every level's row of each point inside
        ok = ri >= 0
        for q in range(3):
            wq = np.repeat(w[inside, q], rows.shape[1])
            cov[:, j, q] += np.bincount(ri[ok], weights=wq[ok], minlength=nrow)


def _place(b: _Base, fxy: np.ndarray) -> np.ndarray:
    """Summary rows (district, zone, settlement) counting each facility, -1 none.

    As ``coverage_summary``: with boundaries a facility counts in the district that
    contains it (the first listed on a shared edge; outside every district: the
    ``(outside districts)`` row), otherwise in the district of its nearest demand
    point; zone type and settlement always follow the nearest demand point.
    """
    k = len(fxy)
    out = np.full((k, 3), -1, dtype=np.int64)
    if k == 0:
        return out
    placed = np.isfinite(fxy[:, 0])
    near = np.full(k, -1, dtype=np.int64)
    if b.dtree is not None and placed.any():
        _, i = b.dtree.query(fxy[placed], k=1)
        near[placed] = b.dok[i]
    has = near >= 0
    if b.btree is not None:
        pts = shapely.points(fxy[placed])
        fi, bi = b.btree.query(pts, predicate="intersects")
        o = np.lexsort((bi, fi))
        fi, bi = fi[o], bi[o]
        where = np.full(int(placed.sum()), OUTSIDE_DISTRICTS, dtype=object)
        first = np.ones(len(fi), dtype=bool)
        first[1:] = fi[1:] != fi[:-1]
        where[fi[first]] = b.bnames[bi[first]]
        drow = np.array(
            [b.row_of.get(("district", str(w)), _NEW_OUTSIDE) for w in where], dtype=np.int64
        )
        out[placed, 0] = drow
    else:
        out[has, 0] = b.rows[near[has], 1]
    out[has, 1] = b.rows[near[has], 2]
    if b.rows.shape[1] > 3:
        out[has, 2] = b.rows[near[has], 3]
    return out


def _count(nfac: np.ndarray, frows: np.ndarray, sign: int) -> None:
    for lv in range(frows.shape[1]):
        r = frows[:, lv]
        r = r[r >= 0]
        np.add.at(nfac, r, sign)
