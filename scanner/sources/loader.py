"""YAML and JSON loading with positions, safe against hostile input.

libyaml (PyYAML's C parser) composes the node tree; we build plain Python values from it,
keeping the line and column of every mapping key and sequence item on the containers
(PosDict.pos / PosList.pos). This is several times faster than a pure-Python loader with
marks, and lets us refuse what would hurt before it does:
- nesting deeper than MAX_DEPTH is refused before libyaml sees it (its composer recurses in C
  and crashes the interpreter at about 100k levels);
- alias expansion is measured on the shared node tree before anything is built, so a
  "billion laughs" document is refused in milliseconds without being expanded.
"""
from __future__ import annotations

import functools
import math
import re
from itertools import accumulate

import yaml

MAX_DEPTH = 200
MAX_EXPANSION = 2_000_000      # nodes after alias expansion; real templates stay far below


class LoadError(Exception):
    """Input that cannot be read as a document. `line` is 1-based when known."""

    def __init__(self, message: str, line: int = 0):
        super().__init__(message)
        self.line = line


class PosDict(dict):
    """A mapping that remembers where each key was written: pos[key] = (line, col), 1-based."""

    __slots__ = ("pos", "line", "column", "end_line")


class PosList(list):
    """A sequence that remembers where each item was written: pos[i] = (line, col)."""

    __slots__ = ("pos", "line", "column", "end_line")


@functools.lru_cache(maxsize=8)
def _signs(brackets: bytes) -> tuple[bytes, bytes]:
    """A table writing each opening bracket as 1 and each closing one as -1 (a signed byte), and
    the bytes it drops: every other."""
    table = bytearray(256)
    for i, c in enumerate(brackets):
        table[c] = 1 if i % 2 == 0 else 0xFF
    return bytes(table), bytes(set(range(256)) - set(brackets))


def bracket_depth_over(data: bytes, limit: int = MAX_DEPTH, brackets: bytes = b"[]{}") -> bool:
    """Whether brackets (pairs: opening, closing, ...) nest deeper than `limit`: one C pass turns
    them into +1 and -1 and drops every other byte, and the running sum is taken in C too (a
    Python loop over the brackets took four times as long)."""
    table, others = _signs(brackets)
    signs = data.translate(table, others)
    if len(signs) <= limit:
        return False
    return max(accumulate(memoryview(signs).cast("b"))) > limit

# Block nesting without indentation: "- - - x", "? ? ? x" (explicit keys), ": : x" and mixes.
# Runs of indicators are matched whole and counted: `(?:[-?:][ \t]+){200}` restarted at every
# indicator of a shorter run, 200 steps a byte (9 s a MiB on "- - ... x" lines).
_INDICATORS = re.compile(rb"(?:[-?:][ \t]+){2,}")
_DEEP_INDENT = re.compile(rb"\n[ \t]{%d}" % (MAX_DEPTH * 4))
_INDICATOR_RUN = re.compile(rb"[-?:][ \t]+[-?:][ \t]")


def check_depth(data: bytes) -> None:
    """Refuse documents nested deeper than MAX_DEPTH (flow brackets or block indentation)."""
    if bracket_depth_over(data):
        raise LoadError(f"nesting deeper than {MAX_DEPTH} levels")
    # Cheap checks first: most files hold neither a run of indicators nor a deep indent.
    if (b" " * (MAX_DEPTH * 4) in data or b"\t" in data) and _DEEP_INDENT.search(data):
        raise LoadError(f"nesting deeper than {MAX_DEPTH} levels")
    if _INDICATOR_RUN.search(data) and any(len(m.group().translate(None, b" \t")) >= MAX_DEPTH
                                           for m in _INDICATORS.finditer(data)):
        raise LoadError(f"nesting deeper than {MAX_DEPTH} levels")


# CloudFormation short-form tags: !Ref and !Condition keep their names, the rest are Fn::X.
def _intrinsic(tag: str, value):
    name = tag[1:]
    if name in ("Ref", "Condition"):
        return {name: value}
    if name == "GetAtt" and isinstance(value, str):
        head, _, tail = value.partition(".")
        return {"Fn::GetAtt": [head, tail]}
    return {"Fn::" + name: value}


