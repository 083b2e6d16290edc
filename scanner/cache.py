"""--cache DIR: the graphs read from each unit, stored under a hash of its content.

Graphs are cached rather than findings because running the rules is cheap next to parsing, and
the rules depend on things a content hash does not see (the rule pack, --now, settings); so a
cached unit always yields exactly the findings a fresh read would. The key also covers the
scanner's own code, so an upgrade never reads entries written by another version.

The cache's contents are not trusted. Entries are data only (tagged JSON, `graphjson`: reading
one cannot run code), and each carries an HMAC keyed by a random secret made with the directory
(`DIR/secret`, mode 0600): an entry that fails it, or does not decode, is ignored and the unit
read again. A directory inside the scanned tree is refused, since the code under scan could
then write both the secret and the entries.
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import stat
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .errors import CacheError, InputError
from .model import Graph
from .paths import git_root
from .sources.files import ReadError, read_bytes

if TYPE_CHECKING:
    from .sources.units import Unit

Outcome = tuple[list[Graph], list[InputError], list[str]]   # what a unit reads as

SECRET = "secret"
MAC_BYTES = 32                      # HMAC-SHA256
MAX_ENTRY_BYTES = 256 * 1024 * 1024   # a unit's graphs are a few times its source (at most 512 KiB a file)
_OPEN_ENTRY = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)   # never a FIFO's wait


@lru_cache(maxsize=1)
def code_fingerprint() -> bytes:
    """Hash of the scanner's source files: adapters and model changes invalidate the cache."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.digest()


def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


def prepare(directory: str, paths: list[str]) -> None:
    """Refuse a cache inside a directory scanned or the repository holding a path scanned, and
    make the directory and its secret: in the main process, before any worker reads it."""
    cache = os.path.realpath(directory)
    roots = {os.path.realpath(p) for p in paths if os.path.isdir(p)}
    roots.update(str(repo) for p in paths if (repo := git_root(p)) is not None)
    for root in sorted(roots, key=len, reverse=True):   # name the nearest
        if _inside(cache, root):
            raise CacheError(f"--cache {directory} is inside the scanned tree {root}, whose files could "
                             "plant entries: keep the cache outside it (e.g. ~/.cache/certwarden)")
    _secret(Path(directory))


def _secret(directory: Path) -> bytes:
    """The directory's secret, made (random, 0600) when it is not there yet."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise CacheError(f"--cache {directory}: cannot create the directory: {exc.strerror}") from None
    return _read_secret(directory / SECRET) or _new_secret(directory / SECRET)


def _read_file(path: Path, limit: int) -> tuple[bytes, os.stat_result] | None:
    """A regular file of at most `limit` bytes, not through a link, and its status; else None."""
    try:
        fd = os.open(path, _OPEN_ENTRY)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        return fh.read(limit + 1), st


def _read_secret(path: Path) -> bytes | None:
    """The secret, or None when it is absent or unfit: not a regular file only we can read."""
    read = _read_file(path, MAC_BYTES)
    if read is None:
        return None
    key, st = read
    private = not st.st_mode & 0o077 and st.st_uid == os.geteuid()
    return key if private and len(key) == MAC_BYTES else None


def _new_secret(path: Path) -> bytes:
    """Written whole under a temporary name, then linked: a parallel run sees all of it or none.
    An unfit secret is replaced, so every entry made with it fails authentication."""
    key, tmp = secrets.token_bytes(MAC_BYTES), ""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")   # mode 0600
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        try:
            os.link(tmp, path)
        except FileExistsError:
            theirs = _read_secret(path)
            if theirs is not None:   # a parallel run made it first
                return theirs
            os.replace(tmp, path)
    except OSError as exc:
        raise CacheError(f"{path}: cannot create the cache's secret: {exc.strerror}") from None
    finally:
        if tmp:
            with contextlib.suppress(OSError):   # gone when it replaced an unfit secret
                os.unlink(tmp)
    return key


class Cache:
    """The graphs of units read by `read` (sources.units.read_unit), kept under their content key."""

    def __init__(self, directory: str, read: Callable[[Unit], Outcome] | None = None):
        self.dir, self.reader = Path(directory), read
        self.secret = _secret(self.dir)
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

    def _mac(self, key: str, payload: bytes) -> bytes:
        # The key is signed with the payload: an entry moved under another unit's name fails.
        return hmac.new(self.secret, key.encode() + b"\0" + payload, hashlib.sha256).digest()

    def read(self, unit: Unit) -> Outcome:
        key = self.key(unit)
        if key is None:
            return self.reader(unit)
        entry = self.dir / key[:2] / key
        cached = self._load(entry, key)
        if cached is not None:
            self.hits += 1
            return cached
        self.misses += 1
        outcome = self.reader(unit)
        self._write(entry, key, outcome)
        return outcome

    def _load(self, entry: Path, key: str):
        """The entry's outcome, or None when it is absent, not ours (HMAC), or does not decode."""
        from . import graphjson

        read = _read_file(entry, MAX_ENTRY_BYTES)
        if read is None:
            return None
        data = read[0]
        mac, payload = data[:MAC_BYTES], data[MAC_BYTES:]
        if not hmac.compare_digest(mac, self._mac(key, payload)):
            return None
        try:
            graphs, errors, notices = graphjson.loads(payload)
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return None
        return graphs, errors, notices

    def _write(self, entry: Path, key: str, outcome) -> None:
        """Written to a temporary file and renamed, so parallel workers never see half an entry."""
        from . import graphjson

        try:
            payload = graphjson.dumps(outcome)
        except (TypeError, ValueError, RecursionError):   # a value graphjson does not store
            return
        try:
            entry.parent.mkdir(mode=0o700, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(self._mac(key, payload) + payload)
            os.replace(tmp, entry)
        except OSError:
            pass   # a cache that cannot be written only costs time
