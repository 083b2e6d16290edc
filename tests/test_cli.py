"""The command-line contract: options, outputs, exit codes."""
import json
import shutil

import pytest

from conftest import FIXTURES, ROOT

import certwarden

FAIL = FIXTURES / "CW101" / "cfn_fail.yaml"
PASS = FIXTURES / "CW101" / "cfn_pass.yaml"


def test_version(run_cli):
    with pytest.raises(SystemExit) as exc:
        run_cli("--version")
    assert exc.value.code == 0


def test_exit_codes(run_cli, tmp_path):
    assert run_cli("scan", PASS, "--select", "CW101")[0] == 0
    code, out, _ = run_cli("scan", FAIL, "--select", "CW101")
    assert code == 1
    assert "CW101" in out and "NoRotation" in out
    assert run_cli("scan", FAIL, "--select", "CW101", "--fail-on", "critical")[0] == 0
    assert run_cli("scan", FAIL, "--select", "CW101", "--fail-on", "none")[0] == 0
    bad = tmp_path / "broken.yaml"
    bad.write_text("Resources:\n  X: [\n")
    code, out, _ = run_cli("scan", bad)
    assert code == 2, "nothing could be read"
    assert "broken.yaml:3: invalid YAML" in out
    code, _, err = run_cli("scan", bad, "-o", "json")
    assert code == 2 and "broken.yaml:3: invalid YAML" in err


def test_usage_errors_exit_2(run_cli):
    assert run_cli("scan", FAIL, "--select", "CW999")[0] == 2
    assert run_cli("scan", FAIL, "-o", "xml")[0] == 2
    assert run_cli("scan", FAIL, "-o", "json", "-o", "sarif")[0] == 2   # two outputs to stdout
    with pytest.raises(SystemExit) as exc:
        run_cli("scan", FAIL, "--fail-on", "severe")
    assert exc.value.code == 2


def test_select_and_ignore_by_code_or_name(run_cli):
    _, out, _ = run_cli("scan", FAIL, "--select", "kms-rotation-disabled", "-o", "json")
    assert {f["code"] for f in json.loads(out)["findings"]} == {"CW101"}
    _, out, _ = run_cli("scan", FAIL, "--ignore", "CW101,kms-key-untagged", "-o", "json")
    assert {f["code"] for f in json.loads(out)["findings"]} == set()


def test_several_outputs_in_one_run(run_cli, tmp_path):
    code, out, _ = run_cli("scan", FAIL, "--select", "CW101", "-o", "text",
                           "-o", f"json={tmp_path / 'r.json'}", "-o", f"sarif={tmp_path / 'r.sarif'}")
    assert code == 1 and "3 findings" in out
    doc = json.loads((tmp_path / "r.json").read_text())
    assert [(f["code"], f["resource"], f["line"]) for f in doc["findings"]] == [
        ("CW101", "NoRotation", 4), ("CW101", "RotationOff", 12), ("CW101", "RotationOffAsString", 17)]
    sarif = json.loads((tmp_path / "r.sarif").read_text())
    assert len(sarif["runs"][0]["results"]) == 3


