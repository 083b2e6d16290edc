"""Reports for people and for GitLab: HTML, CSV, GitLab SAST and Code Quality, each written from
a real scan (the example stack, a live moto estate, the corpus) and read back by a real reader:
csv, html.parser, the GitLab SAST JSON schema (copied into tests/schemas/)."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from html.parser import HTMLParser

import jsonschema
import pytest
from conftest import ROOT, SHARED, needs_shared
from test_live import REGION, client
from test_live_certs import NOW, activate, create_ca, imported
from test_live_s3 import BLOCK_ALL

AHEAD = 30
EXAMPLE = ROOT / "fixtures" / "examples" / "certificate-infrastructure.yaml"
SAST_SCHEMA = json.loads((ROOT / "tests" / "schemas" / "gitlab-sast-report-format-15.2.1.json").read_text())
HOSTILE = """\
Resources:
  "<script>alert(1)</script>":
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: false
  Formula:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: false
      Description: "=HYPERLINK(1)"
"""


def scan_to(run_cli, tmp_path, fmt: str, *paths, extra=()) -> tuple[int, str]:
    out = tmp_path / f"report.{fmt}"
    code, _, err = run_cli("scan", *paths, "--no-config", "--now", "2026-01-01", "-o", f"{fmt}={out}",
                           "--allow-input-errors", *extra)   # reports list input errors; the exit code is not theirs
    assert code in (0, 1), err
    return code, out.read_bytes().decode()   # as written: CRLF stays CRLF


# -- the live estate: one of each thing the report counts and dates ---------------------------------
def build_estate(aws) -> dict:
    """Keys, secrets, buckets, CAs and certificates in two regions; returns what was made."""
    kms = client(aws, "kms")
    for alias, rotate in (("alias/rotated", True), ("alias/also-rotated", True), ("alias/still", False)):
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=alias, TargetKeyId=key)
        if rotate:
            kms.enable_key_rotation(KeyId=key)
    kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")   # cannot rotate: not counted
    sm = client(aws, "secretsmanager")
    sm.create_secret(Name="db-password", SecretString="x")
    sm.create_secret(Name="api-token", SecretString="x")
    sm.rotate_secret(SecretId="api-token", RotationRules={"AutomaticallyAfterDays": 30})
    s3 = client(aws, "s3")
    for name in ("locked-bucket", "open-bucket"):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_public_access_block(Bucket="locked-bucket", PublicAccessBlockConfiguration=BLOCK_ALL)
    pca = client(aws, "acm-pca")
    root = create_ca(pca, "estate-root", algorithm="RSA_4096", revocation={"OcspConfiguration": {"Enabled": True}})
    activate(pca, root, days=100)
    create_ca(pca, "estate-sub", type_="SUBORDINATE", algorithm="EC_secp384r1")
    acm = client(aws, "acm")
    # ACM refuses an expired certificate: the report is made AHEAD days from now, when one is
    certs = {"soon.example.com": AHEAD + 10, "later.example.com": AHEAD + 200, "expired.example.com": AHEAD - 5}
    for cn, days in certs.items():
        imported(acm, cn, days=days)
    imported(client(aws, "acm", "us-east-1"), "<script>alert(1)</script>.example.com", days=AHEAD + 60)
    return certs


def live_report(run_cli, aws, tmp_path, fmt: str) -> str:
    out = tmp_path / f"live.{fmt}"
    code, _, err = run_cli("live", "--endpoint-url", aws, "--region", f"{REGION},us-east-1", "--no-config",
                           "--now", (NOW + timedelta(days=AHEAD)).isoformat(), "-o", f"{fmt}={out}")
    assert code == 1, err
    return out.read_bytes().decode()


# -- HTML --------------------------------------------------------------------------------------------
VOID = {"meta", "br", "link", "img", "input", "hr", "wbr", "col", "area", "base", "source"}
SVG_EMPTY = {"rect", "line", "path", "circle"}


class Strict(HTMLParser):
    """Every element closed in order; collects text, links, ids and the classes of table rows."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.text, self.hrefs, self.ids, self.rows, self.scripts = [], [], [], set(), [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if "id" in attrs:
            assert attrs["id"] not in self.ids, f"duplicate id {attrs['id']}"
            self.ids.add(attrs["id"])
        if tag == "a":
            self.hrefs.append(attrs.get("href"))
        if tag == "tr":
            self.rows.append(attrs.get("class", ""))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        assert tag in VOID or tag in SVG_EMPTY, f"self-closed <{tag}/>"

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> Strict:
    parser = Strict()
    parser.feed(page)
    parser.close()
    assert parser.stack == [], parser.stack
    return parser


