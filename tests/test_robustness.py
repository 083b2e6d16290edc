"""Hostile input: each yields one line naming the file, within bounded time and memory, and the
scan still reads the other files."""
from __future__ import annotations

import json
import os
import signal
import tracemalloc
from pathlib import Path

import pytest

from conftest import FIXED_NOW
from hostile import CASES, GOOD, sparse_file, write_cases
from certwarden.options import Options
from certwarden.scan import scan

SECONDS = 20   # a guard against hangs, far above what any case takes; not a speed measurement


@pytest.fixture(autouse=True)
def bounded():
    """Turn a hang into a failure instead of a stuck suite."""
    def expire(signum, frame):
        raise TimeoutError(f"hostile input not refused within {SECONDS} s")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(SECONDS)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def scan_dir(path: Path, jobs: int = 1):
    return scan([str(path)], _rules(), Options(now=FIXED_NOW, jobs=jobs))


def _rules():
    from certwarden.rulepack import load_rules, select
    return select(load_rules(), ["CW101"], None)


def errors_by_name(result) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in result.errors:
        out.setdefault(Path(e.file).name, []).append(e.message)
    return out


def assert_good_scanned(result):
    assert [(f.code, f.resource, Path(f.where.file).name) for f in result.findings] == \
        [("CW101", "Key", "good.yaml")]


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_hostile_file_is_one_error_and_the_rest_is_scanned(tmp_path, name):
    expected = write_cases(tmp_path, {name})
    result = scan_dir(tmp_path)
    assert errors_by_name(result) == {name: [expected[name]]}
    assert result.scanned == 1
    assert_good_scanned(result)


def test_all_hostile_files_together_in_parallel(tmp_path):
    expected = write_cases(tmp_path)
    result = scan_dir(tmp_path, jobs=2)
    assert errors_by_name(result) == {name: [message] for name, message in expected.items()}
    assert_good_scanned(result)


