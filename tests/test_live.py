"""Live scans against a real moto server on 127.0.0.1: resources are created through boto3, then
`certwarden live` reads them back (reads only) and the rules judge them like template nodes."""
from __future__ import annotations

import json

import boto3
import pytest

from conftest import moto_api

REGION = "eu-west-1"


def client(aws, service, region=REGION):
    return boto3.client(service, region_name=region, endpoint_url=aws)


def live(run_cli, aws, *extra):
    """Run `certwarden live` with JSON on stdout; returns (exit code, findings, stderr)."""
    code, out, err = run_cli("live", "--endpoint-url", aws, "--region", REGION, "--no-config", "-o", "json", *extra)
    return code, json.loads(out)["findings"], err


def hits(findings, code):
    return sorted((f["resource"], f["region"], f["account"]) for f in findings if f["code"] == code)


def as_auditor(aws, monkeypatch, allowed: list[str], *more_statements: dict) -> None:
    """From here on, calls are made as a user allowed only these actions (and whatever the extra
    policy statements say), and moto checks them."""
    iam = client(aws, "iam")
    iam.create_user(UserName="auditor")
    iam.put_user_policy(UserName="auditor", PolicyName="read", PolicyDocument=json.dumps(
        {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Action": allowed, "Resource": "*"}, *more_statements]}))
    keys = iam.create_access_key(UserName="auditor")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys["SecretAccessKey"])
    moto_api(aws, "reset-auth", b"0")


# -- KMS -------------------------------------------------------------------------------------------
def test_kms_keys_are_judged_by_the_same_rules_as_templates(aws, run_cli):
    kms = client(aws, "kms")
    plain = kms.create_key(Description="no rotation")["KeyMetadata"]
    kms.create_alias(AliasName="alias/plain", TargetKeyId=plain["KeyId"])
    rotated = kms.create_key(Description="rotated")["KeyMetadata"]
    kms.enable_key_rotation(KeyId=rotated["KeyId"])
    signing = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    doomed = kms.create_key()["KeyMetadata"]
    kms.enable_key_rotation(KeyId=doomed["KeyId"])
    kms.schedule_key_deletion(KeyId=doomed["KeyId"], PendingWindowInDays=7)
    open_policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Everyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}]}
    public = kms.create_key(Policy=json.dumps(open_policy))["KeyMetadata"]
    kms.enable_key_rotation(KeyId=public["KeyId"])

    code, findings, err = live(run_cli, aws, "--select", "CW101,CW103,CW106")

    assert code == 1, err
    account = plain["Arn"].split(":")[4]
    # the symmetric key without rotation, named by its alias; the RSA signing key cannot rotate
    assert hits(findings, "CW101") == [("alias/plain", REGION, account)]
    assert hits(findings, "CW106") == [(doomed["KeyId"], REGION, account)]
    assert hits(findings, "CW103") == [(public["KeyId"], REGION, account)]
    by_code = {f["code"]: f for f in findings}
    assert by_code["CW101"]["arn"] == plain["Arn"]
    assert by_code["CW101"]["file"] is None and by_code["CW101"]["source"] == "live"
    assert signing["Arn"] not in {f["arn"] for f in findings}


def test_sarif_of_a_live_scan_names_the_arn(aws, run_cli, tmp_path):
    kms = client(aws, "kms")
    key = kms.create_key()["KeyMetadata"]
    out = tmp_path / "live.sarif"
    code, _, err = run_cli("live", "--endpoint-url", aws, "--region", REGION, "--no-config",
                           "--select", "CW101", "-o", f"sarif={out}")
    assert code == 1, err
    from github_sarif import upload_problems

    assert upload_problems(out.read_text()) == []   # code scanning refuses a result without a physical location
    result, = json.loads(out.read_text())["runs"][0]["results"]
    assert result["ruleId"] == "CW101"
    assert result["properties"]["arn"] == key["Arn"]
    account = key["Arn"].split(":")[4]
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": f"aws/{account}/{REGION}/kms", "uriBaseId": "SRCROOT"}, "region": {"startLine": 1}}
    assert result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == key["Arn"]


