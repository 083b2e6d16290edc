"""Terraform fixes (scanner/sources/terraform/fix.py): each rule's fix.set written into its failing
fixtures removes the finding, keeps every comment and touches only the lines it must."""
from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from conftest import FIXED_NOW, FIXTURES
from fixture_support import expectations, findings
from certwarden.rulepack import fix_values, load_rules
from certwarden.sources.edits import Edit, apply
from certwarden.sources.terraform.fix import edits_for

FIX_RULES = {r.code: fix_values(r.fix, r.params) for r in load_rules() if (r.fix or {}).get("set")}

# Marked resources whose fix is not (or need not be) written, and why.
NOT_FIXED = {
    ("CW101", "aws_kms_key.from_variable"): None,            # enable_key_rotation = var.rotate
    ("CW105", "aws_kms_key.from_local"): None,               # deletion_window_in_days = local.window
    ("CW304", "aws_acmpca_certificate_authority.public_bucket"): [],   # the ACL is right; the bucket is public
    ("CW402", "aws_s3_bucket.granted"): None,                # grants, which a canned ACL cannot replace
    ("CW601", "aws_elb.classic"): None,                      # a negotiation policy resource, not a value
    ("CW601", "aws_load_balancer_policy.sslv3"): None,
    ("CW601", "aws_load_balancer_policy.legacy"): None,
    # the default certificate (or none) negotiates TLSv1: the fix's `when` keeps the set off them
    ("CW602", "aws_cloudfront_distribution.default_certificate"): [],
    ("CW602", "aws_cloudfront_distribution.no_viewer_certificate"): "not asked",
}


def _fail_fixtures():
    for code in sorted(FIX_RULES):
        for entry in sorted((FIXTURES / code).glob("tf_fail*")):
            yield pytest.param(code, entry, id=f"{code}-{entry.name}")


def _comments(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip().startswith(("#", "//"))]


def _assert_only_edited_lines_changed(before: str, after: str, edits: list[Edit]) -> None:
    """Lines of the original that are gone or changed are lines an edit replaces text in."""
    replaced = {n for e in edits if (e.line, e.column) != (e.end_line, e.end_column)
                for n in range(e.line, e.end_line + 1)}
    matcher = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines(), autojunk=False)
    for op, i1, i2, _, _ in matcher.get_opcodes():
        if op in ("delete", "replace"):
            assert set(range(i1 + 1, i2 + 1)) <= replaced, (op, i1, i2, edits)


def _fix_module(tmp_path: Path, entry: Path, code: str) -> tuple[Path, dict, dict]:
    """The fixture copied, with every marked resource's fix applied: (copy, edits per resource,
    original text per file)."""
    module = tmp_path / entry.name
    if entry.is_dir():
        shutil.copytree(entry, module)
    else:
        module.mkdir()
        shutil.copy(entry, module / entry.name)
    originals = {f: f.read_text() for f in sorted(module.glob("*.tf"))}
    results: dict = {}
    for f, text in originals.items():
        marked = sorted({res for c, res, name, _ in expectations(f) if c == code})
        edits = []
        for resource in marked:
            results[resource] = edits_for(str(f), text, resource, FIX_RULES[code])
            edits += results[resource] or []
        f.write_text(apply(text, edits))
        _assert_only_edited_lines_changed(text, f.read_text(), edits)
    return module, results, originals


@pytest.mark.parametrize("code, entry", list(_fail_fixtures()))
def test_fix_removes_the_finding(tmp_path, code, entry):
    module, results, originals = _fix_module(tmp_path, entry, code)
    assert results, "the fixture marks no resource"
    left = {res for _, res, _, _ in findings(module, code, FIXED_NOW)}
    for resource, edits in results.items():
        if (code, resource) in NOT_FIXED:
            assert NOT_FIXED[code, resource] == "not asked" or edits == NOT_FIXED[code, resource]
            continue
        assert edits, f"{resource}: no edit"
        assert resource not in left, f"{resource} still fails after its fix"
    for f, text in originals.items():
        assert _comments(text) == [c for c in _comments(f.read_text()) if c in _comments(text)]


def test_every_rule_with_a_set_has_a_terraform_fixture():
    assert len(FIX_RULES) == 17
    assert {p.values[0] for p in _fail_fixtures()} == set(FIX_RULES)


