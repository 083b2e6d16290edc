"""IAM policy documents in one normalized form, and the questions rules ask of them.

Adapters hand in a document as the format holds it (a mapping from YAML/HCL/jsonencode, or a
JSON string from a template or a live API) with unresolvable parts already replaced by
Unresolved. Rules ask: is this statement open to everyone, does a non-root principal hold
kms:*, which accounts does it grant.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .model import SELF_ACCOUNT, Unresolved, Where

# Condition keys that narrow a `*` principal to a known set of callers (AWS's own guidance for
# "public" in IAM Access Analyzer and S3 Block Public Access counts these).
RESTRICTING_KEYS = frozenset(k.lower() for k in (
    "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalAccount", "aws:PrincipalArn",
    "aws:PrincipalServiceName", "aws:SourceAccount", "aws:SourceArn", "aws:SourceOwner",
    "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:SourceVpc", "aws:SourceVpce", "aws:SourceIp",
    "aws:userid", "aws:username", "kms:CallerAccount", "kms:ViaService",
    "s3:DataAccessPointAccount", "s3:DataAccessPointArn", "aws:ResourceAccount",
    "aws:VpceAccount", "aws:VpceOrgID", "aws:VpceOrgPaths", "aws:SourceVpcArn",
))


def _narrows(value) -> bool:
    """Whether one condition value names a bounded set of callers.

    `*` alone narrows nothing, and neither does an ARN whose account is a wildcard
    (arn:aws:iam::*:..., or a bare arn:aws:iam::*).
    """
    if not isinstance(value, str) or value.strip("*?") == "":
        return False
    if value.startswith("arn:"):
        parts = value.split(":")
        account = parts[4] if len(parts) > 4 else "*"
        return account.strip("*?") != ""
    return True

_ACCOUNT_ARN = re.compile(r"^arn:[^:]*:(?:iam|sts)::([^:]*):")
_ACCOUNT_ID = re.compile(r"^\d{12}$")


@dataclass
class Statement:
    effect: Any                          # "Allow" | "Deny" | Unresolved
    principals: Any                      # list of "*" / "AWS:<value>" / "Service:<value>" ...; None when absent
    not_principal: bool
    actions: Any                         # list of lower-case actions | Unresolved
    not_action: bool
    conditions: list = field(default_factory=list)   # (operator, key lower-case, values) | Unresolved
    where: Where = field(default_factory=Where)
    principal_where: Where = field(default_factory=Where)
    sid: str | None = None


@dataclass
class Policy:
    statements: list[Statement]
    where: Where
    error: str | None = None             # the document could not be read as a policy


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _spot(container, key, base: Where) -> Where:
    try:
        line, col = container.pos[key]
    except (AttributeError, TypeError, KeyError, IndexError):
        return base
    return base.at(line, col, base.path + (key,))


def _principals(value) -> Any:
    if isinstance(value, Unresolved):
        return value
    if value == "*":
        return ["*"]
    if isinstance(value, str):          # a bare string other than "*" is not valid; keep it as AWS
        return ["AWS:" + value]
    if isinstance(value, list) and all(isinstance(p, str) for p in value):
        # Not valid IAM, but a `*` in it is read as everyone rather than dropped.
        return ["*" if p == "*" else "AWS:" + p for p in value]
    if not isinstance(value, dict):
        return Unresolved("principal is not a mapping")
    out = []
    for ptype, pvals in value.items():
        if isinstance(pvals, Unresolved):
            return pvals
        for p in _as_list(pvals):
            if isinstance(p, Unresolved):
                return p
            if not isinstance(p, str):
                return Unresolved("principal value is not a string")
            out.append("*" if (ptype == "AWS" and p == "*") else f"{ptype}:{p}")
    return out


def _conditions(value) -> Any:
    if value is None:
        return []
    if isinstance(value, Unresolved) or not isinstance(value, dict):
        return value if isinstance(value, Unresolved) else Unresolved("condition is not a mapping")
    out = []
    for op, body in value.items():
        if isinstance(body, Unresolved):
            return body
        if not isinstance(body, dict):
            continue
        for key, vals in body.items():
            out.append((str(op), str(key).lower(), vals))
    return out


def parse(doc: Any, base: Where) -> Policy | Unresolved:
    """Normalize a policy document; an unreadable one becomes Policy(error=...)."""
    if isinstance(doc, Unresolved):
        return doc
    if isinstance(doc, str):
        try:
            doc = json.loads(doc)
        except ValueError:
            if "${" in doc:
                return Unresolved("policy text holds an unresolved interpolation")
            return Policy([], base, error="policy is not valid JSON")
    if not isinstance(doc, dict):
        return Policy([], base, error="policy is not a mapping")
    raw = doc.get("Statement")
    if isinstance(raw, Unresolved):
        return raw
    statements = []
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else []
    for i, st in enumerate(items):
        st_where = _spot(raw, i, base) if isinstance(raw, list) else _spot(doc, "Statement", base)
        if isinstance(st, Unresolved):
            statements.append(Statement(st, st, False, st, False, [], st_where, st_where))
            continue
        if not isinstance(st, dict):
            continue
        pkey = "Principal" if "Principal" in st else "NotPrincipal" if "NotPrincipal" in st else None
        akey = "NotAction" if "NotAction" in st and "Action" not in st else "Action"
        actions = st.get(akey)
        if not isinstance(actions, Unresolved):
            actions = [a.lower() if isinstance(a, str) else a for a in _as_list(actions)]
            if any(isinstance(a, Unresolved) for a in actions):
                actions = Unresolved("action list holds an unresolved value")
        statements.append(Statement(
            effect=st.get("Effect"),
            principals=_principals(st[pkey]) if pkey else None,
            not_principal=pkey == "NotPrincipal",
            actions=actions,
            not_action=akey == "NotAction",
            conditions=_conditions(st.get("Condition")),
            where=st_where,
            principal_where=_spot(st, pkey, st_where) if pkey else st_where,
            sid=st.get("Sid") if isinstance(st.get("Sid"), str) else None,
        ))
    return Policy(statements, base)


def account_of(principal: str) -> str | None:
    """The account an AWS principal belongs to ("AWS:arn:aws:iam::123:root" -> "123")."""
    if not principal.startswith("AWS:"):
        return None
    value = principal[4:]
    if _ACCOUNT_ID.match(value) or value == SELF_ACCOUNT:
        return value
    m = _ACCOUNT_ARN.match(value)
    return m.group(1) if m else None


def is_root(principal: str) -> bool:
    value = principal[4:] if principal.startswith("AWS:") else principal
    return bool(_ACCOUNT_ID.match(value)) or value == SELF_ACCOUNT or (
        bool(_ACCOUNT_ARN.match(value)) and value.endswith(":root"))


def _restricted(conditions) -> bool | None:
    if isinstance(conditions, Unresolved):
        return None
    for op, key, vals in conditions:
        if key not in RESTRICTING_KEYS:
            continue
        values = _as_list(vals)
        if any(isinstance(v, Unresolved) for v in values):
            return None
        if values and all(_narrows(v) for v in values):
            return True
    return False


def public_allow(st: Statement) -> bool | None:
    """An Allow open to everyone (`*`, AWS `*`, or NotPrincipal) with no narrowing condition."""
    if isinstance(st.effect, Unresolved):
        return None
    if st.effect != "Allow":
        return False
    if isinstance(st.principals, Unresolved):
        return None
    if st.principals is None:
        return False
    wildcard = st.not_principal or "*" in st.principals or any(
        p.startswith("AWS:arn:") and account_of(p) == "*" for p in st.principals)
    if not wildcard:
        return False
    restricted = _restricted(st.conditions)
    return None if restricted is None else not restricted


def grants_all_actions(st: Statement, service: str) -> bool | None:
    if isinstance(st.actions, Unresolved):
        return None
    if st.not_action:
        return False
    return any(a in ("*", f"{service}:*") for a in st.actions)


def principals_of(st: Statement) -> list[str] | None:
    """Concrete principals an Allow statement names; None when unknown."""
    if isinstance(st.principals, Unresolved):
        return None
    return list(st.principals or [])
