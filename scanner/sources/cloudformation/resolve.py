"""CloudFormation intrinsic functions, resolved as far as the template alone allows.

Parameters count with their Default; a parameter without one, an import, an attribute known
only after deployment, or anything built from such a value becomes Unresolved. A reference
to a resource becomes ResRef, from which adapters draw graph edges. Parameters are resolved
once each, and everything resolved is paid from the template's Budget.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ...model import SELF_ACCOUNT, Unresolved
from ..budget import ELEMENT, EXHAUSTED, EXPRESSION, Budget
from ..loader import PosDict, PosList

NO_VALUE = object()   # AWS::NoValue: the property is dropped
# No $ inside a name: with [^}]*, every "${" of a text with no "}" after it scanned to the end.
_SUB_VAR = re.compile(r"\$\{([^}!$][^}$]*)\}")

PSEUDO = {
    "AWS::AccountId": SELF_ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}


@dataclass(frozen=True, slots=True)
class ResRef:
    """A Ref or GetAtt to a resource of the same template."""

    target: str
    attr: str | None = None


class Resolver:
    def __init__(self, template: dict, budget: Budget | None = None):
        self.params = template.get("Parameters") if isinstance(template.get("Parameters"), dict) else {}
        self.mappings = template.get("Mappings") if isinstance(template.get("Mappings"), dict) else {}
        self.conditions = template.get("Conditions") if isinstance(template.get("Conditions"), dict) else {}
        self.resources = template.get("Resources") if isinstance(template.get("Resources"), dict) else {}
        self._cond_cache: dict[str, Any] = {}
        self._param_cache: dict[str, Any] = {}
        self._depth = 0
        self.budget = budget or Budget()

    # -- references -------------------------------------------------------------------
    def ref(self, name: Any) -> Any:
        if not isinstance(name, str):
            return Unresolved("Ref to a non-string")
        if name in PSEUDO:
            return PSEUDO[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        if name.startswith("AWS::"):
            return Unresolved(f"pseudo parameter {name}")
        if name in self.params:
            if name not in self._param_cache:   # once: a !Sub chain through defaults doubled per level
                self._param_cache[name] = Unresolved(f"parameter {name} refers to itself")
                self._param_cache[name] = self._parameter(name)
            return self.budget.spend_on(self._param_cache[name])
        if name in self.resources:
            return ResRef(name)
        return Unresolved(f"Ref to unknown name {name}")

    def _parameter(self, name: str) -> Any:
        p = self.params[name]
        if not isinstance(p, dict) or "Default" not in p:
            return Unresolved(f"parameter {name} has no default")
        value = self.resolve(p["Default"])
        if isinstance(value, str) and str(p.get("Type", "")).startswith(("CommaDelimitedList", "List<")):
            return [v.strip() for v in value.split(",")] if value else []
        return value

    def condition(self, name: Any) -> Any:
        if not isinstance(name, str) or name not in self.conditions:
            return Unresolved(f"unknown condition {name}")
        if name not in self._cond_cache:
            self._cond_cache[name] = Unresolved(f"condition {name} refers to itself")
            self._cond_cache[name] = self._truth(self.conditions[name])
        return self._cond_cache[name]

    def _truth(self, expr: Any) -> Any:
        value = self.resolve(expr)
        return value if isinstance(value, (bool, Unresolved)) else Unresolved("condition is not a boolean")

    # -- values -----------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        """Resolve intrinsics inside value, keeping PosDict/PosList positions."""
        self._depth += 1
        try:
            if self._depth > 100:
                return Unresolved("intrinsic functions nested too deep")
            if not self.budget.spend(EXPRESSION):
                return EXHAUSTED
            if isinstance(value, dict):
                if len(value) == 1:
                    (key, arg), = value.items()
                    if key == "Ref":
                        return self.ref(arg)
                    if key == "Condition" and isinstance(arg, str) and arg in self.conditions:
                        return self.condition(arg)
                    if isinstance(key, str) and key.startswith("Fn::"):
                        handler = getattr(self, "_fn_" + key[4:].lower(), None)
                        return handler(arg) if handler else Unresolved(f"{key} is not evaluated")
                out = PosDict()
                out.pos = getattr(value, "pos", {})
                out.line, out.column = getattr(value, "line", 0), getattr(value, "column", 0)
                for k, v in value.items():
                    r = self.resolve(v)
                    if r is not NO_VALUE:
                        out[k] = r
                return out
            if isinstance(value, list):
                out = PosList()
                pos = getattr(value, "pos", [])
                out.pos = []
                out.line, out.column = getattr(value, "line", 0), getattr(value, "column", 0)
                for i, v in enumerate(value):
                    r = self.resolve(v)
                    if r is not NO_VALUE:
                        out.append(r)
                        out.pos.append(pos[i] if i < len(pos) else (0, 0))
                return out
            return value
        finally:
            self._depth -= 1

    def _fn_getatt(self, arg):
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        if isinstance(arg, list) and len(arg) == 2 and arg[0] in self.resources:
            attr = self.resolve(arg[1])
            return ResRef(arg[0], attr if isinstance(attr, str) else None)
        return Unresolved("GetAtt to an unknown resource")

    def _fn_sub(self, arg):
        variables = {}
        if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], dict):
            arg, variables = arg[0], arg[1]
        if not isinstance(arg, str):
            return Unresolved("Sub of a non-string")
        unresolved: list[Unresolved] = []

        def one(m: re.Match) -> str:
            name = m.group(1).strip()
            if name in variables:
                value = self.resolve(variables[name])
            elif "." in name and name.split(".", 1)[0] in self.resources:
                value = ResRef(*name.split(".", 1))
            else:
                value = self.ref(name)
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                text = str(value)
                if self.budget.spend(len(text)):   # before the text is joined in: a name may repeat
                    return text
                value = EXHAUSTED
            unresolved.append(value if isinstance(value, Unresolved) else Unresolved(f"${{{name}}} is known only after deployment"))
            return m.group(0)

        text = _SUB_VAR.sub(one, arg).replace("${!", "${")
        return unresolved[0] if unresolved else text

    def _fn_join(self, arg):
        if not (isinstance(arg, list) and len(arg) == 2):
            return Unresolved("malformed Join")
        delim, items = self.resolve(arg[0]), self.resolve(arg[1])
        if not isinstance(delim, str) or not isinstance(items, list):
            return Unresolved("Join over an unresolved list")
        for item in items:
            if not isinstance(item, (str, int, float)) or isinstance(item, bool):
                return item if isinstance(item, Unresolved) else Unresolved("Join of a value known only after deployment")
        parts = [str(i) for i in items]
        if not self.budget.spend(sum(map(len, parts)) + len(delim) * len(parts)):   # before joining
            return EXHAUSTED
        return delim.join(parts)

    def _fn_if(self, arg):
        if not (isinstance(arg, list) and len(arg) == 3):
            return Unresolved("malformed If")
        cond = self.condition(arg[0])
        if isinstance(cond, bool):
            return self.resolve(arg[1] if cond else arg[2])
        a, b = self.resolve(arg[1]), self.resolve(arg[2])
        return a if a == b else cond

    def _fn_equals(self, arg):
        if not (isinstance(arg, list) and len(arg) == 2):
            return Unresolved("malformed Equals")
        a, b = self.resolve(arg[0]), self.resolve(arg[1])
        for v in (a, b):
            if isinstance(v, (Unresolved, ResRef)):
                return v if isinstance(v, Unresolved) else Unresolved("Equals on a resource value")
        return str(a) == str(b)

    def _logic(self, arg, decisive: bool):
        """And (decisive False) / Or (decisive True): one decisive value settles it."""
        values = [self._truth(a) for a in (arg if isinstance(arg, list) else [arg])]
        if decisive in values:
            return decisive
        unknown = [v for v in values if isinstance(v, Unresolved)]
        return unknown[0] if unknown else not decisive

    def _fn_and(self, arg):
        return self._logic(arg, False)

    def _fn_or(self, arg):
        return self._logic(arg, True)

    def _fn_not(self, arg):
        value = self._truth(arg[0] if isinstance(arg, list) and arg else arg)
        return (not value) if isinstance(value, bool) else value

    def _fn_select(self, arg):
        if not (isinstance(arg, list) and len(arg) == 2):
            return Unresolved("malformed Select")
        index, items = self.resolve(arg[0]), self.resolve(arg[1])
        try:
            return items[int(index)] if isinstance(items, list) else Unresolved("Select over an unresolved list")
        except (ValueError, TypeError, IndexError):
            return Unresolved("Select index out of range")

    def _fn_split(self, arg):
        if not (isinstance(arg, list) and len(arg) == 2):
            return Unresolved("malformed Split")
        delim, text = self.resolve(arg[0]), self.resolve(arg[1])
        if isinstance(delim, str) and isinstance(text, str) and delim:
            parts = text.split(delim)
            return parts if self.budget.spend(ELEMENT * len(parts)) else EXHAUSTED
        return Unresolved("Split of a value known only after deployment")

    def _fn_findinmap(self, arg):
        if not (isinstance(arg, list) and len(arg) >= 3):
            return Unresolved("malformed FindInMap")
        keys = [self.resolve(a) for a in arg[:3]]
        node: Any = self.mappings
        for k in keys:
            if not isinstance(k, str) or not isinstance(node, dict) or k not in node:
                return Unresolved("FindInMap key not known")
            node = node[k]
        return self.resolve(node)

    def _fn_base64(self, arg):
        return self.resolve(arg)

    def _fn_tojsonstring(self, arg):
        value = self.resolve(arg)
        try:
            text = json.dumps(_plain(value))
            return text if self.budget.spend(len(text)) else EXHAUSTED
        except _Unknown as exc:
            return exc.value


class _Unknown(Exception):
    def __init__(self, value):
        self.value = value


def _plain(value):
    if isinstance(value, Unresolved):
        raise _Unknown(value)
    if isinstance(value, ResRef):
        raise _Unknown(Unresolved("value known only after deployment"))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def referenced(value: Any, names: dict, found: set | None = None) -> set:
    """Names of resources a raw (unresolved) value refers to by Ref, GetAtt or Sub."""
    found = set() if found is None else found
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            if len(v) == 1:
                (k, arg), = v.items()
                if k == "Ref" and isinstance(arg, str) and arg in names:
                    found.add(arg)
                elif k == "Fn::GetAtt":
                    head = arg.split(".", 1)[0] if isinstance(arg, str) else arg[0] if isinstance(arg, list) and arg else None
                    if isinstance(head, str) and head in names:
                        found.add(head)
                elif k == "Fn::Sub":
                    text = arg[0] if isinstance(arg, list) and arg else arg
                    if isinstance(text, str):
                        for m in _SUB_VAR.finditer(text):
                            head = m.group(1).split(".", 1)[0].strip()
                            if head in names:
                                found.add(head)
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return found
