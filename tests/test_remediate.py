"""`certwarden remediate`: which stacks a report calls for, what they hold, and that every one is
valid under cfn-lint and clean under certwarden itself."""
import json
from dataclasses import replace

import pytest
import yaml
from conftest import FIXTURES

from certwarden import remediate
from certwarden.rulepack import load_rules

cfnlint_api = pytest.importorskip("cfnlint.api")

# Every rule family the mapping knows, and the expiry codes: all stacks at their largest.
ALL_CODES = ["CW801", "CW203", "CW204", "CW213", *remediate.watched_by(load_rules())]


def _findings(*codes):
    return [{"code": c, "suppressions": []} for c in codes]


def _scan_report(run_cli, tmp_path, *fixtures):
    report = tmp_path / "report.json"
    paths = [FIXTURES / f for f in fixtures]
    code, _, _ = run_cli("scan", *paths, "--no-config", "--now", "2026-01-01", "-o", f"json={report}")
    assert code == 1, "the fixtures were chosen for their findings"
    return report


def _remediate(run_cli, report, out):
    return run_cli("remediate", "--from", report, "-o", out, "--region", "eu-west-1")


def _types(template):
    return sorted(r["Type"] for r in template["Resources"].values())


def _lint_errors(text):
    """cfn-lint matches at error level. Warnings and informational matches are listed too, so a
    new one shows in the failure message; none is accepted today (the list must stay empty)."""
    matches = cfnlint_api.lint(text, config=cfnlint_api.ManualArgs(regions=["us-east-1", "eu-west-1"]))
    return [f"{m.rule.id} {m.message} {m.path}" for m in matches]


def test_scan_report_to_stacks(run_cli, tmp_path):
    report = _scan_report(run_cli, tmp_path, "CW801/cfn_fail.yaml", "CW101/cfn_fail.yaml",
                          "CW401/cfn_fail.yaml", "CW402/cfn_fail.yaml", "CW501/cfn_fail.yaml")
    out = tmp_path / "stacks"
    code, stdout, _ = _remediate(run_cli, report, out)
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [remediate.CONFIG_RULES_FILE, remediate.MONITORING_FILE]
    for name in (remediate.CONFIG_RULES_FILE, remediate.MONITORING_FILE):
        stack = name.removesuffix(".yaml")
        assert (f"aws cloudformation deploy --template-file {out / name} --stack-name {stack} "
                "--capabilities CAPABILITY_IAM --region eu-west-1") in stdout
        assert (f"https://console.aws.amazon.com/cloudformation/home?region=eu-west-1#/stacks/quickcreate"
                f"?stackName={stack}&templateURL=") in stdout
    rules = yaml.safe_load((out / remediate.CONFIG_RULES_FILE).read_text())
    identifiers = sorted({r["Properties"]["Source"]["SourceIdentifier"] for r in rules["Resources"].values()
                          if r["Type"] == "AWS::Config::ConfigRule"})
    assert identifiers == ["CMK_BACKING_KEY_ROTATION_ENABLED", "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED",
                           "S3_BUCKET_PUBLIC_READ_PROHIBITED",
                           "S3_BUCKET_PUBLIC_WRITE_PROHIBITED", "SECRETSMANAGER_ROTATION_ENABLED_CHECK"]


