"""The composite GitHub Action: its run steps executed locally, as the runner would.

setup-python and upload-sarif are GitHub-hosted actions and cannot run here; the install step
is stood in for by a `certwarden` on PATH that runs this checkout. Everything else is the
action's own bash, with inputs substituted the way the runner does.
"""
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import FIXTURES, ROOT
from gitrepo import ENV, commit_all, git, init

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
STEPS = {s.get("id") or s.get("name") or s.get("uses"): s for s in ACTION["runs"]["steps"]}
SCHEMA = json.loads((ROOT / "tests" / "schemas" / "sarif-2.1.0.json").read_text())
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def expand(text: str, inputs: dict, outputs: dict) -> str:
    def value(m):
        kind, _, name = m.group(1).partition(".")
        if kind == "inputs":
            return inputs[name] if name in inputs else ACTION["inputs"][name].get("default", "")
        if m.group(1) == "github.action_path":
            return str(ROOT)
        if kind == "steps" and name.startswith("scan.outputs."):
            return outputs.get(name.removeprefix("scan.outputs."), "")
        raise AssertionError(f"expression the test does not know: {m.group(1)}")
    return EXPR.sub(value, text)


def run_step(step, workdir, inputs, outputs, tmp_path):
    env = {**ENV, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}", "RUNNER_TEMP": str(tmp_path),
           "GITHUB_OUTPUT": str(tmp_path / "output"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
           "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    env.update({k: expand(str(v), inputs, outputs) for k, v in step.get("env", {}).items()})
    assert step["shell"] == "bash"
    # GitHub runs `shell: bash` as: bash --noprofile --norc -eo pipefail {0}
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", expand(step["run"], inputs, outputs)],
                          cwd=workdir, env=env, capture_output=True, text=True)
    if (tmp_path / "output").exists():
        outputs.update(line.split("=", 1) for line in (tmp_path / "output").read_text().splitlines())
    return proc


@pytest.fixture
def workspace(tmp_path):
    (tmp_path / "bin").mkdir()
    shim = tmp_path / "bin" / "certwarden"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m certwarden "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    repo = init(tmp_path / "repo")
    (repo / "infra").mkdir()
    (repo / "infra" / "keys.yaml").write_text((FIXTURES / "CW101" / "cfn_fail.yaml").read_text())
    (repo / "docs.yaml").write_text((FIXTURES / "CW101" / "cfn_fail.yaml").read_text())   # outside paths
    commit_all(repo)
    return repo


def test_action_shape():
    assert ACTION["runs"]["using"] == "composite"
    assert set(ACTION["inputs"]) >= {"paths", "fail-on", "config", "category", "sarif-file", "diff-base"}
    upload = STEPS["Upload SARIF"]
    # v4 (v3 is deprecated), pinned to the commit of a v4 release, named in a comment.
    assert re.fullmatch(r"github/codeql-action/upload-sarif@[0-9a-f]{40}", upload["uses"])
    assert re.search(rf"uses: {re.escape(upload['uses'])} # v4\.\d+\.\d+\n", (ROOT / "action.yml").read_text())
    assert upload["with"] == {"sarif_file": "${{ steps.scan.outputs.sarif-file }}", "category": "${{ inputs.category }}"}
    assert upload["if"].startswith("${{ always()")
    assert list(STEPS)[-1] == "Result", "the job fails only after the SARIF upload"


def test_scan_step_writes_sarif_summary_and_fails_the_job(workspace, tmp_path):
    inputs = {"paths": "infra", "category": "infra-prod", "args": "--select CW101"}
    outputs = {}
    scan = run_step(STEPS["scan"], workspace, inputs, outputs, tmp_path)
    assert scan.returncode == 0, scan.stderr   # the scan step itself never fails
    assert "3 findings (3 high) in 1 file; 1 scanned" in scan.stdout
    assert outputs.keys() == {"exit-code", "sarif-file"} and outputs["exit-code"] == "1"
    written = Path(outputs["sarif-file"])
    assert written.parent.parent == tmp_path and written.name == "certwarden.sarif", "under RUNNER_TEMP"
    sarif = json.loads(written.read_text())
    jsonschema.Draft4Validator(SCHEMA).validate(sarif)
    run, = sarif["runs"]
    assert run["automationDetails"] == {"id": "infra-prod/"}
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
             r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in run["results"]] == [
        ("CW101", "infra/keys.yaml", 4), ("CW101", "infra/keys.yaml", 12), ("CW101", "infra/keys.yaml", 17)]
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("### certwarden: 3 findings (3 high)\n")
    assert "| high | CW101 `kms-rotation-disabled` | NoRotation | <code>infra/keys.yaml:4</code> |" in summary

    result = run_step(STEPS["Result"], workspace, inputs, outputs, tmp_path)
    assert result.returncode == 1
    assert "::error title=certwarden::findings at or above fail-on" in result.stdout


