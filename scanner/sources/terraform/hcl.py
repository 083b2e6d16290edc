"""HCL files parsed into blocks and attributes that keep their positions.

python-hcl2's dict output turns expressions back into text and drops positions, so we read
its Lark tree instead: every block and attribute keeps its line and column, and expressions
stay trees for expressions.py to evaluate.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import hcl2
from lark import Token, Tree

from ..loader import MAX_DEPTH, bracket_depth_over

# Lark's trees take up to ~1 KB of memory per byte of expression-dense HCL (parsing is linear, at
# ~100 KB/s on such input): 512 KiB bounds one file to a few seconds and a few hundred MB, ten
# times the largest .tf in the benchmark corpus. What costs is tokens, not bytes: a whole-line
# comment is one token however long, so it counts one byte (a file of "#" lines still counts one
# per line). Terraform itself has no limit; files stay under files.MAX_FILE_BYTES.
MAX_BYTES = 512 * 1024
_COMMENT_LINE = re.compile(r"^[ \t]*(?:#|//)[^\n]*", re.M)
_MARKER_TRAILING = re.compile(r"^([ \t]*[A-Za-z][A-Za-z0-9._-]*)[ \t]+$", re.M)
MAX_INT_DIGITS = 4300   # sys.int_info.default_max_str_digits: int() refuses longer text
# A literal that could overflow a float64 or int(): an exponent of 3+ digits, or 309+ digits in a row.
_HUGE_NUMBER = re.compile(r"[eE][+-]?\d{3}|\d{309}")


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


def weight(text: str) -> int:
    """The size that counts against MAX_BYTES: whole-line comments count one byte each."""
    if len(text) <= MAX_BYTES:
        return len(text)
    return len(text) - sum(m.end() - m.start() - 1 for m in _COMMENT_LINE.finditer(text))


def _parse_tree(text: str) -> Tree:
    try:
        return hcl2.parses_to_tree(text)
    except RecursionError:
        raise HclError("nesting too deep") from None
    except Exception as exc:   # lark raises many types; each is a syntax error in the file
        line = getattr(exc, "line", 0) or 0
        raise HclError(f"invalid HCL: {_syntax_error(exc)}", line if isinstance(line, int) and line > 0 else 0) from None


def _letter(c: str) -> bool:
    return not c.isascii() and ("a" + c).isidentifier()


def _any_script(text: str) -> Tree:
    """python-hcl2's tree of the text. Its grammar takes ASCII identifiers only, where HCL takes
    any letter (`locals { clé = 1 }`): when such a file fails, non-ASCII letters are read as
    ASCII ones (one character each, so every position holds) and the tokens get them back."""
    try:
        return _parse_tree(text)
    except HclError:
        if text.isascii() or not any(map(_letter, text)):
            raise
    ascii_text = "".join("a" if _letter(c) else c for c in text)
    tree = _parse_tree(ascii_text)
    for sub in tree.iter_subtrees():
        for i, tok in enumerate(sub.children):
            if isinstance(tok, Token) and tok.start_pos is not None:
                original = text[tok.start_pos:tok.end_pos]
                if original != tok and ascii_text[tok.start_pos:tok.end_pos] == tok:
                    sub.children[i] = Token.new_borrow_pos(tok.type, original, tok)
    return tree


def _check_numbers(tree: Tree) -> None:
    """A fraction no float64 holds (1e999 is infinite) or an integer Python will not convert
    from text (over 4300 digits) is refused: no AWS argument takes one. Large integers below
    that are read, and evaluation budgets what is computed from them."""
    for tok in tree.scan_values(lambda v: isinstance(v, Token) and v.type in ("INT_LITERAL", "FLOAT_LITERAL")):
        if (len(tok.lstrip("-")) > MAX_INT_DIGITS if tok.type == "INT_LITERAL" else not math.isfinite(float(tok))):
            raise HclError(f"number {tok[:20]}{'...' * (len(tok) > 20)} is out of range", tok.line or 0)


def _tree(text: str) -> Tree:
    """python-hcl2's Lark tree of the text; HclError (with the line) when it is not valid HCL."""
    size = weight(text)
    if size > MAX_BYTES:
        raise HclError(f"file holds {size // 1024} KiB of HCL besides whole-line comments, "
                       f"over the {MAX_BYTES // 1024} KiB limit")
    if "<<" in text:
        # Terraform accepts a heredoc's closing marker followed by spaces; the grammar does not.
        text = _MARKER_TRAILING.sub(r"\1", text)
    if not text.endswith("\n"):
        text += "\n"   # the grammar wants a final newline
    if bracket_depth_over(text.encode(), brackets=b"[]{}()"):   # before Lark builds a tree we walk recursively
        raise HclError(f"nesting deeper than {MAX_DEPTH} levels")
    tree = _any_script(text)
    if _HUGE_NUMBER.search(text):
        _check_numbers(tree)
    return tree


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

