"""Terraform's operators and built-in functions, as far as the configuration alone allows:
each runs on known values, and an unknown argument is the result (raised as Unknown)."""
from __future__ import annotations

import json
from typing import Any, Callable

from ...model import Unresolved
from ..budget import ELEMENT
from ..loader import PosDict
from .values import Ref, to_text, unknown


def _num_eq(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return a == b


OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "==": _num_eq, "!=": lambda a, b: not _num_eq(a, b),
    "<": lambda a, b: a < b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b,
    "+": lambda a, b: _number(a) + _number(b), "-": lambda a, b: _number(a) - _number(b),
    "*": lambda a, b: _number(a) * _number(b), "/": lambda a, b: _number(a) / _number(b),
    "%": lambda a, b: _number(a) % _number(b),
    "&&": lambda a, b: _bool(a) and _bool(b), "||": lambda a, b: _bool(a) or _bool(b),
}


class Unknown(Exception):
    def __init__(self, value):
        super().__init__(str(value))
        self.value = value


def _need(*values):
    """Functions below run on known values only: the first unknown one is the result."""
    for v in values:
        if isinstance(v, Unresolved):
            raise Unknown(v)
        if isinstance(v, Ref):
            raise Unknown(unknown("value known only after apply"))
        if isinstance(v, (list, dict)):
            _need(*(v.values() if isinstance(v, dict) else v))


def _number(v):
    if isinstance(v, bool):
        raise TypeError
    if isinstance(v, str):
        return float(v) if "." in v else int(v)
    return v


def _bool(v):
    if isinstance(v, str) and v in ("true", "false"):
        return v == "true"
    if not isinstance(v, bool):
        raise TypeError
    return v


def _pass_ref(fn):
    """element(), one() and friends keep a resource reference as it is."""
    def wrapped(first, *rest):
        if isinstance(first, Ref):
            return first
        if isinstance(first, Unresolved):
            return first
        return fn(first, *rest)
    return wrapped


def _coalesce(*args):
    for a in args:
        if isinstance(a, (Unresolved, Ref)):
            return a
        if a is not None and a != "":
            return a
    return None


def _merge(*maps):
    out = PosDict()
    out.pos = {}
    for m in maps:
        if isinstance(m, Unresolved):
            return m
        if m is None:
            continue
        if not isinstance(m, dict):
            raise TypeError
        out.update(m)
        out.pos.update(getattr(m, "pos", {}))
    return out


def _concat(*lists):
    out = []
    for x in lists:
        if isinstance(x, Unresolved):
            return x
        out.extend(x)
    return out


def _lookup(m, key, *default):
    if isinstance(m, Unresolved) or isinstance(key, Unresolved):
        return m if isinstance(m, Unresolved) else key
    if isinstance(m, dict) and key in m:
        return m[key]
    if default:
        return default[0]
    raise KeyError(key)


def _length(v):
    if not isinstance(v, (list, dict)):
        _need(v)
    return len(v)


def _jsondecode(s):
    _need(s)
    return json.loads(s)


def _known(fn):
    def wrapped(*args):
        _need(*args)
        return fn(*args)
    return wrapped


def _one(v):
    if len(v) > 1:
        raise ValueError("one() of several values")
    return v[0] if v else None


def _flatten(v):
    out = []
    for x in v:
        out.extend(_flatten(x) if isinstance(x, list) else [x])
    return out


def cost(value) -> int:
    """What a function's result costs: its length (elements are already paid for)."""
    if isinstance(value, str):
        return len(value)
    return ELEMENT * len(value) if isinstance(value, (list, dict)) else ELEMENT


def _replaced_size(s, old, new) -> int:
    if not all(isinstance(x, str) for x in (s, old, new)):
        return 0
    n = s.count(old) if old else len(s) + 1
    return len(s) + n * max(len(new) - len(old), 0)


def _joined_size(sep, xs) -> int:
    if not isinstance(sep, str) or not isinstance(xs, list):
        return 0
    return len(sep) * max(len(xs) - 1, 0)


# Functions whose result can be much larger than their arguments: charged before they run.
GROWING: dict[str, Callable[..., int]] = {
    "replace": lambda *a: _replaced_size(*a) if len(a) == 3 else 0,
    "join": lambda *a: _joined_size(*a) if len(a) == 2 else 0,
}


FUNCTIONS: dict[str, Callable] = {
    "jsonencode": lambda v: v,          # kept as structure: policies are read from it directly
    "jsondecode": _jsondecode,
    "coalesce": _coalesce,
    "merge": _merge,
    "concat": _concat,
    "lookup": _lookup,
    "length": _length,
    "one": _pass_ref(_one),
    "element": _pass_ref(lambda v, i: v[int(i) % len(v)]),
    "tolist": _pass_ref(lambda v: list(v)),
    "toset": _pass_ref(lambda v: list(dict.fromkeys(v))),
    "tomap": _pass_ref(lambda v: v),
    "tostring": _known(lambda v: to_text(v)),
    "tonumber": _known(lambda v: _number(v)),
    "tobool": _known(lambda v: _bool(v)),
    "lower": _known(lambda s: s.lower()),
    "upper": _known(lambda s: s.upper()),
    "trimspace": _known(lambda s: s.strip()),
    "replace": _known(lambda s, a, b: s.replace(a, b)),
    "join": _known(lambda sep, xs: sep.join(to_text(x) for x in xs)),
    "split": _known(lambda sep, s: s.split(sep)),
    "flatten": _known(_flatten),
    "distinct": _known(lambda xs: list(dict.fromkeys(xs))),
    "compact": _known(lambda xs: [x for x in xs if x not in (None, "")]),
    "keys": _known(lambda m: sorted(m)),
    "values": _known(lambda m: [m[k] for k in sorted(m)]),
    "contains": _known(lambda xs, v: v in xs),
    "max": _known(lambda *xs: max(xs)),
    "min": _known(lambda *xs: min(xs)),
    "can": lambda v: True if not isinstance(v, Unresolved) else v,
}
