"""A view of one resource's values (as the format holds them, positions kept) from which
attributes are copied onto a node; the template and Terraform resources, and the live readers'
answers, are all read through it."""
from __future__ import annotations

from typing import Any, Callable

from ..model import Node, Unresolved, Where


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
