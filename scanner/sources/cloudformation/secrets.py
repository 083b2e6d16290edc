"""AWS Secrets Manager secrets and their rotation schedules."""
from __future__ import annotations

from dataclasses import replace

from ...model import Where
from .. import normalize
from ..attrmap import INT, RATE_DAYS, TAGS, TypeMap, at
from .resolve import ResRef


def _key(r) -> None:
    key = r.get("KmsKeyId")
    normalize.set_secret_key(r.node, key, key.target if isinstance(key, ResRef) else None, r.spot("KmsKeyId"))


TYPES = {"AWS::SecretsManager::Secret": TypeMap("secret", {"tags": at("Tags", conv=TAGS)}, build=_key)}

# Helper resources whose settings are a secret's attributes (the folder below reads them): where
# a fix writes them. A rate() schedule is rewritten as a rate, days as days.
HELPERS = {"AWS::SecretsManager::RotationSchedule": TypeMap("secret", {"rotation_interval_days": (
    at("RotationRules", "AutomaticallyAfterDays", conv=INT, fix=True),
    at("RotationRules", "ScheduleExpression", conv=RATE_DAYS, fix=True))}, of="SecretId")}


def _rotation_schedule(tpl, r) -> None:
    secret = tpl.target_or_own(r.get("SecretId"), "secret", r)

    def spot(*path) -> Where:   # folded: the secret's attribute, written on the schedule's lines
        return replace(r.spot(*path), resource=r.name)

    secret.set("rotation_enabled", True, spot())
    days, expr = r.get("RotationRules", "AutomaticallyAfterDays"), r.get("RotationRules", "ScheduleExpression")
    interval = normalize.rotation_days(days, expr)
    if interval is not None:
        which = "AutomaticallyAfterDays" if days is not None else "ScheduleExpression"
        secret.set("rotation_interval_days", interval, spot("RotationRules", which))


def _key_edge(tpl, r) -> None:
    key = r.get("KmsKeyId")
    if isinstance(key, ResRef):
        tpl.graph.link(r.name, key.target, "encrypted_by")


FOLDERS = {
    "AWS::SecretsManager::RotationSchedule": _rotation_schedule,
    "AWS::SecretsManager::Secret": _key_edge,
}
