"""`certwarden schedule`: the stacks of scheduled scans, valid under cfn-lint and clean under
certwarden itself, the member role's policy that of `live --print-policy`, and the state
machine read back from the written template."""
from __future__ import annotations

import json
import re

import pytest
import yaml

from certwarden.schedule import handler, stacks

cfnlint_api = pytest.importorskip("cfnlint.api")

LINT_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]


def _write(run_cli, out, *extra) -> tuple[str, dict[str, dict]]:
    code, stdout, err = run_cli("schedule", "-o", out, "--region", "eu-west-1", *extra)
    assert code == 0, err
    return stdout, {p.name: yaml.safe_load(p.read_text()) for p in sorted(out.iterdir())}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """Both variants as the command writes them: file name -> text."""
    from certwarden.cli import main

    out = {}
    for flag, name in (("--organization", "org"), (None, "account")):
        where = tmp_path_factory.mktemp(name)
        assert main(["schedule", "-o", str(where), *([flag] if flag else [])]) == 0
        out.update({p.name: p.read_text() for p in where.iterdir()})
    return out


def test_the_variants_write_their_files(run_cli, tmp_path):
    stdout, org = _write(run_cli, tmp_path / "org", "--organization")
    assert sorted(org) == [stacks.MEMBER_FILE, stacks.ORGANIZATION_FILE]
    assert (f"aws cloudformation create-stack-set --stack-set-name certwarden-member-role --template-body "
            f"file://{tmp_path / 'org' / stacks.MEMBER_FILE} --permission-model SERVICE_MANAGED") in stdout
    assert "--capabilities CAPABILITY_NAMED_IAM --parameter-overrides CodeBucket=CODE_BUCKET --region eu-west-1" in stdout
    stdout, single = _write(run_cli, tmp_path / "one")
    assert sorted(single) == [stacks.ACCOUNT_FILE]
    assert "--capabilities CAPABILITY_IAM --parameter-overrides CodeBucket=CODE_BUCKET" in stdout
    types = sorted(r["Type"] for r in single[stacks.ACCOUNT_FILE]["Resources"].values())
    assert "AWS::IAM::Role" in types and not any("StackSet" in t for t in types)
    assert "MemberRoleName" not in single[stacks.ACCOUNT_FILE]["Parameters"]


@pytest.mark.parametrize("name", [stacks.MEMBER_FILE, stacks.ORGANIZATION_FILE, stacks.ACCOUNT_FILE])
def test_every_template_passes_cfn_lint_in_several_regions(written, name):
    matches = cfnlint_api.lint(written[name], config=cfnlint_api.ManualArgs(regions=LINT_REGIONS))
    assert [f"{m.rule.id} {m.message} {m.path}" for m in matches] == []


def test_every_template_is_clean_under_certwarden(run_cli, written, tmp_path):
    for name, text in written.items():
        (tmp_path / name).write_text(text)
    code, stdout, _ = run_cli("scan", tmp_path, "--no-config", "--strict", "-o", "json")
    result = json.loads(stdout)
    assert code == 0 and result["findings"] == [] and result["errors"] == []
    assert result["summary"]["scanned"] == 3


def test_certwarden_does_judge_what_the_templates_hold(run_cli, written, tmp_path):
    """Control: without rotation, or with a Block Public Access setting off, the same stack has
    findings on those resources, so the clean scan above is a verdict."""
    template = yaml.safe_load(written[stacks.ACCOUNT_FILE])
    template["Resources"]["ResultsKey"]["Properties"]["EnableKeyRotation"] = False
    template["Resources"]["ResultsBucket"]["Properties"]["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] = False
    path = tmp_path / "weakened.yaml"
    path.write_text(stacks.to_yaml(template))
    code, stdout, _ = run_cli("scan", path, "--no-config", "-o", "json")
    assert code == 1
    got = {(f["code"], f["resource"]) for f in json.loads(stdout)["findings"]}
    assert got == {("CW101", "ResultsKey"), ("CW401", "ResultsBucket")}


def test_member_role_holds_the_printed_policy_and_trusts_only_the_scanner_role(run_cli, written):
    code, printed, _ = run_cli("live", "--print-policy")
    assert code == 0
    role = yaml.safe_load(written[stacks.MEMBER_FILE])["Resources"]["MemberRole"]["Properties"]
    assert role["Policies"] == [{"PolicyName": "certwarden-live-read", "PolicyDocument": json.loads(printed)}]
    trust, = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRole" and trust["Effect"] == "Allow"
    assert trust["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${ScannerAccountId}:root"}}
    assert trust["Condition"] == {"StringEquals": {
        "aws:PrincipalArn": {"Fn::Sub": "arn:${AWS::Partition}:iam::${ScannerAccountId}:role/${ScannerRoleName}"},
        "aws:PrincipalOrgID": {"Ref": "OrganizationId"}}}
    scanner = yaml.safe_load(written[stacks.ORGANIZATION_FILE])
    assert scanner["Resources"]["ScannerRole"]["Properties"]["RoleName"] == {"Ref": "ScannerRoleName"}
    assert scanner["Parameters"]["ScannerRoleName"]["Default"] == \
        yaml.safe_load(written[stacks.MEMBER_FILE])["Parameters"]["ScannerRoleName"]["Default"]


