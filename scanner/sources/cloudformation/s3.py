"""Amazon S3 buckets and their bucket policies."""
from __future__ import annotations

from ... import policy as policies
from ...kinds import PUBLIC_ACCESS_SETTINGS
from ...model import Unresolved, Where
from ..attrmap import ACL, BOOL, STR, TAGS, TypeMap, at

_BLOCK = "PublicAccessBlockConfiguration"


def _block_given(r) -> None:
    """Whether the bucket has a public access block (the settings are in the map below)."""
    block = r.get(_BLOCK)
    if block is not None:
        r.node.set("has_public_access_block", block if isinstance(block, Unresolved) else True, r.spot(_BLOCK))


TYPES = {
    "AWS::S3::Bucket": TypeMap("s3_bucket", {
        "bucket_name": at("BucketName", conv=STR),
        "tags": at("Tags", conv=TAGS),
        # A block that is given stores a setting left out as false (the all-on default applies
        # only to a bucket without a block).
        **{attr: at(_BLOCK, prop, conv=BOOL, unset=False, fix=True) for attr, prop in PUBLIC_ACCESS_SETTINGS.items()},
        "acl": at("AccessControl", conv=ACL, fix=True),
    }, build=_block_given),
}


def _bucket_policy(tpl, r) -> None:
    where = r.spot("PolicyDocument")
    where = Where(where.file, where.line, where.column, where.path, resource=r.name)
    doc = r.get("PolicyDocument")
    if doc is None:
        return
    bucket = tpl.target_or_own(r.get("Bucket"), "s3_bucket", r)
    bucket.set("policy", policies.parse(doc, where), where)


FOLDERS = {"AWS::S3::BucketPolicy": _bucket_policy}
