"""`certwarden remediate`: CloudFormation stacks that remediate an account, from a JSON report.

Data flows one way: the findings of a report (docs/output.md) come in, CloudFormation templates
(plain dicts) go out. Nothing here reads templates, calls AWS or imports the scanners (only the
resource builders structural fixes use, patterns.py, which read nothing), so a
report from `certwarden live` on one machine can be turned into stacks on another. Which AWS
Config rule watches for which finding comes from the rules' own refs (rulepack.Rule.config_rules).

Every Config rule identifier and SSM Automation document below was checked against the AWS
documentation (AWS Config developer guide, Systems Manager Automation runbook reference); see
docs/remediation.md for the table and what was left out.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from .rulepack import fix_todo
from .sources.cloudformation import patterns

MONITORING_FILE = "certwarden-expiry-monitoring.yaml"
CONFIG_RULES_FILE = "certwarden-config-rules.yaml"

# Findings that mean "nobody is told before a certificate expires".
EXPIRY_CODES = frozenset({"CW801", "CW203", "CW204", "CW213"})

# Permissions every SSM Automation runbook needs on its assume role (runbook reference,
# "Required IAM permissions").
AUTOMATION_BASE_ACTIONS = ("ssm:StartAutomationExecution", "ssm:GetAutomationExecution")

# A remediation acts only on resources chosen for it: those the report flagged (a Config rule
# scoped to each resource ID), else those tagged so by a person. Past this many flagged
# resources per rule, the tag is the scope (a stack holds at most 500 resources).
REMEDIATE_TAG = "certwarden:remediate"
MAX_SCOPED_RESOURCES = 50


@dataclass(frozen=True)
class Runbook:
    """An AWS-owned SSM Automation document Config can run on a non-compliant resource."""
    document: str
    resource_parameter: str          # the runbook parameter that receives the resource ID
    actions: tuple[str, ...]         # what the runbook calls, beyond AUTOMATION_BASE_ACTIONS
    service: str                     # kms | s3: how the resource ID is read off an ARN and written in one


@dataclass(frozen=True)
class ConfigRule:
    """An AWS Config managed rule, with its runbook when AWS publishes one. `inputs` turns the
    certwarden rule's params into the Config rule's parameters (so both judge by the same
    policy); `only_region` is the one region AWS offers the rule in."""
    logical_id: str
    identifier: str
    resource_type: str
    runbook: Runbook | None = None
    inputs: Callable[[dict], dict] | None = None
    only_region: str | None = None
    input_parameters: tuple[tuple[str, str], ...] = ()   # inputs applied to one rule's params

    def for_params(self, params: dict) -> "ConfigRule":
        values = self.inputs(params) if self.inputs else {}
        return replace(self, input_parameters=tuple((k, v) for k, v in values.items() if v))


ENABLE_KEY_ROTATION = Runbook("AWSConfigRemediation-EnableKeyRotation", "KeyId",
                              ("kms:EnableKeyRotation", "kms:GetKeyRotationStatus"), "kms")
CANCEL_KEY_DELETION = Runbook("AWSConfigRemediation-CancelKeyDeletion", "KeyId",
                              ("kms:CancelKeyDeletion", "kms:DescribeKey"), "kms")
# Turns on the bucket's Block Public Access settings (s3:PutBucketPublicAccessBlock).
DISABLE_BUCKET_PUBLIC_READ_WRITE = Runbook("AWS-DisableS3BucketPublicReadWrite", "S3BucketName",
                                           ("s3:PutBucketPublicAccessBlock",), "s3")

# Classic Load Balancers offer fewer predefined policies than ALBs and NLBs: of those, only this
# one allows TLS 1.2 alone (Elastic Load Balancing guide, "Predefined SSL security policies for
# Classic Load Balancers"). The Config rule for them takes a single policy name.
CLASSIC_TLS12_POLICIES = ("ELBSecurityPolicy-TLS-1-2-2017-01",)


def _classic_policy(params: dict) -> dict:
    approved = [p for p in params.get("approved_policies", ()) if p in CLASSIC_TLS12_POLICIES]
    return {"predefinedPolicyName": approved[0] if approved else CLASSIC_TLS12_POLICIES[0]}


def _csv(param: str, key: str) -> Callable[[dict], dict]:
    return lambda params: {key: ",".join(params.get(param, ()))}


# The AWS Config managed rules these stacks deploy, by the name a rule's refs give them ("CFG
# cmk-backing-key-rotation-enabled"): which rule watches for which finding is the rule's own data.
# A name a rule gives that is not here (or whose family the expiry monitoring stack covers) gets
# no Config rule.
MANAGED_RULES: dict[str, ConfigRule] = {
    "cmk-backing-key-rotation-enabled": ConfigRule(
        "CmkBackingKeyRotationEnabled", "CMK_BACKING_KEY_ROTATION_ENABLED", "AWS::KMS::Key", ENABLE_KEY_ROTATION),
    "kms-cmk-not-scheduled-for-deletion": ConfigRule(
        "KmsCmkNotScheduledForDeletion", "KMS_CMK_NOT_SCHEDULED_FOR_DELETION", "AWS::KMS::Key", CANCEL_KEY_DELETION),
    "s3-bucket-level-public-access-prohibited": ConfigRule(
        "S3BucketLevelPublicAccessProhibited", "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED", "AWS::S3::Bucket",
        DISABLE_BUCKET_PUBLIC_READ_WRITE),
    "s3-bucket-public-read-prohibited": ConfigRule(
        "S3BucketPublicReadProhibited", "S3_BUCKET_PUBLIC_READ_PROHIBITED", "AWS::S3::Bucket",
        DISABLE_BUCKET_PUBLIC_READ_WRITE),
    "s3-bucket-public-write-prohibited": ConfigRule(
        "S3BucketPublicWriteProhibited", "S3_BUCKET_PUBLIC_WRITE_PROHIBITED", "AWS::S3::Bucket",
        DISABLE_BUCKET_PUBLIC_READ_WRITE),
    "secretsmanager-rotation-enabled-check": ConfigRule(
        "SecretsManagerRotationEnabledCheck", "SECRETSMANAGER_ROTATION_ENABLED_CHECK", "AWS::SecretsManager::Secret"),
    # Detection only: AWS publishes no runbook for these, and each fix needs a person's choice
    # (a new certificate, a key, a policy that clients still support).
    "acm-certificate-rsa-check": ConfigRule(
        "AcmCertificateRsaCheck", "ACM_CERTIFICATE_RSA_CHECK", "AWS::ACM::Certificate"),
    "acm-pca-root-ca-disabled": ConfigRule(
        "AcmPcaRootCaDisabled", "ACM_PCA_ROOT_CA_DISABLED", "AWS::ACMPCA::CertificateAuthority",
        inputs=_csv("exempted_ca_arns", "exemptedCAArns")),
    "secretsmanager-using-cmk": ConfigRule(
        "SecretsManagerUsingCmk", "SECRETSMANAGER_USING_CMK", "AWS::SecretsManager::Secret"),
    "elb-predefined-security-policy-ssl-check": ConfigRule(
        "ElbPredefinedSecurityPolicySslCheck", "ELB_PREDEFINED_SECURITY_POLICY_SSL_CHECK",
        "AWS::ElasticLoadBalancing::LoadBalancer", inputs=_classic_policy),
    "elbv2-predefined-security-policy-ssl-check": ConfigRule(
        "Elbv2PredefinedSecurityPolicySslCheck", "ELBV2_PREDEFINED_SECURITY_POLICY_SSL_CHECK",
        "AWS::ElasticLoadBalancingV2::Listener", inputs=_csv("approved_policies", "sslPolicies")),
    "cloudfront-security-policy-check": ConfigRule(
        "CloudFrontSecurityPolicyCheck", "CLOUDFRONT_SECURITY_POLICY_CHECK", "AWS::CloudFront::Distribution",
        only_region="us-east-1"),
}


def watched_by(rules) -> dict[str, tuple[ConfigRule, ...]]:
    """Rule code -> the Config rules that watch for its findings, from each rule's refs."""
    out = {r.code: tuple(MANAGED_RULES[n].for_params(r.params) for n in r.config_rules if n in MANAGED_RULES)
           for r in rules}
    return {code: found for code, found in out.items() if found}


