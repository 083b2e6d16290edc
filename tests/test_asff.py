"""ASFF: every finding a live scan can give is a valid BatchImportFindings item (botocore's own
validation), and `certwarden securityhub import` creates, updates and archives on moto."""
from __future__ import annotations

import json

import boto3
import pytest
from botocore.validate import ParamValidator

from conftest import ROOT
from test_live import REGION, as_auditor, client

ACCOUNT = "111122223333"
# The kinds the live collectors produce, with an ARN of each.
LIVE_ARNS = {
    "kms_key": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "s3_bucket": "arn:aws:s3:::logs",
    "secret": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db-AbCdEf",
    "acm_certificate": f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/12345678-1234-1234-1234-123456789012",
    "pca_authority": f"arn:aws:acm-pca:{REGION}:{ACCOUNT}:certificate-authority/12345678-1234-1234-1234-1234567890ab",
    "iam_server_certificate": f"arn:aws:iam::{ACCOUNT}:server-certificate/legacy",
    "cloudhsm_cluster": f"arn:aws:cloudhsm:{REGION}:{ACCOUNT}:cluster/cluster-abcdefghijk",
    "lb_listener": f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2",
    "cloudfront_distribution": f"arn:aws:cloudfront::{ACCOUNT}:distribution/EDFDVBD6EXAMPLE",
    "apigw_domain": f"arn:aws:apigateway:{REGION}::/domainnames/api.example.com",
}
TYPES = {"kms_key": "AwsKmsKey", "s3_bucket": "AwsS3Bucket", "acm_certificate": "AwsCertificateManagerCertificate",
         "secret": "AwsSecretsManagerSecret", "cloudfront_distribution": "AwsCloudFrontDistribution"}


def validate(findings: list[dict]) -> None:
    shape = boto3.client("securityhub", region_name=REGION).meta.service_model \
        .operation_model("BatchImportFindings").input_shape
    for start in range(0, len(findings), 100):
        report = ParamValidator().validate({"Findings": findings[start:start + 100]}, shape)
        assert not report.has_errors(), report.generate_report()


def every_live_finding(rules):
    """A finding of every live rule on every kind it judges, plain and for review (--strict)."""
    from certwarden.findings import Finding, ScanResult
    from certwarden.model import Where

    out = []
    for rule in rules:
        for kind in [k for k in rule.kinds if k in LIVE_ARNS] if "live" in rule.sources else []:
            arn = LIVE_ARNS[kind]
            for review in (False, True):
                out.append(Finding(rule.code, rule.name, rule.severity, "x" * 2000, "live", kind, arn.rsplit("/", 1)[-1],
                                   "AWS::X::Y", Where(arn=arn, region=None if kind == "s3_bucket" else REGION,
                                                      account=ACCOUNT), attr="rotation_enabled", review=review))
    return ScanResult(findings=out, rules=rules, live=True)


def test_every_rule_that_fires_on_live_state_gives_valid_asff(rules):
    from datetime import datetime, timezone

    from certwarden.report import asff

    result = every_live_finding(rules)
    got = asff.findings(result, datetime(2026, 6, 1, tzinfo=timezone.utc))
    live_rules = {r.code for r in rules if "live" in r.sources and set(r.kinds) & set(LIVE_ARNS)}
    assert live_rules == {r.code for r in rules if "live" in r.sources}
    assert {f["GeneratorId"] for f in got} == live_rules and len(got) == len(result.findings)
    validate(got)
    by_rule = {r.code: r for r in rules}
    for f, source in zip(got, result.findings):
        rule = by_rule[f["GeneratorId"]]
        assert f["Id"] == f"certwarden/{rule.code}/{source.fingerprint}"
        assert f["Types"] == ["Software and Configuration Checks/AWS Security Best Practices/AWS Well-Architected SEC09-BP01"]
        assert f["Compliance"]["Status"] == ("NOT_AVAILABLE" if source.review else "FAILED")
        assert f["Compliance"]["RelatedRequirements"][0] == "AWS Well-Architected SEC09-BP01"
        for ref in rule.refs:
            assert ref.split(" ", 1)[-1] in " ".join(f["Compliance"]["RelatedRequirements"])
        url = f["Remediation"]["Recommendation"]["Url"]
        assert url.endswith(f"docs/rules/{rule.code}.md") and (ROOT / "docs" / "rules" / f"{rule.code}.md").exists()
        resource, = f["Resources"]
        assert resource["Type"] == TYPES.get(source.kind, "Other") and resource["Id"] == source.where.arn
        assert f["ProductArn"] == f"arn:aws:securityhub:{f['Region']}:{ACCOUNT}:product/{ACCOUNT}/default"
    kms = next(f for f in got if f["GeneratorId"] == "CW101")
    assert "AWS Security Hub KMS.4" in kms["Compliance"]["RelatedRequirements"]
    assert "AWS Well-Architected SEC09-BP01 rotation" in kms["Compliance"]["RelatedRequirements"]


