"""Structural fixes (`fix.add`) of Terraform, end to end: each failing Terraform fixture of a rule
with one is fixed and scanned again clean of that rule; original lines change only inside the
resources the pattern touches; python-hcl2 reads the fixed module and finds every other block as
it was; a second run adds nothing. And the Terraform example module, fixed with `certwarden fix
--unsafe-fixes --output-dir`, serves its CRL privately through CloudFront."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import hcl2
import pytest

from conftest import FIXED_NOW, FIXTURES, ROOT
from fixture_support import expectations, fixture_config
from test_structural_fixes import _changed_lines_are_in
from certwarden import fixes
from certwarden.options import Options
from certwarden.rulepack import load_rules, select
from certwarden.scan import scan
from certwarden.sources.terraform.text import sibling_files
from certwarden.sources.terraform.hcl import parse
from certwarden.sources.terraform.patterns import PATTERNS, Module

RULES = {r.code: r for r in load_rules()}
ADD_RULES = sorted(code for code, r in RULES.items() if (r.fix or {}).get("add") in PATTERNS)
EXAMPLE = ROOT / "fixtures" / "examples" / "terraform"


def _cases():
    for code in ADD_RULES:
        for entry in sorted((FIXTURES / code).glob("tf_fail*")):
            if expectations(entry):
                yield pytest.param(code, entry, id=f"{code}-{entry.name}")


def _blocks(doc: dict) -> dict[tuple, dict]:
    """python-hcl2's resources and data sources as (kind, type, name) -> body."""
    return {(kind, t.strip('"'), n.strip('"')): body
            for kind in ("resource", "data") for entry in doc.get(kind, [])
            for t, named in entry.items() for n, body in named.items()}


def _spans(text: str, addresses: set[str]) -> list[range]:
    root = parse(text, "main.tf")
    return [range(b.line, b.end_line + 1) for b in root.children("resource")
            if f"{b.labels[0]}.{b.labels[1]}" in addresses]


def _touched(code: str, text: str, file: Path, resources) -> set[str]:
    """The addresses whose blocks the pattern edits (settings or a replaced expression); a
    finding the pattern declines is fixed by its value fix, in its own block."""
    root = parse(text, str(file))
    module = Module(root, [r for r, _ in sibling_files(str(file))])
    out = set()
    for resource in resources:
        change = PATTERNS[RULES[code].fix["add"]](module, resource)
        out |= _with_helpers(root, resource) if change is None else {*change.set, *(r.address for r in change.replace)}
    return out


def _with_helpers(root, address: str) -> set[str]:
    """The resource and the blocks that configure it by reference (a bucket's public access
    block), where a value fix writes its settings."""
    refers = re.compile(rf"{re.escape(address)}\.(?:id|bucket|arn)")
    return {address} | {f"{b.labels[0]}.{b.labels[1]}" for b in root.children("resource")
                        if b.attr("bucket") is not None and refers.fullmatch(_source(b.attr("bucket")))}


def _source(attr) -> str:
    return attr.expr.source.text(attr.expr.node).strip()


# Findings the pattern does not apply to, and why.
LEFT = {
    # public buckets no CA writes to: who should read them is the owner's choice
    ("CW403", "aws_s3_bucket.open"), ("CW403", "aws_s3_bucket.from_document"),
}


