"""The scheduled scans' Lambda handlers on the moto server: an organisation's run as the state
machine makes it (list, one scan per Map item, merge), each function under its role's policy
taken from the generated template, the members read through the member role the StackSet
creates; and a run of one account."""
from __future__ import annotations

import gzip
import json
import re

import boto3
import pytest

from conftest import moto_api
from test_live import REGION, client
from test_live_org import MANAGEMENT, MOTO_NAMES, organization, session_in

from certwarden.schedule import handler, stacks

BUCKET = "certwarden-results"
RUN = {"run": "2f0c6a1e-run", "started": "2026-12-02T03:00:00.000Z"}
PREFIX = "runs/2026-12-02/2f0c6a1e-run/"
MEMBER_ROLE, SCANNER_ROLE = "certwarden-read", "certwarden-scanner"
SECRET_VALUE = "distinctive-7f3a-secret-value"


def resolve(value, names: dict):
    """The template's intrinsics, for the few this test meets: Ref, Fn::GetAtt, Fn::Sub, Fn::If
    (the condition taken as true) and AWS::NoValue."""
    if isinstance(value, list):
        return [v for v in (resolve(v, names) for v in value) if v is not None]
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        return None if value["Ref"] == "AWS::NoValue" else names[value["Ref"]]
    if "Fn::GetAtt" in value:
        return names[".".join(value["Fn::GetAtt"])]
    if "Fn::Sub" in value:
        return re.sub(r"\$\{([^}]+)\}", lambda m: names[m.group(1)], value["Fn::Sub"])
    if "Fn::If" in value:
        return resolve(value["Fn::If"][1], names)
    return {k: resolve(v, names) for k, v in value.items()}


def policy_of(template: dict, role: str, names: dict) -> dict:
    doc = resolve(template["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"], names)
    # moto checks the resource of S3, STS and IAM calls; of the others only the action, against "*"
    for st in doc["Statement"]:
        if not all(a.split(":")[0] in ("s3", "sts") for a in st["Action"]):
            st["Resource"] = "*"
    return doc


