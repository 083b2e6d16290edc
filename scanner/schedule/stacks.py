"""The CloudFormation of scheduled scans (plain dicts), for one account or a whole organisation.

AWS does the scheduling and the fan-out: an EventBridge Scheduler schedule starts a Step
Functions state machine; in an organisation a Distributed Map runs one Lambda invocation per
account (or per account and region), reading the list of accounts from the results bucket where
the first step wrote it; a last step merges the run. The member role goes to every account as a
service-managed StackSet. Like `remediate`, nothing here calls AWS.
"""
from __future__ import annotations

from dataclasses import dataclass

import yaml

from ..remediate import customer_key
from . import ARCHITECTURES, RUNTIMES
from ..sources.live.organization import DEFAULT_ROLE
from ..sources.live.permissions import policy_document

MEMBER_FILE = "certwarden-member-role.yaml"
ORGANIZATION_FILE = "certwarden-organization-scans.yaml"
ACCOUNT_FILE = "certwarden-account-scans.yaml"

SCANNER_ROLE = "certwarden-scanner"
HANDLERS = {"ListFunction": "certwarden.schedule.handler.accounts",
            "ScanFunction": "certwarden.schedule.handler.scan",
            "MergeFunction": "certwarden.schedule.handler.merge"}
RUNS = "runs/*"            # every object a run writes lies under runs/DATE/RUN/
LATEST = "latest.json"     # the summary of the last run: what "new" is measured against

# Transient Lambda errors (the service's own, and throttling: TooManyRequestsException) and
# timeouts (a function that ran out of time reports Lambda.Unknown or Sandbox.Timedout; a task
# past its TimeoutSeconds, States.Timeout) are retried; an error of the scan itself is not.
LAMBDA_TRANSIENT = ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                    "Lambda.ClientExecutionTimeoutException", "Lambda.TooManyRequestsException"]
LAMBDA_TIMEOUTS = ["Lambda.Unknown", "Sandbox.Timedout", "States.Timeout"]
RETRY = [
    {"ErrorEquals": LAMBDA_TRANSIENT, "IntervalSeconds": 2, "MaxAttempts": 6, "BackoffRate": 2,
     "JitterStrategy": "FULL"},
    {"ErrorEquals": LAMBDA_TIMEOUTS, "IntervalSeconds": 30, "MaxAttempts": 1, "BackoffRate": 1},
]
SCAN_TIMEOUT = 900   # seconds: Lambda's limit; a region of an account is the smaller unit past it


@dataclass(frozen=True)
class Params:
    """Choices that shape the templates (the CLI's options): the defaults of their parameters."""
    runtime: str = "python3.12"
    architecture: str = "arm64"
    schedule: str = "rate(1 day)"
    member_role: str = DEFAULT_ROLE
    scanner_role: str = SCANNER_ROLE


def stacks(organization: bool, params: Params | None = None) -> dict[str, dict]:
    """File name -> template: the scanner of one account, or the member role and the
    organisation's scanner."""
    params = params or Params()
    if organization:
        return {MEMBER_FILE: member_role_stack(params), ORGANIZATION_FILE: scanner_stack(params, organization=True)}
    return {ACCOUNT_FILE: scanner_stack(params, organization=False)}


def _sub(text: str) -> dict:
    return {"Fn::Sub": text}


def _arn(rest: str) -> dict:
    return _sub("arn:${AWS::Partition}:" + rest)


