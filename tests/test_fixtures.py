"""Every fixture, every rule: exactly the annotated findings (code, resource, file, line)."""
from __future__ import annotations

import pytest

from conftest import FIXED_NOW, FIXTURES
from fixture_support import TF_PENDING, expectations, fixture_entries, fixture_source, findings
from scanner.rulepack import load_rules

CASES = list(fixture_entries(FIXTURES))
# Sources whose adapters exist; a rule's fixtures are required for each of these it declares.
IMPLEMENTED_SOURCES = {"cfn", "tf", "pem"}


@pytest.mark.parametrize("code,entry", CASES, ids=[f"{c}/{e.name}" for c, e in CASES])
def test_fixture(code, entry):
    expected = expectations(entry)
    assert all(e[0] == code for e in expected), "a fixture only annotates its own rule"
    assert findings(entry, code, FIXED_NOW) == expected


@pytest.mark.parametrize("rule", load_rules(), ids=lambda r: r.code)
def test_every_declared_source_has_failing_and_passing_fixtures(rule):
    have = {}
    for code, entry in CASES:
        if code == rule.code:
            have.setdefault(fixture_source(entry), set()).add(bool(expectations(entry)))
    for source in set(rule.sources) & IMPLEMENTED_SOURCES:
        if source == "tf" and rule.code in TF_PENDING:
            assert "tf" not in have, f"{rule.code} has tf fixtures now: remove it from TF_PENDING"
            continue
        assert have.get(source) == {True, False}, f"{rule.code} needs failing and passing {source} fixtures"


def test_fixture_sources_match_declared_sources():
    """Parity: a rule has fixtures for exactly the static sources it declares (and that exist)."""
    rules = {r.code: r for r in load_rules()}
    for code, entry in CASES:
        assert code in rules, f"fixtures/{code} has no rule"
        assert fixture_source(entry) in rules[code].sources, f"{entry} is for a source {code} does not declare"
