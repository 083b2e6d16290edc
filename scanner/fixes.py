"""Fixes: a rule's normalized fix (`fix.set`) made into edits of the templates by their adapters.

Only the adapter of a format knows where an attribute is written, so this module asks
sources/cloudformation/fix.py or sources/terraform/fix.py for the edits and never edits text itself. An adapter
may decline (an expression in the way, an attribute in another file): that finding keeps its
documented fix and no edit is guessed. Unsafe fixes (they replace a resource or change who may
use it) are made only when asked, as in ruff.
"""
from __future__ import annotations

import codecs
import difflib
import os
import stat
from dataclasses import dataclass, field

from . import certs
from .findings import Finding, ScanResult
from .errors import InputError, reading
from .sources.cloudformation import fix as cfn_fix
from .sources.terraform import fix as tf_fix
from .sources.edits import Edit, apply
from .sources.files import ReadError, confinement, read_bytes

ADAPTERS = {"cfn": cfn_fix.edits_for, "tf": tf_fix.edits_for}
# The encodings the scan reads (sources/files.as_utf8), told by their byte order mark.
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


@dataclass
class Plan:
    texts: dict[str, str] = field(default_factory=dict)      # file -> text with every fix made
    originals: dict[str, str] = field(default_factory=dict)  # file -> text as read
    encodings: dict[str, tuple[bytes, str]] = field(default_factory=dict)   # file -> (BOM, codec) as read
    fixed: list[Finding] = field(default_factory=list)
    unsafe_skipped: int = 0
    no_fix: int = 0   # findings whose rule has no automatic fix, or whose adapter declined


def _read(file: str, roots) -> tuple[str, tuple[bytes, str]] | None:
    """The text as the scan read it (positions count past any BOM; line endings as written:
    edits keep them) with the BOM and codec to write it back in; None when it cannot be read."""
    try:
        data = read_bytes(file, roots=roots)
        bom, codec = next(((b, c) for b, c in _BOMS if data.startswith(b)), (b"", "utf-8"))
        return data[len(bom):].decode(codec), (bom, codec)
    except (ReadError, UnicodeDecodeError):
        return None


def fixable(f: Finding) -> bool:
    return (not f.suppressed and not f.review and f.source in ADAPTERS and bool(f.where.file)
            and bool((f.fix or {}).get("set")))


def edits_for(f: Finding, text: str) -> list[Edit] | None:
    """The edits that fix one finding in a file's current text, or None."""
    return ADAPTERS[f.source](f.where.file, text, f.resource, f.fix["set"])


def plan(result: ScanResult, unsafe: bool = False) -> Plan:
    """Every fix, made one after another on each file's text (so two fixes of one resource see
    each other's edits)."""
    out = Plan()
    for f in result.findings:
        if not fixable(f):
            out.no_fix += not f.suppressed
            continue
        if f.fix.get("safety") != "safe" and not unsafe:
            out.unsafe_skipped += 1
            continue
        file = f.where.file
        if file not in out.texts:
            got = _read(file, result.roots or None)
            if got is None:
                out.no_fix += 1
                continue
            (out.originals[file], out.encodings[file]), out.texts[file] = got, got[0]
        with reading(file):
            edits = edits_for(f, out.texts[file])
            if edits:
                out.texts[file] = apply(out.texts[file], edits)
                out.fixed.append(f)
            elif edits == [] and edits_for(f, out.originals[file]):
                out.fixed.append(f)   # an earlier fix of this run wrote the same values (CW301 and CW302)
            else:
                out.no_fix += 1
    return out


def diff(p: Plan, relative) -> str:
    """A unified diff of every changed file; `relative` names a file as the report does. Private
    key material in the context lines is redacted (line for line, so the hunks stay right)."""
    chunks = []
    for file, new in p.texts.items():
        old = p.originals[file]
        if new != old:
            name = relative(file)
            old, new = certs.redact(old), certs.redact(new)
            # a/ and b/ prefix a path inside the repository, as git writes it; an absolute path
            # outside it is written as it is (not a//abs/path)
            before, after = (name, name) if name.startswith("/") else (f"a/{name}", f"b/{name}")
            chunks.extend(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                               before, after))
    return "".join(chunks)


def write(p: Plan, roots) -> tuple[list[str], list[InputError]]:
    """Write the changed files: only regular files inside the scanned roots, never through a
    symbolic link. Returns the files written and one error for each refused."""
    changed, refused = [], []
    for file, new in p.texts.items():
        if new == p.originals[file]:
            continue
        reason = "symbolic link" if os.path.islink(file) else confinement(file, roots)
        if reason is None:
            try:
                _write(file, new, p.encodings[file])
                changed.append(file)
                continue
            except OSError as exc:
                reason = exc.strerror or str(exc)
        refused.append(InputError(file, f"{reason}, not written"))
    return changed, refused


def _write(file: str, text: str, encoding: tuple[bytes, str]) -> None:
    # O_NOFOLLOW: a link put in place since the check is not followed either; the file is
    # truncated only once fstat says it is a regular file (not a FIFO or a device).
    fd = os.open(file, os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    bom, codec = encoding   # written back as read: UTF-16 stays UTF-16, CRLF stays CRLF
    with open(fd, "wb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(0, "not a regular file")
        fh.truncate(0)
        fh.write(bom + text.encode(codec))


def attach_safe_edits(result: ScanResult) -> None:
    """Each finding a safe fix can solve gets its edits against the file as read (SARIF `fixes`)."""
    texts: dict[str, str | None] = {}
    for f in result.findings:
        if fixable(f) and f.fix.get("safety") == "safe":
            if f.where.file not in texts:
                got = _read(f.where.file, result.roots or None)
                texts[f.where.file] = got[0] if got is not None else None
            text = texts[f.where.file]
            with reading(f.where.file):
                f.edits = (edits_for(f, text) or []) if text is not None else []
