"""Terraform expressions evaluated as far as the configuration alone allows.

Values are plain Python (str, int, float, bool, None, PosDict, PosList) or the ones values.py
holds (Ref, PartialText, Unresolved); the operators and functions are in functions.py.
"""
from __future__ import annotations

import re
from typing import Any

import hcl2
from lark import Token, Tree

from ...model import Unresolved
from ..budget import EXHAUSTED, EXPRESSION, Budget
from ..loader import PosDict, PosList
from .functions import FUNCTIONS, GROWING, OPERATORS, Unknown, cost
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
_ESC = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)")


def _unescape(s: str) -> str:
    def one(m):
        e = m.group(1)
        if len(e) > 1:   # \uXXXX or \UXXXXXXXX; a bare \u is left as written, like other unknown escapes
            code = int(e[1:], 16)
            return chr(code) if code <= 0x10FFFF else "\\" + e
        return _ESCAPES.get(e, "\\" + e)
    return _ESC.sub(one, s)


def _parts(tree: Tree) -> list:
    """Children that carry meaning (no punctuation tokens, newlines or comments)."""
    return [c for c in tree.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]


def _pos(tree) -> tuple[int, int]:
    meta = getattr(tree, "meta", None)
    if meta is not None and not getattr(meta, "empty", True):
        return meta.line, meta.column
    if isinstance(tree, Token):
        return tree.line or 0, tree.column or 0
    return 0, 0