def test_no_color_and_quiet(run_cli, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    _, out, _ = run_cli("scan", FAIL, "--select", "CW101", "-q")
    assert "\033[" not in out
    assert out.splitlines()[0].endswith("cfn_fail.yaml:4:3: CW101 KMS key NoRotation does not rotate its key material automatically (rotation enabled: false)")
    assert run_cli("scan", PASS, "--select", "CW101", "-q")[1] == ""


def test_scan_defaults_to_current_directory(run_cli):
    code, out, _ = run_cli("scan", "--select", "CW101", cwd=FIXTURES / "CW101")
    assert code == 1 and "cfn_fail.yaml" in out and "cfn_pass.yaml" not in out


def test_strict_reports_unresolved_values_for_review(run_cli):
    code, out, _ = run_cli("scan", PASS, "--select", "CW101", "--strict", "-o", "json")
    review = [(f["resource"], f["review"]) for f in json.loads(out)["findings"]]
    assert review == [("FromParameter", True)]
    assert "parameter Rotate has no default" in json.loads(out)["findings"][0]["message"]


def test_rules_catalog(run_cli):
    _, out, _ = run_cli("rules", "-o", "json")
    rules = {r["code"]: r for r in json.loads(out)}
    assert rules["CW101"]["name"] == "kms-rotation-disabled"
    assert rules["CW101"]["sources"] == ["cfn", "tf", "live"]
    assert rules["CW403"]["wa_sections"] == [4, 6]
    _, text, _ = run_cli("rules")
    assert text.splitlines()[0].startswith("CW101  kms-rotation-disabled")


def test_user_rules_dir(run_cli, tmp_path):
    (tmp_path / "ACME1.yaml").write_text(
        "code: ACME1\nname: acme-key-needs-description\nseverity: low\nsources: [cfn]\nkinds: [kms_key]\n"
        "title: Keys name their owner\nwhy: Ownership.\nwhen: {attr: tags.Owner, present: false}\n"
        "message: 'KMS key {name} has no Owner tag'\n")
    code, out, _ = run_cli("scan", PASS, "--rules-dir", tmp_path, "--select", "ACME1", "-q")
    assert code == 1 and "ACME1 KMS key Rotating has no Owner tag" in out


def test_user_rules_link_to_their_own_page_or_to_none(run_cli, tmp_path):
    rule = ("code: ACME1\nname: acme-owner\nseverity: low\nsources: [cfn]\nkinds: [kms_key]\n"
            "title: Keys name their owner\nwhy: Ownership.\nwhen: {attr: tags.Owner, present: false}\nmessage: m\n")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "ACME1.yaml").write_text(rule)
    (tmp_path / "rules" / "ACME2.yaml").write_text(
        rule.replace("ACME1", "ACME2").replace("acme-owner", "acme-owner-2") + "help_uri: https://wiki.example/acme2\n")
    out = tmp_path / "r.sarif"
    run_cli("scan", PASS, "--rules-dir", tmp_path / "rules", "--select", "ACME1,ACME2,CW101", "-o", f"sarif={out}")
    rules = {r["id"]: r for r in json.loads(out.read_text())["runs"][0]["tool"]["driver"]["rules"]}
    assert "helpUri" not in rules["ACME1"]   # no page was written for it
    assert rules["ACME2"]["helpUri"] == "https://wiki.example/acme2"
    assert rules["CW101"]["helpUri"].endswith("/docs/rules/CW101.md")


def test_a_missing_path_is_a_usage_error_even_with_fail_on_none(run_cli, tmp_path):
    code, _, _ = run_cli("scan", "--no-config", tmp_path / "nope", PASS, "--fail-on", "none")
    assert code == 2


def test_quiet_prints_no_notes(run_cli, tmp_path):
    (tmp_path / "main.tf").write_text('module "x" {\n  source = "terraform-aws-modules/kms/aws"\n}\n')
    code, _, err = run_cli("scan", "--no-config", tmp_path)
    assert "a remote module, not scanned" in err
    code, out, err = run_cli("scan", "--no-config", tmp_path, "-q")
    assert (code, out, err) == (0, "", "")


def test_a_policy_for_a_bucket_of_another_stack_names_that_bucket(run_cli, tmp_path):
    (tmp_path / "policy.yaml").write_text(
        "Resources:\n  ExternalPolicy:\n    Type: AWS::S3::BucketPolicy\n    Properties:\n"
        "      Bucket: bucket-of-another-stack\n      PolicyDocument:\n        Statement:\n"
        "          - {Effect: Allow, Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*'}\n")
    code, out, _ = run_cli("scan", "--no-config", tmp_path / "policy.yaml", "--select", "CW403", "-q")
    assert code == 1
    assert "CW403 S3 bucket bucket-of-another-stack (configured by ExternalPolicy) has a policy statement" in out