# -- reads only, and failures that stop one service in one region -----------------------------------
def test_the_reader_refuses_any_call_that_is_not_a_read(aws):
    from certwarden.sources.live.aws import WriteRefused, readers

    reader, = readers(None, [], aws)
    kms = reader.client("kms", REGION)
    assert kms.list_keys()["Keys"] == []
    with pytest.raises(WriteRefused, match="kms:CreateKey is not a read"):
        kms.create_key()
    assert client(aws, "kms").list_keys()["Keys"] == []   # nothing was created


def test_access_denied_is_reported_per_service_and_region_and_the_rest_is_read(aws, run_cli, monkeypatch):
    kms = client(aws, "kms")
    kms.create_key()
    as_auditor(aws, monkeypatch, ["kms:ListKeys", "kms:ListAliases", "kms:DescribeKey", "kms:GetKeyRotationStatus",
                                  "kms:ListResourceTags", "sts:GetCallerIdentity"])   # no kms:GetKeyPolicy

    code, findings, err = live(run_cli, aws, "--select", "CW101,CW103", "--region", "us-east-2",
                               "--service", "kms", "--allow-input-errors")

    # eu-west-1: the key is read, its policy is not (so CW103 stays silent); us-east-2 is read too
    assert hits(findings, "CW101") != [] and hits(findings, "CW103") == []
    key = findings[0]["arn"].rsplit("/", 1)[-1]
    assert f"aws://{findings[0]['account']}/{REGION}/kms: GetKeyPolicy of {key}: access denied (GetKeyPolicy)" in err
    assert code == 1   # tolerated; without --allow-input-errors the unread policy fails the run:
    assert live(run_cli, aws, "--select", "CW101", "--service", "kms")[0] == 2


def test_an_unreachable_endpoint_is_one_line_and_exit_2(aws, run_cli):
    code, out, err = run_cli("live", "--endpoint-url", "http://127.0.0.1:9", "--region", REGION, "--no-config",
                             "--max-attempts", "1")
    assert code == 2
    assert err.strip().startswith("certwarden: AWS credentials: endpoint not reachable")
    assert "Traceback" not in err


def test_kms_rotation_period_policy_grants_tags_and_origin(aws, run_cli):
    kms = client(aws, "kms")
    account = boto3.client("sts", region_name=REGION, endpoint_url=aws).get_caller_identity()["Account"]
    root = f"arn:aws:iam::{account}:root"

    def policy(*statements):
        return json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"},
            *statements]})

    def key(alias, **kw):
        meta = kms.create_key(**kw)["KeyMetadata"]
        kms.create_alias(AliasName=f"alias/{alias}", TargetKeyId=meta["KeyId"])
        if kw.get("Origin") != "EXTERNAL":
            kms.enable_key_rotation(KeyId=meta["KeyId"])
        return meta

    tags = [{"TagKey": "Environment", "TagValue": "prod"}]
    key("admin", Tags=tags, Policy=policy({"Sid": "Dev", "Effect": "Allow", "Action": "kms:*", "Resource": "*",
                                           "Principal": {"AWS": f"arn:aws:iam::{account}:user/dev"}}))
    key("shared", Tags=tags, Policy=policy({"Sid": "Partner", "Effect": "Allow", "Action": "kms:Decrypt",
                                            "Resource": "*", "Principal": {"AWS": "arn:aws:iam::999988887777:root"}}))
    key("untagged", Policy=policy())
    key("needs-hsm", Tags=[*tags, {"TagKey": "hsm-required", "TagValue": "true"}], Policy=policy())
    key("imported", Tags=tags, Policy=policy(), Origin="EXTERNAL")
    key("good", Tags=tags, Policy=policy())

    code, findings, err = live(run_cli, aws, "--select", "CW104,CW107,CW702,CW703,CW802")

    assert code == 1, err
    named = sorted((f["code"], f["resource"]) for f in findings)
    assert named == [("CW104", "alias/admin"), ("CW107", "alias/untagged"), ("CW702", "alias/needs-hsm"),
                     ("CW703", "alias/imported"), ("CW802", "alias/shared")]