@dataclass
class Params:
    """Choices that shape the templates (the CLI's options)."""
    region: str | None = None           # only used in the printed commands; templates are region-free
    days_to_expiration: int = 45        # default of the DaysToExpiration parameter


def stacks(findings: list[dict], params: Params | None = None, rules=None) -> dict[str, dict]:
    """File name -> CloudFormation template for the findings; empty when none needs a stack.
    Suppressed findings were accepted by someone, so they call for nothing. `rules`: the rules
    whose codes the report holds (default: the shipped pack)."""
    params = params or Params()
    if rules is None:
        from .rulepack import load_rules

        rules = load_rules()
    watch = watched_by(rules)
    codes = {f.get("code") for f in findings if not f.get("suppressions")}
    out: dict[str, dict] = {}
    if codes & EXPIRY_CODES:
        out[MONITORING_FILE] = monitoring_stack(params)
    config_rules = config_rules_for(codes, watch)
    if config_rules:
        out[CONFIG_RULES_FILE] = config_rules_stack(config_rules, flagged_ids(findings, watch))
    return out


def uncovered(findings: list[dict], rules=None) -> list[str]:
    """One line per finding that no stack detects or remediates: why not, and what to do (the
    rule's own fix text, and its AWS CLI command when it has one)."""
    if rules is None:
        from .rulepack import load_rules

        rules = load_rules()
    by_code = {r.code: r for r in rules}
    covered = EXPIRY_CODES | set(watched_by(rules))
    lines = []
    for f in findings:
        code = f.get("code")
        if f.get("suppressions") or code in covered:
            continue
        rule = by_code.get(code)
        fix = (rule.fix or {}) if rule else {}
        todo = fix_todo(fix) or "see the rule's page"
        if fix.get("live"):
            todo += f" ({fix['live']})"
        where = f.get("arn") or f.get("resource") or "?"
        name = f" {rule.name}" if rule else ""
        lines.append(f"{code}{name} {where}: no AWS Config managed rule or runbook covers it; {todo}")
    return lines