class Evaluator:
    def __init__(self, ctx: Context, budget: Budget | None = None):
        self.ctx = ctx
        self.budget = budget or Budget()
        self.refs: set[str] = set()      # resource addresses met since the caller last cleared it
        self._depth = 0
        self._snippets: dict[str, Tree | None] = {}

    def eval(self, tree: Any, scope: dict | None = None) -> Any:
        if self._depth > MAX_DEPTH:
            return unknown("expression nested too deep")
        if not self.budget.spend(EXPRESSION):
            return EXHAUSTED
        self._depth += 1
        try:
            return self._eval(tree, scope or {})
        except RecursionError:
            return unknown("expression nested too deep")
        finally:
            self._depth -= 1

    # -- dispatch -------------------------------------------------------------------------
    def _eval(self, t: Any, scope: dict) -> Any:
        if isinstance(t, Token):
            return str(t)
        d = t.data
        if d == "expr_term":
            parts = _parts(t)
            return self._eval(parts[0], scope) if parts else unknown("empty expression")
        if d == "int_lit":
            return int(str(t.children[0]))
        if d == "float_lit":
            return float(str(t.children[0]))
        if d == "literal_value":
            return {"true": True, "false": False, "null": None}[str(t.children[0])]
        if d == "string":
            return self._string(t, scope)
        if d in ("heredoc_template", "heredoc_template_trim"):
            return self._heredoc(t, scope, trim=d.endswith("trim"))
        if d == "tuple":
            out = PosList()
            out.pos = []
            for item in _parts(t):
                out.append(self.eval(item, scope))
                out.pos.append(_pos(item))
            return out
        if d == "object":
            return self._object(t, scope)
        if d == "identifier":
            name = str(t.children[0])
            return self.budget.spend_on(scope[name]) if name in scope else unknown(f"bare name {name}")
        if d in ("get_attr_expr_term", "index_expr_term", "attr_splat_expr_term", "full_splat_expr_term"):
            return self._traversal(t, scope)
        if d == "function_call":
            return self._call(t, scope)
        if d == "conditional":
            cond, yes, no = _parts(t)
            c = self.eval(cond, scope)
            if isinstance(c, bool):
                return self.eval(yes if c else no, scope)
            self.eval(yes, scope), self.eval(no, scope)   # still collect references
            return c if isinstance(c, Unresolved) else unknown("condition is not a boolean")
        if d == "binary_op":
            return self._binary(t, scope)
        if d == "unary_op":
            op = str(t.children[0])
            v = self.eval(_parts(t)[0], scope)
            if not is_known(v):
                return to_text(v) if isinstance(v, Ref) else v
            if op == "!":
                return (not v) if isinstance(v, bool) else unknown("! of a non-boolean")
            return -v if isinstance(v, (int, float)) and not isinstance(v, bool) else unknown("- of a non-number")
        if d in ("for_tuple_expr", "for_object_expr"):
            return self._for(t, scope)
        return unknown(f"{d} is not evaluated")

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

    def _string(self, t: Tree, scope: dict) -> Any:
        pieces = []
        for part in t.children:
            if not isinstance(part, Tree) or part.data != "string_part":
                continue
            inner = part.children[0]
            if isinstance(inner, Token):
                s = str(inner)
                if inner.type == "ESCAPED_INTERPOLATION":
                    pieces.append(s[1:])
                elif inner.type == "ESCAPED_DIRECTIVE":
                    pieces.append(s[1:])
                else:
                    pieces.append(_unescape(s))
            elif inner.data == "interpolation":
                pieces.append(self.eval(_parts(inner)[0], scope))
            else:
                pieces.append(unknown("template directive"))
        return self._template(pieces, _pos(t)[0])

    def _heredoc(self, t: Tree, scope: dict, trim: bool) -> Any:
        raw = str(t.children[0])
        first_nl = raw.index("\n")
        body = raw[first_nl + 1:]
        body = body[: body.rstrip("\n").rfind("\n") + 1] if "\n" in body.rstrip("\n") else ""
        if trim:
            lines = body.split("\n")
            indent = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
            body = "\n".join(x[indent:] for x in lines)
        line = (_pos(t)[0] or 0) + 1
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
                tree = hcl2.parses_to_tree(f"x = {expr}\n")
                attr = next(tree.find_data("attribute"))
                self._snippets[expr] = attr.children[-1]
            except Exception:   # an interpolation that is not an expression: unknown, not fatal
                self._snippets[expr] = None
        tree = self._snippets[expr]
        return unknown("interpolation not understood") if tree is None else self.eval(tree, scope)

    def _object(self, t: Tree, scope: dict) -> Any:
        out = PosDict()
        out.pos = {}
        for elem in _parts(t):
            key_tree = _parts(elem)[0]
            key_expr = _parts(key_tree)[0] if _parts(key_tree) else key_tree.children[0]
            bare = _parts(key_expr)[0] if isinstance(key_expr, Tree) and key_expr.data == "expr_term" and _parts(key_expr) else key_expr
            if isinstance(bare, Tree) and bare.data == "identifier":
                key = str(bare.children[0])
            elif isinstance(bare, Token):
                key = str(bare)
            else:
                key = self.eval(key_expr, scope)
            value = self.eval(_parts(elem)[-1], scope)
            if not isinstance(key, (str, int, float, bool)):
                return unknown("object key known only after apply")
            out[str(key)] = value
            out.pos[str(key)] = _pos(elem)
        return out

    # -- references -----------------------------------------------------------------------
    def _traversal(self, t: Tree, scope: dict) -> Any:
        steps: list[tuple] = []
        node = t
        while isinstance(node, Tree) and node.data in (
                "get_attr_expr_term", "index_expr_term", "attr_splat_expr_term", "full_splat_expr_term"):
            base, op = node.children[0], node.children[-1]
            steps[:0] = self._steps(op, node.data, scope)
            node = base
            inner = _parts(node) if isinstance(node, Tree) and node.data == "expr_term" else []
            if len(inner) == 1 and inner[0].data.endswith("_expr_term"):
                node = inner[0]
        parts = _parts(node) if isinstance(node, Tree) and node.data == "expr_term" else [node]
        root = parts[0] if len(parts) == 1 else None
        if isinstance(root, Tree) and root.data == "identifier":
            # A reference copies the value, as far as whoever reads the result is concerned.
            return self.budget.spend_on(self._lookup(str(root.children[0]), steps, scope))
        return self._apply(self.eval(node, scope), steps)

    def _steps(self, op: Tree, kind: str, scope: dict) -> list[tuple]:
        if kind == "get_attr_expr_term":
            return [("attr", _name_of(op))]
        if kind == "index_expr_term":
            return [self._index(op, scope)]
        out = [("splat",)]
        for sub in _parts(op):
            out.append(("attr", _name_of(sub)) if sub.data == "get_attr" else self._index(sub, scope))
        return out

    def _index(self, op: Tree, scope: dict) -> tuple:
        if op.data == "short_index":
            return ("index", int(str(op.children[-1])))
        return ("index", self.eval(_parts(op)[0], scope))

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
    def _binary(self, t: Tree, scope: dict) -> Any:
        left_t, term = _parts(t)[0], _parts(t)[1]
        op_t, right_t = _parts(term)[0], _parts(term)[-1]
        op = str(op_t.children[0])
        a = self.eval(left_t, scope)
        if op in ("&&", "||") and isinstance(a, bool) and a == (op == "||"):
            self.eval(right_t, scope)
            return a
        b = self.eval(right_t, scope)
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

    def _for(self, t: Tree, scope: dict) -> Any:
        parts = _parts(t)
        intro = parts[0]
        idents = [str(p.children[0]) for p in _parts(intro) if p.data == "identifier"]
        coll = self.eval(_parts(intro)[-1], scope)
        if isinstance(coll, (Unresolved, Ref)):
            return coll if isinstance(coll, Unresolved) else unknown("for over a resource")
        cond = next((p for p in parts if p.data == "for_cond"), None)
        exprs = [p for p in parts[1:] if p.data != "for_cond"]
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
                c = self.eval(_parts(cond)[0], inner)
                if not isinstance(c, bool):
                    return unknown("for condition not known")
                if not c:
                    continue
            if t.data == "for_tuple_expr":
                tuple_out.append(self.eval(exprs[0], inner))
                tuple_out.pos.append(_pos(exprs[0]))
            else:
                key = self.eval(exprs[0], inner)
                if not isinstance(key, str):
                    return unknown("for key not known")
                obj_out[key] = self.eval(exprs[1], inner)
                obj_out.pos[key] = _pos(exprs[1])
        return tuple_out if t.data == "for_tuple_expr" else obj_out

    # -- functions ------------------------------------------------------------------------
    def _call(self, t: Tree, scope: dict) -> Any:
        parts = _parts(t)
        name = str(parts[0].children[0])
        arg_trees = _parts(parts[-1]) if len(parts) > 1 and parts[-1].data == "arguments" else []
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


def _name_of(get_attr: Tree) -> str:
    for c in get_attr.children:
        if isinstance(c, Tree):
            return str(next(c.scan_values(lambda v: isinstance(v, Token))))
    return ""


def _after_attrs(steps: list, count: int) -> list:
    """Steps after the first `count` attribute names (index and splat steps between are skipped)."""
    seen = 0
    for i, s in enumerate(steps):
        if s[0] == "attr":
            seen += 1
            if seen == count:
                return [x for x in steps[i + 1:] if x[0] == "attr"]
    return []