@pytest.mark.parametrize("code,entry", list(_cases()))
def test_structural_fix_removes_the_finding(code, entry, tmp_path):
    target = tmp_path / entry.name
    shutil.copytree(entry, target)
    rules = select(list(RULES.values()), [code], None)
    options = Options(now=FIXED_NOW, config=fixture_config(entry, code, list(RULES.values())))
    result = scan([str(target)], rules, options)
    before = {(f.code, f.resource) for f in result.findings}
    assert before == {(c, r) for c, r, _, _ in expectations(entry)}
    originals = {f: f.read_text() for f in target.glob("*.tf")}
    plan = fixes.plan(result, unsafe=True)
    assert {(f.code, f.resource) for f in plan.fixed} == before - LEFT
    assert fixes.write(plan, result.roots)[1] == []
    assert {(f.code, f.resource) for f in scan([str(target)], rules, options).findings} == before & LEFT

    for f, text in originals.items():
        after = f.read_text()
        touched = _touched(code, text, f, {r for _, r in before})
        _changed_lines_are_in(text, after, _spans(text, touched))
        for line in text.splitlines():
            if line.strip().startswith("#"):
                assert line in after.splitlines(), f"comment lost: {line!r}"
        old, new = _blocks(hcl2.loads(text)), _blocks(hcl2.loads(after))   # python-hcl2 reads the fixed file
        assert {k: v for k, v in new.items() if k in old and f"{k[1]}.{k[2]}" not in touched} == \
            {k: v for k, v in old.items() if f"{k[1]}.{k[2]}" not in touched}
        module = Module(parse(text, str(f)), [r for r, _ in sibling_files(str(f))])
        added = any(PATTERNS[RULES[code].fix["add"]](module, r) is not None for _, r in before)
        assert sum(line.startswith("# Added by certwarden fix") for line in after.splitlines()) >= (added and after != text)

    # the same findings planned again on the fixed text: everything is there, nothing to add
    for f in result.findings:
        if (f.code, f.resource) not in LEFT:
            assert fixes.edits_for(f, Path(f.where.file).read_text()) == [], f.resource


def _run_twice(run_cli, target: Path, code: str) -> str:
    assert run_cli("fix", target, "--no-config", "--select", code, "--unsafe-fixes", "--write")[0] == 0
    once = (target / "main.tf").read_text()
    assert run_cli("fix", target, "--no-config", "--select", code, "--unsafe-fixes") [:2] == (0, "")
    assert (target / "main.tf").read_text() == once
    return once


def test_a_second_run_adds_nothing(tmp_path, run_cli):
    target = tmp_path / "module"
    shutil.copytree(FIXTURES / "CW801" / "tf_fail", target)
    once = _run_twice(run_cli, target, "CW801")
    assert once.count("# Added by certwarden fix (expiry-monitoring)") == 1
    assert once.count('resource "aws_cloudwatch_event_rule" "certificate_expiry"') == 1


def test_the_module_s_other_files_are_read(tmp_path, run_cli):
    """The account comes from the module's own aws_caller_identity, the Environment tag from its
    variable, both declared in another file; a resource the pattern adds that another file has
    already is not added again."""
    target = tmp_path / "module"
    shutil.copytree(FIXTURES / "CW801" / "tf_fail", target)
    (target / "shared.tf").write_text(
        'data "aws_caller_identity" "me" {}\n\nvariable "environment" {\n  type = string\n}\n\n'
        'resource "aws_kms_key" "certificate_expiry" {\n  enable_key_rotation = true\n}\n')
    text = _run_twice(run_cli, target, "CW801")
    assert 'data "aws_caller_identity"' not in text
    assert "data.aws_caller_identity.me.account_id" in text
    assert 'resource "aws_kms_key"' not in text
    assert "kms_master_key_id = aws_kms_key.certificate_expiry.arn" in text
    hcl2.loads(text)


def test_the_secret_s_environment_tag_goes_on_its_key(tmp_path, run_cli):
    target = tmp_path / "module"
    target.mkdir()
    (target / "main.tf").write_text(
        'resource "aws_secretsmanager_secret" "db" {\n  name = "db"\n  tags = {\n'
        '    Environment = local.env\n  }\n}\n\nresource "aws_kms_key" "db" {\n  enable_key_rotation = true\n}\n')
    text = _run_twice(run_cli, target, "CW503")
    keys = _blocks(hcl2.loads(text))
    assert keys[("resource", "aws_secretsmanager_secret", "db")]["kms_key_id"] == "${aws_kms_key.db_secret.arn}"
    assert keys[("resource", "aws_kms_key", "db_secret")]["tags"]["Environment"] == "${local.env}"