def test_monitoring_stack_contents():
    template = remediate.stacks(_findings("CW204"))[remediate.MONITORING_FILE]
    res = template["Resources"]
    assert _types(template) == ["AWS::Config::ConfigRule", "AWS::Events::Rule", "AWS::KMS::Key",
                                "AWS::SNS::Subscription", "AWS::SNS::Topic", "AWS::SNS::TopicPolicy"]
    assert res["CertificateExpiryEvents"]["Properties"]["EventPattern"] == {
        "source": ["aws.acm"], "detail-type": ["ACM Certificate Approaching Expiration"]}
    assert res["ExpiryTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "ExpiryTopicKey"}
    assert res["ExpiryTopicKey"]["Properties"]["EnableKeyRotation"] is True
    statement = res["ExpiryTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"} and statement["Action"] == "sns:Publish"
    assert res["ExpiryEmail"]["Condition"] == "HasEmail"
    assert template["Parameters"]["NotificationEmail"]["Default"] == ""
    check = res["AcmCertificateExpirationCheck"]["Properties"]
    assert check["Source"]["SourceIdentifier"] == "ACM_CERTIFICATE_EXPIRATION_CHECK"
    assert check["InputParameters"] == {"daysToExpiration": {"Ref": "DaysToExpiration"}}
    assert template["Parameters"]["DaysToExpiration"]["Default"] == 45


def test_expiry_codes_need_no_config_rules_stack():
    """CW203/CW204 map to ACM_CERTIFICATE_EXPIRATION_CHECK, already in the monitoring stack."""
    assert list(remediate.stacks(_findings("CW203", "CW204", "CW213", "CW801"))) == [remediate.MONITORING_FILE]


def test_config_rules_stack_contents():
    template = remediate.stacks(_findings("CW101", "CW106", "CW401", "CW402", "CW402"))[remediate.CONFIG_RULES_FILE]
    res = template["Resources"]
    remediations = {r["Properties"]["TargetId"] for r in res.values()
                    if r["Type"] == "AWS::Config::RemediationConfiguration"}
    assert remediations == {"AWSConfigRemediation-EnableKeyRotation", "AWSConfigRemediation-CancelKeyDeletion",
                            "AWS-DisableS3BucketPublicReadWrite"}
    # one per family: CW402 is two (public read, public write), found twice but written once; each
    # watches the account, and a second one, scoped by the remediation tag (these findings name no
    # deployed resource), carries the remediation
    assert sum(r["Type"] == "AWS::Config::ConfigRule" for r in res.values()) == 10
    assert sum(r["Type"] == "AWS::Config::RemediationConfiguration" for r in res.values()) == 5
    assert res["CmkBackingKeyRotationEnabled"]["Properties"]["Scope"] == {"ComplianceResourceTypes": ["AWS::KMS::Key"]}
    assert res["CmkBackingKeyRotationEnabledTagged"]["Properties"]["Scope"] == {
        "TagKey": "certwarden:remediate", "TagValue": "true"}
    assert res["CmkBackingKeyRotationEnabledTaggedRemediation"]["Properties"]["ConfigRuleName"] == {
        "Ref": "CmkBackingKeyRotationEnabledTagged"}
    assert [r for r in res.values() if r["Type"] == "AWS::IAM::Role"] == [res["RemediationRole"]]
    for r in res.values():
        if r["Type"] == "AWS::Config::RemediationConfiguration":
            assert r["Properties"]["Automatic"] == {"Fn::If": ["Automatic", True, False]}
    assert template["Parameters"]["AutomaticRemediation"]["Default"] == "false"
    policy = res["RemediationRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert sorted(a for s in policy for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])) == [
        "kms:CancelKeyDeletion", "kms:DescribeKey", "kms:EnableKeyRotation", "kms:GetKeyRotationStatus",
        "s3:PutBucketPublicAccessBlock", "ssm:GetAutomationExecution", "ssm:StartAutomationExecution"]
    assert all(s["Resource"] != "*" for s in policy)


def test_rule_without_runbook_gets_no_role():
    template = remediate.stacks(_findings("CW501"))[remediate.CONFIG_RULES_FILE]
    assert _types(template) == ["AWS::Config::ConfigRule"]
    assert "Parameters" not in template


def test_which_config_rule_watches_a_finding_is_the_rules_own_data():
    """From the rule's "CFG" refs: the shipped pack's, and a user rule's alike."""
    assert {code: [r.identifier for r in rules] for code, rules in remediate.watched_by(load_rules()).items()} == {
        "CW101": ["CMK_BACKING_KEY_ROTATION_ENABLED"], "CW106": ["KMS_CMK_NOT_SCHEDULED_FOR_DELETION"],
        "CW401": ["S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED"],
        "CW402": ["S3_BUCKET_PUBLIC_READ_PROHIBITED", "S3_BUCKET_PUBLIC_WRITE_PROHIBITED"],
        "CW501": ["SECRETSMANAGER_ROTATION_ENABLED_CHECK"], "CW502": ["SECRETSMANAGER_ROTATION_ENABLED_CHECK"],
        "CW201": ["ACM_CERTIFICATE_RSA_CHECK"], "CW306": ["ACM_PCA_ROOT_CA_DISABLED"],
        "CW403": ["S3_BUCKET_PUBLIC_READ_PROHIBITED", "S3_BUCKET_PUBLIC_WRITE_PROHIBITED"],
        "CW503": ["SECRETSMANAGER_USING_CMK"],
        "CW601": ["ELB_PREDEFINED_SECURITY_POLICY_SSL_CHECK", "ELBV2_PREDEFINED_SECURITY_POLICY_SSL_CHECK"],
        "CW602": ["CLOUDFRONT_SECURITY_POLICY_CHECK"]}
    cw101 = next(r for r in load_rules() if r.code == "CW101")
    mine = replace(cw101, code="ACME1", refs=("CFG cmk-backing-key-rotation-enabled", "CFG no-such-rule"))
    template = remediate.stacks(_findings("ACME1"), rules=[mine])[remediate.CONFIG_RULES_FILE]
    assert {r["Properties"]["Source"]["SourceIdentifier"] for r in template["Resources"].values()
            if r["Type"] == "AWS::Config::ConfigRule"} == {"CMK_BACKING_KEY_ROTATION_ENABLED"}
    assert remediate.stacks(_findings("ACME1"), rules=[replace(mine, refs=())]) == {}


def test_suppressed_findings_call_for_nothing():
    suppressed = [{"code": "CW101", "suppressions": [{"kind": "inSource", "justification": "x"}]}]
    assert remediate.stacks(suppressed) == {}


@pytest.mark.parametrize("codes", [ALL_CODES, ["CW801"], ["CW501"], ["CW101"]], ids="-".join)
def test_every_stack_passes_cfn_lint(codes):
    for name, template in remediate.stacks(_findings(*codes)).items():
        text = yaml.safe_dump(template, sort_keys=False)
        assert _lint_errors(text) == [], name


def test_stacks_are_clean_under_certwarden(run_cli, tmp_path):
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"findings": _findings(*ALL_CODES)}))
    out = tmp_path / "stacks"
    assert _remediate(run_cli, report, out)[0] == 0
    assert len(list(out.iterdir())) == 2
    code, stdout, _ = run_cli("scan", out, "--no-config", "--strict", "-o", "json")
    assert code == 0
    result = json.loads(stdout)
    assert result["findings"] == [] and result["summary"]["scanned"] == 2 and result["errors"] == []


