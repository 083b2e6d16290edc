"""A rule's fix (`fix.set`, normalized attributes) as edits of one Terraform file.

Where each normalized attribute is written comes from the attribute maps the reader uses
(builder.TYPES, and builder.HELPERS for a bucket's helper resources). Edits are as small as the change: a literal value is replaced in place, a
missing attribute or nested block is inserted before its block's closing brace with the
indentation of its siblings, and nothing else (comments, alignment, layout) is touched. Positions
come from hcl.py's blocks and attributes; whatever this module cannot change for certain gives None.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ..edits import Edit
from ..files import ReadError, read_bytes
from . import s3
from .builder import HELPERS, TYPES
from .hcl import Attr, Block, Expr, HclError, parse

# The helper resources that hold a bucket's settings, and the bucket settings they hold.
PUBLIC_ACCESS_BLOCK, BUCKET_ACL = s3.PUBLIC_ACCESS_BLOCK, s3.BUCKET_ACL
BPA_SETTINGS = tuple(HELPERS[PUBLIC_ACCESS_BLOCK].attrs)


def fix_paths(type_: str, attrs) -> dict[str, tuple[str, ...]] | None:
    """The HCL path (nested block names, then the argument) where a fix writes each attribute
    in a resource of type_, from the attribute maps the reader uses; None if one has none."""
    spec = TYPES.get(type_) or HELPERS.get(type_)
    paths = {attr: spec.fix_path(attr) for attr in attrs} if spec is not None else {}
    if spec is None or None in paths.values():
        return None
    return {attr: a.path for attr, a in paths.items()}


def _fix_values(type_: str, values: dict, block: Block) -> dict | None:
    """The nested HCL settings that write the normalized values in a block of type_ (each
    through its map entry's writer: days as a rate() where the block writes a schedule)."""
    spec = TYPES.get(type_) or HELPERS.get(type_)
    flat = {}
    for attr, value in values.items():
        a = spec.fix_path(attr, lambda path: _writes(block, path)) if spec is not None else None
        if a is None:
            return None
        try:
            flat[a.path] = a.conv.write(value)
        except TypeError:
            return None
    return _tree(flat)


def _writes(block: Block, path: tuple) -> bool:
    """Whether the block writes the nested argument at path (blocks, then the argument)."""
    for part in path[:-1]:
        found = block.children(part)
        if len(found) != 1:
            return False
        block = found[0]
    return block.attr(path[-1]) is not None


_ADDRESS = re.compile(r"^(?:module\.[\w-]+(?:\[[^\]]*\])?\.)*([\w-]+)\.([\w-]+)(?:\[[^\]]*\])?$")


def edits_for(file: str, text: str, address: str, values: dict) -> list[Edit] | None:
    """Edits of one .tf file that give the resource block `address` (type.name, optionally behind
    module.NAME. prefixes and followed by [*] or ["key"]: count and for_each instances share their
    block) the normalized attribute `values`. An empty list when the block already has them; None
    when the change cannot be made safely here: the block is not in this file, an attribute has
    no known HCL path for the type, a value in the way is an expression, a block on the path is
    dynamic or repeated, or a bucket setting lives in a helper resource this file does not hold."""
    return edits_for_many(file, text, [(address, values)])[0]


def edits_for_many(file: str, text: str, requests: list[tuple[str, dict]]) -> list[list[Edit] | None]:
    """edits_for of each (address, values), each against the same text, parsed once."""
    try:
        root = parse(text, file)
    except HclError:
        return [None] * len(requests)
    return [_edits(root, text, address, values) for address, values in requests]


def _edits(root: Block, text: str, address: str, values: dict) -> list[Edit] | None:
    match = _ADDRESS.match(address)
    if not match:
        return None
    type_, name = match.groups()
    block = _resource(root, type_, name)
    if type_ == "aws_s3_bucket":   # its settings may live in helpers, which this file may hold alone
        return _bucket_edits(root, name, block, text, values)
    if block is None or not values:
        return None if block is None else []
    lines = text.splitlines()
    if fix_paths(type_, values) is None:   # written by a helper (a secret's rotation): there
        block, type_ = _helper_for(root, type_, name, values, lines)
        if block is None:
            return None
    wanted = _fix_values(type_, values, block)
    return None if wanted is None else _block_edits(block, lines, wanted)


def _helper_for(root: Block, type_: str, name: str, values: dict, lines: list[str]) -> tuple[Block | None, str]:
    """The one helper resource of this file that configures type_.name and writes the values."""
    for helper_type, spec in HELPERS.items():
        if spec.of is None or spec.kind != TYPES.get(type_, spec).kind or fix_paths(helper_type, values) is None:
            continue
        found = [b for b in root.children("resource") if len(b.labels) == 2 and b.labels[0] == helper_type
                 and _refers_to(b, spec.of, lines, type_, name)]
        return (found[0], helper_type) if len(found) == 1 else (None, "")
    return None, ""


# -- finding blocks ----------------------------------------------------------------------------
def _resource(root: Block, type_: str, name: str) -> Block | None:
    return next((b for b in root.children("resource") if b.labels == [type_, name]), None)


def _refers_to(block: Block, attr: str, lines: list[str], type_: str, name: str) -> bool:
    """Whether the block's attribute is an expression naming the resource type.name (its .id,
    .bucket, an instance of it)."""
    a = block.attr(attr)
    if a is None:
        return False
    return re.search(rf"(?<![\w.-]){re.escape(type_)}\.{re.escape(name)}(?![\w-])", _value_text(a, lines)) is not None


def _helpers(root: Block, helper_type: str, bucket_name: str, lines: list[str]) -> list[Block]:
    """The file's resources of the helper type whose `bucket` names aws_s3_bucket.bucket_name."""
    return [b for b in root.children("resource") if len(b.labels) == 2 and b.labels[0] == helper_type
            and _refers_to(b, "bucket", lines, "aws_s3_bucket", bucket_name)]


# -- values ------------------------------------------------------------------------------------
def _tree(flat: dict[tuple[str, ...], object]) -> dict:
    """{("a", "b"): 1, ("a", "c"): 2} -> {"a": {"b": 1, "c": 2}}: settings of one nested block
    are written into one block, even when that block is created."""
    out: dict = {}
    for path, value in flat.items():
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return out


def literal(value) -> str:
    """A value as HCL writes it: true/false, numbers bare, strings quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(str(value)).replace("${", "$${").replace("%{", "%%{")


def _is_literal(expr: Expr) -> bool:
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


def _value_text(a: Attr, lines: list[str]) -> str:
    if a.value_line == a.end_line:
        return lines[a.value_line - 1][a.value_column - 1:a.end_column - 1]
    rows = lines[a.value_line - 1:a.end_line]
    return "\n".join([rows[0][a.value_column - 1:], *rows[1:-1], rows[-1][:a.end_column - 1]])


# -- edits of one block ------------------------------------------------------------------------
def _block_edits(block: Block, lines: list[str], wanted: dict) -> list[Edit] | None:
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
            inner = _block_edits(found[0], lines, value)
        elif key in block.attrs:
            inner = _replace(block.attrs[key], lines, value)
        else:
            missing[key] = value
            continue
        if inner is None:
            return None
        edits += inner
    if missing:
        insert = _insert(block, lines, missing)
        if insert is None:
            return None
        edits.append(insert)
    return edits


def _replace(a: Attr, lines: list[str], value) -> list[Edit] | None:
    if not _is_literal(a.expr):
        return None
    new = literal(value)
    if _value_text(a, lines) == new:
        return []
    return [Edit(a.file, a.value_line, a.value_column, a.end_line, a.end_column, new)]


def _indent_of(line: str) -> str:
    return line[:len(line) - len(line.lstrip(" \t"))]


def _child_indent(block: Block, lines: list[str]) -> str:
    """The indentation of the block's first attribute or nested block, else two spaces deeper
    than the block (terraform fmt's step)."""
    firsts = [a.line for a in block.attrs.values()] + [b.line for b in block.blocks]
    if firsts:
        return _indent_of(lines[min(firsts) - 1])
    return _indent_of(lines[block.line - 1]) + "  "


def _align(block: Block, lines: list[str]) -> int:
    """The width of the name of the attribute on the line just above the closing brace, padding
    included: a new line below it joins its alignment group as terraform fmt would write it."""
    prev = next((a for a in block.attrs.values() if a.line == block.end_line - 1), None)
    if prev is None:
        return 0
    line = lines[prev.line - 1]
    return line.index("=", prev.column - 1) - prev.column


def _render(wanted: dict, indent: str, step: str, width: int = 0) -> list[str]:
    """Lines of attributes and nested blocks, settings first (as a person would write them)."""
    out = []
    flat = [k for k, v in wanted.items() if not isinstance(v, dict)]
    width = max([width] + [len(k) for k in flat]) if len(flat) > 1 or width else 0
    for k in flat:
        out.append(f"{indent}{k.ljust(width)} = {literal(wanted[k])}")
    for k, v in wanted.items():
        if isinstance(v, dict):
            out += [f"{indent}{k} {{", *_render(v, indent + step, step), f"{indent}}}"]
    return out


def _insert(block: Block, lines: list[str], missing: dict) -> Edit | None:
    """An insertion of the missing settings just before the block's closing brace."""
    brace = lines[block.end_line - 1]
    before = brace[:block.end_column - 2]
    indent = _child_indent(block, lines)
    step = indent[len(_indent_of(lines[block.line - 1])):] or "  "
    if before.strip() == "":   # the brace on a line of its own: new lines go above it
        width = _align(block, lines)
        body = _render(missing, indent, step, width if width >= max(len(k) for k in missing) else 0)
        return Edit(block.file, block.end_line, 1, block.end_line, 1, "\n".join(body) + "\n")
    if block.attrs or block.blocks or not before.rstrip().endswith("{"):
        return None   # a one-line block with content: growing it means rewriting its layout
    own = _indent_of(lines[block.line - 1])
    body = _render(missing, own + step, step)
    start = len(before.rstrip()) + 1
    return Edit(block.file, block.end_line, start, block.end_line, block.end_column - 1,
                "\n" + "\n".join(body) + "\n" + own)


# -- buckets: settings in helper resources ------------------------------------------------------
def _bucket_edits(root: Block, name: str, bucket: Block | None, text: str, values: dict) -> list[Edit] | None:
    """A bucket's settings, where they are written. `bucket` is None when its block is in another
    file: the finding then points at a helper of this file, which is edited if it is here."""
    lines = text.splitlines()
    bpa = {k: v for k, v in values.items() if k in BPA_SETTINGS}
    rest = {k: v for k, v in values.items() if k not in BPA_SETTINGS}
    if any(k != "acl" for k in rest):
        return None
    edits: list[Edit] = []
    for part in (_public_access_edits(root, name, bucket, text, bpa) if bpa else [],
                 _acl_edits(root, name, bucket, lines, rest["acl"]) if rest else []):
        if part is None:
            return None
        edits += part
    return edits


def _public_access_edits(root: Block, name: str, bucket: Block | None, text: str,
                         values: dict) -> list[Edit] | None:
    lines = text.splitlines()
    helpers = _helpers(root, PUBLIC_ACCESS_BLOCK, name, lines)
    if len(helpers) > 1:
        return None
    if helpers:
        return _block_edits(helpers[0], lines, values)
    if bucket is None:
        return None
    if _resource(root, PUBLIC_ACCESS_BLOCK, name) is not None:
        return None   # the name a new block would take is used (for another bucket)
    if _in_sibling_file(bucket, PUBLIC_ACCESS_BLOCK):
        return None   # a second block for the bucket would fight the first; that file is the one to edit
    return [_new_public_access_block(bucket, text, values)]


def _in_sibling_file(bucket: Block, helper_type: str) -> bool:
    """Whether another .tf file of the bucket's module (on disk, when the file is) holds a helper
    of that type for it, or a resource with the name a new one would take."""
    here = Path(bucket.file)
    try:
        siblings = [p for p in here.parent.glob("*.tf") if p.name != here.name]
    except OSError:
        return False
    inside = (os.path.realpath(here.parent),)   # a sibling linked elsewhere is not read
    for path in siblings:
        try:
            text = read_bytes(str(path), roots=inside).decode("utf-8")
            root = parse(text, str(path))
        except (ReadError, UnicodeDecodeError, HclError):
            continue
        name = bucket.labels[1]
        if _helpers(root, helper_type, name, text.splitlines()) or _resource(root, helper_type, name):
            return True
    return False


def _new_public_access_block(bucket: Block, text: str, values: dict) -> Edit:
    """A public access block for the bucket at the end of the file; for a bucket with count or
    for_each, one per instance."""
    type_, name = bucket.labels
    lines = text.splitlines()
    head: dict = {}
    if bucket.attr("count") is not None:
        head["count"] = _value_text(bucket.attrs["count"], lines)
        head["bucket"] = f"{type_}.{name}[count.index].id"
    elif bucket.attr("for_each") is not None:
        head["for_each"] = f"{type_}.{name}"
        # Not each.value.id: the scan cannot tell which bucket each.value is, and would still warn.
        head["bucket"] = f"{type_}.{name}[each.key].id"
    else:
        head["bucket"] = f"{type_}.{name}.id"
    width = max(len(k) for k in [*head, *values])
    body = [f"  {k.ljust(width)} = {v}" for k, v in head.items()]
    body += [f"  {k.ljust(width)} = {literal(v)}" for k, v in values.items()]
    block = "\n".join([f'resource "{PUBLIC_ACCESS_BLOCK}" "{name}" {{', *body, "}"]) + "\n"
    # One blank line between the last block and the new one, however the file ends.
    trailing = len(text) - len(text.rstrip("\n"))
    lead = "\n" * max(0, 2 - trailing) if text.strip() else ""
    end = len(lines) + 1
    return Edit(bucket.file, end, 1, end, 1, lead + block)


def _acl_edits(root: Block, name: str, bucket: Block | None, lines: list[str], acl) -> list[Edit] | None:
    """The canned ACL where it is written: on the bucket (provider < 4) or its aws_s3_bucket_acl.
    Grants (which a canned ACL cannot replace in place) and an ACL this file does not hold: None."""
    if bucket is not None and (bucket.children("grant") or bucket.children("dynamic")):
        return None
    if bucket is not None and bucket.attr("acl") is not None:
        return _replace(bucket.attrs["acl"], lines, acl)
    helpers = _helpers(root, BUCKET_ACL, name, lines)
    if len(helpers) != 1 or helpers[0].attr("acl") is None or helpers[0].blocks:
        return None
    return _replace(helpers[0].attrs["acl"], lines, acl)
