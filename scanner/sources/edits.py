"""A text edit to an input file: how a fix reaches a template (see scanner/fixes.py).

Each template adapter turns a rule's normalized fix (`fix.set`, e.g. {rotation_enabled: true})
into edits of its own text, because only it knows where the attribute lives in its format:
sources/cloudformation/fix.py for CloudFormation YAML and JSON, sources/terraform/fix.py for
Terraform.
"""
from __future__ import annotations

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
    """The text with the edits made (they must not overlap), from the last to the first."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for ln in lines:
        starts.append(starts[-1] + len(ln))

    def offset(line: int, column: int) -> int:
        return starts[min(line, len(lines) + 1) - 1] + column - 1 if line <= len(lines) else len(text)
    for e in sorted(edits, reverse=True):
        text = text[:offset(e.line, e.column)] + e.text + text[offset(e.end_line, e.end_column):]
    return text
