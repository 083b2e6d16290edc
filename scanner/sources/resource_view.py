"""What every adapter's handlers share: value converters, and a view of one resource's
values (as the format holds them, positions kept) from which attributes are copied onto a node.
"""
from __future__ import annotations

from typing import Any, Callable

from ..model import Node, Unresolved, Where


# -- value conversions: each returns the converted value or Unresolved ------------------------
def to_bool(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    return v if isinstance(v, Unresolved) else Unresolved(f"not a boolean: {v!r}")


def to_int(v):
    if isinstance(v, bool):
        return Unresolved("not a number")
    if isinstance(v, (int, float)):
        return int(v)
    if isinstance(v, str):
        try:
            return int(v.strip())
        except ValueError:
            pass
    return v if isinstance(v, Unresolved) else Unresolved(f"not a number: {v!r}")


def to_str(v):
    if isinstance(v, (str, int, float)) and not isinstance(v, bool):
        return str(v)
    return v if isinstance(v, Unresolved) else Unresolved("value known only after deployment")


def to_tags(v):
    if isinstance(v, list):
        out = {}
        for t in v:
            if isinstance(t, dict) and isinstance(t.get("Key"), str):
                out[t["Key"]] = t.get("Value") if isinstance(t.get("Value"), str) else Unresolved("tag value")
        return out
    if isinstance(v, dict):   # SAM and some resources take a plain map
        return {k: (val if isinstance(val, str) else Unresolved("tag value")) for k, val in v.items()}
    return v if isinstance(v, Unresolved) else {}


def template_name(arn):
    """An ACM PCA template ARN as the template's name (EndEntityCertificate/V1)."""
    arn = to_str(arn)
    return arn.split(":template/")[-1] if isinstance(arn, str) else arn





def canned_acl(v):
    """CloudFormation's PublicRead and Terraform's public-read name the same canned ACL."""
    v = to_str(v)
    if isinstance(v, Unresolved):
        return v
    out = []
    for i, ch in enumerate(v):
        if ch.isupper() and i:
            out.append("-")
        out.append(ch.lower())
    return "".join(out).replace("--", "-")


class ResourceView:
    """One resource's values while its node is built. Subclasses say where the values are
    (`values`), where the resource is written (`base`) and how a value is resolved (`get`)."""

    node: Node
    values: Any
    base: Where
    path_prefix: tuple = ()
    # Terraform nested blocks are lists of blocks: a string key reads the first one.
    first_of_block_list: bool = False

    def _step(self, container, key):
        if self.first_of_block_list and isinstance(container, list) and isinstance(key, str):
            container = container[0] if container else None
        return container

    def raw(self, *path):
        value: Any = self.values
        for key in path:
            value = self._step(value, key)
            if isinstance(value, dict) and key in value:
                value = value[key]
            elif isinstance(value, list) and isinstance(key, int) and key < len(value):
                value = value[key]
            else:
                return None
        return value

    def get(self, *path):
        return self.raw(*path)

    def spot(self, *path) -> Where:
        """Where the value at path is written (as deep as the path exists)."""
        where, container, full = self.base, self.values, self.base.path + self.path_prefix
        for key in path:
            container = self._step(container, key)
            try:
                line, col = container.pos[key]
                container = container[key]
            except (AttributeError, TypeError, KeyError, IndexError):
                break
            full += (key,)
            where = where.at(line, col, full)
        return where

    def put(self, attr: str, *path, conv: Callable = lambda v: v, node: Node | None = None, **spot_args) -> Any:
        """Copy the value at path onto the node as attr (absent stays absent)."""
        value = self.get(*path)
        if value is None:
            return None
        value = conv(value) if not isinstance(value, Unresolved) else value
        (node or self.node).set(attr, value, self.spot(*path, **spot_args))
        return value


def elsewhere(target, helper: str) -> str:
    """How messages name a resource outside the unit that a helper configures (a bucket policy
    for a bucket of another stack): by the name the helper gives it, and the helper."""
    named = target if isinstance(target, str) and target else "outside this unit"
    return f"{named} (configured by {helper})"