def credentials_of(aws, role: str, policy: dict, trust: dict | None = None) -> dict:
    iam = client(aws, "iam")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust or {"Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                   "Action": "sts:AssumeRole"}]}))
    iam.put_role_policy(RoleName=role, PolicyName="certwarden", PolicyDocument=json.dumps(policy))
    creds = client(aws, "sts").assume_role(RoleArn=f"arn:aws:iam::{MANAGEMENT}:role/{role}",
                                           RoleSessionName="lambda")["Credentials"]
    return {"AWS_ACCESS_KEY_ID": creds["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_SESSION_TOKEN": creds["SessionToken"]}


class Lambda:
    """Runs a handler as a function of the stack would: its environment, its role's credentials."""

    def __init__(self, monkeypatch, aws):
        self.monkeypatch, self.aws = monkeypatch, aws
        monkeypatch.setenv("AWS_ENDPOINT_URL", aws)   # every client the handlers make goes to moto
        monkeypatch.setenv("AWS_REGION", REGION)

    def __call__(self, function, event, creds: dict, env: dict):
        for name in ("MEMBER_ROLE", "REGIONS", "EXCLUDE_ACCOUNTS", "ONE_INVOCATION_PER_REGION", "MAX_CONCURRENCY",
                     "SUMMARY_TOPIC", "IMPORT_TO_SECURITY_HUB"):
            self.monkeypatch.delenv(name, raising=False)
        for name, value in {**creds, **env, "RESULTS_BUCKET": BUCKET}.items():
            self.monkeypatch.setenv(name, str(value))
        return json.loads(json.dumps(function(event)))   # what the state machine gets back: JSON


def select(selector: dict, state_input: dict, item: dict) -> dict:
    """A Map's ItemSelector applied to one item, as Step Functions applies it."""
    out = {}
    for key, path in selector.items():
        assert key.endswith(".$"), key
        if path.startswith("$$.Map.Item.Value."):
            out[key[:-2]] = item[path.removeprefix("$$.Map.Item.Value.")]
        else:
            out[key[:-2]] = state_input[path.removeprefix("$.")]
    return out


def env_of(template: dict, function: str, names: dict) -> dict:
    env = resolve(template["Resources"][function]["Properties"]["Environment"]["Variables"], names)
    return {k: v for k, v in env.items() if k != "RESULTS_BUCKET"}


def security_account(aws):
    """The results bucket, key and topic of the scanner stack (made as it makes them), and a queue
    subscribed to the topic to read what the merge publishes."""
    kms = client(aws, "kms")
    key = kms.create_key(Description="results")["KeyMetadata"]["Arn"]
    kms.enable_key_rotation(KeyId=key)   # EnableKeyRotation, as in the template
    s3 = client(aws, "s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]})
    topic = client(aws, "sns").create_topic(Name="summary", Attributes={"KmsMasterKeyId": key})["TopicArn"]
    sqs = client(aws, "sqs")
    queue = sqs.create_queue(QueueName="summary")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    client(aws, "sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn,
                                 Attributes={"RawMessageDelivery": "true"})
    client(aws, "securityhub").enable_security_hub()
    return key, topic, queue


def names_of(key: str, topic: str, import_findings: str = "true") -> dict:
    return {"AWS::Partition": "aws", "AWS::AccountId": MANAGEMENT, "AWS::Region": REGION,
            "MemberRoleName": MEMBER_ROLE, "ScannerRoleName": SCANNER_ROLE, "ScannerAccountId": MANAGEMENT,
            "ResultsBucket": BUCKET, "ResultsBucket.Arn": f"arn:aws:s3:::{BUCKET}", "ResultsKey.Arn": key,
            "SummaryTopic": topic, "ImportToSecurityHub": import_findings, "ExcludeAccounts": MANAGEMENT,
            "OneInvocationPerRegion": "false", "MaxConcurrency": 4, "Regions": REGION,
            **{f"{f}Logs.Arn": f"arn:aws:logs:{REGION}:{MANAGEMENT}:log-group:{f}:*"
               for f in ("ListFunction", "ScanFunction", "MergeFunction")}}


def member_with_template_role(aws, account: str, member_template: dict, names: dict, secret: str) -> dict:
    """A member's misconfigured key and secret, and the member role as the StackSet makes it."""
    s = session_in(aws, account)
    key = s.client("kms", endpoint_url=aws).create_key(Description=f"key of {account}")["KeyMetadata"]["Arn"]
    arn = s.client("secretsmanager", endpoint_url=aws).create_secret(Name=secret, SecretString=SECRET_VALUE)["ARN"]
    props = resolve(member_template["Resources"]["MemberRole"]["Properties"],
                    {**names, "RoleName": MEMBER_ROLE, "OrganizationId": "o-exampleorgid"})
    iam = s.client("iam", endpoint_url=aws)
    iam.create_role(RoleName=props["RoleName"], AssumeRolePolicyDocument=json.dumps(props["AssumeRolePolicyDocument"]))
    policy = props["Policies"][0]["PolicyDocument"]
    iam.put_role_policy(RoleName=props["RoleName"], PolicyName=props["Policies"][0]["PolicyName"],
                        PolicyDocument=json.dumps({**policy, "Statement": [*policy["Statement"], MOTO_NAMES]}))
    return {"key": key, "secret": arn}


def objects(aws, prefix: str = "") -> dict[str, bytes]:
    s3 = client(aws, "s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]
    return {k: s3.get_object(Bucket=BUCKET, Key=k)["Body"].read() for k in keys}


def test_an_organisation_run_scans_each_member_through_its_role_and_merges(aws, monkeypatch):
    member_template, scanner = (stacks.stacks(True)[name] for name in (stacks.MEMBER_FILE, stacks.ORGANIZATION_FILE))
    definition = scanner["Resources"]["ScanStateMachine"]["Properties"]["Definition"]
    first, second, roleless = organization(aws, 3)
    key, topic, queue = security_account(aws)
    names = names_of(key, topic)
    made = {a: member_with_template_role(aws, a, member_template, names, f"db-{a}") for a in (first, second)}
    session_in(aws, roleless).client("kms", endpoint_url=aws).create_key()
    scanner_policy = policy_of(scanner, "ScannerRole", names)
    # moto lets any role be assumed; AWS refuses a role that does not exist, as this Deny does
    scanner_policy["Statement"].append({"Effect": "Deny", "Action": "sts:AssumeRole",
                                        "Resource": f"arn:aws:iam::{roleless}:role/{MEMBER_ROLE}"})
    roles = {"ListFunction": credentials_of(aws, "list", policy_of(scanner, "ListRole", names)),
             "ScanFunction": credentials_of(aws, SCANNER_ROLE, scanner_policy),
             "MergeFunction": credentials_of(aws, "merge", policy_of(scanner, "MergeRole", names))}
    env = {f: env_of(scanner, f, names) for f in roles}
    run = Lambda(monkeypatch, aws)
    moto_api(aws, "reset-auth", b"0")   # from here on moto checks every call against the roles' policies

    listed = run(handler.accounts, RUN, roles["ListFunction"], env["ListFunction"])
    assert listed == {**RUN, "bucket": BUCKET, "key": PREFIX + "accounts.json", "map_prefix": PREFIX + "map",
                      "max_concurrency": 4, "count": 3}
    moto_api(aws, "reset-auth", b"inf")   # the test reads the Map's items, as Step Functions would
    items = json.loads(objects(aws, PREFIX + "accounts.json")[PREFIX + "accounts.json"])
    moto_api(aws, "reset-auth", b"0")
    assert sorted(i["account"] for i in items) == sorted([first, second, roleless])   # the management one excluded
    assert all(i["regions"] == [REGION] and i["global"] is True and i["part"] == "all" for i in items)

    selector = definition["States"]["ScanAccounts"]["ItemSelector"]
    results = [run(handler.scan, select(selector, listed, item), roles["ScanFunction"], env["ScanFunction"])
               for item in items]
    by_account = {r["account"]: r for r in results}
    for account in (first, second):
        assert by_account[account]["findings"] >= 2 and "error" not in by_account[account]
    assert by_account[roleless]["error"] == (f"AWS credentials: access denied (AssumeRole)")

    merged = run(handler.merge, {"run": listed["run"], "started": listed["started"]},
                 roles["MergeFunction"], env["MergeFunction"])
    moto_api(aws, "reset-auth", b"inf")

    stored = objects(aws)
    for account in (first, second):
        where = f"{PREFIX}accounts/{account}/all/"
        assert {k.removeprefix(where) for k in stored if k.startswith(where)} == set(handler.OUTPUTS)
        report = json.loads(stored[where + "certwarden.json"])
        got = {(f["code"], f["arn"]) for f in report["findings"] if f["code"] in ("CW101", "CW501")}
        assert got == {("CW101", made[account]["key"]), ("CW501", made[account]["secret"])}
        assert {f["account"] for f in report["findings"]} == {account}
        # every call was allowed by the member role's policy, but for the two services whose
        # signature moto cannot check (test_live_org.py); test_live_policy.py covers those
        assert [(e["file"], e["message"]) for e in report["errors"]] == [
            (f"aws://{account}/us-east-1/cloudfront", "access denied (ListDistributions)"),
            (f"aws://{account}/{REGION}/apigateway", "access denied (GetDomainNames)")]
        assert json.loads(stored[where + "certwarden.sarif"])["runs"][0]["results"]
        snapshot = json.loads(gzip.decompress(stored[where + "snapshot.json.gz"]))
        assert [a["unit"] for a in snapshot["accounts"]] == [f"aws://{account}"]
        assert SECRET_VALUE.encode() not in gzip.decompress(stored[where + "snapshot.json.gz"])
        assert {f["AwsAccountId"] for f in json.loads(stored[where + "asff.json"])["Findings"]} == {account}
    assert json.loads(stored[f"{PREFIX}accounts/{roleless}/all/error.json"])["error"] == \
        "AWS credentials: access denied (AssumeRole)"

    summary = json.loads(stored[PREFIX + "summary.json"])
    assert stored["latest.json"] == stored[PREFIX + "summary.json"]
    assert summary["accounts_read"] == 2 and summary["previous_run"] is None
    assert [n["account"] for n in summary["not_read"]] == [roleless]
    new = {(f["code"], f["account"], f["arn"]) for f in summary["new_high_critical"]}
    assert new == {("CW101", a, made[a]["key"]) for a in (first, second)}   # high; CW501 is medium
    assert merged == {**RUN, "accounts_read": 2, "findings": summary["findings"], "read_errors": 4,
                      "new_high_critical": 2, "not_read": 1, "summary": f"s3://{BUCKET}/{PREFIX}summary.json"}

    hub = {f["Id"]: f for f in client(aws, "securityhub").get_findings()["Findings"]}
    assert summary["security_hub"]["created"] == len(hub) == summary["findings"]
    assert {f["AwsAccountId"] for f in hub.values()} == {MANAGEMENT}   # filed under the importing account
    assert {f["ProductFields"]["certwarden/account"] for f in hub.values()} == {first, second}

    message, = client(aws, "sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    text = message["Body"]
    assert text.startswith(f"Scheduled scan {RUN['run']} started {RUN['started']}: 2 account(s) read")
    for account in (first, second):
        assert f"- high CW101 {account} {REGION} {made[account]['key']}: " in text
    assert f"- {roleless} (all): AWS credentials: access denied (AssumeRole)" in text


def test_the_next_run_notifies_only_what_is_new(aws, monkeypatch):
    """The single-account variant: the scan reads the function's own account (no member role)."""
    scanner = stacks.stacks(False)[stacks.ACCOUNT_FILE]
    scan_task = scanner["Resources"]["ScanStateMachine"]["Properties"]["Definition"]["States"]["ScanAccount"]
    key, topic, queue = security_account(aws)
    names = names_of(key, topic, import_findings="false")
    kms = client(aws, "kms")
    old = kms.create_key(Description="old")["KeyMetadata"]["Arn"]
    roles = {f: credentials_of(aws, role, policy_of(scanner, role, names))
             for f, role in (("ScanFunction", "ScannerRole"), ("MergeFunction", "MergeRole"))}
    env = {f: env_of(scanner, f, names) for f in roles}
    assert "MEMBER_ROLE" not in env["ScanFunction"] and env["MergeFunction"]["IMPORT_TO_SECURITY_HUB"] == "false"
    run = Lambda(monkeypatch, aws)

    def one_run(name: str) -> dict:
        # the scan task's Payload, as the state machine fills it in
        payload = scan_task["Parameters"]["Payload"]
        event = {"run": name, "started": "2026-12-03T03:00:00.000Z", "account": MANAGEMENT,
                 "regions": [REGION] if payload["regions.$"] == "States.StringSplit('${Regions}', ',')" else None}
        assert payload["account"] == "${AccountId}"
        moto_api(aws, "reset-auth", b"0")
        scanned = run(handler.scan, event, roles["ScanFunction"], env["ScanFunction"])
        merged = run(handler.merge, {"run": scanned["run"], "started": scanned["started"]},
                     roles["MergeFunction"], env["MergeFunction"])
        moto_api(aws, "reset-auth", b"inf")
        return merged

    assert one_run("first")["new_high_critical"] == 1
    new = kms.create_key(Description="new")["KeyMetadata"]["Arn"]
    second = one_run("second")
    assert second["new_high_critical"] == 1
    summary = json.loads(objects(aws, "latest.json")["latest.json"])
    assert summary["previous_run"] == "first" and [f["arn"] for f in summary["new_high_critical"]] == [new]
    assert old not in json.dumps(summary["new_high_critical"]) and "security_hub" not in summary
    bodies = [m["Body"] for m in client(aws, "sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]]
    assert len(bodies) == 2 and new in bodies[-1] and old not in bodies[-1]
    assert client(aws, "securityhub").get_findings()["Findings"] == []
    assert one_run("third")["new_high_critical"] == 0   # nothing new: nothing published
    assert len(client(aws, "sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])) == 0


@pytest.mark.parametrize("event, problem", [
    ({**RUN, "account": "12345", "regions": [REGION]}, "is not a 12-digit account ID"),
    ({**RUN, "account": MANAGEMENT, "regions": ["--endpoint-url=http://x"]}, "is not a list of region names"),
    ({**RUN, "account": MANAGEMENT, "regions": []}, "is not a list of region names"),
    ({"run": "../x", "started": RUN["started"], "account": MANAGEMENT, "regions": [REGION]}, "not an execution"),
    ({**RUN, "account": MANAGEMENT, "regions": [REGION], "partition": "x;y"}, "is not an AWS partition"),
])
def test_an_event_the_state_machine_does_not_send_is_refused(event, problem, monkeypatch, tmp_path):
    with pytest.raises(handler.BadEvent, match=re.escape(problem)):
        handler.run_prefix(event)
        handler.live_argv(event, tmp_path, 60, "certwarden-read")


def test_one_invocation_per_region_reads_the_global_services_once(aws, monkeypatch, tmp_path):
    from certwarden.sources.live import SERVICES

    first, = organization(aws, 1)
    run = Lambda(monkeypatch, aws)
    client(aws, "s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    listed = run(handler.accounts, RUN, {}, {"REGIONS": f"{REGION},us-east-2", "ONE_INVOCATION_PER_REGION": "true",
                                             "EXCLUDE_ACCOUNTS": MANAGEMENT})
    items = json.loads(objects(aws, listed["key"])[listed["key"]])
    assert items == [{"account": first, "partition": "aws", "regions": [REGION], "global": True, "part": REGION},
                     {"account": first, "partition": "aws", "regions": ["us-east-2"], "global": False,
                      "part": "us-east-2"}]
    assert listed["max_concurrency"] == 10 and listed["count"] == 2
    argv = [handler.live_argv({**RUN, **item}, tmp_path, 120, MEMBER_ROLE) for item in items]
    assert "--service" not in argv[0]
    services = argv[1][argv[1].index("--service") + 1].split(",")
    assert services and not {"iam", "cloudfront", "s3"} & set(services) and set(services) < set(SERVICES)
    assert argv[1][argv[1].index("--role-arn") + 1] == f"arn:aws:iam::{first}:role/{MEMBER_ROLE}"
    assert argv[1][argv[1].index("--region") + 1] == "us-east-2"
