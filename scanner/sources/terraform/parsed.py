"""Parsed HCL files kept for the next module that reads them.

A module called from several roots (a repository's examples/ all calling ../..) is read once
per caller; parsing and building the blocks are a third of the time spent on Terraform, so
each process keeps the files it parsed last. Blocks are never changed after parsing, so sharing
them is safe. The budget is in bytes of source, which keeps memory flat however many files a
scan holds. The tree is kept with them (the blocks' expressions hold it anyway), so that the
suppression comments of a file just read are found without parsing it again.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict

from tree_sitter import Node

from .hcl import Block, HclError, Source, blocks, comment_tokens, comments, parse_tree

BUDGET = 128 * 1024   # bytes of HCL text whose parse results are kept: measured sweet spot of time and memory

_Kept = tuple[Block | None, HclError | None, int, tuple[Node, Source] | None]
_kept: OrderedDict[tuple[str, bytes], _Kept] = OrderedDict()
_size = 0


def _key(text: str, file: str) -> tuple[str, bytes]:
    return file, hashlib.sha1(text.encode("utf-8", "surrogatepass")).digest()


def _parse(text: str, file: str) -> _Kept:
    try:
        tree = parse_tree(text)
    except HclError as exc:
        return None, exc, len(text), None
    return blocks(*tree, file), None, len(text), tree


def parse_kept(text: str, file: str) -> Block:
    """hcl.parse(text, file), or the same result kept from an earlier call with the same text."""
    global _size
    key = _key(text, file)
    if key in _kept:
        _kept.move_to_end(key)
        block, error, _, _ = _kept[key]
    else:
        block, error, _, _ = _kept[key] = _parse(text, file)
        _size += len(text)
        while _size > BUDGET and len(_kept) > 1:
            _size -= _kept.popitem(last=False)[1][2]
    if error is not None:
        raise HclError(str(error), error.line)   # a fresh one: re-raising would grow its traceback
    return block


def comment_tokens_kept(text: str, file: str) -> list[tuple[int, int, str]]:
    """hcl.comment_tokens(text), from the tree parse_kept keeps for the same file and text."""
    kept = _kept.get(_key(text, file))
    if kept is not None and kept[3] is not None:
        return comments(*kept[3])
    return comment_tokens(text)
