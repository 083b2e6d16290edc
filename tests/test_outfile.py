"""Outputs are never written through a symlink: a scanned tree (often the current directory) can
commit a link named like the report that points at a file of the runner."""
import json

import pytest

from conftest import FIXTURES

from certwarden.cli import FORMATS

FAIL = FIXTURES / "CW101" / "cfn_fail.yaml"


@pytest.fixture
def victim(tmp_path):
    path = tmp_path / "outside" / "credentials"
    path.parent.mkdir()
    path.write_text("[default]\naws_secret_access_key = keep-me\n")
    return path


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_output_named_by_a_committed_symlink_is_not_written(run_cli, tmp_path, victim, fmt):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "report.out").symlink_to(victim)
    code, out, err = run_cli("scan", FAIL, "--select", "CW101", "-o", f"{fmt}=report.out", cwd=repo)
    assert code == 2
    assert err == ("certwarden: error: report.out: is a symbolic link; outputs are never written through one\n")
    assert victim.read_text() == "[default]\naws_secret_access_key = keep-me\n"


def test_a_dangling_symlink_is_not_followed_to_create_its_target(run_cli, tmp_path):
    target = tmp_path / "created-elsewhere"
    (tmp_path / "r.sarif").symlink_to(target)
    code, _, err = run_cli("scan", FAIL, "-o", f"sarif={tmp_path / 'r.sarif'}")
    assert code == 2 and "r.sarif: is a symbolic link" in err
    assert not target.exists()


def test_a_symlinked_directory_on_a_relative_output_path_is_refused(run_cli, tmp_path, victim):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "reports").symlink_to(victim.parent, target_is_directory=True)
    code, _, err = run_cli("scan", FAIL, "-o", "json=reports/credentials", cwd=repo)
    assert code == 2
    assert err == ("certwarden: error: reports/credentials: reports is a symbolic link; "
                   "outputs are never written through one\n")
    assert "keep-me" in victim.read_text()


def test_an_unwritable_output_is_one_line_and_exit_2(run_cli, tmp_path):
    code, _, err = run_cli("scan", FAIL, "-o", f"json={tmp_path / 'no-such-dir' / 'r.json'}")
    assert code == 2
    assert err == f"certwarden: error: {tmp_path / 'no-such-dir' / 'r.json'}: cannot write: No such file or directory\n"


def test_a_regular_output_file_is_replaced(run_cli, tmp_path):
    report = tmp_path / "r.json"
    report.write_text("x" * 100_000)   # longer than the report: truncated, not overwritten in part
    assert run_cli("scan", FAIL, "--select", "CW101", "-o", f"json={report}")[0] == 1
    assert len(json.loads(report.read_text())["findings"]) == 3


def test_baseline_and_remediation_stacks_are_not_written_through_symlinks(run_cli, tmp_path, victim):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "baseline.json").symlink_to(victim)
    code, _, err = run_cli("baseline", "create", "baseline.json", str(FAIL), cwd=repo)
    assert code == 2 and "baseline.json: is a symbolic link" in err

    report = tmp_path / "report.json"
    assert run_cli("scan", FAIL, "--select", "CW101", "-o", f"json={report}")[0] == 1
    (repo / "stacks").symlink_to(victim.parent, target_is_directory=True)
    code, _, err = run_cli("remediate", "--from", str(report), "-o", "stacks", cwd=repo)
    assert code == 2 and "stacks is a symbolic link" in err
    assert [p.name for p in victim.parent.iterdir()] == ["credentials"]
