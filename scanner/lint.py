"""cfn-lint on the CloudFormation templates `fix` and `remediate` write, when the optional extra
certwarden[lint] (cfn-lint) is installed: a fix that would add a cfn-lint error is declined, and
a remediation stack with one is not written, rather than a template that fails to deploy."""
from __future__ import annotations

from collections import Counter

REGIONS = ("us-east-1",)
NOT_LINTED = "were not linted (install certwarden[lint] to check them with cfn-lint)"


def available() -> bool:
    try:
        import cfnlint.api  # noqa: F401
    except ImportError:
        return False
    return True


def errors(text: str) -> list[tuple[str, str, tuple]]:
    """cfn-lint's errors (not warnings) of a template's text: (rule id, message, path)."""
    from cfnlint.api import ManualArgs, lint

    matches = lint(text, config=ManualArgs(regions=list(REGIONS)))
    return [(m.rule.id, m.message, tuple(getattr(m, "path", None) or ())) for m in matches
            if m.rule.id.startswith("E")]


def added(before: str, after: str) -> list[tuple[str, str]]:
    """The errors `after` has that `before` did not (same rule at the same path counts once each):
    (rule id, message)."""
    old = Counter((code, path) for code, _, path in errors(before))
    out = []
    for code, message, path in errors(after):
        if old[code, path]:
            old[code, path] -= 1
        else:
            out.append((code, message))
    return out
