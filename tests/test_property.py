"""Random CloudFormation templates from the shapes the rules read: no exception escapes reading
them or running the rules on them, in YAML or in JSON."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings

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
