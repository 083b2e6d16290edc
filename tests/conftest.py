import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FIXTURES = ROOT / "fixtures"
# Time-dependent rules in fixtures are evaluated as of this instant.
FIXED_NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)

sys.path.insert(0, str(ROOT))


def needs_shared(*parts):
    """Skip when ../shared (corpus, peer cases) is absent: users clone only this repo."""
    path = SHARED.joinpath(*parts)
    return pytest.mark.skipif(not path.exists(), reason=f"{path} not present")


@pytest.fixture(scope="session")
def rules():
    from certwarden.rulepack import load_rules
    return load_rules()


@pytest.fixture
def run_cli(capsys, monkeypatch):
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    from certwarden.cli import main

    def run(*argv, cwd=None):
        if cwd is not None:
            monkeypatch.chdir(cwd)
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err
    return run


# -- no network: an accidental call to AWS (or anywhere) fails the test ---------------------------
_LOCAL = {"127.0.0.1", "::1", "localhost"}


def pytest_configure(config):
    config.addinivalue_line("markers", "live: may connect to 127.0.0.1 (a local AWS stand-in such as moto)")


def _host(address) -> str | None:
    return address[0] if isinstance(address, tuple) and address else None   # None: a Unix socket


@pytest.fixture(autouse=True)
def no_network(request, monkeypatch):
    """Sockets may only reach 127.0.0.1, and only in tests marked `live`."""
    import socket

    live = request.node.get_closest_marker("live") is not None
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def allowed(address) -> bool:
        host = _host(address)
        return host is None or (live and host in _LOCAL)

    def connect(sock, address):
        if not allowed(address):
            raise ConnectionRefusedError(f"network blocked in tests: connect to {address!r}")
        return real_connect(sock, address)

    def connect_ex(sock, address):
        if not allowed(address):
            raise ConnectionRefusedError(f"network blocked in tests: connect to {address!r}")
        return real_connect_ex(sock, address)

    def getaddrinfo(host, *args, **kwargs):
        if not (live and host in _LOCAL):
            raise OSError(f"network blocked in tests: name lookup of {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


# -- live: a real moto server on 127.0.0.1, started once per session ----------------------------
@pytest.fixture(scope="session")
def moto_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def moto_api(endpoint: str, path: str, body: bytes = b"") -> None:
    import urllib.request

    # text/plain: a form content type would leave the body to Flask's form parser, not request.data
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/{path}", data=body, method="POST",
                                                  headers={"Content-Type": "text/plain"})).read()


@pytest.fixture
def aws(moto_endpoint, monkeypatch):
    """An empty moto account (eu-west-1) with test credentials in the environment; the test is
    marked live, so it may reach 127.0.0.1."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    moto_api(moto_endpoint, "reset")
    yield moto_endpoint
    moto_api(moto_endpoint, "reset-auth", b"inf")   # a test may have turned IAM checks on


def pytest_collection_modifyitems(items):
    for item in items:
        if "aws" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.live)