CA = ('resource "aws_acmpca_certificate_authority" "{name}" {{\n'
      '  revocation_configuration {{\n    crl_configuration {{\n      enabled        = true\n'
      '      s3_bucket_name = aws_s3_bucket.crl.id\n      s3_object_acl  = "PUBLIC_READ"\n    }}\n  }}\n}}\n')


def test_two_cas_on_one_bucket_get_one_distribution(tmp_path, run_cli):
    target = tmp_path / "module"
    target.mkdir()
    (target / "main.tf").write_text('resource "aws_s3_bucket" "crl" {}\n\n' + CA.format(name="a") + "\n" + CA.format(name="b"))
    text = _run_twice(run_cli, target, "CW304")
    blocks = _blocks(hcl2.loads(text))
    assert [k for k in blocks if k[1] == "aws_cloudfront_distribution"] == [("resource", "aws_cloudfront_distribution", "crl")]
    for ca in "ab":
        crl = blocks[("resource", "aws_acmpca_certificate_authority", ca)]["revocation_configuration"][0]["crl_configuration"][0]
        assert crl["custom_cname"] == "${aws_cloudfront_distribution.crl.domain_name}"
        assert blocks[("resource", "aws_acmpca_certificate_authority", ca)]["depends_on"] == ["${aws_s3_bucket_policy.crl}"]
    assert [s["Sid"] for s in _statements(blocks[("resource", "aws_s3_bucket_policy", "crl")])] == \
        ['"PrivateCAWritesCRLs"', '"CloudFrontReadsCRLs"']


def test_a_policy_that_is_not_a_literal_declines(tmp_path):
    """A bucket policy from a policy document data source is not rewritten: no distribution, and
    the CA's ACL (already right) is all that is left, so the finding stays."""
    target = tmp_path / "main.tf"
    target.write_text('resource "aws_s3_bucket" "crl" {}\n\nresource "aws_s3_bucket_policy" "crl" {\n'
                      '  bucket = aws_s3_bucket.crl.id\n  policy = data.aws_iam_policy_document.crl.json\n}\n\n'
                      + CA.format(name="a").replace("PUBLIC_READ", "BUCKET_OWNER_FULL_CONTROL")
                      + 'data "aws_iam_policy_document" "crl" {\n  statement {\n    actions   = ["s3:GetObject"]\n'
                      '    resources = ["*"]\n    principals {\n      type        = "*"\n      identifiers = ["*"]\n'
                      '    }\n  }\n}\n')
    result = scan([str(target)], select(list(RULES.values()), ["CW304"], None), Options(now=FIXED_NOW))
    assert [f.resource for f in result.findings] == ["aws_acmpca_certificate_authority.a"]
    plan = fixes.plan(result, unsafe=True)
    assert plan.fixed == [] and plan.texts[str(target)] == target.read_text()


def _statements(policy: dict) -> list[dict]:
    """The Statement list of a policy written as jsonencode({...}), read by python-hcl2."""
    text = policy["policy"]
    assert text.startswith("${jsonencode(") and text.endswith(")}")
    return hcl2.loads("x = " + text[len("${jsonencode("):-2])["x"]["Statement"]


def _fixed_example(run_cli, tmp_path) -> tuple[Path, dict]:
    source = tmp_path / "module"
    shutil.copytree(EXAMPLE, source)
    out = tmp_path / "fixed"
    code, _, err = run_cli("fix", source, "--no-config", "--unsafe-fixes", "--output-dir", out)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["main.tf"]
    for f in source.iterdir():   # the module as a user deploys it: the fixed file and the others
        if not (out / f.name).exists():
            shutil.copy(f, out / f.name)
    return out, _blocks(hcl2.loads((out / "main.tf").read_text()))


