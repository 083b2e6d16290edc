"""Terraform modules (every .tf file of a directory) into the normalized graph.

Variables take, lowest first: their default, terraform.tfvars, *.auto.tfvars (by name), then
--var-file files; a variable with none of these is Unresolved and never yields a finding.
Local modules are followed with the inputs their call gives them (to MAX_MODULE_DEPTH); a
remote module is noted as not scanned. A resource with count or for_each whose collection is
known is read once per instance (count.index, each.key and each.value in scope), named
`type.name[0]` or `type.name["key"]`; one whose collection is not known is read once, as
`type.name[*]`; one whose count is known to be 0 (or for_each empty) does not exist.
"""
from __future__ import annotations

import functools
import json
import math
import os
import re
from typing import Any

from ...errors import InputError
from ...model import SELF_ACCOUNT, Unresolved, Where
from ..budget import ELEMENT, MODULE, Budget
from ..files import ReadError, as_utf8, confinement, is_binary, open_regular, read_bytes, real_directory, refused
from ..loader import PosDict, PosList
from .expressions import Context, Evaluator
from .values import FileText, Ref, unknown
from .hcl import Attr, Block, Expr, HclError
from .parsed import parse_kept
from .resources import Record

MAX_MODULE_DEPTH = 5
MAX_FILE_READ = 1024 * 1024   # file() of anything larger is Unresolved: certificates and keys are small
# data sources that look a KMS key up: the argument naming it, the attributes that identify it
_KMS_LOOKUPS = {"aws_kms_key": ("key_id", {"id", "arn", "key_id"}),
                "aws_kms_alias": ("name", {"id", "arn", "name", "target_key_id", "target_key_arn"})}
_META = {"count", "for_each", "depends_on", "provider", "providers", "source", "version"}


class Report:
    """What one read of a module directory found besides resources."""

    def __init__(self):
        self.errors: list[InputError] = []
        self.notices: list[str] = []
        # Whether a resource's strings may hold a private key: some text read (HCL, variables,
        # what file() returned) holds a PEM private key's marker. Only then is every string of
        # every resource looked at for one (CW504). What file() returns is known only once the
        # call is evaluated, so a configuration that calls it has those calls evaluated first
        # (Module.read_files).
        self.holds_keys = False
        self.calls_file = False

    def read(self, data: bytes) -> bytes:
        self.holds_keys = self.holds_keys or _KEY_MARKER in data
        self.calls_file = self.calls_file or _FILE_CALL in data
        return data


# A PEM private key block's first line ends so. A key spelt in pieces joined by interpolation
# is not looked for: no reviewer reads it as a key either, and looking would mean evaluating
# every resource of every configuration.
_KEY_MARKER = b"PRIVATE KEY-----"
_FILE_CALL = b"file("   # templatefile( too


def _mentions_file(expr: Expr) -> bool:
    return _FILE_CALL in expr.source.data[expr.node.start_byte:expr.node.end_byte]


def _block_mentions_file(block: Block) -> bool:
    return any(_mentions_file(a.expr) for a in block.attrs.values()) or any(map(_block_mentions_file, block.blocks))


def _read_hcl(path: str, report: Report, roots=None) -> Block | None:
    try:
        data = report.read(read_bytes(path, roots=roots))
        if is_binary(data):
            raise ReadError("binary file, not Terraform")
        return parse_kept(as_utf8(data).decode("utf-8"), path)
    except ReadError as exc:
        report.errors.append(InputError(path, str(exc)))
    except HclError as exc:
        report.errors.append(InputError(path, str(exc), exc.line))
    return None


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        _not_finite(text)
    return value


def _not_finite(text: str):
    raise ValueError(f"number {text[:20]} is out of range")