def test_html_of_the_example_stack_is_well_formed_self_contained_and_links_each_rule(run_cli, tmp_path):
    _, page = scan_to(run_cli, tmp_path, "html", EXAMPLE)
    doc = parse(page)
    assert doc.scripts == 0
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page.replace('href="https://github.com/certwarden', ""))
    assert "default-src 'none'" in page       # the CSP: nothing is fetched, nothing runs
    # one row per finding, filterable by severity and rule; each row links to its rule's page
    assert sorted(doc.rows[-6:]) == sorted(["sev-critical rule-CW403", "sev-high rule-CW301", "sev-high rule-CW304",
                                            "sev-high rule-CW401", "sev-medium rule-CW302", "sev-low rule-CW801"])
    for code in ("CW301", "CW302", "CW304", "CW401", "CW403", "CW801"):
        assert f"https://github.com/certwarden/certwarden/blob/main/docs/rules/{code}.md" in doc.hrefs
        assert f"rule-{code}" in doc.ids and f"#rule-{code}" in doc.hrefs
        assert f"#rule-{code}:target~table.findings tbody tr:not(.rule-{code}){{display:none}}" in page
    text = " ".join(doc.text)
    assert "Turn on all four Block Public Access settings." in text    # CW401's fix, in its row
    assert re.search(r"S3 buckets with all four Block Public Access settings\s*0\s*/ 1 \(0%\)", text)
    assert re.search(r"Private CAs with revocation \(CRL or OCSP\)\s*1\s*/ 1 \(100%\)", text)
    # by rule family: the catalog's sections, each with its count
    assert "Private CA</text>" in page and ">3</text>" in page


def test_html_escapes_names_and_messages_from_the_template(run_cli, tmp_path):
    (tmp_path / "t.yaml").write_text(HOSTILE)
    _, page = scan_to(run_cli, tmp_path, "html", tmp_path / "t.yaml", extra=("--select", "CW101"))
    doc = parse(page)
    assert doc.scripts == 0
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "KMS key <script>alert(1)</script> does not rotate" in " ".join(doc.text)   # as text, not markup


def test_html_of_a_live_estate_counts_coverage_dates_certificates_and_groups_by_region(aws, run_cli, tmp_path):
    build_estate(aws)
    page = live_report(run_cli, aws, tmp_path, "html")
    doc = parse(page)
    text = " ".join(" ".join(doc.text).split())
    assert "Customer-managed KMS keys with automatic rotation 2 / 3 (66%)" in text
    assert "Secrets with rotation 1 / 2 (50%)" in text
    assert "S3 buckets with all four Block Public Access settings 1 / 2 (50%)" in text
    assert "Private CAs with revocation (CRL or OCSP) 1 / 2 (50%)" in text
    # the calendar table: expired first, then by date; the 30-day window marks the soon one
    table = page[page.index('id="calendar"'):page.index('id="findings"')]
    order = [m for m in re.findall(r"<td>([^<]*\.example\.com|estate-root)</td>", table)]
    assert order == ["expired.example.com", "soon.example.com", "&lt;script&gt;alert(1)&lt;/script&gt;.example.com",
                     "estate-root", "later.example.com"]
    soon = table[table.index("soon.example.com") - 400:table.index("soon.example.com")]
    assert "in warning window" in soon
    assert "<script>" not in page
    assert "Certificates: 30 d" in page and "CA certificates: 180 d" in page
    # by account and region
    account = client(aws, "sts").get_caller_identity()["Account"]
    by_region = page[page.index("By account and region"):page.index('id="coverage"')]
    assert f"<td>{account}</td><td>{REGION}</td>" in by_region and f"<td>{account}</td><td>us-east-1</td>" in by_region