# -- details ----------------------------------------------------------------------------------
KEY = 'resource "aws_kms_key" "k" {\n  description = "x"\n  enable_key_rotation = %s\n}\n'


def _fixed(text: str, address: str, values: dict) -> str | None:
    edits = edits_for("main.tf", text, address, values)
    return None if edits is None else apply(text, edits)


@pytest.mark.parametrize("expr", ["var.rotate", "local.rotate", "var.prod ? true : false",
                                  "tobool(\"true\")", '"${var.x}"', "!var.off"])
def test_expression_value_is_left_alone(expr):
    assert edits_for("main.tf", KEY % expr, "aws_kms_key.k", {"rotation_enabled": True}) is None


def test_literal_replaced_in_place_keeping_its_comment():
    text = KEY % "false # off until the audit"
    edits = edits_for("main.tf", text, "aws_kms_key.k", {"rotation_enabled": True})
    assert edits == [Edit("main.tf", 3, 25, 3, 30, "true")]
    assert apply(text, edits) == KEY % "true # off until the audit"


def test_value_already_set_needs_no_edit():
    assert edits_for("main.tf", KEY % "true", "aws_kms_key.k", {"rotation_enabled": True}) == []


def test_missing_attribute_inserted_with_sibling_indentation_and_alignment():
    text = ('resource "aws_kms_key" "k" {\n'
            '    enable_key_rotation     = true\n'
            '    deletion_window_in_days = 7 # short\n'
            '}\n')
    assert _fixed(text, "aws_kms_key.k", {"rotation_period_days": 365}) == text.replace(
        "}\n", "    rotation_period_in_days = 365\n}\n")


def test_empty_block_grows():
    assert _fixed('resource "aws_kms_key" "k" {}\n', "aws_kms_key.k", {"rotation_enabled": True}) == \
        'resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n}\n'


def test_missing_nested_blocks_created_once_for_several_settings():
    text = ('resource "aws_acmpca_certificate_authority" "ca" {\n'
            '  certificate_authority_configuration {\n'
            '    key_algorithm = "RSA_2048"\n'
            '  }\n'
            '}\n')
    fixed = _fixed(text, "aws_acmpca_certificate_authority.ca",
                   {"ocsp_enabled": True, "crl_object_acl": "BUCKET_OWNER_FULL_CONTROL", "key_algorithm": "RSA_4096"})
    assert fixed == ('resource "aws_acmpca_certificate_authority" "ca" {\n'
                     '  certificate_authority_configuration {\n'
                     '    key_algorithm = "RSA_4096"\n'
                     '  }\n'
                     '  revocation_configuration {\n'
                     '    ocsp_configuration {\n'
                     '      enabled = true\n'
                     '    }\n'
                     '    crl_configuration {\n'
                     '      s3_object_acl = "BUCKET_OWNER_FULL_CONTROL"\n'
                     '    }\n'
                     '  }\n'
                     '}\n')


def test_dynamic_or_repeated_block_in_the_way():
    dynamic = ('resource "aws_acmpca_certificate_authority" "ca" {\n'
               '  dynamic "revocation_configuration" {\n'
               '    for_each = var.revocation\n'
               '    content {}\n'
               '  }\n'
               '}\n')
    assert edits_for("main.tf", dynamic, "aws_acmpca_certificate_authority.ca", {"ocsp_enabled": True}) is None
    repeated = ('resource "aws_acmpca_certificate_authority" "ca" {\n'
                '  revocation_configuration {\n  }\n'
                '  revocation_configuration {\n  }\n'
                '}\n')
    assert edits_for("main.tf", repeated, "aws_acmpca_certificate_authority.ca", {"ocsp_enabled": True}) is None


@pytest.mark.parametrize("address, values", [
    ("aws_kms_key.other", {"rotation_enabled": True}),            # not in this file
    ("aws_kms_key.k", {"key_usage": "ENCRYPT_DECRYPT"}),          # no fix path for the attribute
    ("aws_lb_listener.k", {"ssl_policy": "x"}),                  # no table for the type
    ("aws_kms_external_key.k", {"rotation_enabled": True}),       # the provider has no rotation there
    ("not an address", {"rotation_enabled": True}),
])
def test_what_cannot_be_fixed(address, values):
    text = KEY % "false" + 'resource "aws_kms_external_key" "k" {\n}\n'
    assert edits_for("main.tf", text, address, values) is None


