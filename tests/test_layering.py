"""The package's shape (the folder scanner/, installed under the import name certwarden), checked from its imports (docs/architecture.md states these rules):
data flows one way, sources -> graph -> rules -> findings -> outputs, so no module imports one
that sits later in the flow; there is no import cycle; and the CLI reaches the model through at
most 8 modules."""
from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "scanner"

# Each layer may import only itself and the layers before it; the run modules (cli, scan,
# parallel, ...), in no layer, sit on top of them all. Lazy imports inside functions count: they
# run as well.
LAYERS = [
    ("utilities", ["paths", "jsonfile", "outfile", "workers", "progress"]),   # they import nothing of ours
    ("model", ["model", "errors", "kinds", "policy", "dates", "material_types"]),
    ("material", ["certs", "material"]),
    ("sources", ["sources"]),
    # The engine makes findings: their types (and the estate a result carries) sit with it.
    ("rules", ["conditions", "checks", "rulepack", "config", "engine", "findings", "estate"]),
    ("findings", ["suppressions", "baseline", "diffbase", "fixes"]),
    ("outputs", ["report", "docs", "securityhub", "remediate"]),
]
LAYER_OF = {name: i for i, (_, names) in enumerate(LAYERS) for name in names}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


@cache
def imports(module: str, lazy: bool = True) -> frozenset[str]:
    """The scanner modules `module` imports (at its top level only unless lazy)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):   # imports for type checkers only never run
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            node.body = []
    nodes = ast.walk(tree) if lazy else tree.body
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] in ("scanner", "certwarden")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.split(".")[0] in ("scanner", "certwarden"):
                target = node.module
            else:
                continue
            if not module.startswith(target + "."):   # a parent package is initialised first anyway
                found.add(target)
            found |= {f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in MODULES}
    return frozenset(m for m in found if m in MODULES and m != module)


def _layer(module: str) -> int | None:
    """The module's layer; len(LAYERS) for a run module; None for the package itself."""
    parts = module.split(".")[1:]
    return LAYER_OF.get(parts[0], len(LAYERS)) if parts and parts[0] not in ("__init__", "__main__") else None


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_a_later_layer(module):
    mine = _layer(module)
    if mine is None or mine == len(LAYERS):
        return
    later = sorted(m for m in imports(module) if (_layer(m) or -1) > mine)
    assert later == [], f"{module} ({LAYERS[mine][0]}) imports later layers: {later}"


def test_sources_know_no_rule_finding_or_output():
    """The adapters' contract (DESIGN.md): a source knows its format and the model, nothing else."""
    allowed = {"scanner", "scanner.__init__"} | {f"scanner.{n}" for n in LAYERS[1][1] + LAYERS[2][1]}
    for module in MODULES:
        if module.startswith("scanner.sources"):
            outside = {m for m in imports(module) if not m.startswith("scanner.sources") and m not in allowed}
            assert outside == set(), f"{module} imports {sorted(outside)}"


def _cycle(lazy: bool) -> list[str] | None:
    state: dict[str, int] = {}   # 1: on the current path, 2: done
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for n in sorted(imports(m, lazy)):
            if state.get(n) == 1:
                return path[path.index(n):] + [n]
            if n not in state and (found := visit(n)):
                return found
        state[m] = 2
        path.pop()
        return None

    for m in sorted(MODULES):
        if m not in state and (found := visit(m)):
            return found
    return None


@pytest.mark.parametrize("lazy", [False, True], ids=["top-level", "with-lazy"])
def test_no_import_cycle(lazy):
    assert _cycle(lazy) is None


def _longest_chain(start: str, goal: str) -> list[str]:
    @cache
    def longest(m: str) -> tuple[str, ...] | None:
        if m == goal:
            return (m,)
        chains = [c for n in imports(m) if (c := longest(n))]
        return (m, *max(chains, key=len)) if chains else None
    return list(longest(start) or ())


def test_the_cli_reaches_the_model_through_at_most_8_modules():
    """Lazy imports included: they are floors all the same when they run."""
    chain = _longest_chain("scanner.cli", "scanner.model")
    assert chain and len(chain) <= 8, " -> ".join(chain)


def test_the_checker_sees_the_imports_it_judges():
    """The checks above mean something only if relative and lazy imports are seen."""
    assert "scanner.sources.cloudformation.kms" in imports("scanner.sources.cloudformation.template")
    assert "scanner.sources.terraform.modules" in imports("scanner.sources.units")                  # lazy
    assert "scanner.sources.terraform.modules" not in imports("scanner.sources.units", lazy=False)
    assert "scanner.material" in imports("scanner.certs")
    assert "scanner.sources.resource_view" not in imports("scanner.sources.normalize")        # TYPE_CHECKING


def test_every_package_ships():
    """A package left out of pyproject.toml's list is missing from the wheel: the installed
    command (pre-commit's, the action's) fails on its first import."""
    import tomllib

    listed = set(tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    packages = {"certwarden" + m.removeprefix("scanner") for m, p in MODULES.items() if p.name == "__init__.py"}
    assert packages - listed == set()