def _doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(sid: str, actions: list[str], resource, condition: dict | None = None) -> dict:
    statement = {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


# -- the member role -------------------------------------------------------------------------------

def member_role_stack(params: Params) -> dict:
    """The read-only role of every member account: the policy `certwarden live --print-policy`
    prints, assumable only by the scanner role of the security account, from inside the
    organisation."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": ("certwarden: the read-only role the scheduled organisation scan assumes in this account "
                        "(deploy as a service-managed StackSet)"),
        "Parameters": {
            "ScannerAccountId": {"Type": "String", "AllowedPattern": r"^\d{12}$",
                                 "Description": "The security account where the scanner stack runs"},
            "OrganizationId": {"Type": "String", "AllowedPattern": r"^o-[a-z0-9]{10,32}$",
                               "Description": "The organisation (aws:PrincipalOrgID of the scanner)"},
            "ScannerRoleName": {"Type": "String", "Default": params.scanner_role,
                                "Description": "The scanner stack's ScannerRoleName"},
            "RoleName": {"Type": "String", "Default": params.member_role,
                         "Description": "This role's name (the scanner stack's MemberRoleName)"},
        },
        "Resources": {
            "MemberRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": {"Ref": "RoleName"},
                    "Description": "certwarden: read-only scan of this account's keys and certificates",
                    "AssumeRolePolicyDocument": _doc({
                        "Sid": "CertwardenScanner", "Effect": "Allow", "Action": "sts:AssumeRole",
                        "Principal": {"AWS": _arn("iam::${ScannerAccountId}:root")},
                        # the account alone is not enough: only its scanner role, from this organisation
                        "Condition": {"StringEquals": {
                            "aws:PrincipalArn": _arn("iam::${ScannerAccountId}:role/${ScannerRoleName}"),
                            "aws:PrincipalOrgID": {"Ref": "OrganizationId"}}}}),
                    "Policies": [{"PolicyName": "certwarden-live-read", "PolicyDocument": policy_document()}],
                },
            },
        },
        "Outputs": {"RoleArn": {"Value": {"Fn::GetAtt": ["MemberRole", "Arn"]}}},
    }


# -- the scanner -----------------------------------------------------------------------------------

def _parameters(params: Params, organization: bool) -> dict:
    out = {
        "Schedule": {"Type": "String", "Default": params.schedule,
                     "Description": "EventBridge Scheduler expression: rate(...), cron(...) or at(...)"},
        "ScheduleTimezone": {"Type": "String", "Default": "UTC", "Description": "Time zone of a cron expression"},
        "Regions": {"Type": "String", "Default": "",
                    "Description": "Regions to read, comma-separated (empty: this stack's region)"},
        "ImportToSecurityHub": {"Type": "String", "Default": "false", "AllowedValues": ["true", "false"],
                                "Description": "true: the merge step imports the run into this account's Security Hub"},
        "NotificationEmail": {"Type": "String", "Default": "",
                              "Description": "Address to subscribe to the summary topic; empty for none"},
        "CodeBucket": {"Type": "String", "Description": "S3 bucket holding the Lambda package (certwarden schedule --package)"},
        "CodeKey": {"Type": "String", "Default": "certwarden-lambda.zip", "Description": "Its key"},
        "Runtime": {"Type": "String", "Default": params.runtime, "AllowedValues": list(RUNTIMES),
                    "Description": "The Python runtime the package was built for"},
        "Architecture": {"Type": "String", "Default": params.architecture, "AllowedValues": list(ARCHITECTURES),
                         "Description": "The architecture the package was built for"},
        "ResultsRetentionDays": {"Type": "Number", "Default": 400, "MinValue": 1,
                                 "Description": "Days the results of a run are kept"},
        "Environment": {"Type": "String", "Default": "security", "Description": "Environment tag of the KMS key"},
    }
    if organization:
        out.update({
            "MemberRoleName": {"Type": "String", "Default": params.member_role,
                               "Description": "The role the member StackSet creates in every account"},
            "ScannerRoleName": {"Type": "String", "Default": params.scanner_role,
                                "Description": "The name of the role that assumes the member roles (named in their trust)"},
            "ExcludeAccounts": {"Type": "String", "Default": "",
                                "Description": "Account IDs not to scan, comma-separated"},
            "OneInvocationPerRegion": {"Type": "String", "Default": "false", "AllowedValues": ["true", "false"],
                                       "Description": "true: one Lambda run per account and region (an account too "
                                                      "large for 15 minutes)"},
            "MaxConcurrency": {"Type": "Number", "Default": 10, "MinValue": 1, "MaxValue": 1000,
                               "Description": "Accounts scanned at once"},
        })
    return out


def _regions() -> dict:
    return {"Fn::If": ["AllRegionsDefault", {"Ref": "AWS::Region"}, {"Ref": "Regions"}]}


def _storage() -> dict:
    """The results bucket (Block Public Access, the stack's key, TLS only, versioned for
    evidence, expired after the retention) and the summary topic, encrypted with the same key."""
    return {
        "ResultsKey": customer_key("certwarden: encrypts the scheduled scans' results and summary topic",
                                   "scheduled-scan-results"),
        "ResultsBucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketEncryption": {"ServerSideEncryptionConfiguration": [{
                    "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                      "KMSMasterKeyID": {"Fn::GetAtt": ["ResultsKey", "Arn"]}},
                    "BucketKeyEnabled": True}]},
                "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                   "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "VersioningConfiguration": {"Status": "Enabled"},
                "LifecycleConfiguration": {"Rules": [{
                    "Id": "expire-runs", "Status": "Enabled", "Prefix": "runs/",
                    "ExpirationInDays": {"Ref": "ResultsRetentionDays"},
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}]},
            },
        },
        "ResultsBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "ResultsBucket"},
                "PolicyDocument": _doc({
                    "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                    "Resource": [{"Fn::GetAtt": ["ResultsBucket", "Arn"]}, _sub("${ResultsBucket.Arn}/*")],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
            },
        },
        "SummaryTopic": {"Type": "AWS::SNS::Topic",
                         "Properties": {"KmsMasterKeyId": {"Ref": "ResultsKey"},
                                        "DisplayName": "certwarden scheduled scans"}},
        "SummaryEmail": {"Type": "AWS::SNS::Subscription", "Condition": "HasEmail",
                         "Properties": {"Protocol": "email", "TopicArn": {"Ref": "SummaryTopic"},
                                        "Endpoint": {"Ref": "NotificationEmail"}}},
    }


def _objects(*keys: str) -> list:
    return [_sub("${ResultsBucket.Arn}/" + key) for key in keys]


def _key_use(*actions: str) -> dict:
    return _allow("ResultsKey", list(actions), {"Fn::GetAtt": ["ResultsKey", "Arn"]})


def _function(name: str, role: str, timeout: int, memory: int, env: dict) -> dict[str, dict]:
    """A function of the package, its log group (a year of logs) and its role, which may write
    to that log group and do what `statements` (added by the caller) say."""
    logs = f"{name}Logs"
    return {
        logs: {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 365}},
        role: {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": _doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                  "Action": "sts:AssumeRole"}),
                "Policies": [{"PolicyName": "certwarden", "PolicyDocument": _doc(
                    _allow("Logs", ["logs:CreateLogStream", "logs:PutLogEvents"], {"Fn::GetAtt": [logs, "Arn"]}))}],
            },
        },
        name: {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Description": f"certwarden scheduled scans: {HANDLERS[name].rsplit('.', 1)[1]}",
                "Runtime": {"Ref": "Runtime"}, "Architectures": [{"Ref": "Architecture"}],
                "Code": {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}},
                "Handler": HANDLERS[name], "Timeout": timeout, "MemorySize": memory,
                "Role": {"Fn::GetAtt": [role, "Arn"]},
                "LoggingConfig": {"LogGroup": {"Ref": logs}},
                "Environment": {"Variables": {"RESULTS_BUCKET": {"Ref": "ResultsBucket"}, **env}},
            },
        },
    }


def _grant(resources: dict, role: str, *statements: dict) -> None:
    resources[role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].extend(statements)


def _functions(organization: bool) -> dict[str, dict]:
    out: dict[str, dict] = {}
    env_scan = {"MEMBER_ROLE": {"Ref": "MemberRoleName"}} if organization else {}
    out.update(_function("ScanFunction", "ScannerRole", SCAN_TIMEOUT, 1024, env_scan))
    out.update(_function("MergeFunction", "MergeRole", SCAN_TIMEOUT, 1024, {
        "SUMMARY_TOPIC": {"Ref": "SummaryTopic"}, "IMPORT_TO_SECURITY_HUB": {"Ref": "ImportToSecurityHub"}}))
    _grant(out, "ScannerRole", _allow("WriteResults", ["s3:PutObject"], _objects(RUNS)),
           _key_use("kms:GenerateDataKey"))
    if organization:
        # the member roles trust this role by name (aws:PrincipalArn): it is named, not generated
        out["ScannerRole"]["Properties"]["RoleName"] = {"Ref": "ScannerRoleName"}
        _grant(out, "ScannerRole", _allow("AssumeMemberRoles", ["sts:AssumeRole"],
                                          _arn("iam::*:role/${MemberRoleName}")))
        out.update(_function("ListFunction", "ListRole", 300, 256, {
            "REGIONS": _regions(), "EXCLUDE_ACCOUNTS": {"Ref": "ExcludeAccounts"},
            "ONE_INVOCATION_PER_REGION": {"Ref": "OneInvocationPerRegion"},
            "MAX_CONCURRENCY": {"Ref": "MaxConcurrency"}}))
        # ListAccounts grants on no narrower resource than "*" (Service Authorization Reference)
        _grant(out, "ListRole", _allow("ListAccounts", ["organizations:ListAccounts"], "*"),
               _allow("WriteAccountList", ["s3:PutObject"], _objects(RUNS)), _key_use("kms:GenerateDataKey"))
    else:
        # the scan reads its own account: the role holds the read-only policy itself
        _grant(out, "ScannerRole", *policy_document()["Statement"])
    _grant(out, "MergeRole",
           # the whole bucket, so that a latest.json not yet written is NoSuchKey, not AccessDenied
           _allow("ListResults", ["s3:ListBucket"], {"Fn::GetAtt": ["ResultsBucket", "Arn"]}),
           _allow("ReadResults", ["s3:GetObject"], _objects(RUNS, LATEST)),
           _allow("WriteSummary", ["s3:PutObject"], _objects(RUNS, LATEST)),
           _key_use("kms:Decrypt", "kms:GenerateDataKey"),
           _allow("PublishSummary", ["sns:Publish"], {"Ref": "SummaryTopic"}),
           {"Fn::If": ["ImportFindings", _allow(
               "ImportFindings", ["securityhub:BatchImportFindings"],
               _arn("securityhub:${AWS::Region}:${AWS::AccountId}:product/${AWS::AccountId}/default")),
               {"Ref": "AWS::NoValue"}]},
           # GetFindings (the earlier import, to archive what is gone) grants on no narrower resource
           {"Fn::If": ["ImportFindings", _allow("FindEarlierFindings", ["securityhub:GetFindings"], "*"),
                       {"Ref": "AWS::NoValue"}]})
    return out


def _task(function: str, timeout: int, payload: dict | None = None) -> dict:
    """A Lambda invocation, retried as RETRY says; without `payload`, the state's input is sent whole."""
    body = {"Payload": payload} if payload is not None else {"Payload.$": "$"}
    return {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "${" + function + "}", **body},
            "OutputPath": "$.Payload", "TimeoutSeconds": timeout + 60, "Retry": RETRY}