def test_html_of_a_snapshot_scan_has_the_same_estate(aws, run_cli, tmp_path):
    build_estate(aws)
    snap = tmp_path / "estate.json"
    code, _, err = run_cli("live", "--endpoint-url", aws, "--region", f"{REGION},us-east-1", "--no-config",
                           "-o", f"snapshot={snap}", "-o", f"html={tmp_path / 'live.html'}",
                           "--now", (NOW + timedelta(days=AHEAD)).isoformat())
    assert code == 1, err
    out = tmp_path / "offline.html"
    code, _, err = run_cli("scan", snap, "--no-config", "--now", (NOW + timedelta(days=AHEAD)).isoformat(),
                           "-o", f"html={out}")
    assert code == 1, err

    def estate(page: str) -> tuple:
        text = " ".join(" ".join(parse(page).text).split())
        cov = text[text.index("Coverage"):text.index("Counted over")]
        table = page[page.index('id="calendar"'):page.index('id="findings"')]
        return cov, re.findall(r"<td>([^<]*\.example\.com|estate-root)</td><td class=\"where\">(arn:[^<]*)<", table)

    offline, live = estate(out.read_text(encoding="utf-8")), estate((tmp_path / "live.html").read_text(encoding="utf-8"))
    assert "2 / 3 (66%)" in offline[0] and len(offline[1]) == 5
    assert offline == live


def test_calendar_of_templates_and_material(run_cli, tmp_path):
    """Each dated thing of a code scan lands on the calendar: a PEM certificate, imported KMS key
    material (Terraform valid_to) and a CA certificate with a fixed end date; a relative validity
    starts at deployment and has no date in a template."""
    from test_live_certs import make_cert

    from certwarden.findings import ScanResult
    from certwarden.report import html

    body, _ = make_cert("edge.example.com", days=0)   # dates from the real clock: shift --now
    (tmp_path / "edge.pem").write_bytes(body)
    (tmp_path / "tf").mkdir()
    (tmp_path / "tf" / "main.tf").write_text(
        'resource "aws_kms_external_key" "vault" {\n  key_material_base64 = "eA=="\n'
        '  valid_to = "2026-02-15T00:00:00Z"\n}\n')
    (tmp_path / "ca.yaml").write_text(
        "Resources:\n  Fixed:\n    Type: AWS::ACMPCA::Certificate\n    Properties:\n"
        "      TemplateArn: arn:aws:acm-pca:::template/SubordinateCACertificate_PathLen0/V1\n"
        "      Validity: {Type: END_DATE, Value: 20260601000000}\n"
        "  Relative:\n    Type: AWS::ACMPCA::Certificate\n    Properties:\n"
        "      TemplateArn: arn:aws:acm-pca:::template/RootCACertificate/V1\n"
        "      Validity: {Type: YEARS, Value: 1}\n")
    today = NOW.date().isoformat()
    out = tmp_path / "r.html"
    code, _, err = run_cli("scan", tmp_path, "--no-config", "--now", "2026-01-01", "-o", f"html={out}")
    assert code in (0, 1), err
    page = out.read_text(encoding="utf-8")
    table = page[page.index('id="calendar"'):page.index('id="findings"')]
    rows = re.findall(r"<tr><td>([\d-]+)</td><td class=\"num\">(-?\d+)</td><td>(.*?)</td><td>([^<]*)</td>"
                      r"<td>([^<]*)</td>", table)
    got = sorted((date, what, name) for date, _, _, what, name in rows)
    assert got == sorted([(today, "certificate", "edge.pem"), ("2026-02-15", "KMS key material", "aws_kms_external_key.vault"),
                          ("2026-06-01", "CA certificate", "Fixed")])
    assert "Relative" not in table
    assert "Nothing expired" in html.render(ScanResult())


