"""Text edits of HCL blocks, shared by the value fixes (fix.py) and the structural ones
(structural.py): a literal replaced in place, missing arguments and nested blocks inserted before
the block's closing brace with its siblings' indentation, and the module's other files read.
Positions come from hcl.py's blocks and attributes; whatever cannot be changed for certain gives None.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ..edits import Edit
from ..files import ReadError, read_bytes
from .hcl import Attr, Block, Expr, HclError, parse

# A resource address: type.name, behind module.NAME. prefixes, followed by [*] or ["key"] (count
# and for_each instances share their block).
ADDRESS = re.compile(r"^(?:module\.[\w-]+(?:\[[^\]]*\])?\.)*([\w-]+)\.([\w-]+)(?:\[[^\]]*\])?$")


_BARE_LF = re.compile(r"(?<!\r)\n")


def in_newlines_of(text: str, edits: list[Edit] | None) -> list[Edit] | None:
    """The edits with the line endings of the text they edit (a CRLF file stays CRLF)."""
    if not edits or "\r\n" not in text:
        return edits
    return [Edit(e.file, e.line, e.column, e.end_line, e.end_column, _BARE_LF.sub("\r\n", e.text)) for e in edits]


class Raw(str):
    """An HCL expression a fix writes as it is (a reference, a template, a list of references)."""


def literal(value) -> str:
    """A value as HCL writes it: true/false, numbers bare, strings quoted, Raw as it is."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(str(value)).replace("${", "$${").replace("%{", "%%{")


def is_literal(expr: Expr) -> bool:
    """A bool, null, number (negative too) or string without interpolation: safe to replace.
    Anything else (var., local., a conditional, a function call, a template) is left to its author."""
    node = expr.node
    if node.named_child_count != 1 or node.child_count != 1:
        return False
    inner = node.named_children[0]
    if inner.type == "operation":   # -1
        unary = inner.named_children[0]
        terms = unary.children
        return (unary.type == "unary_operation" and len(terms) == 2 and terms[0].type == "-"
                and terms[1].type == "literal_value" and terms[1].named_children[0].type == "numeric_lit")
    return inner.type == "literal_value"


def value_text(a: Attr, lines: list[str]) -> str:
    if a.value_line == a.end_line:
        return lines[a.value_line - 1][a.value_column - 1:a.end_column - 1]
    rows = lines[a.value_line - 1:a.end_line]
    return "\n".join([rows[0][a.value_column - 1:], *rows[1:-1], rows[-1][:a.end_column - 1]])


# -- edits of one block ------------------------------------------------------------------------
def block_edits(block: Block, lines: list[str], wanted: dict) -> list[Edit] | None:
    """Edits that give the block the (nested) settings; None if one of them cannot be made."""
    edits: list[Edit] = []
    missing: dict = {}
    for key, value in wanted.items():
        if isinstance(value, dict):
            if key in block.attrs or any(d.labels[:1] == [key] for d in block.children("dynamic")):
                # Written as an object value, or generated: not a block we can add a line to.
                return None
            found = block.children(key)
            if len(found) > 1:
                return None
            if not found:
                missing[key] = value
                continue
            inner = block_edits(found[0], lines, value)
        elif key in block.attrs:
            inner = replace_value(block.attrs[key], lines, value)
        else:
            missing[key] = value
            continue
        if inner is None:
            return None
        edits += inner
    if missing:
        added = insert(block, lines, missing)
        if added is None:
            return None
        edits.append(added)
    return edits


def replace_value(a: Attr, lines: list[str], value) -> list[Edit] | None:
    if not is_literal(a.expr):
        return None
    new = literal(value)
    if value_text(a, lines) == new:
        return []
    return [Edit(a.file, a.value_line, a.value_column, a.end_line, a.end_column, new)]


def indent_of(line: str) -> str:
    return line[:len(line) - len(line.lstrip(" \t"))]


def child_indent(block: Block, lines: list[str]) -> str:
    """The indentation of the block's first attribute or nested block, else two spaces deeper
    than the block (terraform fmt's step)."""
    firsts = [a.line for a in block.attrs.values()] + [b.line for b in block.blocks]
    if firsts:
        return indent_of(lines[min(firsts) - 1])
    return indent_of(lines[block.line - 1]) + "  "


def align(block: Block, lines: list[str]) -> int:
    """The width of the name of the attribute on the line just above the closing brace, padding
    included: a new line below it joins its alignment group as terraform fmt would write it."""
    prev = next((a for a in block.attrs.values() if a.line == block.end_line - 1), None)
    if prev is None:
        return 0
    line = lines[prev.line - 1]
    return line.index("=", prev.column - 1) - prev.column


def render_settings(wanted: dict, indent: str, step: str, width: int = 0) -> list[str]:
    """Lines of attributes and nested blocks, settings first (as a person would write them)."""
    out = []
    flat = [k for k, v in wanted.items() if not isinstance(v, dict)]
    width = max([width] + [len(k) for k in flat]) if len(flat) > 1 or width else 0
    for k in flat:
        out.append(f"{indent}{k.ljust(width)} = {literal(wanted[k])}")
    for k, v in wanted.items():
        if isinstance(v, dict):
            out += [f"{indent}{k} {{", *render_settings(v, indent + step, step), f"{indent}}}"]
    return out


def insert(block: Block, lines: list[str], missing: dict) -> Edit | None:
    """An insertion of the missing settings just before the block's closing brace."""
    brace = lines[block.end_line - 1]
    before = brace[:block.end_column - 2]
    indent = child_indent(block, lines)
    step = indent[len(indent_of(lines[block.line - 1])):] or "  "
    if before.strip() == "":   # the brace on a line of its own: new lines go above it
        width = align(block, lines)
        body = render_settings(missing, indent, step, width if width >= max(len(k) for k in missing) else 0)
        return Edit(block.file, block.end_line, 1, block.end_line, 1, "\n".join(body) + "\n")
    if block.attrs or block.blocks or not before.rstrip().endswith("{"):
        return None   # a one-line block with content: growing it means rewriting its layout
    own = indent_of(lines[block.line - 1])
    body = render_settings(missing, own + step, step)
    start = len(before.rstrip()) + 1
    return Edit(block.file, block.end_line, start, block.end_line, block.end_column - 1,
                "\n" + "\n".join(body) + "\n" + own)


def sibling_files(file: str) -> list[tuple[Block, str]]:
    """The other .tf files of the file's module (on disk, when the file is), parsed, with their
    text; those that cannot be read or parsed are left out."""
    here = Path(file)
    try:
        siblings = sorted(p for p in here.parent.glob("*.tf") if p.name != here.name)
    except OSError:
        return []
    inside = (os.path.realpath(here.parent),)   # a sibling linked elsewhere is not read
    out = []
    for path in siblings:
        try:
            text = read_bytes(str(path), roots=inside).decode("utf-8")
            out.append((parse(text, str(path)), text))
        except (ReadError, UnicodeDecodeError, HclError):
            continue
    return out
