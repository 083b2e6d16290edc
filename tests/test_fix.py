"""`certwarden fix`, and the SARIF `fixes` of `certwarden scan`: the adapters' edits reach the
files (or the diff, or SARIF), the findings they fix are gone on a re-scan, and nothing else moves."""
from __future__ import annotations

import json
import shutil

from jsonschema import validate

from conftest import FIXTURES, ROOT
from certwarden.sources.edits import Edit, apply

TEMPLATE = FIXTURES / "CW101" / "cfn_fail.yaml"
MODULE = FIXTURES / "CW101" / "tf_fail"


def copy(tmp_path, source):
    target = tmp_path / source.name
    (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    return target


def codes(run_cli, path, *select):
    code, out, _ = run_cli("scan", path, "--no-config", "-o", "json", "--now", "2026-01-01", *select)
    return sorted((f["code"], f["resource"]) for f in json.loads(out)["findings"])


def test_fix_shows_a_diff_and_changes_nothing(tmp_path, run_cli):
    template = copy(tmp_path, TEMPLATE)
    before = template.read_text()
    code, out, err = run_cli("fix", template, "--no-config", "--select", "CW101")
    assert code == 1, err   # there is something to fix
    path = template.resolve().as_posix()
    assert out.startswith(f"--- {path}\n+++ {path}\n")   # outside the repository: the full path, no a//abs
    assert "+" in out and "EnableKeyRotation" in out
    assert template.read_text() == before


def test_fix_write_fixes_what_it_can_and_a_rescan_agrees(tmp_path, run_cli):
    template, module = copy(tmp_path, TEMPLATE), copy(tmp_path, MODULE)
    assert codes(run_cli, template, "--select", "CW101") != []
    comments = [ln for ln in template.read_text().splitlines() if ln.strip().startswith("#")]

    code, out, err = run_cli("fix", template, module, "--no-config", "--select", "CW101", "--write")

    assert code == 0, err
    assert "certwarden: fixed" in err
    assert codes(run_cli, template, "--select", "CW101") == []
    # `enable_key_rotation = var.rotate` is an expression: declined, never guessed
    assert codes(run_cli, module, "--select", "CW101") == [("CW101", "aws_kms_key.from_variable")]
    assert "1 finding without an automatic fix" in err
    assert all(c in template.read_text().splitlines() for c in comments)   # layout and comments kept
    code, out, _ = run_cli("fix", template, module, "--no-config", "--select", "CW101")
    assert (code, out) == (0, "")   # nothing left that can be fixed


def test_unsafe_fixes_are_made_only_when_asked(tmp_path, run_cli):
    template = copy(tmp_path, FIXTURES / "CW401" / "cfn_fail.yaml")
    before = template.read_text()
    code, out, err = run_cli("fix", template, "--no-config", "--select", "CW401")
    assert (code, out) == (0, "") and template.read_text() == before
    assert "unsafe fix" in err and "--unsafe-fixes" in err

    code, _, err = run_cli("fix", template, "--no-config", "--select", "CW401", "--unsafe-fixes", "--write")
    assert code == 0, err
    assert codes(run_cli, template, "--select", "CW401") == []


def test_sarif_fixes_are_the_same_edits_as_fix_write(tmp_path, run_cli):
    template = copy(tmp_path, TEMPLATE)
    sarif = tmp_path / "r.sarif"
    code, _, err = run_cli("scan", template, "--no-config", "--select", "CW101", "-o", f"sarif={sarif}")
    assert code == 1, err
    doc = json.loads(sarif.read_text())
    validate(doc, json.loads((ROOT / "tests" / "schemas" / "sarif-2.1.0.json").read_text()))
    results = doc["runs"][0]["results"]
    assert results and all(r.get("fixes") for r in results)
    for r in results:
        change, = r["fixes"][0]["artifactChanges"]
        assert change["replacements"], "an empty artifactChanges makes GitHub reject the upload"

    # each result's fix, applied on its own to the original, gives what `fix --write` gives for it
    original = template.read_text()
    for r in results:
        edits = [Edit(str(template), x["deletedRegion"]["startLine"], x["deletedRegion"]["startColumn"],
                      x["deletedRegion"]["endLine"], x["deletedRegion"]["endColumn"], x["insertedContent"]["text"])
                 for x in r["fixes"][0]["artifactChanges"][0]["replacements"]]
        one = tmp_path / "one" / template.name
        one.parent.mkdir(exist_ok=True)
        one.write_text(apply(original, edits))
        resource = r["locations"][0]["logicalLocations"][0]["name"]
        assert ("CW101", resource) not in codes(run_cli, one, "--select", "CW101")


def test_findings_without_an_automatic_fix_are_counted(tmp_path, run_cli):
    template = copy(tmp_path, FIXTURES / "CW103" / "cfn_fail.yaml")   # a policy: no `set` to write
    code, out, err = run_cli("fix", template, "--no-config", "--select", "CW103")
    assert (code, out) == (0, "")
    assert "without an automatic fix" in err


def test_fix_write_keeps_crlf_line_endings(tmp_path, run_cli):
    template = tmp_path / "crlf.yaml"
    template.write_bytes(TEMPLATE.read_bytes().replace(b"\n", b"\r\n"))
    code, _, err = run_cli("fix", template, "--no-config", "--select", "CW101", "--write")
    assert code == 0, err
    data = template.read_bytes()
    assert b"EnableKeyRotation: true\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    assert codes(run_cli, template, "--select", "CW101") == []


def test_the_docs_list_every_rule_that_fixes_itself():
    from certwarden.rulepack import load_rules

    docs = (ROOT / "docs" / "fixing.md").read_text()
    rows = {line.split(" ", 2)[1]: line for line in docs.splitlines() if line.startswith("| [CW")}
    for rule in load_rules():
        row = rows[f"[{rule.code}](rules/{rule.code}.md)"]
        fix = rule.fix or {}
        kind = "structural" if fix.get("add") else "value" if fix.get("set") else "manual"
        assert f" | {kind} | {(rule.fix or {}).get('safety', '-')} | " in row


def test_two_rules_asking_for_the_same_value_are_both_fixed(tmp_path, run_cli):
    template = copy(tmp_path, ROOT / "fixtures" / "examples" / "certificate-infrastructure.yaml")
    code, _, err = run_cli("fix", template, "--no-config", "--select", "CW301,CW302", "--unsafe-fixes", "--write")
    assert code == 0, err
    assert "certwarden: fixed 2 findings in 1 file" in err and "without an automatic fix" not in err
    assert codes(run_cli, template, "--select", "CW301,CW302") == []


# -- --output-dir: fixed copies, originals untouched ---------------------------------------------
def _tree(tmp_path):
    src = tmp_path / "in"
    (src / "stacks").mkdir(parents=True)
    shutil.copy(TEMPLATE, src / "stacks" / "keys.yaml")
    shutil.copytree(MODULE, src / "modules" / "keys")
    return src, {p: p.read_bytes() for p in src.rglob("*") if p.is_file()}


def test_output_dir_writes_fixed_copies_with_the_input_layout(tmp_path, run_cli):
    src, before = _tree(tmp_path)
    out = tmp_path / "out"
    code, stdout, err = run_cli("fix", src, "--no-config", "--select", "CW101", "--output-dir", out)
    assert code == 0 and stdout == "", err
    assert f"written under {out}" in err
    assert {p: p.read_bytes() for p in src.rglob("*") if p.is_file()} == before   # originals untouched
    copies = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert copies == ["modules/keys/main.tf", "stacks/keys.yaml"]   # changed files only, same layout
    assert codes(run_cli, out, "--select", "CW101") == [("CW101", "aws_kms_key.from_variable")]   # declined
    assert codes(run_cli, src, "--select", "CW101") != codes(run_cli, out, "--select", "CW101")


def test_output_dir_never_writes_through_a_link_or_onto_an_input(tmp_path, run_cli):
    src, before = _tree(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "stacks").symlink_to(elsewhere, target_is_directory=True)
    code, _, err = run_cli("fix", src, "--no-config", "--select", "CW101", "--output-dir", out)
    assert code == 2
    assert "stacks: is a symbolic link; outputs are never written through one, not written" in err
    assert list(elsewhere.iterdir()) == []
    assert (out / "modules" / "keys" / "main.tf").is_file()   # the other copy is written

    code, _, err = run_cli("fix", src, "--no-config", "--select", "CW101", "--output-dir", src)
    assert code == 2 and "is a scanned file" in err
    assert {p: p.read_bytes() for p in src.rglob("*") if p.is_file()} == before


def test_output_dir_and_write_exclude_each_other(tmp_path, run_cli):
    import pytest
    with pytest.raises(SystemExit):
        run_cli("fix", tmp_path, "--write", "--output-dir", tmp_path / "out")


# -- cfn-lint at fix time (certwarden[lint]) ------------------------------------------------------
def test_a_fix_that_adds_a_cfn_lint_error_is_declined(tmp_path, run_cli):
    """A policy minimum CloudFront does not have (TLSv1.2_2030 ranks above TLSv1.2_2021 for
    certwarden; CloudFormation's enumeration lacks it): the fix is declined, naming the rule and
    the cfn-lint code, and the file keeps its value."""
    import pytest
    pytest.importorskip("cfnlint.api")
    template = copy(tmp_path, FIXTURES / "CW602" / "cfn_fail.yaml")
    before = template.read_text()
    config = tmp_path / "certwarden.yaml"
    config.write_text("rules:\n  CW602: {minimum: TLSv1.2_2030}\n")
    code, _, err = run_cli("fix", template, "--config", config, "--select", "CW602", "--unsafe-fixes", "--write")
    assert code == 0, err
    assert f"certwarden: {template}: CW602 fix of Old declined: cfn-lint E3030 'TLSv1.2_2030' is not one of" in err
    assert template.read_text() == before
    assert "certwarden: fixed 0 findings in 0 files" in err


def test_fixes_that_lint_clean_are_written(tmp_path, run_cli):
    import pytest
    pytest.importorskip("cfnlint.api")
    template = copy(tmp_path, FIXTURES / "CW602" / "cfn_fail.yaml")
    code, _, err = run_cli("fix", template, "--no-config", "--select", "CW602", "--unsafe-fixes", "--write")
    assert code == 0 and "declined" not in err and "not linted" not in err, err
    assert "MinimumProtocolVersion: TLSv1.2_2021" in template.read_text().split("DefaultCertificate:")[0]


def test_without_cfn_lint_fix_says_once_that_it_did_not_lint(tmp_path, run_cli, monkeypatch):
    from certwarden import lint
    monkeypatch.setattr(lint, "available", lambda: False)
    template, module = copy(tmp_path, TEMPLATE), copy(tmp_path, MODULE)
    code, _, err = run_cli("fix", template, module, "--no-config", "--select", "CW101", "--write")
    assert code == 0, err
    assert err.count("not linted") == 1
    assert "certwarden: fixed templates were not linted (install certwarden[lint]" in err
    code, _, err = run_cli("fix", module, "--no-config", "--select", "CW101", "--write")
    assert "not linted" not in err   # Terraform only: nothing for cfn-lint
