"""A text edit to an input file: how a fix reaches a template (see scanner/fixes.py).

Each template adapter turns a rule's normalized fix (`fix.set`, e.g. {rotation_enabled: true})
into edits of its own text, because only it knows where the attribute lives in its format:
sources/cloudformation/fix.py for CloudFormation YAML and JSON, sources/terraform/fix.py for
Terraform.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Edit:
    """Replace the text from (line, column) up to (end_line, end_column), exclusive, by `text`.
    Lines and columns are 1-based; an insertion has its end equal to its start."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    text: str


def apply(text: str, edits: list[Edit]) -> str:
    """The text with the edits made (they must not overlap), in one pass over the text."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for ln in lines:
        starts.append(starts[-1] + len(ln))

    def offset(line: int, column: int) -> int:
        return starts[min(line, len(lines) + 1) - 1] + column - 1 if line <= len(lines) else len(text)
    pieces, at = [], len(text)
    for e in sorted(edits, reverse=True):   # from the last to the first, as one edit after another
        start, end = offset(e.line, e.column), offset(e.end_line, e.end_column)
        pieces += [text[max(end, 0):at] if end < at else "", e.text]
        at = min(at, start)
    pieces.append(text[:at])
    return "".join(reversed(pieces))


def layers(items: list[tuple[int, list[Edit], object]]) -> list[list[int]]:
    """(id, edits, key) grouped into layers whose edits can be made together: in each layer no
    two items share a key (a resource) and no two edits overlap or meet (two insertions at one
    place: their order would hang on how apply() sorts them). Items keep their order, first fit."""
    out: list[tuple[list[int], set, list]] = []   # ids, keys, the layer's spans sorted
    for ident, edits, key in items:
        spans = sorted(((e.line, e.column), (e.end_line, e.end_column)) for e in edits)
        layer = next((lay for lay in out if key not in lay[1] and not any(_meets(lay[2], s) for s in spans)), None)
        if layer is None:
            layer = ([], set(), [])
            out.append(layer)
        layer[0].append(ident)
        layer[1].add(key)
        for span in spans:
            bisect.insort(layer[2], span)
    return [ids for ids, _, _ in out]


def _meets(spans: list, span: tuple) -> bool:
    """Whether span overlaps or meets one of spans (sorted, none overlapping another)."""
    i = bisect.bisect_left(spans, span)
    return (i > 0 and spans[i - 1][1] >= span[0]) or (i < len(spans) and spans[i][0] <= span[1])
