"""Writing a file the user named as an output (`-o FORMAT=PATH`, a baseline, remediation stacks).

The scanned tree is attacker input, and it is often the current directory: a committed symlink
named like the report (`certwarden.sarif -> ~/.bashrc`), or a committed directory link on the
way to it, would make the scan overwrite a file of the runner. So an output is never written
through a symlink: not the file itself, nor a directory of a relative path. Every writer of an
output goes through `write_output`.
"""
from __future__ import annotations

import errno
import os
from pathlib import Path

# O_NOFOLLOW makes the open itself refuse a link at the last component (no check-then-open race).
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class OutputError(Exception):
    """An output that cannot or must not be written; the message is one line naming the path."""


def _linked_directory(path: str) -> str | None:
    """The first directory of a relative path that is a symlink (absolute paths name the
    user's own directories, such as a system temp that may itself be a link)."""
    parts = Path(path).parts[:-1]
    if Path(path).is_absolute():
        return None
    for depth in range(1, len(parts) + 1):
        directory = os.path.join(*parts[:depth])
        if parts[depth - 1] not in (".", "..") and os.path.islink(directory):
            return directory
    return None


def write_output(path: str | os.PathLike, text: str | bytes) -> None:
    """Write `text` (UTF-8; bytes as they are) to `path`, created or truncated; OutputError if
    `path` or a directory on a relative path to it is a symlink, or the file cannot be written."""
    path = os.fspath(path)
    linked = _linked_directory(path)
    if linked is not None:
        raise OutputError(f"{path}: {linked} is a symbolic link; outputs are never written through one")
    try:
        fd = os.open(path, _FLAGS, 0o666)
    except OSError as exc:
        if exc.errno == errno.ELOOP or os.path.islink(path):
            raise OutputError(f"{path}: is a symbolic link; outputs are never written through one") from None
        raise OutputError(f"{path}: cannot write: {exc.strerror}") from None
    try:
        with (os.fdopen(fd, "wb") if isinstance(text, bytes) else os.fdopen(fd, "w", encoding="utf-8")) as fh:
            fh.write(text)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror}") from None
