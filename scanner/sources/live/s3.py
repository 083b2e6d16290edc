"""S3 buckets: Block Public Access (the bucket's and the account's), ACL grants, bucket policy
and tags, as s3_bucket nodes with the attributes the CloudFormation and Terraform adapters give.

ListBuckets answers for every region, so this collector runs once per account; each bucket is
then read through a client of its own region (several buckets at once) and reported in that region;
buckets of regions the scan was not asked for (--region) are left out.
"""
from __future__ import annotations

import threading
from dataclasses import replace

from ... import policy as policies
from ...kinds import PUBLIC_ACCESS_SETTINGS
from ...model import Node, Unresolved
from .aws import Ctx

_BLOCK = [(field, attr) for attr, field in PUBLIC_ACCESS_SETTINGS.items()]
_NO_BLOCK = {"NoSuchPublicAccessBlockConfiguration"}
_PUBLIC_GROUPS = ("AllUsers", "AuthenticatedUsers")
BUCKET_THREADS = 8   # buckets read at once: S3 answers each in tens of milliseconds, mostly waiting


def bucket_region(location: str | None) -> str:
    """GetBucketLocation's answer as a region: us-east-1 answers null, and the oldest Irish
    buckets answer EU."""
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)


def _region(ctx: Ctx, s3, listed: dict) -> str | Unresolved:
    if listed.get("BucketRegion"):   # newer ListBuckets answers carry it, saving a call per bucket
        return listed["BucketRegion"]
    got = ctx.detail(s3.get_bucket_location, "GetBucketLocation", Bucket=listed["Name"])
    return got if isinstance(got, Unresolved) else bucket_region(got.get("LocationConstraint"))


def _account_block(ctx: Ctx) -> bool | Unresolved:
    """The account-level Block Public Access counts (CW401) only with all four settings on."""
    got = ctx.optional(ctx.client("s3control").get_public_access_block, "s3control GetPublicAccessBlock",
                       _NO_BLOCK, AccountId=ctx.account)
    if got is None:
        return False   # no account-level block
    if isinstance(got, Unresolved):
        return got     # unknown: CW401 stays silent rather than guess
    config = got.get("PublicAccessBlockConfiguration", {})
    return all(config.get(field) is True for field, _ in _BLOCK)


def _public_access_block(ctx: Ctx, s3, node: Node) -> None:
    got = ctx.optional(s3.get_public_access_block, "GetPublicAccessBlock", _NO_BLOCK, Bucket=node.name)
    if got is None:   # no block: all four are off for this bucket, whatever new buckets get
        for _, attr in _BLOCK:
            node.set(attr, False)
        return
    node.set("has_public_access_block", got if isinstance(got, Unresolved) else True)
    config = {} if isinstance(got, Unresolved) else got.get("PublicAccessBlockConfiguration", {})
    for field, attr in _BLOCK:
        node.set(attr, got if isinstance(got, Unresolved) else config.get(field) is True)


def _group(grant: dict) -> str:
    """AllUsers for http://acs.amazonaws.com/groups/global/AllUsers, "" for a grant to an account."""
    return grant.get("Grantee", {}).get("URI", "").rstrip("/").rsplit("/", 1)[-1]


def canned_acl(grants: list[dict]) -> str | None:
    """The canned ACL that gives these grants to the public groups: the API returns only grants,
    and CW402's message names the ACL as the adapters do."""
    public = {(_group(g), g.get("Permission")) for g in grants}
    if ("AllUsers", "WRITE") in public:
        return "public-read-write"
    if ("AllUsers", "READ") in public:
        return "public-read"
    if ("AuthenticatedUsers", "READ") in public:
        return "authenticated-read"
    return None


def _acl(ctx: Ctx, s3, node: Node) -> None:
    got = ctx.detail(s3.get_bucket_acl, "GetBucketAcl", Bucket=node.name)
    if isinstance(got, Unresolved):
        node.set("acl", got)
        node.set("public_grants", got)
        return
    grants = got.get("Grants", [])
    node.set("public_grants", sorted({g["Grantee"]["URI"] for g in grants if _group(g) in _PUBLIC_GROUPS}))
    acl = canned_acl(grants)
    if acl is not None:   # otherwise private, or grants to accounts only (the kind's default)
        node.set("acl", acl)


def _policy_and_tags(ctx: Ctx, s3, node: Node) -> None:
    got = ctx.optional(s3.get_bucket_policy, "GetBucketPolicy", {"NoSuchBucketPolicy"}, Bucket=node.name)
    if got is not None:
        node.set("policy", got if isinstance(got, Unresolved) else policies.parse(got.get("Policy"), node.where))
    tags = ctx.optional(s3.get_bucket_tagging, "GetBucketTagging", {"NoSuchTagSet"}, Bucket=node.name)
    node.set("tags", tags if isinstance(tags, Unresolved)
             else {t["Key"]: t["Value"] for t in (tags or {}).get("TagSet", [])})


class _Clients:
    """One S3 client per bucket region (S3 redirects reads made elsewhere), shared by threads."""

    def __init__(self, ctx: Ctx, s3):
        self.ctx, self.made, self.lock = ctx, {ctx.region: s3}, threading.Lock()

    def of(self, region: str):
        with self.lock:
            if region not in self.made:
                self.made[region] = self.ctx.client("s3", region)
            return self.made[region]


def _bucket(ctx: Ctx, clients: _Clients, listed: dict, account_block) -> None:
    """Every read of one bucket, as one s3_bucket node of ctx; none for a bucket in a region the
    scan was not asked to read (--region), whose settings are not read either."""
    name = listed["Name"]
    s3 = clients.of(ctx.region)
    region = _region(ctx, s3, listed)
    if ctx.regions and not isinstance(region, Unresolved) and region not in ctx.regions:
        return
    arn = f"arn:aws:s3:::{name}"   # other collectors link to this id (a CA's CRL bucket)
    node = ctx.node("s3_bucket", arn, name, "AWS::S3::Bucket")
    node.set("bucket_name", name)
    node.set("account_block", account_block)
    if isinstance(region, Unresolved):
        node.where = replace(node.where, region=None)   # not known: no region is claimed
        client = s3
    else:
        node.where = replace(node.where, region=region)
        client = clients.of(region)
    _public_access_block(ctx, client, node)
    _acl(ctx, client, node)
    _policy_and_tags(ctx, client, node)


def collect(ctx: Ctx) -> None:
    s3 = ctx.client("s3")
    account_block = _account_block(ctx)
    clients = _Clients(ctx, s3)
    listed = list(ctx.pages(s3, "list_buckets", "Buckets"))
    ctx.each(listed, lambda fork, item: _bucket(fork, clients, item, account_block), BUCKET_THREADS)
