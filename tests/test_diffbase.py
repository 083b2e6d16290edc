"""--diff-base: only findings on lines changed since a git revision, in a real repository."""
import json

from gitrepo import commit_all, git, init

OLD = """\
Resources:
  Old:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: false
  Touched:
    Type: AWS::KMS::Key
    Properties:
      Description: before
"""


def reported(run_cli, repo, *args):
    code, out, err = run_cli("scan", ".", "--select", "CW101", "--now", "2026-01-01", "-o", "json", *args, cwd=repo)
    assert code in (0, 1), err
    return code, [(f["resource"], f["file"], f["line"]) for f in json.loads(out)["findings"]]


def test_only_findings_on_changed_lines(run_cli, tmp_path):
    repo = init(tmp_path / "repo")
    (repo / "stack.yaml").write_text(OLD)
    (repo / "other.yaml").write_text(OLD)
    base = commit_all(repo, "base")
    assert reported(run_cli, repo)[1] == [("Old", "other.yaml", 5), ("Touched", "other.yaml", 6),
                                          ("Old", "stack.yaml", 5), ("Touched", "stack.yaml", 6)]
    # A new bad key appended; Touched changes a line inside its block (its finding sits on the
    # resource, having no EnableKeyRotation at all); Old and other.yaml are left alone.
    (repo / "stack.yaml").write_text(OLD.replace("before", "after") + """\
  New:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: false
""")
    commit_all(repo, "feature")
    assert reported(run_cli, repo, "--diff-base", base) == (1, [("Touched", "stack.yaml", 6), ("New", "stack.yaml", 13)])
    # Uncommitted and untracked work counts too: a new file is changed throughout.
    (repo / "fresh.yaml").write_text(OLD)
    assert reported(run_cli, repo, "--diff-base", "HEAD") == (1, [("Old", "fresh.yaml", 5), ("Touched", "fresh.yaml", 6)])
    git(repo, "add", "fresh.yaml")
    assert reported(run_cli, repo, "--diff-base", "HEAD")[1] == [("Old", "fresh.yaml", 5), ("Touched", "fresh.yaml", 6)]


def test_unchanged_tree_reports_nothing(run_cli, tmp_path):
    repo = init(tmp_path / "repo")
    (repo / "stack.yaml").write_text(OLD)
    commit_all(repo)
    assert reported(run_cli, repo, "--diff-base", "HEAD") == (0, [])


def test_bad_revision_is_a_usage_error(run_cli, tmp_path):
    repo = init(tmp_path / "repo")
    (repo / "stack.yaml").write_text(OLD)
    commit_all(repo)
    code, _, err = run_cli("scan", ".", "--diff-base", "no-such-branch", cwd=repo)
    assert (code, err) == (2, "certwarden: error: --diff-base no-such-branch: not a commit in this repository\n")