def _resource_id(arn: str, service: str) -> str | None:
    """The ID AWS Config knows a resource by, read off its ARN: a key's UUID, a bucket's name."""
    parts = arn.split(":", 5) if isinstance(arn, str) else []
    if len(parts) < 6 or parts[0] != "arn" or parts[2] != service:
        return None
    if service == "kms":
        return parts[5].removeprefix("key/") if parts[5].startswith("key/") else None
    return parts[5].split("/")[0] or None


def flagged_ids(findings: list[dict], watch: dict[str, tuple[ConfigRule, ...]]) -> dict[str, list[str]]:
    """Config rule identifier -> the resource IDs the report flagged for it (live findings name
    resources by ARN; a scan's findings name template resources, which have no ID yet)."""
    out: dict[str, set[str]] = {}
    for f in findings:
        if f.get("suppressions"):
            continue
        for rule in watch.get(f.get("code"), ()):
            rid = rule.runbook and _resource_id(f.get("arn"), rule.runbook.service)
            if rid:
                out.setdefault(rule.identifier, set()).add(rid)
    return {k: sorted(v) for k, v in out.items()}


def config_rules_for(codes: set, watch: dict[str, tuple[ConfigRule, ...]]) -> list[ConfigRule]:
    """The distinct Config rules the codes call for, in a stable order (by rule code)."""
    seen: dict[str, ConfigRule] = {}
    for code in sorted(c for c in codes if c in watch):
        for rule in watch[code]:
            seen.setdefault(rule.identifier, rule)
    return list(seen.values())


# -- expiry monitoring -----------------------------------------------------------------------------

def monitoring_stack(params: Params) -> dict:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": ("certwarden: notify before ACM certificates expire (EventBridge rule on ACM "
                        "expiry events to an encrypted SNS topic, and the Config rule "
                        "acm-certificate-expiration-check)"),
        "Parameters": {
            "NotificationEmail": {"Type": "String", "Default": "",
                                  "Description": "Address to subscribe to the topic; empty for none"},
            "DaysToExpiration": {"Type": "Number", "Default": params.days_to_expiration,
                                 "MinValue": 1, "MaxValue": 365,
                                 "Description": "Config marks a certificate non-compliant this many days before it expires"},
            "Environment": {"Type": "String", "Default": "security",
                            "Description": "Environment tag of the topic's KMS key"},
        },
        "Conditions": {"HasEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "NotificationEmail"}, ""]}]}},
        "Resources": {
            "ExpiryTopicKey": _topic_key(),
            "ExpiryTopic": {"Type": "AWS::SNS::Topic",
                            "Properties": {"KmsMasterKeyId": {"Ref": "ExpiryTopicKey"},
                                           "DisplayName": "Certificate expiry"}},
            "ExpiryTopicPolicy": patterns.events_topic_policy("ExpiryTopic", "CertificateExpiryEvents"),
            "ExpiryEmail": {"Type": "AWS::SNS::Subscription", "Condition": "HasEmail",
                            "Properties": {"Protocol": "email", "TopicArn": {"Ref": "ExpiryTopic"},
                                           "Endpoint": {"Ref": "NotificationEmail"}}},
            "CertificateExpiryEvents": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "Description": "ACM certificates approaching expiration",
                    "EventPattern": {"source": ["aws.acm"],
                                     "detail-type": ["ACM Certificate Approaching Expiration"]},
                    "Targets": [{"Arn": {"Ref": "ExpiryTopic"}, "Id": "expiry-topic"}],
                },
            },
            "AcmCertificateExpirationCheck": {
                "Type": "AWS::Config::ConfigRule",
                "Properties": {
                    "Source": {"Owner": "AWS", "SourceIdentifier": "ACM_CERTIFICATE_EXPIRATION_CHECK"},
                    "Scope": {"ComplianceResourceTypes": ["AWS::ACM::Certificate"]},
                    "InputParameters": {"daysToExpiration": {"Ref": "DaysToExpiration"}},
                },
            },
        },
        "Outputs": {"TopicArn": {"Value": {"Ref": "ExpiryTopic"},
                                 "Description": "Subscribe more endpoints here"}},
    }


