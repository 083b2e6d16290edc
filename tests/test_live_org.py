"""Organisation scans on the moto server: every ACTIVE account through its certwarden-read role,
as a scanner allowed only what `--print-policy --organization` prints."""
from __future__ import annotations

import json

import boto3
import pytest

from conftest import moto_api
from test_live import REGION, client

MANAGEMENT = "123456789012"   # moto's default account: the credentials of the test
# moto checks S3 Control's GetPublicAccessBlock as s3:GetPublicAccessBlock (IAM: s3:GetAccountPublicAccessBlock),
# and cannot check API Gateway and CloudFront calls at all (its signature check fails on their paths):
# those two are left to test_live_policy.py, which compares the calls sent with the policy.
MOTO_NAMES = {"Effect": "Allow", "Action": ["s3:GetPublicAccessBlock"], "Resource": "*"}
CHECKED = ["kms", "s3", "secretsmanager", "acm", "acm-pca", "iam", "cloudhsmv2", "elbv2", "elb", "events", "config"]


def session_in(aws, account: str, role: str = "OrganizationAccountAccessRole") -> boto3.Session:
    creds = client(aws, "sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/{role}",
                                           RoleSessionName="setup")["Credentials"]
    return boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                         aws_session_token=creds["SessionToken"], region_name=REGION)


def organization(aws, members: int = 4) -> list[str]:
    org = client(aws, "organizations")
    org.create_organization(FeatureSet="ALL")
    return [org.create_account(AccountName=f"member-{n}", Email=f"member-{n}@example.com")
            ["CreateAccountStatus"]["AccountId"] for n in range(members)]


def member(aws, account: str, *, role: bool = True, secret_name: str = "db") -> dict:
    """One member's misconfigured resources (a key without rotation, a secret without rotation),
    and, unless role=False, the certwarden-read role with the printed read-only policy."""
    from certwarden.sources.live.permissions import policy_document, trust_policy

    s = session_in(aws, account)
    key = s.client("kms", endpoint_url=aws).create_key(Description=f"key of {account}")["KeyMetadata"]
    secret = s.client("secretsmanager", endpoint_url=aws).create_secret(Name=secret_name, SecretString="x")
    if role:
        iam = s.client("iam", endpoint_url=aws)
        iam.create_role(RoleName="certwarden-read",
                        AssumeRolePolicyDocument=json.dumps(trust_policy(scanner_account=MANAGEMENT)))
        iam.put_role_policy(RoleName="certwarden-read", PolicyName="read", PolicyDocument=json.dumps(
            {**policy_document(), "Statement": [*policy_document()["Statement"], MOTO_NAMES]}))
    return {"key": key["Arn"], "secret": secret["ARN"]}


def as_scanner(aws, monkeypatch, *more_statements: dict) -> None:
    """From here on, calls are made as a management-account user allowed exactly the printed
    scanner-side policy, and moto checks every call (the members' against their role's policy)."""
    from certwarden.sources.live.permissions import scanner_policy

    iam = client(aws, "iam")
    iam.create_user(UserName="scanner")
    doc = scanner_policy("certwarden-read")
    doc["Statement"] += list(more_statements)
    iam.put_user_policy(UserName="scanner", PolicyName="scan", PolicyDocument=json.dumps(doc))
    keys = iam.create_access_key(UserName="scanner")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys["SecretAccessKey"])
    moto_api(aws, "reset-auth", b"0")


def org_live(run_cli, aws, *extra):
    code, out, err = run_cli("live", "--organization", "--endpoint-url", aws, "--region", REGION, "--no-config",
                             "--select", "CW101,CW501", "--service", ",".join(CHECKED), "-o", "json", *extra)
    return code, json.loads(out), err


def test_every_member_is_read_with_its_account_and_a_role_not_assumed_is_one_line(aws, run_cli, monkeypatch):
    *readable, roleless, closed = organization(aws, 5)
    made = {account: member(aws, account) for account in readable}
    member(aws, roleless, role=False)
    member(aws, closed)
    client(aws, "organizations").close_account(AccountId=closed)   # SUSPENDED: not listed as ACTIVE
    # moto lets any role ARN be assumed, existing or not; AWS answers AccessDenied for a role that
    # does not exist, which this Deny gives.
    as_scanner(aws, monkeypatch, {"Effect": "Deny", "Action": "sts:AssumeRole",
                                  "Resource": f"arn:aws:iam::{roleless}:role/certwarden-read"})

    code, report, err = org_live(run_cli, aws, "--exclude-account", MANAGEMENT, "--allow-input-errors")

    assert code == 1, err   # without --allow-input-errors, the account not read fails the run (exit 2)
    got = sorted((f["code"], f["account"], f["arn"]) for f in report["findings"])
    assert got == sorted([*(("CW101", a, m["key"]) for a, m in made.items()),
                          *(("CW501", a, m["secret"]) for a, m in made.items())])
    assert report["errors"] == [{
        "file": f"aws://{roleless}", "line": None,
        "message": f"role arn:aws:iam::{roleless}:role/certwarden-read not assumed, account not read: "
                   "access denied (AssumeRole)"}]
    assert err.strip() == f"certwarden: {report['errors'][0]['file']}: {report['errors'][0]['message']}"


