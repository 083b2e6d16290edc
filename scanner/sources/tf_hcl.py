"""HCL files parsed into blocks and attributes that keep their positions.

python-hcl2's dict output turns expressions back into text and drops positions, so we read
its Lark tree instead: every block and attribute keeps its line and column, and expressions
stay trees for tf_eval to evaluate.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import hcl2
from lark import Token, Tree

from .loader import MAX_DEPTH, bracket_depth_over

# Lark's trees take up to ~1 KB of memory per byte of expression-dense HCL (parsing is linear, at
# ~100 KB/s on such input): 512 KiB bounds one file to a few seconds and a few hundred MB, ten
# times the largest .tf in the benchmark corpus.
MAX_BYTES = 512 * 1024
_MARKER_TRAILING = re.compile(r"^([ \t]*[A-Za-z][A-Za-z0-9._-]*)[ \t]+$", re.M)


class HclError(Exception):
    def __init__(self, message: str, line: int = 0):
        super().__init__(message)
        self.line = line


@dataclass
class Attr:
    name: str
    expr: Tree
    file: str
    line: int
    column: int
    end_line: int = 0      # where the value ends (exclusive): what a fix replaces, with expr's start
    end_column: int = 0


@dataclass
class Block:
    type: str
    labels: list[str]
    file: str
    line: int
    column: int
    end_line: int = 0
    end_column: int = 0    # just after the closing brace: a fix inserts before it
    attrs: dict[str, Attr] = field(default_factory=dict)
    blocks: list["Block"] = field(default_factory=list)

    def attr(self, name: str) -> Attr | None:
        return self.attrs.get(name)

    def children(self, type_: str) -> list["Block"]:
        return [b for b in self.blocks if b.type == type_]


def _name(tree) -> str:
    """Text of an identifier, keyword, literal or quoted label."""
    if isinstance(tree, Token):
        return str(tree)
    if tree.data == "string":
        return "".join(str(p.children[0]) for p in tree.children
                       if isinstance(p, Tree) and p.data == "string_part" and isinstance(p.children[0], Token))
    return "".join(str(t) for t in tree.scan_values(lambda v: isinstance(v, Token)))


def _body(tree: Tree, file: str, into: Block) -> None:
    for child in tree.children:
        if not isinstance(child, Tree):
            continue
        if child.data == "attribute":
            parts = [c for c in child.children if isinstance(c, Tree) or c.type != "EQ"]
            name, expr = _name(parts[0]), parts[-1]
            into.attrs[name] = Attr(name, expr, file, child.meta.line, child.meta.column,
                                   child.meta.end_line, child.meta.end_column)
        elif child.data == "block":
            heads = [c for c in child.children if isinstance(c, Tree) and c.data != "body"
                     and c.data != "new_line_or_comment"]
            block = Block(_name(heads[0]), [_name(h) for h in heads[1:]], file, child.meta.line, child.meta.column,
                          child.meta.end_line, child.meta.end_column)
            body = next((c for c in child.children if isinstance(c, Tree) and c.data == "body"), None)
            if body is not None:
                _body(body, file, block)
            into.blocks.append(block)


def _syntax_error(exc: Exception) -> str:
    """What the parser stopped at, by kind and place only: Lark's own message quotes the token,
    which may be a whole unterminated heredoc (a private key in a tfvars file)."""
    kind = getattr(getattr(exc, "token", None), "type", None)
    if kind is None and not hasattr(exc, "char"):
        return type(exc).__name__
    what = {None: "character", "$END": "end of file", "STRING_CHARS": "text"}.get(kind, f"token {kind}")
    line, column = getattr(exc, "line", 0), getattr(exc, "column", 0)
    return f"unexpected {what} at line {line}, column {column}" if isinstance(line, int) and line > 0 else f"unexpected {what}"


def _tree(text: str) -> Tree:
    """python-hcl2's Lark tree of the text; HclError (with the line) when it is not valid HCL."""
    if len(text) > MAX_BYTES:
        raise HclError(f"file is {len(text) // 1024} KiB, over the {MAX_BYTES // 1024} KiB limit for HCL")
    if "<<" in text:
        # Terraform accepts a heredoc's closing marker followed by spaces; the grammar does not.
        text = _MARKER_TRAILING.sub(r"\1", text)
    if not text.endswith("\n"):
        text += "\n"   # the grammar wants a final newline
    if bracket_depth_over(text.encode(), brackets=b"[]{}()"):   # before Lark builds a tree we walk recursively
        raise HclError(f"nesting deeper than {MAX_DEPTH} levels")
    try:
        return hcl2.parses_to_tree(text)
    except RecursionError:
        raise HclError("nesting too deep") from None
    except Exception as exc:   # lark raises many types; each is a syntax error in the file
        line = getattr(exc, "line", 0) or 0
        raise HclError(f"invalid HCL: {_syntax_error(exc)}", line if isinstance(line, int) and line > 0 else 0) from None


def comment_tokens(text: str) -> list[tuple[int, int, str]]:
    """(line, column, text) of the tokens holding comments: the parser's own view, so nothing in
    a string or heredoc is one."""
    return [(t.line, t.column, str(t)) for t in _tree(text).scan_values(
        lambda v: isinstance(v, Token) and v.type == "NL_OR_COMMENT" and ("#" in v or "/" in v))]


def parse(text: str, file: str) -> Block:
    """The file as one root block; HclError (with the line) when it is not valid HCL."""
    tree = _tree(text)
    root = Block("", [], file, 1, 1)
    body = tree.children[0] if tree.children and isinstance(tree.children[0], Tree) else None
    if body is not None:
        try:
            _body(body, file, root)
        except RecursionError:
            raise HclError("nesting too deep") from None
    return root

