"""AWS KMS keys."""
from __future__ import annotations

from ... import policy as policies
from ..attrmap import BOOL, INT, STR, TAGS, TypeMap, at


def _key_policy(r) -> None:
    doc = r.get("KeyPolicy")
    if doc is not None:
        r.node.set("policy", policies.parse(doc, r.spot("KeyPolicy")), r.spot("KeyPolicy"))


TYPES = {
    "AWS::KMS::Key": TypeMap("kms_key", {
        "key_spec": at("KeySpec", conv=STR),
        "key_usage": at("KeyUsage", conv=STR),
        "origin": at("Origin", conv=STR),
        "rotation_enabled": at("EnableKeyRotation", conv=BOOL, fix=True),
        "rotation_period_days": at("RotationPeriodInDays", conv=INT, fix=True),
        "pending_window_days": at("PendingWindowInDays", conv=INT, fix=True),
        "tags": at("Tags", conv=TAGS),
    }, build=_key_policy),
}
FOLDERS = {}
