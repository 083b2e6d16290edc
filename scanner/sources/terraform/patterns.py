"""The resources a structural fix adds to a Terraform module, as plain data.

The same patterns as cloudformation/patterns.py, written the Terraform way: each reads the
module (the finding's file and the other .tf files beside it) and returns a Change, or None when
it cannot follow the input (the fix is then declined). structural.py turns the Change into text
edits of the finding's file. Values are Python literals, Expr (an HCL expression written as is:
a reference, a template), Nested (a nested block) and jsonencode(...) of those. Names of added
resources derive from the resource they serve, so a second run (or a second finding) finds them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tree_sitter import Node

from .expressions import Context, Evaluator
from .text import Raw
from .hcl import Block, Expr as HclExpr, Source

Expr = Raw
PUBLIC_ACCESS_BLOCK = "aws_s3_bucket_public_access_block"   # as s3.py reads it
# The AWS managed cache policy CachingOptimized (CloudFront developer guide, managed policies).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
EXPIRY_DETAIL_TYPES = ["ACM Certificate Approaching Expiration", "ACM Certificate Expired"]
BPA = {"block_public_acls": True, "block_public_policy": True, "ignore_public_acls": True,
       "restrict_public_buckets": True}


class Nested(dict):
    """A nested block (its arguments and blocks); a list of them is a repeated block."""


@dataclass(frozen=True)
class Json:
    """jsonencode(value): a policy document as Terraform modules write it."""

    value: Any


@dataclass
class Replace:
    """The expression `node` (inside the attribute `attr` of resource `address`) written anew."""

    address: str
    attr: str
    node: Node
    value: Any   # the new expression: a value as in add, or Statements


@dataclass
class Change:
    add: dict[tuple[str, str, str], dict] = field(default_factory=dict)   # (resource|data, type, name) -> body
    set: dict[str, dict] = field(default_factory=dict)    # address -> {argument or block: value}, nested
    replace: list[Replace] = field(default_factory=list)


@dataclass
class Module:
    """The finding's file (root, as parsed from its current text) and the module's other files."""

    root: Block
    others: list[Block]

    def blocks(self, kind: str, type_: str) -> list[tuple[Block, bool]]:
        """The module's `kind` blocks of type_, each with whether it is in the finding's file."""
        return [(b, root is self.root) for root in (self.root, *self.others)
                for b in root.children(kind) if len(b.labels) == 2 and b.labels[0] == type_]

    def find(self, kind: str, type_: str, name: str) -> tuple[Block, bool] | None:
        return next(((b, here) for b, here in self.blocks(kind, type_) if b.labels[1] == name), None)

    def resource(self, address: str) -> Block | None:
        """The block of type.name in the finding's file."""
        type_, _, name = address.partition(".")
        return next((b for b in self.root.children("resource") if b.labels == [type_, name]), None)

    def has_variable(self, name: str) -> bool:
        return any(b.labels == [name] for root in (self.root, *self.others) for b in root.children("variable"))


def _text(block: Block, attr: str) -> str | None:
    a = block.attr(attr)
    return a.expr.source.text(a.expr.node).strip() if a is not None else None


def _value(block: Block, attr: str) -> Any:
    """The attribute's value as far as the block alone tells (references stay unknown)."""
    a = block.attr(attr)
    return Evaluator(Context()).eval(a.expr) if a is not None else None


def _data(module: Module, change: Change, type_: str) -> str:
    """data.TYPE.NAME: the module's own (the first), else one the change adds."""
    found = module.blocks("data", type_)
    name = found[0][0].labels[1] if found else "current"
    if not found:
        change.add[("data", type_, name)] = {}
    return f"data.{type_}.{name}"


def _account(module: Module, change: Change) -> tuple[Expr, str]:
    """The account ID, and the ARN prefix of its partition, as Terraform expressions."""
    identity = _data(module, change, "aws_caller_identity")
    partition = _data(module, change, "aws_partition")
    return Expr(f"{identity}.account_id"), f"arn:${{{partition}.partition}}"


def _environment(module: Module, block: Block | None = None) -> Any:
    """The Environment tag a new key gets: the served resource's own (as written), else
    var.environment where the module declares it, else "shared"."""
    tags = block.attr("tags") if block is not None else None
    if tags is not None:
        for key, value in _object_items(tags.expr.node, tags.expr.source).items():
            if key == "Environment":
                return Expr(tags.expr.source.text(value))
    return Expr("var.environment") if module.has_variable("environment") else "shared"


