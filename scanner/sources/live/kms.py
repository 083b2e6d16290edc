"""KMS keys: metadata, rotation, key policy and tags, as kms_key nodes."""
from __future__ import annotations

from ... import policy as policies
from ...model import Unresolved
from .aws import Ctx

_METADATA = (("key_manager", "KeyManager"), ("key_spec", "KeySpec"), ("key_usage", "KeyUsage"),
             ("origin", "Origin"), ("custom_key_store_id", "CustomKeyStoreId"), ("key_state", "KeyState"),
             ("expiration_model", "ExpirationModel"), ("valid_to", "ValidTo"),
             ("pending_window_days", "PendingDeletionWindowInDays"))
# Keys that cannot rotate automatically answer GetKeyRotationStatus with this error.
_NO_ROTATION = {"UnsupportedOperationException"}


THREADS = 8   # keys read at once: four calls a key, each mostly waiting on the network


def can_rotate(meta: dict) -> bool:
    """Only symmetric encryption keys whose material KMS made rotate automatically; the others
    (asymmetric, HMAC, imported, custom key store) need no GetKeyRotationStatus, which would
    answer UnsupportedOperationException. A key not described is asked."""
    return meta.get("KeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT" and meta.get("Origin", "AWS_KMS") == "AWS_KMS"


def _rotation(ctx: Ctx, kms, key_id: str, meta: dict) -> tuple[object, object]:
    if not can_rotate(meta):
        return False, None
    status = ctx.optional(kms.get_key_rotation_status, "GetKeyRotationStatus", _NO_ROTATION, KeyId=key_id)
    if status is None:   # a key that cannot rotate after all
        return False, None
    if isinstance(status, Unresolved):
        return status, None
    return status.get("KeyRotationEnabled", False), status.get("RotationPeriodInDays")


def _key(ctx: Ctx, kms, aliases: dict[str, str], listed: dict) -> None:
    """Every read of one key, as one kms_key node of ctx."""
    key_id = listed["KeyId"]
    described = ctx.detail(kms.describe_key, "DescribeKey", KeyId=key_id)
    meta = {} if isinstance(described, Unresolved) else described["KeyMetadata"]
    node = ctx.node("kms_key", meta.get("Arn") or listed["KeyArn"], aliases.get(key_id, key_id), "AWS::KMS::Key")
    node.set("account", ctx.account)
    for attr, field in _METADATA:
        if isinstance(described, Unresolved):   # not known: no rule judges the key on a default
            node.set(attr, described)
        elif meta.get(field) is not None:
            node.set(attr, meta[field])
    if meta.get("KeyManager") == "AWS":
        return   # AWS-managed keys: their policy and rotation are AWS's, and no rule judges them
    enabled, period = _rotation(ctx, kms, key_id, meta)
    node.set("rotation_enabled", enabled)
    if period is not None:
        node.set("rotation_period_days", period)
    doc = ctx.detail(kms.get_key_policy, "GetKeyPolicy", KeyId=key_id, PolicyName="default")
    node.set("policy", doc if isinstance(doc, Unresolved) else policies.parse(doc.get("Policy"), node.where))
    tags = ctx.detail(kms.list_resource_tags, "ListResourceTags", KeyId=key_id)
    node.set("tags", tags if isinstance(tags, Unresolved)
             else {t["TagKey"]: t["TagValue"] for t in tags.get("Tags", [])})


def collect(ctx: Ctx) -> None:
    kms = ctx.client("kms")
    aliases: dict[str, str] = {}
    for alias in ctx.pages(kms, "list_aliases", "Aliases"):
        if alias.get("TargetKeyId"):
            aliases.setdefault(alias["TargetKeyId"], alias["AliasName"])
    ctx.each(list(ctx.pages(kms, "list_keys", "Keys")), lambda fork, listed: _key(fork, kms, aliases, listed), THREADS)