def test_kms_rotation_period_over_a_year(aws, run_cli, monkeypatch):
    from test_live_certs import stub

    arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    key_id = arn.rsplit("/", 1)[1]
    meta = {"KeyId": key_id, "Arn": arn, "KeyManager": "CUSTOMER", "KeySpec": "SYMMETRIC_DEFAULT",
            "KeyUsage": "ENCRYPT_DECRYPT", "Origin": "AWS_KMS", "KeyState": "Enabled"}
    # moto's GetKeyRotationStatus has no RotationPeriodInDays: the KMS reads of one key come from
    # botocore's Stubber (checked against the real API model); STS still answers from moto.
    stub(monkeypatch, "kms", ("list_aliases", {"Aliases": []}), ("list_keys", {"Keys": [{"KeyId": key_id}]}),
         ("describe_key", {"KeyMetadata": meta}),
         ("get_key_rotation_status", {"KeyRotationEnabled": True, "RotationPeriodInDays": 730}),
         ("get_key_policy", {"Policy": "{}"}), ("list_resource_tags", {"Tags": []}))

    code, findings, err = live(run_cli, aws, "--select", "CW102", "--service", "kms")

    assert code == 1, err
    assert [(f["code"], f["resource"], f["arn"]) for f in findings] == [("CW102", key_id, arn)]
    assert "730" in findings[0]["message"]


def test_an_error_page_in_place_of_an_aws_answer_is_still_one_line():
    from botocore.exceptions import ClientError

    from certwarden.sources.live.aws import problem

    page = "<!doctype html>\n<html>\n<title>500 Internal Server Error</title>\n</html>"
    exc = ClientError({"Error": {"Code": "500", "Message": page}, "ResponseMetadata": {"HTTPStatusCode": 500}},
                      "DescribeClusters")
    assert problem(exc) == "500 (DescribeClusters)"
    exc = ClientError({"Error": {"Code": "ValidationException", "Message": "bad\n  input"}}, "ListKeys")
    assert problem(exc) == "ValidationException (ListKeys): bad input"


def test_text_summary_of_a_live_scan_counts_resources_and_service_regions(aws, run_cli):
    client(aws, "kms").create_key()
    code, out, err = run_cli("live", "--endpoint-url", aws, "--region", f"{REGION},us-east-2", "--no-config",
                             "--service", "kms,iam", "--select", "CW101")
    assert code == 1, err
    assert out.splitlines()[-1] == "1 finding (1 high) in 1 resource; 3 service-regions read"


