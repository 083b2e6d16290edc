"""Live reads that fail for one resource, or take too long, against the moto server on 127.0.0.1.

One key whose DescribeKey is denied is one unknown key, not a region without keys; a service that
does not answer within --timeout is one line while the others are read; S3 buckets are read
side by side. Slow and silent endpoints are a proxy in front of moto, on 127.0.0.1 too.
"""
from __future__ import annotations

import http.client
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from test_live import REGION, client, hits, live


def test_a_key_whose_describe_is_denied_is_unknown_and_the_other_keys_are_read(aws, run_cli):
    kms = client(aws, "kms")
    plain = kms.create_key(Description="no rotation")["KeyMetadata"]
    # moto enforces a key policy's Deny on DescribeKey (and only there): this key cannot be described
    hidden = kms.create_key(Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "kms:DescribeKey", "Resource": "*"}]}))["KeyMetadata"]

    code, findings, err = live(run_cli, aws, "--service", "kms", "--select", "CW101")

    assert hits(findings, "CW101") == [(plain["KeyId"], REGION, plain["Arn"].split(":")[4])]
    lines = [ln for ln in err.splitlines() if "/kms:" in ln]
    assert lines == [f"certwarden: aws://{plain['Arn'].split(':')[4]}/{REGION}/kms: DescribeKey of {hidden['KeyId']}: "
                     "access denied (DescribeKey)"]
    assert code == 2   # one key could not be read
    code, findings, _ = live(run_cli, aws, "--service", "kms", "--select", "CW101", "--allow-input-errors")
    assert code == 1 and [f["resource"] for f in findings] == [plain["KeyId"]]


def test_the_denied_key_is_a_node_with_unknown_metadata(aws):
    from certwarden.sources.live import kms as collector
    from certwarden.sources.live.aws import Ctx, readers

    kms = client(aws, "kms")
    hidden = kms.create_key(Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "kms:DescribeKey", "Resource": "*"}]}))["KeyMetadata"]
    ctx = Ctx(readers(None, [], aws)[0], REGION)
    collector.collect(ctx)
    node, = ctx.nodes
    assert node.id == hidden["Arn"] and node.name == hidden["KeyId"]
    assert "DescribeKey not readable: access denied (DescribeKey)" in str(node.attrs["key_manager"])
    assert ctx.partial == [f"DescribeKey of {hidden['KeyId']}: access denied (DescribeKey)"]


class Proxy:
    """An HTTP proxy on 127.0.0.1 in front of moto; `hold(handler)` may delay or never answer."""

    def __init__(self, upstream: str, hold):
        self.upstream, self.hold = urlsplit(upstream), hold
        self.release = threading.Event()   # set at the end: a request held forever lets go
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def relay(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if proxy.hold(self) == "never":
                    proxy.release.wait(15)
                    self.close_connection = True
                    return
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=10)
                conn.request(self.command, self.path, body, dict(self.headers))
                answer = conn.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()
            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = relay

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(aws):
    made = []

    def make(hold):
        made.append(Proxy(aws, hold))
        return made[-1]
    yield make
    for p in made:
        p.close()


def test_a_service_that_never_answers_is_one_line_within_the_timeout_and_the_rest_is_read(aws, run_cli, proxy):
    client(aws, "kms").create_key()
    s3 = client(aws, "s3")
    s3.create_bucket(Bucket="open", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_acl(Bucket="open", ACL="public-read")
    silent_kms = proxy(lambda h: "never" if h.headers.get("X-Amz-Target", "").startswith("TrentService.") else None)

    start = time.monotonic()
    code, out, err = run_cli("live", "--endpoint-url", silent_kms.url, "--region", REGION, "--no-config",
                             "--service", "kms,s3", "--select", "CW101,CW402", "--timeout", "4", "-o", "json")
    took = time.monotonic() - start

    assert took < 9.5, took   # one read timeout (4 s) and the deadline; never 30 s x 8 attempts
    report = json.loads(out)
    assert [f["resource"] for f in report["findings"]] == ["open"]   # S3 was read meanwhile
    error, = report["errors"]
    assert error["file"] == f"aws://123456789012/{REGION}/kms"
    assert error["message"].startswith("timed out: not read within --timeout 4 s (stopped before ")
    assert code == 2


def test_the_deadline_is_checked_between_calls(aws, run_cli, proxy):
    """Each call answers (slowly) within its read timeout; the deadline still ends the service."""
    kms = client(aws, "kms")
    for _ in range(10):   # 40 calls of 0.5 s: 20 s if the deadline were not checked between them
        kms.create_key()
    slow_kms = proxy(lambda h: time.sleep(0.5) if h.headers.get("X-Amz-Target", "").startswith("TrentService.") else None)

    start = time.monotonic()
    code, out, err = run_cli("live", "--endpoint-url", slow_kms.url, "--region", REGION, "--no-config",
                             "--service", "kms", "--timeout", "1.2", "-o", "json")

    assert time.monotonic() - start < 8
    error, = json.loads(out)["errors"]
    assert error["message"].startswith("timed out: not read within --timeout 1.2 s (stopped before ")
    assert code == 2


def held_at_once(matches) -> tuple:
    """A proxy hold that delays each request `matches(handler)` picks by 0.2 s, and the count of
    those it held at once (state["most"]): above 1 only when they were sent side by side."""
    lock, state = threading.Lock(), {"now": 0, "most": 0}

    def hold(handler):
        if not matches(handler):
            return
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        time.sleep(0.2)
        with lock:
            state["now"] -= 1
    return hold, state


def test_buckets_are_read_side_by_side(aws, run_cli, proxy):
    s3 = client(aws, "s3")
    names = [f"bucket-{i}" for i in range(6)]
    for name in names:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_acl(Bucket="bucket-3", ACL="public-read")
    slow_bucket_reads, state = held_at_once(lambda handler: handler.path.startswith("/bucket-"))
    slow = proxy(slow_bucket_reads)

    code, findings, err = live(run_cli, slow.url, "--service", "s3", "--select", "CW402")

    assert hits(findings, "CW402") == [("bucket-3", REGION, "123456789012")] and code == 1, err
    assert state["most"] > 1   # one after another would never hold two at once


def test_timeout_must_be_positive(run_cli):
    code, _, err = run_cli("live", "--timeout", "0", "--no-config")
    assert (code, err) == (2, "certwarden: error: --timeout must be a number of seconds above 0\n")
