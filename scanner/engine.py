"""Rules over graphs: every rule written once against the model, run on every source it lists."""
from __future__ import annotations

import string
from datetime import datetime
from typing import Iterable

from . import certs, checks  # noqa: F401  (checks registers the Python checks)
from .conditions import Evaluation, evaluate
from .config import Config
from .findings import Finding
from .kinds import attr as read_attr
from .model import Graph, Node, Unresolved, Where
from .rulepack import Rule, fix_values, raise_severity


# Characters of one value quoted in a message: names, policy names and ARNs fit; a blob read
# from a file (or a var file) does not, and is cut.
MAX_QUOTED = 120


def _quoted(text: str) -> str:
    """A value as a message may quote it: key material redacted, length capped."""
    text = certs.redact(text)
    return text if len(text) <= MAX_QUOTED else f"{text[:MAX_QUOTED]}... ({len(text)} characters)"


class _Values(dict):
    """Message values: missing names print as '?', unresolved ones as 'unresolved'."""

    def __missing__(self, key):
        return "?"


def _display(value) -> str:
    if isinstance(value, Unresolved):
        return "unresolved"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, datetime):
        return value.date().isoformat()
    if value is None:
        return "absent"
    if isinstance(value, (list, tuple)):
        return ", ".join(_display(v) for v in value)
    return str(value)


def _message(rule: Rule, node: Node, ev: Evaluation, params: dict) -> str:
    """Fill the template: check details first, then rule parameters, then node attributes."""
    values = _Values(name=_quoted(node.attrs.get("display") or node.name), kind=node.kind)
    for hit in ev.hits:
        for k, v in hit.detail.items():
            values.setdefault(k, _quoted(_display(v)))
    for f in {f for _, f, _, _ in string.Formatter().parse(rule.message) if f}:
        if f not in values:
            values[f] = _quoted(_display(params[f]) if f in params else _display(read_attr(node, f)))
    try:
        return rule.message.format_map(values)
    except (ValueError, IndexError, AttributeError):
        return rule.message


def _locate(rule: Rule, node: Node, ev: Evaluation) -> tuple[Where, str | None]:
    for name in rule.at:
        if name in ev.true_attrs and name in node.spots:
            return node.spots[name], name
    for hit in ev.hits:
        if hit.where is not None:
            return hit.where, hit.attr
        if hit.attr and hit.attr in node.spots:
            return node.spots[hit.attr], hit.attr
    for name in rule.at:
        if name in node.spots:
            return node.spots[name], name
    return node.where, (rule.at[0] if rule.at else None)


class Engine:
    def __init__(self, rules: list[Rule], now: datetime, config: Config | None = None, strict: bool = False):
        self.rules, self.now, self.strict = rules, now, strict
        self.config = config or Config()
        self._by_kind: dict[str, list[Rule]] = {}
        for rule in rules:
            for kind in rule.kinds:
                self._by_kind.setdefault(kind, []).append(rule)

    def params(self, rule: Rule, node: Node) -> dict:
        """Per node: a profile chosen by the node's tags may change the rule's thresholds."""
        return self.config.params(rule, node)

    def run(self, graph: Graph) -> Iterable[Finding]:
        for node in list(graph.nodes.values()):
            for rule in self._by_kind.get(node.kind, ()):
                if node.source not in rule.sources:
                    continue
                finding = self.check(rule, node, graph)
                if finding is not None:
                    yield finding

    def check(self, rule: Rule, node: Node, graph: Graph) -> Finding | None:
        params = self.params(rule, node)
        ev = Evaluation(graph, self.now, params)
        result = evaluate(rule.when, node, ev)
        if result is False or (result is None and not self.strict):
            return None
        severity = rule.severity
        if result and rule.escalate_when is not None:
            if evaluate(rule.escalate_when, node, Evaluation(graph, self.now, params)):
                severity = raise_severity(severity)
        where, attr = _locate(rule, node, ev)
        if result is None:
            reasons = "; ".join(dict.fromkeys(_quoted(r) for r in ev.unknown)) or "unresolved value"
            message = f"{rule.title}: could not be evaluated for {_quoted(node.name)} ({reasons})"
        else:
            message = _message(rule, node, ev, params)
        return Finding(
            code=rule.code, name=rule.name, severity=severity, message=message, source=node.source,
            kind=node.kind, resource=node.name, resource_type=node.type, where=where,
            attr=attr, wa=rule.wa, review=result is None, fix=_fix(rule, node, ev, params),
        )


def _fix(rule: Rule, node: Node, ev: Evaluation, params: dict) -> dict | None:
    """The rule's fix for this node: its `set` with the policy's values, or without a `set` when
    the fix's own `when` does not hold (a value alone cannot fix this case: the documented fix)."""
    fix = rule.fix
    if not fix or not fix.get("set"):
        return fix
    if fix.get("when") is not None and evaluate(fix["when"], node, ev) is not True:
        return {k: v for k, v in fix.items() if k not in ("set", "when")}
    return {**fix, "set": fix_values(fix, params)}
