"""Suppressions smuggled in data: `certwarden:ignore` inside a YAML string or block scalar, a
Terraform string or heredoc, or a JSON string suppresses nothing; only real comments count. And
the policy file can require a reason of some length and an expiry within some days."""
import json

YAML = """\
Resources:
  InString:
    Type: AWS::KMS::Key
    Properties:
      Description: "x # certwarden:ignore CW101 reason=hidden in a string"
      EnableKeyRotation: false
  InBlock:
    Type: AWS::KMS::Key
    Properties:
      Description: |
        # certwarden:ignore CW101 reason=hidden in a block scalar
      EnableKeyRotation: false
  InQuotedLines:
    Type: AWS::KMS::Key
    Properties:
      Description: 'first line
        # certwarden:ignore CW101 reason=hidden in a second line'
      EnableKeyRotation: false
  Real:
    Type: AWS::KMS::Key
    Properties:
      # certwarden:ignore CW101 reason=rotated by the HSM team
      EnableKeyRotation: false
  RealAfterValue:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: false # certwarden:ignore CW101 reason=rotated by the HSM team
"""

HCL = """\
resource "aws_kms_key" "heredoc" {
  description = <<EOT
# certwarden:ignore CW101 reason=hidden in a heredoc
EOT
  enable_key_rotation = false
}

resource "aws_kms_key" "string" {
  description = "a # certwarden:ignore CW101 reason=hidden in a string"
  enable_key_rotation = false
}

resource "aws_kms_key" "slashes" {
  description = "see https://x // certwarden:ignore CW101 reason=hidden in a string"
  enable_key_rotation = false
}

resource "aws_kms_key" "interpolated" {
  description = "${"# certwarden:ignore CW101 reason=hidden in a nested string"}"
  enable_key_rotation = false
}

resource "aws_kms_key" "real" {
  # certwarden:ignore CW101 reason=rotated by the HSM team
  enable_key_rotation = false
}

resource "aws_kms_key" "block_comment" {
  /* certwarden:ignore CW101 reason=rotated by the HSM team */
  enable_key_rotation = false
}
"""

JSON = {"Resources": {"InJson": {"Type": "AWS::KMS::Key", "Properties": {
    "Description": "a # certwarden:ignore CW101 reason=hidden in a JSON string", "EnableKeyRotation": False}}}}


def scan(run_cli, path, *args):
    code, out, err = run_cli("scan", path, "--select", "CW101", "--now", "2026-06-01", "-o", "json", *args)
    doc = json.loads(out)
    return code, {f["resource"]: bool(f["suppressions"]) for f in doc["findings"]}, doc["errors"]


def test_yaml_strings_and_block_scalars_suppress_nothing(run_cli, tmp_path):
    (tmp_path / "t.yaml").write_text(YAML)
    _, suppressed, errors = scan(run_cli, tmp_path / "t.yaml")
    assert suppressed == {"InString": False, "InBlock": False, "InQuotedLines": False,
                          "Real": True, "RealAfterValue": True}
    assert errors == []


def test_terraform_strings_and_heredocs_suppress_nothing(run_cli, tmp_path):
    (tmp_path / "main.tf").write_text(HCL)
    _, suppressed, errors = scan(run_cli, tmp_path)
    assert suppressed == {"aws_kms_key.heredoc": False, "aws_kms_key.string": False, "aws_kms_key.slashes": False,
                          "aws_kms_key.interpolated": False, "aws_kms_key.real": True,
                          "aws_kms_key.block_comment": True}
    assert errors == []


def test_json_strings_suppress_nothing(run_cli, tmp_path):
    (tmp_path / "t.json").write_text(json.dumps(JSON, indent=2))
    assert scan(run_cli, tmp_path / "t.json")[1] == {"InJson": False}


POLICY_CASES = """\
Resources:
  Dot:
    Type: AWS::KMS::Key
    Properties:
      # certwarden:ignore CW101 reason=. until=2026-07-01
      EnableKeyRotation: false
  Forever:
    Type: AWS::KMS::Key
    Properties:
      # certwarden:ignore CW101 reason=rotated by the HSM team until=9999-12-31
      EnableKeyRotation: false
  NoExpiry:
    Type: AWS::KMS::Key
    Properties:
      # certwarden:ignore CW101 reason=rotated by the HSM team
      EnableKeyRotation: false
  WithinPolicy:
    Type: AWS::KMS::Key
    Properties:
      # certwarden:ignore CW101 reason=rotated by the HSM team until=2027-05-31
      EnableKeyRotation: false
  InMetadata:
    Type: AWS::KMS::Key
    Metadata:
      certwarden:
        ignore: [{code: CW101, reason: "rotated by the HSM team", until: "2030-01-01"}]
    Properties:
      EnableKeyRotation: false
"""


def test_policy_requires_a_reason_and_a_near_expiry(run_cli, tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "t.yaml").write_text(POLICY_CASES)
    _, suppressed, errors = scan(run_cli, tmp_path / "t.yaml")   # no policy: every one applies
    assert set(suppressed.values()) == {True} and errors == []
    (tmp_path / ".certwarden.yaml").write_text("suppressions: {min_reason_length: 10, max_days: 365}\n")
    code, suppressed, errors = scan(run_cli, tmp_path / "t.yaml")
    assert code != 0
    assert suppressed == {"Dot": False, "Forever": False, "NoExpiry": False, "WithinPolicy": True, "InMetadata": False}
    assert [(e["line"], e["message"]) for e in errors] == [
        (5, "suppression reason '.' is shorter than the 10 characters the policy requires "
            "(suppressions.min_reason_length); not applied"),
        (10, "suppression until=9999-12-31 reaches beyond the 365 days the policy allows (suppressions.max_days); "
             "not applied"),
        (15, "suppression without until=YYYY-MM-DD reaches beyond the 365 days the policy allows "
             "(suppressions.max_days); not applied"),
        (26, "suppression until=2030-01-01 reaches beyond the 365 days the policy allows (suppressions.max_days); "
             "not applied"),
    ]


def test_policy_section_is_validated(run_cli, tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "t.yaml").write_text(POLICY_CASES)
    (tmp_path / ".certwarden.yaml").write_text("suppressions: {max_days: soon, reason_length: 3}\n")
    code, _, err = run_cli("scan", tmp_path / "t.yaml")
    assert code == 2
    assert f"{tmp_path / '.certwarden.yaml'}: suppressions.max_days: must be an integer, not string 'soon'" in err
    assert f"{tmp_path / '.certwarden.yaml'}: suppressions.reason_length: unknown key" in err