def asff_of_live(run_cli, aws, path, *extra) -> list[dict]:
    code, _, err = run_cli("live", "--endpoint-url", aws, "--region", REGION, "--no-config", "-o", f"asff={path}", *extra)
    assert code in (0, 1), err
    return json.loads(path.read_text())["Findings"]


def test_a_live_run_writes_valid_asff_with_ids_that_a_rerun_keeps(aws, run_cli, tmp_path):
    from test_live_policy import one_of_everything

    one_of_everything(aws)
    first = asff_of_live(run_cli, aws, tmp_path / "a.json")
    second = asff_of_live(run_cli, aws, tmp_path / "b.json")
    validate(first)
    assert len(first) > 5 and [f["Id"] for f in first] == [f["Id"] for f in second]
    assert {"AwsKmsKey", "AwsS3Bucket", "AwsSecretsManagerSecret", "AwsCertificateManagerCertificate"} <= \
        {r["Type"] for f in first for r in f["Resources"]}


def hub_findings(aws) -> dict[str, dict]:
    return {f["Id"]: f for f in client(aws, "securityhub").get_findings()["Findings"]}


def test_import_creates_updates_and_archives_on_the_hub(aws, run_cli, tmp_path, monkeypatch):
    from certwarden.securityhub import import_policy

    kms = client(aws, "kms")
    keys = [kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(3)]
    report = tmp_path / "asff.json"
    asff_of_live(run_cli, aws, report, "--select", "CW101")
    hub = client(aws, "securityhub")
    foreign = {**json.loads(report.read_text())["Findings"][0], "Id": "someone-else/1", "GeneratorId": "other"}
    hub.batch_import_findings(Findings=[foreign])
    # From here on as a principal allowed only the actions of the documented import policy (moto
    # checks every call's action, against the resource "*": so the statements name "*" here).
    as_auditor(aws, monkeypatch, ["sts:GetCallerIdentity"],
               *({**st, "Resource": "*"} for st in import_policy()["Statement"]))

    code, _, err = run_cli("securityhub", "import", report, "--endpoint-url", aws, "--region", REGION)
    assert code == 0, err
    assert err.strip().endswith(": 3 new, 0 updated, 0 archived, 0 failed")
    product = f"arn:aws:securityhub:{REGION}:123456789012:product/123456789012/default"
    assert f"certwarden: securityhub {product}:" in err
    moto_api_reset_auth(aws)
    ours = {i: f for i, f in hub_findings(aws).items() if i.startswith("certwarden/")}
    assert len(ours) == 3 and {f["ProductArn"] for f in ours.values()} == {product}
    assert {f["RecordState"] for f in ours.values()} == {"ACTIVE"}

    kms.enable_key_rotation(KeyId=keys[0])   # fixed: its finding is gone from the next report
    asff_of_live(run_cli, aws, report, "--select", "CW101")
    code, _, err = run_cli("securityhub", "import", report, "--endpoint-url", aws, "--region", REGION)
    assert code == 0 and err.strip().endswith(": 0 new, 2 updated, 1 archived, 0 failed"), err
    after = hub_findings(aws)
    archived = [f for i, f in after.items() if i.startswith("certwarden/") and f["RecordState"] == "ARCHIVED"]
    assert len(archived) == 1 and keys[0] in archived[0]["Resources"][0]["Id"]
    assert after["someone-else/1"]["RecordState"] == "ACTIVE"   # another product's finding is left alone
    assert len([i for i in after if i.startswith("certwarden/")]) == 3   # updated in place, never duplicated


def moto_api_reset_auth(aws) -> None:
    from conftest import moto_api

    moto_api(aws, "reset-auth", b"inf")


@pytest.mark.parametrize("content, message", [
    ('{"Findings": [{"Id": "x"}]}', "not a certwarden ASFF report"),
    ("[1, 2]", "not a certwarden ASFF report"),
    ("{", "is not JSON"),
])
def test_import_refuses_what_is_not_a_certwarden_asff_report(run_cli, tmp_path, content, message):
    path = tmp_path / "r.json"
    path.write_text(content)
    code, _, err = run_cli("securityhub", "import", path)
    assert code == 2 and message in err and "Traceback" not in err


def test_the_docs_show_the_import_policy_apart_from_the_read_only_one(run_cli):
    code, out, _ = run_cli("securityhub", "import", "--print-policy")
    assert code == 0
    doc = json.loads(out)
    assert {a for st in doc["Statement"] for a in st["Action"]} == {"securityhub:BatchImportFindings",
                                                                   "securityhub:GetFindings"}
    assert out in (ROOT / "docs" / "live.md").read_text()
