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
from .errors import InputError, reading
from .findings import Finding, ScanResult
from .sources.cloudformation import fix as cfn_fix
from .sources.cloudformation import structural as cfn_structural
from .sources.edits import Edit, apply, layers
from .sources.terraform import fix as tf_fix
from .sources.terraform import structural as tf_structural
from .outfile import OutputError, write_output
from .workers import worker_count
from .sources.files import ReadError, confinement, read_bytes

# Each adapter plans the edits of many findings of one file against one reading of its text:
# value fixes (fix.set: attributes to write) and structural ones (fix.add: a pattern of resources).
ADAPTERS = {"cfn": cfn_fix.edits_for_many, "tf": tf_fix.edits_for_many}
STRUCTURAL = {"cfn": cfn_structural.edits_for_many, "tf": tf_structural.edits_for_many}
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
    declined: list[Finding] = field(default_factory=list)   # those an adapter declined (said one by one)


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
    fix = f.fix or {}
    return (not f.suppressed and not f.review and bool(f.where.file)
            and ((f.source in ADAPTERS and bool(fix.get("set"))) or (f.source in STRUCTURAL and bool(fix.get("add")))))


def edits_for(f: Finding, text: str) -> list[Edit] | None:
    """The edits that fix one finding in a file's current text, or None."""
    return edits_for_all([f], text)[0]


def edits_for_all(found: list[Finding], text: str) -> list[list[Edit] | None]:
    """edits_for of each finding of one file (and one source), planned on one reading of it."""
    if not found:
        return []
    f = found[0]
    with reading(f.where.file):
        return _planned(f.where.file, f.source, text, [(g.resource, g.fix) for g in found])


def _planned(file: str, source: str, text: str, requests: list[tuple[str, dict]]) -> list[list[Edit] | None]:
    """Each (resource, fix)'s edits: its structural fix (add) where the structural adapter can
    make it, else its value fix (set); each adapter asked once for all its requests."""
    out: list[list[Edit] | None] = [None] * len(requests)
    for key, adapters in (("add", STRUCTURAL), ("set", ADAPTERS)):
        mine = [i for i, (_, fix) in enumerate(requests) if out[i] is None and fix.get(key)]
        if mine and source in adapters:
            got = adapters[source](file, text, [(requests[i][0], requests[i][1][key]) for i in mine])
            for i, edits in zip(mine, got):
                out[i] = edits
    return out


def _by_file(found) -> dict[tuple[str, str], list[Finding]]:
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in found:
        groups.setdefault((f.where.file, f.source), []).append(f)
    return groups


def plan(result: ScanResult, unsafe: bool = False, skip: frozenset = frozenset()) -> Plan:
    """Every fix, made on each file's text in rounds: each round plans the fixes still to make
    on the text as the rounds before left it and makes those that touch neither each other nor
    one resource twice (so two fixes of one resource see each other's edits); the others wait
    for the next round. A file is read once a round, not once a finding."""
    out = Plan()
    todo = []
    for f in result.findings:
        if not fixable(f) or key(f) in skip:
            out.no_fix += not f.suppressed
        elif f.fix.get("safety") != "safe" and not unsafe:
            out.unsafe_skipped += 1
        else:
            todo.append(f)
    for (file, _), found in _by_file(todo).items():
        if file not in out.texts:
            got = _read(file, result.roots or None)
            if got is None:
                out.no_fix += len(found)
                continue
            (out.originals[file], out.encodings[file]), out.texts[file] = got, got[0]
        while found:
            found = _round(out, file, found)
    return out


def key(f: Finding) -> tuple:
    """A finding as plan(skip=...) names it."""
    return (f.where.file, f.code, f.resource)


def lint_declines(p: Plan, added) -> list[tuple[Finding, str, str]]:
    """The fixes of CloudFormation files that add a linter error (`added(before, after)` gives the
    errors after has and before had not: (code, message)): each judged alone on the file as read;
    when only their sum adds one, all of that file's. (finding, code, message) per decline."""
    out = []
    for file, new in p.texts.items():
        mine = [f for f in p.fixed if f.where.file == file and f.source == "cfn"]
        if not mine or new == p.originals[file] or not (errs := added(p.originals[file], new)):
            continue
        alone = []
        for f in mine:
            edits = edits_for(f, p.originals[file])
            err = added(p.originals[file], apply(p.originals[file], edits)) if edits else []
            if err:
                alone.append((f, *err[0]))
        out += alone or [(f, *errs[0]) for f in mine]
    return out


