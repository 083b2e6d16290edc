"""Markdown for people reading a pull request: a summary line and a table, sized for a PR
comment or $GITHUB_STEP_SUMMARY (GitHub caps both at about 65,000 characters). Values from the
scan go through escape.markdown: they render as text, never as HTML or Markdown syntax."""
from __future__ import annotations

from collections import Counter

from ..findings import Finding, ScanResult
from . import relative_uri, root_of
from .escape import markdown as md

ORDER = ("critical", "high", "medium", "low", "info")
MAX_ROWS = 200


def _table(findings: list[Finding], root, extra: str) -> list[str]:
    rows = [f"| Severity | Rule | Resource | Location | {extra} |", "|---|---|---|---|---|"]
    for f in findings[:MAX_ROWS]:
        where = relative_uri(f.where.file, root) if f.where.file else f.where.arn or ""
        where += f":{f.where.line}" if f.where.line else ""
        last = "; ".join(s.get("justification", "") for s in f.suppressions) if f.suppressed else f.message
        rows.append(f"| {f.severity} | {f.code} `{f.name}` | {md(f.resource)} | <code>{md(where)}</code> | {md(last)} |")
    if len(findings) > MAX_ROWS:
        rows.append(f"\n…and {len(findings) - MAX_ROWS} more (see the SARIF or JSON report).")
    return rows


def render(result: ScanResult, root=None) -> str:
    root = root_of(result, root)
    active = sorted((f for f in result.findings if not f.suppressed), key=lambda f: ORDER.index(f.severity))
    suppressed = [f for f in result.findings if f.suppressed]
    counts = Counter(f.severity for f in active)
    if active:
        parts = ", ".join(f"{counts[s]} {s}" for s in ORDER if counts[s])
        head = f"### certwarden: {len(active)} finding{'s' * (len(active) != 1)} ({parts})"
    else:
        head = "### certwarden: no findings"
    notes = [f"{result.scanned} scanned"]
    if suppressed:
        notes.append(f"{len(suppressed)} suppressed")
    if result.baseline:
        notes.append(f"{result.baseline['matched']} in the baseline")
    if result.errors:
        notes.append(f"{len(result.errors)} input error{'s' * (len(result.errors) != 1)}")
    lines = [head, "", "; ".join(notes) + ".", ""]
    if active:
        lines += _table(active, root, "Message") + [""]
    if suppressed:
        lines += ["<details><summary>Suppressed</summary>", ""]
        lines += _table(suppressed, root, "Reason") + ["", "</details>", ""]
    if result.errors:
        lines += ["<details><summary>Input errors</summary>", ""]
        lines += [f"- <code>{md(e)}</code>" for e in result.errors] + ["", "</details>", ""]
    return "\n".join(lines)
