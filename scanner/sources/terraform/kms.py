"""AWS KMS keys (aws_kms_key, aws_kms_external_key) and key policies."""
from __future__ import annotations

from datetime import datetime, timezone

from ...model import Unresolved
from ..attrmap import BOOL, INT, STR, TAGS, TypeMap, at
from .resources import policy_doc

_ROTATION = {
    "rotation_enabled": at("enable_key_rotation", conv=BOOL, fix=True),
    "rotation_period_days": at("rotation_period_in_days", conv=INT, fix=True),
}
_KEY = {
    # the provider renamed customer_master_key_spec to key_spec; either may be written
    "key_spec": (at("customer_master_key_spec", conv=STR), at("key_spec", conv=STR)),
    "key_usage": at("key_usage", conv=STR),
    "custom_key_store_id": at("custom_key_store_id", conv=STR),
    "pending_window_days": at("deletion_window_in_days", conv=INT, fix=True),
    "tags": at("tags", conv=TAGS),
}


def _policy(r) -> None:
    if r.get("policy") is not None:
        r.node.set("policy", policy_doc(r.get("policy"), r.spot("policy")), r.spot("policy"))


def _timestamp(v):
    if isinstance(v, str):
        try:
            when = datetime.fromisoformat(v)
            return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
        except ValueError:
            pass
    return Unresolved(f"not an RFC 3339 time: {v!r}")


def _external_key(r) -> None:
    """aws_kms_external_key: material imported with valid_to expires; material imported without it
    does not (the provider's rule). With no material in the configuration, it is imported out of
    band and its expiry is not known, as for an EXTERNAL key in CloudFormation."""
    valid_to = r.get("valid_to")
    if isinstance(valid_to, Unresolved):   # it may still be null: whether the material expires is unknown
        r.node.set("expiration_model", valid_to, r.spot("valid_to"))
        r.node.set("valid_to", valid_to, r.spot("valid_to"))
    elif valid_to is not None:
        r.node.set("expiration_model", "KEY_MATERIAL_EXPIRES", r.spot("valid_to"))
        r.node.set("valid_to", _timestamp(valid_to), r.spot("valid_to"))
    elif r.get("key_material_base64") is not None:
        r.node.set("expiration_model", "KEY_MATERIAL_DOES_NOT_EXPIRE", r.spot("key_material_base64"))
    r.put("expiration_model", "expiration_model", conv=STR.read)   # a plan knows it once applied
    _policy(r)


TYPES = {
    "aws_kms_key": TypeMap("kms_key", {**_KEY, **_ROTATION}, build=_policy),
    # Imported material does not rotate: the provider's external key has no rotation arguments.
    "aws_kms_external_key": TypeMap("kms_key", _KEY, defaults={"origin": "EXTERNAL"}, build=_external_key),
}


def _key_policy(b, r) -> None:
    key = b.target(r.get("key_id"), "kms_key")
    doc = r.get("policy")
    if key is None or doc is None:
        return
    where = r.spot("policy", helper=True)
    key.set("policy", policy_doc(doc, where), where)


FOLDERS = {"aws_kms_key_policy": _key_policy}
