"""The pre-commit case (one small template) pays only for what it uses: heavy modules are
imported when their input or option appears. Speed itself is measured by tests/perf/bench.py."""
from __future__ import annotations

import subprocess
import sys

from conftest import FIXTURES, ROOT

HEAVY = ("jsonschema", "tree_sitter", "hcl2", "lark", "concurrent.futures", "cryptography")
# Modules a run that does not ask for them must not pay for: a cache, --diff-base, TOML policies.
OPTIONAL = ("certwarden.cache", "certwarden.diffbase", "subprocess", "tempfile", "tomllib")
PROBE = ("import sys; from certwarden.cli import main; main(sys.argv[1:]); "
         "print(' '.join(m for m in %r if m in sys.modules))")


def imported_after(*argv, watched: tuple[str, ...] = HEAVY) -> set[str]:
    out = subprocess.run([sys.executable, "-c", PROBE % (watched,), *map(str, argv)], capture_output=True,
                         text=True, cwd=ROOT)
    return set(out.stdout.splitlines()[-1].split()) if out.stdout.strip() else set()


def test_a_cloudformation_scan_imports_no_validator_no_hcl_parser_no_pool_no_cryptography():
    assert imported_after("scan", FIXTURES / "CW101" / "cfn_pass.yaml", "-q", "--no-config") == set()


def test_the_hcl_parser_comes_with_terraform_input(tmp_path):
    (tmp_path / "main.tf").write_text('resource "aws_kms_key" "k" {}\n')
    assert imported_after("scan", tmp_path, "-q", "--no-config") == {"tree_sitter"}   # python-hcl2 never


def test_the_validator_comes_with_a_user_rules_dir(tmp_path):
    assert "jsonschema" in imported_after("scan", FIXTURES / "CW101" / "cfn_pass.yaml", "-q", "--no-config",
                                          "--rules-dir", tmp_path)


def test_cryptography_comes_with_certificate_material():
    assert "cryptography" in imported_after("scan", FIXTURES / "CW201", "-q", "--no-config")


def test_the_cache_git_and_toml_come_only_with_their_options(tmp_path):
    template = FIXTURES / "CW101" / "cfn_pass.yaml"
    assert imported_after("scan", template, "-q", "--no-config", watched=OPTIONAL) == set()
    assert "certwarden.cache" in imported_after("scan", template, "-q", "--no-config", "--cache", tmp_path / "c",
                                                watched=OPTIONAL)