def customer_key(description: str, environment: Any, purpose: str, root: str, *statements: dict) -> dict:
    """A customer managed KMS key: rotated yearly, a 30-day deletion window, administered by the
    account (so IAM policies grant its use), tagged by environment and purpose."""
    return {
        "description": description,
        "enable_key_rotation": True,
        "deletion_window_in_days": 30,
        "policy": Json({"Version": "2012-10-17", "Statement": [
            {"Sid": "AccountAdministers", "Effect": "Allow", "Principal": {"AWS": Expr(f'"{root}"')},
             "Action": "kms:*", "Resource": "*"},
            *statements]}),
        "tags": {"Environment": environment, "Purpose": purpose},
    }


# -- CW801: expiry monitoring ------------------------------------------------------------------
def expiry_monitoring(module: Module, address: str) -> Change | None:
    """An EventBridge rule on ACM's expiry events, publishing to an SNS topic encrypted with a
    key of its own (EventBridge cannot use the AWS managed alias/aws/sns)."""
    name = "certificate_expiry"
    change = Change()
    account, arn = _account(module, change)
    source_account = {"StringEquals": {"aws:SourceAccount": account}}
    topic, rule = f"aws_sns_topic.{name}", f"aws_cloudwatch_event_rule.{name}"
    events = {"Sid": "EventBridgePublishes", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
              "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": "*", "Condition": source_account}
    wanted = {
        "aws_kms_key": customer_key("Encrypts the certificate expiry notifications", _environment(module),
                                    "certificate-expiry-notifications", f"{arn}:iam::${{{account}}}:root", events),
        "aws_sns_topic": {"display_name": "Certificate expiry", "kms_master_key_id": Expr(f"aws_kms_key.{name}.arn")},
        "aws_sns_topic_policy": {"arn": Expr(f"{topic}.arn"), "policy": Json({"Version": "2012-10-17", "Statement": [{
            "Sid": "EventBridgePublishes", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish", "Resource": Expr(f"{topic}.arn"),
            "Condition": {**source_account, "ArnEquals": {"aws:SourceArn": Expr(f"{rule}.arn")}}}]})},
        "aws_cloudwatch_event_rule": {
            "description": "ACM certificates approaching expiration, or expired",
            "event_pattern": Json({"source": ["aws.acm"], "detail-type": EXPIRY_DETAIL_TYPES})},
        "aws_cloudwatch_event_target": {"rule": Expr(f"{rule}.name"), "target_id": "certificate-expiry-topic",
                                        "arn": Expr(f"{topic}.arn")},
    }
    for type_, body in wanted.items():
        if module.find("resource", type_, name) is None:
            change.add[("resource", type_, name)] = body
    if not any(k[0] == "resource" for k in change.add):
        return Change()   # all there: nothing to add (nor the data sources they would use)
    return change


# -- CW503: a customer managed key for a secret --------------------------------------------------
def customer_key_for_secret(module: Module, address: str) -> Change | None:
    secret = module.resource(address)
    if secret is None or secret.labels[0] != "aws_secretsmanager_secret" or {"count", "for_each"} & set(secret.attrs):
        return None
    if re.fullmatch(r"aws_kms_key\.[\w-]+\.(?:arn|id|key_id)", _text(secret, "kms_key_id") or ""):
        return Change()   # a key of the module's already (a run before this one added it)
    name = secret.labels[1]
    key = next((n for n in (name, f"{name}_secret") if module.find("resource", "aws_kms_key", n) is None), None)
    if key is None:
        return None
    change = Change()
    account, arn = _account(module, change)
    change.add[("resource", "aws_kms_key", key)] = customer_key(
        f"Encrypts the secret {name}", _environment(module, secret), "secrets", f"{arn}:iam::${{{account}}}:root")
    change.set[address] = {"kms_key_id": Expr(f"aws_kms_key.{key}.arn")}
    return change


# -- CW304: the private CRL pattern ----------------------------------------------------------------
_BUCKET_REF = re.compile(r"^aws_s3_bucket\.([\w-]+)\.(?:id|bucket)$")


