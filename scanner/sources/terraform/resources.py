"""One Terraform resource as the per-service modules read it.

Both Terraform readers (modules.py for HCL, plan.py for plan JSON) hand in the same shape: per
resource an address, a type and its values as a PosDict (nested blocks as lists of PosDicts, as
in plan JSON), where a reference to another resource is a values.Ref.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from ... import policy as policies
from ...model import Node, Unresolved, Where
from ..loader import LoadError, PosDict, PosList, load
from ..resource_view import ResourceView
from .values import HOLE, PartialText, Ref


class Record:
    """One resource: address (module prefix + type.name, what references point at), type,
    display (the address as reported: aws_kms_key.x[*], module.pki.aws_...), its values and the
    resource addresses they refer to.

    Values may be given, or read on first use (`read` returns values and refs): most resources
    of a configuration are of types no rule judges, and evaluating them is most of the work.
    `attr(name)` reads one top-level value without the rest."""

    __slots__ = ("address", "type", "display", "where", "_values", "_refs", "_read", "_attr")

    def __init__(self, address: str, type: str, display: str, values: dict | None = None,
                 where: Where | None = None, refs: set | None = None, *,
                 read: Callable[[], tuple[dict, set]] | None = None, attr: Callable[[str], Any] | None = None):
        self.address, self.type, self.display, self.where = address, type, display, where
        self._values, self._refs, self._read, self._attr = values, refs if refs is not None else set(), read, attr

    @property
    def values(self) -> dict:
        if self._values is None:
            self._values, self._refs = self._read() if self._read else ({}, set())
        return self._values

    @property
    def refs(self) -> set:
        self.values   # evaluating sets _refs
        return self._refs

    def attr(self, name: str) -> Any:
        if self._values is None and self._attr is not None:
            return self._attr(name)
        return self.values.get(name)


class TfResource(ResourceView):
    """One resource while its node is built (the Terraform twin of cfn.Resource)."""

    first_of_block_list = True

    def __init__(self, rec: Record, kind: str = ""):
        self.rec, self.base = rec, rec.where
        self.node = Node(id=rec.address, kind=kind, name=rec.display, source="tf", where=rec.where, type=rec.type)

    @property
    def values(self) -> dict:   # evaluated only when a handler reads them
        return self.rec.values

    def spot(self, *path, helper: bool = False) -> Where:
        """helper: the value belongs to a resource folded onto another, which it names."""
        where = super().spot(*path)
        if helper:
            where = Where(where.file, where.line, where.column, where.path, resource=self.rec.display)
        return where


# -- value helpers ------------------------------------------------------------------------
_PLACEHOLDER = "__certwarden_unknown__"


def _shift(value, lines: int):
    """Move positions of a document parsed from a string to where the string is written."""
    if isinstance(value, (PosDict, PosList)) and hasattr(value, "pos"):
        items = value.pos.items() if isinstance(value, PosDict) else enumerate(value.pos)
        moved = {k: (ln + lines, col) for k, (ln, col) in items}
        value.pos = moved if isinstance(value, PosDict) else [moved[i] for i in range(len(value.pos))]
        for v in (value.values() if isinstance(value, dict) else value):
            _shift(v, lines)
    return value


def _holes(value):
    """Strings that held an unknown part become Unresolved."""
    if isinstance(value, str) and _PLACEHOLDER in value:
        return Unresolved("policy text holds a value known only after apply")
    if isinstance(value, dict):
        for k in list(value):
            value[k] = _holes(value[k])
    elif isinstance(value, list):
        for i, v in enumerate(value):
            value[i] = _holes(v)
    return value


def policy_doc(value, where: Where):
    """A policy written as jsonencode(...), a data document, a heredoc or a JSON string."""
    if isinstance(value, Ref):
        return Unresolved("policy known only after apply")
    line = getattr(value, "line", 0)
    if isinstance(value, PartialText):
        text = value.text.replace(HOLE, _PLACEHOLDER)
    elif isinstance(value, str) and line:
        text = value
    else:
        return policies.parse(value, where)
    try:
        doc = _shift(load(text.encode()), line - 1)
    except (LoadError, ValueError):
        try:
            doc = json.loads(text)
        except ValueError:
            return value if isinstance(value, Unresolved) else policies.parse(text, where)
    return policies.parse(_holes(doc), where)
