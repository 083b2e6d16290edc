"""Checks over tags and the unit as a whole: required tags, profiles, environments sharing
a key, monitoring present somewhere in the stack, HSM spread.

Each is registered with @check and returns True/False/None, a Hit, or an Unresolved.
"""
from __future__ import annotations

from typing import Any

from ..conditions import Evaluation, Hit, check
from ..kinds import attr
from ..model import Node, Unresolved


@check("missing_tags")
def missing_tags(node: Node, ev: Evaluation, required_tags: list) -> Any:
    tags = attr(node, "tags")
    if isinstance(tags, Unresolved):
        return tags
    missing = [t for t in required_tags if t not in (tags or {})]
    return Hit(None, {"missing": ", ".join(missing)}, "tags") if missing else False


@check("tag_selects")
def tag_selects(node: Node, ev: Evaluation, tag: str, value: str) -> Any:
    tags = attr(node, "tags")
    if isinstance(tags, Unresolved):
        return tags
    found = (tags or {}).get(tag)
    if isinstance(found, Unresolved):
        return found
    return isinstance(found, str) and found.lower() == str(value).lower()


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


@check("fewer_distinct")
def fewer_distinct(node: Node, ev: Evaluation, field: str, minimum: int) -> Any:
    values = attr(node, field)
    if isinstance(values, Unresolved):
        return values
    distinct = {v for v in values or [] if not isinstance(v, Unresolved)}
    if any(isinstance(v, Unresolved) for v in values or []) and len(distinct) < minimum:
        return Unresolved(f"{field} holds an unresolved value")
    return Hit(None, {"distinct": len(distinct)}, field) if len(distinct) < minimum else False


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
