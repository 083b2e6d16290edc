"""Suppressions written in the code: inline comments, CloudFormation Metadata, expiry, errors."""
import json
from datetime import date

from conftest import FIXED_NOW
from certwarden.findings import Finding
from certwarden.model import Graph, Node, Where
from certwarden.rulepack import load_rules
from certwarden.options import Options
from certwarden.scan import scan
from certwarden import suppressions

TEMPLATE = """\
Resources:
  # certwarden:ignore CW101 reason=rotated by our own job until=2026-03-31
  Above:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: false
  Inside:
    Type: AWS::KMS::Key
    Properties:
      # certwarden:ignore kms-rotation-disabled reason="legacy key, retired in Q3"
      EnableKeyRotation: false
  Trailing:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: false  # certwarden:ignore CW101 reason=trailing comment
  NoReason:
    # certwarden:ignore CW101
    Type: AWS::KMS::Key
  Unknown:
    # certwarden:ignore CW999,CW101 reason=one typo, one real code
    Type: AWS::KMS::Key
  OtherRule:
    # certwarden:ignore CW102 reason=wrong rule for this finding
    Type: AWS::KMS::Key
"""


def run(path, now=FIXED_NOW, select=("CW101",)):
    rules = load_rules()
    chosen = [r for r in rules if r.code in select]
    return scan([str(path)], chosen, Options(now=now, catalog=tuple(rules)))


def outcome(result):
    return [(f.code, f.resource, f.where.line, [s["justification"] for s in f.suppressions])
            for f in result.findings]


