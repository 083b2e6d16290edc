"""Fixes: a rule's normalized fix (`fix.set`) made into edits of the templates by their adapters.

Only the adapter of a format knows where an attribute is written, so this module asks
sources/cfn_fix.py or sources/tf_fix.py for the edits and never edits text itself. An adapter
may decline (an expression in the way, an attribute in another file): that finding keeps its
documented fix and no edit is guessed. Unsafe fixes (they replace a resource or change who may
use it) are made only when asked, as in ruff.
"""
from __future__ import annotations

import codecs
import difflib
from dataclasses import dataclass, field

from .findings import Finding, ScanResult, reading
from .sources import cfn_fix, tf_fix
from .sources.edits import Edit, apply
from .sources.files import ReadError, read_bytes

ADAPTERS = {"cfn": cfn_fix.edits_for, "tf": tf_fix.edits_for}
# The encodings the scan reads (sources/files.as_utf8), told by their byte order mark.
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


class FixError(Exception):
    """A file to fix that cannot be read back as the scan read it (one line, naming it)."""


@dataclass
class Plan:
    texts: dict[str, str] = field(default_factory=dict)      # file -> text with every fix made
    originals: dict[str, str] = field(default_factory=dict)  # file -> text as read
    encodings: dict[str, tuple[bytes, str]] = field(default_factory=dict)   # file -> (BOM, codec) as read
    fixed: list[Finding] = field(default_factory=list)
    unsafe_skipped: int = 0
    no_fix: int = 0   # findings whose rule has no automatic fix, or whose adapter declined


def _read(file: str) -> tuple[str, tuple[bytes, str]]:
    """The text of a file as the scan read it (positions are counted in it, past any BOM), with
    the BOM and codec to write it back in. Line endings stay as written: edits keep them."""
    try:
        data = read_bytes(file)
        bom, codec = next(((b, c) for b, c in _BOMS if data.startswith(b)), (b"", "utf-8"))
        return data[len(bom):].decode(codec), (bom, codec)
    except ReadError as exc:
        raise FixError(f"{file}: cannot be read to fix: {exc}") from None
    except UnicodeDecodeError:
        raise FixError(f"{file}: cannot be read to fix: not {codec} text (changed since the scan?)") from None


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
            out.originals[file], out.encodings[file] = _read(file)
            out.texts[file] = out.originals[file]
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
    """A unified diff of every changed file; `relative` names a file as the report does."""
    chunks = []
    for file, new in p.texts.items():
        old = p.originals[file]
        if new != old:
            name = relative(file)
            chunks.extend(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                               f"a/{name}", f"b/{name}"))
    return "".join(chunks)


def write(p: Plan) -> list[str]:
    changed = [file for file, new in p.texts.items() if new != p.originals[file]]
    for file in changed:
        bom, codec = p.encodings[file]   # written back as read: UTF-16 stays UTF-16, CRLF stays CRLF
        try:
            with open(file, "wb") as fh:
                fh.write(bom + p.texts[file].encode(codec))
        except OSError as exc:
            raise FixError(f"{file}: cannot be written: {exc.strerror or exc}") from None
    return changed


def attach_safe_edits(result: ScanResult) -> None:
    """Each finding a safe fix can solve gets its edits against the file as read (SARIF `fixes`)."""
    texts: dict[str, str | None] = {}
    for f in result.findings:
        if fixable(f) and f.fix.get("safety") == "safe":
            if f.where.file not in texts:
                try:
                    texts[f.where.file] = _read(f.where.file)[0]
                except FixError:
                    texts[f.where.file] = None   # changed since the scan: its findings get no edits
            if texts[f.where.file] is not None:
                with reading(f.where.file):
                    f.edits = edits_for(f, texts[f.where.file]) or []
