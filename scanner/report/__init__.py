"""Reporters: findings in, text out. They know findings and rules, never formats or sources."""
from __future__ import annotations

LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "warning", "info": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
DOCS_BASE = "https://github.com/certwarden/certwarden/blob/main/"


from ..paths import relative_uri, repo_root  # noqa: F401  (re-exported for reporters)


def root_of(result, root=None):
    """The folder report paths are relative to: the scanned files' repository (not the current
    directory's, which may be another one), or the current directory for a live scan."""
    return root or result.root or repo_root()
