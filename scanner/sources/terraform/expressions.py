"""Terraform expressions evaluated as far as the configuration alone allows.

Values are plain Python (str, int, float, bool, None, PosDict, PosList) or the ones values.py
holds (Ref, PartialText, Unresolved); the operators and functions are in functions.py.
"""
from __future__ import annotations

import re
from typing import Any

from tree_sitter import Node

from ...model import Unresolved
from ..budget import EXHAUSTED, EXPRESSION, Budget
from ..loader import PosDict, PosList
from .functions import FUNCTIONS, GROWING, OPERATORS, Unknown, cost
from .hcl import Expr, HclError, Source, parse
from .values import HOLE, PartialText, Ref, Text, is_known, to_text, unknown

MAX_DEPTH = 64
MAX_INT_BITS = 1024       # Terraform numbers are big, but squaring one again and again is a hang


def _text(value: str, line: int) -> Text:
    t = Text(value)
    t.line = line
    return t


class Context:
    """What names mean in one module; terraform.Module implements it."""

    def var(self, name: str) -> Any: return unknown(f"variable {name}")
    def local(self, name: str) -> Any: return unknown(f"local {name}")
    def data(self, type_: str, name: str, attr: str | None) -> Any: return unknown(f"data.{type_}.{name}")
    def module_output(self, name: str, output: str) -> Any: return unknown(f"module.{name}.{output}")
    def resource(self, type_: str, name: str, key: Any = None) -> Ref | None: return None
    def path(self, name: str) -> Any: return unknown(f"path.{name}")
    def file(self, name: str) -> Any: return unknown(f"file({name!r}) is not read")


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
# Backslash escapes, and $${ and %%{ (a literal ${ and %{), in one pass.
_ESC = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)|\$(?=\$\{)|%(?=%\{)")


def _unescape(s: str) -> str:
    if "\\" not in s and "$${" not in s and "%%{" not in s:   # most strings: nothing _ESC matches
        return s

    def one(m):
        e = m.group(1)
        if e is None:   # the first of $$ or %% before {
            return ""
        if len(e) > 1:   # \uXXXX or \UXXXXXXXX; a bare \u is left as written, like other unknown escapes
            code = int(e[1:], 16)
            return chr(code) if code <= 0x10FFFF else "\\" + e
        return _ESCAPES.get(e, "\\" + e)
    return _ESC.sub(one, s)


_OPERATOR_TOKENS = frozenset(OPERATORS)


def _terms(node: Node) -> list[Node]:
    """The children that carry meaning: comments may stand between any two tokens."""
    return [c for c in node.children if c.type != "comment"]


def _named(node: Node) -> list[Node]:
    return [c for c in node.named_children if c.type != "comment"]


class Evaluator:
    def __init__(self, ctx: Context, budget: Budget | None = None):
        self.ctx = ctx
        self.budget = budget or Budget()
        self.refs: set[str] = set()      # resource addresses met since the caller last cleared it
        self._depth = 0
        self._src: Source | None = None  # the file whose nodes are being evaluated
        self._snippets: dict[str, Expr | None] = {}

    def eval(self, tree: Any, scope: dict | None = None) -> Any:
        """The value of an expression (an Expr; within one, a node of its source)."""
        if self._depth > MAX_DEPTH:
            return unknown("expression nested too deep")
        if not self.budget.spend(EXPRESSION):
            return EXHAUSTED
        self._depth += 1
        outer = self._src
        if isinstance(tree, Expr):
            self._src, tree = tree.source, tree.node
        try:
            return self._eval(tree, scope or {})
        except RecursionError:
            return unknown("expression nested too deep")
        finally:
            self._depth -= 1
            self._src = outer

    def _text(self, node: Node) -> str:
        return self._src.text(node)

    def _pos(self, node: Node) -> tuple[int, int]:
        return self._src.start(node)

    # -- dispatch -------------------------------------------------------------------------
    def _eval(self, t: Node, scope: dict) -> Any:
        d = t.type
        if d == "expression":
            return self._sequence(_terms(t), scope)
        if d in ("literal_value", "collection_value", "template_expr", "operation", "for_expr"):
            inner = _named(t)   # wrappers of one node: evaluated as that node (one spend, one level)
            return self._eval(inner[0], scope) if inner else unknown("empty expression")
        if d == "numeric_lit":
            text = self._text(t)
            return int(text) if text.isdigit() else float(text)
        if d == "bool_lit":
            return self._text(t) == "true"
        if d == "null_lit":
            return None
        if d in ("string_lit", "quoted_template"):
            return self._string(t, scope)
        if d == "heredoc_template":
            return self._heredoc(t, scope)
        if d == "tuple":
            out = PosList()
            out.pos = []
            for item in _named(t):
                if item.type == "expression":
                    out.append(self.eval(item, scope))
                    out.pos.append(self._pos(item))
            return out
        if d == "object":
            return self._object(t, scope)
        if d == "variable_expr":
            name = self._text(t)
            return self.budget.spend_on(scope[name]) if name in scope else unknown(f"bare name {name}")
        if d == "function_call":
            return self._call(t, scope)
        if d == "conditional":
            cond, yes, no = [c for c in _named(t) if c.type == "expression"]
            c = self.eval(cond, scope)
            if isinstance(c, bool):
                return self.eval(yes if c else no, scope)
            self.eval(yes, scope), self.eval(no, scope)   # still collect references
            return c if isinstance(c, Unresolved) else unknown("condition is not a boolean")
        if d == "binary_operation":
            return self._binary(t, scope)
        if d == "unary_operation":
            terms = _terms(t)
            op = terms[0].type
            v = self._sequence(terms[1:], scope)
            if not is_known(v):
                return to_text(v) if isinstance(v, Ref) else v
            if op == "!":
                return (not v) if isinstance(v, bool) else unknown("! of a non-boolean")
            return -v if isinstance(v, (int, float)) and not isinstance(v, bool) else unknown("- of a non-number")
        if d in ("for_tuple_expr", "for_object_expr"):
            return self._for(t, scope)
        return unknown(f"{d} is not evaluated")

    def _sequence(self, terms: list[Node], scope: dict) -> Any:
        """A term and the traversal steps after it (`a.b[0]`, `(x).y`, `f()[1]`): an expression's
        children, or an operand's, which the grammar does not wrap in an expression node."""
        if not terms:
            return unknown("empty expression")
        paren = terms[0].type == "("
        base, steps = (terms[1], terms[3:]) if paren else (terms[0], terms[1:])
        if not steps:
            return self._eval(base, scope) if not paren else self.eval(base, scope)
        steps = [s for step in steps for s in self._steps(step, scope)]
        if base.type == "variable_expr" and not paren:
            # A reference copies the value, as far as whoever reads the result is concerned.
            return self.budget.spend_on(self._lookup(self._text(base), steps, scope))
        return self._apply(self.eval(base, scope), steps)

    def _steps(self, op: Node, scope: dict) -> list[tuple]:
        if op.type == "get_attr":
            return [("attr", self._text(_named(op)[0]))]
        if op.type == "index":
            return [self._index(_named(op)[0], scope)]
        if op.type != "splat":
            return [("index", unknown(f"{op.type} is not evaluated"))]
        out = [("splat",)]
        for sub in _named(_named(op)[0]):
            out.append(("attr", self._text(_named(sub)[0])) if sub.type == "get_attr" else self._index(_named(sub)[0], scope))
        return out

    def _index(self, op: Node, scope: dict) -> tuple:
        if op.type == "legacy_index":   # a.0
            return ("index", int(self._text(op)[1:]))
        return ("index", self.eval(_named(op)[0], scope))

    # -- strings --------------------------------------------------------------------------
    def _template(self, pieces: list, line: int) -> Any:
        """Join known text and values; PartialText when some are unknown."""
        out, holes = [], []
        for p in pieces:
            if isinstance(p, str):
                out.append(p)
            else:
                v = to_text(p)
                if isinstance(v, Unresolved):
                    holes.append(v)
                    out.append(HOLE)
                else:
                    out.append(v)
        if not self.budget.spend(sum(map(len, out))):   # before joining: the parts may repeat a large value
            return EXHAUSTED
        text = "".join(out)
        if holes:
            return PartialText(holes[0].reason, text, line)
        return _text(text, line)

    def _string(self, t: Node, scope: dict) -> Any:
        """A quoted string: the text between its parts (tree-sitter's literal nodes leave out
        some spaces), unescaped, and its interpolations evaluated."""
        data = self._src.data
        children = t.children
        pieces, at = [], children[0].end_byte
        for part in children[1:]:
            if part.type in ("template_interpolation", "template_directive", "quoted_template_end"):
                if part.start_byte > at:
                    pieces.append(_unescape(data[at:part.start_byte].decode("utf-8", "surrogatepass")))
                at = part.end_byte
                if part.type == "template_interpolation":
                    inner = [c for c in _named(part) if c.type == "expression"]
                    pieces.append(self.eval(inner[0], scope) if inner else unknown("empty interpolation"))
                elif part.type == "template_directive":
                    pieces.append(unknown("template directive"))
        return self._template(pieces, self._pos(t)[0])

    def _heredoc(self, t: Node, scope: dict) -> Any:
        raw = self._text(t)
        trim = raw.startswith("<<-")
        first_nl = raw.index("\n")
        body = raw[first_nl + 1:]
        body = body[: body.rstrip("\n").rfind("\n") + 1] if "\n" in body.rstrip("\n") else ""
        if trim:
            lines = body.split("\n")
            indent = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
            body = "\n".join(x[indent:] for x in lines)
        line = self._pos(t)[0] + 1
        return self._template(self._interpolate(body, scope), line)

    def _interpolate(self, body: str, scope: dict) -> list:
        """Split heredoc text into literal text and evaluated ${...} parts."""
        pieces, i, n = [], 0, len(body)
        while i < n:
            j = body.find("${", i)
            if j < 0:
                pieces.append(body[i:])
                break
            if j > 0 and body[j - 1] == "$":      # $${ is a literal ${
                pieces.append(body[i:j - 1] + "${")
                i = j + 2
                continue
            pieces.append(body[i:j])
            depth, k = 1, j + 2
            while k < n and depth:
                depth += {"{": 1, "}": -1}.get(body[k], 0)
                k += 1
            pieces.append(self._snippet(body[j + 2:k - 1], scope) if depth == 0 else unknown("unclosed ${"))
            i = k
        if "%{" in body:
            pieces.append(unknown("template directive"))
        return pieces

    def _snippet(self, expr: str, scope: dict) -> Any:
        if expr not in self._snippets:
            try:
                attr = parse(f"x = {expr}\n", "").attrs.get("x")
            except HclError:   # an interpolation that is not an expression: unknown, not fatal
                attr = None
            self._snippets[expr] = attr.expr if attr is not None else None
        tree = self._snippets[expr]
        return unknown("interpolation not understood") if tree is None else self.eval(tree, scope)

    def _object(self, t: Node, scope: dict) -> Any:
        out = PosDict()
        out.pos = {}
        for elem in _named(t):
            if elem.type != "object_elem":
                continue
            key_expr, value_expr = [c for c in _named(elem) if c.type == "expression"]
            bare = _terms(key_expr)
            if len(bare) == 1 and bare[0].type == "variable_expr":   # a = 1: the name, not a variable
                key = self._text(bare[0])
            else:
                key = self.eval(key_expr, scope)
            value = self.eval(value_expr, scope)
            if not isinstance(key, (str, int, float, bool)):
                return unknown("object key known only after apply")
            out[str(key)] = value
            out.pos[str(key)] = self._pos(elem)
        return out

    # -- references -----------------------------------------------------------------------
    def _lookup(self, root: str, steps: list, scope: dict) -> Any:
        names = [s[1] for s in steps if s[0] == "attr"]
        if root in scope:
            return self._apply(scope[root], steps)
        if root == "var" and steps and steps[0][0] == "attr":
            return self._apply(self.ctx.var(steps[0][1]), steps[1:])
        if root == "local" and steps and steps[0][0] == "attr":
            return self._apply(self.ctx.local(steps[0][1]), steps[1:])
        if root == "data" and len(names) >= 2:
            rest = _after_attrs(steps, 2)
            attr = rest[0][1] if rest and rest[0][0] == "attr" else None
            return self._apply(self.ctx.data(names[0], names[1], attr), rest[1:] if attr else rest)
        if root == "module" and len(names) >= 2:
            rest = _after_attrs(steps, 2)
            return self._apply(self.ctx.module_output(names[0], names[1]), rest)
        if root == "path" and len(names) == 1:
            return self.ctx.path(names[0])
        if root in ("count", "each", "self", "path", "terraform"):
            return unknown(f"{root}.{'.'.join(names)} is known only per instance or at run time")
        if names:
            key = steps[1][1] if len(steps) > 1 and steps[1][0] == "index" else None   # x["logs"]: an instance
            ref = self.ctx.resource(root, names[0], key)
            if ref is not None:
                self.refs.add(ref.address)
                rest = _after_attrs(steps, 1)
                attr = rest[0][1] if rest and rest[0][0] == "attr" else None
                return Ref(ref.address, attr) if len(rest) <= 1 else unknown(f"{ref.address} is known only after apply")
        return unknown(f"unknown name {root}.{'.'.join(names)}")

    def _apply(self, value: Any, steps: list) -> Any:
        for i, step in enumerate(steps):
            if isinstance(value, (Unresolved, Ref)):
                return value
            if step[0] == "splat":
                if value is None:
                    value = []
                items = value if isinstance(value, list) else [value]
                rest = steps[i + 1:]
                return [self._apply(v, rest) for v in items]
            key = step[1]
            if isinstance(key, Unresolved):
                return key
            if isinstance(value, dict) and isinstance(key, (str, int)) and str(key) in value:
                value = value[str(key)]
            elif isinstance(value, list) and isinstance(key, int) and not isinstance(key, bool) and -len(value) <= key < len(value):
                value = value[key]
            else:
                return unknown(f"no {key!r} in the value")
        return value

    # -- operators ------------------------------------------------------------------------
    def _binary(self, t: Node, scope: dict) -> Any:
        terms = _terms(t)
        at = next(i for i, c in enumerate(terms) if not c.is_named and c.type in _OPERATOR_TOKENS)
        op = terms[at].type
        a = self._sequence(terms[:at], scope)
        if op in ("&&", "||") and isinstance(a, bool) and a == (op == "||"):
            self._sequence(terms[at + 1:], scope)
            return a
        b = self._sequence(terms[at + 1:], scope)
        if op in ("&&", "||") and isinstance(b, bool) and b == (op == "||"):
            return b
        for v in (a, b):
            if not is_known(v):
                return v if isinstance(v, Unresolved) else unknown("value known only after apply")
        try:
            value = OPERATORS[op](a, b)
        except (TypeError, ZeroDivisionError, ValueError, KeyError):
            return unknown(f"operator {op} on these values")
        if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
            return unknown(f"operator {op}: a number over {MAX_INT_BITS} bits")
        return value

    def _for(self, t: Node, scope: dict) -> Any:
        parts = _named(t)
        intro = parts[1]
        idents = [self._text(p) for p in _named(intro) if p.type == "identifier"]
        coll = self.eval(_named(intro)[-1], scope)
        if isinstance(coll, (Unresolved, Ref)):
            return coll if isinstance(coll, Unresolved) else unknown("for over a resource")
        cond = next((p for p in parts if p.type == "for_cond"), None)
        exprs = [p for p in parts[2:] if p.type == "expression"]
        items = list(coll.items()) if isinstance(coll, dict) else list(enumerate(coll)) if isinstance(coll, list) else None
        if items is None:
            return unknown("for over a non-collection")
        tuple_out, obj_out = PosList(), PosDict()
        tuple_out.pos, obj_out.pos = [], {}
        for k, v in items:
            inner = dict(scope)
            if len(idents) == 2:
                inner[idents[0]], inner[idents[1]] = k, v
            else:
                inner[idents[0]] = v
            if cond is not None:
                c = self.eval(_named(cond)[0], inner)
                if not isinstance(c, bool):
                    return unknown("for condition not known")
                if not c:
                    continue
            if t.type == "for_tuple_expr":
                tuple_out.append(self.eval(exprs[0], inner))
                tuple_out.pos.append(self._pos(exprs[0]))
            else:
                key = self.eval(exprs[0], inner)
                if not isinstance(key, str):
                    return unknown("for key not known")
                obj_out[key] = self.eval(exprs[1], inner)
                obj_out.pos[key] = self._pos(exprs[1])
        return tuple_out if t.type == "for_tuple_expr" else obj_out

    # -- functions ------------------------------------------------------------------------
    def _call(self, t: Node, scope: dict) -> Any:
        parts = _named(t)
        name = self._text(parts[0])
        arg_trees = [a for a in _named(parts[-1]) if a.type == "expression"] if parts[-1].type == "function_arguments" else []
        if name == "try":
            last = unknown("try() with no known argument")
            for a in arg_trees:
                v = self.eval(a, scope)
                if not isinstance(v, Unresolved) or isinstance(v, PartialText):
                    return v
                last = v
            return last
        args = [self.eval(a, scope) for a in arg_trees]
        if name == "file" and len(args) == 1:
            return self.ctx.file(args[0]) if isinstance(args[0], str) else \
                unknown("file() of a path known only after apply")
        fn = FUNCTIONS.get(name)
        if fn is None:
            return unknown(f"function {name}() is not evaluated")
        if name in GROWING and not self.budget.spend(GROWING[name](*args)):
            return EXHAUSTED
        try:
            value = fn(*args)
            return value if self.budget.spend(cost(value)) else EXHAUSTED
        except Unknown as exc:
            return exc.value
        except (TypeError, ValueError, IndexError, KeyError, AttributeError, ZeroDivisionError, OverflowError):
            return unknown(f"{name}() on these arguments")


def _after_attrs(steps: list, count: int) -> list:
    """Steps after the first `count` attribute names (index and splat steps between are skipped)."""
    seen = 0
    for i, s in enumerate(steps):
        if s[0] == "attr":
            seen += 1
            if seen == count:
                return [x for x in steps[i + 1:] if x[0] == "attr"]
    return []
