"""Every fixture, every rule: exactly the annotated findings (code, resource, file, line)."""
from __future__ import annotations

import pytest

from conftest import FIXED_NOW, FIXTURES
import live_fixtures
from fixture_support import LIVE_PENDING, TF_PENDING, expectations, fixture_entries, fixture_source, findings
from certwarden.rulepack import load_rules

ENTRIES = list(fixture_entries(FIXTURES))
CASES = [(c, e) for c, e in ENTRIES if fixture_source(e) != "live"]
LIVE_CASES = [(c, e) for c, e in ENTRIES if fixture_source(e) == "live"]
# Sources whose adapters exist; a rule's fixtures are required for each of these it declares.
IMPLEMENTED_SOURCES = {"cfn", "tf", "pem", "live"}
PENDING = {"tf": TF_PENDING, "live": LIVE_PENDING}


@pytest.mark.parametrize("code,entry", CASES, ids=[f"{c}/{e.name}" for c, e in CASES])
def test_fixture(code, entry):
    expected = expectations(entry)
    assert all(e[0] == code for e in expected), "a fixture only annotates its own rule"
    assert findings(entry, code, FIXED_NOW) == expected


@pytest.mark.parametrize("code,entry", LIVE_CASES, ids=[f"{c}/{e.name}" for c, e in LIVE_CASES])
def test_live_fixture(code, entry, aws, run_cli, monkeypatch, tmp_path):
    """The recipe's resources made on the moto server; `certwarden live` reports exactly the
    expected resources for the rule (a passing recipe: none)."""
    expected, reported = live_fixtures.run(entry, code, aws, run_cli, monkeypatch, tmp_path)
    assert bool(expected) == entry.name.startswith("live_fail"), "a failing recipe expects findings, a passing one none"
    assert reported == expected


def _fails(entry) -> bool:
    if fixture_source(entry) == "live":
        return bool(live_fixtures.recipe(entry).get("expect"))
    return bool(expectations(entry))


@pytest.mark.parametrize("rule", load_rules(), ids=lambda r: r.code)
def test_every_declared_source_has_failing_and_passing_fixtures(rule):
    have = {}
    for code, entry in ENTRIES:
        if code == rule.code:
            have.setdefault(fixture_source(entry), set()).add(_fails(entry))
    for source in set(rule.sources) & IMPLEMENTED_SOURCES:
        if rule.code in PENDING.get(source, ()):
            assert source not in have, f"{rule.code} has {source} fixtures now: remove it from the pending list"
            continue
        assert have.get(source) == {True, False}, f"{rule.code} needs failing and passing {source} fixtures"


def test_fixture_sources_match_declared_sources():
    """Parity: a rule has fixtures for exactly the sources it declares (and that exist)."""
    rules = {r.code: r for r in load_rules()}
    for code, entry in ENTRIES:
        assert code in rules, f"fixtures/{code} has no rule"
        assert fixture_source(entry) in rules[code].sources, f"{entry} is for a source {code} does not declare"
