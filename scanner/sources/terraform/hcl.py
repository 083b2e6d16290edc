"""HCL files parsed into blocks and attributes that keep their positions.

tree-sitter-hcl parses the file (in C, about ten times python-hcl2's Lark parse) into a tree
with a position on every node; each block and attribute keeps its line and column, and
expressions stay tree-sitter nodes (with the file's Source) for expressions.py to evaluate.
python-hcl2 is the reference the tests compare these values against (tests/test_hcl_reference.py).
"""
from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass, field

import tree_sitter_hcl
from tree_sitter import Language, Node, Parser

from ..loader import MAX_DEPTH, bracket_depth_over

# The tree costs little, but what is built from it (blocks, values) and evaluated grows with the
# expressions in the file: 512 KiB, ten times the largest .tf in the benchmark corpus, bounds one
# file to well under a second of parsing and evaluation. What costs is syntax, not bytes: a
# whole-line comment counts one byte (a file of "#" lines still counts one per line). Terraform
# itself has no limit; files stay under files.MAX_FILE_BYTES.
MAX_BYTES = 512 * 1024
_COMMENT_LINE = re.compile(r"^[ \t]*(?:#|//)[^\n]*", re.M)
MAX_INT_DIGITS = 4300   # sys.int_info.default_max_str_digits: int() refuses longer text
# Numbers are looked for in the file's shape: each ASCII digit written 0, e and E as e, + and - as
# +, every other byte a space (one C pass). Substring searches of it then find an exponent
# (0e0, 0e+0), one of 3+ digits that could overflow a float64 (0e000) and 309+ digits in a row:
# regular expressions for these were tried at every position and cost a tenth of the parse.
# A numeric literal's digits are ASCII; other digits are not numbers in HCL.
_SHAPE = bytes(ord("0") if c in b"0123456789" else ord("e") if c in b"eE" else ord("+") if c in b"+-" else ord(" ")
               for c in range(256))
_LONG_DIGITS = b"0" * 309


def _exponents(shape: bytes, digits: int) -> bool:
    """Whether some digit is followed by an exponent of at least `digits` digits."""
    return b"0e" + b"0" * digits in shape or b"0e+" + b"0" * digits in shape

# tree-sitter-hcl 1.2 reads a number with an exponent but no fraction (1e5, HCL's own syntax) as
# 1 and an identifier: it parses a copy where such an exponent is written in digits (same
# length, so every position holds), and values are read from the original text.
_EXPONENT = re.compile(r"(?<![\w.])[0-9]+[eE][+-]?[0-9]+(?![\w.])")
# It refuses an escape HCL does not define (a backslash and u12, or d), which python-hcl2 read
# and expressions.py keeps as written: the copy has two backslashes there (the same length).
_BAD_ESCAPE = re.compile(r'\\(?:[nrt"\\]|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|([\x00-\x09\x0b\x0c\x0e-\x7f]))')
_LANGUAGE = Language(tree_sitter_hcl.language())
_local = threading.local()   # a Parser is not safe to share between threads


class HclError(Exception):
    def __init__(self, message: str, line: int = 0, column: int = 0):
        super().__init__(message)
        self.line = line
        self.column = column


class Source:
    """The bytes tree-sitter read: node text, and character columns from its byte columns."""

    __slots__ = ("data", "_starts")

    def __init__(self, text: str):
        self.data = text.encode("utf-8", "surrogatepass")
        # Byte offsets of the line starts, only where a byte column is not a character column.
        self._starts = None if text.isascii() else [0] + [m.end() for m in re.finditer(b"\n", self.data)]

    def text(self, node: Node) -> str:
        return self.data[node.start_byte:node.end_byte].decode("utf-8", "surrogatepass")

    def column(self, point) -> int:
        """The 1-based character column of a tree-sitter point (row, byte column)."""
        if self._starts is None:
            return point.column + 1
        start = self._starts[point.row]
        return len(self.data[start:start + point.column].decode("utf-8", "surrogatepass")) + 1

    def start(self, node: Node) -> tuple[int, int]:
        return node.start_point.row + 1, self.column(node.start_point)

    def end(self, node: Node) -> tuple[int, int]:
        return node.end_point.row + 1, self.column(node.end_point)


@dataclass(frozen=True, slots=True)
class Expr:
    """An expression: its node, and the source it was parsed from (for text and columns)."""

    node: Node
    source: Source


