"""Remediation stacks a reviewer would accept: automatic remediation acts only on the resources
the report flagged, never on every bucket or key of the account; the roles and keys trust their
service principals for this account only; actions name the narrowest resources known. Checked
with cfn-lint's API and with certwarden itself."""
import json

import pytest
import yaml

from certwarden import remediate

cfnlint_api = pytest.importorskip("cfnlint.api")

KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = "arn:aws:kms:eu-west-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321"
BUCKET = "arn:aws:s3:::public-logs"
# A live report: findings name deployed resources by ARN. The website bucket was suppressed
# (someone meant it to be public), so nothing may touch it.
LIVE = [
    {"code": "CW101", "arn": KEY, "suppressions": []},
    {"code": "CW106", "arn": OTHER_KEY, "suppressions": []},
    {"code": "CW401", "arn": BUCKET, "suppressions": []},
    {"code": "CW402", "arn": BUCKET, "suppressions": []},
    {"code": "CW401", "arn": "arn:aws:s3:::www.example.com", "suppressions": [{"kind": "inSource"}]},
]


def lint(template):
    matches = cfnlint_api.lint(yaml.safe_dump(template, sort_keys=False),
                               config=cfnlint_api.ManualArgs(regions=["us-east-1", "eu-west-1"]))
    return [f"{m.rule.id} {m.message} {m.path}" for m in matches]


def test_remediations_are_scoped_to_the_flagged_resources():
    template = remediate.stacks(LIVE)[remediate.CONFIG_RULES_FILE]
    res = template["Resources"]
    remediated = {}
    for name, r in res.items():
        if r["Type"] == "AWS::Config::RemediationConfiguration":
            rule = res[r["Properties"]["ConfigRuleName"]["Ref"]]
            remediated[name] = (r["Properties"]["TargetId"], rule["Properties"]["Scope"])
    key_id, other_id = KEY.rsplit("/", 1)[1], OTHER_KEY.rsplit("/", 1)[1]
    assert remediated == {
        "CmkBackingKeyRotationEnabledFix1Remediation": (
            "AWSConfigRemediation-EnableKeyRotation",
            {"ComplianceResourceTypes": ["AWS::KMS::Key"], "ComplianceResourceId": key_id}),
        "KmsCmkNotScheduledForDeletionFix1Remediation": (
            "AWSConfigRemediation-CancelKeyDeletion",
            {"ComplianceResourceTypes": ["AWS::KMS::Key"], "ComplianceResourceId": other_id}),
        **{f"{rule}Fix1Remediation": ("AWS-DisableS3BucketPublicReadWrite",
                                      {"ComplianceResourceTypes": ["AWS::S3::Bucket"], "ComplianceResourceId": "public-logs"})
           for rule in ("S3BucketLevelPublicAccessProhibited", "S3BucketPublicReadProhibited",
                        "S3BucketPublicWriteProhibited")},
    }
    # The account-wide rules watch and remediate nothing; the stack says what is in scope.
    assert res["S3BucketLevelPublicAccessProhibited"]["Properties"]["Scope"] == {
        "ComplianceResourceTypes": ["AWS::S3::Bucket"]}
    assert "scoped to the flagged resources" in template["Description"]
    assert template["Metadata"]["certwarden"]["remediation_scope"] == {
        "CMK_BACKING_KEY_ROTATION_ENABLED": [key_id], "KMS_CMK_NOT_SCHEDULED_FOR_DELETION": [other_id],
        "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED": ["public-logs"],
        "S3_BUCKET_PUBLIC_READ_PROHIBITED": ["public-logs"], "S3_BUCKET_PUBLIC_WRITE_PROHIBITED": ["public-logs"]}
    assert "www.example.com" not in json.dumps(template)
    assert lint(template) == []


def test_remediation_role_trusts_this_account_only_and_names_its_resources():
    role = remediate.stacks(LIVE)[remediate.CONFIG_RULES_FILE]["Resources"]["RemediationRole"]["Properties"]
    trust, = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "ssm.amazonaws.com"}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnLike": {"aws:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:ssm:*:${AWS::AccountId}:automation-execution/*"}}}
    statements = {s["Sid"]: (s["Action"], s["Resource"]) for s in role["Policies"][0]["PolicyDocument"]["Statement"]}
    key = "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/"
    assert statements["Runbook1"] == (["kms:EnableKeyRotation", "kms:GetKeyRotationStatus"],
                                      [{"Fn::Sub": key + KEY.rsplit("/", 1)[1]}])
    assert statements["Runbook2"] == (["kms:CancelKeyDeletion", "kms:DescribeKey"],
                                      [{"Fn::Sub": key + OTHER_KEY.rsplit("/", 1)[1]}])
    assert statements["Runbook3"] == (["s3:PutBucketPublicAccessBlock"],
                                      [{"Fn::Sub": "arn:${AWS::Partition}:s3:::public-logs"}])
    assert statements["FollowTheRunbooks"] == ("ssm:GetAutomationExecution", {
        "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:automation-execution/*"})
    assert all(r != "*" for _, r in statements.values())


def test_without_resource_ids_remediation_needs_the_tag():
    """A scan report names template resources, not deployed ones: remediation waits for a person
    to tag what may be changed; the keys it may touch carry the tag."""
    template = remediate.stacks([{"code": "CW101", "suppressions": []}])[remediate.CONFIG_RULES_FILE]
    res = template["Resources"]
    assert res["CmkBackingKeyRotationEnabledTagged"]["Properties"]["Scope"] == {
        "TagKey": "certwarden:remediate", "TagValue": "true"}
    runbook = next(s for s in res["RemediationRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
                   if s["Sid"] == "Runbook1")
    assert runbook["Condition"] == {"StringEquals": {"aws:ResourceTag/certwarden:remediate": "true"}}
    # cfn-lint checks this shape in test_remediate.test_every_stack_passes_cfn_lint


def test_expiry_topic_key_and_policy_are_for_this_account_and_rule():
    res = remediate.stacks([{"code": "CW801", "suppressions": []}])[remediate.MONITORING_FILE]["Resources"]
    events = next(s for s in res["ExpiryTopicKey"]["Properties"]["KeyPolicy"]["Statement"]
                  if s["Principal"] == {"Service": "events.amazonaws.com"})
    assert events["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    publish, = res["ExpiryTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert publish["Condition"]["ArnEquals"] == {"aws:SourceArn": {"Fn::GetAtt": ["CertificateExpiryEvents", "Arn"]}}


def test_scoped_stacks_are_clean_under_certwarden(run_cli, tmp_path):
    report = tmp_path / "live.json"
    report.write_text(json.dumps({"findings": LIVE + [{"code": "CW801", "suppressions": []}]}))
    assert run_cli("remediate", "--from", report, "-o", tmp_path / "stacks")[0] == 0
    code, out, _ = run_cli("scan", tmp_path / "stacks", "--no-config", "--strict", "-o", "json")
    assert (code, json.loads(out)["findings"], json.loads(out)["errors"]) == (0, [], [])
