"""Test-wide guards and tiers: no test touches the network; browser tests are slow.

Every socket connection to an address outside the loopback range, and every name
lookup other than localhost, fails at once with an error naming the guard. A test that
tried to reach OpenStreetMap would fail loudly here instead of depending on the network.

Every test marked ``browser`` is also marked ``slow``, so ``python -m pytest -m "not slow"``
(the fast tier, see tests/README.md) never starts Chromium.
"""

from __future__ import annotations

import ipaddress
import os
import socket

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


class NetworkBlockedError(OSError):
    """Raised when a test tries to reach a non-loopback address."""


def _is_local(host) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode()
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _check(sock: socket.socket, address) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
        raise NetworkBlockedError(
            f"tests must not touch the network: connection to {address!r} blocked"
        )


def _guarded_connect(self, address):
    _check(self, address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    _check(self, address)
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host, *args, **kwargs):
    if not _is_local(host):
        raise socket.gaierror(
            socket.EAI_NONAME, f"tests must not touch the network: lookup of {host!r} blocked"
        )
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True, scope="session")
def _no_network():
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    socket.getaddrinfo = _guarded_getaddrinfo
    yield
    socket.socket.connect = _real_connect
    socket.socket.connect_ex = _real_connect_ex
    socket.getaddrinfo = _real_getaddrinfo


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    """A cache folder of the test's own and no region cache; the graph memo emptied.

    A module whose tests build regions uses it for all of them:
    ``pytestmark = pytest.mark.usefixtures("own_cache")``.
    """
    from geoapp import network

    monkeypatch.setenv("GEOAPP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GEOAPP_REGION_CACHE", "0")
    network.clear_memo()
    yield
    network.clear_memo()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every browser test slow too: the fast tier never starts a browser."""
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.slow)