def _statements(template: dict, role: str) -> list[dict]:
    doc = template["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]
    return [s["Fn::If"][1] if "Fn::If" in s else s for s in doc["Statement"]]


def test_roles_are_least_privilege(written):
    org = yaml.safe_load(written[stacks.ORGANIZATION_FILE])
    # "*" only where the action grants on no narrower resource
    wildcard = {a for role in ("ListRole", "ScannerRole", "MergeRole", "StateMachineRole", "SchedulerRole")
                for s in _statements(org, role) if s["Resource"] == "*" for a in s["Action"]}
    assert wildcard == {"organizations:ListAccounts", "securityhub:GetFindings"}
    scan = {a: s["Resource"] for s in _statements(org, "ScannerRole") for a in s["Action"]}
    assert scan == {"logs:CreateLogStream": {"Fn::GetAtt": ["ScanFunctionLogs", "Arn"]},
                    "logs:PutLogEvents": {"Fn::GetAtt": ["ScanFunctionLogs", "Arn"]},
                    "s3:PutObject": [{"Fn::Sub": "${ResultsBucket.Arn}/runs/*"}],
                    "kms:GenerateDataKey": {"Fn::GetAtt": ["ResultsKey", "Arn"]},
                    "sts:AssumeRole": {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/${MemberRoleName}"}}
    machine = {a for s in _statements(org, "StateMachineRole") for a in s["Action"]}
    assert machine == {"lambda:InvokeFunction", "s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload",
                       "s3:ListMultipartUploadParts", "kms:Decrypt", "kms:GenerateDataKey"}
    child = org["Resources"]["DistributedMapPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert [s["Action"] for s in child] == [["states:StartExecution"], ["states:DescribeExecution",
                                                                         "states:StopExecution"]]
    assert child[0]["Resource"] == {"Ref": "ScanStateMachine"}
    merge = _statements(org, "MergeRole")
    imports = [s for s in merge if s["Action"] == ["securityhub:BatchImportFindings"]]
    assert imports[0]["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:securityhub:${AWS::Region}:"
                                                 "${AWS::AccountId}:product/${AWS::AccountId}/default"}
    raw = org["Resources"]["MergeRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert sum("Fn::If" in s and s["Fn::If"][0] == "ImportFindings" for s in raw) == 2   # only when asked
    single = yaml.safe_load(written[stacks.ACCOUNT_FILE])
    from certwarden.sources.live.permissions import policy_document
    assert policy_document()["Statement"][0] in _statements(single, "ScannerRole")
    for name in ("StateMachineRole", "SchedulerRole"):
        trust, = org["Resources"][name]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_results_bucket_and_topic_are_protected(written):
    for name in (stacks.ORGANIZATION_FILE, stacks.ACCOUNT_FILE):
        res = yaml.safe_load(written[name])["Resources"]
        bucket = res["ResultsBucket"]["Properties"]
        assert bucket["PublicAccessBlockConfiguration"] == {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                            "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
        sse, = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert sse["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms",
                                                        "KMSMasterKeyID": {"Fn::GetAtt": ["ResultsKey", "Arn"]}}
        assert res["ResultsKey"]["Properties"]["EnableKeyRotation"] is True
        tls, = res["ResultsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert res["SummaryTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "ResultsKey"}
        assert res["ScanSchedule"]["Properties"]["ScheduleExpression"] == {"Ref": "Schedule"}


def _definition(text: str) -> tuple[dict, dict]:
    props = yaml.safe_load(text)["Resources"]["ScanStateMachine"]["Properties"]
    return props["Definition"], props["DefinitionSubstitutions"]


def _lambda_tasks(states: dict):
    for name, state in states.items():
        if state["Type"] == "Map":
            yield from _lambda_tasks(state["ItemProcessor"]["States"])
        elif state["Type"] == "Task":
            yield name, state


def test_the_organisation_state_machine(written):
    definition, substitutions = _definition(written[stacks.ORGANIZATION_FILE])
    states = definition["States"]
    assert definition["StartAt"] == "ListAccounts"
    assert [(n, s["Type"], s.get("Next")) for n, s in states.items()] == [
        ("ListAccounts", "Task", "ScanAccounts"), ("ScanAccounts", "Map", "Merge"), ("Merge", "Task", None)]
    assert states["Merge"]["End"] is True
    scan_map = states["ScanAccounts"]
    assert scan_map["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    # the items are the JSON array the list step wrote, at the bucket and key it returned
    assert scan_map["ItemReader"] == {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
                                      "Parameters": {"Bucket.$": "$.bucket", "Key.$": "$.key"}}
    listed = {"bucket", "key", "run", "started", "map_prefix", "max_concurrency"}
    assert {p.removeprefix("$.") for p in scan_map["ItemReader"]["Parameters"].values()} <= listed
    assert scan_map["MaxConcurrencyPath"] == "$.max_concurrency" and scan_map["ToleratedFailurePercentage"] == 100
    assert scan_map["ResultWriter"]["Parameters"] == {"Bucket.$": "$.bucket", "Prefix.$": "$.map_prefix"}
    # each item becomes the event the scan handler reads
    selected = {k.removesuffix(".$"): v for k, v in scan_map["ItemSelector"].items()}
    assert selected == {"run": "$.run", "started": "$.started", "account": "$$.Map.Item.Value.account",
                        "partition": "$$.Map.Item.Value.partition", "regions": "$$.Map.Item.Value.regions",
                        "global": "$$.Map.Item.Value.global", "part": "$$.Map.Item.Value.part"}
    scan_task = scan_map["ItemProcessor"]["States"]["ScanAccount"]
    assert scan_task["Parameters"] == {"FunctionName": "${ScanFunction}", "Payload.$": "$"}
    assert states["ListAccounts"]["Parameters"]["Payload"] == {"run.$": "$$.Execution.Name",
                                                              "started.$": "$$.Execution.StartTime"}
    _check_tasks(definition, substitutions, {"ListFunction", "ScanFunction", "MergeFunction"})


def test_the_account_state_machine(written):
    definition, substitutions = _definition(written[stacks.ACCOUNT_FILE])
    states = definition["States"]
    assert definition["StartAt"] == "ScanAccount"
    assert [(n, s["Type"], s.get("Next")) for n, s in states.items()] == [
        ("ScanAccount", "Task", "Merge"), ("Merge", "Task", None)]
    assert states["ScanAccount"]["Parameters"]["Payload"] == {
        "run.$": "$$.Execution.Name", "started.$": "$$.Execution.StartTime", "account": "${AccountId}",
        "regions.$": "States.StringSplit('${Regions}', ',')"}
    assert substitutions["AccountId"] == {"Ref": "AWS::AccountId"}
    assert substitutions["Regions"] == {"Fn::If": ["AllRegionsDefault", {"Ref": "AWS::Region"}, {"Ref": "Regions"}]}
    _check_tasks(definition, substitutions, {"ScanFunction", "MergeFunction"})


def _check_tasks(definition: dict, substitutions: dict, functions: set[str]) -> None:
    """Every Lambda task invokes a function of the stack and retries Lambda's throttling, its
    transient errors and timeouts; every ${NAME} in the definition is substituted."""
    tasks = dict(_lambda_tasks(definition["States"]))
    assert {t["Parameters"]["FunctionName"] for t in tasks.values()} == {f"${{{f}}}" for f in functions}
    for name, task in tasks.items():
        assert task["Resource"] == "arn:aws:states:::lambda:invoke" and task["OutputPath"] == "$.Payload"
        retried = {e for r in task["Retry"] for e in r["ErrorEquals"]}
        assert {"Lambda.TooManyRequestsException", "Lambda.ServiceException", "Lambda.Unknown",
                "Sandbox.Timedout", "States.Timeout"} <= retried, name
        assert all(r["MaxAttempts"] >= 1 and r["BackoffRate"] >= 1 for r in task["Retry"])
        assert task["TimeoutSeconds"] > stacks.SCAN_TIMEOUT or name == "ListAccounts"
    used = set(re.findall(r"\$\{(\w+)\}", json.dumps(definition)))
    assert used == set(substitutions)
    for function in functions:
        assert substitutions[function] == {"Fn::GetAtt": [function, "Arn"]}


def test_the_functions_run_the_package_handlers(written):
    res = yaml.safe_load(written[stacks.ORGANIZATION_FILE])["Resources"]
    handlers = {name: r["Properties"]["Handler"] for name, r in res.items() if r["Type"] == "AWS::Lambda::Function"}
    assert handlers == {"ScanFunction": "certwarden.schedule.handler.scan",
                        "MergeFunction": "certwarden.schedule.handler.merge",
                        "ListFunction": "certwarden.schedule.handler.accounts"}
    for path in handlers.values():
        assert callable(getattr(handler, path.rsplit(".", 1)[1]))


def test_options_set_the_parameters_defaults(run_cli, tmp_path):
    _, org = _write(run_cli, tmp_path, "--organization", "--runtime", "python3.13", "--architecture", "x86_64",
                    "--schedule", "cron(17 3 * * ? *)", "--role-name", "audit-read")
    params = org[stacks.ORGANIZATION_FILE]["Parameters"]
    assert (params["Runtime"]["Default"], params["Architecture"]["Default"], params["Schedule"]["Default"],
            params["MemberRoleName"]["Default"]) == ("python3.13", "x86_64", "cron(17 3 * * ? *)", "audit-read")
    assert org[stacks.MEMBER_FILE]["Parameters"]["RoleName"]["Default"] == "audit-read"


def test_an_output_directory_that_cannot_be_made_is_one_line(run_cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, stdout, err = run_cli("schedule", "-o", blocker / "sub")
    assert code == 2 and stdout == "" and err.count("\n") == 1 and "cannot create" in err and str(blocker) in err
