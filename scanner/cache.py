"""--cache DIR: the graphs read from each unit, stored under a hash of its content.

Graphs are cached rather than findings because running the rules is cheap next to parsing, and
the rules depend on things a content hash does not see (the rule pack, --now, settings); so a
cached unit always yields exactly the findings a fresh read would. The key also covers the
scanner's own code, so an upgrade never reads entries written by another version.

Entries are pickles: the cache directory must be as trusted as the scanner itself (in CI, a
cache written by the same pipeline), since loading a pickle can run code.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from functools import lru_cache
from pathlib import Path

from .findings import InputError
from .model import Graph
from .sources.files import ReadError, read_bytes
from .units import Unit, read_unit


@lru_cache(maxsize=1)
def code_fingerprint() -> bytes:
    """Hash of the scanner's source files: adapters and model changes invalidate the cache."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.digest()


class Cache:
    def __init__(self, directory: str):
        self.dir = Path(directory)
        self.hits = self.misses = 0

    def key(self, unit: Unit) -> str | None:
        """The content key of a unit, or None when it should not be cached (too big, unreadable,
        or depending on files outside it)."""
        members = unit.members()
        if members is None:
            return None
        digest = hashlib.sha256(code_fingerprint())
        digest.update(f"{unit.kind}\0{unit.path}\0{unit.explicit}\0{unit.roots}\0".encode())
        for member in members:
            try:   # as the reader reads it: a file it refuses (too big, a FIFO, outside the roots) is not hashed
                data = read_bytes(member, roots=unit.roots or None)
            except ReadError:
                return None
            digest.update(member.encode() + b"\0" + hashlib.sha256(data).digest())
        return digest.hexdigest()

    def read(self, unit: Unit) -> tuple[list[Graph], list[InputError], list[str]]:
        key = self.key(unit)
        if key is None:
            return read_unit(unit)
        entry = self.dir / key[:2] / key
        try:
            with open(entry, "rb") as fh:
                cached = pickle.load(fh)
            self.hits += 1
            return cached
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
            pass   # absent or unreadable: read the unit and (re)write the entry
        self.misses += 1
        outcome = read_unit(unit)
        self._write(entry, outcome)
        return outcome

    @staticmethod
    def _write(entry: Path, outcome) -> None:
        """Written to a temporary file and renamed, so parallel workers never see half an entry."""
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(outcome, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, entry)
        except (OSError, pickle.PicklingError, TypeError, RecursionError):   # TypeError: an unpicklable value
            pass   # a cache that cannot be written only costs time
