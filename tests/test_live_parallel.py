"""Per-resource reads of one service go side by side (KMS keys, ACM certificates; S3 buckets in
tests/test_live_failures.py), with the same nodes, in the same order, as one at a time; reads the
answer already settles are not sent; low API quotas are kept to. Against the moto server on
127.0.0.1, slowed by the proxy of tests/test_live_failures.py where the overlap is measured."""
from __future__ import annotations

import threading
import time

import pytest

from test_live import REGION, client, hits, live
from test_live_failures import held_at_once, proxy  # noqa: F401  (proxy: the fixture)

_TARGET = {"kms": "TrentService.", "acm": "CertificateManager."}


def _keys(aws) -> dict[str, dict]:
    kms = client(aws, "kms")
    made = {name: kms.create_key(**kwargs)["KeyMetadata"] for name, kwargs in (
        ("plain", {}), ("plain-2", {}), ("rotated", {}),
        ("signing", {"KeySpec": "RSA_2048", "KeyUsage": "SIGN_VERIFY"}),
        ("mac", {"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"}),
        ("imported", {"Origin": "EXTERNAL"}))}
    kms.enable_key_rotation(KeyId=made["rotated"]["KeyId"])
    for name in ("plain", "plain-2"):
        kms.create_alias(AliasName=f"alias/{name}", TargetKeyId=made[name]["KeyId"])
    return made


def test_rotation_is_asked_only_of_keys_that_can_rotate_and_no_key_costs_more(aws, run_cli, monkeypatch):
    from certwarden.sources.live.aws import Reader

    made = _keys(aws)
    readers: list[Reader] = []
    real_post_init = Reader.__post_init__
    monkeypatch.setattr(Reader, "__post_init__", lambda self: (readers.append(self), real_post_init(self))[-1])

    code, findings, err = live(run_cli, aws, "--service", "kms", "--select", "CW101")

    account = made["plain"]["Arn"].split(":")[4]
    assert (code, err) == (1, "")
    assert hits(findings, "CW101") == [("alias/plain", REGION, account), ("alias/plain-2", REGION, account)]
    calls = {call: n for call, n in readers[-1].calls.items() if call.startswith("kms:")}
    # six keys: four reads each at most, rotation only for the three symmetric keys KMS made
    assert calls == {"kms:ListAliases": 1, "kms:ListKeys": 1, "kms:DescribeKey": 6, "kms:GetKeyPolicy": 6,
                     "kms:ListResourceTags": 6, "kms:GetKeyRotationStatus": 3}


def test_keys_that_cannot_rotate_read_as_not_rotating():
    from certwarden.sources.live.kms import can_rotate

    assert can_rotate({"KeySpec": "SYMMETRIC_DEFAULT", "Origin": "AWS_KMS"})
    assert can_rotate({})   # not described: asked
    assert not any(can_rotate(meta) for meta in (
        {"KeySpec": "RSA_2048", "Origin": "AWS_KMS"}, {"KeySpec": "HMAC_256", "Origin": "AWS_KMS"},
        {"KeySpec": "SYMMETRIC_DEFAULT", "Origin": "EXTERNAL"},
        {"KeySpec": "SYMMETRIC_DEFAULT", "Origin": "AWS_CLOUDHSM"}))


def _certificates(aws, n: int) -> list[str]:
    acm = client(aws, "acm")
    arns = [acm.request_certificate(DomainName=f"h{i}.example.com", ValidationMethod="DNS")["CertificateArn"]
            for i in range(n)]
    acm.add_tags_to_certificate(CertificateArn=arns[2], Tags=[{"Key": "team", "Value": "web"}])
    return arns


@pytest.mark.parametrize("service", ["kms", "acm"])
def test_one_side_by_side_gives_the_nodes_of_one_at_a_time(aws, service, monkeypatch):
    from certwarden.sources import live as collectors
    from certwarden.sources.live.aws import Ctx, readers

    _keys(aws) if service == "kms" else _certificates(aws, 6)
    module = getattr(collectors, service)
    reader = readers(None, [], aws)[0]

    def nodes(threads: int) -> list[tuple]:
        monkeypatch.setattr(module, "THREADS", threads)
        ctx = Ctx(reader, REGION)
        module.collect(ctx)
        assert ctx.partial == []
        return [(n.id, n.name, n.kind, {k: repr(v) for k, v in n.attrs.items()}) for n in ctx.nodes]

    one, many = nodes(1), nodes(8)
    assert len(one) == 6 and many == one


@pytest.mark.parametrize("service", ["kms", "acm"])
def test_reads_of_one_service_overlap(aws, run_cli, proxy, service):  # noqa: F811
    _keys(aws) if service == "kms" else _certificates(aws, 6)
    slow, state = held_at_once(lambda handler: handler.headers.get("X-Amz-Target", "").startswith(_TARGET[service]))
    slowed = proxy(slow)

    code, findings, err = live(run_cli, slowed.url, "--service", service, "--allow-input-errors")

    assert err == "" and code in (0, 1)
    assert {f["region"] for f in findings} <= {REGION}
    assert state["most"] > 1   # one after another would never hold two at once


def test_a_low_quota_is_kept_to_by_every_thread_together():
    from certwarden.sources.live.aws import Rate

    rate = Rate(20)   # a burst of 20, then 20 a second
    start = time.monotonic()
    threads = [threading.Thread(target=lambda: [rate.wait() for _ in range(10)]) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert time.monotonic() - start >= 0.45   # 30 calls: 20 at once, 10 more at 20 a second


def test_acm_reads_are_paced_per_region_and_call(aws, monkeypatch):
    from certwarden.sources.live import acm as collector
    from certwarden.sources.live import aws as plumbing
    from certwarden.sources.live.aws import Ctx, readers

    _certificates(aws, 4)
    waited: list[tuple[str, str]] = []
    monkeypatch.setattr(plumbing.Rate, "wait", lambda self: waited.append(self.per_second))
    reader = readers(None, [], aws)[0]
    collector.collect(Ctx(reader, REGION))
    assert sorted(reader._rates) == [(REGION, "acm:DescribeCertificate"), (REGION, "acm:ListTagsForCertificate")]
    assert waited == [10] * 8   # two paced calls a certificate; the listing is not paced
