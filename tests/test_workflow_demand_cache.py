"""prepare_demand's disk cache: the same inputs give the same Demand, any change recomputes."""

import pandas as pd
import pytest

from geoapp import workflow
from geoapp.sources.demo import demo_region


@pytest.fixture()
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("GEOAPP_CACHE_DIR", str(tmp_path))
    return tmp_path


def _same(a, b):
    pd.testing.assert_frame_equal(pd.DataFrame(a.points), pd.DataFrame(b.points))
    assert a.profile == b.profile and a.warnings == b.warnings
    assert a.zone_method == b.zone_method and a.zone_params == b.zone_params
    pd.testing.assert_frame_equal(a.quality, b.quality)


@pytest.mark.slow
def test_cached_demand_equals_a_fresh_estimate(cache_dir):
    region = demo_region()
    first = workflow.prepare_demand(region)
    again = workflow.prepare_demand(region)
    fresh = workflow.prepare_demand(region, cache=False)
    _same(first, again)
    _same(again, fresh)
    assert list((cache_dir / "demand").glob("demand-*.pkl"))


@pytest.mark.slow
def test_any_changed_input_recomputes(cache_dir):
    region = demo_region()
    base = workflow.prepare_demand(region)
    doubled = region.census.assign(pop=region.census["pop"] * 2)
    scaled = workflow.prepare_demand(region.with_(census=doubled))
    assert scaled.total == pytest.approx(2 * base.total)
    density = workflow.prepare_demand(region, zones="density")
    assert (density.points["zone_type"] == density.points["settlement"]).all()
    assert not (base.points["zone_type"] == base.points["settlement"]).all()
    fewer = workflow.prepare_demand(region.with_(buildings=region.buildings.iloc[::2]))
    assert len(fewer.points) < len(base.points)
    _same(base, workflow.prepare_demand(region))  # the first result is still right


@pytest.mark.slow
def test_a_broken_cache_file_is_recomputed(cache_dir):
    region = demo_region()
    good = workflow.prepare_demand(region)
    for f in (cache_dir / "demand").glob("demand-*.pkl"):
        f.write_bytes(b"not a pickle")
    _same(good, workflow.prepare_demand(region))


@pytest.mark.slow
@pytest.mark.parametrize("where", [0.01, 0.3, 0.6, 0.95])
def test_a_flipped_byte_gives_the_clean_result(cache_dir, where, caplog):
    """Issue 28: one flipped byte anywhere in the file is a miss (one warning), never a
    different figure, a traceback or a crash."""
    region = demo_region()
    good = workflow.prepare_demand(region)
    (f,) = (cache_dir / "demand").glob("demand-*.pkl")
    data = bytearray(f.read_bytes())
    data[int(len(data) * where)] ^= 0x04
    f.write_bytes(bytes(data))
    _same(good, workflow.prepare_demand(region))
    assert "computing it again" in caplog.text


@pytest.mark.slow
def test_a_stale_pickle_of_the_old_module_is_a_cache_miss(cache_dir):
    """A file written before Demand moved (geoapp.population.Demand) is recomputed."""
    region = demo_region()
    good = workflow.prepare_demand(region)
    files = list((cache_dir / "demand").glob("demand-*.pkl"))
    assert files
    for f in files:  # GLOBAL geoapp.population.Demand, called with no arguments
        f.write_bytes(b"cgeoapp.population\nDemand\n)R.")
    again = workflow.prepare_demand(region)
    _same(good, again)
    assert type(again).__module__ == "geoapp.demand.estimate"


@pytest.mark.slow
def test_the_key_covers_every_demand_module(cache_dir, monkeypatch):
    """Editing any module of the demand package (or hexes) must change the cache key."""
    from pathlib import Path

    import geoapp.demand

    read: list[Path] = []
    real = Path.read_bytes

    def spy(self):
        read.append(self.resolve())
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", spy)
    workflow.prepare_demand(demo_region())
    package = Path(geoapp.demand.__file__).resolve().parent
    expected = {*package.glob("*.py"), package.parent / "hexes.py", package.parent / "zones.py"}
    assert len(expected) > 5 and expected <= set(read)
