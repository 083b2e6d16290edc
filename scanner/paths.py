"""Where the repository is, and file paths relative to it (for SARIF URIs and fingerprints)."""
from __future__ import annotations

import os
from pathlib import Path


def git_root(start: str | None = None) -> Path | None:
    """The repository root above start (a .git entry), or None outside any repository."""
    here = Path(start or os.getcwd()).resolve()
    if here.is_file():
        here = here.parent
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def repo_root(start: str | None = None) -> Path:
    """The repository root above start (a .git entry), else the current directory."""
    return git_root(start) or Path(os.getcwd()).resolve()


def relative_uri(file: str, root: Path) -> str:
    """A path relative to the repository root, as a forward-slash URI reference. A place that is
    already a URI (a live service and region, aws://ACCOUNT/REGION/SERVICE) stays as it is."""
    if "://" in file:
        return file
    path = Path(file).resolve()
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_uri()