# -- CSV ---------------------------------------------------------------------------------------------
def test_csv_has_the_json_columns_and_neutralizes_formulas(run_cli, tmp_path):
    (tmp_path / "t.yaml").write_text(HOSTILE.replace("=HYPERLINK(1)", "x").replace(
        "Formula:", '"=cmd|\' /C calc\'!A0":').replace('"<script>alert(1)</script>"', '"@SUM(1)"'))
    _, body = scan_to(run_cli, tmp_path, "csv", tmp_path / "t.yaml", extra=("--select", "CW101"))
    _, doc = scan_to(run_cli, tmp_path, "json", tmp_path / "t.yaml", extra=("--select", "CW101"))
    assert "\r\n" in body
    rows = list(csv.reader(io.StringIO(body, newline="")))
    findings = json.loads(doc)["findings"]
    assert rows[0] == list(findings[0])
    got = {r[rows[0].index("resource")]: r for r in rows[1:]}
    assert sorted(got) == ["'=cmd|' /C calc'!A0", "'@SUM(1)"]
    for row in rows[1:]:
        assert not row[rows[0].index("message")].startswith(("=", "+", "-", "@"))
        assert row[rows[0].index("line")] in ("5", "9")
    for cell in (c for r in rows for c in r):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


@pytest.mark.parametrize("text, cell", [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"),
                                        ("\tx", "'\tx"), ("\rx", "'\rx"), ("a=b", "a=b"), ("", "")])
def test_csv_neutralizes_each_formula_start(text, cell):
    from certwarden.report.csv_report import neutralize

    assert neutralize(text) == cell


def test_csv_of_the_example_stack_and_of_a_live_estate(run_cli, tmp_path, aws):
    _, body = scan_to(run_cli, tmp_path, "csv", EXAMPLE)
    rows = list(csv.DictReader(io.StringIO(body, newline="")))
    assert sorted((r["code"], r["resource"], r["line"]) for r in rows) == [
        ("CW301", "PrivateCA", "70"), ("CW302", "PrivateCA", "70"), ("CW304", "PrivateCA", "84"),
        ("CW401", "CRLBucket", "29"), ("CW403", "CRLBucket", "50"), ("CW801", "PrivateCA", "66")]
    assert {r["wa_sections"] for r in rows if r["code"] == "CW401"} == {"4; 6"}
    build_estate(aws)
    rows = list(csv.DictReader(io.StringIO(live_report(run_cli, aws, tmp_path, "csv"), newline="")))
    cw204 = [(r["resource"], r["region"]) for r in rows if r["code"] == "CW204"]
    assert cw204 == [("soon.example.com", REGION)]
    assert all(r["arn"].startswith("arn:aws:") and r["file"] == "" for r in rows)


# -- GitLab ------------------------------------------------------------------------------------------
def validate_sast(body: str) -> dict:
    doc = json.loads(body)
    jsonschema.Draft7Validator(SAST_SCHEMA).validate(doc)
    assert doc["version"] == SAST_SCHEMA["self"]["version"]
    assert doc["schema"].endswith(f"/v{doc['version']}/dist/sast-report-format.json")
    return doc


def test_gitlab_sast_of_the_example_stack_is_valid_and_names_rule_file_and_line(run_cli, tmp_path):
    doc = validate_sast(scan_to(run_cli, tmp_path, "gitlab-sast", EXAMPLE)[1])
    got = sorted((v["identifiers"][0]["value"], v["severity"], v["location"]["file"], v["location"]["start_line"])
                 for v in doc["vulnerabilities"])
    file = "fixtures/examples/certificate-infrastructure.yaml"
    assert got == [("CW301", "High", file, 70), ("CW302", "Medium", file, 70), ("CW304", "High", file, 84),
                   ("CW401", "High", file, 29), ("CW403", "Critical", file, 50), ("CW801", "Low", file, 66)]
    cw403 = next(v for v in doc["vulnerabilities"] if v["identifiers"][0]["value"] == "CW403")
    assert cw403["identifiers"][0]["url"].endswith("docs/rules/CW403.md")
    assert cw403["solution"].startswith("Replace the")
    assert len({v["id"] for v in doc["vulnerabilities"]}) == 6
    assert doc["scan"]["status"] == "success" and doc["scan"]["type"] == "sast"


