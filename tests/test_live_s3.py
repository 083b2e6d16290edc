"""Live S3 buckets and Secrets Manager secrets on a moto server: created through boto3, read back by
`certwarden live`, judged by the same rules as templates (CW401-CW403, CW501-CW503)."""
from __future__ import annotations

import json

import pytest

from test_live import REGION, as_auditor, client, hits, live

BLOCK_ALL = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
             "RestrictPublicBuckets": True}


def bucket(aws, name, region=REGION):
    s3 = client(aws, "s3", region)
    config = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=name, **config)
    return s3


def public_policy(name, principal="*"):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Anyone", "Effect": "Allow", "Principal": {"AWS": principal}, "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{name}/*"}]})


def account_block(aws, account, **settings):
    """The account-level Block Public Access, set through S3 Control (whose account host prefix
    moto cannot answer on: the reader's own fix is used)."""
    from certwarden.sources.live.aws import _on_endpoint

    control = client(aws, "s3control", "us-east-1")
    control.meta.events.register("before-sign.s3-control.*", _on_endpoint(aws))
    control.put_public_access_block(AccountId=account, PublicAccessBlockConfiguration={**BLOCK_ALL, **settings})


def account_of(aws):
    return client(aws, "sts").get_caller_identity()["Account"]


# -- S3 --------------------------------------------------------------------------------------------
def test_buckets_are_judged_in_their_own_region(aws, run_cli):
    open_eu = bucket(aws, "open-eu")
    open_eu.put_bucket_acl(Bucket="open-eu", ACL="public-read")
    open_eu.put_bucket_policy(Bucket="open-eu", Policy=public_policy("open-eu"))
    open_eu.put_bucket_tagging(Bucket="open-eu", Tagging={"TagSet": [{"Key": "env", "Value": "prod"}]})
    half = bucket(aws, "half-blocked", "us-east-1")
    half.put_public_access_block(Bucket="half-blocked", PublicAccessBlockConfiguration={
        **BLOCK_ALL, "RestrictPublicBuckets": False})
    authenticated = bucket(aws, "any-aws-user", "us-west-2")
    authenticated.put_bucket_acl(Bucket="any-aws-user", ACL="authenticated-read")
    authenticated.put_public_access_block(Bucket="any-aws-user", PublicAccessBlockConfiguration=BLOCK_ALL)
    locked = bucket(aws, "locked", "us-east-1")
    locked.put_public_access_block(Bucket="locked", PublicAccessBlockConfiguration=BLOCK_ALL)
    account = account_of(aws)
    locked.put_bucket_policy(Bucket="locked", Policy=public_policy("locked", f"arn:aws:iam::{account}:root"))

    code, findings, err = live(run_cli, aws, "--region", "us-east-1,us-west-2", "--service", "s3",
                               "--select", "CW401,CW402,CW403")

    assert code == 1, err
    assert hits(findings, "CW401") == [("half-blocked", "us-east-1", account), ("open-eu", REGION, account)]
    assert hits(findings, "CW402") == [("any-aws-user", "us-west-2", account), ("open-eu", REGION, account)]
    assert hits(findings, "CW403") == [("open-eu", REGION, account)]
    by_code = {(f["code"], f["resource"]): f for f in findings}
    assert by_code["CW403", "open-eu"]["arn"] == "arn:aws:s3:::open-eu"
    assert "(public-read)" in by_code["CW402", "open-eu"]["message"]
    # live state is judged as read: a bucket without a block has all four off, whatever new buckets get
    assert by_code["CW401", "open-eu"]["message"] == "S3 bucket open-eu has no public access block"
    assert by_code["CW401", "half-blocked"]["message"] == (
        "S3 bucket half-blocked leaves Block Public Access settings off: RestrictPublicBuckets")
    assert "(authenticated-read)" in by_code["CW402", "any-aws-user"]["message"]
    assert "locked" not in {f["resource"] for f in findings}
    assert err == ""


def test_region_limits_the_buckets_read_and_reported(aws, run_cli, monkeypatch):
    from certwarden.sources.live.aws import Reader

    for name, region in (("here", REGION), ("there", "us-east-1"), ("far", "us-west-2")):
        bucket(aws, name, region).put_bucket_acl(Bucket=name, ACL="public-read")
    made: list[Reader] = []
    real_post_init = Reader.__post_init__
    monkeypatch.setattr(Reader, "__post_init__", lambda self: (made.append(self), real_post_init(self))[-1])

    code, findings, err = live(run_cli, aws, "--service", "s3", "--select", "CW402")

    assert (code, hits(findings, "CW402"), err) == (1, [("here", REGION, account_of(aws))], "")
    calls = made[-1].calls
    # the other regions' buckets cost their location (which moto's ListBuckets lacks), nothing more
    assert calls["s3:GetBucketLocation"] == 3
    # GetPublicAccessBlock twice: the bucket's, and the account's (S3 Control signs as s3)
    assert (calls["s3:GetBucketAcl"], calls["s3:GetPublicAccessBlock"], calls["s3:GetBucketPolicy"],
            calls["s3:GetBucketTagging"]) == (1, 2, 1, 1)


def test_the_account_level_block_stands_in_for_the_buckets(aws, run_cli):
    bucket(aws, "no-own-block")
    account = account_of(aws)

    account_block(aws, account)
    code, findings, err = live(run_cli, aws, "--service", "s3", "--select", "CW401")
    assert (code, findings) == (0, []), err

    account_block(aws, account, IgnorePublicAcls=False)   # three of four: the buckets are judged alone
    code, findings, err = live(run_cli, aws, "--service", "s3", "--select", "CW401")
    assert code == 1, err
    assert hits(findings, "CW401") == [("no-own-block", REGION, account)]


def test_an_endpoint_from_the_environment_counts_as_endpoint_url(aws, run_cli, monkeypatch):
    bucket(aws, "no-own-block")
    account_block(aws, account_of(aws))
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)   # as LocalStack users set it, no --endpoint-url
    code, out, err = run_cli("live", "--region", REGION, "--no-config", "-o", "json", "--service", "s3",
                             "--select", "CW401")
    assert (code, json.loads(out)["findings"], err) == (0, [], "")   # the account-level block was read


def test_a_bucket_whose_policy_is_denied_is_reported_and_the_others_are_read(aws, run_cli, monkeypatch):
    for name in ("readable", "guarded"):
        bucket(aws, name).put_bucket_policy(Bucket=name, Policy=public_policy(name))
    as_auditor(aws, monkeypatch, ["s3:List*", "s3:Get*", "sts:GetCallerIdentity"],
               {"Effect": "Deny", "Action": "s3:GetBucketPolicy", "Resource": "arn:aws:s3:::guarded"})

    code, findings, err = live(run_cli, aws, "--service", "s3", "--select", "CW401,CW403")

    account = findings[0]["account"]
    assert hits(findings, "CW403") == [("readable", REGION, account)]   # guarded: unknown, so silent
    assert hits(findings, "CW401") == [("guarded", REGION, account), ("readable", REGION, account)]
    assert f"aws://{account}/us-east-1/s3: GetBucketPolicy of guarded: access denied (GetBucketPolicy)" in err
    assert code == 2   # guarded's policy was not read


@pytest.mark.parametrize("location, region", [(None, "us-east-1"), ("", "us-east-1"), ("EU", "eu-west-1"),
                                              ("ap-south-1", "ap-south-1")])
def test_bucket_location_as_a_region(location, region):
    # moto always answers a region name, so the legacy null and EU answers are checked here
    from certwarden.sources.live.s3 import bucket_region

    assert bucket_region(location) == region


# -- Secrets Manager -------------------------------------------------------------------------------
def test_secrets_rotation_and_key(aws, run_cli):
    key = client(aws, "kms").create_key()["KeyMetadata"]["Arn"]
    sm = client(aws, "secretsmanager")
    sm.create_secret(Name="plain", SecretString="x")
    sm.create_secret(Name="managed-by-name", SecretString="x", KmsKeyId="alias/aws/secretsmanager")
    for name, days in (("monthly", 30), ("yearly", 365)):
        sm.create_secret(Name=name, SecretString="x", KmsKeyId=key)
        # moto rotates without a rotation function (AWS needs one); the schedule is what is read
        sm.rotate_secret(SecretId=name, RotationRules={"AutomaticallyAfterDays": days})
    other = client(aws, "secretsmanager", "us-east-2")
    other.create_secret(Name="elsewhere", SecretString="x", KmsKeyId="arn:aws:kms:us-east-2:111122223333:key/k")

    code, findings, err = live(run_cli, aws, "--region", "us-east-2", "--service", "secretsmanager",
                               "--select", "CW501,CW502,CW503")

    assert code == 1, err
    account = account_of(aws)
    assert hits(findings, "CW501") == [("elsewhere", "us-east-2", account), ("managed-by-name", REGION, account),
                                       ("plain", REGION, account)]
    assert hits(findings, "CW502") == [("yearly", REGION, account)]
    assert hits(findings, "CW503") == [("managed-by-name", REGION, account), ("plain", REGION, account)]
    yearly = next(f for f in findings if f["code"] == "CW502")
    assert yearly["arn"].startswith(f"arn:aws:secretsmanager:{REGION}:{account}:secret:yearly-")
    assert "every 365 days" in yearly["message"]


def test_a_rate_schedule_is_an_interval_and_a_cron_schedule_is_not(aws, run_cli, monkeypatch):
    # moto keeps only AutomaticallyAfterDays, not ScheduleExpression: ListSecrets is stubbed
    # (that one response; STS still answers from moto)
    from botocore.stub import Stubber

    from certwarden.sources.live.aws import Reader

    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:{}-AbCdEf"
    listing = {"SecretList": [
        {"ARN": arn.format("rate"), "Name": "rate", "RotationEnabled": True, "KmsKeyId": "alias/app",
         "RotationRules": {"ScheduleExpression": "rate(120 days)"}},
        {"ARN": arn.format("cron"), "Name": "cron", "RotationEnabled": True, "KmsKeyId": "alias/app",
         "RotationRules": {"ScheduleExpression": "cron(0 4 1 */6 ? *)"}}]}
    real_client = Reader.client

    def stubbed(self, service, region):
        made = real_client(self, service, region)
        if service == "secretsmanager":
            stub = Stubber(made)
            stub.add_response("list_secrets", listing, {"MaxResults": 100})   # pages as large as the API allows
            stub.activate()
        return made
    monkeypatch.setattr(Reader, "client", stubbed)

    code, findings, err = live(run_cli, aws, "--service", "secretsmanager", "--select", "CW501,CW502,CW503")

    assert code == 1, err
    assert [(f["code"], f["resource"], f["region"]) for f in findings] == [("CW502", "rate", REGION)]


