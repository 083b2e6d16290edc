"""What a scan reads as a whole (a unit), and which adapter reads it.

A unit is what an adapter must read as a whole: one file for CloudFormation, plans and PEM
material, one directory for a Terraform module. Units are independent of each other, which is
what lets them be cached and read in parallel. `read_unit` never raises on bad input: it
returns the graphs it could build and one-line errors for what it could not.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from ..errors import InputError
from ..model import Graph
from . import pem, snapshot
from .cloudformation import template as cloudformation
from .files import CFN_EXTS, PEM_EXTS, ReadError, as_utf8, is_binary, open_regular, read_bytes
from .loader import LoadError, load, load_all

# What makes a module read files that are not its members: a local module call, file() and kin.
# [ \t], not \s: under re.M, ^\s* scans every blank line below each line start (quadratic).
_READS_ELSEWHERE = re.compile(rb'^[ \t]*source[ \t]*=[ \t]*"\.\.?/|\b(?:file|filebase64|templatefile)\s*\(', re.M)


@dataclass(frozen=True)
class Unit:
    kind: str                          # "file" | "module"
    path: str                          # the file, or the module directory
    explicit: bool = False             # named on the command line: report it even if it is no template
    files: tuple[str, ...] = ()        # a module's .tf files
    var_files: tuple[str, ...] = ()    # Terraform --var-file, read with every root module
    roots: tuple[str, ...] = ()        # the scanned directories (real paths): the only places read

    def members(self) -> tuple[str, ...] | None:
        """Every file the unit's graphs depend on, or None when that is not known without reading
        it (a module calling local modules or reading files with file())."""
        if self.kind == "file":
            return (self.path,)
        for path in self.files:
            try:
                with open_regular(path) as fh:
                    if _READS_ELSEWHERE.search(fh.read()):
                        return None
            except (ReadError, OSError):
                return None
        try:
            tfvars = sorted(os.path.join(self.path, n) for n in os.listdir(self.path) if ".tfvars" in n)
        except OSError:
            return None
        return (*self.files, *tfvars, *self.var_files)


def import_readers(units: list[Unit]) -> None:
    """Import the readers these units need now: worker processes forked afterwards share them
    instead of each importing its own."""
    if any(u.kind == "module" for u in units):
        from .terraform import builder, modules  # noqa: F401


def read_unit(unit: Unit) -> tuple[list[Graph], list[InputError], list[str]]:
    """Graphs, one-line errors and notices of one unit; never raises on bad input."""
    if unit.kind == "module":
        return read_module(unit.path, list(unit.files), unit.var_files, unit.roots)
    graphs, errors = read_file(unit.path, explicit=unit.explicit, roots=unit.roots or None)
    return graphs, errors, []


# Extensions a template-looking file is reported under when it cannot be read. Other
# extensions (.txt, none) are sniffed quietly: an unreadable one is simply not a template.
_TEMPLATE_EXTS = {".yaml", ".yml", ".json", ".template", ".cfn"}
_MARKERS = (b"AWSTemplateFormatVersion", b"Resources", b"AWS::")
LAST_LINE = 1 << 30   # "to the end of the file", for a document's extent


def _announces_template(path: str, head: bytes) -> bool:
    ext = os.path.splitext(path)[1].lower()
    return ext in {".yaml", ".yml", ".template", ".cfn"} or any(m in head for m in _MARKERS)


def read_file(path: str, explicit: bool = False, roots=None) -> tuple[list[Graph], list[InputError]]:
    """Read one file as a CloudFormation template or Terraform plan, or as certificate/key material
    (pem.py). With roots (real paths), a file whose real path is not inside them is not read."""
    ext = os.path.splitext(path)[1].lower()
    try:
        data = read_bytes(path, roots=roots)
    except ReadError as exc:
        if "limit" in str(exc):
            try:
                with open_regular(path) as fh:
                    head = fh.read(65536)
            except (ReadError, OSError):
                head = b""
            if not (explicit or _announces_template(path, head)):
                return [], []
        elif not (explicit or ext in _TEMPLATE_EXTS):
            return [], []
        return [], [InputError(path, str(exc))]
    if snapshot.looks_like(data) and (explicit or ext == ".json"):
        return snapshot.read(path, data)
    if ext in PEM_EXTS:
        return pem.read(path, data)
    if ext not in CFN_EXTS and not explicit:
        return [], []
    reportable = explicit or ext in _TEMPLATE_EXTS
    if is_binary(data):
        return [], ([InputError(path, "binary file, not a template")] if reportable else [])
    try:
        data = as_utf8(data)
    except ReadError as exc:
        return [], ([InputError(path, str(exc))] if reportable else [])
    if b'"planned_values"' in data and b'"format_version"' in data:
        return _read_plan(path, data)
    if b"Resources" not in data:
        return _material(path, data)   # cheap pre-filter: cannot be a CloudFormation template
    try:
        docs = load_all(data)
    except LoadError as exc:
        return [], ([InputError(path, str(exc), exc.line)] if reportable else [])
    # A YAML stream may hold several templates (`---`); each is a unit of its own.
    try:
        keys = b"PRIVATE KEY-----" in data    # cheap: most templates hold none, and finding one walks every string
        read = [(*cloudformation.read(path, doc, keys), extent) for doc, extent in zip(docs, _extents(docs))
                if cloudformation.looks_like_template(doc)]
    except RecursionError:
        return [], [InputError(path, "nesting too deep")]
    for graph, _, extent in read:
        graph.lines = extent if len(docs) > 1 else None
    graphs, errors = [g for g, _, _ in read], [e for _, errs, _ in read for e in errs]
    return (graphs, errors) if graphs else _material(path, data)


def _extents(docs: list) -> list[tuple[int, int]]:
    """The lines of each document of a YAML stream: a document runs to the end of its content (a
    comment after it belongs to the next), the last one to the end of the file."""
    out, start = [], 1
    for i, doc in enumerate(docs):
        end = LAST_LINE if i == len(docs) - 1 else getattr(doc, "end_line", 0)
        out.append((start, end))
        start = end + 1
    return out


def _material(path: str, data: bytes) -> tuple[list[Graph], list[InputError]]:
    """Any other text file may still hold a PEM certificate or private key."""
    return pem.read(path, data) if b"-----BEGIN " in data else ([], [])


def _read_plan(path: str, data: bytes) -> tuple[list[Graph], list[InputError]]:
    """A Terraform plan in JSON (terraform show -json), recognized by its content."""
    from .terraform import builder, plan as tfplan   # the handlers: only for plans

    try:
        doc = load(data)
    except LoadError as exc:
        return [], [InputError(path, str(exc), exc.line)]
    if not tfplan.looks_like_plan(doc):
        return [], []
    try:
        return [builder.build(path, tfplan.records(path, doc))], []
    except RecursionError:
        return [], [InputError(path, "nesting too deep")]


def read_module(directory: str, files: list[str], var_files: tuple[str, ...] = (), roots: tuple[str, ...] = ()) \
        -> tuple[list[Graph], list[InputError], list[str]]:
    """Read one Terraform module directory: graphs, errors, notices (remote modules).
    roots: the scanned directories, the only places file() may read from."""
    from .terraform import builder, modules   # tree-sitter and the evaluator: only when there is HCL

    read = modules.read_module(directory, files, var_files, roots)
    if read.records is None:
        return [], read.errors(), read.notices
    try:   # values are evaluated as the graph is built: the budget's error is known after it
        graph = builder.build(directory, read.records, read.holds_keys)
    except RecursionError:
        return [], [*read.errors(), InputError(directory, "configuration nested too deep")], read.notices
    return [graph], read.errors(), read.notices


def called_modules(tf_dirs: dict[str, list[str]]) -> set[str]:
    """Module directories read through a caller in the same scan, not as roots of their own."""
    if not tf_dirs:
        return set()
    from .terraform import modules as terraform

    return terraform.called_modules(tf_dirs)
