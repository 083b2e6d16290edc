"""Secrets Manager secrets: rotation, rotation interval, encryption key and tags, as secret nodes.

ListSecrets already carries every field the rules read, so no call is made per secret.
"""
from __future__ import annotations

from ..normalize import rotation_days
from .aws import Ctx


def collect(ctx: Ctx) -> None:
    sm = ctx.client("secretsmanager")
    for listed in ctx.pages(sm, "list_secrets", "SecretList"):
        node = ctx.node("secret", listed["ARN"], listed["Name"], "AWS::SecretsManager::Secret")
        node.set("rotation_enabled", listed.get("RotationEnabled", False))
        rules = listed.get("RotationRules") or {}
        interval = rotation_days(rules.get("AutomaticallyAfterDays"), rules.get("ScheduleExpression"))
        if interval is not None:
            node.set("rotation_interval_days", interval)
        if listed.get("KmsKeyId"):   # absent: the AWS-managed aws/secretsmanager key (CW503)
            node.set("kms_key_id", listed["KmsKeyId"])
        node.set("tags", {t["Key"]: t["Value"] for t in listed.get("Tags", [])})
