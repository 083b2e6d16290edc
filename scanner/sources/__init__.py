"""Source adapters: each turns one unit of input into normalized graphs, and knows no rule.

A unit is what an adapter must read as a whole: one file for CloudFormation and PEM material,
one directory for a Terraform module. `read_file` and `read_module` never raise on bad input:
they return the graphs they could build and one-line errors for what they could not.
"""
from __future__ import annotations

import os

from ..findings import InputError
from ..model import Graph
from . import cfn, pem, snapshot
from .files import CFN_EXTS, PEM_EXTS, ReadError, as_utf8, is_binary, open_regular, read_bytes
from .loader import LoadError, load, load_all

# Extensions a template-looking file is reported under when it cannot be read. Other
# extensions (.txt, none) are sniffed quietly: an unreadable one is simply not a template.
_TEMPLATE_EXTS = {".yaml", ".yml", ".json", ".template", ".cfn"}
_MARKERS = (b"AWSTemplateFormatVersion", b"Resources", b"AWS::")


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
        read = [cfn.read(path, doc, keys) for doc in docs if cfn.looks_like_template(doc)]
    except RecursionError:
        return [], [InputError(path, "nesting too deep")]
    graphs, errors = [g for g, _ in read], [e for _, errs in read for e in errs]
    return (graphs, errors) if graphs else _material(path, data)


def _material(path: str, data: bytes) -> tuple[list[Graph], list[InputError]]:
    """Any other text file may still hold a PEM certificate or private key."""
    return pem.read(path, data) if b"-----BEGIN " in data else ([], [])


def _read_plan(path: str, data: bytes) -> tuple[list[Graph], list[InputError]]:
    """A Terraform plan in JSON (terraform show -json), recognized by its content."""
    from . import tfplan   # imports the Terraform evaluator (Lark): only for plans

    try:
        doc = load(data)
    except LoadError as exc:
        return [], [InputError(path, str(exc), exc.line)]
    if not tfplan.looks_like_plan(doc):
        return [], []
    try:
        return [tfplan.build(path, doc)], []
    except RecursionError:
        return [], [InputError(path, "nesting too deep")]


def read_module(directory: str, files: list[str], var_files: tuple[str, ...] = (), roots: tuple[str, ...] = ()) \
        -> tuple[list[Graph], list[InputError], list[str]]:
    """Read one Terraform module directory: graphs, errors, notices (remote modules).
    roots: the scanned directories, the only places file() may read from."""
    from . import terraform   # python-hcl2 and Lark cost a fifth of startup: only when there is HCL

    return terraform.read_module(directory, files, var_files, roots)


def called_modules(tf_dirs: dict[str, list[str]]) -> set[str]:
    """Module directories read through a caller in the same scan, not as roots of their own."""
    if not tf_dirs:
        return set()
    from . import terraform

    return terraform.called_modules(tf_dirs)
