#!/usr/bin/env python3
"""Live benchmark: an organisation on a local moto server, read by `certwarden live --organization`.

    python tests/perf/live_bench.py [--sizes 10,40] [--regions eu-west-1,us-east-2] [--accounts 3] [--delay-ms 20]

For each size N, moto is seeded with an organisation of --accounts member accounts (each with a
certwarden-read role) holding, in every region, N KMS keys (with an alias), N secrets and N ACM
certificates, and N S3 buckets per account. The scan reads them (every service) and the script
prints wall time and API calls per resource and per service, against a floor: the calls a reader
needs at the least, one list page per page-size of resources plus the per-resource reads the API
forces (KMS has no batch describe; S3 has no call that returns a bucket's settings together).
A ratio above 1.00 is a call that reads something twice. The machine is shared: compare the
ratios and the growth between sizes, which come from the same run; moto is slower than AWS.

moto runs in a process of its own (so its work does not hold the reader's interpreter), and
with --delay-ms every request the scan sends waits that long before moto answers it, as a
distant endpoint would (seeding is not delayed): wall time is then bound by latency, as against
AWS. Each size is read twice in the same run: with the collectors' threads, and with one
resource at a time inside each service-region (the baseline, as before issue 15).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

# Per-resource reads each API forces, and the largest page its listing returns.
FORCED = {"kms": ("DescribeKey", "GetKeyRotationStatus", "GetKeyPolicy", "ListResourceTags"),
          "s3": ("GetPublicAccessBlock", "GetBucketAcl", "GetBucketPolicy", "GetBucketTagging"),
          "acm": ("DescribeCertificate", "ListTagsForCertificate"), "secretsmanager": ()}
PAGE = {"kms": 1000, "s3": 10000, "acm": 1000, "secretsmanager": 100}


def seed(endpoint: str, accounts: int, regions: list[str], n: int) -> list[str]:
    import boto3

    from certwarden.sources.live.permissions import policy_document, trust_policy

    org = boto3.client("organizations", region_name=regions[0], endpoint_url=endpoint)
    org.create_organization(FeatureSet="ALL")
    sts = boto3.client("sts", region_name=regions[0], endpoint_url=endpoint)
    ids = []
    for a in range(accounts):
        account = org.create_account(AccountName=f"m{a}", Email=f"m{a}@example.com")["CreateAccountStatus"]["AccountId"]
        ids.append(account)
        c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
                            RoleSessionName="seed")["Credentials"]
        s = boto3.Session(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                          aws_session_token=c["SessionToken"])
        iam = s.client("iam", region_name=regions[0], endpoint_url=endpoint)
        iam.create_role(RoleName="certwarden-read", AssumeRolePolicyDocument=json.dumps(trust_policy()))
        iam.put_role_policy(RoleName="certwarden-read", PolicyName="r", PolicyDocument=json.dumps(policy_document()))
        for r, region in enumerate(regions):
            kms = s.client("kms", region_name=region, endpoint_url=endpoint)
            sm = s.client("secretsmanager", region_name=region, endpoint_url=endpoint)
            acm = s.client("acm", region_name=region, endpoint_url=endpoint)
            s3 = s.client("s3", region_name=region, endpoint_url=endpoint)
            for i in range(n):
                key = kms.create_key()["KeyMetadata"]["KeyId"]
                kms.create_alias(AliasName=f"alias/k{i}", TargetKeyId=key)
                sm.create_secret(Name=f"s{i}", SecretString="x")
                acm.request_certificate(DomainName=f"h{i}.example.com", ValidationMethod="DNS")
                if r == 0:
                    config = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
                    s3.create_bucket(Bucket=f"b-{account}-{i}", **config)
    return ids


def floor(counts: dict[str, int]) -> dict[str, int]:
    """Least calls per service for these resource counts (per account and region)."""
    return {svc: sum(math.ceil(n / PAGE[svc]) or 1 for n in per) * (2 if svc == "kms" else 1)   # ListKeys + ListAliases
            + sum(per) * len(FORCED[svc]) + (len(per) if svc == "s3" else 0)                  # + account-level block
            for svc, per in counts.items()}


def set_delay(endpoint: str, ms: float) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/{DELAY_PATH}?ms={ms}", method="POST")).read()


def read_all(endpoint: str, ids: list[str], regions: list[str], threads: int | None) -> tuple[float, object, object]:
    """One read of every service of every account: with the collectors' own threads (None) or
    with `threads` resources at a time inside each service-region."""
    from certwarden.sources import live
    from certwarden.sources.live import acm, kms, organization, s3

    defaults = (kms.THREADS, acm.THREADS, s3.BUCKET_THREADS)
    if threads is not None:
        kms.THREADS = acm.THREADS = s3.BUCKET_THREADS = threads
    try:
        start = time.perf_counter()
        cpu = time.process_time()
        org = organization.readers(None, only=ids, endpoint_url=endpoint)
        got = live.read(org.readers, regions, list(live.SERVICES))
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        kms.THREADS, acm.THREADS, s3.BUCKET_THREADS = defaults
    assert not org.errors and not got.errors, (org.errors, got.errors)
    return wall, cpu, (org, got)


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(endpoint: str, size: int, accounts: int, regions: list[str], delay_ms: float, moto_pid: int) -> dict:
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).read()
    ids = seed(endpoint, accounts, regions, size)
    set_delay(endpoint, delay_ms)
    try:
        serial_wall, serial_cpu, _ = read_all(endpoint, ids, regions, 1)
        moto_cpu = cpu_of(moto_pid)
        wall, cpu, (org, got) = read_all(endpoint, ids, regions, None)
        moto_cpu = cpu_of(moto_pid) - moto_cpu
    finally:
        set_delay(endpoint, 0)
    calls: Counter = Counter()
    for reader in org.readers:
        calls.update(reader.calls)
    per_service = Counter()
    for call, n in calls.items():
        per_service[call.split(":")[0]] += n
    resources = Counter(n.kind for g in got.graphs for n in g.nodes.values())
    counts = {"kms": [size] * (accounts * len(regions)), "secretsmanager": [size] * (accounts * len(regions)),
              "acm": [size] * (accounts * len(regions)), "s3": [size] * accounts}
    return {"size": size, "wall": wall, "cpu": cpu, "moto_cpu": moto_cpu, "serial_wall": serial_wall, "serial_cpu": serial_cpu,
            "calls": calls, "per_service": per_service,
            "resources": sum(resources.values()), "floor": floor(counts), "jobs": got.read}


# -- moto in a process of its own, each request delayed ------------------------------------------
DELAY_PATH = "bench-delay"   # POST /bench-delay?ms=N sets the delay of the requests that follow


def serve(port_file: str) -> None:
    """moto's own WSGI application behind a middleware that sleeps before each request."""
    import logging
    from urllib.parse import parse_qs

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from moto.server import MotoRequestHandler
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto = DomainDispatcherApplication(create_backend_app)
    delay = {"s": 0.0}

    def app(environ, start_response):
        if environ.get("PATH_INFO") == f"/{DELAY_PATH}":
            delay["s"] = float(parse_qs(environ.get("QUERY_STRING", ""))["ms"][0]) / 1000
            start_response("200 OK", [("Content-Length", "0")])
            return [b""]
        if delay["s"]:
            time.sleep(delay["s"])
        return moto(environ, start_response)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    Path(port_file + ".tmp").write_text(str(server.server_address[1]))
    os.replace(port_file + ".tmp", port_file)   # whole, or not there
    server.serve_forever()


