"""--diff-base REV: keep only findings on lines changed since REV (git), as a pull request shows.

A finding counts as changed when its line changed or, for a finding placed on a whole resource
(an absent property), when any line of that resource changed. Files git does not track yet
count as changed throughout.
"""
from __future__ import annotations

import os
import re
import subprocess

from .findings import Finding

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
WHOLE = None   # a file changed throughout (untracked)


class DiffError(Exception):
    pass


def _git(top: str, *args: str) -> str:
    try:
        proc = subprocess.run(["git", "-c", "core.quotePath=false", "-C", top, *args], capture_output=True, text=True, check=False)
    except OSError as exc:
        raise DiffError(f"--diff-base needs git: {exc.strerror or exc}") from None
    if proc.returncode:
        raise DiffError(f"git {' '.join(args[:2])}: {proc.stderr.strip() or 'failed'}")
    return proc.stdout


def changed_lines(rev: str, cwd: str = ".") -> dict[str, set[int] | None]:
    """Absolute path -> the line numbers (new side) changed since rev; WHOLE for untracked files."""
    top = _git(cwd, "rev-parse", "--show-toplevel").strip()
    diff = _git(top, "diff", "--no-color", "--no-ext-diff", "--unified=0", "--no-renames", rev, "--")
    changed: dict[str, set[int] | None] = {}
    lines: set[int] = set()
    for row in diff.splitlines():
        if row.startswith("+++ "):
            target = row[4:]
            lines = set()
            if target != "/dev/null":   # a deleted file has no new lines
                changed[os.path.realpath(os.path.join(top, target[2:]))] = lines
        elif row.startswith("@@"):
            m = _HUNK.match(row)
            if m:
                start, count = int(m.group(1)), int(m.group(2) or 1)
                # A pure deletion (count 0) touches the line it happened after.
                lines.update(range(start, start + count) if count else [start])
    for path in _git(top, "ls-files", "--others", "--exclude-standard", "-z").split("\0"):
        if path:
            changed[os.path.realpath(os.path.join(top, path))] = WHOLE
    return changed


def touched(f: Finding, changed: dict[str, set[int] | None]) -> bool:
    if not f.where.file:
        return False
    path = os.path.realpath(f.where.file)
    if path not in changed:
        return False
    lines = changed[path]
    if lines is WHOLE:
        return True
    last = max(f.where.end_line, f.where.line)
    return any(n in lines for n in range(f.where.line, last + 1))


def apply(findings: list[Finding], rev: str) -> list[Finding]:
    changed = changed_lines(rev)
    return [f for f in findings if touched(f, changed)]