def test_the_example_module_serves_its_crl_privately_through_cloudfront(run_cli, tmp_path):
    _, blocks = _fixed_example(run_cli, tmp_path)
    bpa = blocks[("resource", "aws_s3_bucket_public_access_block", "crl")]
    assert {k: bpa[k] for k in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                                "restrict_public_buckets")} == dict.fromkeys(bpa.keys() - {"bucket", "__is_block__"}, True)
    assert len(bpa) == 6 and bpa["bucket"] == "${aws_s3_bucket.crl.id}"
    ca = blocks[("resource", "aws_acmpca_certificate_authority", "root")]
    crl = ca["revocation_configuration"][0]["crl_configuration"][0]
    assert crl["s3_object_acl"] == '"BUCKET_OWNER_FULL_CONTROL"' and crl["enabled"] is True
    assert crl["custom_cname"] == "${aws_cloudfront_distribution.crl.domain_name}"
    assert ca["depends_on"] == ["${aws_s3_bucket_policy.crl}"]

    statements = _statements(blocks[("resource", "aws_s3_bucket_policy", "crl")])
    assert [s["Principal"] for s in statements] == [{"Service": '"acm-pca.amazonaws.com"'},
                                                    {"Service": '"cloudfront.amazonaws.com"'}]
    pca, cloudfront = statements
    assert sorted(pca["Action"]) == ['"s3:GetBucketAcl"', '"s3:GetBucketLocation"', '"s3:PutObject"', '"s3:PutObjectAcl"']
    assert pca["Condition"]["StringEquals"] == {'"aws:SourceAccount"': "${data.aws_caller_identity.current.account_id}"}
    assert pca["Condition"]["ArnLike"]['"aws:SourceArn"'].endswith(
        ':acm-pca:*:${data.aws_caller_identity.current.account_id}:certificate-authority/*"')
    assert cloudfront["Action"] == '"s3:GetObject"'
    assert cloudfront["Condition"]["StringEquals"] == {'"AWS:SourceArn"': "${aws_cloudfront_distribution.crl.arn}"}

    dist = blocks[("resource", "aws_cloudfront_distribution", "crl")]
    [origin] = dist["origin"]
    assert origin["domain_name"] == "${aws_s3_bucket.crl.bucket_regional_domain_name}"
    assert origin["origin_access_control_id"] == "${aws_cloudfront_origin_access_control.crl.id}"
    oac = blocks[("resource", "aws_cloudfront_origin_access_control", "crl")]
    assert (oac["origin_access_control_origin_type"], oac["signing_behavior"], oac["signing_protocol"]) == \
        ('"s3"', '"always"', '"sigv4"')
    [behaviour] = dist["default_cache_behavior"]
    assert behaviour["target_origin_id"] == origin["origin_id"]
    # relying parties can still fetch the CRL: plain HTTP allowed, GET reaches the bucket
    assert behaviour["viewer_protocol_policy"] == '"allow-all"'
    assert '"GET"' in behaviour["allowed_methods"]
    assert behaviour["cache_policy_id"] == '"658327ea-f89d-4fab-a63d-7e88639e58f6"'
    assert dist["viewer_certificate"][0]["cloudfront_default_certificate"] is True
    # the module's own account lookup is reused; the partition is looked up once
    assert [k for k in blocks if k[0] == "data"].count(("data", "aws_caller_identity", "current")) == 1
    assert ("data", "aws_partition", "current") in blocks