def test_invalid_user_rule_names_file_and_field(run_cli, tmp_path):
    (tmp_path / "bad.yaml").write_text(
        "code: ACME2\nname: acme\nseverity: urgent\nsources: [cfn]\nkinds: [kms_key]\n"
        "title: t\nwhy: w\nwhen: {attr: x, eq: 1}\nmessage: m\n")
    code, _, err = run_cli("scan", PASS, "--rules-dir", tmp_path)
    assert code == 2
    assert "bad.yaml: field severity: 'urgent' is not one of" in err


def test_package_version_is_reported(run_cli):
    _, out, _ = run_cli("scan", FAIL, "-o", "json")
    assert json.loads(out)["tool"]["version"] == certwarden.__version__
    assert ROOT.exists()


def _legacy_repo(tmp_path):
    from gitrepo import init

    repo = init(tmp_path / "repo")
    for name in ("infra/legacy/old.yaml", "infra/new.yaml"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / "CW101" / "cfn_fail.yaml", repo / name)
    return repo


def _files_in(out: str) -> set[str]:
    return {line for line in out.splitlines() if line.endswith(".yaml")}


@pytest.mark.parametrize("cwd, path, glob, scanned", [
    ("", "infra", "infra/legacy/*", "infra/new.yaml"),   # relative to the repository root
    ("", "infra", "legacy/*", "infra/new.yaml"),         # relative to the PATH given
    ("infra", ".", "infra/legacy/*", "./new.yaml"),      # the repository root, from a folder inside it
    ("", "infra", "./infra/legacy", "infra/new.yaml"),
])
def test_excludes_match_relative_to_the_repository_root_and_to_the_path(run_cli, tmp_path, cwd, path, glob, scanned):
    repo = _legacy_repo(tmp_path)
    code, out, err = run_cli("scan", "--no-config", "--select", "CW101", path, "--exclude", glob, cwd=repo / cwd)
    assert code == 1, err
    assert _files_in(out) == {scanned}


def test_force_exclude_applies_the_excludes_to_files_named_explicitly(run_cli, tmp_path):
    repo = _legacy_repo(tmp_path)
    named = ["infra/legacy/old.yaml", "infra/new.yaml"]
    code, out, _ = run_cli("scan", "--no-config", "--select", "CW101", *named, "--exclude", "infra/legacy/*", cwd=repo)
    assert _files_in(out) == set(named)   # named files are scanned whatever the excludes say
    code, out, _ = run_cli("scan", "--no-config", "--select", "CW101", *named, "--exclude", "infra/legacy/*",
                           "--force-exclude", cwd=repo)
    assert code == 1 and _files_in(out) == {"infra/new.yaml"}


def test_another_hcl2_module_does_not_matter(run_cli, tmp_path, monkeypatch):
    """Checkov's bc-python-hcl2 installs a module named hcl2 too: Terraform is read with
    tree-sitter-hcl, so a scan beside it reads .tf files all the same."""
    import sys

    fake = tmp_path / "site" / "hcl2"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("def loads(text):\n    return {}\n")   # bc-python-hcl2's shape
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delitem(sys.modules, "hcl2", raising=False)
    (tmp_path / "tf").mkdir()
    (tmp_path / "tf" / "main.tf").write_text('resource "aws_kms_key" "k" {\n  enable_key_rotation = false\n}\n')
    code, out, err = run_cli("scan", "--no-config", "--select", "CW101", "-o", "json", tmp_path / "tf")
    assert code == 1, err
    assert [(f["code"], f["resource"], f["line"]) for f in json.loads(out)["findings"]] == [("CW101", "aws_kms_key.k", 2)]


def test_the_hcl_parser_is_a_declared_dependency_and_python_hcl2_a_test_one():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert {"tree-sitter>=0.25", "tree-sitter-hcl>=1.2"} <= set(project["dependencies"])
    assert not any(d.startswith("python-hcl2") for d in project["dependencies"])
    assert "python-hcl2>=8.1" in project["optional-dependencies"]["test"]   # 8.1.0: hcl2.loads as the tests use it
