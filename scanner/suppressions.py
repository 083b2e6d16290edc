"""Suppressions written beside the code they excuse.

Inline, in YAML and HCL (`#` or `//`), on the line above a resource or inside its block:

    # certwarden:ignore CW101 reason=rotated by our own job until=2027-03-31
    # certwarden:ignore CW101,kms-policy-wildcard-principal reason="shared with the audit account"

and, for JSON templates (which cannot hold comments), in the resource's CloudFormation Metadata:

    "Metadata": {"certwarden": {"ignore": [{"code": "CW101", "reason": "...", "until": "2027-03-31"}]}}

A comment applies to the resource that starts on the next line, else to the innermost resource
block that contains it; it matches findings by file and resource name, so one written inside a
local Terraform module's file applies to that module's resources only. A reason is required; a
suppression without one, with an unknown rule or a bad date is reported and does not apply.
After its `until` date a suppression stops applying (like tfsec/Trivy's `exp:`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from .findings import Finding, InputError
from .model import Graph, Where
from .sources.files import ReadError, read_bytes
from .sources.loader import LoadError, load_all

MARKER = b"certwarden"
# The comment must start the line or follow whitespace: a '#' inside a YAML word is no comment.
_COMMENT = re.compile(r"(?:^|\s)(?:#|//)\s*certwarden:ignore\b(?P<args>.*)$")
_KEY = re.compile(r"\b(reason|until)=")
ALL_LINES = range(1, 1 << 30)


@dataclass(frozen=True)
class Directive:
    file: str
    line: int
    resource: str | None
    codes: tuple[str, ...]        # as written: codes or names
    reason: str
    until: str | None


def _parse_args(args: str) -> tuple[tuple[str, ...], str, str | None]:
    """`CW101,name reason=free text until=DATE` -> codes, reason, until (in any order after the codes)."""
    first = _KEY.search(args)
    head = args[:first.start()] if first else args
    codes = tuple(c for c in re.split(r"[\s,]+", head) if c)
    values: dict[str, str] = {}
    marks = list(_KEY.finditer(args))
    for m, nxt in zip(marks, marks[1:] + [None]):
        values[m.group(1)] = args[m.end():nxt.start() if nxt else len(args)].strip().strip("\"'")
    return codes, values.get("reason", ""), values.get("until")


def _target(line: int, blocks: list[tuple[str, Where]], own_line: bool) -> str | None:
    """For a comment on its own line, the resource starting on the next line; else the
    innermost block holding the line."""
    for name, w in blocks:
        if own_line and w.line == line + 1:
            return name
    holding = [(w.line, name) for name, w in blocks if w.line <= line <= w.end_line]
    return max(holding)[1] if holding else None


def _comments(file: str, text: str, blocks: list[tuple[str, Where]], lines: range) -> list[Directive]:
    out = []
    for no, line in enumerate(text.splitlines(), 1):
        m = _COMMENT.search(line) if no in lines else None
        if m:
            codes, reason, until = _parse_args(m.group("args"))
            own_line = not line[:m.start()].strip()
            out.append(Directive(file, no, _target(no, blocks, own_line), codes, reason, until))
    return out


def _own_document(data: bytes, blocks: list[tuple[str, Where]]) -> tuple[dict | None, range]:
    """The template (of a YAML stream's several) holding these blocks, and its lines."""
    try:
        docs = load_all(data)
    except LoadError:
        return None, range(0)   # the adapter read it, so only a race gets here; nothing to apply
    first = min(w.line for _, w in blocks)
    start = 1
    for i, doc in enumerate(docs):
        # A document runs to the end of its content; the last one to the end of the file.
        end = ALL_LINES.stop - 1 if i == len(docs) - 1 else getattr(doc, "end_line", 0)
        if first <= end:
            return (doc if isinstance(doc, dict) else None), range(start, end + 1)
        start = end + 1
    return None, range(0)


def _metadata(file: str, doc: dict | None) -> list[Directive]:
    """CloudFormation `Metadata.certwarden.ignore` entries of every resource."""
    resources = doc.get("Resources") if isinstance(doc, dict) else None
    out = []
    for name, body in (resources or {}).items():
        meta = body.get("Metadata") if isinstance(body, dict) else None
        cw = meta.get("certwarden") if isinstance(meta, dict) else None
        entries = cw.get("ignore") if isinstance(cw, dict) else None
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(entry, dict):
                continue
            line = entries.pos[i][0] if hasattr(entries, "pos") else 0
            code = entry.get("code")
            codes = tuple(code) if isinstance(code, list) else (str(code),) if code else ()
            until = entry.get("until")
            out.append(Directive(file, line, str(name), codes, str(entry.get("reason") or "").strip(),
                                 str(until) if until else None))
    return out


def _blocks(graph: Graph) -> dict[str, Where]:
    blocks = {n.name: n.where for n in graph.nodes.values()}
    blocks.update(graph.blocks)
    return blocks


def collect(graph: Graph) -> list[Directive]:
    """Every suppression written in the files of one unit."""
    blocks = _blocks(graph)
    by_file: dict[str, list[tuple[str, Where]]] = {}
    for name, w in blocks.items():
        if w.file:
            by_file.setdefault(w.file, []).append((name, w))
    out: list[Directive] = []
    for file, file_blocks in sorted(by_file.items()):
        try:
            data = read_bytes(file)
        except ReadError:
            continue
        if MARKER not in data:   # the common case: no parse, no line scan
            continue
        lines = ALL_LINES
        if graph.source == "cfn":   # one file may hold several templates, each a unit of its own
            doc, lines = _own_document(data, file_blocks)
            out += _metadata(file, doc)
        out += _comments(file, data.decode("utf-8", "replace"), file_blocks, lines)
    return sorted(out, key=lambda d: (d.file, d.line))


def apply(graph: Graph, findings: list[Finding], known: dict[str, str], today: date
          ) -> tuple[list[InputError], list[str]]:
    """Mark the findings of one unit that its suppressions cover.

    known maps rule codes and names to codes. Returns problems (reported like input errors)
    and notices (expired suppressions).
    """
    problems: list[InputError] = []
    notices: list[str] = []
    blocks = _blocks(graph)

    def block_of(name: str):
        w = blocks.get(name)
        return (w.file, w.line) if w is not None else None

    for d in collect(graph):
        where = f"{d.file}:{d.line}" if d.line else d.file
        codes = []
        for c in d.codes:
            if c in known:
                codes.append(known[c])
            else:
                problems.append(InputError(d.file, f"suppression names unknown rule {c!r}", d.line))
        if not d.codes:
            problems.append(InputError(d.file, "suppression names no rule", d.line))
            continue
        if not d.reason:
            problems.append(InputError(d.file, "suppression without reason=...; not applied", d.line))
            continue
        if d.resource is None:
            problems.append(InputError(d.file, "suppression is neither inside nor just above a resource; "
                                               "not applied", d.line))
            continue
        if d.until:
            try:
                expiry = date.fromisoformat(d.until)
            except ValueError:
                problems.append(InputError(d.file, f"suppression until={d.until!r} is not a date "
                                                   "(YYYY-MM-DD); not applied", d.line))
                continue
            if today > expiry:
                notices.append(f"{where}: suppression of {', '.join(d.codes)} on {d.resource} "
                               f"expired on {d.until}; no longer applied")
                continue
        mark = {"kind": "inSource", "justification": d.reason}
        if d.until:
            mark["until"] = d.until
        # By block rather than by name: a local module used twice is one block in the code, and
        # a comment in it covers every instance (and nothing outside the module).
        target = block_of(d.resource)
        for f in findings:
            if f.code in codes and block_of(f.resource) == target and f.where.file == d.file:
                f.suppressions.append(dict(mark))
    return problems, notices