class Attr:
    """name = expr in a file. Its place is read from the tree when asked for: most attributes
    of a configuration belong to resources no rule reads, and building every position costs a
    fifth of reading the blocks. line/column: where the attribute starts; end_line/end_column:
    where its value ends (exclusive), what a fix replaces from value_line/value_column on."""

    __slots__ = ("name", "expr", "file", "_node")

    def __init__(self, name: str, expr: Expr, file: str, node: Node):
        self.name, self.expr, self.file, self._node = name, expr, file, node

    @property
    def line(self) -> int:
        return self._node.start_point.row + 1

    @property
    def column(self) -> int:
        return self.expr.source.column(self._node.start_point)

    @property
    def end_line(self) -> int:
        return self._node.end_point.row + 1

    @property
    def end_column(self) -> int:
        return self.expr.source.column(self._node.end_point)

    @property
    def value_line(self) -> int:
        return self.expr.node.start_point.row + 1

    @property
    def value_column(self) -> int:
        return self.expr.source.column(self.expr.node.start_point)


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


def _label(node: Node, src: Source) -> str:
    """A block's type or label: an identifier, or a quoted string's text."""
    if node.type == "string_lit":   # what lies between the quotes, as written
        return src.data[node.children[0].end_byte:node.children[-1].start_byte].decode("utf-8", "surrogatepass")
    return src.text(node)


def _body(body: Node, src: Source, file: str, into: Block) -> None:
    """Blocks and attributes of a body, depth first without recursion (nesting is bounded
    before parsing, but a deep tree of Python calls is not worth the risk)."""
    todo = [(body, into)]
    while todo:
        body, into = todo.pop()
        for child in body.named_children:
            if child.type == "attribute":
                ident, expr = child.named_children[0], child.named_children[-1]
                name = src.text(ident)
                into.attrs[name] = Attr(name, Expr(expr, src), file, child)
            elif child.type == "block":
                parts = child.named_children   # each call builds the list again
                heads = [c for c in parts if c.type in ("identifier", "string_lit")]
                line, column = src.start(child)
                end_line, end_column = src.end(child)
                block = Block(_label(heads[0], src), [_label(h, src) for h in heads[1:]], file,
                              line, column, end_line, end_column)
                into.blocks.append(block)
                inner = next((c for c in parts if c.type == "body"), None)
                if inner is not None:
                    todo.append((inner, block))


def _walk(node: Node):
    """Every node under node, in document order, without recursion."""
    cursor = node.walk()
    while True:
        yield cursor.node
        if cursor.goto_first_child() or cursor.goto_next_sibling():
            continue
        while cursor.goto_parent():
            if cursor.goto_next_sibling():
                break
        else:
            return


def _errors(root: Node, end: int) -> list[Node]:
    """The ERROR and MISSING nodes of a parse of data[:end] that end before it does (after
    its last token): what no more text could repair."""
    return [n for n in _walk(root) if (n.is_error or n.is_missing) and n.end_byte < end]


def _invalid(what: str, line: int, column: int) -> HclError:
    return HclError(f"invalid HCL: {what} at line {line}, column {column}", line, column)


_MISSING = {"quoted_template_end": "closing quote", "heredoc_identifier": "heredoc's closing marker"}


def _missing(node: Node) -> str:
    return "missing " + _MISSING.get(node.type, node.type.replace("_", " "))


def _last_error(root: Node, src: Source) -> HclError:
    """The first error of a parse whose errors all reach the end of the text: a MISSING node
    (an unclosed string or heredoc), or the tokens an ERROR node skipped (tree-sitter gives
    them no next parse state). A file that is one ERROR from its first byte went wrong where
    the tokens it skipped at its end begin; skipping none, or only the last, it lacks text
    (an unclosed block or list)."""
    node = next(n for n in _walk(root) if n.is_error or n.is_missing)
    if node.is_missing:
        return _invalid(_missing(node), *src.start(node))
    kids = node.children
    if node.start_byte > 0:
        return _invalid("unexpected text", *src.start(next((c for c in kids if c.next_parse_state == 0), node)))
    skipped = len(kids)
    while skipped and kids[skipped - 1].next_parse_state == 0:
        skipped -= 1
    if skipped < len(kids) - 1 or skipped == len(kids) - 1 and src.data[kids[-1].end_byte:].strip():
        return _invalid("unexpected text", *src.start(kids[skipped]))
    last = src.data[src.data.rfind(b"\n") + 1:].decode("utf-8", "surrogatepass")
    return _invalid("unexpected end of file", src.data.count(b"\n") + 1, len(last) + 1)


