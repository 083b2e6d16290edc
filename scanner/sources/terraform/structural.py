"""Structural fixes of Terraform modules (`fix.add`): resources added, arguments written into
existing blocks, expressions replaced, as text edits of the finding's file with the same rules as
value fixes (fix.py).

New blocks go at the end of the finding's file, after a comment naming the fix, in terraform
fmt's layout: the file a reviewer opens for the finding is the one that changes, and the fix
stays one diff of one file (a new file would be a second place to look, and one the plan would
have to create). Each added block is skipped where the module (any of its .tf files) already has
one of that type and name. Arguments go through fix.py's block edits. Every result is checked by
reading the edited text again: it must parse, and read as the original with exactly the pattern's
changes (blocks, arguments and the tokens of every expression), or the fix is declined (None).
"""
from __future__ import annotations

import re
from typing import Any

from tree_sitter import Node

from ..edits import Edit, apply
from .text import ADDRESS, block_edits, in_newlines_of, literal, sibling_files
from .hcl import Block, HclError, parse
from .patterns import PATTERNS, Change, Json, Module, Nested, Replace, Statements

STEP = "  "   # terraform fmt's indentation
_IDENT = re.compile(r"^[A-Za-z_][\w-]*$")


# -- rendering ---------------------------------------------------------------------------------
def _scalar(value: Any) -> bool:
    return not isinstance(value, (dict, list, Json, Statements))


def _key(key: str) -> str:
    return key if _IDENT.match(key) else literal(key)


def render(value: Any, indent: str) -> str:
    """A value as an HCL expression starting at indent (its later lines indented from there)."""
    inner = indent + STEP
    if isinstance(value, Json):
        return f"jsonencode({render(value.value, indent)})"
    if isinstance(value, Statements):
        items = [_reindent(text, column, len(inner) + 1) for text, column in zip(value.kept, value.columns)]
        items += [render(s, inner) for s in value.new]
        return "[\n" + "".join(f"{inner}{item},\n" for item in items) + f"{indent}]"
    if isinstance(value, list):
        if all(_scalar(v) for v in value):
            return "[" + ", ".join(render(v, indent) for v in value) + "]"
        return "[\n" + "".join(f"{inner}{render(v, inner)},\n" for v in value) + f"{indent}]"
    if isinstance(value, dict):
        if len(value) == 1 and all(_scalar(v) for v in value.values()):
            (k, v), = value.items()
            return f"{{ {_key(k)} = {render(v, indent)} }}"
        return "{\n" + "".join(line + "\n" for line in body(value, inner)) + f"{indent}}}"
    return literal(value)


def _reindent(text: str, column: int, new_column: int) -> str:
    """A kept expression's text moved from column to new_column: its later lines shift as much."""
    first, *rest = text.split("\n")
    shift = new_column - column
    moved = [(" " * shift + line) if shift >= 0 else line[min(-shift, len(line) - len(line.lstrip(" "))):]
             for line in rest]
    return "\n".join([first, *moved])


def body(values: dict, indent: str) -> list[str]:
    """The lines of a block's body: arguments first, each run of one-line ones aligned on = as
    terraform fmt aligns them, then nested blocks."""
    args = [(k, v) for k, v in values.items() if not _blocks(v)]
    out: list[str] = []
    rendered = [(k, render(v, indent)) for k, v in args]
    run: list[tuple[str, str]] = []

    def flush():
        width = max((len(_key(k)) for k, _ in run), default=0)
        out.extend(f"{indent}{_key(k).ljust(width)} = {text}" for k, text in run)
        run.clear()
    for k, text in rendered:
        if "\n" in text:
            flush()
            out.append(f"{indent}{_key(k)} = {text}")
        else:
            run.append((k, text))
    flush()
    for k, v in values.items():
        for nested in _blocks(v):
            out += [f"{indent}{k} {{", *body(nested, indent + STEP), f"{indent}}}"]
    return out


def _blocks(value: Any) -> list[Nested]:
    if isinstance(value, Nested):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, Nested) for v in value):
        return value
    return []


def top_block(kind: str, type_: str, name: str, values: dict) -> str:
    head = f'{kind} "{type_}" "{name}" {{'
    return head + "}" if not values else "\n".join([head, *body(values, STEP), "}"])


# -- edits -------------------------------------------------------------------------------------
def _appended(text: str, blocks: list[str], pattern: str) -> Edit:
    """The blocks at the end of the file, one blank line after its last, however it ends."""
    lines = text.splitlines()
    trailing = len(text) - len(text.rstrip("\n"))
    lead = "\n" * max(0, 2 - trailing) if text.strip() else ""
    new = "\n\n".join(blocks)
    return Edit("", len(lines) + 1, 1, len(lines) + 1, 1, f"{lead}# Added by certwarden fix ({pattern})\n{new}\n")


def _replaced(r: Replace, lines: list[str], src) -> Edit:
    line, column = src.start(r.node)
    end_line, end_column = src.end(r.node)
    indent = lines[line - 1][:len(lines[line - 1]) - len(lines[line - 1].lstrip(" \t"))]
    return Edit("", line, column, end_line, end_column, render(r.value, indent))