def test_fail_on_and_diff_base_inputs(workspace, tmp_path):
    outputs = {}
    inputs = {"paths": "infra docs.yaml", "fail-on": "critical", "args": "--select CW101"}
    assert run_step(STEPS["scan"], workspace, inputs, outputs, tmp_path).returncode == 0
    assert outputs["exit-code"] == "0"
    assert run_step(STEPS["Result"], workspace, inputs, outputs, tmp_path).returncode == 0

    outputs = {}
    inputs = {"paths": ".", "diff-base": "HEAD", "args": "--select CW101"}   # nothing changed since HEAD
    assert run_step(STEPS["scan"], workspace, inputs, outputs, tmp_path).returncode == 0
    assert outputs["exit-code"] == "0"
    # The gate keeps the changed lines (none); the SARIF keeps every finding, for code scanning
    # to compare with the base's analysis.
    results = json.loads(Path(outputs["sarif-file"]).read_text())["runs"][0]["results"]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in results] == [
        ("CW101", "docs.yaml")] * 3 + [("CW101", "infra/keys.yaml")] * 3


def test_a_scan_that_cannot_run_fails_the_job(workspace, tmp_path):
    outputs = {}
    inputs = {"paths": "no-such-dir"}
    assert run_step(STEPS["scan"], workspace, inputs, outputs, tmp_path).returncode == 0
    assert outputs["exit-code"] == "2"
    result = run_step(STEPS["Result"], workspace, inputs, outputs, tmp_path)
    assert result.returncode == 2 and "the scan could not run or some input could not be read (exit code 2)" in result.stdout


def sarif_uris(outputs) -> list[tuple[str, int]]:
    run, = json.loads(Path(outputs["sarif-file"]).read_text())["runs"]
    return [(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
             r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in run["results"]]


def test_diff_base_gates_on_changed_lines_and_uploads_every_finding(workspace, tmp_path):
    base = git(workspace, "rev-parse", "HEAD").stdout.strip()
    (workspace / "infra" / "new.yaml").write_text((FIXTURES / "CW101" / "cfn_fail.yaml").read_text())
    commit_all(workspace, "a new stack")
    outputs = {}
    inputs = {"paths": "infra", "diff-base": base, "args": "--select CW101"}
    scan = run_step(STEPS["scan"], workspace, inputs, outputs, tmp_path)
    assert scan.returncode == 0, scan.stderr
    assert outputs["exit-code"] == "1"
    assert "3 findings (3 high) in 1 file; 2 scanned" in scan.stdout and "infra/keys.yaml" not in scan.stdout
    summary = (tmp_path / "summary.md").read_text()
    assert "<code>infra/new.yaml:4</code>" in summary and "infra/keys.yaml" not in summary
    assert sarif_uris(outputs) == [("infra/keys.yaml", 4), ("infra/keys.yaml", 12), ("infra/keys.yaml", 17),
                                   ("infra/new.yaml", 4), ("infra/new.yaml", 12), ("infra/new.yaml", 17)]


def test_a_shallow_clone_is_told_to_fetch_the_history(workspace, tmp_path):
    base = git(workspace, "rev-parse", "HEAD").stdout.strip()
    (workspace / "infra" / "new.yaml").write_text((FIXTURES / "CW101" / "cfn_fail.yaml").read_text())
    commit_all(workspace, "a new stack")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{workspace}", str(clone)], env=ENV, check=True)
    outputs = {}
    inputs = {"paths": "infra", "diff-base": base, "args": "--select CW101"}
    scan = run_step(STEPS["scan"], clone, inputs, outputs, tmp_path)
    assert (f"::error title=certwarden::diff-base {base} is not in this shallow clone: "
            "set fetch-depth: 0 on actions/checkout") in scan.stdout
    assert outputs["exit-code"] == "2"
    assert len(sarif_uris(outputs)) == 6, "the full SARIF is still uploaded"
    result = run_step(STEPS["Result"], clone, inputs, outputs, tmp_path)
    assert result.returncode == 2


def test_a_stale_sarif_is_never_uploaded_and_links_are_not_written_through(workspace, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep me\n")
    (workspace / "certwarden.sarif").write_text('{"runs": []}')   # committed by the pull request
    outputs = {}
    inputs = {"paths": "infra", "sarif-file": "certwarden.sarif", "args": "--select CW999"}   # the scan cannot run
    assert run_step(STEPS["scan"], workspace, inputs, outputs, tmp_path).returncode == 0
    assert outputs == {"exit-code": "2"}, "no sarif-file: the upload step is skipped"
    assert not (workspace / "certwarden.sarif").exists()

    (workspace / "certwarden.sarif").symlink_to(victim)
    outputs = {}
    inputs = {"paths": "infra", "sarif-file": "certwarden.sarif", "args": "--select CW101"}
    assert run_step(STEPS["scan"], workspace, inputs, outputs, tmp_path).returncode == 0
    assert victim.read_text() == "keep me\n"
    assert outputs["sarif-file"] == "certwarden.sarif" and not (workspace / "certwarden.sarif").is_symlink()
    assert len(sarif_uris({"sarif-file": workspace / "certwarden.sarif"})) == 3


def test_paths_are_never_read_as_options(workspace, tmp_path):
    (workspace / "--exclude=*.yaml").write_text((FIXTURES / "CW101" / "cfn_fail.yaml").read_text())
    outputs = {}
    inputs = {"paths": "--exclude=*.yaml", "args": "--select CW101"}
    scan = run_step(STEPS["scan"], workspace, inputs, outputs, tmp_path)
    assert outputs["exit-code"] == "1", scan.stdout + scan.stderr
    uri = "--exclude%3D%2A.yaml"   # the file, percent-encoded as a URI
    assert sarif_uris(outputs) == [(uri, 4), (uri, 12), (uri, 17)]
