"""The shipped pack is loaded without jsonschema at run time (startup), so it is validated here."""
from __future__ import annotations

import subprocess
import sys

from conftest import ROOT
from scanner.rulepack import _pack_dir, _validator, load_file


def test_every_shipped_rule_validates_against_the_schema():
    validator = _validator()
    files = sorted(_pack_dir().glob("*.yaml"))
    assert files
    for path in files:
        load_file(path, validator, validate=True)   # raises RuleError naming file and field


def test_a_scan_without_rules_dir_does_not_import_jsonschema(tmp_path):
    probe = ("import sys; from scanner.cli import main; code = main(['scan', sys.argv[1], '-q']); "
             "print('jsonschema' in sys.modules)")
    (tmp_path / "empty.yaml").write_text("a: 1\n")
    out = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.splitlines()[-1] == "False", out.stderr
