"""Reporters: findings in, text out. They know findings and rules, never formats or sources."""
from __future__ import annotations

LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "warning", "info": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}


from ..paths import relative_uri, repo_root  # noqa: F401  (re-exported for reporters)
from ..rulepack import DOCS_BASE  # noqa: F401

WA_SECTIONS = {1: "certificate management", 2: "key generation and storage", 3: "rotation",
               4: "CA management", 5: "monitoring and auditing", 6: "governance"}


def requirements(rule) -> list[str]:
    """The controls a rule checks, by name: SEC09-BP01 and its sections, then the Security Hub
    controls and AWS Config rules its refs name ("SH KMS.4", "CFG cmk-backing-key-rotation-enabled")."""
    names = ["AWS Well-Architected SEC09-BP01"]
    names += [f"AWS Well-Architected SEC09-BP01 {WA_SECTIONS[s]}" for s in rule.wa if s in WA_SECTIONS]
    for ref in rule.refs:
        head, _, rest = ref.partition(" ")
        names.append({"SH": "AWS Security Hub", "CFG": "AWS Config"}.get(head, head) + (f" {rest}" if rest else ""))
    return names


def root_of(result, root=None):
    """The folder report paths are relative to: the scanned files' repository (not the current
    directory's, which may be another one), or the current directory for a live scan."""
    return root or result.root or repo_root()


def place(finding, root) -> str:
    """Where a finding is, as people read it: the repository-relative file, else the ARN."""
    w = finding.where
    return relative_uri(w.file, root) if w.file else w.arn or ""


def rule_uri(rule) -> str:
    """The rule's page (SARIF leaves helpUri out for a user rule without one)."""
    return rule.help_uri or DOCS_BASE + rule.doc_path
