"""Python checks for what the condition language cannot say: policy analysis, key strength
against certificate lifetime. Each is registered by name and called from rule files as
{check: NAME, args: {...}}; each returns True/False/None, a Hit, or an Unresolved.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from . import policy as policies
from .conditions import Evaluation, Hit, check
from .kinds import attr
from .model import Node, Unresolved

# NIST SP 800-57 Part 1 Rev 5, Table 2: security strength in bits of ACM PCA key algorithms.
CA_KEY_STRENGTH = {
    "RSA_2048": 112, "RSA_3072": 128, "RSA_4096": 152,
    "EC_prime256v1": 128, "EC_secp384r1": 192, "EC_secp521r1": 256, "SM2": 128,
}


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


@check("bucket_public")
def bucket_public(node: Node, ev: Evaluation) -> Any:
    """A bucket that grants public access through its ACL or its policy (CW402, CW403)."""
    acl = attr(node, "acl")
    if isinstance(acl, str) and acl.lower() in PUBLIC_ACLS:
        return True
    if attr(node, "public_grants"):
        return True
    return policy_public(node, ev)


PUBLIC_ACLS = {"public-read", "public-read-write", "authenticated-read"}


def validity_end(validity: Any, now: datetime) -> Any:
    """The NotAfter an ACM PCA Validity (type, value) gives when issued at `now`."""
    if isinstance(validity, Unresolved):
        return validity
    vtype, value = validity
    for v in (vtype, value):
        if isinstance(v, Unresolved):
            return v
    vtype = str(vtype).upper()
    units = {"DAYS": 1, "MONTHS": 30.4375, "YEARS": 365.25}
    try:
        if vtype in units:
            return now + timedelta(days=float(value) * units[vtype])
        if vtype == "ABSOLUTE":
            return datetime.fromtimestamp(int(value), tz=timezone.utc)
        if vtype == "END_DATE":
            return datetime.strptime(str(value), "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError, OSError, TypeError):
        pass
    return Unresolved(f"validity {vtype} {value} not understood")


def ca_certificate_end(node: Node, ev: Evaluation) -> Any:
    """When the CA's own certificate ends: live NotAfter, or its linked certificate's validity."""
    not_after = attr(node, "not_after")
    if not_after is not None:
        return not_after
    for cert in ev.graph.into(node, "certifies"):
        if "validity" in cert.attrs:
            return validity_end(cert.attrs["validity"], ev.now)
    return None


@check("pca_strength_below_validity")
def pca_strength_below_validity(node: Node, ev: Evaluation, strength_112_until: str, min_strength_after: int) -> Any:
    algorithm = attr(node, "key_algorithm")
    if isinstance(algorithm, Unresolved):
        return algorithm
    strength = CA_KEY_STRENGTH.get(str(algorithm))
    if strength is None or strength >= min_strength_after:
        return False
    end = ca_certificate_end(node, ev)
    if end is None:
        return False
    if isinstance(end, Unresolved):
        return end
    cutoff = datetime.fromisoformat(strength_112_until).replace(tzinfo=timezone.utc) + timedelta(days=1)
    if end.tzinfo is None:
        end = end.replace(tzinfo=timezone.utc)
    if end <= cutoff:
        return False
    # Located at the CA's key algorithm: the CA is the resource to change.
    return Hit(None, {"strength": strength, "not_after": end.date().isoformat(),
                       "cutoff": strength_112_until, "key_algorithm": algorithm}, "key_algorithm")


@check("missing_tags")
def missing_tags(node: Node, ev: Evaluation, required_tags: list) -> Any:
    tags = attr(node, "tags")
    if isinstance(tags, Unresolved):
        return tags
    missing = [t for t in required_tags if t not in (tags or {})]
    return Hit(None, {"missing": ", ".join(missing)}, "tags") if missing else False