def private_crl(module: Module, address: str) -> Change | None:
    """The CRL in a private bucket that only the CA writes, served through CloudFront (an origin
    access control reads the bucket), with the CA's CRL distribution point named after the
    distribution (AWS Private CA user guide, "Enable a CRL" with CloudFront). Everything it
    changes must be in the finding's file; what it adds goes there too."""
    ca = module.resource(address)
    if ca is not None and ca.labels[0] == "aws_s3_bucket":
        return _private_crl_of_bucket(module, ca.labels[1])
    if ca is None or ca.labels[0] != "aws_acmpca_certificate_authority":
        return None
    name = _crl_bucket(ca)
    found = module.find("resource", "aws_s3_bucket", name) if name else None
    if found is None or not found[1] or {"count", "for_each"} & set(found[0].attrs):
        return None   # a bucket made elsewhere: its policy is not this file's to change
    bucket = found[0].labels[1]
    helpers = {t: [(b, here) for b, here in module.blocks("resource", t) if _names(b, "bucket", bucket)]
               for t in (PUBLIC_ACCESS_BLOCK, "aws_s3_bucket_policy")}
    if any(len(v) > 1 or (v and not v[0][1]) for v in helpers.values()):
        return None   # two of them, or one in another file
    change = Change()
    account, arn = _account(module, change)
    bucket_ref, distribution = f"aws_s3_bucket.{bucket}", f"aws_cloudfront_distribution.{bucket}"
    statements = _crl_statements(bucket_ref, distribution, account, arn)
    policy, bpa = (helpers[t][0][0] if helpers[t] else None for t in ("aws_s3_bucket_policy", PUBLIC_ACCESS_BLOCK))
    if policy is None:
        policy_name = bucket
        new = {"bucket": Expr(f"{bucket_ref}.id"), "policy": Json({"Version": "2012-10-17", "Statement": statements})}
        change.add[("resource", "aws_s3_bucket_policy", policy_name)] = new
    else:
        policy_name = policy.labels[1]
        replaced = _statements_replaced(policy, statements)
        if replaced is None:
            return None
        change.replace.append(replaced)
    if bpa is None:
        change.add[("resource", PUBLIC_ACCESS_BLOCK, bucket)] = {"bucket": Expr(f"{bucket_ref}.id"), **BPA}
    else:
        change.set[f"{PUBLIC_ACCESS_BLOCK}.{bpa.labels[1]}"] = BPA
    oac = f"aws_cloudfront_origin_access_control.{bucket}"
    change.add[("resource", "aws_cloudfront_origin_access_control", bucket)] = {
        "name": Expr(f"{bucket_ref}.id"), "description": "Reads the CRL bucket",
        "origin_access_control_origin_type": "s3", "signing_behavior": "always", "signing_protocol": "sigv4"}
    change.add[("resource", "aws_cloudfront_distribution", bucket)] = _crl_distribution(bucket_ref, oac)
    change.set[address] = {"revocation_configuration": {"crl_configuration": {
        "s3_object_acl": "BUCKET_OWNER_FULL_CONTROL", "custom_cname": Expr(f"{distribution}.domain_name")}}}
    if ca.attr("depends_on") is None:   # the CA checks at creation that it can write the CRL
        change.set[address]["depends_on"] = Expr(f"[aws_s3_bucket_policy.{policy_name}]")
    return change


def _crl_bucket(ca: Block) -> str | None:
    """The name of the aws_s3_bucket the CA's crl_configuration names, if it names one."""
    crl = _single(ca, "revocation_configuration", "crl_configuration")
    ref = _BUCKET_REF.match(_text(crl, "s3_bucket_name") or "") if crl is not None else None
    return ref.group(1) if ref else None


def _private_crl_of_bucket(module: Module, bucket: str) -> Change | None:
    """CW401 or CW403 on a bucket CAs of the finding's file write their CRLs to: the pattern of
    every such CA at once (one distribution, each CA's custom_cname pointed at it). None for a
    bucket no CA writes to."""
    cas = sorted(b.labels[1] for b, here in module.blocks("resource", "aws_acmpca_certificate_authority")
                 if here and _crl_bucket(b) == bucket)
    changes = [private_crl(module, f"aws_acmpca_certificate_authority.{ca}") for ca in cas]
    if not changes or None in changes:
        return None
    for change in changes[1:]:   # the same bucket, policy and distribution: only each CA's settings differ
        changes[0].set.update(change.set)
    return changes[0]


def _single(block: Block, *path: str) -> Block | None:
    for part in path:
        found = block.children(part)
        if len(found) != 1:
            return None
        block = found[0]
    return block


def _names(block: Block, attr: str, bucket: str) -> bool:
    """Whether the attribute names aws_s3_bucket.bucket (its id, bucket or arn)."""
    text = _text(block, attr)
    return text is not None and re.fullmatch(rf"aws_s3_bucket\.{re.escape(bucket)}\.(?:id|bucket|arn)", text) is not None