# Every step knows its run by the execution's name and start (the objects' prefix runs/DATE/RUN/).
RUN = {"run.$": "$$.Execution.Name", "started.$": "$$.Execution.StartTime"}
MERGE = {"run.$": "$.run", "started.$": "$.started"}


def organization_definition() -> dict:
    """List the accounts (written to the results bucket), scan each in a Distributed Map that
    reads that list, then merge. A failed account does not fail the run: the merge names it."""
    return {
        "Comment": "certwarden: scheduled scan of every account of the organisation",
        "StartAt": "ListAccounts",
        "States": {
            "ListAccounts": {**_task("ListFunction", 300, RUN), "Next": "ScanAccounts"},
            "ScanAccounts": {
                "Type": "Map",
                "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                               "ReaderConfig": {"InputType": "JSON"},
                               "Parameters": {"Bucket.$": "$.bucket", "Key.$": "$.key"}},
                "ItemSelector": {"run.$": "$.run", "started.$": "$.started",
                                 "account.$": "$$.Map.Item.Value.account",
                                 "partition.$": "$$.Map.Item.Value.partition",
                                 "regions.$": "$$.Map.Item.Value.regions",
                                 "global.$": "$$.Map.Item.Value.global",
                                 "part.$": "$$.Map.Item.Value.part"},
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "ScanAccount",
                    "States": {"ScanAccount": {**_task("ScanFunction", SCAN_TIMEOUT), "End": True}},
                },
                "MaxConcurrencyPath": "$.max_concurrency",
                "ToleratedFailurePercentage": 100,
                "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                                 "Parameters": {"Bucket.$": "$.bucket", "Prefix.$": "$.map_prefix"}},
                "ResultPath": "$.map",
                "Next": "Merge",
            },
            "Merge": {**_task("MergeFunction", SCAN_TIMEOUT, MERGE),
                      "End": True},
        },
    }


