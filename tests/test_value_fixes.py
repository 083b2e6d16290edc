"""Every value fix, end to end and in every format its rule declares: each failing fixture of a
rule with a `fix.set` is scanned, fixed through `fixes.plan` (unsafe fixes included, with the
policy's values) and scanned again. The rule's findings are gone except the ones listed below
with why; only values change on the lines that were there (new lines are inserted), and fixed
Terraform still parses with python-hcl2."""
from __future__ import annotations

import difflib
import json
import re
import shutil
from pathlib import Path

import hcl2
import pytest

from conftest import FIXED_NOW, FIXTURES
from fixture_support import expectations, fixture_config, findings
from certwarden import fixes
from certwarden.options import Options
from certwarden.rulepack import load_rules, select
from certwarden.scan import scan
from certwarden.sources.loader import load

RULES = {r.code: r for r in load_rules()}
FIX_RULES = sorted(code for code, r in RULES.items() if (r.fix or {}).get("set"))

# Findings a value cannot fix, and why (the rest of each fixture is fixed).
LEFT = {
    # a value written as an expression: left to its author
    ("CW101", "aws_kms_key.from_variable"), ("CW105", "aws_kms_key.from_local"),
    ("CW101", 'aws_kms_key.by_name["logs"]'), ("CW101", 'aws_kms_key.from_set["audit"]'),   # each.value, each.key
    ("CW101", "aws_kms_key.counted[0]"), ("CW101", "aws_kms_key.counted[2]"),               # count.index
    ("CW401", 'aws_s3_bucket.site["public"]'),   # each.value.locked
    # grants, which a canned ACL cannot replace in place
    ("CW402", "aws_s3_bucket.granted"),
    # a classic load balancer's policy is a negotiation policy resource, not one value
    ("CW601", "Classic"), ("CW601", "aws_elb.classic"),
    ("CW601", "aws_load_balancer_policy.sslv3"), ("CW601", "aws_load_balancer_policy.legacy"),
    # the default *.cloudfront.net certificate (or none) negotiates TLSv1: a certificate is needed
    ("CW602", "DefaultCertificate"), ("CW602", "NoViewerCertificate"),
    ("CW602", "aws_cloudfront_distribution.default_certificate"),
    ("CW602", "aws_cloudfront_distribution.no_viewer_certificate"),
    # an HTTP API's policy is in a list of domain name configurations (Terraform's is a block)
    ("CW603", "HttpApi"),
    # a SAM Api's Domain: the transform writes the domain name resource, the fix does not edit SAM
    ("CW603", "SamApi"), ("CW603", "SamHttpApi"),
}


def _cases():
    for code in FIX_RULES:
        sources = RULES[code].sources
        for entry in sorted((FIXTURES / code).glob("*_*")):
            if entry.name.endswith(".expect.yaml") or not expectations(entry):
                continue
            if entry.name.startswith(("cfn_", "tf_")) and RULES[code].fix.get("add"):
                continue   # a structural fix first: tests/test_structural_fixes.py, test_tf_structural_fixes.py
            if entry.name.startswith("cfn_") and entry.suffix == ".yaml" and "cfn" in sources:
                yield pytest.param(code, entry, "yaml", id=f"{code}-{entry.name}")
                yield pytest.param(code, entry, "json", id=f"{code}-{entry.stem}.json")
            elif entry.name.startswith("cfn_") and entry.suffix == ".json" and "cfn" in sources:
                yield pytest.param(code, entry, "json-as-is", id=f"{code}-{entry.name}")
            elif entry.name.startswith("tf_") and "tf" in sources:
                yield pytest.param(code, entry, "tf", id=f"{code}-{entry.name}")


CASES = list(_cases())


def _copy(entry: Path, form: str, tmp_path: Path) -> Path:
    if form == "json":   # the same template as JSON (comments, and so the annotations, are lost)
        out = tmp_path / (entry.stem + ".json")
        out.write_text(json.dumps(load(entry.read_bytes()), indent=2, default=str) + "\n")
        return out
    out = tmp_path / entry.name
    (shutil.copytree if entry.is_dir() else shutil.copy)(entry, out)
    return out


def _files(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]


