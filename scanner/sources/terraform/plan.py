"""Terraform plan JSON (`terraform show -json plan.out`) into the normalized graph.

planned_values gives every value the plan knows, with module addresses; configuration gives
what each attribute refers to, so a bucket policy whose bucket id is known only after apply
still folds onto its bucket. Positions point into the plan file.
"""
from __future__ import annotations

import re
from typing import Any

from ...model import Unresolved, Where
from .values import Ref
from .resources import Record

# An index step: a quoted key (which may hold brackets) or a bare one. A bare key holds no "[",
# so a run of "[" with no "]" costs one pass, not one pass from each "[" (quadratic).
_INDEX = re.compile(r'\[(?:"(?:[^"\\]|\\.)*"|[^\[\]"]*)\]')


def looks_like_plan(doc: Any) -> bool:
    return isinstance(doc, dict) and "format_version" in doc and isinstance(doc.get("planned_values"), dict)


def _config_resources(module: dict, prefix: str, out: dict) -> None:
    """configuration: module-prefixed resource address -> (its expressions, module prefix)."""
    if not isinstance(module, dict):
        return
    for res in module.get("resources") or []:
        if isinstance(res, dict) and isinstance(res.get("address"), str):
            out[prefix + res["address"]] = (res.get("expressions") or {}, prefix)
    for name, call in (module.get("module_calls") or {}).items():
        if isinstance(call, dict):
            _config_resources(call.get("module"), f"{prefix}module.{name}.", out)


def _planned(module: dict, out: list) -> None:
    if not isinstance(module, dict):
        return
    resources = module.get("resources") or []
    for i, res in enumerate(resources):
        if isinstance(res, dict) and res.get("mode", "managed") == "managed" and isinstance(res.get("address"), str):
            pos = resources.pos[i] if hasattr(resources, "pos") else (0, 0)
            out.append((res, pos))
    for child in module.get("child_modules") or []:
        _planned(child, out)


class _Refs:
    def __init__(self, instances: dict[str, str]):
        self.instances = instances      # resource address without index -> first instance address
        self.seen: set[str] = set()

    def ref(self, references: list, prefix: str) -> Ref | None:
        for text in references:
            if not isinstance(text, str) or text.startswith(("var.", "local.", "data.", "module.", "each.", "count.")):
                continue
            parts = _INDEX.sub("", text).split(".")
            base = prefix + ".".join(parts[:2])
            if base in self.instances:
                self.seen.add(self.instances[base])
                return Ref(self.instances[base], parts[2] if len(parts) > 2 else None)
        return None

    def merge(self, values: Any, expressions: Any, unknown: Any, prefix: str) -> None:
        """Fill values the plan does not know with references (or Unresolved)."""
        if not isinstance(values, dict) or not isinstance(expressions, dict):
            return
        for key, expr in expressions.items():
            unknown_here = unknown.get(key) if isinstance(unknown, dict) else None
            if isinstance(expr, dict) and "references" in expr:
                ref = self.ref(expr["references"], prefix)
                if ref is not None and values.get(key) in (None, ""):
                    values[key] = ref
                elif unknown_here is True and values.get(key) is None:
                    values[key] = Unresolved(f"{key} is known only after apply")
            elif isinstance(expr, list) and isinstance(values.get(key), list):
                for i, (v, e) in enumerate(zip(values[key], expr)):
                    u = unknown_here[i] if isinstance(unknown_here, list) and i < len(unknown_here) else None
                    self.merge(v, e, u, prefix)


def records(file: str, doc: dict) -> list[Record]:
    """The planned resources, with the references the configuration says they make."""
    config: dict[str, tuple] = {}
    _config_resources((doc.get("configuration") or {}).get("root_module"), "", config)
    planned: list = []
    _planned(doc["planned_values"].get("root_module"), planned)
    unknowns = {c.get("address"): (c.get("change") or {}).get("after_unknown")
                for c in doc.get("resource_changes") or [] if isinstance(c, dict)}
    instances: dict[str, str] = {}
    for res, _ in planned:
        instances.setdefault(_INDEX.sub("", res["address"]), res["address"])
    found = []
    for res, (line, col) in planned:
        address = res["address"]
        values = res.get("values") if isinstance(res.get("values"), dict) else {}
        refs = _Refs(instances)
        expressions, prefix = config.get(_INDEX.sub("", address), ({}, ""))
        refs.merge(values, expressions, unknowns.get(address), prefix)
        if "lifecycle" not in values:   # a meta-argument the plan does not record (CW214 stays silent)
            values["lifecycle"] = [{"create_before_destroy": Unresolved("plan JSON does not record lifecycle")}]
        found.append(Record(address, str(res.get("type", "")), address, values,
                            Where(file, line, col, ("planned_values", address)), refs.seen))
    return found
