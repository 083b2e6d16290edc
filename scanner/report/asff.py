"""AWS Security Finding Format (ASFF): findings of a live scan as Security Hub imports them.

The document is {"Findings": [...]}, each finding one BatchImportFindings item (the tests check
every rule that can fire on live state with botocore's own validation of that input). Ids are
stable (rule and fingerprint), so importing a rerun updates findings rather than adding new
ones. ProductArn is the default product of the finding's own account and region; `certwarden
securityhub import` sets that of the account and region it imports into.
"""
from __future__ import annotations

import json
from datetime import datetime

from .. import __version__
from ..findings import Finding, ScanResult
from . import DOCS_BASE, requirements

ID_PREFIX = "certwarden/"
GLOBAL_REGION = "us-east-1"
FINDING_TYPE = "Software and Configuration Checks/AWS Security Best Practices/AWS Well-Architected SEC09-BP01"
LABELS = {"critical": "CRITICAL", "high": "HIGH", "medium": "MEDIUM", "low": "LOW", "info": "INFORMATIONAL"}
NORMALIZED = {"critical": 90, "high": 70, "medium": 40, "low": 1, "info": 0}   # the bands of each Label
# Security Hub's resource types, by node kind; a kind it has no type for is "Other".
RESOURCE_TYPES = {
    "kms_key": "AwsKmsKey", "s3_bucket": "AwsS3Bucket", "acm_certificate": "AwsCertificateManagerCertificate",
    "secret": "AwsSecretsManagerSecret", "cloudfront_distribution": "AwsCloudFrontDistribution",
}


# What certwarden writes in a finding (Security Hub adds Workflow, ProcessedAt and more on import).
PROVIDER_FIELDS = ("SchemaVersion", "Id", "ProductArn", "ProductName", "CompanyName", "GeneratorId", "AwsAccountId",
                   "Region", "Types", "CreatedAt", "UpdatedAt", "Severity", "Title", "Description", "Remediation",
                   "SourceUrl", "ProductFields", "Resources", "Compliance", "RecordState")


def product_arn(partition: str, region: str, account: str) -> str:
    """The default product of an account: what a custom integration imports findings to."""
    return f"arn:{partition}:securityhub:{region}:{account}:product/{account}/default"


def partition_of(arn: str | None) -> str:
    return arn.split(":")[1] if arn and arn.startswith("arn:") and arn.count(":") >= 5 else "aws"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def finding(f: Finding, rule, when: str) -> dict:
    w = f.where
    region = w.region or GLOBAL_REGION
    partition = partition_of(w.arn)
    account = w.account or ""
    resource = {"Type": RESOURCE_TYPES.get(f.kind, "Other"), "Id": w.arn or f.resource, "Partition": partition,
                "Region": region, "Details": {"Other": {"certwarden/kind": f.kind, "certwarden/name": f.resource[:1024]}}}
    return {
        "SchemaVersion": "2018-10-08",
        "Id": f"{ID_PREFIX}{f.code}/{f.fingerprint}",
        "ProductArn": product_arn(partition, region, account),
        "ProductName": "certwarden", "CompanyName": "certwarden",
        "GeneratorId": f.code,
        "AwsAccountId": account,
        "Region": region,
        "Types": [FINDING_TYPE],
        "CreatedAt": when, "UpdatedAt": when,
        "Severity": {"Label": LABELS[f.severity], "Normalized": NORMALIZED[f.severity], "Original": f.severity},
        "Title": _clip(f"{f.code} {rule.title}", 256),
        "Description": _clip(f.message, 1024),
        "Remediation": {"Recommendation": {"Text": _clip((rule.fix or {}).get("description") or rule.title, 512),
                                           "Url": DOCS_BASE + rule.doc_path}},
        "SourceUrl": DOCS_BASE + rule.doc_path,
        "ProductFields": {"certwarden/rule": f.name, "certwarden/fingerprint": f.fingerprint,
                          "certwarden/version": __version__, **({"certwarden/attribute": f.attr} if f.attr else {})},
        "Resources": [resource],
        "Compliance": {"Status": "NOT_AVAILABLE" if f.review else "FAILED",
                       "RelatedRequirements": requirements(rule)[:32]},
        "RecordState": "ACTIVE",
    }


def findings(result: ScanResult, now: datetime) -> list[dict]:
    """Every finding that is not suppressed (suppressed ones are accepted: nothing to look at)."""
    rules = {r.code: r for r in result.rules}
    when = now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return [finding(f, rules[f.code], when) for f in result.findings if not f.suppressed]


def render(result: ScanResult, now: datetime) -> str:
    return json.dumps({"Findings": findings(result, now)}, indent=2, ensure_ascii=False) + "\n"
