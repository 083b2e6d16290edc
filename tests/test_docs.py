"""The rule reference is generated from the rule files; a stale page fails here."""
from __future__ import annotations

import json
import re
import shutil

from conftest import ROOT

from certwarden import docs
from certwarden.report import DOCS_BASE
from certwarden.rulepack import load_rules

SECTIONS = ["What it finds", "Why it matters", "Example", "How to fix", "Fix safety", "Parameters",
            "Differences from other scanners"]


def test_generated_rule_docs_are_current():
    assert docs.stale() == [], "run: python -m certwarden.docs"
    assert docs.main(["--check"]) == 0


def test_every_rule_has_a_page_with_the_sections_in_order(rules):
    for rule in rules:
        page = (ROOT / rule.doc_path).read_text(encoding="utf-8")
        assert page.startswith(f"# {rule.code}: {rule.name}\n")
        assert re.findall(r"^## (.+)$", page, re.M) == SECTIONS, rule.code
        assert f"[{rule.code}]({rule.code}.md)" in (ROOT / "docs" / "rules" / "README.md").read_text()


def test_sarif_help_uri_points_at_the_page(run_cli):
    _, out, _ = run_cli("scan", ROOT / "fixtures" / "CW102", "-o", "sarif", "--no-config")
    for descriptor in json.loads(out)["runs"][0]["tool"]["driver"]["rules"]:
        assert descriptor["helpUri"] == f"{DOCS_BASE}docs/rules/{descriptor['id']}.md"
        assert (ROOT / "docs" / "rules" / f"{descriptor['id']}.md").is_file()


def test_page_shows_the_annotated_failing_fixture_fix_and_params():
    rule = next(r for r in load_rules() if r.code == "CW102")
    page = docs.rule_page(rule)
    example = page.split("## Example")[1].split("## How to fix")[0]
    assert "`fixtures/CW102/cfn_fail.yaml`" in example and "# ruleid: CW102 SlowRotation\n      RotationPeriodInDays: 730" in example
    assert "`fixtures/CW102/cfn_pass.yaml`" in example.split("Passes:")[1]
    assert "```yaml\nRotationPeriodInDays: 365\n```" in page and "```hcl\nrotation_period_in_days = 365\n```" in page
    assert "| `max_rotation_days` | `365` |" in page
    assert "[Security Hub KMS.4](https://docs.aws.amazon.com/securityhub/latest/userguide/kms-controls.html#kms-4)" \
        in docs.rule_page(next(r for r in load_rules() if r.code == "CW101"))


def test_stale_reports_edited_missing_and_orphan_pages(tmp_path):
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    shutil.copytree(ROOT / "fixtures", tmp_path / "fixtures")
    assert docs.stale(tmp_path) == []
    (tmp_path / "docs" / "rules" / "CW101.md").write_text("# edited by hand\n")
    (tmp_path / "docs" / "rules" / "CW102.md").unlink()
    (tmp_path / "docs" / "rules" / "CW999.md").write_text("# a rule that is gone\n")
    assert sorted(docs.stale(tmp_path)) == ["docs/rules/CW101.md", "docs/rules/CW102.md", "docs/rules/CW999.md"]
    # A changed fixture changes the example, so the page is stale too.
    (tmp_path / "docs" / "rules" / "CW101.md").write_text((ROOT / "docs" / "rules" / "CW101.md").read_text())
    with open(tmp_path / "fixtures" / "CW101" / "cfn_fail.yaml", "a") as fh:
        fh.write("# one more line\n")
    assert "docs/rules/CW101.md" in docs.stale(tmp_path)


def test_long_fixture_is_cut_to_the_annotated_lines():
    lines = [f"line{i}" for i in range(1, 101)]
    lines[49] = "# ruleid: CW1 X"
    out = docs._excerpt("\n".join(lines)).splitlines()
    assert out == ["# ..."] + [f"line{i}" for i in range(44, 50)] + ["# ruleid: CW1 X"] + \
        [f"line{i}" for i in range(51, 57)] + ["# ..."]


def test_key_material_is_never_reproduced(tmp_path):
    entry = tmp_path / "fixtures" / "CW999" / "pem_fail.key"
    entry.parent.mkdir(parents=True)
    entry.write_text("# ruleid: CW999 key\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n")
    shown = "\n".join(docs._show(entry, tmp_path))
    assert shown == "`fixtures/CW999/pem_fail.key` (key or certificate material, not reproduced)\n"


def _live_rows(text: str) -> dict[tuple[str, ...], str]:
    """docs/live.md's service table: the services of each row -> its rules cell."""
    table = text.split(docs.LIVE_BEGIN)[1].split(docs.LIVE_END)[0]
    rows = [line.strip("|").split("|") for line in table.strip().splitlines()[2:]]
    return {tuple(re.findall(r"`([a-z0-9-]+)`", cells[0])): cells[-1].strip() for cells in rows}


def _codes(cell: str) -> set[str]:
    """A rules cell's codes, its ranges (CW301-CW308) spelt out."""
    out = set()
    for first, last in re.findall(r"CW(\d+)(?:-CW(\d+))?", cell):
        out |= {f"CW{n}" for n in range(int(first), int(last or first) + 1)}
    return out


def test_live_table_rules_are_those_the_failing_recipes_read():
    rows = _live_rows((ROOT / "docs" / "live.md").read_text(encoding="utf-8"))
    # cross-service rules sit in every row their recipes read, not only their kind's
    assert "CW304" in _codes(rows["s3",]) and "CW304" in _codes(rows["acm-pca",])
    assert "CW108" in _codes(rows["secretsmanager",]) and "CW108" in _codes(rows["kms",])
    assert rows["events", "config"] == "CW801" and "CW801" in _codes(rows["acm",]) and "CW801" in _codes(rows["acm-pca",])
    # CW305 judges private ACM certificates by the CA they name: its recipes read both
    assert "CW305" in _codes(rows["acm",]) and "CW305" in _codes(rows["acm-pca",])
    # moto refuses to import a certificate not yet valid into ACM: only IAM's read proves CW208
    assert rows["acm",].startswith("CW201-CW207,") and rows["iam",] == "CW201-CW208, CW216"


def test_every_live_service_has_one_row():
    from certwarden.sources.live import SERVICES

    named = [s for services in _live_rows((ROOT / "docs" / "live.md").read_text(encoding="utf-8")) for s in services]
    assert sorted(named) == sorted(SERVICES)


def test_live_rules_column_edited_by_hand_or_a_new_recipe_is_stale(tmp_path):
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    shutil.copytree(ROOT / "fixtures", tmp_path / "fixtures")
    live = tmp_path / "docs" / "live.md"
    committed = live.read_text(encoding="utf-8")
    live.write_text(committed.replace("| `cloudhsm_cluster` | CW701 |", "| `cloudhsm_cluster` | CW701, CW702 |"))
    assert docs.stale(tmp_path) == ["docs/live.md"]
    live.write_text(committed)
    (tmp_path / "fixtures" / "CW701" / "live_fail_kms.yaml").write_text(
        "services: [cloudhsmv2, kms]\nsteps: []\nexpect: [{resource: x}]\n")
    assert docs.stale(tmp_path) == ["docs/live.md"]
    assert _live_rows(docs.live_page(tmp_path))["kms",] == "CW101-CW104, CW106-CW108, CW701-CW703, CW802"


def test_codes_in_runs_of_three_or_more_read_as_ranges():
    assert docs._code_list({"CW101", "CW102", "CW103", "CW106", "CW107", "CW702"}) == "CW101-CW103, CW106, CW107, CW702"
    assert docs._code_list(set()) == "-"
