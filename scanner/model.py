"""The normalized graph every source is turned into and every rule reads.

A source adapter builds one Graph per unit it understands as a whole (a CloudFormation
template, a Terraform module, one account and region, one PEM file). Rules never see a
format: only kinds, normalized attributes and typed edges.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

# What an account ID or region resolves to when the code means "wherever this is deployed"
# (CloudFormation's AWS::AccountId, Terraform's data.aws_caller_identity). Policy checks treat
# this token as the key's own account.
SELF_ACCOUNT = "<self-account>"


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A value the adapter could not know statically. Rules stay silent on it."""

    reason: str

    def __bool__(self) -> bool:  # an unresolved value is never taken as truthy by accident
        return False

    def __str__(self) -> str:
        return f"<unresolved: {self.reason}>"


def is_unresolved(value: Any) -> bool:
    return isinstance(value, Unresolved)


@dataclass(frozen=True, slots=True)
class Where:
    """Where a node or attribute comes from: a place in a file, or a live resource."""

    file: str | None = None          # path as given to the scanner (code, PEM)
    line: int = 0                    # 1-based; 0 when unknown
    column: int = 0                  # 1-based; 0 when unknown
    path: tuple = ()                 # property path inside the resource, e.g. ("Properties", "KeyPolicy")
    resource: str | None = None      # owning resource when it differs from the node (folded resources)
    arn: str | None = None           # live
    region: str | None = None        # live
    account: str | None = None       # live
    end_line: int = 0                # last line of the block, on a resource's own Where (0: unknown)

    def at(self, line: int, column: int, path: tuple = ()) -> "Where":
        return Where(self.file, line, column, path, self.resource, self.arn, self.region, self.account)


@dataclass(slots=True)
class Node:
    """One resource or one piece of material, in normalized form."""

    id: str                          # unique inside its graph
    kind: str                        # kms_key, s3_bucket, pca_authority, certificate, ...
    name: str                        # logical ID, Terraform address, ARN or file label
    source: str                      # cfn | tf | live | pem
    where: Where
    type: str = ""                   # the format's own type name (AWS::KMS::Key, aws_kms_key)
    attrs: dict[str, Any] = field(default_factory=dict)
    spots: dict[str, Where] = field(default_factory=dict)   # attribute -> where it is written

    def set(self, attr: str, value: Any, where: Where | None = None) -> None:
        self.attrs[attr] = value
        if where is not None:
            self.spots[attr] = where

    def spot(self, attr: str | None) -> Where:
        if attr and attr in self.spots:
            return self.spots[attr]
        return self.where

    @property
    def tags(self) -> dict:
        tags = self.attrs.get("tags")
        return tags if isinstance(tags, dict) else {}


@dataclass(frozen=True, slots=True)
class Edge:
    src: str
    dst: str
    kind: str    # applies_to, writes_crl_to, certifies, issued_by, serves, encrypted_by, rotates, refers_to


@dataclass(frozen=True, slots=True)
class Ignore:
    """A suppression written in a unit's data rather than in a comment (CloudFormation's
    Metadata.certwarden.ignore): read by the adapter, which knows the format, and applied with
    the comments' by suppressions.py."""

    file: str
    line: int
    resource: str | None
    codes: tuple[str, ...]        # as written: codes or names
    reason: str
    until: str | None


@dataclass(slots=True)
class Graph:
    """The resources of one unit (template, module, account-region, file) and their links."""

    unit: str                        # label of the unit: a file path, a module dir, account/region
    source: str
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    # Every resource block of the unit by name, helpers folded into others included, with its
    # extent (Where.line..end_line): what an inline suppression comment applies to.
    blocks: dict[str, Where] = field(default_factory=dict)
    ignores: list[Ignore] = field(default_factory=list)
    # The unit's lines (first, last) when its file holds several units (a YAML stream of templates):
    # the comments that can belong to it.
    lines: tuple[int, int] | None = None

    def add(self, node: Node) -> Node:
        self.nodes[node.id] = node
        return node

    def link(self, src: str, dst: str, kind: str) -> None:
        if src in self.nodes and dst in self.nodes:
            self.edges.append(Edge(src, dst, kind))

    def out(self, node: Node, kind: str) -> Iterator[Node]:
        for e in self.edges:
            if e.src == node.id and e.kind == kind:
                yield self.nodes[e.dst]

    def into(self, node: Node, kind: str) -> Iterator[Node]:
        for e in self.edges:
            if e.dst == node.id and e.kind == kind:
                yield self.nodes[e.src]

    def of_kind(self, *kinds: str) -> Iterator[Node]:
        return (n for n in self.nodes.values() if n.kind in kinds)