def _edits(module: Module, text: str, change: Change, pattern: str, file: str) -> tuple[list[Edit], dict] | None:
    """The change's edits, and the blocks added (key -> body); None where one cannot be made."""
    lines = text.splitlines()
    edits: list[Edit] = []
    for address, values in change.set.items():
        block = module.resource(address)
        got = block_edits(block, lines, values) if block is not None else None
        if got is None:
            return None
        edits += got
    for r in change.replace:
        block = module.resource(r.address)
        a = block.attr(r.attr) if block is not None else None
        if a is None:
            return None
        new = _expression_tokens(render(r.value, ""))
        if new is None:
            return None
        if new != _tokens(r.node, a.expr.source):
            edits.append(_replaced(r, lines, a.expr.source))
    added = {key: body_ for key, body_ in change.add.items() if module.find(*key) is None}
    if added:
        edits.append(_appended(text, [top_block(*key, body_) for key, body_ in added.items()], pattern))
    return [Edit(file, e.line, e.column, e.end_line, e.end_column, e.text) for e in edits], added


# -- checking ----------------------------------------------------------------------------------
def _tokens(node: Node, src, skip: tuple[int, int] | None = None) -> tuple:
    """The texts of the node's tokens, comments left out (layout does not count)."""
    out, todo = [], [node]
    while todo:
        n = todo.pop()
        if n.type == "comment" or (skip and skip[0] <= n.start_byte and n.end_byte <= skip[1]):
            continue
        if n.child_count == 0:
            out.append(src.text(n))
        else:
            todo.extend(reversed(n.children))
    return tuple(out)


def _expression_tokens(expr: str) -> tuple | None:
    try:
        a = parse(f"x = {expr}\n", "").attrs["x"]
    except (HclError, KeyError):
        return None
    return _tokens(a.expr.node, a.expr.source)


def _canon(block: Block) -> dict:
    """A block as data: its labels, its arguments' tokens, its nested blocks in order."""
    return {"head": (block.type, *block.labels),
            "attrs": {n: _tokens(a.expr.node, a.expr.source) for n, a in block.attrs.items()},
            "blocks": [_canon(b) for b in block.blocks]}


def _set(into: dict, values: dict) -> bool:
    for key, value in values.items():
        if isinstance(value, dict):
            found = [b for b in into["blocks"] if b["head"] == (key,)]
            if len(found) > 1:
                return False
            if found:
                if not _set(found[0], value):
                    return False
                continue
            into["blocks"].append({"head": (key,), "attrs": {}, "blocks": []})
            if not _set(into["blocks"][-1], value):
                return False
        else:
            tokens = _expression_tokens(literal(value))
            if tokens is None:
                return False
            into["attrs"][key] = tokens
    return True


def _expected(root: Block, change: Change, added: dict) -> dict | None:
    """The original file as data with exactly the change made."""
    out = _canon(root)
    heads = {b["head"]: b for b in out["blocks"]}
    for address, values in change.set.items():
        if not _set(heads[("resource", *address.split(".", 1))], values):
            return None
    for r in change.replace:
        attr = next(b for b in root.children("resource") if b.labels == r.address.split(".", 1)).attrs[r.attr]
        src = attr.expr.source
        before = _tokens(attr.expr.node, src, (r.node.start_byte, attr.expr.node.end_byte))
        after = _tokens(attr.expr.node, src, (attr.expr.node.start_byte, r.node.end_byte))
        new = _expression_tokens(render(r.value, ""))
        if new is None or before + _tokens(r.node, src) + after != _tokens(attr.expr.node, src):
            return None
        heads[("resource", *r.address.split(".", 1))]["attrs"][r.attr] = before + new + after
    if added:
        try:
            snippet = parse("\n\n".join(top_block(*k, v) for k, v in added.items()) + "\n", "")
        except HclError:
            return None
        out["blocks"] += _canon(snippet)["blocks"]
    return out


# -- entry -------------------------------------------------------------------------------------
def edits_for_many(file: str, text: str, requests: list[tuple[str, str]]) -> list[list[Edit] | None]:
    """The edits of each (address, pattern name) request, each planned and checked alone on the
    same text; [] when the module already has what the pattern adds."""
    try:
        root = parse(text, file)
    except HclError:
        return [None] * len(requests)
    module = Module(root, [r for r, _ in sibling_files(file)])
    return [_one(module, file, text, address, pattern) for address, pattern in requests]


def _one(module: Module, file: str, text: str, address: str, pattern: str) -> list[Edit] | None:
    match = ADDRESS.match(address)
    if pattern not in PATTERNS:   # hosted-rotation: Terraform has no AWS-hosted rotation resource
        return None
    change = PATTERNS[pattern](module, ".".join(match.groups())) if match else None
    if change is None:
        return None
    got = _edits(module, text, change, pattern, file)
    if got is None:
        return None
    edits, added = got
    if not edits:
        return []
    edits = in_newlines_of(text, edits)
    try:
        fixed = parse(apply(text, edits), file)
    except HclError:
        return None
    return edits if _canon(fixed) == _expected(module.root, change, added) else None