def test_account_filters_and_the_reads_stay_within_the_printed_policies(aws, run_cli, monkeypatch):
    from certwarden.sources import live
    from certwarden.sources.live import organization as org
    from certwarden.sources.live.permissions import ACTIONS

    first, second, third = organization(aws, 3)
    for account in (first, second, third):
        member(aws, account)
    as_scanner(aws, monkeypatch)

    code, report, err = org_live(run_cli, aws, "--account", f"{first},{second}", "--exclude-account", second,
                                 "--account", "999999999999")
    assert {f["account"] for f in report["findings"]} == {first}
    assert [(e["file"], e["message"]) for e in report["errors"]] == [
        ("aws://999999999999", "not an ACTIVE account of the organization")]

    got = org.readers(None, only=[first, second, third], endpoint_url=aws)
    assert got.errors == [] and sorted(r.account for r in got.readers) == sorted([first, second, third])
    read = live.read(got.readers, [REGION, "us-east-2"], CHECKED, max_concurrency=4)
    assert read.errors == []   # every call of every collector, in every member, allowed by the role's policy
    assert {g.unit for g in read.graphs} == {f"aws://{a}" for a in (first, second, third)}
    from test_live_policy import IAM_NAMES
    sent = set().union(*(IAM_NAMES.get(c, {c}) for r in got.readers for c in r.calls))
    assert sent <= set(ACTIONS)


def test_print_policy_for_an_organization(run_cli):
    from certwarden.sources.live.permissions import policy_document

    code, out, _ = run_cli("live", "--organization", "--print-policy", "--role-name", "audit", "--external-id", "x-1")
    assert code == 0
    doc = json.loads(out)
    assert doc["member_role"]["name"] == "audit"
    assert doc["member_role"]["permissions"] == policy_document()
    trust, = doc["member_role"]["trust"]["Statement"]
    assert trust["Action"] == "sts:AssumeRole" and trust["Condition"] == {"StringEquals": {"sts:ExternalId": "x-1"}}
    listing, assume = doc["scanner"]["Statement"]
    assert listing["Action"] == ["organizations:ListAccounts"]
    assert assume["Action"] == ["sts:AssumeRole"] and assume["Resource"] == "arn:aws:iam::*:role/audit"


@pytest.mark.parametrize("argv, message", [
    (["--organization", "--role-arn", "arn:aws:iam::1:role/x"], "--organization and --role-arn"),
    (["--account", "1"], "--account only with --organization"),
    (["--max-concurrency", "0"], "--max-concurrency must be 1 or more"),
])
def test_organization_usage_errors(run_cli, argv, message):
    code, _, err = run_cli("live", *argv)
    assert code == 2 and message in err


@pytest.mark.live
def test_a_region_where_every_service_fails_alike_is_one_line(monkeypatch):
    from certwarden.sources import live
    from certwarden.sources.live.aws import Reader, client_config

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    nowhere = Reader(boto3.Session(region_name=REGION), "111122223333", "http://127.0.0.1:9", client_config(1))

    got = live.read([nowhere], [REGION, "us-east-2"], ["kms", "acm", "s3"])

    reason = "endpoint not reachable (service not offered in this region?)"
    assert [(e.file, e.message) for e in got.errors] == [
        ("aws://111122223333/eu-west-1", reason), ("aws://111122223333/us-east-2", reason),
        ("aws://111122223333/us-east-1/s3", reason)]   # the only service read there: its own line


def test_assumed_role_credentials_are_renewed_before_they_expire(aws):
    """A role session ends after an hour; an organisation's scan can take longer. The session
    certwarden reads an account with asks STS again when its credentials near their expiry."""
    from datetime import datetime, timedelta, timezone

    from certwarden.sources.live.aws import assumed

    sts = client(aws, "sts")
    calls = []
    sts.meta.events.register("before-call.sts.AssumeRole", lambda **_: calls.append(1))
    role = assumed(sts, f"arn:aws:iam::{MANAGEMENT}:role/certwarden-read", REGION)
    assert calls == [1]   # assumed at once: a role that cannot be assumed is reported before any read
    credentials = role.get_credentials()
    first = credentials.get_frozen_credentials().access_key
    kms = role.client("kms", endpoint_url=aws)
    kms.list_keys()
    assert calls == [1]   # far from expiry: no new session
    # As if 55 minutes had passed: the credentials end in 5 minutes (the attribute botocore keeps).
    credentials._expiry_time = datetime.now(timezone.utc) + timedelta(minutes=5)
    kms.list_keys()
    assert calls == [1, 1]
    assert credentials.get_frozen_credentials().access_key != first