def test_report_without_relevant_findings_writes_nothing(run_cli, tmp_path):
    report = _scan_report(run_cli, tmp_path, "CW102/cfn_fail.yaml")
    out = tmp_path / "stacks"
    code, stdout, _ = _remediate(run_cli, report, out)
    assert code == 0 and "no finding" in stdout
    assert not out.exists()


@pytest.mark.parametrize("body, problem", [
    ("{", "is not JSON"),
    ('{"summary": {}}', "not a certwarden JSON report"),
    ("[1, 2]", "not a certwarden JSON report"),
    ('{"findings": [1]}', "not a certwarden JSON report"),
    (b"\xff\xfe{", "is not JSON"),
])
def test_bad_report_exits_2_with_one_line(run_cli, tmp_path, body, problem):
    report = tmp_path / "bad.json"
    report.write_bytes(body if isinstance(body, bytes) else body.encode())
    code, stdout, stderr = _remediate(run_cli, report, tmp_path / "stacks")
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1 and str(report) in stderr and problem in stderr


def test_missing_report_exits_2(run_cli, tmp_path):
    code, _, stderr = _remediate(run_cli, tmp_path / "absent.json", tmp_path / "stacks")
    assert code == 2 and stderr.count("\n") == 1 and "cannot read report" in stderr and "absent.json" in stderr


def test_remediate_lints_what_it_writes_or_says_it_did_not(run_cli, tmp_path, monkeypatch):
    from certwarden import lint
    report = _scan_report(run_cli, tmp_path, "CW101/cfn_fail.yaml")
    code, _, err = _remediate(run_cli, report, tmp_path / "linted")
    assert code == 0 and "not linted" not in err and "cfn-lint" not in err, err   # clean under cfn-lint: written
    assert (tmp_path / "linted" / remediate.CONFIG_RULES_FILE).is_file()
    monkeypatch.setattr(lint, "available", lambda: False)
    code, _, err = _remediate(run_cli, report, tmp_path / "unlinted")
    assert code == 0
    assert err.count("certwarden: remediation stacks were not linted (install certwarden[lint]") == 1
    assert (tmp_path / "unlinted" / remediate.CONFIG_RULES_FILE).is_file()


def _config_rule_props(template, identifier):
    return [r for r in template["Resources"].values() if r["Type"] == "AWS::Config::ConfigRule"
            and r["Properties"]["Source"]["SourceIdentifier"] == identifier]


