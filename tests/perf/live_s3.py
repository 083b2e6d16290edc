#!/usr/bin/env python3
"""Benchmark: reading S3 buckets one at a time against side by side, on a slow endpoint.

    python tests/perf/live_s3.py [--buckets 20] [--latency 0.05] [--repeat 3]

A moto server on 127.0.0.1 holds the buckets; a proxy in front of it (tests/test_live_failures.py)
adds --latency seconds to every request about a bucket, as a distant region would. The S3
collector runs with 1 thread, then with its BUCKET_THREADS, in the same run: compare the ratio,
not the absolute times (the machine is shared).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(TESTS.parent), str(TESTS)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--buckets", type=int, default=20)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="eu-west-1",
                      AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    import boto3
    from moto.server import ThreadedMotoServer

    from certwarden.sources.live import s3 as collector
    from certwarden.sources.live.aws import Ctx, readers
    from test_live_failures import Proxy

    logging.getLogger("werkzeug").setLevel(logging.ERROR)   # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    moto = f"http://{host}:{port}"
    s3 = boto3.client("s3", region_name="eu-west-1", endpoint_url=moto)
    for i in range(args.buckets):
        s3.create_bucket(Bucket=f"bucket-{i}", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    proxy = Proxy(moto, lambda h: time.sleep(args.latency) if h.path.startswith("/bucket-") else None)
    reader = readers(None, [], proxy.url)[0]

    def once() -> float:
        ctx = Ctx(reader, "us-east-1")
        start = time.monotonic()
        collector.collect(ctx)
        assert len(ctx.nodes) == args.buckets and not ctx.partial, ctx.partial
        return time.monotonic() - start

    times = {}
    for threads in (1, collector.BUCKET_THREADS):
        collector.BUCKET_THREADS = threads
        times[threads] = min(once() for _ in range(args.repeat))
        print(f"{threads} thread{'s' * (threads != 1)}: {times[threads]:.2f} s for {args.buckets} buckets "
              f"({args.latency * 1000:.0f} ms per request)")
    one, many = times.values()
    print(f"side by side: {many / one:.2f}x the time of one at a time")
    proxy.close()
    server.stop()


if __name__ == "__main__":
    main()
