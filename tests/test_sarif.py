"""SARIF: valid against the official schema and shaped the way GitHub code scanning accepts."""
import json
import shutil
import subprocess
from urllib.parse import unquote

import pytest

from conftest import FIXED_NOW, FIXTURES, ROOT
from github_sarif import upload_problems, validate

from certwarden.errors import InputError
from certwarden.report import sarif
from certwarden.rulepack import Rule, load_rules
from certwarden.options import Options
from certwarden.scan import scan

EXAMPLE = FIXTURES / "examples" / "certificate-infrastructure.yaml"


def render(paths, root=ROOT, **kw):
    result = scan([str(p) for p in paths], load_rules(), Options(now=FIXED_NOW, root=root))
    return json.loads(sarif.render(result, root=root, **kw)), result


def test_valid_and_github_shaped():
    doc, result = render([EXAMPLE])
    validate(doc)
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert run["automationDetails"]["id"] == "certwarden/"
    assert run["invocations"][0]["executionSuccessful"] is True
    assert len(run["results"]) == len(result.findings) > 0
    for res in run["results"]:
        rule = rules[res["ruleIndex"]]
        assert rule["id"] == res["ruleId"]
        loc = res["locations"][0]
        assert loc["physicalLocation"]["artifactLocation"]["uri"] == "fixtures/examples/certificate-infrastructure.yaml"
        assert loc["physicalLocation"]["region"]["startLine"] >= 1
        assert loc["logicalLocations"][0]["name"] == next(
            f.resource for f in result.findings if f.fingerprint == res["partialFingerprints"]["certwarden/v1"])
    by_id = {r["id"]: r for r in rules}
    assert by_id["CW403"]["properties"]["security-severity"] == "8.0"
    assert by_id["CW103"]["properties"]["security-severity"] == "9.5"
    assert by_id["CW105"]["properties"]["security-severity"] == "3.0"
    assert by_id["CW101"]["helpUri"].endswith("docs/rules/CW101.md")
    assert "EnableKeyRotation: true" in by_id["CW101"]["help"]["markdown"]
    cw403 = next(r for r in run["results"] if r["ruleId"] == "CW403")
    assert cw403["level"] == "error"
    assert cw403["properties"]["severity"] == "critical"   # raised: the bucket holds CRLs
    assert cw403["locations"][0]["physicalLocation"]["region"] == {"startLine": 50, "startColumn": 13}


def test_info_rules_carry_no_security_severity_and_report_as_note():
    rule = Rule(code="X1", name="x", severity="info", sources=("cfn",), kinds=("kms_key",), title="t",
                why="w", when={"attr": "a", "eq": 1}, message="m")
    desc = sarif._rule(rule)
    assert "security-severity" not in desc["properties"]
    assert desc["defaultConfiguration"]["level"] == "note"


def test_uri_relative_to_repository_root_not_scanned_folder(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / "infra" / "kms").mkdir(parents=True)
    shutil.copy(FIXTURES / "CW101" / "cfn_fail.yaml", repo / "infra" / "kms" / "keys.yaml")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    monkeypatch.chdir(repo / "infra")
    from certwarden.report import repo_root
    doc, _ = render(["kms"], root=repo_root())
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in doc["runs"][0]["results"]}
    assert uris == {"infra/kms/keys.yaml"}


def test_root_is_the_scanned_files_repository_not_the_current_directorys(run_cli, tmp_path):
    repo, elsewhere = tmp_path / "repo", tmp_path / "elsewhere"
    (repo / "infra").mkdir(parents=True)
    elsewhere.mkdir()
    shutil.copy(FIXTURES / "CW101" / "cfn_fail.yaml", repo / "infra" / "keys.yaml")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    out = elsewhere / "r.sarif"
    code, _, err = run_cli("scan", "--no-config", "--select", "CW101", repo / "infra" / "keys.yaml", "-o", f"sarif={out}",
                           cwd=elsewhere)
    assert code == 1, err
    run = json.loads(out.read_text())["runs"][0]
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == repo.resolve().as_uri() + "/"
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]} == {
        "infra/keys.yaml"}


