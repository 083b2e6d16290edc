"""Checks over IAM policy documents (key and bucket policies) and bucket ACLs.

Each is registered with @check and returns True/False/None, a Hit, or an Unresolved.
"""
from __future__ import annotations

from typing import Any

from .. import policy as policies
from ..conditions import Evaluation, Hit, check
from ..kinds import PUBLIC_ACCESS_SETTINGS, attr
from ..model import SELF_ACCOUNT, Node, Unresolved


def _statements(node: Node, attr_name: str):
    doc = attr(node, attr_name)
    if isinstance(doc, Unresolved):
        return doc
    if not isinstance(doc, policies.Policy):
        return []
    return doc.statements


def _first(statements, test) -> Any:
    """A Hit for the first statement the test holds for; None if some were unknown."""
    if isinstance(statements, Unresolved):
        return statements
    unknown = None
    for st in statements:
        result = test(st)
        if isinstance(result, Hit):
            return result
        if result is None:
            unknown = Unresolved("policy statement holds an unresolved value")
    return unknown if unknown is not None else False


@check("policy_public")
def policy_public(node: Node, ev: Evaluation, policy: str = "policy") -> Any:
    """An Allow statement open to `*` with no condition narrowing who may call."""
    def test(st):
        result = policies.public_allow(st)
        if result:
            return Hit(st.principal_where, {"sid": st.sid or "(no Sid)"}, policy)
        return result
    return _first(_statements(node, policy), test)


@check("policy_admin_non_root")
def policy_admin_non_root(node: Node, ev: Evaluation, policy: str = "policy", service: str = "kms") -> Any:
    """A principal other than the account root is granted every action of the service."""
    def test(st):
        if st.effect != "Allow" or st.not_principal:
            return None if isinstance(st.effect, Unresolved) else False
        everything = policies.grants_all_actions(st, service)
        principals = policies.principals_of(st)
        if everything is None or principals is None:
            return None
        if not everything:
            return False
        for p in principals:
            if p != "*" and p.startswith("AWS:") and not policies.is_root(p):
                return Hit(st.principal_where, {"principal": p[4:], "sid": st.sid or "(no Sid)"}, policy)
        return False
    return _first(_statements(node, policy), test)


PUBLIC_ACLS = {"public-read", "public-read-write", "authenticated-read"}


@check("bucket_public")
def bucket_public(node: Node, ev: Evaluation) -> Any:
    """A bucket that grants public access through its ACL or its policy (CW402, CW403)."""
    acl = attr(node, "acl")
    if isinstance(acl, str) and acl.lower() in PUBLIC_ACLS:
        return True
    if attr(node, "public_grants"):
        return True
    return policy_public(node, ev)


@check("policy_external_account")
def policy_external_account(node: Node, ev: Evaluation, trusted_accounts: list, policy: str = "policy") -> Any:
    """An Allow to a principal of an account outside the trusted list. The key's own account is
    trusted; in code it is unknown, so a literal account is only judged against a configured list."""
    own = attr(node, "account")
    trusted = {str(a) for a in trusted_accounts or []} | {SELF_ACCOUNT} | ({own} if isinstance(own, str) else set())
    known_own = isinstance(own, str) or bool(trusted_accounts)

    def test(st):
        if isinstance(st.effect, Unresolved):
            return None
        if st.effect != "Allow" or st.not_principal:
            return False
        principals = policies.principals_of(st)
        if principals is None:
            return None
        unknown = False
        for p in principals:
            account = policies.account_of(p)
            if account is None or account in trusted or account == "*":
                continue   # services, federated principals; `*` is CW103's finding
            if not known_own:
                unknown = True
                continue
            return Hit(st.principal_where, {"account": account, "sid": st.sid or "(no Sid)"}, policy)
        return None if unknown else False
    result = _first(_statements(node, policy), test)
    if isinstance(result, Unresolved) and not known_own:
        return Unresolved("the key's own account is unknown and no trusted_accounts are configured")
    return result


@check("public_access_block_off")
def public_access_block_off(node: Node, ev: Evaluation, require_explicit: bool = False) -> Any:
    """CW401: the Block Public Access settings that are off, named (also in a block for a bucket
    outside the unit). A bucket without a block passes unless the policy asks every bucket of the
    unit to give one: AWS turns all four on for it."""
    given = attr(node, "has_public_access_block")
    if isinstance(given, Unresolved):
        return given
    values = {name: attr(node, name) for name in PUBLIC_ACCESS_SETTINGS}
    off = [name for name, value in values.items() if value is not True and not isinstance(value, Unresolved)]
    if off and given:
        listed = ", ".join(PUBLIC_ACCESS_SETTINGS[name] for name in off)
        return Hit(None, {"state": f"leaves Block Public Access settings off: {listed}"}, off[0])
    if off:   # live: a bucket read without a block has all four off
        return Hit(None, {"state": "has no public access block"}, "has_public_access_block")
    unknown = next((v for v in values.values() if isinstance(v, Unresolved)), None)
    if unknown is not None:
        return unknown
    if not given and require_explicit and attr(node, "managed_elsewhere") is not True:
        return Hit(None, {"state": "has no public access block"}, "has_public_access_block")
    return False
