#!/usr/bin/env python3
"""Live benchmark: an organisation on a local moto server, read by `certwarden live --organization`.

    python tests/perf/live_bench.py [--sizes 10,40] [--regions eu-west-1,us-east-2] [--accounts 3]

For each size N, moto is seeded with an organisation of --accounts member accounts (each with a
certwarden-read role) holding, in every region, N KMS keys (with an alias), N secrets and N ACM
certificates, and N S3 buckets per account. The scan reads them (every service) and the script
prints wall time and API calls per resource and per service, against a floor: the calls a reader
needs at the least, one list page per page-size of resources plus the per-resource reads the API
forces (KMS has no batch describe; S3 has no call that returns a bucket's settings together).
A ratio above 1.00 is a call that reads something twice. The machine is shared: compare the
ratios and the growth between sizes, which come from the same run; moto is slower than AWS.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
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

    from scanner.sources.live.permissions import policy_document, trust_policy

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


def run(endpoint: str, size: int, accounts: int, regions: list[str]) -> dict:
    import urllib.request

    from scanner.sources import live
    from scanner.sources.live import organization

    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).read()
    ids = seed(endpoint, accounts, regions, size)
    start = time.perf_counter()
    org = organization.readers(None, only=ids, endpoint_url=endpoint)
    got = live.read(org.readers, regions, list(live.SERVICES))
    wall = time.perf_counter() - start
    assert not org.errors and not got.errors, (org.errors, got.errors)
    calls: Counter = Counter()
    for reader in org.readers:
        calls.update(reader.calls)
    per_service = Counter()
    for call, n in calls.items():
        per_service[call.split(":")[0]] += n
    resources = Counter(n.kind for g in got.graphs for n in g.nodes.values())
    counts = {"kms": [size] * (accounts * len(regions)), "secretsmanager": [size] * (accounts * len(regions)),
              "acm": [size] * (accounts * len(regions)), "s3": [size] * accounts}
    return {"size": size, "wall": wall, "calls": calls, "per_service": per_service,
            "resources": sum(resources.values()), "floor": floor(counts), "jobs": got.read}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,40")
    parser.add_argument("--regions", default="eu-west-1,us-east-2")
    parser.add_argument("--accounts", type=int, default=3)
    args = parser.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
                      AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    regions = args.regions.split(",")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        results = [run(f"http://{host}:{port}", int(s), args.accounts, regions) for s in args.sizes.split(",")]
    finally:
        server.stop()
    print(f"{args.accounts} accounts x {len(regions)} regions, every service read\n")
    print("| N per account-region | resources | service-regions | wall | wall per resource | calls | calls per resource |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        total = sum(r["calls"].values())
        print(f"| {r['size']} | {r['resources']} | {r['jobs']} | {r['wall']:.2f} s | {1000 * r['wall'] / r['resources']:.1f} ms "
              f"| {total} | {total / r['resources']:.2f} |")
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