def _keys_kept(before: str, after: str) -> None:
    """Lines of the original are kept, or keep their key and change their value; others are inserted."""
    a, b = before.splitlines(), after.splitlines()
    key = re.compile(r'^\s*("?[\w.-]+"?)\s*[:=]')
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        assert op != "delete", a[i1:i2]
        if op == "replace":
            assert i2 - i1 == j2 - j1, (a[i1:i2], b[j1:j2])
            for old, new in zip(a[i1:i2], b[j1:j2]):
                assert key.match(old) and key.match(old).group(1) == (key.match(new) or key.match("")).group(1), (old, new)


@pytest.mark.parametrize("code,entry,form", CASES)
def test_value_fix_removes_the_finding_in_every_format(code, entry, form, tmp_path):
    target = _copy(entry, form, tmp_path)
    config = fixture_config(entry, code, list(RULES.values()))
    result = scan([str(target)], select(list(RULES.values()), [code], None), Options(now=FIXED_NOW, config=config))
    before = {(f.code, f.resource) for f in result.findings}
    assert before == {(c, r) for c, r, _, _ in expectations(entry)}
    originals = {f: f.read_text() for f in _files(target)}

    plan = fixes.plan(result, unsafe=True)
    written, refused = fixes.write(plan, result.roots)
    assert refused == [] and bool(written) == bool(before - LEFT)

    left = {(c, r) for c, r, _, _ in findings(target, code, FIXED_NOW)} if form != "json" else \
        {(f.code, f.resource) for f in scan([str(target)], select(list(RULES.values()), [code], None),
                                           Options(now=FIXED_NOW, config=config)).findings}
    assert left == before & LEFT
    assert {(f.code, f.resource) for f in plan.fixed} == before - LEFT
    for f, text in originals.items():
        after = f.read_text()
        _keys_kept(text, after)
        for line in text.splitlines():
            if line.strip().startswith(("#", "//")):
                assert line in after.splitlines(), f"comment lost: {line!r}"
        if f.suffix == ".tf":
            hcl2.loads(after)   # python-hcl2 reads the fixed module


def test_every_rule_whose_remedy_is_a_value_has_a_set():
    assert FIX_RULES == ["CW101", "CW102", "CW105", "CW210", "CW211", "CW214", "CW301", "CW302", "CW303",
                         "CW304", "CW308", "CW401", "CW402", "CW502", "CW601", "CW602", "CW603"]
    # CW304 and CW401 try their structural fix first: tests/test_structural_fixes.py and test_tf_structural_fixes.py
    assert {c for c, _, form in (p.values for p in CASES) if form == "tf"} == set(FIX_RULES) - {"CW304", "CW401"}
    assert {c for c, _, form in (p.values for p in CASES) if form == "json"} == set(FIX_RULES) - {"CW214", "CW304", "CW401"}


def test_the_fix_takes_the_policy_values(tmp_path, run_cli):
    """CW502 writes the policy's max_days and CW601 its first approved policy, from the config file."""
    template = _copy(FIXTURES / "CW502" / "cfn_fail.yaml", "yaml", tmp_path)
    config = tmp_path / "certwarden.yaml"
    config.write_text("rules:\n  CW502: {max_days: 30}\n"
                      "  CW601: {approved_policies: [ELBSecurityPolicy-TLS13-1-3-2021-06]}\n")
    (tmp_path / "l").mkdir()
    listener = _copy(FIXTURES / "CW601" / "cfn_fail.yaml", "yaml", tmp_path / "l")
    code, _, err = run_cli("fix", template, listener, "--config", config, "--write", "--unsafe-fixes",
                           "--select", "CW502,CW601")
    assert code == 0, err
    text = template.read_text()
    assert "AutomaticallyAfterDays: 30" in text and '"rate(30 days)"' in text
    assert listener.read_text().count("SslPolicy: ELBSecurityPolicy-TLS13-1-3-2021-06") == 2


def test_a_fix_outside_its_when_keeps_the_documented_fix_only():
    """CW602 on a distribution with the default certificate: setting the minimum would change nothing."""
    rules = select(list(RULES.values()), ["CW602"], None)
    result = scan([str(FIXTURES / "CW602" / "cfn_fail.yaml")], rules, Options(now=FIXED_NOW))
    by = {f.resource: f.fix for f in result.findings}
    assert by["Old"]["set"] == {"minimum_protocol_version": "TLSv1.2_2021"}
    assert "set" not in by["DefaultCertificate"] and by["DefaultCertificate"]["description"]