def _topic_key() -> dict:
    """A customer managed key for the topic. EventBridge cannot publish to a topic encrypted with
    the AWS managed alias/aws/sns (its key policy cannot be changed to let EventBridge use it),
    so the topic gets its own key, rotated yearly, that EventBridge may use for this account's rules."""
    return customer_key("certwarden: encrypts the certificate expiry topic", "certificate-expiry-notifications",
                        patterns.events_may_use_key())


def customer_key(description: str, purpose: str, *statements: dict) -> dict:
    """A customer managed KMS key of a generated stack (the one structural fixes add), tagged
    with the template's Environment parameter."""
    return patterns.customer_key(description, {"Ref": "Environment"}, purpose, *statements)


# -- Config rules with remediations ----------------------------------------------------------------

def config_rules_stack(rules: list[ConfigRule], flagged: dict[str, list[str]] | None = None) -> dict:
    """Each Config rule watches the whole account; its remediation is attached to rules of its
    own, scoped to the flagged resources (else to those tagged certwarden:remediate=true), so
    even automatic remediation never touches a resource nobody chose (an intended website or
    CRL bucket, a key scheduled for deletion on purpose)."""
    flagged = flagged or {}
    resources: dict[str, dict] = {}
    scopes: dict[str, list[str]] = {}
    for rule in rules:
        resources[rule.logical_id] = _config_rule(rule, {"ComplianceResourceTypes": [rule.resource_type]})
        if not rule.runbook:
            continue
        ids = flagged.get(rule.identifier, [])
        if ids and len(ids) <= MAX_SCOPED_RESOURCES:
            scopes[rule.identifier] = ids
            for i, rid in enumerate(ids, 1):
                name = f"{rule.logical_id}Fix{i}"
                resources[name] = _config_rule(rule, {"ComplianceResourceTypes": [rule.resource_type],
                                                      "ComplianceResourceId": rid})
                resources[f"{name}Remediation"] = _remediation(rule, name)
        else:
            name = f"{rule.logical_id}Tagged"
            resources[name] = _config_rule(rule, {"TagKey": REMEDIATE_TAG, "TagValue": "true"})
            resources[f"{name}Remediation"] = _remediation(rule, name)
    books = _runbooks(rules)
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": ("certwarden: AWS Config managed rules for "
                        + ", ".join(r.identifier for r in rules)
                        + (", with SSM Automation remediations scoped to the flagged resources "
                           f"(else to resources tagged {REMEDIATE_TAG}=true)" if books else "")),
        "Resources": resources,
    }
    if books:
        template["Metadata"] = {"certwarden": {
            "remediation_scope": {r.identifier: scopes.get(r.identifier, f"tag {REMEDIATE_TAG}=true")
                                  for r in rules if r.runbook},
            "note": ("The rules without a suffix watch the whole account and remediate nothing; "
                     "the Fix and Tagged rules remediate only the resources in their scope."),
        }}
        template["Parameters"] = {"AutomaticRemediation": {
            "Type": "String", "Default": "false", "AllowedValues": ["true", "false"],
            "Description": ("true: Config runs each remediation by itself, on the resources in its "
                            f"rule's scope only (the flagged resources, or those tagged {REMEDIATE_TAG}=true)")}}
        template["Conditions"] = {"Automatic": {"Fn::Equals": [{"Ref": "AutomaticRemediation"}, "true"]}}
        resources["RemediationRole"] = _remediation_role(books, scopes, rules)
    regional = _region_conditions(rules)
    if regional:
        template.setdefault("Conditions", {}).update(regional)
        template["Description"] += "; " + ", ".join(
            f"{r.identifier} only where AWS offers it ({r.only_region})" for r in rules if r.only_region)
    return template


