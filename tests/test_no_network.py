"""The network guard of conftest.py works."""

import socket

import pytest
from conftest import NetworkBlockedError


def test_guard_blocks_outside_addresses():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(NetworkBlockedError):
            s.connect(("192.0.2.1", 80))  # TEST-NET-1, never routed
    finally:
        s.close()
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("nominatim.openstreetmap.org", 443)