def _round(out: Plan, file: str, found: list[Finding]) -> list[Finding]:
    """One round of plan(): the findings left for the next one."""
    planned = edits_for_all(found, out.texts[file])
    made = [(i, edits, found[i].resource) for i, edits in enumerate(planned) if edits]
    now = set(layers(made)[0]) if made else set()
    same = [f for f, edits in zip(found, planned) if edits == []]
    # an empty edit on the text as changed: an earlier fix of this run wrote the same values
    # (CW301 and CW302) when the file as read still needed it
    again = edits_for_all(same, out.originals[file]) if out.texts[file] != out.originals[file] else [None] * len(same)
    for f, edits in zip(same, again):
        if edits:
            out.fixed.append(f)
        else:
            out.no_fix += 1
    out.no_fix += sum(edits is None for edits in planned)
    out.declined += [f for f, edits in zip(found, planned) if edits is None]
    out.texts[file] = apply(out.texts[file], [e for i in sorted(now) for e in planned[i]])
    out.fixed += [found[i] for i in sorted(now)]
    return [found[i] for i, _, _ in made if i not in now]


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
        reason = "symbolic link" if os.path.islink(file) else confinement(file, roots, afresh=True)
        if reason is None:
            try:
                _write(file, new, p.encodings[file])
                changed.append(file)
                continue
            except OSError as exc:
                reason = exc.strerror or str(exc)
        refused.append(InputError(file, f"{reason}, not written"))
    return changed, refused


def write_copies(p: Plan, roots, out_dir: str) -> tuple[list[str], list[InputError]]:
    """Write each changed file's fixed text under out_dir at its path relative to the scanned
    roots (their common directory: one root's layout, or each root's under its name), in the
    encoding it was read in; the originals are not touched. Never through a symbolic link in
    out_dir (a directory on the way or the file), never onto an original. Returns the copies
    written and one error for each refused."""
    base = os.path.commonpath(list(roots)) if roots else os.getcwd()
    out_dir = os.path.abspath(out_dir)
    originals = {os.path.realpath(f) for f in p.texts}
    written, refused = [], []
    for file, new in p.texts.items():
        if new == p.originals[file]:
            continue
        rel = os.path.relpath(os.path.realpath(file), base)
        dest = os.path.join(out_dir, rel)
        try:
            if rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
                raise OutputError(f"{dest}: outside the output directory")
            _directories(out_dir, os.path.dirname(rel))
            if os.path.realpath(dest) in originals:
                raise OutputError(f"{dest}: is a scanned file; the output directory must not hold the inputs")
            bom, codec = p.encodings[file]
            write_output(dest, bom + new.encode(codec))
            written.append(dest)
        except OutputError as exc:
            refused.append(InputError(file, f"{exc}, not written"))
        except OSError as exc:
            refused.append(InputError(file, f"{dest}: {exc.strerror or exc}, not written"))
    return written, refused


def _directories(out_dir: str, rel: str) -> None:
    """out_dir/rel created one directory at a time, refusing one that is a symbolic link (a copy
    written through it would land outside out_dir)."""
    path = out_dir
    os.makedirs(path, exist_ok=True)
    for part in [q for q in rel.split(os.sep) if q] if rel else []:
        path = os.path.join(path, part)
        if os.path.islink(path):
            raise OutputError(f"{path}: is a symbolic link; outputs are never written through one")
        if not os.path.isdir(path):
            os.mkdir(path)


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


def attach_safe_edits(result: ScanResult, findings: list[Finding] | None = None, jobs: int = 0) -> None:
    """Each finding (of `findings`, else all) a safe fix can solve gets its edits against the
    file as read (SARIF `fixes`). Each file is read and planned once for all its findings; many
    files are planned in worker processes, as the scan reads them (`jobs` as --jobs)."""
    chosen = result.findings if findings is None else findings
    safe = [f for f in chosen if fixable(f) and f.fix.get("safety") == "safe"]
    groups = _by_file(safe)
    work = [(file, source, result.roots or None, [(f.resource, f.fix) for f in found])
            for (file, source), found in groups.items()]
    workers = worker_count(jobs, len(work))
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            planned = list(pool.map(_file_edits, work, chunksize=max(1, len(work) // (workers * 8))))
    else:
        planned = list(map(_file_edits, work))
    for found, edits in zip(groups.values(), planned):
        for f, e in zip(found, edits):
            f.edits = e or []


def _file_edits(job: tuple) -> list[list[Edit] | None]:
    """The edits of the requests (resource, fix) in one file as read (in a worker, maybe)."""
    file, source, roots, requests = job
    got = _read(file, roots)
    if got is None:
        return [None] * len(requests)
    with reading(file):
        return _planned(file, source, got[0], requests)
