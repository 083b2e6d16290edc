"""Random CloudFormation templates from the shapes the rules read: no exception escapes reading
them or running the rules on them, in YAML or in JSON."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cfn_strategies import template
from tf_strategies import module
from conftest import FIXED_NOW
from certwarden.engine import Engine
from certwarden.findings import Finding
from certwarden.errors import InputError
from certwarden.rulepack import load_rules
from certwarden.sources.units import Unit, read_unit

RULES = load_rules()
ENGINE = Engine(RULES, FIXED_NOW)
STRICT = Engine(RULES, FIXED_NOW, strict=True)


def scan_text(text: str, suffix: str):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"t{suffix}"
        path.write_text(text)
        graphs, errors, _ = read_unit(Unit("file", str(path), explicit=True))
        findings = [f for g in graphs for engine in (ENGINE, STRICT) for f in engine.run(g)]
    assert all(isinstance(e, InputError) for e in errors)
    assert all(isinstance(f, Finding) and f.where.line >= 1 for f in findings)
    return graphs, findings


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template())
def test_random_templates_never_raise(doc):
    graphs, _ = scan_text(yaml.safe_dump(doc, sort_keys=False), ".yaml")
    assert len(graphs) == 1      # every generated document is a template
    scan_text(json.dumps(doc), ".json")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(module())
def test_random_terraform_modules_never_raise(text):
    with tempfile.TemporaryDirectory() as tmp:
        main = Path(tmp) / "main.tf"
        main.write_text(text)
        graphs, errors, _ = read_unit(Unit("module", tmp, files=(str(main),)))
        findings = [f for g in graphs for engine in (ENGINE, STRICT) for f in engine.run(g)]
    assert errors == []              # every generated module is valid HCL
    assert len(graphs) == 1
    assert all(isinstance(f, Finding) and f.where.line >= 1 for f in findings)


_PART = st.sampled_from(["a", "b", ".git", "x.git", "node_modules", "venv", ".venv", "legacy", "infra", "a.b", ""])
_PATTERN = st.sampled_from([".git", "node_modules", "venv", "infra/legacy", "infra/legacy/", "a*", "*.b", "leg?cy",
                            "a/b", "[ab]", "", "/", "x.git"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PART, min_size=1, max_size=4), st.lists(_PATTERN, min_size=1, max_size=4), st.booleans())
def test_excludes_without_wildcards_match_as_the_globs_they_stand_for(parts, patterns, with_root):
    """A pattern without wildcards is matched by substring; the glob forms it stands for (the
    path, its start, its end, components inside it) decide."""
    import fnmatch

    from certwarden.sources.files import _excluded

    rel = "/".join(parts)
    name, root = parts[-1], ("repo/" + rel if with_root else None)
    forms = [f for p in patterns for f in (p.rstrip("/"), p.rstrip("/") + "/*", "*/" + p.rstrip("/"),
                                          "*/" + p.rstrip("/") + "/*")]
    globbed = any(fnmatch.fnmatchcase(path, f) for path in (name, rel, root) if path is not None for f in forms)
    assert _excluded(rel, name, tuple(patterns), root) == globbed


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789eE+-. xa_\u0661\n", max_size=60))
def test_the_number_shape_finds_what_the_patterns_it_replaced_found(text):
    """hcl.py finds exponents, long exponents and 309-digit runs in the file's shape by substring:
    the same places as the regular expressions over ASCII digits that it replaced."""
    import re

    from certwarden.sources.terraform.hcl import _LONG_DIGITS, _SHAPE, _exponents

    shape = text.encode().translate(_SHAPE)
    long_text = text.replace("9", "9" * 154)   # "99" is 308 digits: one more digit makes 309
    long_shape = long_text.encode().translate(_SHAPE)
    assert _exponents(shape, 1) == bool(re.search(r"[0-9][eE][+-]?[0-9]", text))
    assert _exponents(shape, 3) == bool(re.search(r"[0-9][eE][+-]?[0-9]{3}", text))
    assert (_LONG_DIGITS in long_shape) == bool(re.search(r"[0-9]{309}", long_text))