def test_the_fixed_example_module_scans_clean_but_for_human_decisions(run_cli, tmp_path):
    out, blocks = _fixed_example(run_cli, tmp_path)
    code, text, _ = run_cli("scan", out, "--no-config", "--now", "2026-01-01", "-o", "json")
    left = {(f["code"], f["resource"]) for f in json.loads(text)["findings"]}
    # the CRL distribution is on CloudFront's default certificate until it gets a domain of its own
    assert left == {("CW602", "aws_cloudfront_distribution.crl")}
    rule = blocks[("resource", "aws_cloudwatch_event_rule", "certificate_expiry")]
    pattern = hcl2.loads("x = " + rule["event_pattern"][len("${jsonencode("):-2])["x"]
    assert pattern == {"source": ['"aws.acm"'], "detail-type": ['"ACM Certificate Approaching Expiration"',
                                                                '"ACM Certificate Expired"']}
    key = blocks[("resource", "aws_kms_key", "certificate_expiry")]
    assert key["enable_key_rotation"] is True and key["tags"]["Environment"] == "${var.environment}"
    assert blocks[("resource", "aws_sns_topic", "certificate_expiry")]["kms_master_key_id"] == \
        "${aws_kms_key.certificate_expiry.arn}"


@pytest.mark.parametrize("newline,end", [("\r\n", "\r\n"), ("\n", "")], ids=["crlf", "no-final-newline"])
def test_line_endings_are_kept(tmp_path, run_cli, newline, end):
    target = tmp_path / "module"
    target.mkdir()
    text = newline.join(['resource "aws_secretsmanager_secret" "s" {', '  name = "s" # kept', "}"]) + end
    (target / "main.tf").write_bytes(text.encode())
    fixed = _run_twice(run_cli, target, "CW503")
    raw = (target / "main.tf").read_bytes().decode()
    assert raw.startswith('resource "aws_secretsmanager_secret" "s" {' + newline)
    assert raw.count("\n") == raw.count(newline) and f"}}{newline}{newline}# Added by certwarden fix (customer-key){newline}" in raw
    assert _blocks(hcl2.loads(fixed))[("resource", "aws_secretsmanager_secret", "s")]["kms_key_id"] == "${aws_kms_key.s.arn}"


def test_hosted_rotation_is_declined_with_what_to_do(tmp_path, run_cli):
    """Terraform has no AWS-hosted rotation resource: CW501's finding says what is needed."""
    assert "hosted-rotation" not in PATTERNS and RULES["CW501"].fix["add"] == "hosted-rotation"
    target = tmp_path / "module"
    shutil.copytree(FIXTURES / "CW501" / "tf_fail", target)
    before = (target / "main.tf").read_text()
    code, out, err = run_cli("fix", target, "--no-config", "--select", "CW501", "--unsafe-fixes", "--write")
    assert code == 0 and (target / "main.tf").read_text() == before
    assert "CW501 aws_secretsmanager_secret.never_rotated not fixed automatically: " \
           "Add a rotation schedule with a rotation function." in err


@pytest.mark.parametrize("code", ["CW401", "CW403"])
def test_a_crl_buckets_own_finding_makes_the_whole_pattern(code, tmp_path, run_cli):
    """Fixing only the bucket's finding must not leave the CA naming a bucket nobody can read."""
    target = tmp_path / "module"
    shutil.copytree(EXAMPLE, target)
    code_, _, err = run_cli("fix", target, "--no-config", "--select", code, "--unsafe-fixes", "--write")
    assert code_ == 0, err
    doc = hcl2.loads((target / "main.tf").read_text())
    blocks = _blocks(doc)
    ca = blocks[("resource", "aws_acmpca_certificate_authority", "root")]
    crl = ca["revocation_configuration"][0]["crl_configuration"][0]
    assert crl["custom_cname"] == "${aws_cloudfront_distribution.crl.domain_name}"
    assert ("resource", "aws_cloudfront_distribution", "crl") in blocks
    assert blocks[("resource", "aws_s3_bucket_public_access_block", "crl")]["restrict_public_buckets"] is True
    _, out, _ = run_cli("scan", target, "--no-config", "--now", "2026-01-01", "-o", "json")
    assert {f["code"] for f in json.loads(out)["findings"]} == {"CW214", "CW301", "CW302", "CW602", "CW801"}