@pytest.mark.parametrize("address", ['aws_kms_key.k[*]', 'aws_kms_key.k["dev"]', "aws_kms_key.k[0]",
                                     "module.keys.aws_kms_key.k", 'module.a["x"].module.b.aws_kms_key.k[*]'])
def test_instance_and_module_addresses_edit_the_block(address):
    assert _fixed(KEY % "false", address, {"rotation_enabled": True}) == KEY % "true"


def test_invalid_hcl_is_not_edited():
    assert edits_for("main.tf", 'resource "aws_kms_key" "k" {\n', "aws_kms_key.k", {"rotation_enabled": True}) is None


BPA = dict.fromkeys(("block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets"), True)


def _scan_one(tmp_path: Path, text: str, code: str) -> set:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "main.tf").write_text(text)
    return {res for _, res, _, _ in findings(tmp_path / "m", code, FIXED_NOW)}


def test_bucket_without_public_access_block_gets_one_appended(tmp_path):
    text = 'resource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n}'   # no final newline
    edits = edits_for("main.tf", text, "aws_s3_bucket.logs", BPA)
    fixed = apply(text, edits)
    assert fixed == text + ('\n\nresource "aws_s3_bucket_public_access_block" "logs" {\n'
                            '  bucket                  = aws_s3_bucket.logs.id\n'
                            '  block_public_acls       = true\n'
                            '  ignore_public_acls      = true\n'
                            '  block_public_policy     = true\n'
                            '  restrict_public_buckets = true\n'
                            '}\n')
    assert _scan_one(tmp_path, fixed, "CW401") == set()


def test_for_each_bucket_gets_a_public_access_block_per_instance(tmp_path):
    text = 'resource "aws_s3_bucket" "b" {\n  for_each = toset(["a", "b"])\n  bucket   = each.key\n}\n'
    fixed = _fixed(text, "aws_s3_bucket.b[*]", BPA)
    assert "for_each                = aws_s3_bucket.b\n  bucket                  = aws_s3_bucket.b[each.key].id\n" in fixed
    assert _scan_one(tmp_path, fixed, "CW401") == set()


def test_public_access_block_name_taken_by_another_bucket():
    text = ('resource "aws_s3_bucket" "a" {}\nresource "aws_s3_bucket" "b" {}\n'
            'resource "aws_s3_bucket_public_access_block" "a" {\n  bucket = aws_s3_bucket.b.id\n}\n')
    assert edits_for("main.tf", text, "aws_s3_bucket.a", BPA) is None


def test_bucket_acl_in_another_file_is_not_guessed():
    assert edits_for("main.tf", 'resource "aws_s3_bucket" "a" {}\n', "aws_s3_bucket.a", {"acl": "private"}) is None
    assert edits_for("main.tf", 'resource "aws_s3_bucket" "a" {}\n', "aws_s3_bucket.b", BPA) is None


def test_public_access_block_in_another_file_of_the_module(tmp_path):
    (tmp_path / "access.tf").write_text(
        'resource "aws_s3_bucket_public_access_block" "pab" {\n  bucket = aws_s3_bucket.a.id\n}\n')
    main = tmp_path / "main.tf"
    main.write_text('resource "aws_s3_bucket" "a" {}\n')
    assert edits_for(str(main), main.read_text(), "aws_s3_bucket.a", BPA) is None
    # The finding points at the helper's file: it is edited there, without the bucket's block.
    access = tmp_path / "access.tf"
    access.write_text(apply(access.read_text(), edits_for(str(access), access.read_text(), "aws_s3_bucket.a", BPA)))
    assert access.read_text() == (
        'resource "aws_s3_bucket_public_access_block" "pab" {\n  bucket = aws_s3_bucket.a.id\n'
        '  block_public_acls       = true\n  ignore_public_acls      = true\n'
        '  block_public_policy     = true\n  restrict_public_buckets = true\n}\n')
    assert findings(tmp_path, "CW401", FIXED_NOW) == set()


def test_block_written_as_an_object_attribute_is_left_alone():
    text = ('resource "aws_acmpca_certificate_authority" "ca" {\n'
            '  revocation_configuration = {}\n'
            '}\n')
    assert edits_for("main.tf", text, "aws_acmpca_certificate_authority.ca", {"ocsp_enabled": True}) is None
