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


def _rotation(ctx: Ctx, kms, key_id: str) -> tuple[object, object]:
    status = ctx.optional(kms.get_key_rotation_status, "GetKeyRotationStatus", _NO_ROTATION, KeyId=key_id)
    if status is None:   # asymmetric, HMAC, imported or custom-store keys: no automatic rotation
        return False, None
    if isinstance(status, Unresolved):
        return status, None
    return status.get("KeyRotationEnabled", False), status.get("RotationPeriodInDays")


def collect(ctx: Ctx) -> None:
    kms = ctx.client("kms")
    aliases: dict[str, str] = {}
    for alias in ctx.pages(kms, "list_aliases", "Aliases"):
        if alias.get("TargetKeyId"):
            aliases.setdefault(alias["TargetKeyId"], alias["AliasName"])
    for listed in ctx.pages(kms, "list_keys", "Keys"):
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
            continue   # AWS-managed keys: their policy and rotation are AWS's, and no rule judges them
        enabled, period = _rotation(ctx, kms, key_id)
        node.set("rotation_enabled", enabled)
        if period is not None:
            node.set("rotation_period_days", period)
        doc = ctx.detail(kms.get_key_policy, "GetKeyPolicy", KeyId=key_id, PolicyName="default")
        node.set("policy", doc if isinstance(doc, Unresolved) else policies.parse(doc.get("Policy"), node.where))
        tags = ctx.detail(kms.list_resource_tags, "ListResourceTags", KeyId=key_id)
        node.set("tags", tags if isinstance(tags, Unresolved)
                 else {t["TagKey"]: t["TagValue"] for t in tags.get("Tags", [])})
