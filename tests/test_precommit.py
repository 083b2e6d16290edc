"""The pre-commit hook, installed by the real pre-commit tool from this checkout."""
import shutil
import subprocess
import sys

import pytest

from conftest import FIXTURES, ROOT
from gitrepo import ENV, commit_all, git, init

pytest.importorskip("pre_commit", reason="pre-commit is in the test extra: pip install -e '.[test]'")

BAD = (FIXTURES / "CW101" / "cfn_fail.yaml").read_text()
GOOD = (FIXTURES / "CW101" / "cfn_pass.yaml").read_text()


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory):
    """This working tree (committed or not) as a repository pre-commit can clone, and a
    pre-commit home shared by the session so the hook's virtualenv is built once."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    files = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard").stdout.split("\0")
    repo = init(tmp_path_factory.mktemp("hook") / "certwarden")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    return repo, commit_all(repo, "snapshot"), tmp_path_factory.mktemp("pre-commit-home")


def project(hook_repo, tmp_path, hook_id: str, entry: str | None = None):
    """A repository whose pre-commit config uses this checkout's hook `hook_id`, CW101 only: chosen
    in the policy file, or (given `entry`) by options in an entry of the user's own."""
    source, rev, home = hook_repo
    env = {**ENV, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
    repo = init(tmp_path / "project")
    hook = f"  - id: {hook_id}\n" + (f"    entry: {entry}\n" if entry else "")
    (repo / ".pre-commit-config.yaml").write_text(f"repos:\n- repo: {source}\n  rev: {rev}\n  hooks:\n{hook}")
    if not entry:
        (repo / ".certwarden.yaml").write_text("select: [CW101]\n")
    (repo / "README.md").write_text("not scanned\n")
    subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=repo, env=env, check=True,
                   capture_output=True)
    commit_all(repo, "config")
    return repo, env


def commit(repo, env, name: str, text: str, message: str) -> tuple[int, str]:
    """Write `name`, add it and try to commit: (exit code, what git and the hooks printed)."""
    (repo / name).parent.mkdir(parents=True, exist_ok=True)
    (repo / name).write_text(text)
    git(repo, "add", "--", name)
    done = subprocess.run(["git", "commit", "-m", message], cwd=repo, env=env, capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr


def test_hook_blocks_a_bad_template_and_passes_a_good_one(hook_repo, tmp_path):
    repo, env = project(hook_repo, tmp_path, "certwarden")

    code, output = commit(repo, env, "stack.template", BAD, "bad")
    assert code != 0, output
    assert "certwarden (AWS key and certificate management)" in output and "Failed" in output
    assert "stack.template" in output
    assert "4:3      high     CW101 kms-rotation-disabled  NoRotation" in output
    assert "3 findings (3 high) in 1 file; 1 scanned" in output
    assert git(repo, "log", "--format=%s").stdout.split() == ["config"], "the commit was blocked"

    code, output = commit(repo, env, "stack.template", GOOD, "good")
    assert code == 0, output
    assert "certwarden (AWS key and certificate management)" in output and "Passed" in output
    assert git(repo, "log", "--format=%s").stdout.split() == ["good", "config"]


def test_file_names_that_look_like_options_are_scanned_as_files(hook_repo, tmp_path):
    """A pull request can commit files named like options: each is a path, read and reported."""
    repo, env = project(hook_repo, tmp_path, "certwarden")
    (repo / "relaxed.yaml").write_text("ignore: [CW101]\n")   # what `--config=relaxed.yaml` would load
    names = ["--config=relaxed.yaml", "--exclude=*.yaml", "--cache=cw.json", "--ignore=CW101.yaml"]
    for name in names:
        (repo / name).write_text(BAD)
    git(repo, "add", "--", "relaxed.yaml", *names)
    done = subprocess.run(["git", "commit", "-m", "hostile"], cwd=repo, env=env, capture_output=True, text=True)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "Failed" in output
    assert "12 findings (12 high) in 4 files; 4 scanned" in output   # relaxed.yaml holds no template
    for name in names:
        assert f"{name}\n  4:3      high     CW101 kms-rotation-disabled  NoRotation" in output, name
    assert not (repo / "cw.json").exists(), "no cache was made"
    assert git(repo, "log", "--format=%s").stdout.split() == ["config"], "the commit was blocked"


def test_fix_hook_fixes_in_place_and_the_second_commit_passes(hook_repo, tmp_path):
    repo, env = project(hook_repo, tmp_path, "certwarden-fix", entry="certwarden fix --write --select CW101 --")

    code, output = commit(repo, env, "stack.yaml", BAD, "bad")
    assert code != 0, output   # pre-commit stops a commit whose files a hook changed
    assert "files were modified by this hook" in output
    fixed = (repo / "stack.yaml").read_text()
    assert fixed.count("EnableKeyRotation: true") == 3 and "rotation absent means disabled" in fixed

    code, output = commit(repo, env, "stack.yaml", fixed, "fixed")   # the fixed file, added as it is
    assert code == 0, output
    assert git(repo, "log", "--format=%s").stdout.split() == ["fixed", "config"]


def test_hook_manifest_covers_every_source():
    import re

    import yaml
    hook, fixer = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert (hook["id"], hook["entry"], hook["pass_filenames"], hook["require_serial"]) == (
        "certwarden", "certwarden scan --force-exclude --", True, True)
    assert (fixer["id"], fixer["entry"], fixer["pass_filenames"], fixer["require_serial"]) == (
        "certwarden-fix", "certwarden fix --write --force-exclude --", True, True)
    pattern = re.compile(hook["files"])
    for name in ("a.yaml", "b.yml", "c.json", "d.template", "e.cfn", "mod/main.tf", "ca.pem", "x.crt"):
        assert pattern.search(name), name
    for name in ("README.md", "main.py", "terraform.tfstate", "template.txt"):
        assert not pattern.search(name), name


def test_a_changed_tf_file_brings_its_module(tmp_path, monkeypatch):
    """pre-commit passes only the changed .tf file; discovery hands the whole module on."""
    from certwarden.sources.files import discover
    (tmp_path / "mod").mkdir()
    for name in ("main.tf", "keys.tf", "vars.tf", "notes.md"):
        (tmp_path / "mod" / name).write_text("")
    monkeypatch.chdir(tmp_path)
    found = discover(["mod/keys.tf", "mod/vars.tf"])
    assert found.tf_dirs == {"mod": ["mod/keys.tf", "mod/main.tf", "mod/vars.tf"]}
    assert found.files == []


def test_the_policy_excludes_hold_for_the_files_pre_commit_names(hook_repo, tmp_path):
    repo, env = project(hook_repo, tmp_path, "certwarden")
    (repo / ".certwarden.yaml").write_text("exclude: ['legacy/*']\n")
    commit_all(repo, "policy")

    code, output = commit(repo, env, "legacy/old.yaml", BAD, "legacy")   # excluded: --force-exclude
    assert code == 0 and "Passed" in output, output
    code, output = commit(repo, env, "new.yaml", BAD, "new")
    assert code != 0 and "new.yaml" in output, output
