"""Amazon S3 buckets and the resources that configure them (policy, ACL, public access block,
default encryption)."""
from __future__ import annotations

from ...kinds import PUBLIC_ACCESS_SETTINGS
from ...model import Node, Unresolved
from ..attrmap import BOOL, STR, TAGS, TypeMap, at, read_into
from .resources import policy_doc

PUBLIC_ACCESS_BLOCK = "aws_s3_bucket_public_access_block"
BUCKET_ACL = "aws_s3_bucket_acl"


def _grants(r, bucket: Node, grants, path: tuple, helper: bool = False) -> None:
    if isinstance(grants, Unresolved) or not grants:
        return
    public = []
    for g in grants if isinstance(grants, list) else [grants]:
        grantee = g.get("grantee") if isinstance(g, dict) and "grantee" in g else g
        if isinstance(grantee, list):
            grantee = grantee[0] if grantee else {}
        uri = grantee.get("uri") if isinstance(grantee, dict) else None
        if isinstance(uri, str) and uri.rstrip("/").rsplit("/", 1)[-1] in ("AllUsers", "AuthenticatedUsers"):
            public.append(uri)
    if public:
        bucket.set("public_grants", public, r.spot(*path, helper=helper))


def _inline(r) -> None:
    """Provider < 4 writes the policy and grants on the bucket itself."""
    if r.get("policy") not in (None, ""):
        r.node.set("policy", policy_doc(r.get("policy"), r.spot("policy")), r.spot("policy"))
    _grants(r, r.node, r.get("grant"), ("grant",))


TYPES = {
    "aws_s3_bucket": TypeMap("s3_bucket", {
        "bucket_name": at("bucket", conv=STR),
        "tags": at("tags", conv=TAGS),
        "acl": at("acl", conv=STR, fix=True),     # provider < 4 inline ACL; else aws_s3_bucket_acl
    }, build=_inline),
}

# Helper resources that hold a bucket's attributes: read onto the bucket, and where a fix writes
# them. A block that is given stores a setting left out as false.
HELPERS = {
    PUBLIC_ACCESS_BLOCK: TypeMap("s3_bucket", {attr: at(attr, conv=BOOL, unset=False, fix=True)
                                               for attr in PUBLIC_ACCESS_SETTINGS}),
    BUCKET_ACL: TypeMap("s3_bucket", {"acl": at("acl", conv=STR)}),
}


# -- folders ------------------------------------------------------------------------------------
def _bucket(b, r) -> Node:
    return b.target(r.get("bucket"), "s3_bucket") or b.own_node(r, "s3_bucket")


def _bucket_policy(b, r) -> None:
    doc = r.get("policy")
    if doc is None:
        return
    bucket = _bucket(b, r)
    where = r.spot("policy", helper=True)
    bucket.set("policy", policy_doc(doc, where), where)


def _bucket_acl(b, r) -> None:
    bucket = _bucket(b, r)
    read_into(r, HELPERS[BUCKET_ACL].attrs, node=bucket, helper=True)
    _grants(r, bucket, r.get("access_control_policy", "grant"), ("access_control_policy", "grant"), helper=True)


def _public_access_block(b, r) -> None:
    bucket = _bucket(b, r)
    bucket.set("has_public_access_block", True, r.spot(helper=True))
    read_into(r, HELPERS[PUBLIC_ACCESS_BLOCK].attrs, node=bucket, helper=True)


def _encryption(b, r) -> None:
    """aws_s3_bucket_server_side_encryption_configuration: the bucket uses the key it names."""
    bucket = b.target(r.get("bucket"), "s3_bucket")
    if bucket is None:
        return
    for address in sorted(r.rec.refs):
        key = b.graph.nodes.get(address)
        if key is not None and key.kind == "kms_key":
            b.graph.link(bucket.id, key.id, "refers_to")


FOLDERS = {
    "aws_s3_bucket_policy": _bucket_policy,
    BUCKET_ACL: _bucket_acl,
    PUBLIC_ACCESS_BLOCK: _public_access_block,
    "aws_s3_bucket_server_side_encryption_configuration": _encryption,
}
