"""The read-only policy in permissions.py is exactly what the collectors call, and the docs show it."""
from __future__ import annotations

import json

from conftest import ROOT
from test_live import REGION, client
from test_live_certs import create_ca, imported, make_cert
from test_live_tls import load_balancers

# API operations whose IAM action has another name (s3:GetPublicAccessBlock is both the bucket's
# and, through S3 Control, the account's).
IAM_NAMES = {
    "s3:ListBuckets": {"s3:ListAllMyBuckets"},
    "s3:GetPublicAccessBlock": {"s3:GetBucketPublicAccessBlock", "s3:GetAccountPublicAccessBlock"},
    "apigateway:GetDomainNames": {"apigateway:GET"},
}


def one_of_everything(aws) -> None:
    """An account with a resource for every collector, so each one makes its per-resource reads."""
    client(aws, "kms").create_key()
    client(aws, "s3").create_bucket(Bucket="bucket-one", CreateBucketConfiguration={"LocationConstraint": REGION})
    client(aws, "secretsmanager").create_secret(Name="s", SecretString="x")
    imported(client(aws, "acm"), "shop.example.com")
    create_ca(client(aws, "acm-pca"), "Root CA")
    body, key = make_cert("legacy.example.com")
    client(aws, "iam").upload_server_certificate(ServerCertificateName="legacy", CertificateBody=body.decode(),
                                                 PrivateKey=key.decode())
    subnets = load_balancers(aws)
    client(aws, "cloudhsmv2").create_cluster(HsmType="hsm1.medium", SubnetIds=subnets)

def test_the_policy_is_exactly_what_a_full_read_calls(aws):
    from certwarden.sources import live
    from certwarden.sources.live.aws import all_regions, readers
    from certwarden.sources.live.permissions import ACTIONS

    one_of_everything(aws)
    reader, = readers(None, [], aws)
    # --region all: Account ListRegions (moto has none: refused), then EC2 DescribeRegions
    assert REGION in all_regions(reader)
    got = live.read([reader], [REGION], list(live.SERVICES))

    assert got.errors == []
    needed = set().union(*(IAM_NAMES.get(call, {call}) for call in reader.calls))
    needed.add("sts:GetCallerIdentity")   # readers() asks whose credentials these are, before any Reader
    assert needed == set(ACTIONS)
    assert all(not action.split(":")[1].startswith(("Create", "Put", "Delete", "Update")) for action in ACTIONS)


def test_the_docs_show_the_policy_and_every_service(run_cli):
    from certwarden.sources.live import SERVICES
    from certwarden.sources.live.permissions import policy_document

    code, out, _ = run_cli("live", "--print-policy")
    assert code == 0 and json.loads(out) == policy_document()
    docs = (ROOT / "docs" / "live.md").read_text()
    assert out in docs, "docs/live.md: paste the output of `certwarden live --print-policy`"
    assert [s for s in SERVICES if f"`{s}`" not in docs] == []