def _config_rule(rule: ConfigRule, scope: dict) -> dict:
    props = {"Source": {"Owner": "AWS", "SourceIdentifier": rule.identifier}, "Scope": scope}
    if rule.input_parameters:
        props["InputParameters"] = dict(rule.input_parameters)
    out = {"Type": "AWS::Config::ConfigRule", "Properties": props}
    if rule.only_region:   # the stack still deploys in every region; the rule only where AWS has it
        out["Condition"] = _region_condition(rule.only_region)
    return out


def _region_condition(region: str) -> str:
    return "In" + "".join(part.title() for part in region.split("-"))


def _region_conditions(rules: list[ConfigRule]) -> dict:
    return {_region_condition(r.only_region): {"Fn::Equals": [{"Ref": "AWS::Region"}, r.only_region]}
            for r in rules if r.only_region}


def _runbooks(rules: list[ConfigRule]) -> list[Runbook]:
    return list(dict.fromkeys(r.runbook for r in rules if r.runbook))


def _remediation(rule: ConfigRule, config_rule: str) -> dict:
    book = rule.runbook
    return {
        "Type": "AWS::Config::RemediationConfiguration",
        "Properties": {
            "ConfigRuleName": {"Ref": config_rule},
            "TargetType": "SSM_DOCUMENT",
            "TargetId": book.document,
            "ResourceType": rule.resource_type,
            "Parameters": {
                "AutomationAssumeRole": {"StaticValue": {"Values": [{"Fn::GetAtt": ["RemediationRole", "Arn"]}]}},
                book.resource_parameter: {"ResourceValue": {"Value": "RESOURCE_ID"}},
            },
            # Off by default: a person reviews each remediation in the Config console first.
            "Automatic": {"Fn::If": ["Automatic", True, False]},
            "MaximumAutomaticAttempts": 3,
            "RetryAttemptSeconds": 60,
        },
    }


def _sub(text: str) -> dict:
    return {"Fn::Sub": text}


def _targets(book: Runbook, ids: list[str]) -> tuple[list, dict | None]:
    """(resources, condition) a runbook's own actions may touch: the flagged resources by ARN, or
    every key or bucket of the account with the remediation tag (S3 cannot test bucket tags in a
    policy; its Config rules are scoped by the tag all the same)."""
    if book.service == "kms":
        if ids:
            return [_sub(f"arn:${{AWS::Partition}}:kms:${{AWS::Region}}:${{AWS::AccountId}}:key/{i}") for i in ids], None
        return ([_sub("arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*")],
                {"StringEquals": {f"aws:ResourceTag/{REMEDIATE_TAG}": "true"}})
    return [_sub(f"arn:${{AWS::Partition}}:s3:::{i}") for i in ids] or [_sub("arn:${AWS::Partition}:s3:::*")], None


def _remediation_role(runbooks: list[Runbook], scopes: dict[str, list[str]], rules: list[ConfigRule]) -> dict:
    """One role SSM Automation assumes, for this account's automations only, allowed what these
    runbooks call, on the resources in their rules' scope."""
    statements = [{
        "Sid": "StartTheRunbooks", "Effect": "Allow", "Action": "ssm:StartAutomationExecution",
        "Resource": [_sub(f"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:automation-definition/{b.document}:*")
                     for b in runbooks]}, {
        "Sid": "FollowTheRunbooks", "Effect": "Allow", "Action": "ssm:GetAutomationExecution",
        "Resource": _sub("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:automation-execution/*")}]
    for n, book in enumerate(runbooks, 1):
        ids = sorted({i for r in rules if r.runbook == book for i in scopes.get(r.identifier, [])})
        resources, condition = _targets(book, ids)
        statement = {"Sid": f"Runbook{n}", "Effect": "Allow", "Action": sorted(book.actions), "Resource": resources}
        if condition:
            statement["Condition"] = condition
        statements.append(statement)
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": "certwarden: assumed by SSM Automation for the Config remediations",
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"},
                               "Action": "sts:AssumeRole",
                               # Confused deputy: only this account's automations assume the role.
                               "Condition": {
                                   "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                                   "ArnLike": {"aws:SourceArn": _sub(
                                       "arn:${AWS::Partition}:ssm:*:${AWS::AccountId}:automation-execution/*")}}}],
            },
            "Policies": [{"PolicyName": "certwarden-remediation",
                          "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}],
        },
    }
