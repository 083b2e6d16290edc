"""What a unit was read into (graphs, errors, notices) as JSON, for the --cache entries.

Data only: decoding builds plain JSON values and the few model types listed in `_TYPES`, each
from its fields; nothing named in the data is imported or called, so an entry cannot run code
whoever wrote it. A value of any other type cannot be encoded (TypeError): that unit is then
not cached.

A non-JSON value is an object {TAG: name, "v": ...}; a dict whose keys are not all strings (YAML
allows any key), or that holds the TAG key itself, is tagged too, so a plain dict never reads as
a tagged one.
"""
from __future__ import annotations

import json
from dataclasses import fields
from datetime import datetime

from .errors import InputError
from .model import Edge, Graph, Ignore, Node, Unresolved, Where
from .policy import Policy, Statement
from .sources.cloudformation.resolve import ResRef
from .sources.loader import PosDict, PosList
from .sources.terraform.values import FileText, PartialText, Ref, Text

TAG = "\x00"
# Dataclasses, stored as the list of their fields in declaration order.
_TYPES = {cls.__name__: cls for cls in (Graph, Node, Where, Edge, Ignore, Unresolved, PartialText, Ref, ResRef,
                                        Statement, Policy, InputError)}
_FIELDS = {cls: (name, tuple(f.name for f in fields(cls))) for name, cls in _TYPES.items()}
_POS_SLOTS = ("pos", "line", "column", "end_line")   # PosDict / PosList, each slot may be unset


def _encode(v):
    cls = type(v)
    if cls is str or cls is int or cls is bool or cls is float or v is None:
        return v
    if cls is dict:
        if TAG not in v and all(type(k) is str for k in v):
            return {k: _encode(x) for k, x in v.items()}
        return {TAG: "dict", "v": [[_encode(k), _encode(x)] for k, x in v.items()]}
    if cls is list:
        return [_encode(x) for x in v]
    if cls is tuple:
        return {TAG: "tuple", "v": [_encode(x) for x in v]}
    known = _FIELDS.get(cls)
    if known is not None:
        name, names = known
        return {TAG: name, "v": [_encode(getattr(v, f)) for f in names]}
    if cls is Text:
        return {TAG: "Text", "v": str(v), "line": v.line}
    if cls is FileText:
        return {TAG: "FileText", "v": str(v), "path": v.path}
    if cls is PosDict or cls is PosList:
        items = [[_encode(k), _encode(x)] for k, x in v.items()] if cls is PosDict else [_encode(x) for x in v]
        slots = {s: _encode(getattr(v, s)) for s in _POS_SLOTS if hasattr(v, s)}
        return {TAG: cls.__name__, "v": items, "slots": slots}
    if cls is datetime:
        return {TAG: "datetime", "v": v.isoformat()}
    if cls is set or cls is frozenset:
        return {TAG: cls.__name__, "v": [_encode(x) for x in v]}
    raise TypeError(f"cannot store a {cls.__name__} in the cache")


def _positioned(cls, items, slots: dict):
    value = cls(items)
    for name in _POS_SLOTS:
        if name in slots:
            setattr(value, name, slots[name])
    return value


def _text(cls, value: str, attr: str, extra):
    out = cls(value)
    setattr(out, attr, extra)
    return out


_DECODE = {
    "dict": lambda d: {k: x for k, x in d["v"]},
    "tuple": lambda d: tuple(d["v"]),
    "set": lambda d: set(d["v"]),
    "frozenset": lambda d: frozenset(d["v"]),
    "datetime": lambda d: datetime.fromisoformat(d["v"]),
    "Text": lambda d: _text(Text, d["v"], "line", d["line"]),
    "FileText": lambda d: _text(FileText, d["v"], "path", d["path"]),
    "PosDict": lambda d: _positioned(PosDict, ((k, x) for k, x in d["v"]), d["slots"]),
    "PosList": lambda d: _positioned(PosList, d["v"], d["slots"]),
    **{name: (lambda cls: lambda d: cls(*d["v"]))(cls) for name, cls in _TYPES.items()},
}


def _hook(d: dict):
    tag = d.get(TAG)
    return d if tag is None else _DECODE[tag](d)


def dumps(value) -> bytes:
    return json.dumps(_encode(value), ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


def loads(data: bytes):
    """The value `dumps` wrote; ValueError, KeyError, TypeError or RecursionError on anything else."""
    return json.loads(data.decode("utf-8", "surrogatepass"), object_hook=_hook)
