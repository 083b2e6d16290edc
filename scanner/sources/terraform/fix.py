"""A rule's fix (`fix.set`, normalized attributes) as edits of one Terraform file.

Where each normalized attribute is written comes from the attribute maps the reader uses
(builder.TYPES, and builder.HELPERS for a bucket's helper resources). Edits are as small as the
change (text.py makes them): a literal value is replaced in place, a missing attribute or nested
block is inserted before its block's closing brace with the indentation of its siblings, and
nothing else (comments, alignment, layout) is touched; whatever this module cannot change for
certain gives None.
"""
from __future__ import annotations

import re

from ..edits import Edit
from . import s3
from .builder import HELPERS, TYPES
from .hcl import Block, HclError, parse
from .text import ADDRESS as _ADDRESS, block_edits, in_newlines_of, literal, replace_value, sibling_files, value_text

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
    return [in_newlines_of(text, _edits(root, text, address, values)) for address, values in requests]


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
    return None if wanted is None else block_edits(block, lines, wanted)


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
    return re.search(rf"(?<![\w.-]){re.escape(type_)}\.{re.escape(name)}(?![\w-])", value_text(a, lines)) is not None


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
        return block_edits(helpers[0], lines, values)
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
    name = bucket.labels[1]
    return any(_helpers(root, helper_type, name, text.splitlines()) or _resource(root, helper_type, name)
               for root, text in sibling_files(bucket.file))


def _new_public_access_block(bucket: Block, text: str, values: dict) -> Edit:
    """A public access block for the bucket at the end of the file; for a bucket with count or
    for_each, one per instance."""
    type_, name = bucket.labels
    lines = text.splitlines()
    head: dict = {}
    if bucket.attr("count") is not None:
        head["count"] = value_text(bucket.attrs["count"], lines)
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
        return replace_value(bucket.attrs["acl"], lines, acl)
    helpers = _helpers(root, BUCKET_ACL, name, lines)
    if len(helpers) != 1 or helpers[0].attr("acl") is None or helpers[0].blocks:
        return None
    return replace_value(helpers[0].attrs["acl"], lines, acl)
