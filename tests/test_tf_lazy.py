"""Terraform resources are evaluated when something reads them: a resource of a type no rule
judges, untagged, in a configuration where no text holds a private key's marker, is never
evaluated (most of a configuration's resources are of that sort, and evaluating them was most of
a scan's own work). These tests prove it by what a scan reports, with an evaluation bomb in the
resource nobody should read."""
from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import FIXED_NOW
from certwarden.options import Options
from certwarden.rulepack import load_rules, select
from certwarden.scan import scan
from certwarden.sources.terraform import modules

BUDGET_ERROR = ("evaluation stopped: values built exceed 64 MiB (an expression that multiplies its input?); "
                "what depends on them is unresolved")
# 1 KB that builds 8**9 characters when evaluated; the error names local a8 (line 10), the first
# past the budget
BOMB_LOCALS = 'locals {\n  a0 = "xxxxxxxx"\n' + "".join(
    f'  a{i} = "${{local.a{i - 1}}}${{local.a{i - 1}}}${{local.a{i - 1}}}${{local.a{i - 1}}}'
    f'${{local.a{i - 1}}}${{local.a{i - 1}}}${{local.a{i - 1}}}${{local.a{i - 1}}}"\n' for i in range(1, 10)) + "}\n"
KEY = 'resource "aws_kms_key" "k" {\n  description = "k"\n}\n'
PEM_LINE = "-----BEGIN EC PRIVATE KEY-----"


@pytest.fixture(scope="module")
def ec_key_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


def run(directory: Path, codes: list[str]):
    result = scan([str(directory)], select(load_rules(), codes, None), Options(now=FIXED_NOW, jobs=1))
    return (sorted((e.line, e.message) for e in result.errors),
            sorted((f.code, f.resource, f.where.line) for f in result.findings))


def write(directory: Path, text: str) -> Path:
    directory.mkdir(exist_ok=True)
    (directory / "main.tf").write_text(text)
    return directory


def test_an_unjudged_resource_is_not_evaluated(tmp_path):
    d = write(tmp_path / "m", BOMB_LOCALS + KEY + 'resource "aws_instance" "i" {\n  user_data = local.a9\n}\n')
    assert run(d, ["CW101"]) == ([], [("CW101", "aws_kms_key.k", 13)])


def test_a_tagged_unjudged_resource_is_evaluated(tmp_path):
    """Only its tags are read to tell it is tagged; then it becomes a node (CW108 compares the
    environments of what refers to a key), and its references are read in full."""
    d = write(tmp_path / "m", BOMB_LOCALS + KEY +
              'resource "aws_instance" "i" {\n  tags = { env = "prod" }\n  user_data = local.a9\n}\n')
    assert run(d, ["CW101"]) == ([(10, BUDGET_ERROR)], [("CW101", "aws_kms_key.k", 13)])


def test_a_private_key_marker_anywhere_makes_every_resource_read(tmp_path):
    """With a marker in the text, every string is looked at for a key (CW504): the bomb in the
    unjudged resource is met and reported, the key still found."""
    d = write(tmp_path / "m", BOMB_LOCALS + KEY + 'resource "aws_instance" "i" {\n  user_data = local.a9\n}\n'
              f'# {PEM_LINE} (in a comment: the marker alone is enough to look)\n')
    assert run(d, ["CW101"]) == ([(10, BUDGET_ERROR)], [("CW101", "aws_kms_key.k", 13)])


def test_a_key_in_an_unjudged_resource_is_found(tmp_path, ec_key_pem):
    body = ec_key_pem.replace("\n", "\\n")
    d = write(tmp_path / "m", f'resource "aws_instance" "i" {{\n  user_data = "{body}"\n}}\n')
    errors, findings = run(d, ["CW504"])
    assert errors == [] and [(code, line) for code, _, line in findings] == [("CW504", 2)]


def test_a_key_read_with_file_and_changed_is_found(tmp_path, ec_key_pem):
    """What file() reads is known once the call is evaluated: a configuration that calls it has
    those calls evaluated before the builder asks for the marker, so a key the configuration
    reshapes (no longer the file's own text, which the scan reads as material) is found."""
    d = write(tmp_path / "m", 'resource "aws_instance" "i" {\n  user_data = trimspace(file("k.txt"))\n}\n')
    (d / "k.txt").write_text("\n" + ec_key_pem)
    findings = run(d, ["CW504"])[1]
    assert ("CW504", 2) in [(code, line) for code, _, line in findings if _.startswith("aws_instance.i")]


def test_a_key_read_with_file_through_a_local_is_found(tmp_path, ec_key_pem):
    d = write(tmp_path / "m", 'locals {\n  k = trimspace(file("k.txt"))\n}\n'
              'resource "aws_instance" "i" {\n  user_data = local.k\n}\n')
    (d / "k.txt").write_text("\n" + ec_key_pem)
    findings = run(d, ["CW504"])[1]
    assert ("CW504", "aws_instance.i", 5) in [(code, r.split(" ")[0], line) for code, r, line in findings]


def test_a_key_read_with_file_in_a_called_modules_output_is_found(tmp_path, ec_key_pem):
    write(tmp_path / "root", 'module "pki" {\n  source = "../pki"\n}\n'
                 'resource "aws_instance" "i" {\n  user_data = module.pki.key\n}\n')
    write(tmp_path / "pki", 'output "key" {\n  value = trimspace(file("${path.module}/k.txt"))\n}\n')
    (tmp_path / "pki" / "k.txt").write_text(ec_key_pem)
    findings = run(tmp_path, ["CW504"])[1]
    assert ("CW504", "aws_instance.i", 5) in [(code, r.split(" ")[0], line) for code, r, line in findings]


def test_a_key_read_with_file_in_a_policy_document_is_found(tmp_path, ec_key_pem):
    """A data source is evaluated only when something uses it: one that calls file() is read
    before the builder asks for the marker, like locals and outputs."""
    d = write(tmp_path / "m", 'data "aws_iam_policy_document" "p" {\n  statement {\n    actions = ["s3:*"]\n'
              '    resources = [trimspace(file("k.txt"))]\n  }\n}\n'
              'resource "aws_instance" "i" {\n  user_data = data.aws_iam_policy_document.p.json\n}\n')
    (d / "k.txt").write_text("\n" + ec_key_pem)
    findings = run(d, ["CW504"])[1]
    assert "aws_instance.i" in [r.split(" ")[0] for code, r, _ in findings if code == "CW504"]


def test_file_calls_that_read_no_key_leave_unjudged_resources_unread(tmp_path):
    """The calls are evaluated, what they read holds no marker: the bomb is never met."""
    d = write(tmp_path / "m", BOMB_LOCALS + KEY + 'resource "aws_instance" "i" {\n  user_data = local.a9\n}\n'
              'resource "aws_iam_policy" "p" {\n  policy = file("policy.json")\n}\n')
    (d / "policy.json").write_text('{"Version": "2012-10-17", "Statement": []}')
    assert run(d, ["CW101"]) == ([], [("CW101", "aws_kms_key.k", 13)])


def test_the_marker_check_reads_var_files(tmp_path):
    report = modules.Report()
    report.read(b'x = "' + PEM_LINE.encode() + b'"')
    assert report.holds_keys
    quiet = modules.Report()
    quiet.read(b'x = "no key here"')
    assert not quiet.holds_keys
