"""Suppressions written beside the code they excuse.

Inline, in YAML and HCL (`#` or `//`), on the line above a resource or inside its block:

    # certwarden:ignore CW101 reason=rotated by our own job until=2027-03-31
    # certwarden:ignore CW101,kms-policy-wildcard-principal reason="shared with the audit account"

and, for JSON templates (which cannot hold comments), in the resource's CloudFormation Metadata:

    "Metadata": {"certwarden": {"ignore": [{"code": "CW101", "reason": "...", "until": "2027-03-31"}]}}

(the CloudFormation adapter reads those, as model.Ignore on the graph).

A comment applies to the resource that starts on the next line, else to the innermost resource
block that contains it; it matches findings by file and resource name, so one written inside a
local Terraform module's file applies to that module's resources only. A reason is required; a
suppression without one, with an unknown rule or a bad date is reported and does not apply.
After its `until` date a suppression stops applying (like tfsec/Trivy's `exp:`). The policy
file's `suppressions:` may ask for a longer reason and an expiry within some days.

Only real comments count, as each format's own reader sees them (libyaml's tokens,
tree-sitter-hcl's comment nodes): a `certwarden:ignore` inside a string, block scalar or heredoc is data, and a
suppression that breaks a rule or the policy suppresses nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from .config import SuppressionPolicy
from .findings import Finding
from .errors import InputError
from .model import Graph, Ignore, Where
from .sources.files import ReadError, read_bytes

MARKER = b"certwarden"
_KEY = re.compile(r"\b(reason|until)=")
ALL_LINES = range(1, 1 << 30)


Directive = Ignore   # a suppression, from a comment or from the unit's data alike


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


# -- real comments -------------------------------------------------------------------------------
# `certwarden:ignore` counts only in a comment as the file's own reader sees it: never in a YAML
# string or block scalar, a Terraform string or heredoc, nor anywhere in JSON (which has none).
_DIRECTIVE = re.compile(r"\s*certwarden:ignore\b(?P<args>[^\r\n]*)")
_YAML_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")   # libyaml's line breaks, so lines agree
_HCL_COMMENT = re.compile(r"(?:#|//)([^\n]*)|/\*((?:(?!\*/)[^\n])*)")


@dataclass(frozen=True)
class Comment:
    line: int          # 1-based
    own_line: bool     # nothing but blanks before it on its line
    text: str          # what follows the comment marker on its line


def _yaml_comments(text: str) -> list[Comment]:
    """What lies between libyaml's tokens: a `#` in a quoted string or a block scalar is inside a
    token, never in a gap between two."""
    import yaml

    text = text.removeprefix("\ufeff")   # libyaml counts positions after the byte order mark
    out: list[Comment] = []
    pos, line, column = 0, 0, 0
    try:
        for token in yaml.scan(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            start = token.start_mark.index
            cursor, no, line_start = pos, line, (pos if column == 0 else None)
            at = text.find("#", pos, start) if start > pos else -1
            while at >= 0:   # each `#` in the gap starts a comment that runs to the line's end
                for brk in _YAML_BREAK.finditer(text, cursor, at):
                    no, line_start = no + 1, brk.end()
                eol = _YAML_BREAK.search(text, at, start)
                end = eol.start() if eol else start
                own = line_start is not None and not text[line_start:at].strip()
                out.append(Comment(no + 1, own, text[at + 1:end]))
                cursor, at = at, text.find("#", end, start)
            if token.end_mark.index >= pos:
                pos, line, column = token.end_mark.index, token.end_mark.line, token.end_mark.column
    except yaml.YAMLError:
        return []   # the adapter read this file, so only a change since gets here: nothing applies
    return out


def _hcl_comments(file: str, text: str) -> list[Comment]:
    """The comment nodes of tree-sitter-hcl's parse tree: strings and heredocs are other nodes."""
    from .sources.terraform.hcl import HclError
    from .sources.terraform.parsed import comment_tokens_kept

    try:
        tokens = comment_tokens_kept(text, file)
    except HclError:
        return []
    lines = text.split("\n")
    out = []
    for tok_line, tok_column, body in tokens:
        for m in _HCL_COMMENT.finditer(body):
            nl = body.rfind("\n", 0, m.start())
            line = tok_line + body.count("\n", 0, m.start())
            column = tok_column + m.start() if nl < 0 else m.start() - nl   # 1-based
            before = lines[line - 1][:column - 1] if line <= len(lines) else ""
            out.append(Comment(line, not before.strip(), m.group(1) if m.group(1) is not None else m.group(2)))
    return out


