"""Output injection: resource names, messages and file names are the attacker's. A name holding
a line break and `::error ...::` must not become a GitHub workflow command in the Actions log,
`\\r<!--` must not hide the Markdown rows after it, an ANSI escape must not reach the terminal,
and characters XML forbids must not make the JUnit file unreadable."""
import re
import xml.etree.ElementTree as ET

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

# A logical ID (YAML allows any string as a key) holding CR LF, a workflow command, an ANSI
# clear-screen, an HTML comment opener, a bidi override and a v1 workflow command.
NAME = "K\r\n::error file=a.tf,line=1::fake \x1b[2J<!--\u202e ##[error]x"
SHOWN = r"K\r\n::error file=a.tf,line=1::fake \x1b[2J<!--\u202e #\x23[error]x"
TEMPLATE = ("Resources:\n"
            '  "K\\r\\n::error file=a.tf,line=1::fake \\e[2J<!--\\u202e ##[error]x":\n'
            "    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: false\n"
            "  Second:\n    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: false\n")
MESSAGE = "does not rotate its key material automatically (rotation enabled: false)"
# A file name can hold a line break too, and can start with `::`.
FILE = "::warning::x\n::error::y.yaml"
FILE_SHOWN = r"\::warning::x\n::error::y.yaml"


def assert_no_command(out: str) -> None:
    for line in out.splitlines():
        assert not line.lstrip().startswith("::"), line
        assert "##[" not in line and "\x1b" not in line and "\u202e" not in line, line
    assert "\r" not in out


@pytest.fixture
def tree(tmp_path, monkeypatch):
    (tmp_path / "t.yaml").write_text(TEMPLATE)
    (tmp_path / FILE).write_text(TEMPLATE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_text_escapes_names_and_file_names(run_cli, tree):
    code, out, _ = run_cli("scan", FILE, "t.yaml", "--select", "CW101")
    assert code == 1
    assert_no_command(out)
    assert out.splitlines()[:3] == [
        FILE_SHOWN,
        f"  5:7      high     CW101 kms-rotation-disabled  {SHOWN}",
        f"           KMS key {SHOWN} {MESSAGE}",
    ]
    code, out, _ = run_cli("scan", FILE, "t.yaml", "--select", "CW101", "-q")
    assert_no_command(out)
    assert out.splitlines()[0] == f"{FILE_SHOWN}:5:7: CW101 KMS key {SHOWN} {MESSAGE}"


def test_stderr_errors_escape_file_names(run_cli, tree):
    bad = "bad\n::error::z.yaml"
    (tree / bad).write_text("Resources: [\n")
    code, out, err = run_cli("scan", bad, "t.yaml", "--select", "CW101", "-o", "json=r.json")
    assert_no_command(err)
    assert err.splitlines()[0].startswith(r"certwarden: bad\n::error::z.yaml:2: invalid YAML")


def test_markdown_renders_every_row_as_text(run_cli, tree):
    code, out, _ = run_cli("scan", "t.yaml", "--select", "CW101", "-o", "markdown")
    assert code == 1
    assert "\r" not in out
    # GitHub's own renderer (cmark-gfm), raw HTML allowed as in a job summary before sanitizing.
    html = cmarkgfm.github_flavored_markdown_to_html(out, options=Options.CMARK_OPT_UNSAFE)
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    cells = [re.findall(r"<td>(.*?)</td>", row, re.S) for row in body.split("</tr>")[:-1]]
    shown = SHOWN.replace("<", "&lt;")
    assert [row[2:4] for row in cells] == [[shown, "<code>t.yaml:5</code>"],
                                           ["Second", "<code>t.yaml:9</code>"]]
    assert cells[0][4] == f"KMS key {shown} {MESSAGE}"
    assert "<!--" not in html


def test_junit_holds_only_what_xml_allows(run_cli, tree):
    code, _, _ = run_cli("scan", "t.yaml", "--select", "CW101", "-o", "junit=r.xml")
    assert code == 1
    root = ET.parse(tree / "r.xml").getroot()   # the old file held a raw ESC: not well-formed
    names = [c.get("name") for c in root.iter("testcase")]
    assert names == ["K\r\n::error file=a.tf,line=1::fake \\x1b[2J<!--\u202e ##[error]x (t.yaml)", "Second (t.yaml)"]


def test_undecodable_file_name_is_shown_escaped(run_cli, tree):
    import os
    os.rename(tree / "t.yaml", os.fsencode(tree) + b"/\xff.yaml")
    code, out, _ = run_cli("scan", ".", "--select", "CW101", "-q")
    assert code == 1
    assert rf"./\udcff.yaml:5:7: CW101 KMS key {SHOWN} {MESSAGE}" in out.splitlines()
    out.encode("utf-8")   # printable: the raw surrogate used to fail on a UTF-8 stdout
    formats = ("json", "sarif", "junit", "markdown")
    code, _, _ = run_cli("scan", ".", "--select", "CW101", *(f"-o{fmt}=r.{fmt}" for fmt in formats))
    assert code == 1
    assert r"\udcff.yaml:5" in (tree / "r.markdown").read_text(encoding="utf-8")
    files = {c.get("file") for c in ET.parse(tree / "r.junit").getroot().iter("testcase")}
    assert files == {r"\udcff.yaml", FILE}


def test_fix_declines_on_stderr_escape_names_and_file_names(run_cli, tree):
    """A fix that cannot be made is said with the resource and file it is about: both escaped."""
    secret = TEMPLATE.replace("AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: false\n  Second",
                              "AWS::SecretsManager::Secret\n    Properties:\n      Description: x\n  Second", 1)
    (tree / FILE).write_text(secret)
    code, _, err = run_cli("fix", FILE, "--no-config", "--select", "CW501", "--unsafe-fixes")
    assert code == 0
    assert_no_command(err)
    # mid-line, a leading `::` commands nothing: only the line break is escaped there
    assert rf"certwarden: ::warning::x\n::error::y.yaml:2: CW501 {SHOWN} not fixed automatically: " \
           "Add a rotation schedule with a rotation function." in err.splitlines()


def test_remediate_lines_escape_what_the_report_names(run_cli, tree):
    """A report is input too: a resource it names is printed escaped in the line saying no stack covers it."""
    import json

    (tree / "r.json").write_text(json.dumps({"findings": [{"code": "CW216", "resource": NAME, "suppressions": []}]}))
    code, out, _ = run_cli("remediate", "--from", "r.json", "-o", "stacks")
    assert code == 0
    assert_no_command(out)
    assert out.splitlines()[0].startswith(f"certwarden: CW216 iam-server-certificate {SHOWN}: no AWS Config")


def test_xml_escapes_exactly_what_xml_1_0_forbids():
    """xml()'s class lists the forbidden characters (a negated class of all Unicode is slow to
    compile at startup): checked against the Char production, code point by code point."""
    from certwarden.report.escape import xml

    def allowed(c: int) -> bool:   # XML 1.0, production [2] Char
        return c in (0x9, 0xA, 0xD) or 0x20 <= c <= 0xD7FF or 0xE000 <= c <= 0xFFFD or 0x10000 <= c <= 0x10FFFF

    wrong = [c for c in range(0x110000) if (xml(chr(c)) == chr(c)) != allowed(c)]
    assert wrong == []
    assert xml("a\x0bb\ufffe") == "a\\x0bb\\ufffe"