def start_moto(tmp: Path) -> tuple[subprocess.Popen, str]:
    port_file = tmp / "port"
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port_file)])
    for _ in range(300):
        if port_file.exists():
            return proc, f"http://127.0.0.1:{port_file.read_text()}"
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("moto did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,40")
    parser.add_argument("--regions", default="eu-west-1,us-east-2")
    parser.add_argument("--accounts", type=int, default=3)
    parser.add_argument("--delay-ms", type=float, default=0, help="added before moto answers each request the scan sends")
    parser.add_argument("--serve", metavar="PORT_FILE", help=argparse.SUPPRESS)   # the moto process
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve)
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
                      AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    regions = args.regions.split(",")
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        proc, endpoint = start_moto(Path(tmp))
        try:
            results = [run(endpoint, int(s), args.accounts, regions, args.delay_ms, proc.pid)
                       for s in args.sizes.split(",")]
        finally:
            proc.terminate()
            proc.wait()
    print(f"{args.accounts} accounts x {len(regions)} regions, every service read, "
          f"{args.delay_ms:g} ms added to each request\n")
    print("| N per account-region | resources | service-regions | wall | CPU: reader | CPU: moto | wall per resource "
          "| calls | calls per resource | one resource at a time: wall | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        total = sum(r["calls"].values())
        print(f"| {r['size']} | {r['resources']} | {r['jobs']} | {r['wall']:.2f} s | {r['cpu']:.2f} s | {r['moto_cpu']:.2f} s "
              f"| {1000 * r['wall'] / r['resources']:.1f} ms | {total} | {total / r['resources']:.2f} "
              f"| {r['serial_wall']:.2f} s | {r['wall'] / r['serial_wall']:.2f}x |")
    print("\n| N | service | calls | floor | ratio |")
    print("|---|---|---|---|---|")
    for r in results:
        for svc in ("kms", "s3", "secretsmanager", "acm"):
            got, least = r["per_service"][svc], r["floor"][svc]
            print(f"| {r['size']} | {svc} | {got} | {least} | {got / least:.2f}x |")
        if r["calls"]["s3:GetBucketLocation"]:
            print(f"| {r['size']} | s3: GetBucketLocation, one a bucket | {r['calls']['s3:GetBucketLocation']} | 0 | "
                  "moto's ListBuckets lacks BucketRegion, AWS's has it |")
        rest = {s: n for s, n in r["per_service"].items() if s not in FORCED}
        print(f"| {r['size']} | other services (one listing each, empty) | {sum(rest.values())} | | |")
    print("\nCalls by operation, largest size:")
    for call, n in sorted(results[-1]["calls"].items()):
        print(f"  {call:45} {n}")


if __name__ == "__main__":
    main()
