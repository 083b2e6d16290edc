"""A policy file in a shared parent directory (the system temp directory, a CI workspace) must not
govern a repository cloned below it, and the run says which policy file it used."""
import json
import os

import pytest

KEY = "Resources:\n  Open:\n    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: false\n"
RELAXED = {".certwarden.yaml": 'exclude: ["*"]\n', "pyproject.toml": '[tool.certwarden]\nexclude = ["*"]\n'}


def findings(out):
    return [(f["code"], f["resource"], f["file"], f["line"]) for f in json.loads(out)["findings"]]


@pytest.mark.parametrize("name", RELAXED)
def test_policy_above_the_repository_root_is_not_read(run_cli, tmp_path, name):
    (tmp_path / name).write_text(RELAXED[name])
    clone = tmp_path / "clone"
    (clone / ".git").mkdir(parents=True)
    (clone / "infra").mkdir()
    (clone / "infra" / "keys.yaml").write_text(KEY)
    code, out, err = run_cli("scan", "infra", "--select", "CW101", "-o", "json", cwd=clone)
    assert (code, findings(out)) == (1, [("CW101", "Open", "infra/keys.yaml", 5)])
    assert "policy" not in err
    # The repository's own policy file is read, and named.
    (clone / ".certwarden.yaml").write_text("fail_on: critical\n")
    code, out, err = run_cli("scan", "infra", "--select", "CW101", "-o", "json", cwd=clone)
    assert (code, len(findings(out))) == (0, 1)
    assert err == f"certwarden: policy: {clone / '.certwarden.yaml'}\n"


def test_outside_a_repository_the_search_stops_at_the_current_directory(run_cli, tmp_path):
    (tmp_path / ".certwarden.yaml").write_text(RELAXED[".certwarden.yaml"])
    (tmp_path / "unpacked" / "infra").mkdir(parents=True)
    (tmp_path / "unpacked" / "infra" / "keys.yaml").write_text(KEY)
    code, out, _ = run_cli("scan", tmp_path / "unpacked", "--select", "CW101", "-o", "json")
    assert [f[:2] for f in findings(out)] == [("CW101", "Open")]
    code, out, _ = run_cli("scan", "infra", "--select", "CW101", "-o", "json", cwd=tmp_path / "unpacked")
    assert findings(out) == [("CW101", "Open", "infra/keys.yaml", 5)]
    (tmp_path / "unpacked" / ".certwarden.yaml").write_text("fail_on: critical\n")
    code, _, err = run_cli("scan", tmp_path / "unpacked", "--select", "CW101", "-o", "json")
    assert (code, err) == (0, f"certwarden: policy: {tmp_path / 'unpacked' / '.certwarden.yaml'}\n")


def test_policy_line_names_an_explicit_file_and_is_quiet_with_q(run_cli, tmp_path):
    (tmp_path / "keys.yaml").write_text(KEY)
    (tmp_path / "strict.yaml").write_text("fail_on: high\n")
    code, _, err = run_cli("scan", "keys.yaml", "--config", "strict.yaml", cwd=tmp_path)
    assert (code, err) == (1, "certwarden: policy: strict.yaml\n")
    code, out, err = run_cli("scan", "keys.yaml", "--config", "strict.yaml", "--select", "CW101", "-q", cwd=tmp_path)
    assert (code, err) == (1, "")
    assert out.splitlines()[0] == ("keys.yaml:5:7: CW101 KMS key Open does not rotate its key material "
                                   "automatically (rotation enabled: false)")


# -- the policy file is read as warily as the templates it governs --------------------------------
BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(8)) + "fail_on: critical\n"


@pytest.mark.parametrize("body, problem", [
    (BOMB, "alias expansion exceeds 2000000 nodes (YAML alias bomb?)"),
    ("exclude: " + "[" * 300 + "]" * 300 + "\n", "nesting deeper than 200 levels"),
    ("fail_on: \xff\n", "cannot read config file: 'utf-8' codec can't decode byte 0xff"),
])
def test_a_hostile_policy_file_is_a_one_line_error(run_cli, tmp_path, body, problem):
    (tmp_path / ".git").mkdir()
    (tmp_path / "keys.yaml").write_text(KEY)
    (tmp_path / ".certwarden.yaml").write_bytes(body.encode("latin-1"))
    code, out, err = run_cli("scan", "keys.yaml", cwd=tmp_path)
    assert code == 2 and out == ""
    assert err.startswith(f"certwarden: error: {tmp_path / '.certwarden.yaml'}") and problem in err
    assert err.count("\n") == 1


def test_a_fifo_given_as_the_policy_file_is_refused_not_waited_on(run_cli, tmp_path):
    os.mkfifo(tmp_path / "policy.yaml")
    (tmp_path / "keys.yaml").write_text(KEY)
    code, out, err = run_cli("scan", "keys.yaml", "--config", "policy.yaml", cwd=tmp_path)
    assert (code, out, err) == (2, "", "certwarden: error: policy.yaml: cannot read config file: not a regular file\n")


@pytest.mark.parametrize("name", RELAXED)
def test_a_fifo_in_the_policy_search_is_passed_over(run_cli, tmp_path, name):
    (tmp_path / ".git").mkdir()
    os.mkfifo(tmp_path / name)
    (tmp_path / "keys.yaml").write_text(KEY)
    code, out, err = run_cli("scan", "keys.yaml", "--select", "CW101", "-o", "json", cwd=tmp_path)
    assert (code, findings(out), err) == (1, [("CW101", "Open", "keys.yaml", 5)], "")
