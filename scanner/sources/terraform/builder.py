"""Terraform resources into the normalized graph: each resource read through its type's map
(the TYPES of each service module), then helper resources (bucket policy, ACL and public access block, key policy,
rotation, CA certificates, HSMs) folded onto what they configure (their FOLDERS), with spots
that still point at the helper's own lines.
"""
from __future__ import annotations

from ...model import Graph, Node, Unresolved
from ... import certs
from ..resource_view import elsewhere
from ..attrmap import TAGS, TypeMap, at
from . import acm, cloudhsm, iam, kms, monitoring, pca, s3, secrets, tls
from .resources import Record, TfResource
from .values import FileText, Ref


# Every resource type read, from the per-service modules: for this builder and for fix.py.
_SERVICES = (kms, pca, s3, acm, iam, secrets, tls, monitoring, cloudhsm)
TYPES: dict[str, TypeMap] = {t: m for service in _SERVICES for t, m in service.TYPES.items()}
FOLDERS = {t: f for service in _SERVICES for t, f in service.FOLDERS.items()}
# Resources whose attributes belong to another's node (a bucket's public access block): where a
# fix writes them.
HELPERS: dict[str, TypeMap] = {**s3.HELPERS, **secrets.HELPERS}
# A tagged resource of any other type is a plain `resource` node: CW108 compares the environments
# of everything that refers to one key.
tagged = TypeMap("resource", {"tags": at("tags", conv=TAGS)})


def build(unit: str, records: list[Record], holds_keys: bool = True) -> Graph:
    """The graph of one module or plan. holds_keys=False (no text read holds a private key's
    PEM marker) skips looking for keys in every string, and so evaluating every resource."""
    return Builder(Graph(unit=unit, source="tf"), holds_keys).build(records)


def _tagged(rec: Record) -> bool:
    """Other tagged resources still matter: CW108 compares the environments of everything that
    refers to one key. Only the tags are read to tell; the rest when the node is built."""
    tags = rec.attr("tags")
    return isinstance(tags, (dict, Unresolved)) and tags != {}


class Builder:
    def __init__(self, graph: Graph, holds_keys: bool = True):
        self.graph, self.holds_keys = graph, holds_keys

    def target(self, value, kind: str) -> Node | None:
        """The node a Ref (or a literal bucket name / id) points at, if it has that kind."""
        node = None
        if isinstance(value, Ref):
            node = self.graph.nodes.get(value.address)
        elif isinstance(value, str):
            node = next((n for n in self.graph.nodes.values()
                         if n.kind == kind and n.attrs.get("bucket_name") == value), None)
        return node if node is not None and node.kind == kind else None

    def own_node(self, r: TfResource, kind: str) -> Node:
        """A helper for a resource outside the unit (a bucket's policy, a secret's rotation):
        checked on a node of its own, which rules about the resource itself skip."""
        node = self.graph.nodes.get(r.rec.address)
        if node is None:
            target = r.get("bucket") if kind == "s3_bucket" else r.get("secret_id")
            node = self.graph.add(Node(id=r.rec.address, kind=kind, name=r.rec.display, source="tf",
                                       where=r.rec.where, type=r.rec.type,
                                       attrs={"managed_elsewhere": True, "display": elsewhere(target, r.rec.display)}))
        return node

    def record(self, value) -> Record | None:
        """The resource a Ref points at, with its values (a subnet's zone, a policy's attributes)."""
        return self.records.get(value.address) if isinstance(value, Ref) else None

    def build(self, records: list[Record]) -> Graph:
        self.records = {rec.address: rec for rec in records}
        helpers = []
        for rec in records:
            self.graph.blocks[rec.display] = rec.where   # every block, helpers too: suppressions target them
            spec = TYPES.get(rec.type)
            if spec is None and _tagged(rec):
                spec = tagged
            if spec is not None:
                r = TfResource(rec, spec.kind)
                spec.read(r)
                self.graph.add(r.node)
            helpers.append(TfResource(rec))
        for r in helpers:
            if r.rec.address in self.graph.nodes:
                for target in sorted(r.rec.refs):
                    if target != r.rec.address:
                        self.graph.link(r.rec.address, target, "refers_to")
        for r in helpers:
            folder = FOLDERS.get(r.rec.type)
            if folder:
                folder(self, r)
            if self.holds_keys:
                self._private_keys(r.rec)
        return self.graph

    def _private_keys(self, rec: Record) -> None:
        """Any string of a resource that holds a private key becomes a private_key node (CW504).
        Text read with file() is left to its own file, which the scan reads as material."""
        for node in certs.private_key_nodes_in(rec.values, rec.where, rec.display, "tf", rec.where.path,
                                                skip=lambda s: isinstance(s, FileText)):
            self.graph.add(node)
