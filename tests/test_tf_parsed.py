"""A module called from several roots is parsed once per process, within a memory budget."""
from __future__ import annotations

import pytest

import certwarden.sources.terraform.parsed as kept
from conftest import FIXED_NOW
from certwarden.rulepack import load_rules, select
from certwarden.options import Options
from certwarden.scan import scan

MODULE = 'resource "aws_kms_key" "k" {\n  description = var.d\n}\nvariable "d" {}\n'


@pytest.fixture
def parses(monkeypatch):
    monkeypatch.setattr(kept, "_kept", type(kept._kept)())
    monkeypatch.setattr(kept, "_size", 0)
    calls = []
    real = kept._parse
    monkeypatch.setattr(kept, "_parse", lambda text, file: calls.append(file) or real(text, file))
    return calls


def test_a_shared_module_is_parsed_once_and_reported_once(tmp_path, parses):
    (tmp_path / "mod").mkdir()
    (tmp_path / "mod" / "main.tf").write_text(MODULE)
    (tmp_path / "mod" / "broken.tf").write_text("resource {\n")
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "main.tf").write_text(f'module "m" {{\n  source = "../mod"\n  d = "{name}"\n}}\n')
    result = scan([str(tmp_path)], select(load_rules(), ["CW101"], None), Options(now=FIXED_NOW, jobs=1))
    # Three callers, one place in the code: reported once, like the broken file's error.
    assert [f.resource for f in result.findings] == ["module.m.aws_kms_key.k"]
    assert [e.file for e in result.errors] == [str(tmp_path / "mod" / "broken.tf")]
    assert sorted(parses) == sorted([str(tmp_path / n / "main.tf") for n in "abc"]
                                    + [str(tmp_path / "mod" / "broken.tf"), str(tmp_path / "mod" / "main.tf")])


def test_kept_results_stay_within_the_budget(monkeypatch, parses):
    monkeypatch.setattr(kept, "BUDGET", 1000)
    text = 'locals {\n  a = "' + "x" * 300 + '"\n}\n'
    for i in range(10):
        kept.parse_kept(text, f"f{i}.tf")
    assert kept._size <= 1000
    assert len(kept._kept) == 3
    kept.parse_kept(text, "f9.tf")          # the newest is still kept
    assert len(parses) == 10


def test_suppression_comments_come_from_the_tree_kept(tmp_path, monkeypatch, parses):
    """The suppressions of a file just read are found in its kept tree: the file is parsed once."""
    import certwarden.sources.terraform.hcl as hcl

    trees = []
    real = hcl.parse_tree
    monkeypatch.setattr(kept, "parse_tree", lambda text: trees.append(text) or real(text))
    monkeypatch.setattr(hcl, "parse_tree", lambda text: trees.append(text) or real(text))
    (tmp_path / "main.tf").write_text(
        '# certwarden:ignore CW101 reason="rotated by the key custodian\'s runbook"\n'
        'resource "aws_kms_key" "k" {\n  enable_key_rotation = false\n}\n'
        'resource "aws_kms_key" "other" {\n  enable_key_rotation = false\n}\n')
    result = scan([str(tmp_path)], select(load_rules(), ["CW101"], None), Options(now=FIXED_NOW, jobs=1))
    assert [(f.resource, f.suppressed) for f in result.findings] == [("aws_kms_key.k", True),
                                                                                ("aws_kms_key.other", False)]
    assert len(trees) == 1 and parses == [str(tmp_path / "main.tf")]