def test_relative_uris_are_percent_encoded(tmp_path):
    odd = tmp_path / "odd dir" / "stack #1 ü%.yaml"
    odd.parent.mkdir()
    shutil.copy(FIXTURES / "CW101" / "cfn_fail.yaml", odd)
    doc, result = render([odd], root=tmp_path)
    assert result.findings
    assert upload_problems(json.dumps(doc)) == []   # the schema's uri-reference format included
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in doc["runs"][0]["results"]}
    assert uris == {"odd%20dir/stack%20%231%20%C3%BC%25.yaml"}
    assert (tmp_path / unquote(uris.pop())).read_bytes() == odd.read_bytes()


def test_fingerprints_survive_unrelated_edits(tmp_path):
    src = (FIXTURES / "CW101" / "cfn_fail.yaml").read_text()
    a = tmp_path / "a" / "keys.yaml"
    b = tmp_path / "b" / "keys.yaml"
    a.parent.mkdir()
    b.parent.mkdir()
    a.write_text(src)
    b.write_text(src.replace("Resources:\n", "Description: moved\nMetadata:\n  Note: lines above\nResources:\n", 1))
    fp = lambda p: {(r["ruleId"], r["partialFingerprints"]["primaryLocationLineHash"])  # noqa: E731
                    for r in render([p], root=p.parent)[0]["runs"][0]["results"]}
    assert fp(a) == fp(b) and len(fp(a)) == 6   # 3 x CW101, 3 x CW107


def test_input_errors_are_tool_execution_notifications(tmp_path):
    (tmp_path / "good.yaml").write_text((FIXTURES / "CW101" / "cfn_fail.yaml").read_text())
    (tmp_path / "binary.yaml").write_bytes(b"\x00\x01\x02Resources")
    (tmp_path / "latin1.json").write_bytes('{"Resources": {"caf\xe9": 1}}'.encode("latin-1"))
    (tmp_path / "broken.template").write_text("Resources:\n  Key:\n    Type: AWS::KMS::Key\n   Properties: {\n")
    doc, result = render([tmp_path], root=tmp_path)
    validate(doc)
    inv = doc["runs"][0]["invocations"][0]
    assert inv["executionSuccessful"] is False
    texts = sorted(n["message"]["text"] for n in inv["toolExecutionNotifications"])
    assert texts == [
        f"{tmp_path}/binary.yaml: binary file, not a template",
        f"{tmp_path}/broken.template:4: invalid YAML: did not find expected key",
        f"{tmp_path}/latin1.json: not UTF-8 text (byte 0xe9 at offset 19)",
    ]
    assert {r["ruleId"] for r in doc["runs"][0]["results"]} == {"CW101", "CW107"}, "the good file is still scanned"


def test_alias_bomb_refused_quickly(tmp_path):
    layers = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        layers.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("Resources:\n  X:\n    Type: AWS::KMS::Key\n" + "\n".join(layers) + "\n")
    result = scan([str(bomb)], load_rules(), Options(now=FIXED_NOW))
    assert [str(e) for e in result.errors] == [f"{bomb}:10: alias expansion exceeds 2000000 nodes (YAML alias bomb?)"]


@pytest.mark.parametrize("name", ["CW304/cfn_fail.yaml", "CW103/cfn_fail.json", "examples/certificate-infrastructure.yaml"])
def test_golden_snapshots(name):
    from golden import GOLDEN, render_golden
    for fmt in ("sarif", "json"):
        expected = (GOLDEN / f"{name.replace('/', '__')}.{fmt}").read_text()
        assert render_golden(FIXTURES / name, fmt) == expected, f"regenerate with: python tests/golden.py ({fmt})"


def test_input_error_str():
    assert str(InputError("a.yaml", "bad", 3)) == "a.yaml:3: bad"


def _keys(n: int) -> str:
    return "Resources:\n" + "".join(f"  Key{i}:\n    Type: AWS::KMS::Key\n    Properties:\n"
                                    f"      Description: key {i}\n      EnableKeyRotation: false\n" for i in range(n))