def _crl_statements(bucket: str, distribution: str, account: Expr, arn: str) -> list[dict]:
    objects = Expr(f'"${{{bucket}.arn}}/*"')
    return [
        {"Sid": "PrivateCAWritesCRLs", "Effect": "Allow", "Principal": {"Service": "acm-pca.amazonaws.com"},
         "Action": ["s3:PutObject", "s3:PutObjectAcl", "s3:GetBucketAcl", "s3:GetBucketLocation"],
         "Resource": [Expr(f"{bucket}.arn"), objects],
         # the CA cannot be named: it must find this policy in place when it is created
         "Condition": {"StringEquals": {"aws:SourceAccount": account},
                       "ArnLike": {"aws:SourceArn": Expr(f'"{arn}:acm-pca:*:${{{account}}}:certificate-authority/*"')}}},
        {"Sid": "CloudFrontReadsCRLs", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
         "Action": "s3:GetObject", "Resource": objects,
         "Condition": {"StringEquals": {"AWS:SourceArn": Expr(f"{distribution}.arn")}}},
    ]


_SIDS = {"PrivateCAWritesCRLs", "CloudFrontReadsCRLs"}


def _crl_distribution(bucket: str, oac: str) -> dict:
    """Relying parties fetch CRLs over plain HTTP (RFC 5280 distribution points), so viewers may
    use HTTP; only GET and HEAD reach the bucket."""
    return {
        "enabled": True,
        "comment": "Serves the private CA's CRLs from a private bucket",
        "origin": Nested({"origin_id": "crl-bucket", "domain_name": Expr(f"{bucket}.bucket_regional_domain_name"),
                          "origin_access_control_id": Expr(f"{oac}.id")}),
        "default_cache_behavior": Nested({
            "target_origin_id": "crl-bucket", "viewer_protocol_policy": "allow-all",
            "allowed_methods": ["GET", "HEAD"], "cached_methods": ["GET", "HEAD"],
            "cache_policy_id": CACHING_OPTIMIZED}),
        "restrictions": Nested({"geo_restriction": Nested({"restriction_type": "none"})}),
        "viewer_certificate": Nested({"cloudfront_default_certificate": True}),
    }


# -- reading a policy written as jsonencode({...}) ----------------------------------------------------
def _inner(node: Node, *types: str) -> Node | None:
    """Down through wrappers of one meaningful child (expression, collection_value) to a node of
    one of the types."""
    while node is not None and node.type not in types:
        named = [c for c in node.named_children if c.type != "comment"]
        node = named[0] if len(named) == 1 and node.type in ("expression", "collection_value", "function_arguments") else None
    return node


def _object_items(node: Node, src: Source) -> dict[str, Node]:
    """An object literal's entries with plain keys (a = x, "a" = x): key -> value node."""
    obj = _inner(node, "object")
    out = {}
    for elem in obj.named_children if obj is not None else ():
        if elem.type == "object_elem":
            key, value = [c for c in elem.named_children if c.type == "expression"]
            out[src.text(key).strip().strip('"')] = value
    return out


def _statements_replaced(policy: Block, statements: list[dict]) -> Replace | None:
    """The bucket policy's Statement list written anew: the statements that stay (all but public
    ones and the CA's, which the pattern writes again) as they were, then the pattern's. None when
    the policy is not jsonencode({... Statement = [{...}, ...]}) with literal statements."""
    a = policy.attr("policy")
    call = _inner(a.expr.node, "function_call") if a is not None else None
    if call is None or a.expr.source.text(call.named_children[0]) != "jsonencode":
        return None
    src = a.expr.source
    args = [c for c in call.named_children if c.type == "function_arguments"]
    listed = _object_items(args[0], src).get("Statement") if len(args) == 1 else None
    items = _inner(listed, "tuple") if listed is not None else None
    if items is None:
        return None
    elements = [c for c in items.named_children if c.type == "expression"]
    if not all(_inner(e, "object") is not None for e in elements):
        return None
    kept = [e for e in elements if not _replaced(Evaluator(Context()).eval(HclExpr(e, src)))]
    return Replace(f"aws_s3_bucket_policy.{policy.labels[1]}", "policy", listed,
                   Statements([src.text(e) for e in kept], [src.start(e)[1] for e in kept], statements))


def _replaced(s: Any) -> bool:
    """A statement the pattern writes anew: a public one, the CA's, or one it wrote before."""
    if not isinstance(s, dict):
        return False
    if s.get("Sid") in _SIDS:
        return True
    principal = s.get("Principal")
    public = principal == "*" or (isinstance(principal, dict) and principal.get("AWS") in ("*", ["*"]))
    pca = isinstance(principal, dict) and principal.get("Service") == "acm-pca.amazonaws.com"
    return (public and not s.get("Condition")) or pca


@dataclass(frozen=True)
class Statements:
    """A Statement list: the statements kept (their text, and the column each started at), then new ones."""

    kept: list[str]
    columns: list[int]
    new: list[dict]


PATTERNS = {"expiry-monitoring": expiry_monitoring, "customer-key": customer_key_for_secret,
            "private-crl": private_crl}
