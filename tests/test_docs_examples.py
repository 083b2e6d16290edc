"""The examples in the user docs are real: they load, validate and find what the docs say."""
from __future__ import annotations

import re
import tomllib

import pytest
import yaml

from conftest import ROOT
from fixture_support import expectations
from certwarden.config import validate
from certwarden.rulepack import load_rules

FILE_BLOCK = re.compile(r'```(\w+) title="([^"]+)"\n(.*?)```', re.S)


def blocks(doc: str) -> list[tuple[str, str, str]]:
    """(language, file name, body) of every fenced block the page names a file for."""
    return FILE_BLOCK.findall((ROOT / "docs" / doc).read_text(encoding="utf-8"))


def write_blocks(doc, tmp_path):
    for _, name, body in blocks(doc):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(body)


def test_user_rule_example_loads_and_fires_where_the_doc_says(tmp_path, run_cli):
    write_blocks("writing-rules.md", tmp_path)
    rule = next(r for r in load_rules([str(tmp_path / "acme-rules")]) if r.code == "ACME001")
    assert rule.params == {"approved_key_specs": ["SYMMETRIC_DEFAULT", "RSA_4096", "ECC_NIST_P384"]}
    code, out, _ = run_cli("scan", "infra/", "--rules-dir", "acme-rules/", "--select", "ACME001", "--no-config",
                           cwd=tmp_path)
    doc = (ROOT / "docs" / "writing-rules.md").read_text(encoding="utf-8")
    shown = re.search(r"```text\n(infra/keys.yaml\n.*?)```", doc, re.S).group(1)
    assert (code, out) == (1, shown)
    # The template's own `# ruleid:` annotation agrees, through the fixture machinery.
    _, out, _ = run_cli("scan", "infra/", "--rules-dir", "acme-rules/", "--select", "ACME001", "--no-config",
                        "-o", "json", cwd=tmp_path)
    got = {(f["code"], f["resource"], f["file"].rsplit("/", 1)[-1], f["line"]) for f in yaml.safe_load(out)["findings"]}
    assert got == expectations(tmp_path / "infra" / "keys.yaml")


def test_user_rule_params_are_configurable(tmp_path, run_cli):
    write_blocks("writing-rules.md", tmp_path)
    (tmp_path / ".certwarden.yaml").write_text("rules: {ACME001: {approved_key_specs: [RSA_2048, SYMMETRIC_DEFAULT]}}\n")
    args = ("scan", "infra/", "--rules-dir", "acme-rules/", "--select", "ACME001")
    assert run_cli(*args, cwd=tmp_path)[0] == 0
    (tmp_path / ".certwarden.yaml").write_text("rules: {ACME001: {approved_key_spec: [RSA_2048]}}\n")
    code, _, err = run_cli(*args, cwd=tmp_path)
    assert code == 2 and "rules.ACME001.approved_key_spec: unknown key (allowed: enabled, severity, approved_key_specs)" in err


@pytest.mark.parametrize("lang,name,body", blocks("configuration.md"), ids=lambda v: str(v)[:30])
def test_configuration_examples_are_valid(lang, name, body, rules):
    data = tomllib.loads(body)["tool"]["certwarden"] if lang == "toml" else yaml.safe_load(body)
    validate(data, rules, name)


def test_configuration_doc_shows_blocks_of_both_forms():
    assert {(lang, name) for lang, name, _ in blocks("configuration.md")} == {
        ("yaml", ".certwarden.yaml"), ("toml", "pyproject.toml"), ("yaml", "scanner/profiles/sec09-bp01.yaml")}


def test_readme_policy_example_is_valid(rules):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    body = re.search(r"```yaml\n# \.certwarden\.yaml\n(.*?)```", readme, re.S).group(1)
    validate(yaml.safe_load(body), rules, "README.md")


def test_configuration_shows_the_shipped_profiles_as_they_ship():
    from certwarden.config import builtin_text

    shown = {name: body for _, name, body in blocks("configuration.md")}
    assert shown["scanner/profiles/sec09-bp01.yaml"] == builtin_text("sec09-bp01")