def test_gitlab_sast_description_keeps_scanned_markdown_as_text(run_cli, tmp_path):
    # GitLab renders `description` as Markdown: a resource named like a link or an image must not become one
    (tmp_path / "t.yaml").write_text('Resources:\n  "[x](https://evil.example)<img src=y>":\n    Type: AWS::KMS::Key\n')
    doc = validate_sast(scan_to(run_cli, tmp_path, "gitlab-sast", tmp_path / "t.yaml", extra=("--select", "CW101"))[1])
    vuln, = doc["vulnerabilities"]
    assert vuln["description"].startswith("KMS key \\[x\\](https://evil.example)&lt;img src=y&gt; does not rotate")


def test_gitlab_sast_leaves_suppressed_findings_out_and_reports_input_errors(run_cli, tmp_path):
    (tmp_path / "t.yaml").write_text("Resources:\n  # certwarden:ignore CW101 reason=HSM team\n  K:\n"
                                     "    Type: AWS::KMS::Key\n  L:\n    Type: AWS::KMS::Key\n")
    (tmp_path / "bad.yaml").write_text("Resources: [\n")
    doc = validate_sast(scan_to(run_cli, tmp_path, "gitlab-sast", tmp_path, extra=("--select", "CW101"))[1])
    assert [(v["location"]["file"].rsplit("/", 1)[-1], v["location"]["start_line"])
            for v in doc["vulnerabilities"]] == [("t.yaml", 5)]
    assert [m["level"] for m in doc["scan"]["messages"]] == ["warn"]
    assert "bad.yaml" in doc["scan"]["messages"][0]["value"]


def test_gitlab_reports_of_a_live_estate(aws, run_cli, tmp_path):
    build_estate(aws)
    doc = validate_sast(live_report(run_cli, aws, tmp_path, "gitlab-sast"))
    files = {v["location"]["file"] for v in doc["vulnerabilities"]}
    assert files and all(f.startswith("arn:aws:") for f in files)
    assert any(v["identifiers"][0]["value"] == "CW203" and "expired.example.com" in v["description"]
               for v in doc["vulnerabilities"])
    issues = json.loads(live_report(run_cli, aws, tmp_path, "gitlab-codequality"))
    assert {i["check_name"] for i in issues} >= {"CW101", "CW203", "CW204", "CW303", "CW401", "CW501"}
    assert all(i["location"]["lines"]["begin"] == 1 for i in issues)


QUALITY_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


def test_gitlab_codequality_of_the_example_stack(run_cli, tmp_path):
    issues = json.loads(scan_to(run_cli, tmp_path, "gitlab-codequality", EXAMPLE)[1])
    assert sorted((i["check_name"], i["severity"], i["location"]["path"], i["location"]["lines"]["begin"])
                  for i in issues) == [
        ("CW301", "critical", "fixtures/examples/certificate-infrastructure.yaml", 70),
        ("CW302", "major", "fixtures/examples/certificate-infrastructure.yaml", 70),
        ("CW304", "critical", "fixtures/examples/certificate-infrastructure.yaml", 84),
        ("CW401", "critical", "fixtures/examples/certificate-infrastructure.yaml", 29),
        ("CW403", "blocker", "fixtures/examples/certificate-infrastructure.yaml", 50),
        ("CW801", "minor", "fixtures/examples/certificate-infrastructure.yaml", 66)]
    for issue in issues:
        assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["severity"] in QUALITY_SEVERITIES
        assert issue["description"].startswith(issue["check_name"] + " ")
    assert len({i["fingerprint"] for i in issues}) == len(issues)


