"""The resources a structural fix adds to a CloudFormation template, as plain template data.

Each pattern reads the template (never guesses: an input it cannot follow gives None, and the
fix is declined) and returns a Change: resources to add, settings to write into existing ones,
and values to replace whole. structural.py turns it into text edits. Names of added resources
derive from the resource they serve, so a second run (or a second finding) finds them there.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Functions, not constants: a dict shared by two places of one template would be written with a
# YAML anchor and alias, which CloudFormation does not accept.
def _account_root() -> dict:
    return {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}


def _source_account() -> dict:
    return {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


# The AWS managed cache policy CachingOptimized (CloudFront developer guide, managed policies).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
EXPIRY_DETAIL_TYPES = ["ACM Certificate Approaching Expiration", "ACM Certificate Expired"]


@dataclass
class Change:
    add: dict[str, dict] = field(default_factory=dict)       # logical ID -> resource
    set: dict[str, dict] = field(default_factory=dict)       # logical ID -> {key: value} to write, nested
    replace: dict[str, tuple[tuple, Any]] = field(default_factory=dict)   # logical ID -> (path, whole new value)
    template: dict = field(default_factory=dict)             # top-level keys to write (Transform)


def customer_key(description: str, environment: Any, purpose: str, *statements: dict) -> dict:
    """A customer managed KMS key: rotated yearly, a 30-day deletion window, administered by the
    account (so IAM policies grant its use), tagged by environment and purpose."""
    return {
        "Type": "AWS::KMS::Key",
        "Properties": {
            "Description": description,
            "EnableKeyRotation": True,
            "PendingWindowInDays": 30,
            "KeyPolicy": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": "AccountAdministers", "Effect": "Allow", "Principal": {"AWS": _account_root()},
                     "Action": "kms:*", "Resource": "*"},
                    *statements,
                ],
            },
            "Tags": [{"Key": "Environment", "Value": environment}, {"Key": "Purpose", "Value": purpose}],
        },
    }


def _environment(template: dict, tags: Any = None) -> Any:
    """The Environment tag a new key gets: the served resource's own, else the template's
    Environment parameter, else "shared" (CW107 asks for the tag, CW108 for one value per key)."""
    for tag in tags if isinstance(tags, list) else ():
        if isinstance(tag, dict) and tag.get("Key") == "Environment" and "Value" in tag:
            return tag["Value"]
    if "Environment" in (template.get("Parameters") or {}):
        return {"Ref": "Environment"}
    return "shared"


def _ref(value: Any) -> str | None:
    return value["Ref"] if isinstance(value, dict) and list(value) == ["Ref"] and isinstance(value["Ref"], str) else None


def _props(body: Any) -> dict:
    props = body.get("Properties") if isinstance(body, dict) else None
    return props if isinstance(props, dict) else {}


# -- CW801: expiry monitoring ------------------------------------------------------------------
def expiry_monitoring(template: dict, resource: str) -> Change | None:
    """An EventBridge rule on ACM's expiry events, publishing to an SNS topic encrypted with a
    key of its own (EventBridge cannot use the AWS managed alias/aws/sns)."""
    key, topic, rule = "CertificateExpiryKey", "CertificateExpiryTopic", "CertificateExpiryRule"
    return Change(add={
        key: customer_key("Encrypts the certificate expiry notifications", _environment(template),
                          "certificate-expiry-notifications", events_may_use_key()),
        topic: {"Type": "AWS::SNS::Topic",
                "Properties": {"DisplayName": "Certificate expiry", "KmsMasterKeyId": {"Ref": key}}},
        f"{topic}Policy": events_topic_policy(topic, rule),
        rule: {"Type": "AWS::Events::Rule", "Properties": {
            "Description": "ACM certificates approaching expiration, or expired",
            "EventPattern": {"source": ["aws.acm"], "detail-type": EXPIRY_DETAIL_TYPES},
            "Targets": [{"Arn": {"Ref": topic}, "Id": "certificate-expiry-topic"}]}},
    })


def events_may_use_key() -> dict:
    """The key statement that lets EventBridge publish to a topic the key encrypts, for this
    account's rules (the rule cannot be named: it targets the topic, which needs the key)."""
    return {"Sid": "EventBridgePublishes", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": "*",
            "Condition": {"StringEquals": _source_account()}}


