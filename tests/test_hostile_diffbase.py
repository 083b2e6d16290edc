"""--diff-base against a hostile tree and an unusual git config, in real repositories: file names
git quotes, content that looks like a diff header, prefixes the user's config changes, a tree
that marks its files binary, and a revision that looks like an option."""
import json

import pytest
from gitrepo import commit_all, init

KEY = 'resource "aws_kms_key" "{name}" {{\n  enable_key_rotation = false\n}}\n'
CFN = "Resources:\n  {name}:\n    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: false\n"


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A repository, and the scanner's git reading only the config this test writes."""
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    (tmp_path / "gitconfig").write_text("")
    return init(tmp_path / "repo")


def reported(run_cli, repo, *args):
    code, out, err = run_cli("scan", ".", "--select", "CW101", "-o", "json", *args, cwd=repo)
    assert code in (0, 1), err
    return sorted((f["file"], f["resource"], f["line"]) for f in json.loads(out)["findings"])


def test_file_names_git_quotes_are_kept(run_cli, repo):
    (repo / "old.yaml").write_text(CFN.format(name="Old"))
    base = commit_all(repo, "base")
    names = ["with space.yaml", 'with"quote.yaml', "with\ttab.yaml", "f \t.yaml", "new\nline.yaml", "ctl\x01.yaml",
             "caf\u00e9.yaml", "back\\slash.yaml", "bad\udcff.yaml"]   # the last: byte 0xff, not UTF-8
    for name in names:
        (repo / name).write_text(CFN.format(name="New"))   # pathlib encodes with surrogateescape
    commit_all(repo, "feature")
    assert reported(run_cli, repo, "--diff-base", base) == sorted((n, "New", 5) for n in names)


def test_added_line_like_a_header_is_content(run_cli, repo):
    (repo / "stack.tf").write_text('locals {\n  a = 1\n}\n' + "\n" * 5 + KEY.format(name="old"))
    (repo / "other.tf").write_text(KEY.format(name="other"))
    base = commit_all(repo, "base")
    # A heredoc line `++ b/other.tf` is the added row `+++ b/other.tf`: the old parser took it
    # for the next file's header and gave the later hunk (the new key) to other.tf.
    (repo / "stack.tf").write_text('locals {\n  a = 1\n  doc = <<EOT\n++ b/other.tf\nEOT\n}\n' + "\n" * 5
                                   + KEY.format(name="old") + "\n" + KEY.format(name="new"))
    commit_all(repo, "feature")
    assert reported(run_cli, repo, "--diff-base", base) == [("stack.tf", "aws_kms_key.new", 17)]


@pytest.mark.parametrize("config", ["[diff]\n\tnoprefix = true\n", "[diff]\n\tmnemonicPrefix = true\n",
                                    "[diff]\n\trelative = true\n[color]\n\tdiff = always\n"])
def test_user_git_config_does_not_change_the_answer(run_cli, repo, config):
    (repo / "stack.yaml").write_text(CFN.format(name="Old"))
    base = commit_all(repo, "base")
    (repo / "stack.yaml").write_text(CFN.format(name="Old") + CFN.format(name="New").removeprefix("Resources:\n"))
    (repo.parent / "gitconfig").write_text(config)
    assert reported(run_cli, repo, "--diff-base", base) == [("stack.yaml", "New", 9)]


def test_tree_marking_its_files_binary_hides_nothing(run_cli, repo):
    (repo / "stack.yaml").write_text(CFN.format(name="Old"))
    base = commit_all(repo, "base")
    (repo / ".gitattributes").write_text("*.yaml -diff\n")
    (repo / "stack.yaml").write_text(CFN.format(name="Old") + CFN.format(name="New").removeprefix("Resources:\n"))
    commit_all(repo, "feature")
    assert reported(run_cli, repo, "--diff-base", base) == [("stack.yaml", "New", 9)]


def test_revision_that_looks_like_an_option(run_cli, repo):
    (repo / "stack.yaml").write_text(CFN.format(name="Old"))
    commit_all(repo, "base")
    written = repo.parent / "written-by-git"
    code, _, err = run_cli("scan", ".", f"--diff-base=--output={written}", cwd=repo)
    assert (code, err) == (2, f"certwarden: error: --diff-base --output={written}: not a commit in this repository\n")
    assert not written.exists()
