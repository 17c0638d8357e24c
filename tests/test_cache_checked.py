"""Cache files that check themselves: a damaged file is a miss, never a crash or a wrong value."""

import logging

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from geoapp.cache import CHECKED_MAGIC, dump_checked, load_checked

VALUE = {"dist_m": np.array([2861.0, 229.0, 17.5]), "frame": pd.DataFrame({"pop": [3, 4]})}


def _same(a, b):
    return np.array_equal(a["dist_m"], b["dist_m"]) and a["frame"].equals(b["frame"])


def test_roundtrip(tmp_path):
    path = dump_checked(VALUE, tmp_path / "x.pkl", version="1")
    assert path.read_bytes().startswith(CHECKED_MAGIC)
    assert _same(load_checked(path, version="1"), VALUE)


def test_missing_file_is_a_quiet_miss(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        assert load_checked(tmp_path / "none.pkl") is None
    assert not caplog.records


@settings(max_examples=60, deadline=None)
@given(frac=st.floats(0, 1, exclude_max=True), bit=st.integers(0, 7))
def test_any_flipped_bit_is_a_miss(tmp_path_factory, frac, bit):
    path = dump_checked(VALUE, tmp_path_factory.mktemp("c") / "x.pkl", version="1")
    data = bytearray(path.read_bytes())
    pos = int(frac * len(data))
    data[pos] ^= 1 << bit
    path.write_bytes(bytes(data))
    assert load_checked(path, version="1") is None  # never a different value, never a crash
    assert not path.exists()  # removed, so the next run writes it anew


def test_truncated_zeroed_other_version_and_wrong_type(tmp_path, caplog):
    path = tmp_path / "x.pkl"
    dump_checked(VALUE, path, version="1")
    full = path.read_bytes()
    cases = {
        "truncated": full[: len(full) // 2],
        "zeroed": bytes(len(full)),
        "empty": b"",
        "old pickle": b"\x80\x04K\x01.",
    }
    for _name, data in cases.items():
        path.write_bytes(data)
        assert load_checked(path, version="1") is None
    dump_checked(VALUE, path, version="1")
    with caplog.at_level(logging.WARNING, logger="geoapp.cache"):
        assert load_checked(path, version="2") is None
    assert "written by geoapp 1, not 2" in caplog.text
    dump_checked([1, 2], path, version="1")
    assert load_checked(path, version="1", kind=dict) is None


def test_app_disk_cache_recomputes_a_damaged_file(tmp_path, monkeypatch):
    from app_pages import disk

    monkeypatch.setenv("GEOAPP_CACHE_DIR", str(tmp_path))
    calls = []

    def compute():
        calls.append(1)
        return {"covered": 0.79}

    assert disk.cached("analysis", "demo", ("x",), compute) == {"covered": 0.79}
    (file,) = (tmp_path / "app").glob("*.pkl")
    data = bytearray(file.read_bytes())
    data[int(len(data) * 0.6)] ^= 0x10
    file.write_bytes(bytes(data))
    assert disk.cached("analysis", "demo", ("x",), compute) == {"covered": 0.79}
    assert len(calls) == 2  # recomputed, not read back wrong
    assert disk.cached("analysis", "demo", ("x",), compute) == {"covered": 0.79}
    assert len(calls) == 2  # the rewritten file is read
