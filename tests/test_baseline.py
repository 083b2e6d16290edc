"""Baselines: today's findings accepted by fingerprint, only new ones reported afterwards."""
import json

import jsonschema
import yaml

from conftest import ROOT

SCHEMA = json.loads((ROOT / "tests" / "schemas" / "sarif-2.1.0.json").read_text())
NOW = ("--now", "2026-01-01")
SELECT = ("--select", "CW101,CW107")

TEMPLATE = """\
Resources:
  NoRotation:
    Type: AWS::KMS::Key
    Properties:
      Description: rotation absent means disabled
  RotationOff:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: false
      Tags:
        - Key: Team
          Value: payments
"""
NEW_KEY = """\
  Added:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: false
      Tags: [{Key: Environment, Value: prod}]
  Accepted:
    # certwarden:ignore CW101 reason=imported key material is rotated by hand
    Type: AWS::KMS::Key
    Properties:
      Tags: [{Key: Environment, Value: prod}]
"""


def findings(run_cli, *args, cwd):
    code, out, _ = run_cli("scan", *args, *SELECT, *NOW, "-o", "json", cwd=cwd)
    return code, [(f["code"], f["resource"], f["line"]) for f in json.loads(out)["findings"]]


def test_baseline_survives_moved_lines_and_reformatting(run_cli, tmp_path):
    tpl = tmp_path / "stack.yaml"
    tpl.write_text(TEMPLATE)
    code, before = findings(run_cli, "stack.yaml", cwd=tmp_path)
    assert code == 1 and before == [("CW101", "NoRotation", 2), ("CW107", "NoRotation", 2),
                                    ("CW101", "RotationOff", 9), ("CW107", "RotationOff", 10)]
    code, _, err = run_cli("baseline", "create", "base.json", "stack.yaml", *SELECT, *NOW)
    assert code == 0 and "4 findings recorded" in err
    recorded = json.loads((tmp_path / "base.json").read_text())["findings"]
    assert all("line" not in row for row in recorded)

    # Reformat (4-space indents, keys sorted), then push every finding down by 20 lines.
    reformatted = yaml.safe_dump(yaml.safe_load(TEMPLATE), indent=4, sort_keys=True).splitlines()
    tpl.write_text("\n".join(reformatted) + "\n")
    _, moved = findings(run_cli, "stack.yaml", cwd=tmp_path)
    for line in sorted({line for _, _, line in moved}, reverse=True):
        reformatted[line - 1:line - 1] = ["# padding"] * 20
    tpl.write_text("\n".join(reformatted) + "\n")
    _, shifted = findings(run_cli, "stack.yaml", cwd=tmp_path)
    assert [(c, r) for c, r, _ in shifted] == [(c, r) for c, r, _ in before]
    assert all(new >= old + 20 for (_, _, old), (_, _, new) in zip(before, shifted))

    # Given another way (./ prefix, absolute path): still the same findings, none new.
    for given in ("./stack.yaml", str(tpl)):
        code, out, _ = run_cli("scan", given, "--baseline", "base.json", *SELECT, *NOW, cwd=tmp_path)
        assert code == 0, out
        assert out == "0 findings in 0 files; 1 scanned, 4 in baseline\n"


def test_only_new_findings_reported_and_sarif_valid(run_cli, tmp_path):
    tpl = tmp_path / "stack.yaml"
    tpl.write_text(TEMPLATE)
    assert run_cli("baseline", "create", "base.json", "stack.yaml", *SELECT, *NOW, cwd=tmp_path)[0] == 0
    tpl.write_text(TEMPLATE + NEW_KEY)
    code, out, _ = run_cli("scan", "stack.yaml", "--baseline", "base.json", *SELECT, *NOW,
                           "-o", "json", "-o", "sarif=out.sarif", cwd=tmp_path)
    assert code == 1
    doc = json.loads(out)
    assert [(f["code"], f["resource"], f["line"], f["suppressions"]) for f in doc["findings"]] == [
        ("CW101", "Added", 16, []),
        ("CW101", "Accepted", 18, [{"kind": "inSource", "justification": "imported key material is rotated by hand"}]),
    ]
    assert doc["summary"]["baselined"] == 4
    sarif = json.loads((tmp_path / "out.sarif").read_text())
    jsonschema.Draft4Validator(SCHEMA).validate(sarif)
    results = sarif["runs"][0]["results"]
    assert [(r["ruleId"], r["baselineState"], r.get("suppressions")) for r in results] == [
        ("CW101", "new", None),
        ("CW101", "new", [{"kind": "inSource", "justification": "imported key material is rotated by hand"}]),
    ]


def test_suppressed_findings_are_not_recorded(run_cli, tmp_path):
    (tmp_path / "stack.yaml").write_text("Resources:\n" + NEW_KEY)
    assert run_cli("baseline", "create", "base.json", "stack.yaml", *SELECT, *NOW, cwd=tmp_path)[0] == 0
    rows = json.loads((tmp_path / "base.json").read_text())["findings"]
    assert [(r["code"], r["resource"], r["file"]) for r in rows] == [("CW101", "Added", "stack.yaml")]


def test_unreadable_baseline_is_a_usage_error(run_cli, tmp_path):
    (tmp_path / "stack.yaml").write_text(TEMPLATE)
    (tmp_path / "other.json").write_text('{"findings": []}')
    code, _, err = run_cli("scan", "stack.yaml", "--baseline", "missing.json", cwd=tmp_path)
    assert code == 2 and "cannot read baseline missing.json" in err
    code, _, err = run_cli("scan", "stack.yaml", "--baseline", "other.json", cwd=tmp_path)
    assert code == 2 and "other.json is not a certwarden baseline" in err
