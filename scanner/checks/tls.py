"""Checks over TLS policies: CloudFront's names, whose order is not alphabetical, and classic
load balancers' negotiation policies judged on their own.

Each is registered with @check and returns True/False/None, a Hit, or an Unresolved.
"""
from __future__ import annotations

import re
from typing import Any

from ..conditions import Evaluation, Hit, check
from ..kinds import attr
from ..model import Node, Unresolved


# CloudFront security policies are named TLSv<version>[_<year>]; a later year at the same
# version drops weaker ciphers. Peers' test files also write TLSv1.0 and TLSv1.1, read alike.
_CF_POLICY = re.compile(r"^(SSLv3|TLSv1(?:\.(\d))?)(?:_(\d{4}))?$")


def cloudfront_policy_rank(name: str) -> tuple | None:
    m = _CF_POLICY.match(name)
    if not m:
        return None
    if m.group(1) == "SSLv3":
        return (0, 0, 0)
    return (1, int(m.group(2) or 0), int(m.group(3) or 0))


@check("cloudfront_tls_below")
def cloudfront_tls_below(node: Node, ev: Evaluation, minimum: str) -> Any:
    """The TLS minimum viewers get. A default certificate (*.cloudfront.net) or a distribution
    without a viewer certificate negotiates TLSv1 whatever is written."""
    default_cert = attr(node, "default_certificate")
    if isinstance(default_cert, Unresolved):
        return default_cert
    if not attr(node, "has_viewer_certificate") or default_cert:
        effective, located = "TLSv1", ("default_certificate" if default_cert else "has_viewer_certificate")
    else:
        effective, located = attr(node, "minimum_protocol_version"), "minimum_protocol_version"
    if isinstance(effective, Unresolved):
        return effective
    effective = effective or "TLSv1"   # the API default with a custom certificate
    rank = cloudfront_policy_rank(str(effective))
    if rank is None:
        return Unresolved(f"unknown CloudFront security policy {effective}")
    if rank >= cloudfront_policy_rank(minimum):
        return False
    return Hit(None, {"effective": effective}, located)


@check("weak_negotiation_policy")
def weak_negotiation_policy(node: Node, ev: Evaluation, approved: list) -> Any:
    """A classic SSL negotiation policy no listener of the unit uses (one that does is judged on
    the listener): weak when it turns on a protocol below TLS 1.2 or references a predefined
    policy that is not approved. Protocols and ciphers of its own are not judged beyond that."""
    if node.kind != "elb_ssl_policy" or attr(node, "attached") is True \
            or attr(node, "policy_type") != "SSLNegotiationPolicyType":
        return False
    weak, reference = attr(node, "weak_protocols"), attr(node, "reference_policy")
    for value in (weak, reference):
        if isinstance(value, Unresolved):
            return value
    detail = {"protocol": "SSL negotiation policy"}
    if weak:
        return Hit(None, {**detail, "ssl_policy": f"of its own enabling {', '.join(weak)}"}, "weak_protocols")
    if reference is not None and reference not in approved:
        return Hit(None, {**detail, "ssl_policy": reference}, "reference_policy")
    return False