def test_gitlab_codequality_fingerprints_survive_moved_lines(run_cli, tmp_path):
    (tmp_path / "t.yaml").write_text("Resources:\n  K:\n    Type: AWS::KMS::Key\n")
    before = json.loads(scan_to(run_cli, tmp_path, "gitlab-codequality", tmp_path / "t.yaml",
                                extra=("--select", "CW101"))[1])
    (tmp_path / "t.yaml").write_text("# moved\n\nResources:\n  K:\n    Type: AWS::KMS::Key\n")
    after = json.loads(scan_to(run_cli, tmp_path, "gitlab-codequality", tmp_path / "t.yaml",
                               extra=("--select", "CW101"))[1])
    assert [i["location"]["lines"]["begin"] for i in before + after] == [2, 4]
    assert before[0]["fingerprint"] == after[0]["fingerprint"]


@needs_shared("corpus")
def test_every_report_of_the_corpus(run_cli, tmp_path):
    """One scan of the whole corpus writes the four reports; each reads back whole, the HTML
    page stays under 5 MB (its speed: tests/perf/report_bench.py)."""
    outs = {fmt: tmp_path / f"corpus.{fmt}" for fmt in ("html", "csv", "gitlab-sast", "gitlab-codequality", "json")}
    code, _, err = run_cli("scan", SHARED / "corpus", "--no-config", "--now", "2026-01-01", "--allow-input-errors",
                           *[a for fmt, path in outs.items() for a in ("-o", f"{fmt}={path}")])
    assert code == 1, err   # the corpus holds files that are not valid YAML: tolerated here
    findings = json.loads(outs["json"].read_text())["findings"]
    active = [f for f in findings if not f["suppressions"]]
    assert len(active) > 100
    page = outs["html"].read_text(encoding="utf-8")
    assert len(page.encode()) < 5 * 1024 * 1024
    assert sum(1 for r in parse(page).rows if r.startswith("sev-")) == len(active)
    assert len(list(csv.reader(io.StringIO(outs["csv"].read_text(encoding="utf-8"), newline="")))) == len(findings) + 1
    assert len(validate_sast(outs["gitlab-sast"].read_text())["vulnerabilities"]) == len(active)
    assert len(json.loads(outs["gitlab-codequality"].read_text())) == len(active)


# -- the docs show what the code writes ---------------------------------------------------------------
def doc_json_blocks() -> list:
    doc = (ROOT / "docs" / "output.md").read_text(encoding="utf-8")
    return [json.loads(b) for b in re.findall(r"```json\n(.*?)```", doc, re.S)]


def test_the_documented_gitlab_examples_are_valid():
    sast = next(b for b in doc_json_blocks() if isinstance(b, dict) and "vulnerabilities" in b)
    validate_sast(json.dumps(sast))
    quality = next(b for b in doc_json_blocks() if isinstance(b, list))
    assert [set(i) for i in quality] == [{"description", "check_name", "fingerprint", "severity", "location"}]
    assert quality[0]["severity"] in QUALITY_SEVERITIES


def test_the_documented_gitlab_job_writes_the_reports_it_declares(run_cli, tmp_path):
    import yaml

    doc = (ROOT / "docs" / "workflows.md").read_text(encoding="utf-8")
    job = yaml.safe_load(re.search(r'```yaml title="\.gitlab-ci\.yml"\n(.*?)```', doc, re.S).group(1))["certwarden"]
    command = job["script"][-1].split()
    assert command[:3] == ["certwarden", "scan", "infra"]
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "k.yaml").write_text("Resources:\n  K:\n    Type: AWS::KMS::Key\n")
    code, _, err = run_cli(*command[1:], "--no-config", cwd=tmp_path)
    assert code == 1, err
    for kind, path in job["artifacts"]["reports"].items():
        body = (tmp_path / path).read_text()
        if kind == "sast":
            validate_sast(body)
        elif kind == "codequality":
            assert [i["check_name"] for i in json.loads(body)] == ["CW101", "CW107"]
    assert all((tmp_path / p).exists() for p in job["artifacts"]["paths"])