def test_config_rules_judge_by_the_rules_params():
    """The TLS policy checks take the approved policies of CW601, the root-CA check the CAs
    CW306 exempts; the classic balancer check takes the one approved policy classic balancers offer."""
    template = remediate.stacks(_findings("CW601", "CW306"))[remediate.CONFIG_RULES_FILE]
    approved = next(r for r in load_rules() if r.code == "CW601").params["approved_policies"]
    [v2] = _config_rule_props(template, "ELBV2_PREDEFINED_SECURITY_POLICY_SSL_CHECK")
    assert v2["Properties"]["InputParameters"] == {"sslPolicies": ",".join(approved)}
    assert v2["Properties"]["Scope"] == {"ComplianceResourceTypes": ["AWS::ElasticLoadBalancingV2::Listener"]}
    [classic] = _config_rule_props(template, "ELB_PREDEFINED_SECURITY_POLICY_SSL_CHECK")
    assert classic["Properties"]["InputParameters"] == {"predefinedPolicyName": "ELBSecurityPolicy-TLS-1-2-2017-01"}
    [root] = _config_rule_props(template, "ACM_PCA_ROOT_CA_DISABLED")
    assert "InputParameters" not in root["Properties"]   # no CA exempted: the parameter is left out
    cw306 = next(r for r in load_rules() if r.code == "CW306")
    exempt = ["arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/a", "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/b"]
    mine = replace(cw306, params={"exempted_ca_arns": exempt})
    [root] = _config_rule_props(remediate.stacks(_findings("CW306"), rules=[mine])[remediate.CONFIG_RULES_FILE],
                                "ACM_PCA_ROOT_CA_DISABLED")
    assert root["Properties"]["InputParameters"] == {"exemptedCAArns": ",".join(exempt)}
    assert "Parameters" not in template and "RemediationRole" not in template["Resources"]   # detection only


def test_cloudfront_rule_only_where_aws_offers_it():
    template = remediate.stacks(_findings("CW602", "CW101"))[remediate.CONFIG_RULES_FILE]
    [rule] = _config_rule_props(template, "CLOUDFRONT_SECURITY_POLICY_CHECK")
    assert rule["Condition"] == "InUsEast1"
    assert template["Conditions"]["InUsEast1"] == {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}
    assert template["Conditions"]["Automatic"]   # the remediation switch is kept beside it
    assert all("Condition" not in r for r in _config_rule_props(template, "CMK_BACKING_KEY_ROTATION_ENABLED"))


def test_policy_file_params_reach_the_config_rules(run_cli, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("rules:\n  CW601:\n    approved_policies: [ELBSecurityPolicy-TLS13-1-3-2021-06]\n")
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"findings": _findings("CW601")}))
    code, _, err = run_cli("remediate", "--from", report, "-o", tmp_path / "out", "--config", policy)
    assert code == 0, err
    template = yaml.safe_load((tmp_path / "out" / remediate.CONFIG_RULES_FILE).read_text())
    [v2] = _config_rule_props(template, "ELBV2_PREDEFINED_SECURITY_POLICY_SSL_CHECK")
    assert v2["Properties"]["InputParameters"] == {"sslPolicies": "ELBSecurityPolicy-TLS13-1-3-2021-06"}
    code, _, err = run_cli("remediate", "--from", report, "-o", tmp_path / "out", "--config", tmp_path / "none.yaml")
    assert code == 2 and err.count("\n") == 1 and "none.yaml" in err


def test_every_live_finding_gets_a_stack_or_a_line_saying_why_not(run_cli, tmp_path):
    """Each rule that fires on live state: covered by a stack, or one line per finding naming it,
    the resource, and what to do (with the rule's AWS CLI command where it has one)."""
    live_rules = [r for r in load_rules() if "live" in r.sources]
    findings = [{"code": r.code, "arn": f"arn:aws:kms:eu-west-1:111122223333:key/{r.code}", "suppressions": []}
                for r in live_rules]
    findings.append({"code": "CW216", "arn": "arn:aws:iam::111122223333:server-certificate/old",
                     "suppressions": [{"kind": "external", "justification": "accepted"}]})
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"findings": findings}))
    code, out, _ = _remediate(run_cli, report, tmp_path / "stacks")
    assert code == 0
    lines = [line for line in out.splitlines() if "no AWS Config managed rule or runbook covers it" in line]
    covered = remediate.EXPIRY_CODES | set(remediate.watched_by(load_rules()))
    assert sorted(line.split()[1] for line in lines) == sorted(r.code for r in live_rules if r.code not in covered)
    assert {"CW201", "CW306", "CW601", "CW602", "CW503", "CW403"} <= covered
    cw216 = next(line for line in lines if " CW216 " in line)
    assert cw216 == ("certwarden: CW216 iam-server-certificate arn:aws:kms:eu-west-1:111122223333:key/CW216: "
                     "no AWS Config managed rule or runbook covers it; Request or import the certificate in ACM, "
                     "point the endpoints at it, then delete the IAM one. "
                     "(aws iam delete-server-certificate --server-certificate-name NAME)")
    assert sum(" CW216 " in line for line in lines) == 1   # the suppressed one calls for nothing
