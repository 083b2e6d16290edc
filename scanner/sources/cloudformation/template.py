"""A CloudFormation template (YAML, JSON, SAM, cdk synth output) into the normalized graph.

The per-service modules (kms.py, s3.py, ...) say per resource type which property holds which
attribute (their TYPES) and fold helper resources (bucket policies, rotation schedules, CA
certificates) onto the resource they configure (their FOLDERS); this module walks the template
and applies them.
"""
from __future__ import annotations

from typing import Any

from ...errors import InputError
from ...model import Graph, Ignore, Node, Where
from ... import certs
from ..loader import PosDict
from ..resource_view import ResourceView, elsewhere
from ..attrmap import TAGS, TypeMap, at
from . import acm, iam, kms, monitoring, pca, s3, secrets, tls
from .resolve import ResRef, Resolver, referenced


# Every resource type read, from the per-service modules: for this reader and for fix.py.
_SERVICES = (kms, pca, s3, acm, iam, secrets, tls, monitoring)
TYPES: dict[str, TypeMap] = {t: m for service in _SERVICES for t, m in service.TYPES.items()}
FOLDERS = {t: f for service in _SERVICES for t, f in service.FOLDERS.items()}
# Resources whose attributes belong to another's node (a secret's rotation schedule): where a fix
# writes them.
HELPERS: dict[str, TypeMap] = {t: m for service in _SERVICES for t, m in getattr(service, "HELPERS", {}).items()}
# A tagged resource of any other type is a plain `resource` node: CW108 compares the environments
# of everything that refers to one key.
tagged = TypeMap("resource", {"tags": at("Tags", conv=TAGS)})


def looks_like_template(doc: Any) -> bool:
    res = doc.get("Resources") if isinstance(doc, dict) else None
    return isinstance(res, dict) and any(
        isinstance(r, dict) and isinstance(r.get("Type"), str) and r["Type"].startswith(("AWS::", "Custom::"))
        for r in res.values())


class Resource(ResourceView):
    """One resource of the template while its node is being built."""

    path_prefix = ("Properties",)

    def __init__(self, tpl: "Template", name: str, body: dict):
        self.tpl, self.name, self.body = tpl, name, body
        props = body.get("Properties")
        self.props = self.values = props if isinstance(props, dict) else PosDict()
        line, col = tpl.resources.pos.get(name, (0, 0)) if hasattr(tpl.resources, "pos") else (0, 0)
        self.where = self.base = Where(tpl.file, line, col, ("Resources", name),
                                       end_line=getattr(body, "end_line", 0))
        self.node = Node(id=name, kind="", name=name, source="cfn", where=self.where, type=body.get("Type", ""))

    def get(self, *path):
        """The resolved value at path; None when absent."""
        value = self.raw(*path)
        return None if value is None else self.tpl.resolver.resolve(value)


class Template:
    def __init__(self, file: str, doc: dict):
        self.file, self.doc = file, doc
        self.resources = doc["Resources"]
        self.resolver = Resolver(doc)
        self.graph = Graph(unit=file, source="cfn")
        self.by_name: dict[str, Resource] = {}
        self.may_hold_keys = True

    def build(self) -> Graph:
        for name, body in self.resources.items():
            if not isinstance(body, dict) or not isinstance(body.get("Type"), str):
                continue
            res = Resource(self, str(name), body)
            self.by_name[res.name] = res
            self.graph.blocks[res.name] = res.where
            spec = TYPES.get(res.node.type)
            if spec is None and isinstance(res.props.get("Tags"), (list, dict)):
                # Other tagged resources still matter: CW108 compares the environments of
                # everything that refers to one key.
                spec = tagged
            if spec is not None:
                res.node.kind = spec.kind
                spec.read(res)
                self.graph.add(res.node)
            self.graph.ignores += metadata_ignores(self.file, res.name, body)
            self.resolver.budget.blame(self.file, res.where.line, None)
        names = {n: True for n in self.by_name}
        for res in self.by_name.values():   # generic edges: who mentions whom
            if res.name in self.graph.nodes:
                for target in referenced(res.props, names):
                    self.graph.link(res.name, target, "refers_to")
        for res in self.by_name.values():
            folder = FOLDERS.get(res.node.type)
            if folder:
                folder(self, res)
        if self.may_hold_keys:
            self.private_keys()
        return self.graph

    def private_keys(self) -> None:
        """Any string of the template that holds a private key becomes a private_key node (CW504)."""
        for section, body in self.doc.items():
            if not isinstance(body, dict):
                continue
            for name, entry in body.items():
                line, col = getattr(body, "pos", {}).get(name, (0, 0))
                owner = str(name) if section == "Resources" else f"{section}.{name}"   # Parameters.TlsKey, ...
                where = Where(self.file, line, col, (section, name))
                for node in certs.private_key_nodes_in(entry, where, owner, "cfn", (section, name)):
                    self.graph.add(node)

    def target(self, value) -> Node | None:
        """The node a ResRef (or a literal bucket/resource name) points at."""
        if isinstance(value, ResRef):
            return self.graph.nodes.get(value.target)
        if isinstance(value, str):
            for node in self.graph.nodes.values():
                if node.attrs.get("bucket_name") == value:
                    return node
        return None

    def target_or_own(self, value, kind: str, r: "Resource") -> Node:
        """The node of `kind` a helper configures; for one outside the template (a policy for a
        bucket made elsewhere, a schedule for a secret given by ARN), a node of the helper's own,
        which rules about the resource itself skip."""
        node = self.target(value)
        if node is not None and node.kind == kind:
            return node
        return self.graph.add(Node(id=r.name, kind=kind, name=r.name, source="cfn", where=r.where,
                                   type=r.node.type, attrs={"managed_elsewhere": True,
                                                            "display": elsewhere(value, r.name)}))


def metadata_ignores(file: str, name: str, body: dict) -> list[Ignore]:
    """A resource's `Metadata.certwarden.ignore` entries: where JSON templates, which cannot hold
    comments, write their suppressions (YAML ones may too)."""
    meta = body.get("Metadata")
    cw = meta.get("certwarden") if isinstance(meta, dict) else None
    entries = cw.get("ignore") if isinstance(cw, dict) else None
    out = []
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict):
            continue
        line = entries.pos[i][0] if hasattr(entries, "pos") else 0
        code = entry.get("code")
        codes = tuple(code) if isinstance(code, list) else (str(code),) if code else ()
        until = entry.get("until")
        out.append(Ignore(file, line, name, codes, str(entry.get("reason") or "").strip(), str(until) if until else None))
    return out


def read(file: str, doc: dict, may_hold_keys: bool = True) -> tuple[Graph, list[InputError]]:
    """The template's graph, and its error when resolving it ran out of budget.
    may_hold_keys=False (the text has no "PRIVATE KEY-----") skips walking every string."""
    tpl = Template(file, doc)
    tpl.may_hold_keys = may_hold_keys
    graph = tpl.build()
    return graph, tpl.resolver.budget.errors(file)


def build(file: str, doc: dict, may_hold_keys: bool = True) -> Graph:
    return read(file, doc, may_hold_keys)[0]