def read_var_file(path: str, report: Report, roots=None, budget: Budget | None = None) -> dict:
    """Values of a .tfvars (HCL) or .tfvars.json file (with roots: only one inside them)."""
    if path.endswith(".json"):
        try:
            doc = json.loads(as_utf8(report.read(read_bytes(path, roots=roots))), parse_constant=_not_finite,
                             parse_float=_finite)
        except ReadError as exc:
            report.errors.append(InputError(path, str(exc)))
            return {}
        except ValueError as exc:
            report.errors.append(InputError(path, f"invalid variables file: {str(exc).splitlines()[0]}"))
            return {}
        return doc if isinstance(doc, dict) else {}
    root = _read_hcl(path, report, roots)
    if root is None:
        return {}
    ev = Evaluator(Context(), budget)
    return {name: ev.budget.blame(a.file, a.line, ev.eval(a.expr)) for name, a in root.attrs.items()}


class Module(Context):
    def __init__(self, directory: str, files: list[str], report: Report, graph_records: list,
                 prefix: str = "", inputs: dict | None = None, depth: int = 0, chain: tuple = (),
                 roots: tuple[str, ...] = (), budget: Budget | None = None):
        self.dir, self.report, self.records = directory, report, graph_records
        self.roots = roots   # real paths: every file this module reads lies inside one (files.confinement)
        self.prefix, self.inputs, self.depth = prefix, inputs, depth
        self.chain = chain + (real_directory(directory),)
        self.budget = budget or Budget()   # one for the root module and every module it calls
        self.ev = Evaluator(self, self.budget)
        self.variables: dict[str, Block] = {}
        self.locals: dict[str, Any] = {}
        self.resources: dict[tuple, Block] = {}
        self.data_blocks: dict[tuple, Block] = {}
        self.calls: dict[str, Block] = {}
        self.outputs: dict[str, Block] = {}
        self.children: dict[str, Module | None] = {}
        self.values: dict[str, Any] = {}
        self.instances: dict[tuple, dict[str, dict]] = {}   # count/for_each known: suffix -> scope
        self.reading_files: list[Record] = []   # the records whose blocks call file()
        self._cache: dict[tuple, Any] = {}
        for path in sorted(files):
            root = _read_hcl(path, report, roots)
            if root is not None:
                self._collect(root)

    def _collect(self, root: Block) -> None:
        for b in root.blocks:
            labels = b.labels
            if b.type == "variable" and labels:
                self.variables[labels[0]] = b
            elif b.type == "locals":
                self.locals.update(b.attrs)
            elif b.type == "resource" and len(labels) >= 2:
                self.resources[(labels[0], labels[1])] = b
            elif b.type == "data" and len(labels) >= 2:
                self.data_blocks[(labels[0], labels[1])] = b
            elif b.type == "module" and labels:
                self.calls[labels[0]] = b
            elif b.type == "output" and labels:
                self.outputs[labels[0]] = b

    # -- Context: what names mean ---------------------------------------------------------
    def var(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        block = self.variables.get(name)
        if block is None:
            return unknown(f"variable {name} is not declared")
        if block.attr("default") is not None:
            return self._once(("var", name), lambda: Evaluator(Context(), self.budget).eval(block.attr("default").expr))
        return unknown(f"variable {name} has no value")

    def local(self, name: str) -> Any:
        a = self.locals.get(name)
        if a is None:
            return unknown(f"local {name} is not defined")
        return self._once(("local", name), lambda: self._value(a))

    def resource(self, type_: str, name: str, key: Any = None) -> Ref | None:
        """A resource, or with the index written after it (`x["logs"]`, `x[0]`) the instance
        when its collection is known."""
        if (type_, name) not in self.resources:
            return None
        address = f"{self.prefix}{type_}.{name}"
        instances = self.instances.get((type_, name))
        if instances and isinstance(key, (str, int)) and not isinstance(key, bool) and _suffix(key) in instances:
            return Ref(address + _suffix(key))
        return Ref(address)

    def data(self, type_: str, name: str, attr: str | None) -> Any:
        if type_ == "aws_caller_identity" and attr == "account_id":
            return SELF_ACCOUNT
        if type_ == "aws_partition" and attr == "partition":
            return "aws"
        block = self.data_blocks.get((type_, name))
        if type_ == "aws_iam_policy_document" and block is not None and attr in ("json", "minified_json"):
            return self._once(("data", name), lambda: self._policy_document(block))
        if type_ in _KMS_LOOKUPS and block is not None and attr in _KMS_LOOKUPS[type_][1]:
            # An AWS managed key looked up by its alias: the alias names the key as well as its ARN.
            arg = block.attr(_KMS_LOOKUPS[type_][0])
            alias = self.ev.eval(arg.expr) if arg is not None else None
            if isinstance(alias, str) and alias.startswith("alias/aws/"):
                return alias
        return unknown(f"data.{type_}.{name}.{attr} is read at plan time")

    def path(self, name: str) -> Any:
        if name == "module":
            return self.dir
        if name in ("root", "cwd"):
            return self.chain[0]
        return unknown(f"path.{name} is not known")

    def file(self, name: str) -> Any:
        """file(): a relative path is read from the root module's directory, where Terraform runs."""
        path = os.path.join(self.chain[0], name)
        try:
            text = FileText(as_utf8(self.report.read(read_bytes(path, MAX_FILE_READ, self.roots))).decode("utf-8"))
        except ReadError as exc:
            return unknown(f"file({name!r}) cannot be read: {exc}")
        text.path = os.path.realpath(path)
        return text

    def module_output(self, name: str, output: str) -> Any:
        child = self.child(name)
        if child is None or output not in child.outputs or child.outputs[output].attr("value") is None:
            return unknown(f"module.{name}.{output} is not known")
        return child.output(output)

    def output(self, name: str) -> Any:
        """The value of an output this module declares with a value."""
        value = self.outputs[name].attr("value")
        return self._once(("output", name), lambda: self.ev.eval(value.expr))

    def _once(self, key: tuple, compute):
        """Evaluate once; a value that refers back to itself is Unresolved."""
        if key not in self._cache:
            self._cache[key] = unknown(f"{key[0]} {key[1]} refers to itself")
            self._cache[key] = compute()
        return self._cache[key]

    # -- blocks to values -----------------------------------------------------------------
    def block_values(self, block: Block, scope: dict | None = None) -> PosDict:
        """Attributes evaluated, nested blocks as lists of mappings (the shape of plan JSON)."""
        out = PosDict()
        out.pos = {}
        self.budget.spend(ELEMENT)   # every block read costs, however empty: dynamic blocks repeat them
        for name, a in block.attrs.items():
            out[name] = self._value(a, scope)
            out.pos[name] = (a.line, a.column)
        for b in block.blocks:
            if b.type == "dynamic" and b.labels:
                self._dynamic(b, out, scope)
                continue
            self._append(out, b.type, self.block_values(b, scope), (b.line, b.column))
        return out

    @staticmethod
    def _append(out: PosDict, name: str, value, pos: tuple) -> None:
        if not isinstance(out.get(name), PosList):
            out[name] = PosList()
            out[name].pos = []
            out.pos.setdefault(name, pos)
        out[name].append(value)
        out[name].pos.append(pos)

    def _dynamic(self, b: Block, out: PosDict, scope: dict | None) -> None:
        name = b.labels[0]
        content = next(iter(b.children("content")), None)
        coll = self.ev.eval(b.attr("for_each").expr, scope) if b.attr("for_each") else unknown("no for_each")
        it = self.ev.eval(b.attr("iterator").expr) if b.attr("iterator") else name
        it = it if isinstance(it, str) else name
        if content is None:
            return
        if isinstance(coll, (dict, list)) and not isinstance(coll, Unresolved):
            items = coll.items() if isinstance(coll, dict) else enumerate(coll)
            for k, v in items:
                inner = dict(scope or {})
                inner[it] = {"key": k, "value": v}
                self._append(out, name, self.block_values(content, inner), (b.line, b.column))
        else:
            self._append(out, name, coll if isinstance(coll, Unresolved) else unknown("dynamic block"),
                         (b.line, b.column))

    def _policy_document(self, block: Block) -> Any:
        """data "aws_iam_policy_document" as the JSON document it renders."""
        values = self.block_values(block)
        statements = PosList()
        statements.pos = []
        for key in ("source_policy_documents", "source_json"):
            for doc in values.get(key) or [] if key.endswith("s") else [values.get(key)] if values.get(key) else []:
                if isinstance(doc, dict) and isinstance(doc.get("Statement"), list):
                    statements.extend(doc["Statement"])
                    statements.pos.extend(getattr(doc["Statement"], "pos", [(block.line, block.column)] * len(doc["Statement"])))
                elif doc is not None:
                    statements.append(doc if isinstance(doc, Unresolved) else unknown("source policy not known"))
                    statements.pos.append((block.line, block.column))
        raw = values.get("statement") or []
        for i, st in enumerate(raw if isinstance(raw, list) else []):
            statements.append(_statement(st) if isinstance(st, dict) else st)
            statements.pos.append(raw.pos[i])
        doc = PosDict(Version="2012-10-17", Statement=statements)
        doc.pos = {"Version": (block.line, block.column), "Statement": (block.line, block.column)}
        return doc

    # -- resources and modules ------------------------------------------------------------
    def build(self, var_overrides: dict) -> None:
        if self.inputs is not None:
            self.values.update(self.inputs)
        else:
            self.values.update(var_overrides)
        repeated = {}
        for key, block in self.resources.items():
            if block.attr("count") is not None or block.attr("for_each") is not None:
                repeated[key] = _instances(block, self.ev.eval((block.attr("count") or block.attr("for_each")).expr))
                if repeated[key]:
                    self.instances[key] = repeated[key]
        for (type_, name), block in self.resources.items():
            address = f"{self.prefix}{type_}.{name}"
            where = Where(block.file, block.line, block.column, ("resource", type_, name), end_line=block.end_line)
            instances = repeated.get((type_, name), {"": None})
            if instances is None:   # the collection is not known: one record stands for them all
                instances = {"[*]": None}
            reads_files = self.report.calls_file and _block_mentions_file(block)
            for suffix, scope in instances.items():
                own = address + suffix if scope is not None else address
                self.records.append(Record(own, type_, address + suffix, where=where,
                                           read=functools.partial(self._resource_values, block, scope),
                                           attr=functools.partial(self._resource_attr, block, scope)))
                if reads_files:
                    self.reading_files.append(self.records[-1])
        for name in self.calls:
            child = self.child(name)
            if child is not None:
                child.build({})

    def read_files(self) -> None:
        """Evaluate whatever calls file() here and in the modules called, so that Report.read has
        seen every text a resource could hold before the builder asks whether any holds a key.
        Module arguments, count and for_each were evaluated by build; locals, outputs, data
        sources and resources are evaluated only when used, so those that call file() are
        evaluated now (a data source as far as data() reads it: a policy document's JSON)."""
        for name, a in self.locals.items():
            if _mentions_file(a.expr):
                self.local(name)
        for name, block in self.outputs.items():
            if block.attr("value") is not None and _mentions_file(block.attr("value").expr):
                self.output(name)
        for (type_, name), block in self.data_blocks.items():
            if _block_mentions_file(block):
                self.data(type_, name, "json")
        for record in self.reading_files:
            record.values   # evaluated (and kept) for the file() calls it makes
        for child in self.children.values():
            if child is not None:
                child.read_files()

    def _resource_values(self, block: Block, scope: dict | None) -> tuple[PosDict, set[str]]:
        """A resource's values and the resources they refer to: evaluated when first asked for,
        once the whole configuration is read (nothing it depends on changes after that)."""
        self.ev.refs = set()
        values = self.block_values(block, scope)
        return values, set(self.ev.refs)

    def _resource_attr(self, block: Block, scope: dict | None, name: str) -> Any:
        a = block.attr(name)
        return None if a is None else self._value(a, scope)

    def _value(self, a: Attr, scope: dict | None = None) -> Any:
        """An attribute's value; the budget, once spent, names the attribute that spent it."""
        return self.budget.blame(a.file, a.line, self.ev.eval(a.expr, scope))

    def child(self, name: str) -> "Module | None":
        if name in self.children:
            return self.children[name]
        self.children[name] = None
        call = self.calls.get(name)
        if call is None:   # a reference to an undeclared module: invalid, but no reason to stop
            return None
        source = self.ev.eval(call.attr("source").expr) if call.attr("source") else None
        if not isinstance(source, str):
            return None
        if not source.startswith(("./", "../")):
            self.report.notices.append(
                f"{call.file}:{call.line}: module.{name} comes from {source!r}, a remote module, not scanned")
            return None
        directory = os.path.normpath(os.path.join(self.dir, source))
        if (reason := confinement(directory, self.roots)) is not None:
            self.report.notices.append(f"{call.file}:{call.line}: module.{name} comes from {source!r}, {refused(reason)}")
            return None
        if self.depth + 1 > MAX_MODULE_DEPTH or real_directory(directory) in self.chain:
            self.report.notices.append(
                f"{call.file}:{call.line}: module.{name} not followed (nesting deeper than {MAX_MODULE_DEPTH} or a loop)")
            return None
        if call.attr("count") is not None:
            n = self.ev.eval(call.attr("count").expr)
            if n == 0:
                return None
        if not self.budget.spend(MODULE):   # each call reads the module again: 30 calls a level, 5 levels
            self.budget.blame(call.file, call.line, None)
            return None
        try:
            files = [os.path.join(directory, f) for f in sorted(os.listdir(directory)) if f.endswith(".tf")]
        except OSError as exc:
            self.report.errors.append(InputError(call.file, f"module.{name}: {source}: {exc.strerror}", call.line))
            return None
        inputs = {k: self.ev.eval(a.expr) for k, a in call.attrs.items() if k not in _META}
        self.children[name] = Module(directory, files, self.report, self.records, f"{self.prefix}module.{name}.",
                                     inputs, self.depth + 1, self.chain, self.roots, self.budget)
        return self.children[name]


MAX_INSTANCES = 256   # a larger count or for_each is read once, as type.name[*]


def _suffix(key: Any) -> str:
    return f"[{key}]" if isinstance(key, int) else f"[{json.dumps(key)}]"


def _instances(block: Block, n: Any) -> dict[str, dict] | None:
    """The instances of a resource with count or for_each, each with the scope its block is
    evaluated in (count.index; each.key and each.value): {} when there are none, None when the
    collection is not known here."""
    if n is None or n == 0 or n == [] or n == {}:
        return {}
    if block.attr("count") is not None:
        if isinstance(n, int) and not isinstance(n, bool) and 0 < n <= MAX_INSTANCES:
            return {_suffix(i): {"count": {"index": i}} for i in range(n)}
        return None
    if isinstance(n, Unresolved) or not isinstance(n, (dict, list)) or len(n) > MAX_INSTANCES:
        return None
    if isinstance(n, dict):   # Terraform orders a map's instances by key
        return {_suffix(k): {"each": {"key": k, "value": n[k]}} for k in sorted(n, key=str)}
    if not all(isinstance(v, str) for v in n):   # a set of strings: key and value are the element
        return None
    return {_suffix(v): {"each": {"key": v, "value": v}} for v in sorted(set(n))}


def _statement(st: dict) -> PosDict:
    """One statement block of aws_iam_policy_document in IAM JSON form (positions kept)."""
    out = PosDict()
    out.pos = {}
    here = getattr(st, "pos", {})

    def put(key, value, pos_key):
        out[key] = value
        out.pos[key] = here.get(pos_key, (0, 0))

    put("Effect", st.get("effect", "Allow"), "effect")
    for src, dst in (("sid", "Sid"), ("actions", "Action"), ("not_actions", "NotAction"),
                     ("resources", "Resource"), ("not_resources", "NotResource")):
        if src in st:
            put(dst, st[src], src)
    for src, dst in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
        blocks = st.get(src)
        if isinstance(blocks, list) and blocks:
            principal: Any = {}
            for p in blocks:
                if not isinstance(p, dict):
                    principal = p if isinstance(p, Unresolved) else unknown("principal block")
                    break
                ptype, ids = p.get("type"), p.get("identifiers")
                if not isinstance(ptype, str):
                    principal = unknown("principal type not known")
                    break
                if ptype == "*" and isinstance(ids, list) and ids == ["*"]:
                    principal = "*"
                    break
                principal.setdefault(ptype, [])
                principal[ptype] += ids if isinstance(ids, list) else [ids]
            put(dst, principal, src)
    conds = st.get("condition")
    if isinstance(conds, list) and conds:
        cond: Any = {}
        for c in conds:
            if not isinstance(c, dict) or not all(isinstance(c.get(k), str) for k in ("test", "variable")):
                cond = unknown("condition not known")
                break
            cond.setdefault(c["test"], {})[c["variable"]] = c.get("values")
        put("Condition", cond, "condition")
    return out


class Read:
    """One root module read: its resources, whose values are evaluated when first used, and
    what the read found. errors() includes the evaluation budget's, so it is asked for last."""

    def __init__(self, directory: str, records: list[Record] | None, report: Report, budget: Budget):
        self.directory, self.records, self.report, self.budget = directory, records, report, budget
        self.notices = report.notices

    @property
    def holds_keys(self) -> bool:
        return self.report.holds_keys

    def errors(self) -> list[InputError]:
        return self.report.errors + self.budget.errors(self.directory)


def read_module(directory: str, files: list[str], var_files: tuple[str, ...] = (),
                roots: tuple[str, ...] = ()) -> Read:
    """One root module: its resources (local modules' included), errors and notices; None for
    the resources when no file of it could be read."""
    report = Report()
    records: list[Record] = []
    overrides: dict[str, Any] = {}
    budget = Budget()
    # Files are read only inside the scan: its roots, by default the root module's directory.
    roots = tuple(os.path.realpath(r) for r in roots) or (os.path.realpath(directory),)
    auto = sorted(f for f in _listdir(directory) if f.endswith((".auto.tfvars", ".auto.tfvars.json")))
    for name in [f for f in ("terraform.tfvars", "terraform.tfvars.json") if f in _listdir(directory)] + auto:
        overrides.update(read_var_file(os.path.join(directory, name), report, roots, budget))
    for path in var_files:   # named by whoever runs the scan: read wherever they are
        overrides.update(read_var_file(path, report, budget=budget))
    module = Module(directory, files, report, records, roots=roots, budget=budget)
    try:
        module.build(overrides)
        if report.calls_file and not report.holds_keys:
            module.read_files()
    except RecursionError:
        report.errors.append(InputError(directory, "configuration nested too deep"))
        return Read(directory, None, report, budget)
    parsed_any = len(records) > 0 or len(report.errors) < len(files)
    return Read(directory, records if parsed_any else None, report, budget)


# [ \t], not \s: under re.M, ^\s* scans every blank line below each line start (quadratic).
_LOCAL_SOURCE = re.compile(rb'^[ \t]*source[ \t]*=[ \t]*"(\.\.?/[^"]*)"', re.M)


def called_modules(tf_dirs: dict[str, list[str]]) -> set[str]:
    """Directories of the scan that another scanned directory calls as a local module.

    They are read through their callers (with the callers' inputs and module addresses), not
    again on their own with bare defaults: one finding per resource, as tfsec and Trivy do.
    A cheap text search is enough here; two directories that call each other both stay roots.
    """
    calls: dict[str, set[str]] = {}
    for directory, files in tf_dirs.items():
        for f in files:
            try:
                with open_regular(f) as fh:
                    text = fh.read(MAX_CALL_SCAN)
            except (ReadError, OSError):
                continue
            if b'"./' not in text and b'"../' not in text:   # no local source: skip the line search
                continue
            for m in _LOCAL_SOURCE.finditer(text):
                target = os.path.normpath(os.path.join(directory, m.group(1).decode("utf-8", "replace")))
                calls.setdefault(real_directory(directory), set()).add(real_directory(target))
    called = set()
    for directory in tf_dirs:
        real = real_directory(directory)
        if any(real in targets and caller != real and caller not in calls.get(real, ())
               for caller, targets in calls.items()):
            called.add(directory)
    return called


MAX_CALL_SCAN = 4 * 1024 * 1024


def _listdir(directory: str) -> list[str]:
    try:
        return os.listdir(directory)
    except OSError:
        return []
