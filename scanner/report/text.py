"""Text for people: findings grouped by file, a one-line summary. Every value from the scan is
passed through escape.plain, every line through escape.line (the output lands in CI logs)."""
from __future__ import annotations

from collections import Counter
from itertools import groupby

from ..findings import ScanResult
from .escape import line, plain

_COLORS = {"critical": "\033[1;31m", "high": "\033[31m", "medium": "\033[33m", "low": "\033[36m", "info": "\033[2m"}
_RESET = "\033[0m"
ORDER = ("critical", "high", "medium", "low", "info")


def render(result: ScanResult, color: bool = False, show_suppressed: bool = False, quiet: bool = False) -> str:
    def paint(sev: str, text: str) -> str:
        return f"{_COLORS[sev]}{text}{_RESET}" if color else text

    lines: list[str] = []
    shown = [f for f in result.findings if show_suppressed or not f.suppressed]
    key = lambda f: plain(f.where.file or f.where.arn or "?")  # noqa: E731
    for file, group in groupby(sorted(shown, key=lambda f: (key(f), f.where.line, f.where.column, f.code)), key=key):
        if not quiet:
            lines.append(file)
        for f in group:
            pos = f"{f.where.line}:{f.where.column}" if f.where.line else (f.where.region or "-")
            pos = plain(pos)
            reason = plain(f.suppressions[0].get("justification", "")) if f.suppressed else ""
            mark = f" (suppressed: {reason})" if f.suppressed else " (review)" if f.review else ""
            message = plain(f.message)
            if quiet:
                lines.append(f"{file}:{pos}: {f.code} {message}{mark}")
            else:
                lines.append(f"  {pos:<8} {paint(f.severity, f'{f.severity:<8}')} {f.code} {f.name}  "
                             f"{plain(f.resource)}{mark}")
                lines.append(f"           {message}")
    if not quiet and shown:
        lines.append("")
    for err in result.errors:
        lines.append(f"error: {plain(err)}")
    active = [f for f in result.findings if not f.suppressed]
    counts = Counter(f.severity for f in active)
    parts = ", ".join(f"{counts[s]} {s}" for s in ORDER if counts[s])
    places = len({key(f) for f in active})
    noun, read = ("resource", "service-regions read") if result.live else ("file", "scanned")
    summary = (f"{len(active)} finding{'s' * (len(active) != 1)}" + (f" ({parts})" if parts else "")
               + f" in {places} {noun}{'s' * (places != 1)}; {result.scanned} {read}")
    suppressed = len(result.findings) - len(active)
    if suppressed:
        summary += f", {suppressed} suppressed"
    if result.baseline and result.baseline["matched"]:
        summary += f", {result.baseline['matched']} in baseline"
    if result.errors:
        summary += f", {len(result.errors)} error{'s' * (len(result.errors) != 1)}"
    if not quiet or active or result.errors:
        lines.append(summary)
    return "".join(line(text) + "\n" for text in lines)