def account_definition() -> dict:
    """Scan this account, then merge (the summary, the optional import)."""
    return {
        "Comment": "certwarden: scheduled scan of this account",
        "StartAt": "ScanAccount",
        "States": {
            "ScanAccount": {**_task("ScanFunction", SCAN_TIMEOUT, {
                **RUN, "account": "${AccountId}", "regions.$": "States.StringSplit('${Regions}', ',')"}), "Next": "Merge"},
            "Merge": {**_task("MergeFunction", SCAN_TIMEOUT, MERGE),
                      "End": True},
        },
    }


def _orchestration(organization: bool) -> dict[str, dict]:
    functions = ["ScanFunction", "MergeFunction"] + (["ListFunction"] if organization else [])
    definition = organization_definition() if organization else account_definition()
    substitutions = {f: {"Fn::GetAtt": [f, "Arn"]} for f in functions}
    if not organization:
        substitutions.update({"AccountId": {"Ref": "AWS::AccountId"}, "Regions": _regions()})
    invoke = [{"Fn::GetAtt": [f, "Arn"]} for f in functions] + [_sub("${" + f + ".Arn}:*") for f in functions]
    statements = [_allow("InvokeFunctions", ["lambda:InvokeFunction"], invoke)]
    if organization:
        statements += [_allow("ReadAccountList", ["s3:GetObject"], _objects(RUNS)),
                       # the Map's ResultWriter writes in multipart uploads
                       _allow("WriteMapResults", ["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts",
                                                  "s3:PutObject"], _objects(RUNS)),
                       _key_use("kms:Decrypt", "kms:GenerateDataKey")]
    out = {
        "StateMachineRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": _service_trust("states.amazonaws.com"),
                "Policies": [{"PolicyName": "certwarden", "PolicyDocument": _doc(*statements)}],
            },
        },
        "ScanStateMachine": {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {"StateMachineType": "STANDARD", "Definition": definition,
                           "DefinitionSubstitutions": substitutions,
                           "RoleArn": {"Fn::GetAtt": ["StateMachineRole", "Arn"]}},
        },
        "SchedulerRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": _service_trust("scheduler.amazonaws.com"),
                "Policies": [{"PolicyName": "certwarden", "PolicyDocument": _doc(
                    _allow("StartScan", ["states:StartExecution"], {"Ref": "ScanStateMachine"}))}],
            },
        },
        "ScanSchedule": {
            "Type": "AWS::Scheduler::Schedule",
            "Properties": {
                "Description": "certwarden: start the scheduled scan",
                "ScheduleExpression": {"Ref": "Schedule"},
                "ScheduleExpressionTimezone": {"Ref": "ScheduleTimezone"},
                "FlexibleTimeWindow": {"Mode": "OFF"},
                "State": "ENABLED",
                "Target": {"Arn": {"Ref": "ScanStateMachine"}, "RoleArn": {"Fn::GetAtt": ["SchedulerRole", "Arn"]},
                           "Input": "{}", "RetryPolicy": {"MaximumRetryAttempts": 3}},
            },
        },
    }
    if organization:
        # A Distributed Map runs its items as child executions of the state machine itself; the
        # grant names it, so it is a policy of its own (the state machine needs the role first).
        out["DistributedMapPolicy"] = {
            "Type": "AWS::IAM::RolePolicy",
            "Properties": {
                "RoleName": {"Ref": "StateMachineRole"}, "PolicyName": "certwarden-distributed-map",
                "PolicyDocument": _doc(
                    _allow("StartChildRuns", ["states:StartExecution"], {"Ref": "ScanStateMachine"}),
                    _allow("FollowChildRuns", ["states:DescribeExecution", "states:StopExecution"],
                           _arn("states:${AWS::Region}:${AWS::AccountId}:execution:${ScanStateMachine.Name}/*"))),
            },
        }
    return out


