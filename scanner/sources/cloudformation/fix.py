"""CloudFormation side of `certwarden fix`: a rule's normalized fix (`fix.set`) as text edits of
one template, YAML or JSON.

The edits are the smallest that do it: a value is replaced where it is written (a comment after
it stays), a missing key is added to the end of its mapping (YAML block style) or as a new first
member (JSON and YAML flow style, where that needs no search for a closing bracket), and missing
intermediate mappings (Properties, PublicAccessBlockConfiguration, ...) are written in full.
Where an attribute is written, and how, comes from the attribute maps the reader uses
(template.TYPES).

Positions come from the project's loader (PosDict.pos, .line/.column/.end_line); the only text
read here is the scalar after a key, to know its extent. Every result is checked by loading the
edited text again: it must equal the original with exactly the wanted values changed, or the
adapter declines (None) rather than hand back an edit it had to guess.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import yaml

from ..edits import Edit, apply, layers
from ..loader import LoadError, PosDict, load_all
from .template import HELPERS, TYPES


@dataclass(frozen=True)
class Want:
    """A leaf to write: the template value, and the normalized value it must read back as."""

    value: Any
    normalized: Any
    read: Callable[[Any], Any]

    def met_by(self, have: Any) -> bool:
        """Already so (EnableKeyRotation: "true" reads as true): nothing to write."""
        return have is not None and not isinstance(have, (dict, list)) and self.read(have) == self.normalized


def _wanted(rtype: Any, values: dict, body: dict) -> dict | None:
    """The values as a tree of property keys ending in Want leaves; None if one is unknown. Of
    several paths for one attribute, the one the resource already writes (a schedule stays one)."""
    spec = (TYPES.get(rtype) or HELPERS.get(rtype)) if isinstance(rtype, str) else None
    if spec is None or not values:
        return None
    tree: dict = {}
    for attr, normalized in values.items():
        prop = spec.fix_path(attr, lambda path: _written(body, ("Properties", *path)))
        if prop is None:
            return None
        try:
            leaf = Want(prop.conv.write(normalized), normalized, prop.conv.read)
        except TypeError:
            return None
        node = tree
        for key in prop.path[:-1]:
            node = node.setdefault(key, {})
        node[prop.path[-1]] = leaf
    return {"Properties": tree}


def _written(mapping: Any, path: tuple) -> bool:
    for key in path:
        if not isinstance(mapping, dict) or key not in mapping:
            return False
        mapping = mapping[key]
    return True


def _helper_of(resources: dict, resource: str, values: dict) -> str | None:
    """The one helper resource (a rotation schedule) that configures `resource` (by Ref) and
    writes the values, when the resource itself cannot."""
    body = resources[resource]
    spec = TYPES.get(body.get("Type")) if isinstance(body, dict) else None
    for htype, helper in HELPERS.items():
        if spec is None or helper.of is None or helper.kind != spec.kind:
            continue
        found = [name for name, b in resources.items() if isinstance(b, dict) and b.get("Type") == htype
                 and isinstance(b.get("Properties"), dict) and _plain(b["Properties"].get(helper.of)) == {"Ref": resource}]
        if len(found) == 1 and _wanted(htype, values, resources[found[0]]) is not None:
            return found[0]
    return None


# -- reading the text around a position ---------------------------------------------------------
def _is_intrinsic(value: Any) -> bool:
    """Ref/Fn::If/... decide the value only at deployment; Fn::Transform pulls in another file."""
    if not isinstance(value, dict):
        return False
    keys = [k for k in value if isinstance(k, str)]
    return any(k == "Ref" or k.startswith("Fn::") for k in keys) or keys == ["Condition"]


_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*")


def _scalar(text: str) -> Any:
    """What YAML reads text as (libyaml, as the loader: a finding per key parses one each)."""
    return yaml.load(text, Loader=yaml.CSafeLoader)


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


class _Text:
    """The template's lines, and what the edits need to know about its layout."""

    def __init__(self, file: str, text: str, root: Any):
        self.file, self.text = file, text
        self.lines = text.splitlines(keepends=True)
        self.newline = "\r\n" if "\r\n" in text else "\n"
        self.json = self.is_flow(root)   # a JSON file: keys and strings double-quoted

    def line(self, no: int) -> str:
        return self.lines[no - 1].rstrip("\r\n") if 0 < no <= len(self.lines) else ""

    def leading(self, no: int) -> str:
        s = self.line(no)
        return s[:len(s) - len(s.lstrip(" \t"))]

    def is_flow(self, mapping: Any) -> bool:
        line = self.line(getattr(mapping, "line", 0))
        col = getattr(mapping, "column", 0)
        return 0 < col <= len(line) and line[col - 1] == "{"

    def is_block(self, mapping: PosDict) -> bool:
        # A block mapping starts at its first key; one behind an anchor or tag does not (declined).
        return bool(mapping) and min(mapping.pos.values()) == (mapping.line, mapping.column)

    def value_span(self, mapping: PosDict, key: str, flow: bool) -> tuple[int, int, int, str] | None:
        """(line, column, end column, quote) of the scalar written after key, when it sits on the
        key's line and reads back as the loaded value."""
        no, col = mapping.pos[key]
        s, i = self.line(no), col - 1
        i = self._after_key(s, i, key)
        if i is None:
            return None
        end = self._scalar_end(s, i, flow)
        if end is None:
            return None
        try:
            same = _same(_scalar(s[i:end]), mapping[key])
        except yaml.YAMLError:
            return None
        return (no, i + 1, end + 1, s[i] if s[i] in "\"'" else "") if same else None

    @staticmethod
    def _after_key(s: str, i: int, key: str) -> int | None:
        """Index of the value after `key:` (plain or quoted key) on line s."""
        if s.startswith(key, i):
            i += len(key)
        elif s[i:i + 1] in ("'", '"') and s.startswith(key + s[i], i + 1):
            i += len(key) + 2
        else:
            return None
        i = len(s) - len(s[i:].lstrip(" \t"))
        if s[i:i + 1] != ":":
            return None
        i += 1
        i = len(s) - len(s[i:].lstrip(" \t"))
        return i if i < len(s) and s[i] != "#" else None   # a value on the next line: declined

    @staticmethod
    def _scalar_end(s: str, i: int, flow: bool) -> int | None:
        if s[i] == '"':
            j = i + 1
            while j < len(s) and s[j] != '"':
                j += 2 if s[j] == "\\" else 1
            return j + 1 if j < len(s) else None
        if s[i] == "'":
            j = s.find("'", i + 1)
            while j != -1 and s[j + 1:j + 2] == "'":
                j = s.find("'", j + 2)
            return j + 1 if j != -1 else None
        if s[i] in "!&*|>{[%@`":   # tags, anchors, aliases, block scalars, collections
            return None
        j = i
        while j < len(s) and not (flow and s[j] in ",]}") and not (s[j] == "#" and s[j - 1] in " \t"):
            j += 1
        return len(s[:j].rstrip(" \t"))

    # -- writing ------------------------------------------------------------------------------
    def key(self, key: str) -> str:
        return json.dumps(key) if self.json else key

    def scalar(self, value: Any, quote: str = "") -> str:
        """true/false, bare numbers, strings bare unless YAML (or JSON) needs quotes; a replaced
        quoted string keeps its quotes."""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        if quote == "'" and "'" not in value and not self.json:
            return f"'{value}'"
        if self.json or quote or not _PLAIN.fullmatch(value) or not _same(_scalar(value), value):
            return json.dumps(value)
        return value

    def block_lines(self, tree: dict, indent: str, unit: str) -> list[str]:
        out = []
        for key, want in tree.items():
            if isinstance(want, dict):
                out.append(f"{indent}{self.key(key)}:")
                out += self.block_lines(want, indent + unit, unit)
            else:
                out.append(f"{indent}{self.key(key)}: {self.scalar(want.value)}")
        return out

    def flow_member(self, key: str, want: Any, indent: str | None, unit: str) -> str:
        """`Key: value` for a flow mapping; nested mappings on lines of their own when indent
        is given (pretty-printed JSON), else inline."""
        if not isinstance(want, dict):
            return f"{self.key(key)}: {self.scalar(want.value)}"
        if indent is None:
            inner = ", ".join(self.flow_member(k, w, None, unit) for k, w in want.items())
            return f"{self.key(key)}: {{{inner}}}"
        sep = "," + self.newline + indent + unit
        inner = sep.join(self.flow_member(k, w, indent + unit, unit) for k, w in want.items())
        return f"{self.key(key)}: {{{self.newline}{indent}{unit}{inner}{self.newline}{indent}}}"


