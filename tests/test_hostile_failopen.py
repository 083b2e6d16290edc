"""Hostile files that used to pass a run they should fail (fail-open) or crash it with a traceback.

An unread input fails the run (exit 2) unless the run says it tolerates that; what can be read
is read (comments do not count against the HCL size limit, identifiers may be in any script);
numbers no template can hold, UTF-16 templates to fix, mistyped baselines and reports and
unwritable outputs are one line and exit 2.
"""
from __future__ import annotations

import codecs
import json

import pytest

OPEN_KEY = '''resource "aws_kms_key" "open" {
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { AWS = "*" }, Action = "kms:Decrypt", Resource = "*" }]
  })
}
'''
VERDICT = "certwarden: error: {n} input{s} could not be read, so the run fails (--allow-input-errors to judge only what was read)"
GOOD_CFN = ("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Key:\n    Type: AWS::KMS::Key\n"
            "    Properties:\n      EnableKeyRotation: false\n")


def scan_json(run_cli, *argv):
    code, out, err = run_cli("scan", "--no-config", "-o", "json", *argv)
    return code, json.loads(out), err


def places(report, code):
    return [(f["resource"], f["file"].rsplit("/", 1)[-1], f["line"]) for f in report["findings"] if f["code"] == code]


# -- item 7: fail-open ------------------------------------------------------------------------------
def test_a_tf_padded_past_the_size_limit_with_comments_is_read(tmp_path, run_cli):
    pad = ("# " + "x" * 78 + "\n") * (530 * 1024 // 81)   # 530 KiB of comment lines
    (tmp_path / "main.tf").write_text(pad + OPEN_KEY)
    (tmp_path / "other.yaml").write_text(GOOD_CFN)
    code, report, err = scan_json(run_cli, tmp_path, "--select", "CW103")
    assert report["errors"] == [] and code == 1, err
    assert places(report, "CW103") == [("aws_kms_key.open", "main.tf", pad.count("\n") + 5)]


def test_one_character_comment_lines_still_count_one_byte_each(tmp_path):
    from certwarden.sources.terraform.hcl import HclError, parse, weight

    text = "#\n" * 300_000
    assert weight(text) == len(text)   # one token per line, as costly to Lark as code
    with pytest.raises(HclError, match="585 KiB of HCL besides whole-line comments, over the 512 KiB limit"):
        parse(text, "x.tf")


def test_a_file_that_cannot_be_read_fails_the_run_although_another_was_scanned(tmp_path, run_cli):
    (tmp_path / "tf").mkdir()
    (tmp_path / "tf" / "main.tf").write_text("locals {\n  a = " + "var.x ? " * 70_000 + "1" + " : 2" * 70_000
                                             + "\n}\n" + OPEN_KEY)
    (tmp_path / "other.yaml").write_text(GOOD_CFN)
    code, report, err = scan_json(run_cli, tmp_path, "--select", "CW103")
    assert (code, report["summary"]["scanned"], report["findings"]) == (2, 1, [])
    assert [e["file"].rsplit("/", 1)[-1] for e in report["errors"]] == ["main.tf"]
    assert err.splitlines()[-1] == VERDICT.format(n=1, s="")
    # tolerated on the command line or in the policy file: judged on what was read
    code, report, err = scan_json(run_cli, tmp_path, "--select", "CW103", "--allow-input-errors")
    assert code == 0 and len(report["errors"]) == 1 and "could not be read" not in err
    (tmp_path / "policy.yaml").write_text("allow_input_errors: true\n")
    code, out, err = run_cli("scan", tmp_path, "--select", "CW103", "--config", tmp_path / "policy.yaml", "-q")
    assert code == 0, err


def test_a_link_not_followed_or_a_suppression_not_applied_leaves_nothing_unread(tmp_path, run_cli):
    (tmp_path / "loop").symlink_to(tmp_path)
    (tmp_path / "k.yaml").write_text(GOOD_CFN.replace("    Type:", "    # certwarden:ignore CW101\n    Type:"))
    code, report, err = scan_json(run_cli, tmp_path, "--select", "CW101")
    assert sorted(e["message"] for e in report["errors"]) == [
        "suppression without reason=...; not applied", "symbolic link to a directory, not followed"]
    assert code == 1 and "could not be read" not in err   # the finding fails it, not the errors


def test_fix_and_baseline_create_fail_on_unread_input_too(tmp_path, run_cli):
    (tmp_path / "k.yaml").write_text(GOOD_CFN)
    (tmp_path / "bad.yaml").write_text("Resources: [\n")
    code, out, err = run_cli("fix", tmp_path, "--no-config", "--select", "CW101")
    assert code == 2 and "+      EnableKeyRotation: true" in out   # what was read is still fixed
    code, _, err = run_cli("baseline", "create", tmp_path / "b.json", tmp_path, "--no-config")
    assert code == 2 and not (tmp_path / "b.json").exists()
    assert run_cli("baseline", "create", tmp_path / "b.json", tmp_path, "--no-config", "--allow-input-errors")[0] == 0


def test_identifiers_in_any_script_are_read(tmp_path, run_cli):
    (tmp_path / "main.tf").write_text('locals {\n  clé = "*"   # é\n}\n'
                                      + OPEN_KEY.replace('"open"', '"ключ"').replace('AWS = "*"', "AWS = local.clé")
                                      .replace("enable_key_rotation = true", 'enable_key_rotation = true\n  description = "naïve"'))
    code, report, err = scan_json(run_cli, tmp_path, "--select", "CW103,CW101")
    assert report["errors"] == [], err
    assert places(report, "CW103") == [("aws_kms_key.ключ", "main.tf", 9)] and code == 1


def test_a_non_ascii_character_where_no_letter_may_stand_is_still_an_error(tmp_path, run_cli):
    (tmp_path / "main.tf").write_text('locals {\n  a = 1 é 2\n}\n')
    code, report, _ = scan_json(run_cli, tmp_path)
    assert code == 2 and report["errors"][0]["line"] == 2 and report["errors"][0]["message"].startswith("invalid HCL")


# -- item 8: crashes --------------------------------------------------------------------------------
KEY_YAML = "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      PendingWindowInDays: {}\n"


@pytest.mark.parametrize("name, content, line, message", [
    ("nan.yaml", KEY_YAML.format(".nan"), 5, "number '.nan' is not finite"),
    ("inf.yaml", KEY_YAML.format("-.inf"), 5, "number '-.inf' is not finite"),
    ("big.yaml", KEY_YAML.format("1.0e+999"), 5, "number '1.0e+999' is not finite"),
    ("big.json", '{"Resources": {"Key": {"Type": "AWS::KMS::Key",\n "Properties": {"PendingWindowInDays": 1.5e+999}}}}',
     2, "number '1.5e+999' is not finite"),
    ("tf/main.tf", 'resource "aws_kms_key" "k" {\n  deletion_window_in_days = 1e999\n}\n', 2, "number 1e999 is out of range"),
    ("tf/main.tf", 'resource "aws_kms_key" "k" {\n  deletion_window_in_days = ' + "9" * 5000 + "\n}\n", 2,
     "number 99999999999999999999... is out of range"),
    ("tf/main.tf", 'resource "aws_kms_key" "k" {\n  deletion_window_in_days = ' + "9" * 400 + ".5\n}\n", 2,
     "number 99999999999999999999... is out of range"),
    ("tf/terraform.tfvars.json", '{"w": 1e999}', 0, "invalid variables file: number 1e999 is out of range"),
    ("tf/terraform.tfvars.json", '{"w": NaN}', 0, "invalid variables file: number NaN is out of range"),
])
def test_numbers_no_float_holds_are_one_error_and_exit_2(tmp_path, run_cli, name, content, line, message):
    (tmp_path / "tf").mkdir()
    if name.startswith("tf/terraform"):
        (tmp_path / "tf" / "main.tf").write_text('variable "w" {}\nresource "aws_kms_key" "k" {\n'
                                                 '  deletion_window_in_days = var.w\n}\n')
    (tmp_path / name).write_text(content)
    code, report, err = scan_json(run_cli, tmp_path)
    assert "Traceback" not in err and code == 2
    error, = report["errors"]
    assert (error["file"].endswith(f"/{name}"), error["line"] or 0, error["message"]) == (True, line, message)


@pytest.mark.parametrize("bom, codec", [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
                                        (codecs.BOM_UTF8, "utf-8")])
@pytest.mark.parametrize("name, text, fixed", [
    ("k.yaml", GOOD_CFN, "      EnableKeyRotation: true\n"),
    ("tf/main.tf", 'resource "aws_kms_key" "k" {\n  enable_key_rotation = false\n}\n', "  enable_key_rotation = true\n"),
])
def test_utf16_and_bom_templates_are_fixed_in_their_own_encoding(tmp_path, run_cli, bom, codec, name, text, fixed):
    (tmp_path / "tf").mkdir()
    path = tmp_path / name
    path.write_bytes(bom + text.replace("\n", "\r\n").encode(codec))
    code, out, err = run_cli("fix", path if name.endswith(".yaml") else path.parent, "--no-config", "--select", "CW101")
    assert code == 1 and "Traceback" not in err
    assert f"+{fixed}" in out.replace("\r\n", "\n")
    code, _, err = run_cli("fix", "--write", path if name.endswith(".yaml") else path.parent, "--no-config",
                           "--select", "CW101")
    assert code == 0, err
    data = path.read_bytes()
    assert data.startswith(bom)
    assert data[len(bom):].decode(codec) == text.replace("\n", "\r\n").replace(
        fixed.replace("true", "false").rstrip("\n"), fixed.rstrip("\n"))


@pytest.mark.parametrize("doc", [
    {"format": "certwarden-baseline", "version": 1, "findings": [{"fingerprint": ["a"]}]},
    {"format": "certwarden-baseline", "version": 1, "findings": [{"fingerprint": {"a": 1}}]},
    {"format": "certwarden-baseline", "version": 1, "findings": ["x"]},
])
def test_a_baseline_with_fields_of_the_wrong_type_is_one_line(tmp_path, run_cli, doc):
    (tmp_path / "k.yaml").write_text(GOOD_CFN)
    (tmp_path / "b.json").write_text(json.dumps(doc))
    code, out, err = run_cli("scan", tmp_path / "k.yaml", "--no-config", "--baseline", tmp_path / "b.json")
    assert code == 2
    assert err == f"certwarden: error: {tmp_path / 'b.json'}: findings[0] has no fingerprint string; not a certwarden baseline\n"


@pytest.mark.parametrize("finding, field, got", [
    ({"code": ["CW101"]}, "code", "list"),
    ({"code": {"a": 1}}, "code", "dict"),
    ({"code": "CW101", "suppressions": 0}, "suppressions", "int"),
    ({"code": "CW101", "resource": 7}, "resource", "int"),
])
def test_a_report_with_fields_of_the_wrong_type_is_one_line(tmp_path, run_cli, finding, field, got):
    (tmp_path / "r.json").write_text(json.dumps({"findings": [{"code": "CW106"}, finding]}))
    code, out, err = run_cli("remediate", "--from", tmp_path / "r.json", "-o", tmp_path / "out")
    assert code == 2
    assert err == (f"certwarden: error: {tmp_path / 'r.json'}: findings[1].{field} is {got}, "
                   "not what a certwarden JSON report holds\n")


def test_an_unwritable_output_is_one_line_and_exit_2(tmp_path, run_cli):
    (tmp_path / "k.yaml").write_text(GOOD_CFN)
    for target, reason in ((tmp_path, "Is a directory"), (tmp_path / "no" / "r.json", "No such file or directory")):
        code, out, err = run_cli("scan", tmp_path / "k.yaml", "--no-config", "-o", f"json={target}")
        assert (code, err) == (2, f"certwarden: error: {target}: cannot write: {reason}\n")
    code, _, err = run_cli("baseline", "create", tmp_path, tmp_path / "k.yaml", "--no-config")
    assert (code, err) == (2, f"certwarden: error: {tmp_path}: cannot write: Is a directory\n")
    (tmp_path / "r.json").write_text(json.dumps({"findings": [{"code": "CW101"}]}))
    code, _, err = run_cli("remediate", "--from", tmp_path / "r.json", "-o", tmp_path / "k.yaml")
    assert (code, err) == (2, f"certwarden: error: {tmp_path / 'k.yaml'}: cannot create: File exists\n")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_unexpected_exception_is_an_internal_error_naming_the_file(tmp_path, run_cli, monkeypatch, jobs):
    from certwarden.sources.cloudformation import template as cfn

    def broken(path, doc, keys):
        raise KeyError("boom")
    monkeypatch.setattr(cfn, "read", broken)   # worker processes fork with it
    (tmp_path / "a.yaml").write_text(GOOD_CFN)
    (tmp_path / "b.yaml").write_text(GOOD_CFN)
    code, out, err = run_cli("scan", tmp_path / "a.yaml", tmp_path / "b.yaml", "--no-config", "-j", jobs)
    assert code == 2 and out == ""
    assert err == (f"certwarden: internal error while reading {tmp_path / 'a.yaml'}: KeyError: 'boom' "
                   "(a bug: please report it)\n")


def test_an_unexpected_exception_outside_a_scan_is_one_line_too(tmp_path, run_cli, monkeypatch):
    from certwarden import remediate

    monkeypatch.setattr(remediate, "stacks", lambda *a: 1 / 0)
    (tmp_path / "r.json").write_text(json.dumps({"findings": []}))
    code, out, err = run_cli("remediate", "--from", tmp_path / "r.json", "-o", tmp_path / "out")
    assert (code, err) == (2, "certwarden: internal error: ZeroDivisionError: division by zero (a bug: please report it)\n")
