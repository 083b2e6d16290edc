"""The suite runs offline: a scan that reached for the network would fail, not pass slowly."""
from __future__ import annotations

import socket
import urllib.request

import pytest


def test_connect_outside_is_refused():
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError, match="network blocked"):
        sock.connect(("203.0.113.1", 443))


def test_name_lookup_is_refused():
    with pytest.raises(OSError, match="network blocked"):
        socket.getaddrinfo("sts.amazonaws.com", 443)


def test_http_client_is_refused():
    with pytest.raises(OSError, match="network blocked"):
        urllib.request.urlopen("https://kms.us-east-1.amazonaws.com/", timeout=1)


def test_localhost_is_refused_outside_live_tests():
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError, match="network blocked"):
        sock.connect(("127.0.0.1", 9))


@pytest.mark.live
def test_live_tests_reach_localhost():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=2):
            conn, _ = server.accept()
            conn.close()


@pytest.mark.live
def test_live_tests_still_cannot_leave_the_machine():
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError, match="network blocked"):
        sock.connect(("203.0.113.1", 443))
