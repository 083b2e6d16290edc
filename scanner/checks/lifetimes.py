"""Checks over dates: expiry, validity, and key strength against a certificate's lifetime.

Each is registered with @check and returns True/False/None, a Hit, or an Unresolved.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any

from ..conditions import Evaluation, Hit, check
from ..dates import validity_end, when
from ..kinds import attr
from ..model import Node, Unresolved


@check("expired")
def expired(node: Node, ev: Evaluation, field: str = "not_after") -> Any:
    end = when(attr(node, field))
    if not end:   # absent (False) or Unresolved
        return end
    if end >= ev.now:
        return False
    return Hit(None, {"date": end.date().isoformat(), "days_ago": (ev.now - end).days}, field)


@check("expires_within")
def expires_within(node: Node, ev: Evaluation, days: int, field: str = "not_after", skip_unused: bool = False) -> Any:
    """Not yet expired (that is CW203) but ending within `days`."""
    end = when(attr(node, field))
    if not end:   # absent (False) or Unresolved
        return end
    if skip_unused and attr(node, "in_use_by") == []:
        return False
    left = end - ev.now
    if left.total_seconds() < 0 or left.days >= days:
        return False
    return Hit(None, {"date": end.date().isoformat(), "days_left": left.days}, field)


@check("not_yet_valid")
def not_yet_valid(node: Node, ev: Evaluation, field: str = "not_before") -> Any:
    start = when(attr(node, field))
    if not start:   # absent (False) or Unresolved
        return start
    if start <= ev.now:
        return False
    return Hit(None, {"date": start.date().isoformat(), "days_until": math.ceil((start - ev.now).total_seconds() / 86400)}, field)


@check("validity_longer_than")
def validity_longer_than(node: Node, ev: Evaluation, days: int) -> Any:
    start, end = when(attr(node, "not_before")), when(attr(node, "not_after"))
    for v in (start, end):
        if not v:
            return v
    lifetime = (end - start).days
    return Hit(None, {"validity_days": lifetime}, "not_after") if lifetime > days else False


# NIST SP 800-57 Part 1 Rev 5, Table 2: security strength in bits of ACM PCA key algorithms.
CA_KEY_STRENGTH = {
    "RSA_2048": 112, "RSA_3072": 128, "RSA_4096": 152,
    "EC_prime256v1": 128, "EC_secp384r1": 192, "EC_secp521r1": 256, "SM2": 128,
}


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