# -- planning the edits -------------------------------------------------------------------------
class _Planner:
    def __init__(self, text: _Text):
        self.t = text

    def mapping(self, mapping: Any, tree: dict, holder_line: int) -> list[Edit] | None:
        """Edits giving `mapping` (held by the key on holder_line) the values of tree."""
        if not isinstance(mapping, PosDict) or _is_intrinsic(mapping):
            return None
        flow = self.t.is_flow(mapping)
        if not flow and not self.t.is_block(mapping):
            return None
        edits, missing = [], {}
        for key, want in tree.items():
            if key not in mapping:
                missing[key] = want
                continue
            if isinstance(want, dict):
                sub = self.mapping(mapping[key], want, mapping.pos[key][0])
            else:
                sub = self.replace(mapping, key, want, flow)
            if sub is None:
                return None
            edits += sub
        if missing:
            insert = self.flow_insert if flow else self.block_insert
            edits = _joined(edits, insert(mapping, missing, holder_line))
        return edits

    def replace(self, mapping: PosDict, key: str, want: Want, flow: bool) -> list[Edit] | None:
        have = mapping[key]
        if isinstance(have, (dict, list)) or have is None:
            return None   # an intrinsic, or not a value at all: nothing to replace without guessing
        if want.met_by(have):
            return []
        span = self.t.value_span(mapping, key, flow)
        if span is None:
            return None
        line, col, end, quote = span
        return [Edit(self.t.file, line, col, line, end, self.t.scalar(want.value, quote))]

    def _unit(self, indent: str, holder_line: int) -> str:
        """One level of the file's indentation: how far this mapping sits inside its holder."""
        holder = self.t.leading(holder_line)
        return indent[len(holder):] if indent.startswith(holder) and len(indent) > len(holder) else "  "

    def block_insert(self, mapping: PosDict, missing: dict, holder_line: int) -> Edit:
        """New keys as lines after the mapping's last line, at its keys' indentation."""
        indent = " " * (mapping.column - 1)
        lines = self.t.block_lines(missing, indent, self._unit(indent, holder_line))
        nl = self.t.newline
        after = mapping.end_line
        text = nl.join(lines) + nl
        if not self.t.lines[after - 1].endswith("\n"):   # the last line of a file without newline
            text = nl + text.rstrip("\r\n")
        return Edit(self.t.file, after + 1, 1, after + 1, 1, text)

    def flow_insert(self, mapping: PosDict, missing: dict, holder_line: int) -> Edit:
        """New members before the first one: `"Key": value,` on a line of its own when the
        members are each on one (pretty-printed JSON), else inline."""
        if not mapping:
            inner = ", ".join(self.t.flow_member(k, w, None, "") for k, w in missing.items())
            return Edit(self.t.file, mapping.line, mapping.column + 1, mapping.line, mapping.column + 1, inner)
        line, col = min(mapping.pos.values())
        before = self.t.line(line)[:col - 1]
        if before.strip():   # inline: {A: 1, B: 2}
            text = "".join(self.t.flow_member(k, w, None, "") + ", " for k, w in missing.items())
        else:
            unit = self._unit(before, holder_line)
            sep = "," + self.t.newline + before
            text = "".join(self.t.flow_member(k, w, before, unit) + sep for k, w in missing.items())
        return Edit(self.t.file, line, col, line, col, text)


