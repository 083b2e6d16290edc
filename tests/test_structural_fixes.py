"""Structural fixes (`fix.add`), end to end: each failing CloudFormation fixture of a rule with one,
as YAML and as JSON, is fixed and scanned again clean of that rule; original lines change only
inside the resources the pattern touches; cfn-lint finds nothing new; the resources added of
types the moto server deploys are created there by create_stack. And the seed's example stack,
fixed with `certwarden fix --unsafe-fixes --output-dir`, serves its CRL privately through
CloudFront."""
from __future__ import annotations

import difflib
import json
import shutil
from pathlib import Path

import pytest

from conftest import FIXED_NOW, FIXTURES, ROOT
from fixture_support import expectations, fixture_config
from certwarden import fixes
from certwarden.options import Options
from certwarden.rulepack import load_rules, select
from certwarden.scan import scan
from certwarden.sources.cloudformation.patterns import PATTERNS
from certwarden.sources.loader import load

cfnlint_api = pytest.importorskip("cfnlint.api")

RULES = {r.code: r for r in load_rules()}
ADD_RULES = sorted(code for code, r in RULES.items() if (r.fix or {}).get("add"))
EXAMPLE = ROOT / "fixtures" / "examples" / "certificate-infrastructure.yaml"
# Resource types moto's CloudFormation creates (moto/*/models.py cloudformation_type()).
MOTO_TYPES = {"AWS::KMS::Key", "AWS::SNS::Topic", "AWS::Events::Rule", "AWS::S3::Bucket"}
# Findings the pattern does not apply to, and why.
LEFT = {
    # no database in the template: the rotation function is the secret owner's choice
    ("CW501", "NeverRotated"),
    # public buckets no CA writes to: who should read them is the owner's choice
    ("CW403", "Site"), ("CW403", "Referer"),
}


def _cases():
    for code in ADD_RULES:
        for entry in sorted((FIXTURES / code).glob("cfn_fail*")):
            if entry.name.endswith(".expect.yaml") or not expectations(entry):
                continue
            yield pytest.param(code, entry, "yaml", id=f"{code}-{entry.name}")
            yield pytest.param(code, entry, "json", id=f"{code}-{entry.stem}.json")


def _copy(entry: Path, form: str, tmp_path: Path) -> Path:
    if form == "json":   # the same template as JSON
        out = tmp_path / (entry.stem + ".json")
        out.write_text(json.dumps(load(entry.read_bytes()), indent=2, default=str) + "\n")
        return out
    out = tmp_path / entry.name
    shutil.copy(entry, out)
    return out


def _lint(text: str) -> set[tuple[str, str]]:
    matches = cfnlint_api.lint(text, config=cfnlint_api.ManualArgs(regions=["us-east-1", "eu-west-1"]))
    return {(m.rule.id, m.message) for m in matches}


def _span_of(resources, name) -> range:
    body = resources[name]
    return range(resources.pos[name][0], body.end_line + 1)


def _changed_lines_are_in(before: str, after: str, allowed: list[range]) -> None:
    """Every original line that is gone or replaced lies in one of the allowed line ranges."""
    a, b = before.splitlines(), after.splitlines()
    for op, i1, i2, _, _ in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op in ("replace", "delete"):
            for i in range(i1, i2):
                assert any(i + 1 in r for r in allowed), f"line {i + 1} changed: {a[i]!r}"


@pytest.mark.parametrize("code,entry,form", list(_cases()))
def test_structural_fix_removes_the_finding(code, entry, form, tmp_path):
    target = _copy(entry, form, tmp_path)
    rules = select(list(RULES.values()), [code], None)
    options = Options(now=FIXED_NOW, config=fixture_config(entry, code, list(RULES.values())))
    result = scan([str(target)], rules, options)
    before = {(f.code, f.resource) for f in result.findings}
    assert before == {(c, r) for c, r, _, _ in expectations(entry)}
    text = target.read_text()
    plan = fixes.plan(result, unsafe=True)
    assert {(f.code, f.resource) for f in plan.fixed} == before - LEFT
    assert {(f.code, f.resource) for f in plan.declined} == before & LEFT
    assert fixes.write(plan, result.roots)[1] == []
    assert {(f.code, f.resource) for f in scan([str(target)], rules, options).findings} == before & LEFT
    after = target.read_text()

    doc = load(text.encode())
    pattern = PATTERNS[RULES[code].fix["add"]]
    # what the pattern changes, or the resource itself where its value fix is made instead
    touched = {name for _, resource in before for change in [pattern(doc, resource)]
               for name in ([*change.set, *change.replace] if change else [resource])}
    _changed_lines_are_in(text, after, [_span_of(doc["Resources"], n) for n in touched])
    if form == "yaml":
        for line in text.splitlines():
            if line.strip().startswith("#"):
                assert line in after.splitlines(), f"comment lost: {line!r}"
    assert _lint(after) - _lint(text) == set()


