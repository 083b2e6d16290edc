"""Hostile repositories cannot make a scan read or write outside the scanned roots, and no key
material or read-through file content reaches any output.

Each test builds the attacker's files; a signal alarm turns a hang into a failure.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from test_robustness import bounded  # noqa: F401  (autouse: a hang fails the test)

SECRET = "RUNNER-CREDENTIAL-7f3e9a1c"   # what the runner holds outside the repository


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def errors(report) -> list[tuple[str, str]]:
    """(file, message) of each input error; files outside the repository are file URIs."""
    return [(e["file"], e["message"]) for e in report["errors"]]


def scan_json(run_cli, *args):
    code, out, err = run_cli("scan", *args, "--no-config", "--now", "2026-01-01", "-o", "json")
    return code, json.loads(out), err


LISTENER = """variable "ssl_policy" {
  type = string
}

resource "aws_lb_listener" "web" {
  load_balancer_arn = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/x/1"
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = "arn:aws:acm:eu-west-1:111122223333:certificate/abc"
}
"""


# -- item 3: var files linked out of the root ----------------------------------------------------
@pytest.mark.parametrize("name", ["terraform.tfvars", "prod.auto.tfvars", "prod.auto.tfvars.json"])
@pytest.mark.parametrize("given", ["directory", "file"])
def test_var_file_linked_out_of_the_root_is_not_read(tmp_path, run_cli, name, given):
    outside = tmp_path / "runner" / ("creds.json" if name.endswith(".json") else "creds")
    outside.parent.mkdir()
    outside.write_text(json.dumps({"ssl_policy": SECRET}) if name.endswith(".json") else f'ssl_policy = "{SECRET}"\n')
    repo = write(tmp_path / "repo", {"main.tf": LISTENER})
    (repo / name).symlink_to(outside)
    target = repo if given == "directory" else repo / "main.tf"   # pre-commit passes file names
    code, report, err = scan_json(run_cli, target, "--select", "CW601")
    assert SECRET not in json.dumps(report) + err
    assert report["findings"] == []   # the policy is unknown: no finding, no quote
    assert err.splitlines() == [f"certwarden: {repo / name}: symbolic link leaves the scan root, not followed",
                                # the module's values are unknown without it: the run fails (exit 2)
                                "certwarden: error: 1 input could not be read, so the run fails "
                                "(--allow-input-errors to judge only what was read)"]
    assert len(report["errors"]) == 1 and code == 2


def test_var_file_inside_the_root_is_still_read(tmp_path, run_cli):
    repo = write(tmp_path, {"main.tf": LISTENER, "terraform.tfvars": 'ssl_policy = "ELBSecurityPolicy-2016-08"\n'})
    code, report, err = scan_json(run_cli, repo, "--select", "CW601")
    assert [(f["code"], f["resource"], f["line"]) for f in report["findings"]] == [("CW601", "aws_lb_listener.web", 9)]
    assert "ELBSecurityPolicy-2016-08" in report["findings"][0]["message"]


# -- item 4: local modules out of the roots; fix --write outside the tree or through links --------
KEY = 'resource "aws_kms_key" "runner" {\n  description = "' + SECRET + '"\n}\n'


def test_local_module_outside_the_roots_is_neither_read_nor_written(tmp_path, run_cli):
    outside = write(tmp_path / "outside", {"main.tf": KEY})
    repo = write(tmp_path / "repo", {"infra/main.tf": 'module "m" {\n  source = "../../outside"\n}\n'})
    code, report, err = scan_json(run_cli, repo, "--select", "CW101")
    assert report["findings"] == []
    assert report["notices"] == [f"{repo / 'infra' / 'main.tf'}:1: module.m comes from '../../outside', "
                                 "outside the scan root, not read"]
    before = (outside / "main.tf").read_text()
    code, out, err = run_cli("fix", repo, "--no-config", "--select", "CW101", "--write")
    assert (outside / "main.tf").read_text() == before
    assert "fixed 0 findings in 0 files" in err


def test_module_file_linked_out_of_the_root_is_not_read(tmp_path, run_cli):
    write(tmp_path / "outside", {"main.tf": KEY})
    repo = write(tmp_path / "repo", {"main.tf": 'module "m" {\n  source = "./mod"\n}\n'})
    (repo / "mod").mkdir()
    (repo / "mod" / "main.tf").symlink_to(tmp_path / "outside" / "main.tf")
    code, report, err = scan_json(run_cli, repo, "--select", "CW101")
    assert report["findings"] == []
    assert err.splitlines() == [f"certwarden: {repo / 'mod' / 'main.tf'}: symbolic link leaves the scan root, not followed"]


def test_fix_write_never_writes_through_a_symbolic_link(tmp_path, run_cli):
    repo = write(tmp_path, {"store/key.tf.in": 'resource "aws_kms_key" "k" {\n  description = "k"\n}\n'})
    (repo / "linked").mkdir()
    (repo / "linked" / "main.tf").symlink_to(repo / "store" / "key.tf.in")
    code, out, err = run_cli("fix", repo, "--no-config", "--select", "CW101", "--write")
    assert f"certwarden: {repo / 'linked' / 'main.tf'}: symbolic link, not written" in err.splitlines()
    assert (repo / "linked" / "main.tf").is_symlink()
    assert "enable_key_rotation" not in (repo / "store" / "key.tf.in").read_text()


def test_fix_writer_refuses_files_outside_the_roots(tmp_path):
    from certwarden import fixes

    (tmp_path / "repo").mkdir()
    outside = tmp_path / "outside.tf"
    outside.write_text("old\n")
    plan = fixes.Plan(texts={str(outside): "new\n"}, originals={str(outside): "old\n"})
    changed, refused = fixes.write(plan, [str(tmp_path / "repo")])
    assert changed == [] and outside.read_text() == "old\n"
    assert [(e.file, e.message) for e in refused] == [(str(outside), "outside the scan root, not written")]



def test_fix_writer_resolves_directories_afresh(tmp_path):
    """Readers resolve each directory once a process; the writer must not trust that: a
    directory swapped for a link to outside the roots after the scan read it is refused."""
    from certwarden import fixes
    from certwarden.sources.files import confinement

    root, outside = tmp_path / "repo", tmp_path / "outside"
    (root / "d").mkdir(parents=True)
    outside.mkdir()
    target = root / "d" / "main.tf"
    target.write_text("old\n")
    (outside / "main.tf").write_text("old\n")
    roots = [os.path.realpath(root)]
    assert confinement(str(target), roots) is None   # read: d resolved and kept
    (root / "d" / "main.tf").unlink()
    (root / "d").rmdir()
    (root / "d").symlink_to(outside)
    plan = fixes.Plan(texts={str(target): "new\n"}, originals={str(target): "old\n"})
    changed, refused = fixes.write(plan, roots)
    assert changed == [] and (outside / "main.tf").read_text() == "old\n"
    assert [(e.file, e.message) for e in refused] == [(str(target), "outside the scan root, not written")]

# -- item 5: file() into the directories a scan always skips -------------------------------------
@pytest.mark.parametrize("skipped", [".git/config", "node_modules/pkg/policy", ".terraform/x", ".venv/cfg"])
def test_file_does_not_read_the_skipped_directories(tmp_path, run_cli, skipped):
    repo = write(tmp_path, {
        skipped: f"[http]\n\textraheader = AUTHORIZATION: basic {SECRET}\n",
        "infra/main.tf": LISTENER.replace("var.ssl_policy", f'file("../{skipped}")'),
    })
    code, report, err = scan_json(run_cli, repo, "--select", "CW601", "--strict")
    assert SECRET not in json.dumps(report) + err
    [review] = report["findings"]
    top = skipped.split("/")[0]
    assert review["review"] is True and f"inside {top}/, which is never scanned" in review["message"]


# -- item 6: values quoted in messages are capped -------------------------------------------------
def test_long_values_are_capped_in_messages(tmp_path, run_cli):
    blob = "ELBSecurityPolicy-" + "A" * 4000
    repo = write(tmp_path, {"main.tf": LISTENER, "policy.txt": blob,
                            "terraform.tfvars": f'ssl_policy = "{blob}"\n',
                            "file/main.tf": LISTENER.replace("var.ssl_policy", 'file("../policy.txt")')})
    code, report, err = scan_json(run_cli, repo, "--select", "CW601")
    messages = [f["message"] for f in report["findings"]]
    assert len(messages) == 2
    for message in messages:
        assert "ELBSecurityPolicy-AAAA" in message and "A" * 200 not in message
        assert len(message) < 300


# -- item 11: special files -----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["x.tf", "x.yaml", "terraform.tfvars", "cert.pem", "README"])
@pytest.mark.parametrize("cache", [False, True])
def test_a_fifo_is_not_opened(tmp_path, run_cli, name, cache):
    repo = write(tmp_path / "repo", {"main.tf": 'resource "aws_kms_key" "k" {\n}\n'})
    os.mkfifo(repo / name)
    extra = ("--cache", tmp_path / "cache") if cache else ()
    code, report, err = scan_json(run_cli, repo, "--select", "CW101", *extra)
    assert [(f["code"], f["resource"]) for f in report["findings"]] == [("CW101", "aws_kms_key.k")]
    found = errors(report)
    assert found in ([((repo / name).as_uri(), "not a regular file")], [])   # sniffed names are skipped quietly
    if name.endswith((".tf", ".tfvars", ".yaml")):
        assert found


def test_a_fifo_swapped_in_after_the_check_does_not_hang(tmp_path):
    """open_regular decides on the open descriptor, so a file replaced by a FIFO between a stat
    and the open cannot block it."""
    from certwarden.sources.files import ReadError, open_regular

    os.mkfifo(tmp_path / "x.tf")
    with pytest.raises(ReadError, match="not a regular file"):
        open_regular(str(tmp_path / "x.tf"))


# -- item 18: private key bytes in errors, diffs and every output format --------------------------
def _key() -> tuple[str, list[str]]:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    body = pem.splitlines()[1:-1]
    return pem, [line[i:i + 16] for line in body for i in range(0, len(line) - 15, 16)]


def _indent(text: str, by: str) -> str:
    return "".join(by + line for line in text.splitlines(keepends=True))


def _key_placements(root: Path, pem: str) -> None:
    esc = pem.replace("\n", "\\n")
    write(root, {
        # a var file that holds the key, used by the module
        "tf/terraform.tfvars": f"tls_key = <<EOT\n{pem}EOT\n",
        # a .tf string in a fixable resource: the diff's context lines reach it
        "tf/main.tf": f'resource "aws_kms_key" "k" {{\n  description = <<EOT\n{pem}EOT\n}}\n'
                      'variable "tls_key" {\n  type = string\n}\n'
                      'resource "aws_iam_server_certificate" "c" {\n  private_key = var.tls_key\n}\n',
        # files that fail to parse, with the key in the token the parser stops at
        "broken_tf/main.tf": f'resource "aws_kms_key" "k" {{\n  description = <<EOT\n{pem}\n',
        "broken_vars/main.tf": 'resource "aws_kms_key" "k" {\n}\n',
        "broken_vars/terraform.tfvars": f"tls_key = <<EOT\n{pem}\n",
        "broken.yaml": "Resources:\n  S:\n    Type: AWS::SecretsManager::Secret\n    Properties:\n"
                       f"      SecretString: {{x: |\n{_indent(pem, '        ')}\n",
        "broken.json": '{"Resources": {"S": {"Type": "AWS::SecretsManager::Secret", '
                       f'"Properties": {{"SecretString": "{esc}" "x"}}}}}}}}\n',
        # templates: the key in a fixable resource, and in a secret next to it
        "cfn.yaml": "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      Description: |\n"
                    f"{_indent(pem, '        ')}",
        "cfn.json": '{\n  "Resources": {\n    "Key": {"Type": "AWS::KMS::Key", "Properties": {}},\n'
                    f'    "S": {{"Type": "AWS::SecretsManager::Secret", "Properties": {{"SecretString": "{esc}"}}}}\n'
                    "  }\n}\n",
        "key.pem": pem,
        "bad.pem": pem.replace("-----END", "!!!\n-----END"),
    })


def test_private_key_bytes_never_reach_any_output(tmp_path, run_cli):
    pem, chunks = _key()
    repo = tmp_path / "repo"
    _key_placements(repo, pem)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    formats = ("json", "sarif", "junit", "markdown", "text")
    code, out, err = run_cli("scan", repo, "--no-config", "--now", "2026-01-01", "--strict",
                             *[a for f in formats for a in ("-o", f"{f}={out_dir / f}")], "-o", "text")
    printed = [out, err] + [(out_dir / f).read_text() for f in formats]
    report = json.loads((out_dir / "json").read_text())
    assert {(f["code"], Path(f["file"]).name) for f in report["findings"]} >= {
        ("CW504", "main.tf"), ("CW504", "cfn.yaml"), ("CW504", "cfn.json"), ("CW504", "key.pem"),
        ("CW101", "main.tf"), ("CW101", "cfn.yaml"), ("CW101", "cfn.json")}
    assert {Path(e["file"].removeprefix("file://")).relative_to(repo).as_posix() for e in report["errors"]} >= {
        "broken_tf/main.tf", "broken_vars/terraform.tfvars", "broken.yaml", "broken.json", "bad.pem"}
    code, diff, err = run_cli("fix", repo, "--no-config", "--select", "CW101")
    assert diff.count("\n+++ ") == 4 and "PRIVATE KEY" in diff   # the context is there, redacted
    printed += [diff, err]
    leaked = [c for c in chunks for text in printed if c in text]
    assert leaked == []


def test_redacted_diff_keeps_its_lines_and_headers(tmp_path, run_cli):
    pem, chunks = _key()
    repo = tmp_path
    _key_placements(repo, pem)
    code, diff, err = run_cli("fix", repo / "cfn.yaml", "--no-config", "--select", "CW101")
    assert code == 1
    lines = diff.splitlines()
    assert lines[2] == "@@ -8,3 +8,4 @@"
    assert lines[3:] == ["         [private key redacted]"] * 2 + [
        "         -----END PRIVATE KEY-----", "+      EnableKeyRotation: true"]   # line for line, indentation kept


def test_fix_does_not_open_a_fifo_beside_the_file_it_edits(tmp_path, run_cli):
    repo = write(tmp_path, {"main.tf": 'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n',
                            "policy.yaml": "rules:\n  CW401:\n    require_explicit: true\n"})
    os.mkfifo(repo / "other.tf")
    code, diff, err = run_cli("fix", repo, "--config", repo / "policy.yaml", "--select", "CW401", "--unsafe-fixes")
    assert 'resource "aws_s3_bucket_public_access_block" "b"' in diff
    assert f"certwarden: {repo / 'other.tf'}: not a regular file" in err.splitlines()