def _pem_comments(text: str, blocks: list[tuple[str, Where]]) -> list[Comment]:
    """The explanatory text around PEM blocks: lines starting with `#` outside every block."""
    inside = {n for _, w in blocks for n in range(w.line, max(w.end_line, w.line) + 1)}
    return [Comment(no, True, line.lstrip()[1:]) for no, line in enumerate(text.split("\n"), 1)
            if no not in inside and line.lstrip().startswith("#")]


def _real_comments(file: str, source: str, text: str, blocks: list[tuple[str, Where]]) -> list[Comment]:
    if file.endswith(".json"):
        return []
    if source == "tf":
        return _hcl_comments(file, text)
    if source == "pem":
        return _pem_comments(text, blocks)
    return _yaml_comments(text)


def _comments(file: str, source: str, text: str, blocks: list[tuple[str, Where]], lines: range) -> list[Directive]:
    out = []
    for c in _real_comments(file, source, text, blocks):
        m = _DIRECTIVE.match(c.text) if c.line in lines else None
        if m:
            codes, reason, until = _parse_args(m.group("args"))
            out.append(Directive(file, c.line, _target(c.line, blocks, c.own_line), codes, reason, until))
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
        # One file may hold several templates, each a unit of its own: only its lines are its comments.
        lines = range(graph.lines[0], graph.lines[1] + 1) if graph.lines else ALL_LINES
        out += _comments(file, graph.source, data.decode("utf-8", "replace"), file_blocks, lines)
    out += graph.ignores   # written in the unit's data (CloudFormation Metadata), read by its adapter
    return sorted(out, key=lambda d: (d.file, d.line))


def _problem(d: Directive, policy, today: date) -> str | None:
    """Why this suppression cannot apply, or None. policy: the policy file's `suppressions`."""
    if not d.codes:
        return "suppression names no rule"
    if not d.reason:
        return "suppression without reason=...; not applied"
    if len(d.reason) < policy.min_reason_length:
        return (f"suppression reason {d.reason!r} is shorter than the {policy.min_reason_length} characters "
                "the policy requires (suppressions.min_reason_length); not applied")
    if d.resource is None:
        return "suppression is neither inside nor just above a resource; not applied"
    try:
        expiry = date.fromisoformat(d.until) if d.until else None
    except ValueError:
        return f"suppression until={d.until!r} is not a date (YYYY-MM-DD); not applied"
    if policy.max_days is not None and (expiry is None or expiry > today + timedelta(days=policy.max_days)):
        return (f"suppression {'until=' + d.until if expiry else 'without until=YYYY-MM-DD'} reaches beyond "
                f"the {policy.max_days} days the policy allows (suppressions.max_days); not applied")
    return None


def apply(graph: Graph, findings: list[Finding], known: dict[str, str], today: date, policy=None
          ) -> tuple[list[InputError], list[str]]:
    """Mark the findings of one unit that its suppressions cover.

    known maps rule codes and names to codes; policy is the policy file's `suppressions` (a
    config.SuppressionPolicy). Returns problems (reported like input errors: a suppression that
    breaks a rule or the policy does not apply) and notices (expired suppressions).
    """
    policy = policy or SuppressionPolicy()
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
        problem = _problem(d, policy, today)
        if problem:
            problems.append(InputError(d.file, problem, d.line))
            continue
        if d.until and today > date.fromisoformat(d.until):
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