def test_a_second_run_adds_nothing(tmp_path, run_cli):
    target = tmp_path / "stack.yaml"
    shutil.copy(FIXTURES / "CW801" / "cfn_fail.yaml", target)
    assert run_cli("fix", target, "--no-config", "--select", "CW801", "--write")[0] == 0
    once = target.read_text()
    assert once.count("# Added by certwarden fix (expiry-monitoring)") == 1
    code, out, _ = run_cli("fix", target, "--no-config", "--select", "CW801")
    assert code == 0 and out == ""
    assert target.read_text() == once


def test_a_bucket_made_elsewhere_gets_the_acl_only(tmp_path):
    """The private-crl pattern needs the template's own bucket; else CW304's value fix."""
    target = tmp_path / "ca.yaml"
    target.write_text(
        "Resources:\n"
        "  CA:\n"
        "    Type: AWS::ACMPCA::CertificateAuthority\n"
        "    Properties:\n"
        "      Type: SUBORDINATE\n"
        "      KeyAlgorithm: RSA_2048\n"
        "      SigningAlgorithm: SHA256WITHRSA\n"
        "      Subject: {CommonName: sub}\n"
        "      RevocationConfiguration:\n"
        "        CrlConfiguration:\n"
        "          Enabled: true\n"
        "          S3BucketName: shared-crl-bucket\n"
        "          S3ObjectAcl: PUBLIC_READ\n")
    rules = select(list(RULES.values()), ["CW304"], None)
    result = scan([str(target)], rules, Options(now=FIXED_NOW))
    plan = fixes.plan(result, unsafe=True)
    assert [f.resource for f in plan.fixed] == ["CA"]
    assert plan.texts[str(target)].splitlines()[12] == "          S3ObjectAcl: BUCKET_OWNER_FULL_CONTROL"
    assert "Distribution" not in plan.texts[str(target)]


def _fixed_example(run_cli, tmp_path) -> tuple[Path, dict]:
    out = tmp_path / "fixed"
    code, _, err = run_cli("fix", EXAMPLE, "--no-config", "--unsafe-fixes", "--output-dir", out)
    assert code == 0, err
    fixed = out / EXAMPLE.name
    return fixed, load(fixed.read_bytes())


