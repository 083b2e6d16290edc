"""Progress of a live scan: drawn on stderr when it is a terminal, never otherwise nor with --quiet."""
from __future__ import annotations

import io
import sys

import pytest

from test_live import REGION, client


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("tty, quiet, drawn", [(True, False, True), (True, True, False), (False, False, False)])
def test_progress_only_on_a_terminal_and_not_quiet(aws, monkeypatch, tty, quiet, drawn):
    from certwarden.cli import main

    client(aws, "kms").create_key()
    err = Terminal() if tty else io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    code = main(["live", "--endpoint-url", aws, "--region", f"{REGION},us-east-2", "--no-config", "--service",
                 "kms,iam", "--select", "CW101", *(["--quiet"] if quiet else [])])
    assert code == 1
    shown = err.getvalue()
    assert ("service-regions" in shown) is drawn
    if drawn:   # the last frame: every job done, the one account, no error
        assert "accounts 1/1, errors 0" in shown and "3/3" in shown


def test_progress_counts_accounts_and_errors():
    from certwarden.progress import LiveProgress

    out = Terminal()
    jobs = [("111", "eu-west-1", "kms"), ("111", "us-east-1", "iam"), ("222", "eu-west-1", "kms")]
    with LiveProgress(out, jobs, accounts_failed=1) as progress:
        progress("111", None)
        progress("222", RuntimeError("denied"))
        assert progress._describe() == "accounts 1/2, errors 2"
        progress("111", None)
        assert progress._describe() == "accounts 2/2, errors 2"
