"""CloudFormation template text and how it is edited: the layout around a position (where a
scalar ends, whether a mapping is block or flow style), the edits that write values into a
mapping, and the check that an edited text loads as intended. Shared by the value fixes (fix.py)
and the structural ones (structural.py).
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import yaml

from ..edits import Edit, apply
from ..loader import LoadError, PosDict, load_all


@dataclass(frozen=True)
class Want:
    """A leaf to write: the template value, and the normalized value it must read back as."""

    value: Any
    normalized: Any
    read: Callable[[Any], Any]

    def met_by(self, have: Any) -> bool:
        """Already so (EnableKeyRotation: "true" reads as true): nothing to write."""
        return have is not None and not isinstance(have, (dict, list)) and self.read(have) == self.normalized


# -- reading the text around a position ---------------------------------------------------------
def is_intrinsic(value: Any) -> bool:
    """Ref/Fn::If/... decide the value only at deployment; Fn::Transform pulls in another file."""
    if not isinstance(value, dict):
        return False
    keys = [k for k in value if isinstance(k, str)]
    return any(k == "Ref" or k.startswith("Fn::") for k in keys) or keys == ["Condition"]


PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*")


def _scalar(text: str) -> Any:
    """What YAML reads text as (libyaml, as the loader: a finding per key parses one each)."""
    return yaml.load(text, Loader=yaml.CSafeLoader)


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


class Text:
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
        if isinstance(value, dict):   # an intrinsic: !Ref X and !GetAtt X.Y in YAML, else JSON (YAML flow too)
            return self.intrinsic(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        if quote == "'" and "'" not in value and not self.json:
            return f"'{value}'"
        if self.json or quote or not PLAIN.fullmatch(value) or not _same(_scalar(value), value):
            return json.dumps(value)
        return value

    def intrinsic(self, value: dict) -> str:
        ref, get = value.get("Ref"), value.get("Fn::GetAtt")
        if not self.json and len(value) == 1:
            if isinstance(ref, str) and PLAIN.fullmatch(ref):
                return f"!Ref {ref}"
            if isinstance(get, list) and len(get) == 2 and all(isinstance(p, str) and PLAIN.fullmatch(p) for p in get):
                return f"!GetAtt {get[0]}.{get[1]}"
        return json.dumps(value)

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
class Planner:
    def __init__(self, text: Text):
        self.t = text

    def mapping(self, mapping: Any, tree: dict, holder_line: int) -> list[Edit] | None:
        """Edits giving `mapping` (held by the key on holder_line) the values of tree."""
        if not isinstance(mapping, PosDict) or is_intrinsic(mapping):
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
            edits = joined([*edits, insert(mapping, missing, holder_line)])
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


def joined(edits: list[Edit]) -> list[Edit]:
    """Insertions at one place as one edit, their texts in the order planned, so that the order
    does not hang on how apply() sorts equal positions: a block mapping whose last value is a
    mapping that also grows ends on the same line (the inner mapping's lines first); a setting of
    a template's last resource comes before the resources a structural fix adds after it."""
    out: dict[tuple, Edit] = {}
    for e in edits:
        at = (e.line, e.column, e.end_line, e.end_column)
        if at in out and (e.line, e.column) == (e.end_line, e.end_column):
            out[at] = replace(out[at], text=out[at].text + e.text)
        else:
            out[at] = e
    return sorted(out.values())


# -- checking the result --------------------------------------------------------------------------
def plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def merged(doc: Any, tree: dict) -> Any:
    """What doc reads as once tree is written into it."""
    out = plain(doc)
    for key, want in tree.items():
        if isinstance(want, dict):
            out[key] = merged(out.get(key, {}), want)
        elif not want.met_by(out.get(key)):
            out[key] = want.value
    return out


def checks(text: str, edits: list[Edit], docs: list, changes: list[tuple[int, str, dict]]) -> bool:
    """The edited text loads, and differs from the original exactly by the wanted values
    (`changes`: document index, resource and the tree written into it)."""
    try:
        new = load_all(apply(text, edits).encode("utf-8"))
    except LoadError:
        return False
    expected = [plain(d) for d in docs]
    for index, resource, tree in changes:
        expected[index]["Resources"][resource] = merged(docs[index]["Resources"][resource], tree)
    return new == expected


def document(docs: list, resource: str) -> int | None:
    """The one document of the stream that defines the resource."""
    hits = [i for i, d in enumerate(docs)
            if isinstance(d, dict) and isinstance(d.get("Resources"), dict) and resource in d["Resources"]]
    return hits[0] if len(hits) == 1 else None


def past_bom(planned: list[list[Edit] | None]) -> list[list[Edit] | None]:
    """Edits planned on a text without its byte order mark, moved past it: libyaml's columns on
    line 1 do not count it."""
    return [None if edits is None else [
        replace(e, column=e.column + (e.line == 1), end_column=e.end_column + (e.end_line == 1)) for e in edits]
        for edits in planned]