def test_the_example_stack_serves_its_crl_privately_through_cloudfront(run_cli, tmp_path):
    fixed, t = _fixed_example(run_cli, tmp_path)
    res = t["Resources"]
    assert res["CRLBucket"]["Properties"]["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    crl = res["PrivateCA"]["Properties"]["RevocationConfiguration"]["CrlConfiguration"]
    assert crl["S3ObjectAcl"] == "BUCKET_OWNER_FULL_CONTROL" and crl["Enabled"] is True
    assert crl["CustomCname"] == {"Fn::GetAtt": ["CRLBucketDistribution", "DomainName"]}
    assert res["PrivateCA"]["DependsOn"] == "CRLBucketPolicy"
    statements = res["CRLBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert [s["Principal"] for s in statements] == [{"Service": "acm-pca.amazonaws.com"},
                                                    {"Service": "cloudfront.amazonaws.com"}]
    pca, cloudfront = statements
    assert sorted(pca["Action"]) == ["s3:GetBucketAcl", "s3:GetBucketLocation", "s3:PutObject", "s3:PutObjectAcl"]
    assert set(pca["Condition"]) == {"StringEquals", "ArnLike"}
    assert pca["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert "aws:SourceArn" in pca["Condition"]["ArnLike"]
    assert cloudfront["Action"] == "s3:GetObject"
    assert "${CRLBucketDistribution}" in cloudfront["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    dist = res["CRLBucketDistribution"]["Properties"]["DistributionConfig"]
    [origin] = dist["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": ["CRLBucket", "RegionalDomainName"]}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["CRLBucketOriginAccessControl", "Id"]}
    oac = res["CRLBucketOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"], oac["SigningProtocol"]) == ("s3", "always", "sigv4")
    assert dist["DefaultCacheBehavior"]["TargetOriginId"] == origin["Id"]
    # relying parties can still fetch the CRL: plain HTTP allowed, GET reaches the bucket
    assert dist["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "allow-all"
    assert "GET" in dist["DefaultCacheBehavior"]["AllowedMethods"]


def test_the_fixed_example_stack_lints_and_scans_clean_but_for_human_decisions(run_cli, tmp_path):
    fixed, _ = _fixed_example(run_cli, tmp_path)
    # The stack's own W2531 (its Lambda's python3.9 runtime is deprecated) is there before the
    # fix: moving the function's code to a newer runtime is its owner's decision.
    assert _lint(fixed.read_text()) == {m for m in _lint(EXAMPLE.read_text()) if m[0] == "W2531"}
    code, out, _ = run_cli("scan", fixed, "--no-config", "--now", "2026-01-01", "-o", "json")
    left = {(f["code"], f["resource"]) for f in json.loads(out)["findings"]}
    # the CRL distribution is on CloudFront's default certificate until it gets a domain of its own
    assert left == {("CW602", "CRLBucketDistribution")}


def _deployable(template: dict, added: set[str]) -> dict:
    """The added resources of types moto's CloudFormation creates. moto turns a KMS key's Tags
    into its own shape and fails on CloudFormation's (KeyError 'TagKey' in kms create_key), so
    keys go without them here; cfn-lint checks the template with them."""
    out = {}
    for name in added:
        body = json.loads(json.dumps(template["Resources"][name]))
        if body["Type"] in MOTO_TYPES:
            if body["Type"] == "AWS::KMS::Key":
                body["Properties"].pop("Tags", None)
            out[name] = body
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": out}


def test_added_resources_deploy_on_the_moto_server(aws, run_cli, tmp_path):
    import boto3

    fixed, t = _fixed_example(run_cli, tmp_path)
    original = load(EXAMPLE.read_bytes())["Resources"]
    added = set(t["Resources"]) - set(original)
    assert added == {"CertificateExpiryKey", "CertificateExpiryTopic", "CertificateExpiryTopicPolicy",
                     "CertificateExpiryRule", "CRLBucketOriginAccessControl", "CRLBucketDistribution"}
    secret = tmp_path / "secret.yaml"
    shutil.copy(FIXTURES / "CW503" / "cfn_fail.yaml", secret)
    assert run_cli("fix", secret, "--no-config", "--select", "CW503", "--unsafe-fixes", "--write")[0] == 0
    s = load(secret.read_bytes())
    key_names = set(s["Resources"]) - set(load((FIXTURES / "CW503" / "cfn_fail.yaml").read_bytes())["Resources"])
    stack = _deployable(t, added)
    stack["Resources"].update(_deployable(s, key_names)["Resources"])
    assert {b["Type"] for b in stack["Resources"].values()} == {"AWS::KMS::Key", "AWS::SNS::Topic", "AWS::Events::Rule"}

    cfn = boto3.client("cloudformation", region_name="us-east-1", endpoint_url=aws)
    cfn.create_stack(StackName="fixed", TemplateBody=json.dumps(stack))
    status = cfn.describe_stacks(StackName="fixed")["Stacks"][0]["StackStatus"]
    assert status == "CREATE_COMPLETE"
    made = {r["LogicalResourceId"]: r["PhysicalResourceId"]
            for r in cfn.describe_stack_resources(StackName="fixed")["StackResources"]}
    assert set(made) == set(stack["Resources"])
    events = boto3.client("events", region_name="us-east-1", endpoint_url=aws)
    rule = events.describe_rule(Name=made["CertificateExpiryRule"])
    assert json.loads(rule["EventPattern"])["source"] == ["aws.acm"]
    sns = boto3.client("sns", region_name="us-east-1", endpoint_url=aws)
    attrs = sns.get_topic_attributes(TopicArn=made["CertificateExpiryTopic"])["Attributes"]
    assert attrs["KmsMasterKeyId"] == made["CertificateExpiryKey"]
    kms = boto3.client("kms", region_name="us-east-1", endpoint_url=aws)
    for name in ("CertificateExpiryKey", *key_names):
        assert kms.get_key_rotation_status(KeyId=made[name])["KeyRotationEnabled"] is True


def test_a_declined_fix_says_what_to_do(tmp_path, run_cli):
    target = tmp_path / "secret.yaml"
    shutil.copy(FIXTURES / "CW501" / "cfn_fail.yaml", target)
    code, _, err = run_cli("fix", target, "--no-config", "--select", "CW501", "--unsafe-fixes", "--write")
    assert code == 0
    assert f"certwarden: {target}:4: CW501 NeverRotated not fixed automatically: " \
           "Add a rotation schedule with a rotation function." in err.splitlines()


def test_the_hosted_rotation_matches_the_database(tmp_path):
    """CW501 on a secret attached to a PostgreSQL instance: the function AWS hosts for PostgreSQL,
    in the database's subnets and security groups, and the transform that makes it."""
    target = tmp_path / "db.yaml"
    shutil.copy(FIXTURES / "CW501" / "cfn_fail_database.yaml", target)
    result = scan([str(target)], select(list(RULES.values()), ["CW501"], None), Options(now=FIXED_NOW))
    plan = fixes.plan(result, unsafe=True)
    fixed = load(plan.texts[str(target)].encode())
    assert fixed["Transform"] == "AWS::SecretsManager-2020-07-23"
    schedule = fixed["Resources"]["DatabaseSecretRotationSchedule"]["Properties"]
    assert schedule["SecretId"] == {"Ref": "DatabaseSecret"}
    hosted = schedule["HostedRotationLambda"]
    assert hosted["RotationType"] == "PostgreSQLSingleUser"
    assert hosted["VpcSubnetIds"] == {"Fn::Join": [",", ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]]}
    assert hosted["VpcSecurityGroupIds"] == {"Fn::Join": [",", ["sg-0123456789abcdef0"]]}


@pytest.mark.parametrize("code", ["CW401", "CW403"])
def test_a_crl_buckets_own_finding_makes_the_whole_pattern(code, tmp_path, run_cli):
    """Fixing only the bucket's finding must not leave the CA naming a bucket nobody can read."""
    target = tmp_path / EXAMPLE.name
    shutil.copy(EXAMPLE, target)
    code_, _, err = run_cli("fix", target, "--no-config", "--select", code, "--unsafe-fixes", "--write")
    assert code_ == 0, err
    res = load(target.read_bytes())["Resources"]
    crl = res["PrivateCA"]["Properties"]["RevocationConfiguration"]["CrlConfiguration"]
    assert crl["CustomCname"] == {"Fn::GetAtt": ["CRLBucketDistribution", "DomainName"]}
    assert res["CRLBucket"]["Properties"]["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
    assert codes_left(run_cli, target) == {"CW301", "CW302", "CW602", "CW801"}


def codes_left(run_cli, target) -> set[str]:
    _, out, _ = run_cli("scan", target, "--no-config", "--now", "2026-01-01", "-o", "json")
    return {f["code"] for f in json.loads(out)["findings"]}


def test_the_last_resource_gets_its_setting_before_the_resources_added_after_it(tmp_path):
    """A secret at the end of Resources: its KmsKeyId and the key added after it are inserted at
    the same place, the setting first (the order once depended on how edits sort)."""
    target = tmp_path / "last.yaml"
    target.write_text("Resources:\n  Secret:\n    Type: AWS::SecretsManager::Secret\n    Properties:\n"
                      "      Description: last of all\n")
    result = scan([str(target)], select(list(RULES.values()), ["CW503"], None), Options(now=FIXED_NOW))
    plan = fixes.plan(result, unsafe=True)
    assert [f.resource for f in plan.fixed] == ["Secret"]
    lines = plan.texts[str(target)].splitlines()
    assert lines[4:7] == ["      Description: last of all", "      KmsKeyId: !Ref SecretKey", ""]
    assert load(plan.texts[str(target)].encode())["Resources"]["SecretKey"]["Type"] == "AWS::KMS::Key"
