"""Python checks of the certificate, secret, TLS, HSM and governance rules (sections 2 and 5-8
of the catalog). Same contract as checks.py: True/False/None, a Hit, or an Unresolved.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from . import policy as policies
from .checks import _first, _statements
from .conditions import Evaluation, Hit, check
from .kinds import attr
from .model import SELF_ACCOUNT, Node, Unresolved


def _when(value: Any) -> Any:
    """A date attribute as an aware datetime; False when absent (a check's None means unknown)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return value if isinstance(value, Unresolved) else False


@check("expired")
def expired(node: Node, ev: Evaluation, field: str = "not_after") -> Any:
    end = _when(attr(node, field))
    if not end:   # absent (False) or Unresolved
        return end
    if end >= ev.now:
        return False
    return Hit(None, {"date": end.date().isoformat(), "days_ago": (ev.now - end).days}, field)


@check("expires_within")
def expires_within(node: Node, ev: Evaluation, days: int, field: str = "not_after", skip_unused: bool = False) -> Any:
    """Not yet expired (that is CW203) but ending within `days`."""
    end = _when(attr(node, field))
    if not end:   # absent (False) or Unresolved
        return end
    if skip_unused and attr(node, "in_use_by") == []:
        return False
    left = end - ev.now
    if left.total_seconds() < 0 or left.days >= days:
        return False
    return Hit(None, {"date": end.date().isoformat(), "days_left": left.days}, field)


@check("validity_longer_than")
def validity_longer_than(node: Node, ev: Evaluation, days: int) -> Any:
    start, end = _when(attr(node, "not_before")), _when(attr(node, "not_after"))
    for v in (start, end):
        if not v:
            return v
    lifetime = (end - start).days
    return Hit(None, {"validity_days": lifetime}, "not_after") if lifetime > days else False


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


@check("unit_lacks_expiry_monitoring")
def unit_lacks_expiry_monitoring(node: Node, ev: Evaluation, config_rule: str, event_source: str,
                                 detail_types: list) -> Any:
    """A per-unit rule: judged on the whole graph, reported once, on the unit's first certificate
    or CA (so the finding points at what needs watching and can be suppressed there)."""
    watched = next(ev.graph.of_kind("acm_certificate", "pca_authority"), None)
    if watched is None or watched.id != node.id:
        return False
    unknown = None
    for rule in ev.graph.of_kind("config_rule"):
        ident = attr(rule, "source_identifier")
        if isinstance(ident, Unresolved):
            unknown = ident
        elif isinstance(ident, str) and ident.upper() == config_rule.upper():
            return False
    for rule in ev.graph.of_kind("events_rule"):
        sources, types, enabled = attr(rule, "event_sources"), attr(rule, "detail_types"), attr(rule, "enabled")
        if any(isinstance(v, Unresolved) for v in (sources, types, enabled)):
            unknown = next(v for v in (sources, types, enabled) if isinstance(v, Unresolved))
            continue
        # No detail-type filter means every event of the source, expiry included.
        if enabled and event_source in sources and (not types or set(types) & set(detail_types)):
            return False
    return unknown if unknown is not None else Hit(None, {}, None)


@check("environments_differ")
def environments_differ(node: Node, ev: Evaluation, tag: str) -> Any:
    """The resources that refer to this node carry more than one value of the tag."""
    seen: dict[str, str] = {}
    unknown = None
    users = list(ev.graph.into(node, "refers_to")) + list(ev.graph.into(node, "encrypted_by"))
    for user in users:
        value = attr(user, "tags")
        value = value.get(tag) if isinstance(value, dict) else value
        if isinstance(value, Unresolved):
            unknown = value
        elif isinstance(value, str):
            seen.setdefault(value, user.name)
    if len(seen) > 1:
        envs = ", ".join(f"{env} ({who})" for env, who in sorted(seen.items()))
        return Hit(None, {"environments": envs}, None)
    return unknown if unknown is not None else False


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


@check("tag_selects")
def tag_selects(node: Node, ev: Evaluation, tag: str, value: str) -> Any:
    tags = attr(node, "tags")
    if isinstance(tags, Unresolved):
        return tags
    found = (tags or {}).get(tag)
    if isinstance(found, Unresolved):
        return found
    return isinstance(found, str) and found.lower() == str(value).lower()


@check("fewer_distinct")
def fewer_distinct(node: Node, ev: Evaluation, field: str, minimum: int) -> Any:
    values = attr(node, field)
    if isinstance(values, Unresolved):
        return values
    distinct = {v for v in values or [] if not isinstance(v, Unresolved)}
    if any(isinstance(v, Unresolved) for v in values or []) and len(distinct) < minimum:
        return Unresolved(f"{field} holds an unresolved value")
    return Hit(None, {"distinct": len(distinct)}, field) if len(distinct) < minimum else False
