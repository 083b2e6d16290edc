"""The shipped pack is loaded without jsonschema at run time (startup), so it is validated here."""
from __future__ import annotations

from certwarden.rulepack import _pack_dir, _validator, load_file


def test_every_shipped_rule_validates_against_the_schema():
    validator = _validator()
    files = sorted(_pack_dir().glob("*.yaml"))
    assert files
    for path in files:
        load_file(path, validator, validate=True)   # raises RuleError naming file and field
