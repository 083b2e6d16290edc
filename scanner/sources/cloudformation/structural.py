"""Structural fixes of CloudFormation templates (`fix.add`): resources added, settings written into
existing ones, values replaced whole, as text edits with the same rules as value fixes (fix.py).

New resources go at the end of the Resources mapping (YAML block style: in the file's own
indentation, after a comment naming the fix; JSON and flow style: as new first members), in
CloudFormation's long form (Ref, Fn::GetAtt), which reads the same in YAML and JSON. Settings go
through fix.py's planner. Every result is checked by loading the edited text again: it must equal
the original with exactly the pattern's changes, or the fix is declined (None).
"""
from __future__ import annotations

import json
from typing import Any

import yaml

from ..edits import Edit, apply
from ..loader import LoadError, PosDict, load_all
from .text import Planner, Text, Want, document, is_intrinsic, joined, past_bom, plain
from .patterns import PATTERNS, Change


def _tree(values: dict, have: Any) -> dict:
    """The settings as fix.py's tree of keys ending in Want leaves, less those already so."""
    out = {}
    for key, value in values.items():
        current = have.get(key) if isinstance(have, dict) else None
        if isinstance(value, dict) and not is_intrinsic(value):
            sub = _tree(value, current)
            if sub:
                out[key] = sub
        elif plain(current) != plain(value):
            out[key] = Want(plain(value), plain(value), lambda v: v)
    return out


def _at(mapping: Any, path: tuple) -> Any:
    for key in path:
        mapping = mapping.get(key) if isinstance(mapping, dict) else None
    return mapping


class _Dumper(yaml.SafeDumper):
    """Block YAML as CloudFormation templates are written: sequences indented under their key,
    no anchors for values used twice, and Ref, Fn::GetAtt and Fn::Sub in their short forms."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)

    def ignore_aliases(self, data):
        return True


def _represent(dumper: yaml.SafeDumper, value: dict):
    if list(value) == ["Ref"] and isinstance(value["Ref"], str):
        return dumper.represent_scalar("!Ref", value["Ref"])
    if list(value) == ["Fn::Sub"] and isinstance(value["Fn::Sub"], str):
        return dumper.represent_scalar("!Sub", value["Fn::Sub"])
    get = value.get("Fn::GetAtt") if list(value) == ["Fn::GetAtt"] else None
    if isinstance(get, list) and len(get) == 2 and all(isinstance(p, str) for p in get):
        return dumper.represent_scalar("!GetAtt", ".".join(get))
    return dumper.represent_dict(value)


_Dumper.add_representer(dict, _represent)


def _block(value: Any, indent: str, unit: str) -> list[str]:
    """value as YAML block lines at indent, indented by the file's unit."""
    text = yaml.dump(plain(value), Dumper=_Dumper, default_flow_style=False, sort_keys=False, width=120, indent=len(unit))
    return [indent + line if line else line for line in text.splitlines()]


def _json(value: Any, indent: str, unit: str, newline: str) -> str:
    lines = json.dumps(plain(value), indent=len(unit) or 2).splitlines()
    return (newline + indent).join(lines)