def _syntax_error(src: Source, data: bytes, parser: Parser) -> HclError:
    """Where the text stops being HCL, by kind and place only: never the text there, which may
    be a whole unterminated heredoc (a private key in a tfvars file). tree-sitter's recovery
    picks the cheapest repair, which is often a line or more before the mistake, so the place
    is the first line whose prefix of the file no more text could repair (a binary search over
    lines, parsing prefixes of data, what the parser read: broken files only, a few dozen
    parses at most), and in it the first error node."""
    starts = [0] + [m.end() for m in re.finditer(b"\n", data)]
    if starts[-1] != len(data):
        starts.append(len(data))

    def broken(lines: int) -> list[Node]:
        prefix = data[:starts[lines]]
        return _errors(parser.parse(prefix).root_node, len(prefix.rstrip()))

    if not broken(len(starts) - 1):   # the error is in the last tokens
        return _last_error(parser.parse(data).root_node, src)
    lo, hi = 1, len(starts) - 1   # the first prefix of lines that is broken is in lo..hi
    while lo < hi:
        mid = (lo + hi) // 2
        if broken(mid):
            hi = mid
        else:
            lo = mid + 1
    on_line = [n for n in broken(lo) if n.start_point.row == lo - 1]
    if not on_line:   # the line goes on from an error before it: its first token
        text = data[starts[lo - 1]:starts[lo]]
        return _invalid("unexpected text", lo, len(text) - len(text.lstrip()) + 1)   # indentation is ASCII
    first = min(on_line, key=lambda n: n.start_byte)
    return _invalid(_missing(first) if first.is_missing else "unexpected text", *src.start(first))


def weight(text: str) -> int:
    """The size that counts against MAX_BYTES: whole-line comments count one byte each."""
    if len(text) <= MAX_BYTES:
        return len(text)
    return len(text) - sum(m.end() - m.start() - 1 for m in _COMMENT_LINE.finditer(text))


def _check_numbers(root: Node, src: Source) -> None:
    """A fraction no float64 holds (1e999 is infinite) or an integer Python will not convert
    from text (over 4300 digits) is refused: no AWS argument takes one. Large integers below
    that are read, and evaluation budgets what is computed from them."""
    for node in _walk(root):
        if node.type != "numeric_lit":
            continue
        tok = src.text(node)
        if (len(tok) > MAX_INT_DIGITS if tok.isdigit() else not math.isfinite(float(tok))):
            raise HclError(f"number {tok[:20]}{'...' * (len(tok) > 20)} is out of range", *src.start(node))


def parse_tree(text: str) -> tuple[Node, Source]:
    """tree-sitter's tree of the text (its root node) and its Source; HclError (with the line
    and column) when it is not valid HCL."""
    size = weight(text)
    if size > MAX_BYTES:
        raise HclError(f"file holds {size // 1024} KiB of HCL besides whole-line comments, "
                       f"over the {MAX_BYTES // 1024} KiB limit")
    src = Source(text)
    if bracket_depth_over(src.data, brackets=b"[]{}()"):   # before we walk what it built
        raise HclError(f"nesting deeper than {MAX_DEPTH} levels")
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = Parser(_LANGUAGE)
    data = src.data
    shape = data.translate(_SHAPE)
    exponent = _exponents(shape, 1)
    if exponent and _EXPONENT.search(text) or "\\" in text:
        read = _EXPONENT.sub(lambda m: re.sub(r"[^0-9]", "0", m.group()), text)
        read = _BAD_ESCAPE.sub(lambda m: "\\\\" if m.group(1) is not None else m.group(), read)
        data = read.encode("utf-8", "surrogatepass")
    root = parser.parse(data).root_node
    if root.has_error:
        raise _syntax_error(src, data, parser)
    if exponent and _exponents(shape, 3) or _LONG_DIGITS in shape:
        _check_numbers(root, src)
    return root, src


def comment_tokens(text: str) -> list[tuple[int, int, str]]:
    """(line, column, text) of the comments: the parser's own view, so nothing in a string or
    heredoc is one."""
    return comments(*parse_tree(text))


def comments(root: Node, src: Source) -> list[tuple[int, int, str]]:
    """comment_tokens of a tree parse_tree made."""
    return [(*src.start(n), src.text(n)) for n in _walk(root) if n.type == "comment"]


def parse(text: str, file: str) -> Block:
    """The file as one root block; HclError (with the line and column) when it is not valid HCL."""
    return blocks(*parse_tree(text), file)


def blocks(root_node: Node, src: Source, file: str) -> Block:
    """The root block of a tree parse_tree made."""
    root = Block("", [], file, 1, 1)
    body = next((c for c in root_node.named_children if c.type == "body"), None)
    if body is not None:
        _body(body, src, file, root)
    return root
