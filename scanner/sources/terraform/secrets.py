"""AWS Secrets Manager secrets and their rotation."""
from __future__ import annotations

from ...model import Node
from .. import normalize
from ..attrmap import INT, RATE_DAYS, TAGS, TypeMap, at
from .values import Ref


def _rotation(r, secret: Node, helper: bool) -> None:
    secret.set("rotation_enabled", True, r.spot("rotation_rules") if not helper else r.spot(helper=True))
    days = r.get("rotation_rules", "automatically_after_days")
    interval = normalize.rotation_days(days, r.get("rotation_rules", "schedule_expression"))
    if interval is not None:
        which = "automatically_after_days" if days is not None else "schedule_expression"
        secret.set("rotation_interval_days", interval, r.spot("rotation_rules", which, helper=helper))


def _key_and_rotation(r) -> None:
    key = r.get("kms_key_id")
    normalize.set_secret_key(r.node, key, key.address if isinstance(key, Ref) else None, r.spot("kms_key_id"))
    if r.get("rotation_rules") is not None:   # provider < 5: rotation written on the secret
        _rotation(r, r.node, helper=False)


TYPES = {"aws_secretsmanager_secret": TypeMap("secret", {"tags": at("tags", conv=TAGS)}, build=_key_and_rotation)}

# Helper resources whose settings are a secret's attributes (the folder below reads them): where
# a fix writes them. A rate() schedule is rewritten as a rate, days as days.
HELPERS = {"aws_secretsmanager_secret_rotation": TypeMap("secret", {"rotation_interval_days": (
    at("rotation_rules", "automatically_after_days", conv=INT, fix=True),
    at("rotation_rules", "schedule_expression", conv=RATE_DAYS, fix=True))}, of="secret_id")}


def _secret_rotation(b, r) -> None:
    secret = b.target(r.get("secret_id"), "secret") or b.own_node(r, "secret")
    _rotation(r, secret, helper=True)


def _key_edge(b, r) -> None:
    key = b.target(r.get("kms_key_id"), "kms_key")
    if key is not None:
        b.graph.link(r.rec.address, key.id, "encrypted_by")


FOLDERS = {
    "aws_secretsmanager_secret_rotation": _secret_rotation,
    "aws_secretsmanager_secret": _key_edge,
}
