"""--diff-base REV: keep only findings on lines changed since REV (git), as a pull request shows.

A finding counts as changed when its line changed or, for a finding placed on a whole resource
(an absent property), when any line of that resource changed. Files git does not track yet
count as changed throughout.

The tree is the attacker's and the user's git config is not ours, so nothing is left to either:
REV is resolved to a commit id first (`rev-parse --verify --end-of-options`, so `--output=FILE`
is a revision name, not an option); the diff is asked for with fixed prefixes, as text, without
textconv, external drivers, colour or renames; file names are unquoted as git quotes them; and
each hunk's lines are counted from its `@@` header, so an added line reading `++ b/other` is
content, never a file header.
"""
from __future__ import annotations

import os
import re
import subprocess

from .findings import Finding

_HUNK = re.compile(rb"@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
WHOLE = None   # a file changed throughout (untracked)
# Options that make the diff's shape ours whatever the user's config and the tree's attributes
# say (diff.noprefix, diff.mnemonicPrefix, diff.relative, color.diff, `-diff` or `binary` in
# .gitattributes, textconv drivers).
_DIFF = ("diff", "--no-color", "--no-ext-diff", "--no-textconv", "--text", "--no-renames", "--no-relative",
         "--src-prefix=a/", "--dst-prefix=b/", "--unified=0")
_C_ESCAPES = dict(zip(b"abtnvfr\"\\", b"\a\b\t\n\v\f\r\"\\"))
_C_QUOTED = re.compile(rb'\\([abtnvfr"\\]|[0-7]{3})')


class DiffError(Exception):
    pass


def _git(top: str, *args: str) -> bytes:
    try:
        proc = subprocess.run(["git", "-c", "core.quotePath=false", "-C", top, *args], capture_output=True, check=False)
    except OSError as exc:
        raise DiffError(f"--diff-base needs git: {exc.strerror or exc}") from None
    if proc.returncode:
        problem = proc.stderr.decode(errors="replace").strip() or "failed"
        raise DiffError(f"git {' '.join(args[:2])}: {problem}")
    return proc.stdout


def _unquote(name: bytes) -> bytes:
    """A path as git writes it in a header: C-quoted ("b/a\\tb") when it holds special bytes."""
    name = name.removesuffix(b"\t")   # git ends a name holding a space with a tab, quoted or not
    if not name.startswith(b'"'):
        return name
    body = name[1:-1] if name.endswith(b'"') and len(name) > 1 else name[1:]
    return _C_QUOTED.sub(lambda m: bytes([_C_ESCAPES.get(m[1][0]) or int(m[1], 8) & 0xFF]), body)


def parse(diff: bytes, top: str) -> dict[str, set[int]]:
    """A `git diff --unified=0` with a/ b/ prefixes -> absolute path -> new-side lines changed."""
    changed: dict[str, set[int]] = {}
    lines: set[int] = set()
    rows, i = diff.split(b"\n"), 0
    while i < len(rows):
        row, i = rows[i], i + 1
        if row.startswith(b"+++ "):
            lines = set()
            target = _unquote(row[4:])
            if target.startswith(b"b/") and b"\0" not in target:   # else /dev/null: a deleted file
                changed[os.path.realpath(os.path.join(top, os.fsdecode(target[2:])))] = lines
        elif m := _HUNK.match(row):
            old, start, new = int(m.group(1) or 1), int(m.group(2)), int(m.group(3) or 1)
            # A pure deletion (new count 0) touches the line it happened after.
            lines.update(range(start, start + new) if new else [start])
            # Skip the hunk's own lines, counted: what they say is content, whatever it looks like.
            left = old + new
            while left and i < len(rows):
                left -= not rows[i].startswith(b"\\")   # "\ No newline at end of file" is no line
                i += 1
    return changed


def changed_lines(rev: str, cwd: str = ".") -> dict[str, set[int] | None]:
    """Absolute path -> the line numbers (new side) changed since rev; WHOLE for untracked files."""
    top = os.fsdecode(_git(cwd, "rev-parse", "--show-toplevel").rstrip(b"\n"))
    try:
        commit = _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}").decode().strip()
    except DiffError:
        raise DiffError(f"--diff-base {rev}: not a commit in this repository") from None
    changed: dict[str, set[int] | None] = dict(parse(_git(top, *_DIFF, commit, "--"), top))
    for path in _git(top, "ls-files", "--others", "--exclude-standard", "-z").split(b"\0"):
        if path:
            changed[os.path.realpath(os.path.join(top, os.fsdecode(path)))] = WHOLE
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
