"""Declarative attribute maps: for one resource type of one format, which path holds which
normalized attribute, how its value converts on the way in (and, where a fix may write it, on
the way out), and how a missing value reads.

Each format's service modules declare a TypeMap per resource type; the format's reader copies
the attributes onto the node with `read_into`, and its fix adapter looks up the same entry to
know where a fixed value goes and how to write it. One entry per attribute and format, so
reading and fixing cannot disagree.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from ..model import Node, Unresolved
from .normalize import canned_acl, rotation_days, to_bool, to_int, to_str, to_tags, upper

if TYPE_CHECKING:
    from .resource_view import ResourceView


def _strict(kind: type) -> Callable[[Any], Any]:
    """A writer that passes a normalized value of `kind` through, and refuses anything else."""
    def write(v):
        if isinstance(v, bool) != (kind is bool) or not isinstance(v, kind):
            raise TypeError(v)
        return v
    return write


def _acl(v):
    """private -> Private, public-read -> PublicRead: CloudFormation's spelling, which canned_acl reads back."""
    return "".join(part.capitalize() for part in _strict(str)(v).split("-"))


@dataclass(frozen=True)
class Conv:
    """How a source value becomes the normalized one (`read`), and back (`write`; None: no fix
    writes it). A writer raises TypeError for a value it cannot write."""

    read: Callable[[Any], Any]
    write: Callable[[Any], Any] | None = None


RAW = Conv(lambda v: v)
BOOL = Conv(to_bool, _strict(bool))
INT = Conv(to_int, _strict(int))
STR = Conv(to_str, _strict(str))
def _upper(v):
    """An enumeration (DNS, ENABLED, TLS_1_2) as the reader reads it back: upper case only."""
    if _strict(str)(v) != v.upper():
        raise TypeError(v)
    return v


UPPER = Conv(upper, _upper)
TAGS = Conv(to_tags)
ACL = Conv(canned_acl, _acl)            # CloudFormation's AccessControl (PublicRead)
# A Secrets Manager schedule written as rate(N days): days in, and a rate of days out.
RATE_DAYS = Conv(lambda v: rotation_days(None, v), lambda v: f"rate({_strict(int)(v)} days)")
ABSENT = object()


@dataclass(frozen=True)
class Attr:
    """A normalized attribute at `path` (under the format's prefix: Properties for
    CloudFormation). `unset`: the value when the path's parent is written without it (a public
    access block that leaves a setting out stores false); under an unknown parent, unknown.
    `fix`: a fix may write it here. Only settings that change in place are: a fix that replaced
    the resource (a key's usage or spec) would destroy what it protects."""

    path: tuple
    conv: Conv = RAW
    unset: Any = ABSENT
    fix: bool = False

    @property
    def fixable(self) -> bool:
        return self.fix and self.conv.write is not None


def at(*path, conv: Conv = RAW, unset: Any = ABSENT, fix: bool = False) -> Attr:
    return Attr(tuple(path), conv, unset, fix)


@dataclass(frozen=True)
class TypeMap:
    """One resource type: the node kind, attributes that are data (read in order; a tuple lists
    paths that all set one attribute, later ones winning), values every node of the type starts
    with, and `build` for what data cannot say (policies, edges, values of several paths)."""

    kind: str
    attrs: dict[str, Attr | tuple[Attr, ...]] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    build: Callable[[Any], None] | None = None
    # A helper resource (a rotation schedule): the property naming the resource it configures,
    # so that a fix of that resource's attribute is written here.
    of: str | None = None

    def paths(self, attr: str) -> tuple[Attr, ...]:
        spec = self.attrs.get(attr)
        return () if spec is None else spec if isinstance(spec, tuple) else (spec,)

    def fix_path(self, attr: str, written: Callable[[tuple], bool] | None = None) -> Attr | None:
        """Where a fix writes attr: the writable path the resource already writes (`written`
        says; a rate() schedule stays a schedule), else the first; None when no fix may write it."""
        paths = [a for a in self.paths(attr) if a.fixable]
        return next((a for a in paths if written is not None and written(a.path)), paths[0] if paths else None)

    def read(self, r: ResourceView) -> None:
        for name, value in self.defaults.items():
            r.node.set(name, value.copy() if isinstance(value, (list, dict)) else value, r.base)
        read_into(r, self.attrs)
        if self.build is not None:
            self.build(r)


def read_into(r: ResourceView, attrs: dict[str, Attr | tuple[Attr, ...]], node: Node | None = None,
              **spot_args) -> None:
    """Copy each attribute the view holds onto the node (the view's own, or the one a helper
    resource configures, with spot_args saying so)."""
    node = node or r.node
    for name, spec in attrs.items():
        for a in spec if isinstance(spec, tuple) else (spec,):
            if r.put(name, *a.path, conv=a.conv.read, node=node, **spot_args) is not None or a.unset is ABSENT:
                continue
            parent = r.get(*a.path[:-1]) if len(a.path) > 1 else r.values
            if parent is not None:
                node.set(name, parent if isinstance(parent, Unresolved) else a.unset,
                         r.spot(*a.path[:-1], **spot_args))