def _joined(edits: list[Edit], new: Edit) -> list[Edit]:
    """A block mapping whose last value is a mapping that also grows ends on the same line:
    both insertions go there, one text with the inner mapping's lines first, so that their
    order does not hang on how apply() sorts equal positions."""
    for i, e in enumerate(edits):
        if (e.line, e.column, e.end_line, e.end_column) == (new.line, new.column, new.line, new.column):
            return edits[:i] + [replace(e, text=e.text + new.text)] + edits[i + 1:]
    return edits + [new]


# -- checking the result --------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _merged(doc: Any, tree: dict) -> Any:
    """What doc reads as once tree is written into it."""
    out = _plain(doc)
    for key, want in tree.items():
        if isinstance(want, dict):
            out[key] = _merged(out.get(key, {}), want)
        elif not want.met_by(out.get(key)):
            out[key] = want.value
    return out


def _checks(text: str, edits: list[Edit], docs: list, changes: list[tuple[int, str, dict]]) -> bool:
    """The edited text loads, and differs from the original exactly by the wanted values
    (`changes`: document index, resource and the tree written into it)."""
    try:
        new = load_all(apply(text, edits).encode("utf-8"))
    except LoadError:
        return False
    expected = [_plain(d) for d in docs]
    for index, resource, tree in changes:
        expected[index]["Resources"][resource] = _merged(docs[index]["Resources"][resource], tree)
    return new == expected


