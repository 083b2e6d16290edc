import os
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FIXTURES = ROOT / "fixtures"
# Time-dependent rules in fixtures are evaluated as of this instant.
FIXED_NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)

sys.path.insert(0, str(ROOT))


def needs_shared(*parts):
    """Skip when ../shared (corpus, peer cases) is absent: users clone only this repo."""
    path = SHARED.joinpath(*parts)
    return pytest.mark.skipif(not path.exists(), reason=f"{path} not present")


@pytest.fixture(scope="session")
def rules():
    from scanner.rulepack import load_rules
    return load_rules()


@pytest.fixture
def run_cli(capsys, monkeypatch):
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    from scanner.cli import main

    def run(*argv, cwd=None):
        if cwd is not None:
            monkeypatch.chdir(cwd)
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err
    return run