def test_inline_comments_apply_to_the_resource_below_or_around(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(TEMPLATE)
    result = run(path)
    assert outcome(result) == [
        ("CW101", "Above", 6, ["rotated by our own job"]),
        ("CW101", "Inside", 11, ["legacy key, retired in Q3"]),
        ("CW101", "Trailing", 15, ["trailing comment"]),
        ("CW101", "NoReason", 16, []),
        ("CW101", "Unknown", 19, ["one typo, one real code"]),
        ("CW101", "OtherRule", 22, []),
    ]
    assert [str(e) for e in result.errors] == [
        f"{path}:17: suppression without reason=...; not applied",
        f"{path}:20: suppression names unknown rule 'CW999'",
    ]


def test_a_suppression_stops_applying_after_its_until_date(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(TEMPLATE)
    on_the_day = run(path, now=FIXED_NOW.replace(year=2026, month=3, day=31))
    assert ("Above", ["rotated by our own job"]) in [(r, s) for _, r, _, s in outcome(on_the_day)]
    after = run(path, now=FIXED_NOW.replace(year=2026, month=4, day=1))
    assert ("Above", []) in [(r, s) for _, r, _, s in outcome(after)]
    assert after.notices == [f"{path}:2: suppression of CW101 on Above expired on 2026-03-31; no longer applied"]


def test_bad_until_date_is_reported_and_not_applied(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("Resources:\n  K:\n    # certwarden:ignore CW101 reason=x until=someday\n"
                    "    Type: AWS::KMS::Key\n")
    result = run(path)
    assert outcome(result) == [("CW101", "K", 2, [])]
    assert [str(e) for e in result.errors] == [
        f"{path}:3: suppression until='someday' is not a date (YYYY-MM-DD); not applied"]


def test_comment_outside_any_resource_is_reported(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("# certwarden:ignore CW101 reason=file-wide is not supported\n"
                    "Resources:\n  K:\n    Type: AWS::KMS::Key\n")
    result = run(path)
    assert outcome(result) == [("CW101", "K", 3, [])]
    assert [str(e) for e in result.errors] == [
        f"{path}:1: suppression is neither inside nor just above a resource; not applied"]


def test_json_templates_use_resource_metadata(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"Resources": {
        "Kept": {"Type": "AWS::KMS::Key", "Metadata": {"certwarden": {"ignore": [
            {"code": "CW101", "reason": "rotation handled by the HSM team"}]}}},
        "Expired": {"Type": "AWS::KMS::Key", "Metadata": {"certwarden": {"ignore": [
            {"code": "CW101", "reason": "was fine", "until": "2025-12-31"}]}}},
        "Bare": {"Type": "AWS::KMS::Key", "Metadata": {"certwarden": {"ignore": [{"code": "CW101"}]}}},
    }}, indent=2))
    result = run(path)
    assert [(f.resource, [s["justification"] for s in f.suppressions]) for f in result.findings] == [
        ("Kept", ["rotation handled by the HSM team"]), ("Expired", []), ("Bare", [])]
    assert [e.message for e in result.errors] == ["suppression without reason=...; not applied"]


def test_suppressed_findings_do_not_fail_and_show_on_request(run_cli, tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("Resources:\n  # certwarden:ignore CW101 reason=accepted risk\n  K:\n    Type: AWS::KMS::Key\n")
    code, out, _ = run_cli("scan", path, "--select", "CW101", "--now", "2026-01-01")
    assert code == 0
    assert out == "0 findings in 0 files; 1 scanned, 1 suppressed\n"
    code, out, _ = run_cli("scan", path, "--select", "CW101", "--now", "2026-01-01", "--show-suppressed")
    assert code == 0
    assert "  3:3      high     CW101 kms-rotation-disabled  K (suppressed: accepted risk)" in out.splitlines()
    code, out, _ = run_cli("scan", path, "--select", "CW101", "--now", "2026-01-01", "-o", "json")
    finding, = json.loads(out)["findings"]
    assert finding["suppressions"] == [{"kind": "inSource", "justification": "accepted risk"}]


def _finding(resource, file, line):
    return Finding(code="CW101", name="kms-rotation-disabled", severity="high", message="m", source="tf",
                   kind="kms_key", resource=resource, resource_type="aws_kms_key", where=Where(file, line, 3))


def test_suppression_in_a_local_module_applies_to_that_module_only(tmp_path):
    """The Terraform adapter names module resources by address and keeps the module's file: a
    comment in modules/key/main.tf covers module.*.aws_kms_key.this, never the root's key."""
    (tmp_path / "modules" / "key").mkdir(parents=True)
    mod = tmp_path / "modules" / "key" / "main.tf"
    mod.write_text('# certwarden:ignore CW101 reason=module keys rotate via the platform job\n'
                   'resource "aws_kms_key" "this" {\n  enable_key_rotation = false\n}\n')
    root = tmp_path / "main.tf"
    root.write_text('module "key" {\n  source = "./modules/key"\n}\n\n'
                    'resource "aws_kms_key" "this" {\n  enable_key_rotation = false\n}\n')
    graph = Graph(unit=str(tmp_path), source="tf")
    for name, file, line, end in (("module.key.aws_kms_key.this", str(mod), 2, 4),
                                  ("aws_kms_key.this", str(root), 5, 7)):
        graph.add(Node(id=name, kind="kms_key", name=name, source="tf", where=Where(file, line, 1, end_line=end)))
    in_module, in_root = _finding("module.key.aws_kms_key.this", str(mod), 3), _finding("aws_kms_key.this", str(root), 6)
    problems, _ = suppressions.apply(graph, [in_module, in_root], {"CW101": "CW101"}, date(2026, 1, 1))
    assert problems == []
    assert in_module.suppressions == [{"kind": "inSource", "justification": "module keys rotate via the platform job"}]
    assert in_root.suppressions == []


def test_hcl_slash_comments_and_several_codes(tmp_path):
    tf = tmp_path / "main.tf"
    tf.write_text('resource "aws_kms_key" "k" {\n'
                  '  // certwarden:ignore CW102, kms-rotation-disabled reason=both accepted until=2030-01-01\n'
                  '  enable_key_rotation = false\n}\n')
    graph = Graph(unit=str(tmp_path), source="tf")
    graph.add(Node(id="aws_kms_key.k", kind="kms_key", name="aws_kms_key.k", source="tf",
                   where=Where(str(tf), 1, 1, end_line=4)))
    f = _finding("aws_kms_key.k", str(tf), 3)
    known = {"CW101": "CW101", "kms-rotation-disabled": "CW101", "CW102": "CW102"}
    assert suppressions.apply(graph, [f], known, date(2026, 1, 1)) == ([], [])
    assert f.suppressions == [{"kind": "inSource", "justification": "both accepted", "until": "2030-01-01"}]


def test_each_template_of_a_yaml_stream_keeps_its_own_suppressions(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("Resources:\n"
                    "  # certwarden:ignore CW101 reason=first stream document\n"
                    "  K:\n    Type: AWS::KMS::Key\n"
                    "---\n"
                    "# certwarden:ignore CW101 reason=not above any resource\n"
                    "Resources:\n"
                    "  K:\n    Type: AWS::KMS::Key\n"
                    "    Metadata: {certwarden: {ignore: [{code: CW101}]}}\n")
    result = run(path)
    assert outcome(result) == [("CW101", "K", 3, ["first stream document"]), ("CW101", "K", 8, [])]
    assert [str(e) for e in result.errors] == [
        f"{path}:6: suppression is neither inside nor just above a resource; not applied",
        f"{path}:10: suppression without reason=...; not applied",
    ]


def test_terraform_end_to_end_module_used_twice_and_root_comment(tmp_path):
    """Through the real Terraform adapter: a comment in a local module covers every instance of
    that module's resource and nothing in the root; a comment above a root resource covers it."""
    (tmp_path / "modules" / "key").mkdir(parents=True)
    (tmp_path / "modules" / "key" / "main.tf").write_text(
        'variable "name" {}\n'
        '# certwarden:ignore CW101 reason=rotated by the platform job\n'
        'resource "aws_kms_key" "this" {\n  description = var.name\n  enable_key_rotation = false\n}\n')
    (tmp_path / "main.tf").write_text(
        'module "a" {\n  source = "./modules/key"\n  name = "a"\n}\n'
        'module "b" {\n  source = "./modules/key"\n  name = "b"\n}\n'
        'resource "aws_kms_key" "root" {\n  enable_key_rotation = false\n}\n'
        '# certwarden:ignore CW101 reason=short-lived test key\n'
        'resource "aws_kms_key" "other" {\n  enable_key_rotation = false\n}\n')
    result = scan([str(tmp_path / "main.tf")], load_rules(), Options(now=FIXED_NOW))
    assert not result.errors
    got = {(f.resource, bool(f.suppressions)) for f in result.findings if f.code == "CW101"}
    assert ("module.a.aws_kms_key.this", True) in got and ("module.b.aws_kms_key.this", True) in got
    assert ("aws_kms_key.root", False) in got and ("aws_kms_key.other", True) in got
