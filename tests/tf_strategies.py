"""Hypothesis strategies: Terraform modules (HCL text) built from the resource shapes the rules
read, with plausible values, references, functions, conditionals, dynamic blocks and junk.
Shared by tests/test_property.py and tests/perf/fuzz.py."""
from __future__ import annotations

import json

from hypothesis import strategies as st

NAMES = ["this", "ca", "crl", "cert"]
scalar = st.one_of(st.booleans(), st.integers(-10, 10**6), st.sampled_from(["", "x", "*", "true", "365", "${"]),
                   st.text(max_size=10))


def hcl(value) -> str:
    """A Python value as an HCL expression."""
    if isinstance(value, Expr):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        # No template sequences: python-hcl2 rejects some valid escapes of them ("$${" unclosed).
        return json.dumps(value).replace("${", "$ {").replace("%{", "% {")
    if isinstance(value, list):
        return "[" + ", ".join(hcl(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {hcl(v)}" for k, v in value.items()) + "}"
    return "null"


class Expr:
    def __init__(self, text: str):
        self.text = text


references = st.sampled_from(["var.enabled", "var.days", "var.missing", "local.tags", "aws_kms_key.this.arn",
                              "aws_s3_bucket.crl.id", "aws_acmpca_certificate_authority.ca.arn",
                              "data.aws_iam_policy_document.p.json", "module.m.out", "each.value", "count.index"])


def expr(plausible):
    base = st.sampled_from(plausible) if plausible else scalar
    return st.one_of(
        base, scalar, references.map(Expr),
        st.builds(lambda c, a, b: Expr(f"{c} ? {hcl(a)} : {hcl(b)}"), references, base, base),
        st.builds(lambda v: Expr(f"try({hcl(v)}, null)"), base),
        st.builds(lambda v: Expr(f"tobool({hcl(v)})"), base),
        st.builds(lambda v: Expr(f'"${{{hcl(v)}}}-suffix"'), references),
        st.lists(base, max_size=2),
    )


statement = st.fixed_dictionaries({"Effect": st.sampled_from(["Allow", "Deny"]),
                                   "Principal": st.sampled_from(["*", {"AWS": "*"}, {"Service": "s3.amazonaws.com"}]),
                                   "Action": st.sampled_from(["kms:*", "s3:GetObject"]), "Resource": st.just("*")})
policy = st.one_of(
    st.lists(statement, max_size=2).map(lambda s: Expr("jsonencode(" + hcl({"Version": "2012-10-17", "Statement": s}) + ")")),
    references.map(Expr), scalar)
tags = st.one_of(st.just({"Environment": "prod"}), st.just({}), references.map(Expr))

ATTRS = {
    "aws_kms_key": {"enable_key_rotation": expr([True, False]), "rotation_period_in_days": expr([90, 365, 2560]),
                    "deletion_window_in_days": expr([7, 30]), "key_usage": expr(["ENCRYPT_DECRYPT", "SIGN_VERIFY"]),
                    "customer_master_key_spec": expr(["SYMMETRIC_DEFAULT", "RSA_2048", "HMAC_256"]),
                    "policy": policy, "tags": tags},
    "aws_s3_bucket": {"bucket": expr(["crl-bucket"]), "acl": expr(["public-read", "private"]), "policy": policy,
                      "tags": tags},
    "aws_acmpca_certificate_authority": {"type": expr(["ROOT", "SUBORDINATE"]), "tags": tags},
    "aws_acmpca_certificate": {"certificate_authority_arn": expr([Expr("aws_acmpca_certificate_authority.ca.arn")]),
                               "template_arn": expr(["arn:aws:acm-pca:::template/RootCACertificate/V1"])},
    "aws_acm_certificate": {"domain_name": expr(["example.com"]), "key_algorithm": expr(["RSA_1024", "EC_prime256v1"]),
                            "certificate_authority_arn": expr([Expr("aws_acmpca_certificate_authority.ca.arn")])},
    "aws_lb_listener": {"protocol": expr(["HTTPS", "http"]), "ssl_policy": expr(["ELBSecurityPolicy-2016-08"])},
    "aws_s3_bucket_public_access_block": {"bucket": expr([Expr("aws_s3_bucket.crl.id")]),
                                          "block_public_acls": expr([True, False]),
                                          "block_public_policy": expr([True, False])},
    "aws_s3_bucket_policy": {"bucket": expr([Expr("aws_s3_bucket.crl.id")]), "policy": policy},
}
BLOCKS = {
    "aws_acmpca_certificate_authority": lambda: st.fixed_dictionaries({}, optional={
        "certificate_authority_configuration": st.fixed_dictionaries({}, optional={
            "key_algorithm": expr(["RSA_2048", "EC_prime256v1"]), "signing_algorithm": expr(["SHA256WITHRSA"])}),
        "revocation_configuration": st.fixed_dictionaries({}, optional={
            "crl_configuration": st.fixed_dictionaries({}, optional={
                "enabled": expr([True, False]), "s3_bucket_name": expr([Expr("aws_s3_bucket.crl.id")]),
                "s3_object_acl": expr(["PUBLIC_READ", "BUCKET_OWNER_FULL_CONTROL"])})})}),
    "aws_acmpca_certificate": lambda: st.fixed_dictionaries({}, optional={"validity": st.fixed_dictionaries(
        {"type": expr(["YEARS", "DAYS"]), "value": expr([1, 10, 3650])})}),
}


def body(attrs: dict, blocks: dict, indent: str) -> str:
    lines = [f"{indent}{k} = {hcl(v)}" for k, v in attrs.items()]
    for name, inner in blocks.items():
        sub = {k: v for k, v in inner.items() if not isinstance(v, dict)}
        nested = {k: v for k, v in inner.items() if isinstance(v, dict)}
        lines.append(f"{indent}{name} {{\n{body(sub, nested, indent + '  ')}\n{indent}}}")
    return "\n".join(lines)


@st.composite
def resource(draw, rtype: str, name: str) -> str:
    attrs = draw(st.fixed_dictionaries({}, optional=ATTRS[rtype]))
    blocks = draw(BLOCKS[rtype]()) if rtype in BLOCKS else {}
    meta = draw(st.sampled_from(["", "  count = 2\n", "  count = var.days\n", '  for_each = toset(["a", "b"])\n']))
    return f'resource "{rtype}" "{name}" {{\n{meta}{body(attrs, blocks, "  ")}\n}}\n'


@st.composite
def module(draw) -> str:
    """main.tf of a module: variables with and without defaults, locals, and resources."""
    parts = ['variable "enabled" {\n  default = ' + hcl(draw(scalar)) + "\n}\n",
             'variable "days" {\n  type = number\n}\n',
             "locals {\n  tags = " + hcl(draw(tags)) + "\n}\n"]
    chosen = draw(st.lists(st.sampled_from(sorted(ATTRS)), min_size=1, max_size=5))
    for i, rtype in enumerate(chosen):
        parts.append(draw(resource(rtype, NAMES[i % len(NAMES)] if i < len(NAMES) else f"r{i}")))
    return "\n".join(parts)