class _Writer:
    def __init__(self, text: Text, template: PosDict):
        self.t, self.template = text, template
        self.resources = template["Resources"]
        self.planner = Planner(text)

    def unit(self) -> str:
        first = min(self.resources.pos.values()) if self.resources else None
        return (self.t.leading(first[0]) if first else "") or "  "

    def added(self, new: dict[str, dict], pattern: str) -> Edit | None:
        res = self.resources
        if not res:
            return None
        line, col = min(res.pos.values())
        unit = self.unit()
        if self.t.is_flow(res) or self.t.json:
            before = self.t.line(line)[:col - 1]
            if before.strip():
                return None   # an inline {A: ..., B: ...} mapping of resources: declined
            sep = "," + self.t.newline + before
            text = "".join(f"{json.dumps(name)}: {_json(body, before, unit, self.t.newline)}{sep}"
                           for name, body in new.items())
            return Edit(self.t.file, line, col, line, col, text)
        if not self.t.is_block(res):
            return None
        indent = " " * (col - 1)
        lines = ["", f"{indent}# Added by certwarden fix ({pattern})"]
        for name, body in new.items():
            lines += _block({name: body}, indent, unit)
        nl, after = self.t.newline, res.end_line
        text = nl.join(lines) + nl
        if not self.t.lines[after - 1].endswith("\n"):
            text = nl + text.rstrip("\r\n")
        return Edit(self.t.file, after + 1, 1, after + 1, 1, text)

    def replaced(self, resource: str, path: tuple, value: Any) -> Edit | None:
        """The whole value at path replaced: a block mapping's lines, or a JSON object's text."""
        holder = _at(self.resources[resource], path[:-1])
        old = holder.get(path[-1]) if isinstance(holder, PosDict) else None
        if not isinstance(old, PosDict) or not old:
            return None
        unit = self.unit()
        if self.t.is_flow(old):
            line = self.t.line(old.end_line)
            end = len(line.rstrip().rstrip(",").rstrip())
            if not line[:end].endswith("}"):
                return None
            indent = self.t.leading(holder.pos[path[-1]][0])
            return Edit(self.t.file, old.line, old.column, old.end_line, end + 1,
                        _json(value, indent, unit, self.t.newline))
        if old.line <= holder.pos[path[-1]][0] or not self.t.is_block(old):
            return None   # a value on its key's line, or behind an anchor or tag: declined
        lines = _block(value, " " * (old.column - 1), unit)
        nl = self.t.newline
        return Edit(self.t.file, old.line, 1, old.end_line + 1, 1, nl.join(lines) + nl)


def _expected(docs: list, index: int, change: Change) -> list:
    out = [plain(d) for d in docs]
    _merge(out[index], change.template)
    resources = out[index]["Resources"]
    for name, body in change.add.items():
        resources.setdefault(name, body)
    for name, values in change.set.items():
        _merge(resources[name], values)
    for name, (path, value) in change.replace.items():
        _at(resources[name], path[:-1])[path[-1]] = value
    return out


def _merge(into: dict, values: dict) -> None:
    for key, value in values.items():
        if isinstance(value, dict) and not is_intrinsic(value) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _edits(writer: _Writer, change: Change, pattern: str) -> list[Edit] | None:
    res = writer.resources
    edits: list[Edit] = []
    for name, values in change.set.items():
        tree = _tree(values, res[name])
        if tree:
            got = writer.planner.mapping(res[name], tree, res.pos[name][0])
            if got is None:
                return None
            edits += got
    for name, (path, value) in change.replace.items():
        if plain(_at(res[name], path)) != value:
            edit = writer.replaced(name, path, value)
            if edit is None:
                return None
            edits.append(edit)
    new = {name: body for name, body in change.add.items() if name not in res}
    if new:
        edit = writer.added(new, pattern)
        if edit is None:
            return None
        edits.append(edit)
    tree = _tree(change.template, writer.template)   # top-level keys: after the resources end
    if tree:
        got = writer.planner.mapping(writer.template, tree, 0)
        if got is None:
            return None
        edits += got
    # in this order: a setting of the last resource, the resources added after it, top-level keys
    return joined(edits)


def edits_for_many(file: str, text: str, requests: list[tuple[str, str]]) -> list[list[Edit] | None]:
    """The edits of each (resource, pattern name) request, each planned and checked alone on the
    same text; [] when the template already has what the pattern adds."""
    if text.startswith("\ufeff"):
        return past_bom(edits_for_many(file, text[1:], requests))
    try:
        docs = load_all(text.encode("utf-8"))
    except LoadError:
        return [None] * len(requests)
    out: list[list[Edit] | None] = []
    for resource, pattern in requests:
        index = document(docs, resource)
        template = docs[index] if index is not None else None
        change = PATTERNS[pattern](template, resource) if template is not None else None
        if change is None or not hasattr(template["Resources"], "pos"):
            out.append(None)
            continue
        edits = _edits(_Writer(Text(file, text, template), template), change, pattern)
        if edits:
            try:
                ok = load_all(apply(text, edits).encode("utf-8")) == _expected(docs, index, change)
            except LoadError:
                ok = False
            edits = edits if ok else None
        out.append(edits)
    return out
