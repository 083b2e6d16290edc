"""Outputs for CI: JUnit, Markdown, SARIF categories, colour and quiet behaviour."""
import json
import xml.etree.ElementTree as ET

from conftest import FIXTURES

FAIL = FIXTURES / "CW101" / "cfn_fail.yaml"
TEMPLATE = """\
Resources:
  Open:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: false
      Description: "a | pipe"
  # certwarden:ignore CW101 reason=rotated by the HSM team
  Accepted:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: false
"""


def test_junit_one_case_per_rule_and_resource(run_cli, tmp_path):
    (tmp_path / "t.yaml").write_text(TEMPLATE)
    code, _, _ = run_cli("scan", "t.yaml", "--select", "CW101,CW102", "--now", "2026-01-01",
                         "-o", "junit=report.xml", cwd=tmp_path)
    assert code == 1
    root = ET.parse(tmp_path / "report.xml").getroot()
    assert root.tag == "testsuites"
    assert {k: root.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "3", "failures": "1", "errors": "0", "skipped": "1"}
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["CW101 kms-rotation-disabled", "CW102 kms-rotation-period-too-long"]
    cases = [(c.get("classname"), c.get("name"), c.get("file"), c.get("line"), [e.tag for e in c])
             for c in suites["CW101 kms-rotation-disabled"].findall("testcase")]
    assert cases == [("CW101", "Open (t.yaml)", "t.yaml", "5", ["failure"]),
                     ("CW101", "Accepted (t.yaml)", "t.yaml", "11", ["skipped"])]
    failure = suites["CW101 kms-rotation-disabled"].find("testcase/failure")
    assert failure.get("type") == "high"
    assert failure.text.startswith("t.yaml:5: CW101 kms-rotation-disabled [high] KMS key Open")
    skipped = suites["CW101 kms-rotation-disabled"].find("testcase/skipped")
    assert skipped.get("message") == "suppressed: rotated by the HSM team"
    passing, = suites["CW102 kms-rotation-period-too-long"].findall("testcase")
    assert (passing.get("name"), list(passing)) == ("no findings", [])
    for suite in suites.values():   # counts agree with the cases they hold
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == sum(1 for c in cases if c.find("failure") is not None)
        assert int(suite.get("skipped")) == sum(1 for c in cases if c.find("skipped") is not None)


def test_markdown_summary_table(run_cli, tmp_path):
    (tmp_path / "t.yaml").write_text(TEMPLATE)
    code, out, _ = run_cli("scan", "t.yaml", "--select", "CW101", "--now", "2026-01-01", "-o", "markdown",
                           cwd=tmp_path)
    assert code == 1
    lines = out.splitlines()
    assert lines[:3] == ["### certwarden: 1 finding (1 high)", "", "1 scanned; 1 suppressed."]
    assert lines[4:7] == [
        "| Severity | Rule | Resource | Location | Message |",
        "|---|---|---|---|---|",
        "| high | CW101 `kms-rotation-disabled` | Open | <code>t.yaml:5</code> | KMS key Open does not rotate its key "
        "material automatically (rotation enabled: false) |",
    ]
    assert "| high | CW101 `kms-rotation-disabled` | Accepted | <code>t.yaml:11</code> | rotated by the HSM team |" in lines


def test_markdown_clean_run(run_cli, tmp_path):
    (tmp_path / "t.yaml").write_text("Resources:\n  K:\n    Type: AWS::KMS::Key\n"
                                     "    Properties: {EnableKeyRotation: true}\n")
    code, out, _ = run_cli("scan", "t.yaml", "--select", "CW101", "-o", "markdown", cwd=tmp_path)
    assert (code, out) == (0, "### certwarden: no findings\n\n1 scanned.\n")


def test_sarif_category_sets_automation_id(run_cli, tmp_path):
    code, out, _ = run_cli("scan", FAIL, "--select", "CW101", "-o", "sarif", "--sarif-category", "infra/prod")
    assert code == 1
    assert json.loads(out)["runs"][0]["automationDetails"] == {"id": "infra/prod/"}
    _, out, _ = run_cli("scan", FAIL, "--select", "CW101", "-o", "sarif")
    assert json.loads(out)["runs"][0]["automationDetails"] == {"id": "certwarden/"}


def test_no_color_and_quiet(run_cli, monkeypatch, capsys):
    from certwarden import cli
    monkeypatch.setattr(cli, "_color", lambda stream: True)   # as if on a terminal
    _, out, _ = run_cli("scan", FAIL, "--select", "CW101")
    assert "\033[31mhigh" in out
    monkeypatch.undo()

    class Tty:
        def isatty(self):
            return True
    monkeypatch.setenv("NO_COLOR", "1")
    assert cli._color(Tty()) is False
    monkeypatch.setenv("NO_COLOR", "")   # no-color.org: an empty value does not count
    assert cli._color(Tty()) is True

    code, out, _ = run_cli("scan", FAIL, "--select", "CW101", "-q")
    assert code == 1
    assert out.splitlines()[0] == (f"{FAIL}:4:3: CW101 KMS key NoRotation does not rotate its key material "
                                   "automatically (rotation enabled: false)")
    assert len(out.splitlines()) == 4   # three findings and the summary, no file headers


def test_quiet_clean_run_prints_nothing(run_cli):
    code, out, err = run_cli("scan", FIXTURES / "CW101" / "cfn_pass.yaml", "--select", "CW101", "-q")
    assert (code, out, err) == (0, "", "")
