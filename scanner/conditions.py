"""The rule condition language, evaluated in three-valued logic.

True: the node meets the condition. False: it does not. None: it cannot be known statically
(an Unresolved value was involved); a rule whose condition is None stays silent, and --strict
reports it for review. `all` is False as soon as one part is False, `any` True as soon as one
part is True, so an unknown part only matters when it could change the answer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from .kinds import attr as read_attr
from .model import Graph, Node, Unresolved, Where

Tri = bool | None


@dataclass
class Hit:
    """What a check returns when it finds something: where, and values for the message."""

    where: Where | None = None
    detail: dict = field(default_factory=dict)
    attr: str | None = None


@dataclass
class Evaluation:
    graph: Graph
    now: datetime
    params: dict
    true_attrs: list[str] = field(default_factory=list)     # attribute leaves that came out True
    hits: list[Hit] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)        # reasons, for --strict

    def param(self, operand: Any) -> Any:
        if isinstance(operand, dict) and set(operand) == {"param"}:
            return self.params[operand["param"]]
        return operand

    def note_unknown(self, value: Any) -> None:
        if isinstance(value, Unresolved):
            self.unknown.append(value.reason)


CHECKS: dict[str, Callable[..., Any]] = {}


def check(name: str):
    """Register a Python check usable as {check: name} in rule files."""
    def register(fn):
        CHECKS[name] = fn
        return fn
    return register


def _norm(v):
    return v.lower() if isinstance(v, str) else v


def _compare(op: str, value: Any, operand: Any) -> Tri:
    if op == "eq":
        return _norm(value) == _norm(operand)
    if op == "ne":
        return _norm(value) != _norm(operand)
    if op == "in":
        return _norm(value) in [_norm(o) for o in operand]
    if op == "not_in":
        return _norm(value) not in [_norm(o) for o in operand]
    if value is None:
        return False
    try:
        return {"lt": value < operand, "le": value <= operand, "gt": value > operand, "ge": value >= operand}[op]
    except TypeError:
        return False


_OPS = ("eq", "ne", "in", "not_in", "lt", "le", "gt", "ge")


def _attr_value(node: Node, name: str) -> Any:
    head, _, rest = name.partition(".")
    value = read_attr(node, head)
    for part in rest.split(".") if rest else ():
        value = value.get(part) if isinstance(value, dict) else None
    return value


def evaluate(cond: dict, node: Node, ev: Evaluation) -> Tri:
    if "all" in cond:
        results = [evaluate(c, node, ev) for c in cond["all"]]
        return False if False in results else None if None in results else True
    if "any" in cond:
        results = [evaluate(c, node, ev) for c in cond["any"]]
        return True if True in results else None if None in results else False
    if "not" in cond:
        r = evaluate(cond["not"], node, ev)
        return None if r is None else not r
    if "check" in cond:
        return _run_check(cond, node, ev)
    if "edge" in cond:
        return _edge(cond, node, ev)
    return _leaf(cond, node, ev)


def _leaf(cond: dict, node: Node, ev: Evaluation) -> Tri:
    name = cond["attr"]
    if "present" in cond:
        result = (name in node.attrs) == cond["present"]
    else:
        value = _attr_value(node, name)
        if isinstance(value, Unresolved):
            ev.note_unknown(value)
            return None
        if "nonempty" in cond:
            result = bool(value) == cond["nonempty"]
        elif "matches" in cond:
            result = isinstance(value, str) and re.search(cond["matches"], value) is not None
        else:
            op = next(o for o in _OPS if o in cond)
            operand = ev.param(cond[op])
            result = _compare(op, value, operand)
    if result:
        ev.true_attrs.append(name)
    return result


def _run_check(cond: dict, node: Node, ev: Evaluation) -> Tri:
    fn = CHECKS.get(cond["check"])
    if fn is None:
        raise KeyError(f"unknown check {cond['check']!r}")
    args = {k: ev.param(v) for k, v in cond.get("args", {}).items()}
    result = fn(node, ev, **args)
    if isinstance(result, Hit):
        ev.hits.append(result)
        return True
    if isinstance(result, Unresolved):
        ev.note_unknown(result)
        return None
    return result


def _edge(cond: dict, node: Node, ev: Evaluation) -> Tri:
    neighbours = ev.graph.into(node, cond["edge"]) if cond.get("dir") == "in" else ev.graph.out(node, cond["edge"])
    sub = cond.get("where")
    # A neighbour's evidence does not locate this node's finding: `via` names the attribute
    # of this node that holds the reference, and locates it instead.
    marks = len(ev.true_attrs), len(ev.hits)
    results = [True if sub is None else evaluate(sub, n, ev) for n in neighbours]
    del ev.true_attrs[marks[0]:], ev.hits[marks[1]:]
    result = True if True in results else None if None in results else False
    if result and cond.get("via"):
        ev.true_attrs.append(cond["via"])
    return result