def events_topic_policy(topic: str, rule: str) -> dict:
    """Only the EventBridge rule `rule` of this account may publish to `topic`."""
    return {"Type": "AWS::SNS::TopicPolicy", "Properties": {
        "Topics": [{"Ref": topic}],
        "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Sid": "EventBridgePublishes", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish", "Resource": {"Ref": topic},
            "Condition": {"StringEquals": _source_account(),
                          "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule, "Arn"]}}}}]}}}


# -- CW503: a customer managed key for a secret --------------------------------------------------
def customer_key_for_secret(template: dict, resource: str) -> Change | None:
    secret = template["Resources"][resource]
    if secret.get("Type") != "AWS::SecretsManager::Secret":
        return None
    key = f"{resource}Key"
    props = _props(secret)
    return Change(
        add={key: customer_key(f"Encrypts the secret {resource}", _environment(template, props.get("Tags")),
                               "secrets")},
        set={resource: {"Properties": {"KmsKeyId": {"Ref": key}}}},
    )


# -- CW501: the AWS-hosted rotation function for the secret's database ---------------------------
SECRETS_TRANSFORM = "AWS::SecretsManager-2020-07-23"
# The HostedRotationLambda RotationType for a database engine (single user: the secret is the
# database's own credentials), by the engine the template gives, or the attachment's target type.
ROTATION_TYPES = (("aurora-postgresql", "PostgreSQLSingleUser"), ("aurora", "MySQLSingleUser"),
                  ("mysql", "MySQLSingleUser"), ("mariadb", "MariaDBSingleUser"),
                  ("postgres", "PostgreSQLSingleUser"), ("oracle", "OracleSingleUser"),
                  ("sqlserver", "SQLServerSingleUser"), ("docdb", "MongoDBSingleUser"))
TARGET_ROTATION = {"AWS::Redshift::Cluster": "RedshiftSingleUser", "AWS::DocDB::DBCluster": "MongoDBSingleUser"}


def hosted_rotation(template: dict, resource: str) -> Change | None:
    """A rotation schedule with the rotation function AWS hosts for the secret's database, when the
    template attaches the secret to a database whose engine it gives; else None (a rotation
    function is needed that only the secret's owner can choose)."""
    resources = template["Resources"]
    attached = [_props(b) for b in resources.values() if isinstance(b, dict)
                and b.get("Type") == "AWS::SecretsManager::SecretTargetAttachment"
                and _ref(_props(b).get("SecretId")) == resource]
    database = _ref(attached[0].get("TargetId")) if len(attached) == 1 else None
    body = resources.get(database) if database else None
    if not isinstance(body, dict) or "Transform" in template:
        return None   # no database shown, or a transform already there (SAM): declined
    engine = _props(body).get("Engine")
    rotation = TARGET_ROTATION.get(body.get("Type")) or next(
        (kind for prefix, kind in ROTATION_TYPES if isinstance(engine, str) and engine.lower().startswith(prefix)), None)
    if rotation is None:
        return None
    hosted = {"RotationType": rotation, "RotationLambdaName": {"Fn::Sub": f"${{AWS::StackName}}-{resource}-rotation"}}
    groups = _props(body).get("VPCSecurityGroups") or _props(body).get("VpcSecurityGroupIds")
    subnets = _props(resources.get(_ref(_props(body).get("DBSubnetGroupName")) or "")).get("SubnetIds")
    if groups and subnets:   # the function must reach the database inside its VPC
        hosted["VpcSecurityGroupIds"] = {"Fn::Join": [",", groups]}
        hosted["VpcSubnetIds"] = {"Fn::Join": [",", subnets]}
    return Change(
        add={f"{resource}RotationSchedule": {"Type": "AWS::SecretsManager::RotationSchedule", "Properties": {
            "SecretId": {"Ref": resource}, "HostedRotationLambda": hosted,
            "RotationRules": {"ScheduleExpression": "rate(30 days)"}}}},
        template={"Transform": SECRETS_TRANSFORM},
    )


# -- CW304 / CW401 / CW403: the private CRL pattern -------------------------------------------------
def private_crl(template: dict, resource: str) -> Change | None:
    """The CRL in a private bucket that only the CA writes, served through CloudFront (an origin
    access control reads the bucket), with the CA's CRL distribution point named after the
    distribution (AWS Private CA user guide, "Enable a CRL" with CloudFront)."""
    resources = template["Resources"]
    ca = resources[resource]
    if ca.get("Type") == "AWS::S3::Bucket":
        return _private_crl_of_bucket(template, resource)
    if ca.get("Type") != "AWS::ACMPCA::CertificateAuthority":
        return None
    bucket = _crl_bucket(ca)
    if bucket is None or not isinstance(resources.get(bucket), dict) or resources[bucket].get("Type") != "AWS::S3::Bucket":
        return None   # a bucket made elsewhere: its policy is not this template's to change
    policies = [n for n, b in resources.items() if isinstance(b, dict) and b.get("Type") == "AWS::S3::BucketPolicy"
                and _ref(_props(b).get("Bucket")) == bucket]
    if len(policies) > 1:
        return None
    oac, distribution = f"{bucket}OriginAccessControl", f"{bucket}Distribution"
    policy = policies[0] if policies else f"{bucket}Policy"
    kept = _kept_statements(resources[policy]) if policies else []
    if kept is None:
        return None
    document = {"Version": "2012-10-17", "Statement": [*kept, *_crl_statements(bucket, distribution)]}
    change = Change(
        add={oac: _origin_access_control(), distribution: _crl_distribution(bucket, oac)},
        set={bucket: {"Properties": {"PublicAccessBlockConfiguration": {
                 "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
                 "RestrictPublicBuckets": True}}},
             resource: {"Properties": {"RevocationConfiguration": {"CrlConfiguration": {
                 "S3ObjectAcl": "BUCKET_OWNER_FULL_CONTROL",
                 "CustomCname": {"Fn::GetAtt": [distribution, "DomainName"]}}}}}},
    )
    if policies:
        change.replace[policy] = (("Properties", "PolicyDocument"), document)
    else:
        change.add[policy] = {"Type": "AWS::S3::BucketPolicy",
                              "Properties": {"Bucket": {"Ref": bucket}, "PolicyDocument": document}}
    if "DependsOn" not in ca:   # the CA checks at creation that it can write the CRL
        change.set[resource]["DependsOn"] = policy
    return change


def _crl_bucket(ca: Any) -> str | None:
    revocation = _props(ca).get("RevocationConfiguration")
    crl = revocation.get("CrlConfiguration") if isinstance(revocation, dict) else None
    return _ref(crl.get("S3BucketName")) if isinstance(crl, dict) else None


def _private_crl_of_bucket(template: dict, bucket: str) -> Change | None:
    """CW401 or CW403 on a bucket CAs of the template write their CRLs to: the pattern of every
    such CA at once (one distribution, each CA's CustomCname pointed at it), so that no CA is
    left naming a bucket nobody can read. None for a bucket no CA of the template writes to."""
    cas = sorted(n for n, b in template["Resources"].items() if isinstance(b, dict)
                 and b.get("Type") == "AWS::ACMPCA::CertificateAuthority" and _crl_bucket(b) == bucket)
    changes = [private_crl(template, ca) for ca in cas]
    if not changes or None in changes:
        return None
    for change in changes[1:]:   # the same bucket, policy and distribution: only each CA's settings differ
        changes[0].set.update(change.set)
    return changes[0]


def _kept_statements(policy: dict) -> list | None:
    """The statements of the bucket's policy that stay: all but public ones and the CA's, which
    the pattern writes anew. None when the policy is not plain data (an intrinsic decides it)."""
    document = _props(policy).get("PolicyDocument")
    statements = document.get("Statement") if isinstance(document, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not all(isinstance(s, dict) for s in statements):
        return None

    def replaced(s: dict) -> bool:
        principal = s.get("Principal")
        public = principal == "*" or (isinstance(principal, dict) and principal.get("AWS") == "*")
        pca = isinstance(principal, dict) and principal.get("Service") == "acm-pca.amazonaws.com"
        return (public and not s.get("Condition")) or pca or s.get("Sid") in CRL_SIDS
    return [s for s in statements if not replaced(s)]


CRL_SIDS = ("PrivateCAWritesCRLs", "CloudFrontReadsCRLs")   # the statements the pattern writes


def _crl_statements(bucket: str, distribution: str) -> list[dict]:
    arn, objects = {"Fn::GetAtt": [bucket, "Arn"]}, {"Fn::Sub": f"${{{bucket}.Arn}}/*"}
    return [
        {"Sid": "PrivateCAWritesCRLs", "Effect": "Allow", "Principal": {"Service": "acm-pca.amazonaws.com"},
         "Action": ["s3:PutObject", "s3:PutObjectAcl", "s3:GetBucketAcl", "s3:GetBucketLocation"],
         "Resource": [arn, objects],
         # the CA cannot be named: it must find this policy in place when it is created
         "Condition": {"StringEquals": _source_account(), "ArnLike": {"aws:SourceArn": {"Fn::Sub": (
             "arn:${AWS::Partition}:acm-pca:${AWS::Region}:${AWS::AccountId}:certificate-authority/*")}}}},
        {"Sid": "CloudFrontReadsCRLs", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
         "Action": "s3:GetObject", "Resource": objects,
         "Condition": {"StringEquals": {"AWS:SourceArn": {"Fn::Sub": (
             f"arn:${{AWS::Partition}}:cloudfront::${{AWS::AccountId}}:distribution/${{{distribution}}}")}}}},
    ]


def _origin_access_control() -> dict:
    return {"Type": "AWS::CloudFront::OriginAccessControl", "Properties": {"OriginAccessControlConfig": {
        "Name": {"Fn::Sub": "${AWS::StackName}-crl"}, "Description": "Reads the CRL bucket",
        "OriginAccessControlOriginType": "s3", "SigningBehavior": "always", "SigningProtocol": "sigv4"}}}


def _crl_distribution(bucket: str, oac: str) -> dict:
    """Relying parties fetch CRLs over plain HTTP (RFC 5280 distribution points), so viewers may
    use HTTP; only GET and HEAD reach the bucket."""
    return {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": {
        "Enabled": True,
        "Comment": "Serves the private CA's CRLs from a private bucket",
        "Origins": [{"Id": "crl-bucket", "DomainName": {"Fn::GetAtt": [bucket, "RegionalDomainName"]},
                     "S3OriginConfig": {"OriginAccessIdentity": ""},
                     "OriginAccessControlId": {"Fn::GetAtt": [oac, "Id"]}}],
        "DefaultCacheBehavior": {"TargetOriginId": "crl-bucket", "ViewerProtocolPolicy": "allow-all",
                                 "AllowedMethods": ["GET", "HEAD"], "CachePolicyId": CACHING_OPTIMIZED},
    }}}


PATTERNS = {"expiry-monitoring": expiry_monitoring, "customer-key": customer_key_for_secret,
            "private-crl": private_crl, "hosted-rotation": hosted_rotation}
