"""Reading the expectations written into fixtures (semgrep style) and running them."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from certwarden.config import Config, build as build_config
from certwarden.rulepack import load_rules, select
from certwarden.options import Options
from certwarden.scan import scan

ANNOTATION = re.compile(r"(?:#|//)\s*(ruleid|ok):\s*([A-Z]+[0-9]+)(?:\s+(\S+))?")
SIDECAR = ".expect.yaml"
# Catalog rules whose Terraform fixtures are still to come (empty: every rule that lists tf has
# them). test_fixtures fails while a listed rule already has them.
TF_PENDING: frozenset[str] = frozenset()
# Rules that read live state but have no live fixture yet (fixtures/CODE/live_*.yaml, run on the
# moto server by tests/live_fixtures.py), each with the reason (empty: every rule that lists live
# has them); test_fixtures fails while a listed rule has one. The list may only shrink.
LIVE_PENDING: frozenset[str] = frozenset()
SOURCE_OF_PREFIX = {"cfn": "cfn", "tf": "tf", "plan": "tf", "pem": "pem", "live": "live"}


def fixture_source(entry: Path) -> str:
    return SOURCE_OF_PREFIX[entry.name.split("_", 1)[0]]


def expectations(entry: Path) -> set[tuple]:
    """(code, resource, file name, line) for every `# ruleid: CODE RESOURCE` annotation."""
    files = sorted(p for p in entry.rglob("*") if p.is_file()) if entry.is_dir() else [entry]
    out = set()
    for f in files:
        if f.name.endswith(SIDECAR):
            continue
        sidecar = f.with_name(f.name + SIDECAR)
        if sidecar.exists():
            for row in yaml.safe_load(sidecar.read_text()) or []:
                out.add((row["code"], row["resource"], f.name, row["line"]))
            continue
        try:
            lines = f.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            continue
        pending = []
        for no, line in enumerate(lines, 1):
            m = ANNOTATION.search(line)
            stripped = line.strip()
            if m and stripped.startswith(("#", "//")):
                if m.group(1) == "ruleid":
                    pending.append((m.group(2), m.group(3)))
                continue
            if not stripped:
                continue
            for code, resource in pending:
                out.add((code, resource, f.name, no))
            pending = []
    return out


# `# cw-params: {"trusted_accounts": ["111122223333"]}` in a fixture: rule parameters it runs with
# (for rules whose failing case needs a configured policy value).
PARAMS = re.compile(r"^\s*#\s*cw-params:\s*(\{.*\})\s*$", re.M)


def fixture_params(entry: Path) -> dict:
    """From the fixture file, or for a Terraform module from its .tf files."""
    files = sorted(entry.glob("*.tf")) if entry.is_dir() else [entry]
    for f in files:
        m = PARAMS.search(f.read_text(encoding="utf-8", errors="replace"))
        if m:
            return yaml.safe_load(m.group(1))
    return {}


# `# cw-profile: web_server` in a fixture: every certificate in it uses that built-in profile.
PROFILE = re.compile(r"^\s*#\s*cw-profile:\s*([a-z_]+)\s*$", re.M)


def fixture_config(entry: Path, code: str, rules) -> Config:
    """The policy a fixture runs under: its cw-params, or the shipped profile it names, applied
    through `extends` and a match on every path (so the fixture proves the shipped profile)."""
    files = sorted(entry.glob("*.tf")) if entry.is_dir() else [entry]
    for f in files:
        m = PROFILE.search(f.read_text(encoding="utf-8", errors="replace"))
        if m:
            data = {"extends": ["sec09-bp01"], "profiles": {m.group(1): {"match": {"paths": ["*"]}}}}
            return build_config(data, rules, entry)
    return Config(rule_params={code: fixture_params(entry)})


def findings(entry: Path, code: str, now) -> set[tuple]:
    all_rules = load_rules()
    rules = select(all_rules, [code], None)
    config = fixture_config(entry, code, all_rules)
    result = scan([str(entry)], rules, Options(now=now, config=config))
    assert not result.errors, result.errors
    return {(f.code, f.resource, Path(f.where.file).name, f.where.line) for f in result.findings}


def fixture_entries(fixtures: Path):
    for code_dir in sorted(p for p in fixtures.iterdir() if p.is_dir()):
        for entry in sorted(code_dir.iterdir()):
            if entry.name.endswith(SIDECAR) or entry.name.startswith("."):
                continue
            if entry.name.split("_", 1)[0] not in SOURCE_OF_PREFIX:
                continue
            yield code_dir.name, entry
