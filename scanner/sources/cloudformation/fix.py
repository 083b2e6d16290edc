"""CloudFormation side of `certwarden fix`: a rule's normalized fix (`fix.set`) as text edits of
one template, YAML or JSON.

The edits are the smallest that do it: a value is replaced where it is written (a comment after
it stays), a missing key is added to the end of its mapping (YAML block style) or as a new first
member (JSON and YAML flow style, where that needs no search for a closing bracket), and missing
intermediate mappings (Properties, PublicAccessBlockConfiguration, ...) are written in full.
Where an attribute is written, and how, comes from the attribute maps the reader uses
(template.TYPES).

Positions come from the project's loader (PosDict.pos, .line/.column/.end_line); the only text
read here is the scalar after a key, to know its extent. Every result is checked by loading the
edited text again: it must equal the original with exactly the wanted values changed, or the
adapter declines (None) rather than hand back an edit it had to guess.
"""
from __future__ import annotations

from typing import Any

from ..edits import Edit, layers
from ..loader import LoadError, load_all
from .template import HELPERS, TYPES
from .text import Planner, Text, Want, checks, document, past_bom, plain


def _wanted(rtype: Any, values: dict, body: dict) -> dict | None:
    """The values as a tree of property keys ending in Want leaves; None if one is unknown. Of
    several paths for one attribute, the one the resource already writes (a schedule stays one)."""
    spec = (TYPES.get(rtype) or HELPERS.get(rtype)) if isinstance(rtype, str) else None
    if spec is None or not values:
        return None
    tree: dict = {}
    for attr, normalized in values.items():
        prop = spec.fix_path(attr, lambda path: _written(body, ("Properties", *path)))
        if prop is None:
            return None
        try:
            leaf = Want(prop.conv.write(normalized), normalized, prop.conv.read)
        except TypeError:
            return None
        node = tree
        for key in prop.path[:-1]:
            node = node.setdefault(key, {})
        node[prop.path[-1]] = leaf
    return {"Properties": tree}


def _written(mapping: Any, path: tuple) -> bool:
    for key in path:
        if not isinstance(mapping, dict) or key not in mapping:
            return False
        mapping = mapping[key]
    return True


def _helper_of(resources: dict, resource: str, values: dict) -> str | None:
    """The one helper resource (a rotation schedule) that configures `resource` (by Ref) and
    writes the values, when the resource itself cannot."""
    body = resources[resource]
    spec = TYPES.get(body.get("Type")) if isinstance(body, dict) else None
    for htype, helper in HELPERS.items():
        if spec is None or helper.of is None or helper.kind != spec.kind:
            continue
        found = [name for name, b in resources.items() if isinstance(b, dict) and b.get("Type") == htype
                 and isinstance(b.get("Properties"), dict) and plain(b["Properties"].get(helper.of)) == {"Ref": resource}]
        if len(found) == 1 and _wanted(htype, values, resources[found[0]]) is not None:
            return found[0]
    return None


# -- the entry point ------------------------------------------------------------------------------
def edits_for(file: str, text: str, resource: str, values: dict) -> list[Edit] | None:
    """Edits of one template (YAML or JSON text) that give resource `resource` (a logical ID)
    the normalized attribute values `values` (a rule's fix.set); None when this adapter cannot
    make that change safely (unknown attribute for the type, an intrinsic function in the way,
    a resource from a nested/included file, text it cannot edit without guessing).
    An empty list: the template already has those values."""
    return edits_for_many(file, text, [(resource, values)])[0]


def edits_for_many(file: str, text: str, requests: list[tuple[str, dict]]) -> list[list[Edit] | None]:
    """edits_for of each (resource, values), each against the same text, which is loaded once
    and checked once per layer of changes that do not touch each other (not once a request:
    with thousands of findings in one file that was quadratic)."""
    if text.startswith("\ufeff"):
        return past_bom(edits_for_many(file, text[1:], requests))
    try:
        docs = load_all(text.encode("utf-8"))
    except LoadError:
        return [None] * len(requests)
    texts: dict[int, Text] = {}
    planned: list[tuple[list[Edit], tuple[int, str, dict]] | None] = []
    for resource, values in requests:
        index = document(docs, resource)
        if index is None:
            planned.append(None)
            continue
        resources = docs[index]["Resources"]
        body = resources[resource]
        tree = _wanted(body.get("Type"), values, body) if isinstance(body, dict) else None
        if tree is None and isinstance(body, dict):   # written by a helper (a secret's rotation): there
            resource = _helper_of(resources, resource, values)
            body = resources[resource] if resource is not None else body
            tree = None if resource is None else _wanted(body.get("Type"), values, body)
        if tree is None or not hasattr(resources, "pos"):
            planned.append(None)
            continue
        if index not in texts:
            texts[index] = Text(file, text, docs[index])
        edits = Planner(texts[index]).mapping(body, tree, resources.pos[resource][0])
        planned.append(None if edits is None else (sorted(edits), (index, resource, tree)))
    out: list[list[Edit] | None] = [None] * len(requests)
    for layer in layers([(i, p[0], p[1][:2]) for i, p in enumerate(planned) if p is not None]):
        edits = [e for i in layer for e in planned[i][0]]
        if checks(text, edits, docs, [planned[i][1] for i in layer]):
            for i in layer:
                out[i] = planned[i][0]
            continue
        for i in layer:   # one of them is wrong: each is judged alone
            if checks(text, planned[i][0], docs, [planned[i][1]]):
                out[i] = planned[i][0]
    return out
