"""Finding the files to scan, and reading them without trusting them."""
from __future__ import annotations

import codecs
import functools
import fnmatch
import os
import re
import stat
from dataclasses import dataclass, field

from ..errors import InputError

MAX_FILE_BYTES = 20 * 1024 * 1024   # a larger "template" is refused, not read
DEFAULT_EXCLUDES = (".git", ".hg", ".svn", ".terraform", "node_modules", ".venv", "venv",
                    "__pycache__", ".tox", ".mypy_cache", ".pytest_cache")

# Extensions whose files are read to see whether they hold a template (CloudFormation is found
# by content, so a .template, .txt or extension-less file counts as well as .yaml/.json).
CFN_EXTS = {".yaml", ".yml", ".json", ".template", ".cfn", ".txt", ""}
TF_EXTS = {".tf"}
TFVARS_EXTS = {".tfvars"}
PEM_EXTS = {".pem", ".crt", ".cer", ".der", ".key", ".p7b", ".cert"}


class ReadError(Exception):
    pass


@dataclass
class Found:
    """Files the scan will look at, by the source that reads them."""

    files: list[str] = field(default_factory=list)   # candidate template / material files
    tf_dirs: dict[str, list[str]] = field(default_factory=dict)   # module dir -> .tf files
    errors: list[InputError] = field(default_factory=list)
    # Real paths of the given directories and of the directories of the given files: the only
    # places any reader may open a file (see confinement).
    roots: list[str] = field(default_factory=list)


@functools.lru_cache(maxsize=64)
def _exclusion(patterns: tuple[str, ...]) -> tuple[tuple[str, ...], re.Pattern | None]:
    """A pattern matches a name, a path, or path components: as the path itself, its start, its
    end or a run of components inside it. A pattern without wildcards (the default excludes) is
    kept as "/pattern/", which "/path/" then holds; the globs make one regex."""
    literals, parts = [], []
    for pat in patterns:
        pat = pat.rstrip("/")
        if pat and not any(c in pat for c in "*?["):
            literals.append(f"/{pat}/")
            continue
        for form in (pat, pat + "/*", "*/" + pat, "*/" + pat + "/*"):
            parts.append(fnmatch.translate(form))
    return tuple(literals), re.compile("|".join(parts)) if parts else None


def _excluded(rel: str, name: str, patterns: tuple[str, ...], from_root: str | None = None) -> bool:
    """A glob matches the name, the path relative to the PATH given, or the path relative to
    the repository root (from_root), so `infra/legacy/*` works whichever folder is scanned."""
    literals, rx = _exclusion(patterns)
    for path in (name, rel) if from_root is None else (name, rel, from_root):
        wrapped = f"/{path}/"
        if any(lit in wrapped for lit in literals) or rx is not None and rx.match(path):
            return True
    return False


def _from_root(path: str, repo: str | None) -> str | None:
    """path relative to the repository root; None outside it (or without one)."""
    if repo is None:
        return None
    full = os.path.abspath(path)
    return os.path.relpath(full, repo) if _inside(full, repo) else None