def test_a_service_region_that_failed_is_named_by_its_aws_uri_in_every_report(aws, run_cli, monkeypatch, tmp_path):
    from github_sarif import upload_problems

    as_auditor(aws, monkeypatch, ["sts:GetCallerIdentity"])   # every KMS read is denied
    sarif, report = tmp_path / "r.sarif", tmp_path / "r.json"
    code, _, err = run_cli("live", "--endpoint-url", aws, "--region", REGION, "--no-config", "--service", "kms",
                           "-o", f"sarif={sarif}", "-o", f"json={report}")

    assert code == 2, err   # nothing could be read
    error, = json.loads(report.read_text())["errors"]
    assert error["file"] == f"aws://123456789012/{REGION}/kms" and error["message"] == "access denied (ListAliases)"
    assert upload_problems(sarif.read_text()) == []
    note, = json.loads(sarif.read_text())["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert note["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": f"aws/123456789012/{REGION}/kms", "uriBaseId": "SRCROOT"}   # the checkout's scheme, as results


# -- --region all: the regions enabled for the account ------------------------------------------
def _regions_stub(monkeypatch, answer: dict | None):
    """Account ListRegions (moto has no Account region API) answered by botocore's Stubber: the
    regions given, or AccessDenied when answer is None. EC2 stays moto's."""
    from botocore.stub import Stubber

    from certwarden.sources.live import aws as live_aws

    real = live_aws.Reader.client
    wanted = {"RegionOptStatusContains": ["ENABLED", "ENABLED_BY_DEFAULT"]}

    def client_(self, name, region):
        made = real(self, name, region)
        if name == "account":
            stubber = Stubber(made)
            if answer is None:
                stubber.add_client_error("list_regions", "AccessDeniedException", http_status_code=403,
                                         expected_params=wanted)
            else:
                stubber.add_response("list_regions", answer, wanted)
            stubber.activate()
        return made
    monkeypatch.setattr(live_aws.Reader, "client", client_)


def test_region_all_reads_the_regions_the_account_enabled(aws, run_cli, monkeypatch):
    _regions_stub(monkeypatch, {"Regions": [{"RegionName": "us-east-1", "RegionOptStatus": "ENABLED_BY_DEFAULT"},
                                            {"RegionName": "eu-west-1", "RegionOptStatus": "ENABLED_BY_DEFAULT"},
                                            {"RegionName": "af-south-1", "RegionOptStatus": "ENABLED"}]})
    for region in ("eu-west-1", "af-south-1", "ap-east-1", "us-west-2"):   # ap-east-1, us-west-2: not listed
        client(aws, "kms", region).create_key(Description=region)

    code, findings, err = live(run_cli, aws, "--region", "all", "--service", "kms", "--select", "CW101")

    assert code == 1, err
    assert sorted(f["region"] for f in findings) == ["af-south-1", "eu-west-1"]


def test_region_all_falls_back_to_ec2_describe_regions_without_opt_in_regions(aws, run_cli, monkeypatch):
    _regions_stub(monkeypatch, None)   # account:ListRegions denied
    for region in ("eu-west-1", "ap-east-1"):   # ap-east-1: an opt-in region (moto: not opted in)
        client(aws, "kms", region).create_key(Description=region)
    from certwarden.sources.live.aws import all_regions, readers

    reader, = readers(None, [], aws)
    regions = all_regions(reader)
    assert reader.calls == {"account:ListRegions": 1, "ec2:DescribeRegions": 1}
    ec2 = client(aws, "ec2").describe_regions(AllRegions=True)["Regions"]
    assert regions == sorted(r["RegionName"] for r in ec2 if r["OptInStatus"] != "not-opted-in"
                             and not r["RegionName"].startswith(("us-gov-", "cn-")))   # moto lists other partitions
    assert "eu-west-1" in regions and "ap-east-1" not in regions

    code, findings, err = live(run_cli, aws, "--region", "all", "--service", "kms", "--select", "CW101")

    assert code == 1, err
    assert [f["region"] for f in findings] == ["eu-west-1"]


def test_region_all_says_in_one_line_when_no_region_list_can_be_read(aws, run_cli, monkeypatch):
    from certwarden.sources.live import aws as live_aws

    _regions_stub(monkeypatch, None)
    real = live_aws.Reader.client

    def no_ec2(self, name, region):
        made = real(self, name, region)
        if name == "ec2":
            from botocore.stub import Stubber

            stubber = Stubber(made)
            stubber.add_client_error("describe_regions", "UnauthorizedOperation", http_status_code=403)
            stubber.activate()
        return made
    monkeypatch.setattr(live_aws.Reader, "client", no_ec2)

    code, out, err = run_cli("live", "--endpoint-url", aws, "--region", "all", "--no-config", "-o", "json")

    assert (code, out) == (2, "")
    assert err == "certwarden: --region all: the enabled regions could not be read: access denied (DescribeRegions)\n"