def test_alias_bomb_is_refused_without_being_expanded(tmp_path):
    write_cases(tmp_path, {"bomb.yaml"})
    tracemalloc.start()
    try:
        scan_dir(tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024   # 9**9 nodes expanded would take tens of gigabytes


def test_200_mb_template_is_refused_without_being_read(tmp_path):
    sparse_file(tmp_path / "huge.yaml", 200 * 1024 * 1024)
    (tmp_path / "good.yaml").write_text(GOOD)
    tracemalloc.start()
    try:
        result = scan_dir(tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert errors_by_name(result) == {"huge.yaml": ["file is 200 MiB, over the 20 MiB limit"]}
    assert peak < 5 * 1024 * 1024
    assert_good_scanned(result)


def test_utf16_with_bom_is_read_as_text(tmp_path):
    (tmp_path / "good.yaml").write_bytes(GOOD.encode("utf-16"))
    result = scan_dir(tmp_path)
    assert result.errors == []
    assert_good_scanned(result)


def test_symlink_loop_and_link_out_of_the_root_are_not_followed(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "good.yaml").write_text(GOOD)
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "self.yaml").symlink_to(root / "self.yaml")          # a link to itself
    outside = tmp_path / "outside.yaml"
    outside.write_text(GOOD)
    (root / "escape.yaml").symlink_to(outside)
    result = scan_dir(root)
    assert errors_by_name(result) == {
        "loop": ["symbolic link to a directory, not followed"],
        "self.yaml": ["broken symbolic link"],
        "escape.yaml": ["symbolic link leaves the scan root, not followed"],
    }
    assert_good_scanned(result)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads mode-000 files; see the simulated test below")
def test_unreadable_file(tmp_path):
    write_cases(tmp_path, set())
    locked = tmp_path / "locked.yaml"
    locked.write_text(GOOD)
    locked.chmod(0)
    result = scan_dir(tmp_path)
    assert errors_by_name(result) == {"locked.yaml": ["permission denied"]}
    assert_good_scanned(result)


def test_unreadable_file_simulated(tmp_path, monkeypatch):
    """Tests run as root here, where chmod 000 does not stop reading: fail the open instead."""
    import certwarden.sources.files as files

    write_cases(tmp_path, set())
    (tmp_path / "locked.yaml").write_text(GOOD)

    def deny(path, *args, **kwargs):
        if str(path).endswith("locked.yaml"):
            raise PermissionError(13, "Permission denied", str(path))
        return open(path, *args, **kwargs)
    monkeypatch.setattr(files, "open", deny, raising=False)
    result = scan_dir(tmp_path)
    assert errors_by_name(result) == {"locked.yaml": ["permission denied"]}
    assert_good_scanned(result)


def test_cli_reports_one_line_per_bad_file_and_sarif_notifications(tmp_path, run_cli):
    expected = write_cases(tmp_path, {"bomb.yaml", "binary.json", "latin1.yaml"})
    sarif_path = tmp_path / "out.sarif"
    code, out, err = run_cli("scan", tmp_path, "--select", "CW101", "--now", "2026-01-01",
                             "-o", "json", "-o", f"sarif={sarif_path}")
    assert code == 2   # good.yaml has a finding, but three files could not be read
    *lines, verdict = err.splitlines()
    assert sorted(lines) == sorted(f"certwarden: {tmp_path / n}{':7' if n == 'bomb.yaml' else ''}: {m}"
                                   for n, m in expected.items())
    assert verdict == ("certwarden: error: 3 inputs could not be read, so the run fails "
                       "(--allow-input-errors to judge only what was read)")
    invocation = json.loads(sarif_path.read_text())["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    notes = invocation["toolExecutionNotifications"]
    assert sorted(n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].rsplit("/", 1)[-1]
                  for n in notes) == sorted(expected)
    assert all(n["level"] == "error" for n in notes)


def test_exit_2_when_nothing_could_be_scanned(tmp_path, run_cli):
    write_cases(tmp_path, {"binary.json", "deep.json"})
    (tmp_path / "good.yaml").unlink()
    code, out, err = run_cli("scan", tmp_path, "-o", "json")
    assert code == 2
    assert json.loads(out)["summary"]["scanned"] == 0
    assert len(err.splitlines()) == 2


def test_hostile_terraform_is_one_error_per_file_and_other_modules_are_scanned(tmp_path):
    from hostile import write_tf_cases

    expected = write_tf_cases(tmp_path)
    result = scan([str(tmp_path)], _rules(), Options(now=FIXED_NOW, jobs=1))
    assert {str(Path(e.file).relative_to(tmp_path)): e.message for e in result.errors} == expected
    assert len(result.errors) == len(expected)
    assert [(f.code, f.resource) for f in result.findings] == [("CW101", "aws_kms_key.good")]


def test_reference_to_an_undeclared_module_is_unknown_not_a_crash(tmp_path):
    """Found by tests/test_property.py: module.m.out without a module "m" block raised KeyError."""
    (tmp_path / "main.tf").write_text('resource "aws_kms_key" "k" {\n  enable_key_rotation = module.m.out\n}\n')
    result = scan([str(tmp_path)], _rules(), Options(now=FIXED_NOW, jobs=1))
    assert result.errors == []
    assert result.findings == []     # rotation is unknown, so the rule stays silent
    assert result.scanned == 1


def test_lone_surrogates_and_undecodable_names_do_not_break_reports(tmp_path, run_cli):
    """Found by tests/perf/fuzz.py: "\\ud800" escapes (HCL, JSON) reached the report writer, which
    raised UnicodeEncodeError; so did a file name that is not UTF-8."""
    (tmp_path / "tf").mkdir()
    (tmp_path / "tf" / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = "x\\ud800"\n  acl = "public-read"\n}\n')
    (tmp_path / "t.json").write_text('{"Resources": {"B": {"Type": "AWS::S3::Bucket", '
                                     '"Properties": {"AccessControl": "PublicRead", "BucketName": "x\\ud800\\u"}}}}')
    odd = os.path.join(os.fsencode(tmp_path), b"\xff.yaml")
    with open(odd, "w") as fh:
        fh.write("Resources:\n  K:\n    Type: AWS::KMS::Key\n")
    sarif_path = tmp_path / "out.sarif"
    code, out, err = run_cli("scan", tmp_path, "--no-config", "--now", "2026-01-01", "-o", "json",
                             "-o", f"sarif={sarif_path}", "--allow-input-errors")
    assert code == 1
    report = json.loads(out)
    assert {(f["code"], f["resource"]) for f in report["findings"]} >= {("CW402", "aws_s3_bucket.b"), ("CW101", "K")}
    assert [e["message"] for e in report["errors"]] == ["invalid YAML: found invalid Unicode character escape code"]
    json.loads(sarif_path.read_text(encoding="utf-8"))
    code, out, err = run_cli("scan", tmp_path, "--no-config", "-o", "text", "--allow-input-errors")
    assert code == 1 and "\\udcff.yaml" in out


def test_broken_unicode_escapes_in_hcl_are_kept_as_written(tmp_path):
    """Found by tests/perf/fuzz.py: a bare \\u (or one past U+10FFFF) raised ValueError."""
    (tmp_path / "main.tf").write_text('resource "aws_kms_key" "k" {\n  description = "a\\u b\\UFFFFFFFF"\n'
                                      '  tags = {Environment = "x\\u12"}\n}\n')
    from certwarden.sources.units import Unit, read_unit

    [graph], errors, _ = read_unit(Unit("module", str(tmp_path), files=(str(tmp_path / "main.tf"),)))
    assert errors == []
    assert graph.nodes["aws_kms_key.k"].attrs["tags"] == {"Environment": "x\\u12"}