# -- the entry point ------------------------------------------------------------------------------
def _document(docs: list, resource: str) -> int | None:
    """The one document of the stream that defines the resource."""
    hits = [i for i, d in enumerate(docs)
            if isinstance(d, dict) and isinstance(d.get("Resources"), dict) and resource in d["Resources"]]
    return hits[0] if len(hits) == 1 else None


def edits_for(file: str, text: str, resource: str, values: dict) -> list[Edit] | None:
    """Edits of one template (YAML or JSON text) that give resource `resource` (a logical ID)
    the normalized attribute values `values` (a rule's fix.set); None when this adapter cannot
    make that change safely (unknown attribute for the type, an intrinsic function in the way,
    a resource from a nested/included file, text it cannot edit without guessing).
    An empty list: the template already has those values."""
    return edits_for_many(file, text, [(resource, values)])[0]


def edits_for_many(file: str, text: str, requests: list[tuple[str, dict]]) -> list[list[Edit] | None]:
    """edits_for of each (resource, values), each against the same text, which is loaded once
    and checked once per layer of changes that do not touch each other (not once a request:
    with thousands of findings in one file that was quadratic)."""
    if text.startswith("\ufeff"):   # libyaml's columns on line 1 do not count the byte order mark
        return [None if edits is None else [
            replace(e, column=e.column + (e.line == 1), end_column=e.end_column + (e.end_line == 1)) for e in edits]
            for edits in edits_for_many(file, text[1:], requests)]
    try:
        docs = load_all(text.encode("utf-8"))
    except LoadError:
        return [None] * len(requests)
    texts: dict[int, _Text] = {}
    planned: list[tuple[list[Edit], tuple[int, str, dict]] | None] = []
    for resource, values in requests:
        index = _document(docs, resource)
        if index is None:
            planned.append(None)
            continue
        resources = docs[index]["Resources"]
        body = resources[resource]
        tree = _wanted(body.get("Type"), values, body) if isinstance(body, dict) else None
        if tree is None and isinstance(body, dict):   # written by a helper (a secret's rotation): there
            resource = _helper_of(resources, resource, values)
            body = resources[resource] if resource is not None else body
            tree = None if resource is None else _wanted(body.get("Type"), values, body)
        if tree is None or not hasattr(resources, "pos"):
            planned.append(None)
            continue
        if index not in texts:
            texts[index] = _Text(file, text, docs[index])
        edits = _Planner(texts[index]).mapping(body, tree, resources.pos[resource][0])
        planned.append(None if edits is None else (sorted(edits), (index, resource, tree)))
    out: list[list[Edit] | None] = [None] * len(requests)
    for layer in layers([(i, p[0], p[1][:2]) for i, p in enumerate(planned) if p is not None]):
        edits = [e for i in layer for e in planned[i][0]]
        if _checks(text, edits, docs, [planned[i][1] for i in layer]):
            for i in layer:
                out[i] = planned[i][0]
            continue
        for i in layer:   # one of them is wrong: each is judged alone
            if _checks(text, planned[i][0], docs, [planned[i][1]]):
                out[i] = planned[i][0]
    return out
