"""Parsed HCL files kept for the next module that reads them.

A module called from several roots (a repository's examples/ all calling ../..) is read once
per caller; parsing and building the blocks are a third of the time spent on Terraform, so
each process keeps the files it parsed last. Blocks are never changed after parsing, so sharing
them is safe. The budget is in bytes of source, which keeps memory flat however many files a
scan holds.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict

from .hcl import Block, HclError, parse

BUDGET = 128 * 1024   # bytes of HCL text whose parse results are kept: measured sweet spot of time and memory

_kept: OrderedDict[tuple[str, bytes], tuple[Block | None, HclError | None, int]] = OrderedDict()
_size = 0


def parse_kept(text: str, file: str) -> Block:
    """parse(text, file), or the same result kept from an earlier call with the same text."""
    global _size
    key = (file, hashlib.sha1(text.encode("utf-8", "surrogatepass")).digest())
    if key in _kept:
        _kept.move_to_end(key)
        block, error, _ = _kept[key]
    else:
        try:
            block, error = parse(text, file), None
        except HclError as exc:
            block, error = None, exc
        _kept[key] = (block, error, len(text))
        _size += len(text)
        while _size > BUDGET and len(_kept) > 1:
            _size -= _kept.popitem(last=False)[1][2]
    if error is not None:
        raise HclError(str(error), error.line)   # a fresh one: re-raising would grow its traceback
    return block
