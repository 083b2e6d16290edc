"""What could not be read: an input the scan went on without (InputError), a bug while
reading one input (InternalError), a cache directory refused (CacheError). The lowest layer:
every source reports through it, and it imports nothing of the scanner's."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator


@dataclass
class InputError:
    """A file (or a live service/region, or one resource of it) that could not be read; the scan
    went on without it. `unread` is False for problems that leave nothing unread (a link not
    followed by design, a suppression not applied): only unread input fails the run (exit 2)."""

    file: str
    message: str
    line: int = 0
    unread: bool = True

    def __str__(self) -> str:
        loc = f"{self.file}:{self.line}" if self.line else self.file
        return f"{loc}: {self.message}"


class InternalError(Exception):
    """An unexpected exception (a bug) while reading or judging one input, which it names.
    Picklable, so it comes back from a worker process as it was raised."""

    def __init__(self, file: str, detail: str):
        super().__init__(file, detail)
        self.file, self.detail = file, detail

    def __str__(self) -> str:
        return f"internal error while reading {self.file}: {self.detail}"


class CacheError(Exception):
    """A cache directory that must not be used; one line. Here, not in cache.py, so the CLI can
    catch it without importing the cache (hashing, temporary files) on runs that do not use one."""


@contextmanager
def reading(file: str) -> Iterator[None]:
    """Any exception inside (a bug) becomes an InternalError naming the file being read."""
    try:
        yield
    except InternalError:
        raise
    except Exception as exc:   # noqa: BLE001  the CLI reports it in one line, exit 2
        raise InternalError(file, f"{type(exc).__name__}: {exc}"[:300]) from exc