def _service_trust(service: str) -> dict:
    # Confused deputy: the service assumes the role only on behalf of this account.
    return _doc({"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole",
                 "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}})


def scanner_stack(params: Params, organization: bool) -> dict:
    what = "every account of the organisation" if organization else "this account"
    resources = {**_storage(), **_functions(organization), **_orchestration(organization)}
    outputs = {
        "ResultsBucketName": {"Value": {"Ref": "ResultsBucket"}, "Description": "runs/DATE/RUN/ and latest.json"},
        "SummaryTopicArn": {"Value": {"Ref": "SummaryTopic"}, "Description": "Subscribe more endpoints here"},
        "StateMachineArn": {"Value": {"Ref": "ScanStateMachine"}, "Description": "Start a run by hand here"},
    }
    if organization:
        outputs["ScannerRoleArn"] = {"Value": {"Fn::GetAtt": ["ScannerRole", "Arn"]},
                                     "Description": "The principal the member roles trust"}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": (f"certwarden: scheduled read-only scans of {what} (EventBridge Scheduler, Step Functions, "
                        "Lambda), results in an encrypted S3 bucket, a summary of new high and critical findings "
                        "on an encrypted SNS topic, optionally imported to Security Hub"),
        "Parameters": _parameters(params, organization),
        "Conditions": {
            "HasEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "NotificationEmail"}, ""]}]},
            "AllRegionsDefault": {"Fn::Equals": [{"Ref": "Regions"}, ""]},
            "ImportFindings": {"Fn::Equals": [{"Ref": "ImportToSecurityHub"}, "true"]},
        },
        "Resources": resources,
        "Outputs": outputs,
    }


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data) -> bool:   # CloudFormation rejects YAML aliases (cfn-lint W1101)
        return True


def to_yaml(template: dict) -> str:
    return yaml.dump(template, Dumper=_Dumper, sort_keys=False, width=100)
