"""Checks of what a certificate is for and what it comes with: usage against its profile, and
the chain written beside it.
"""
from __future__ import annotations

from typing import Any

from ..conditions import Evaluation, Hit, check
from ..dates import when as _when
from ..kinds import attr
from ..model import Node, Unresolved


def _is_ca(node: Node) -> bool:
    if node.kind == "pca_certificate":   # the issuing template says what a Private CA certificate is
        return "CACertificate" in str(attr(node, "template"))
    return attr(node, "is_ca") is True


# Certificates deployed as a server's: what they are used as, whatever their basic constraints say.
DEPLOYED_LEAVES = ("acm_certificate", "iam_server_certificate")


@check("used_as_leaf")
def used_as_leaf(node: Node, ev: Evaluation) -> Any:
    """A certificate uploaded as an IAM server certificate or imported into ACM is used as a
    leaf (a CA bit does not make it one less); other material is a leaf unless it is a CA."""
    if node.kind in DEPLOYED_LEAVES:
        return True
    value = attr(node, "is_ca")
    return value if isinstance(value, Unresolved) else value is not True


def _names(values) -> str:
    return ", ".join(values) or "none"


@check("usage_not_allowed")
def usage_not_allowed(node: Node, ev: Evaluation, key_usage: list, extended_key_usage: list,
                      required: list) -> Any:
    """A usage outside the profile's lists, or a required extension missing.

    Empty lists (no profile applies) judge nothing; an unknown usage (None) is not judged.
    """
    if not (key_usage or extended_key_usage or required) or _is_ca(node):
        return False
    for name, allowed, label in (("key_usage", key_usage, "key usage"),
                                 ("extended_key_usage", extended_key_usage, "extended key usage")):
        value = attr(node, name)
        if isinstance(value, Unresolved):
            return value
        extra = [u for u in value or () if allowed and u not in allowed]
        if extra:
            return Hit(None, {"problem": f"{label} {_names(extra)} not allowed (allowed: {_names(allowed)})"}, name)
    present = attr(node, "extensions")
    if isinstance(present, Unresolved):
        return present
    missing = [e for e in required if present is not None and e not in present]
    if missing:
        return Hit(None, {"problem": f"required extension {_names(missing)} missing"}, "extensions")
    return False


@check("chain_invalid")
def chain_invalid(node: Node, ev: Evaluation) -> Any:
    """A link that does not hold (found when the chain was read), or an intermediate outside its
    validity on the day of the scan."""
    problem, chain = attr(node, "chain_problem"), attr(node, "chain")
    for value in (problem, chain):
        if isinstance(value, Unresolved):
            return value
    if problem:
        return Hit(None, {"problem": problem}, "chain_problem")
    for i, link in enumerate(chain or (), 2):
        start, end = _when(link.get("not_before")), _when(link.get("not_after"))
        if end and end < ev.now:
            return Hit(None, {"problem": f"certificate {i} ({link['subject']}) expired on {end.date().isoformat()}"},
                       "chain")
        if start and start > ev.now:
            return Hit(None, {"problem": f"certificate {i} ({link['subject']}) is not valid before "
                                         f"{start.date().isoformat()}"}, "chain")
    return False