def _inside(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:
        return False


def confinement(path: str, roots, *, afresh: bool = False) -> str | None:
    """Why `path` may not be opened, or None when it may: its real path (links resolved) must lie
    inside one of the scanned roots (real paths), and under none of the directories discovery
    always skips (.git holds the checkout's credentials; node_modules, .terraform, virtualenvs
    hold code nobody reviewed in this change). Every reader and the fix writer ask this; the
    writer afresh, without the directories resolved earlier in the process, so a directory
    swapped for a link since the scan read it cannot carry a write outside the roots."""
    real = os.path.realpath(path) if afresh else _realpath(path)
    for root in roots:
        if _inside(real, root):
            parts = os.path.relpath(real, root).split(os.sep)
            skipped = next((p for p in parts[:-1] if p in DEFAULT_EXCLUDES), None)
            return None if skipped is None else f"inside {skipped}/, which is never scanned"
    return "symbolic link leaves the scan root" if os.path.islink(path) else "outside the scan root"


def _realpath(path: str) -> str:
    """os.path.realpath, with each directory resolved once a process: realpath stats every
    component of the path, and a scan asks of hundreds of files in the same few directories."""
    head, tail = os.path.split(os.path.join(os.getcwd(), path))
    if tail in ("", ".", "..") or os.path.islink(path):
        return os.path.realpath(path)
    return os.path.join(_real_directory(head), tail)


def real_directory(path: str) -> str:
    """os.path.realpath of a directory, resolved once a process: for deciding what to read
    (module calls, loops), never for where to write (confinement(afresh=True) is for that)."""
    return _real_directory(os.path.join(os.getcwd(), path))


@functools.lru_cache(maxsize=1024)
def _real_directory(path: str) -> str:
    return os.path.realpath(path)


def refused(reason: str) -> str:
    """The one-line error of a file confinement refuses to read."""
    return f"{reason}, {'not followed' if reason.startswith('symbolic link') else 'not read'}"


def _add(found: Found, path: str, explicit: bool) -> None:
    ext = os.path.splitext(path)[1].lower()
    if ext in TF_EXTS:
        module = os.path.dirname(path) or "."
        if explicit:
            # A Terraform module is read whole: a changed file (as pre-commit passes it) brings
            # the other .tf files of its directory along.
            siblings = (os.path.join(os.path.dirname(path), n) for n in sorted(os.listdir(module)) if n.endswith(".tf"))
            found.tf_dirs[module] = [p for p in siblings if os.path.isfile(p)]
        else:
            found.tf_dirs.setdefault(module, []).append(path)
    elif explicit or ext in CFN_EXTS or ext in PEM_EXTS or ext in TFVARS_EXTS:
        if ext not in TFVARS_EXTS:   # tfvars are read with their module
            found.files.append(path)


def discover(paths: list[str], excludes: tuple[str, ...] = (), repo: str | None = None,
             force_exclude: bool = False) -> Found:
    """Walk the given files and directories; links are never followed out of a scan root.
    A PATH named explicitly is scanned even when an exclude matches it, unless force_exclude
    (pre-commit names every changed file, and the policy's excludes should still hold)."""
    found = Found()
    patterns = DEFAULT_EXCLUDES + tuple(p.removeprefix("./") for p in excludes)
    repo = os.path.abspath(repo) if repo is not None else None
    for given in paths:
        if not os.path.lexists(given):
            found.errors.append(InputError(given, "no such file or directory"))
            continue
        if force_exclude and _excluded(os.path.normpath(given), os.path.basename(os.path.normpath(given)),
                                       patterns, _from_root(given, repo)):
            continue
        if not os.path.isdir(given):
            if os.path.islink(given) and not os.path.exists(given):
                found.errors.append(InputError(given, "broken symbolic link"))
            else:
                found.roots.append(os.path.realpath(os.path.dirname(given) or "."))
                _add(found, given, explicit=True)
            continue
        root = os.path.realpath(given)
        found.roots.append(root)
        base = _from_root(given, repo)
        for dirpath, dirnames, filenames in os.walk(given, followlinks=False):
            rel_dir = os.path.relpath(dirpath, given)
            keep = []
            for d in sorted(dirnames):
                rel = os.path.normpath(os.path.join(rel_dir, d))
                full = os.path.join(dirpath, d)
                if _excluded(rel, d, patterns, base and os.path.normpath(os.path.join(base, rel))):
                    continue
                if os.path.islink(full):   # not followed: a loop or a way out of the root
                    found.errors.append(InputError(full, "symbolic link to a directory, not followed", unread=False))
                    continue
                keep.append(d)
            dirnames[:] = keep
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                rel = os.path.normpath(os.path.join(rel_dir, name))
                if _excluded(rel, name, patterns, base and os.path.normpath(os.path.join(base, rel))):
                    continue
                if os.path.islink(full):
                    target = os.path.realpath(full)
                    if not os.path.exists(target):
                        found.errors.append(InputError(full, "broken symbolic link", unread=False))
                        continue
                    reason = confinement(full, (root,))
                    if reason is not None:
                        found.errors.append(InputError(full, refused(reason), unread=False))
                        continue
                _add(found, full, explicit=False)
    return found


def open_regular(path: str):
    """A regular file, open for reading in binary; ReadError for anything else. A FIFO would block
    open() forever and a device would be read forever: the open is non-blocking and the open
    descriptor decides, so a file swapped for a FIFO after a stat cannot hang the scan either."""
    try:
        fh = open(path, "rb", opener=_nonblocking)
    except PermissionError:
        raise ReadError("permission denied") from None
    except OSError as exc:
        raise ReadError(exc.strerror or str(exc)) from None
    if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
        fh.close()
        raise ReadError("not a regular file")
    return fh


def _nonblocking(path: str, flags: int) -> int:
    return os.open(path, flags | getattr(os, "O_NONBLOCK", 0))


def read_bytes(path: str, limit: int = MAX_FILE_BYTES, roots=None) -> bytes:
    """The bytes of a regular file; with `roots`, only of one inside them (see confinement)."""
    if roots is not None and (reason := confinement(path, roots)) is not None:
        raise ReadError(refused(reason))
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise ReadError("not a regular file")
        size = st.st_size
        if size > limit:
            raise ReadError(f"file is {size // (1024 * 1024)} MiB, over the {limit // (1024 * 1024)} MiB limit")
        with open_regular(path) as fh:
            # read(n) allocates n bytes up front: ask for the size stat gave, not for the limit
            data = fh.read(size + 1)
            if len(data) > size:   # the file grew since stat
                data += fh.read(limit + 1 - len(data))
        if len(data) > limit:
            raise ReadError(f"file is over the {limit // (1024 * 1024)} MiB limit")
        return data
    except PermissionError:
        raise ReadError("permission denied") from None
    except OSError as exc:
        raise ReadError(exc.strerror or str(exc)) from None


def is_binary(data: bytes) -> bool:
    return b"\x00" in data[:8192] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


def as_utf8(data: bytes) -> bytes:
    """UTF-8 bytes of a text file (UTF-16 with a BOM is converted); ReadError otherwise."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise ReadError("invalid UTF-16 text") from None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReadError(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None
    return data[3:] if data.startswith(codecs.BOM_UTF8) else data