def test_a_key_used_by_secrets_of_two_environments(aws, run_cli):
    kms = client(aws, "kms")
    shared = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/shared", TargetKeyId=shared["KeyId"])
    own = kms.create_key()["KeyMetadata"]
    sm = client(aws, "secretsmanager")
    # the shared key named three ways a secret may name it: ARN, key ID, alias
    for name, key_id, env in (("prod-db", shared["Arn"], "prod"), ("dev-db", shared["KeyId"], "dev"),
                              ("dev-api", "alias/shared", "dev"), ("test-db", own["Arn"], "test")):
        sm.create_secret(Name=name, SecretString="x", KmsKeyId=key_id, Tags=[{"Key": "Environment", "Value": env}])

    code, findings, err = live(run_cli, aws, "--service", "kms,secretsmanager", "--select", "CW108")

    assert code == 1, err
    assert hits(findings, "CW108") == [("alias/shared", REGION, account_of(aws))]
    assert "dev (dev-" in findings[0]["message"] and "prod (prod-db)" in findings[0]["message"]


def test_secrets_are_linked_to_the_key_they_name_however_named():
    from certwarden.model import Graph, Node, Where
    from certwarden.sources.live.secrets import link_keys

    key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd"
    graph = Graph(unit="aws://123456789012", source="live")
    graph.add(Node(key_arn, "kms_key", "alias/app", "live", Where(arn=key_arn, region=REGION)))
    named = {"by-arn": key_arn, "by-id": "1234abcd", "by-alias": "alias/app",
             "by-alias-arn": "arn:aws:kms:eu-west-1:123456789012:alias/app",
             "other-region": "alias/app", "aws-managed": "alias/aws/secretsmanager"}
    for name, key_id in named.items():
        region = "us-east-2" if name == "other-region" else REGION
        node = graph.add(Node(name, "secret", name, "live", Where(arn=name, region=region)))
        node.set("kms_key_id", key_id)
    link_keys(graph)
    assert sorted(e.src for e in graph.edges if e.dst == key_arn and e.kind == "encrypted_by") == \
        ["by-alias", "by-alias-arn", "by-arn", "by-id"]