def test_fixes_of_many_findings_in_one_file_read_it_once(tmp_path, monkeypatch):
    """SARIF fixes and `fix` plan a file's edits once, not once a finding (which was quadratic:
    100/200/400 keys in one file took 0.9/2.8/7.8 s)."""
    from certwarden import fixes
    from certwarden.sources.cloudformation import fix as cfn_fix
    from certwarden.sources.cloudformation import text as cfn_text
    from certwarden.sources.terraform import fix as tf_fix

    template = tmp_path / "keys.yaml"
    template.write_text(_keys(100))
    tf = tmp_path / "keys.tf"
    tf.write_text("".join(f'resource "aws_kms_key" "k{i}" {{\n  enable_key_rotation = false\n}}\n' for i in range(100)))
    calls = {"load": 0, "parse": 0}

    def counted(name, real):
        def wrapper(*a, **kw):
            calls[name] += 1
            return real(*a, **kw)
        return wrapper
    monkeypatch.setattr(cfn_fix, "load_all", counted("load", cfn_fix.load_all))
    monkeypatch.setattr(cfn_text, "load_all", counted("load", cfn_text.load_all))   # the check after the edits
    monkeypatch.setattr(tf_fix, "parse", counted("parse", tf_fix.parse))
    result = scan([str(template), str(tf)], [r for r in load_rules() if r.code == "CW101"], Options(now=FIXED_NOW, root=tmp_path))
    assert len(result.findings) == 200
    fixes.attach_safe_edits(result)
    assert all(len(f.edits) == 1 and f.edits[0].text == "true" for f in result.findings)
    assert calls == {"load": 2, "parse": 1}   # read once and checked once; parsed once
    plan = fixes.plan(result)
    assert len(plan.fixed) == 200 and calls == {"load": 4, "parse": 2}
    assert plan.texts[str(template)] == _keys(100).replace("EnableKeyRotation: false", "EnableKeyRotation: true")


def test_a_run_over_githubs_result_limit_keeps_the_most_severe_and_says_so(tmp_path, run_cli, monkeypatch):
    monkeypatch.setattr(sarif, "MAX_RESULTS", 3)
    out = tmp_path / "r.sarif"
    code, _, err = run_cli("scan", EXAMPLE, "--no-config", "--fail-on", "none", "-o", f"sarif={out}", "-o", "json=" + str(tmp_path / "r.json"))
    assert code == 0
    text = out.read_text()
    assert upload_problems(text) == []
    run = json.loads(text)["runs"][0]
    every = json.loads((tmp_path / "r.json").read_text())["findings"]
    assert len(every) > 3 and len(run["results"]) == 3
    rank = ["critical", "high", "medium", "low", "info"]
    worst = sorted(rank.index(f["severity"]) for f in every if not f.get("suppressed"))[:3]
    assert sorted(rank.index(r["properties"]["severity"]) for r in run["results"]) == worst
    note = f"SARIF holds the 3 most severe of {len(every)} results (GitHub code scanning accepts at most 3 a run"
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["descriptor"]["id"] for n in notes] == ["results-truncated"] and notes[0]["message"]["text"].startswith(note)
    assert f"certwarden: warning: {note}" in err


def test_a_run_over_githubs_gzip_limit_is_cut_to_fit(tmp_path):
    import gzip

    template = tmp_path / "keys.yaml"
    template.write_text(_keys(300))
    result = scan([str(template)], load_rules(), Options(now=FIXED_NOW, root=tmp_path))
    whole, note = sarif.build(result)
    assert note is None and len(json.loads(whole)["runs"][0]["results"]) == len(result.findings) == 600
    limit = len(gzip.compress(whole.encode(), 6)) * 2 // 3   # the rules alone take a third
    text, note = sarif.build(result, max_gzip=limit)
    assert len(gzip.compress(text.encode(), 6)) <= limit
    kept = json.loads(text)["runs"][0]["results"]
    assert 0 < len(kept) < 600 and {r["ruleId"] for r in kept} == {"CW101"}   # medium before low (CW107)
    assert upload_problems(text) == [] and note.startswith(f"SARIF holds the {len(kept)} most severe of 600 results")


def test_fixes_of_many_files_are_planned_in_workers_and_match_in_process(tmp_path, run_cli):
    """Above the parallel threshold the files' fixes are planned in worker processes: the same
    fixes as one process plans."""
    from certwarden.workers import PARALLEL_MIN_UNITS

    for n in range(PARALLEL_MIN_UNITS + 6):
        (tmp_path / f"k{n:02}.yaml").write_text(_keys(2))
    docs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"j{jobs}.sarif"
        code, _, err = run_cli("scan", tmp_path, "--no-config", "--select", "CW101", "-j", jobs, "-o", f"sarif={out}")
        assert code == 1, err
        docs[jobs] = json.loads(out.read_text())
    results = docs["2"]["runs"][0]["results"]
    assert len(results) == 2 * (PARALLEL_MIN_UNITS + 6) and results == docs["1"]["runs"][0]["results"]
    assert all(r["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"] == {"text": "true"}
               for r in results)
