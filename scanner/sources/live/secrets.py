"""Secrets Manager secrets: rotation, rotation interval, encryption key and tags, as secret nodes.

ListSecrets already carries every field the rules read, so no call is made per secret.
`link_keys` then joins each secret to the KMS key of the account it names (CW108 asks which
resources use a key).
"""
from __future__ import annotations

from ...model import Graph
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


def _key_ref(kms_key_id: str, region: str | None) -> tuple:
    """(region, key ID or alias/NAME) for a key given by ARN, alias ARN, key ID or alias."""
    parts = kms_key_id.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn":   # arn:aws:kms:REGION:ACCOUNT:key/ID or :alias/NAME
        return parts[3], parts[5].removeprefix("key/")
    return region, kms_key_id


def link_keys(graph: Graph) -> None:
    """secret -encrypted_by-> kms_key for the keys read in the same account. A key is known by its
    ARN, its ID and the one alias it is named by (other aliases of it are not matched)."""
    keys = {}
    for key in graph.of_kind("kms_key"):
        keys[_key_ref(key.id, None)] = key.id
        if key.name.startswith("alias/"):
            keys[(key.where.region, key.name)] = key.id
    for secret in graph.of_kind("secret"):
        named = secret.attrs.get("kms_key_id")
        if isinstance(named, str) and _key_ref(named, secret.where.region) in keys:
            graph.link(secret.id, keys[_key_ref(named, secret.where.region)], "encrypted_by")
