"""The least-privilege IAM policy for `certwarden live`: every action its collectors need.

tests/test_live_policy.py reads a whole account with every collector (and the enabled regions,
for --region all) and checks that the calls sent are exactly these actions (IAM names a few of them differently from the API operation),
and that docs/live.md shows this policy.
"""
from __future__ import annotations

import json

ACTIONS = (
    "account:ListRegions",
    "acm-pca:ListCertificateAuthorities", "acm-pca:ListTags",
    "acm:DescribeCertificate", "acm:GetCertificate", "acm:ListCertificates", "acm:ListTagsForCertificate",
    "apigateway:GET",
    "cloudfront:ListDistributions",
    "cloudhsm:DescribeClusters",
    "config:DescribeConfigRules",
    "ec2:DescribeRegions",
    "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeLoadBalancerPolicies",
    "elasticloadbalancing:DescribeLoadBalancers",
    "events:ListRules",
    "iam:GetServerCertificate", "iam:ListServerCertificates",
    "kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListKeys",
    "kms:ListResourceTags",
    "s3:GetAccountPublicAccessBlock", "s3:GetBucketAcl", "s3:GetBucketLocation", "s3:GetBucketPolicy",
    "s3:GetBucketPublicAccessBlock", "s3:GetBucketTagging", "s3:ListAllMyBuckets",
    "secretsmanager:ListSecrets",
    "sts:GetCallerIdentity",
)


def policy_document() -> dict:
    return {"Version": "2012-10-17",
            "Statement": [{"Sid": "CertwardenLiveRead", "Effect": "Allow", "Action": list(ACTIONS), "Resource": "*"}]}


def policy_json() -> str:
    return json.dumps(policy_document(), indent=2) + "\n"


def scanner_policy(role_name: str) -> dict:
    """What the scanning account (management or delegated admin) needs for --organization."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "CertwardenListAccounts", "Effect": "Allow", "Action": ["organizations:ListAccounts"], "Resource": "*"},
        {"Sid": "CertwardenAssumeMemberRole", "Effect": "Allow", "Action": ["sts:AssumeRole"],
         "Resource": f"arn:aws:iam::*:role/{role_name}"}]}


def trust_policy(external_id: str | None = None, scanner_account: str = "SCANNER_ACCOUNT_ID") -> dict:
    """The member role's trust policy: only the scanning account may assume it."""
    statement = {"Sid": "CertwardenScanner", "Effect": "Allow",
                 "Principal": {"AWS": f"arn:aws:iam::{scanner_account}:root"}, "Action": "sts:AssumeRole"}
    if external_id:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return {"Version": "2012-10-17", "Statement": [statement]}


def organization_json(role_name: str, external_id: str | None = None) -> str:
    """The three documents of an organisation scan, by where each goes."""
    return json.dumps({"member_role": {"name": role_name, "permissions": policy_document(),
                                       "trust": trust_policy(external_id)},
                       "scanner": scanner_policy(role_name)}, indent=2) + "\n"
