"""Reporters: findings in, text out. They know findings and rules, never formats or sources."""
from __future__ import annotations

import os
from pathlib import Path

LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "warning", "info": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
DOCS_BASE = "https://github.com/certwarden/certwarden/blob/main/"


def repo_root(start: str | None = None) -> Path:
    """The repository root above start (a .git entry), else the current directory."""
    here = Path(start or os.getcwd()).resolve()
    if here.is_file():
        here = here.parent
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists():
            return candidate
    return Path(os.getcwd()).resolve()


def relative_uri(file: str, root: Path) -> str:
    """A path relative to the repository root, as a forward-slash URI reference."""
    path = Path(file).resolve()
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_uri()