_SCALAR = yaml.constructor.SafeConstructor()
_TYPED_TAGS = {
    "tag:yaml.org,2002:int": _SCALAR.construct_yaml_int,
    "tag:yaml.org,2002:float": _SCALAR.construct_yaml_float,
    "tag:yaml.org,2002:bool": _SCALAR.construct_yaml_bool,
    "tag:yaml.org,2002:null": _SCALAR.construct_yaml_null,
}
_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


def _measure(root: yaml.Node) -> None:
    """Count nodes as if aliases were expanded, without expanding them (memoized per node).
    An alias inside its own anchor makes a cycle, which no expansion ends: refused too."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()   # expanded, children not yet counted: the current path
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in sizes and not done:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[key] = 1
            continue
        children = [c for pair in node.value for c in pair] if isinstance(node, yaml.MappingNode) else node.value
        if not done:
            if key in open_nodes:   # reached again below itself
                raise LoadError("recursive alias (a YAML alias inside its own anchor)", node.start_mark.line + 1)
            open_nodes.add(key)
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
            continue
        open_nodes.discard(key)
        total = 1 + sum(sizes[id(c)] for c in children)
        if total > MAX_EXPANSION:
            raise LoadError(f"alias expansion exceeds {MAX_EXPANSION} nodes (YAML alias bomb?)",
                            node.start_mark.line + 1)
        sizes[key] = total


def _last_line(node: yaml.Node) -> int:
    """The last line holding content of node (1-based). A block collection's end mark lies at
    the next token, past any trailing comments, so it is found through its last child."""
    while isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and not node.flow_style and node.value:
        node = node.value[-1][1] if isinstance(node, yaml.MappingNode) else node.value[-1]
    end = node.end_mark
    # A block scalar (| or >) ends at column 0 of the line after its text.
    return end.line if end.column == 0 and end.line > node.start_mark.line else end.line + 1


def _build(node: yaml.Node, depth: int = 0):
    if depth > MAX_DEPTH:
        raise LoadError(f"nesting deeper than {MAX_DEPTH} levels", node.start_mark.line + 1)
    tag = node.tag
    if isinstance(node, yaml.ScalarNode):
        if tag in _TYPED_TAGS:
            try:
                value = _TYPED_TAGS[tag](node)
            except (ValueError, yaml.YAMLError):
                value = node.value
            if isinstance(value, float) and not math.isfinite(value):
                # .nan, .inf, 1.0e+999: no template value (JSON has none), and rules compare numbers
                raise LoadError(f"number {node.value[:20]!r} is not finite", node.start_mark.line + 1)
        else:
            value = node.value
        return _intrinsic(tag, value) if tag.startswith("!") else value
    if isinstance(node, yaml.SequenceNode):
        out = PosList()
        out.pos = []
        for item in node.value:
            out.append(_build(item, depth + 1))
            out.pos.append((item.start_mark.line + 1, item.start_mark.column + 1))
    else:
        out = PosDict()
        out.pos = {}
        for knode, vnode in node.value:
            key = _build(knode, depth + 1)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise LoadError("mapping key is not a scalar", knode.start_mark.line + 1)
            out[key] = _build(vnode, depth + 1)
            out.pos[key] = (knode.start_mark.line + 1, knode.start_mark.column + 1)
    out.line, out.column = node.start_mark.line + 1, node.start_mark.column + 1
    out.end_line = _last_line(node)
    if tag.startswith("!") and tag not in (_MAP, _SEQ):
        return _intrinsic(tag, out)
    return out


def load_all(data: bytes) -> list:
    """Parse every YAML document of a stream (or one JSON document) into Pos* containers."""
    check_depth(data)
    loader = yaml.CSafeLoader(data)
    roots = []
    try:
        while loader.check_node():
            roots.append(loader.get_node())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise LoadError(f"invalid YAML: {exc.problem or exc.context}", line) from None
    except yaml.YAMLError as exc:
        raise LoadError(f"invalid YAML: {str(exc).splitlines()[0]}") from None
    finally:
        loader.dispose()
    docs = []
    for root in roots:
        if b"&" in data:   # without an anchor there is no alias, so nothing to expand
            _measure(root)
        docs.append(_build(root))
    return docs


def load(data: bytes):
    """Parse a single-document YAML or JSON text; None when empty."""
    docs = load_all(data)
    if len(docs) > 1:
        raise LoadError("expected one document, found several")
    return docs[0] if docs else None
