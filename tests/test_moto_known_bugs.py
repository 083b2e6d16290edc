"""Known bugs of the moto server that tests work around, each checked to be still there: when
one of these fails, moto has fixed the bug and the workaround it names can go."""
from __future__ import annotations

import json

import boto3
import pytest


def test_moto_still_fails_on_a_tagged_kms_key_in_cloudformation(aws):
    """moto 5.2.5 (kms/models.py Key.create_from_cloudformation_json) hands CloudFormation's
    Key/Value tags to a tagger keyed TagKey/TagValue, and the server answers 500 (KeyError
    'TagKey'). tests/test_structural_fixes.py drops the Tags of the KMS keys a fix adds before it
    deploys them there; the keys themselves keep their tags (CW107 asks for them)."""
    cfn = boto3.client("cloudformation", endpoint_url=aws)
    template = {"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {
        "KeyPolicy": {"Version": "2012-10-17", "Statement": []}, "Tags": [{"Key": "Environment", "Value": "prod"}]}}}}
    with pytest.raises(Exception, match="500 Internal Server Error"):
        cfn.create_stack(StackName="tagged", TemplateBody=json.dumps(template))
    untagged = {"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {
        "KeyPolicy": {"Version": "2012-10-17", "Statement": []}}}}}
    cfn.create_stack(StackName="untagged", TemplateBody=json.dumps(untagged))
    assert cfn.describe_stacks(StackName="untagged")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"


def test_moto_cloudformation_bucket_ignores_its_public_access_block(aws):
    """moto 5.2.5 creates an AWS::S3::Bucket without applying PublicAccessBlockConfiguration, so a
    deployability test can check that a fixed bucket is created, not its Block Public Access
    settings (those are checked on the fixed template)."""
    cfn = boto3.client("cloudformation", endpoint_url=aws)
    s3 = boto3.client("s3", endpoint_url=aws)
    block = {"BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    cfn.create_stack(StackName="bucket", TemplateBody=json.dumps({"Resources": {"Crl": {
        "Type": "AWS::S3::Bucket", "Properties": {"PublicAccessBlockConfiguration": block}}}}))
    name = cfn.describe_stack_resource(StackName="bucket", LogicalResourceId="Crl")["StackResourceDetail"]["PhysicalResourceId"]
    s3.head_bucket(Bucket=name)
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchPublicAccessBlockConfiguration"):
        s3.get_public_access_block(Bucket=name)
