"""The Lambda deployment package: certwarden and its dependencies as a zip, from wheels.

pip installs binary wheels for the chosen runtime and architecture (`--platform`,
`--python-version`, `--only-binary=:all:`), so the zip built on any machine runs on Lambda.
boto3 and botocore are left out: the Lambda Python runtime provides them (and s3transfer,
jmespath, python-dateutil, urllib3, six with them). certwarden's own wheel is built from the
source tree certwarden runs from (it is not published on a package index).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from .. import __version__

# What the Lambda runtime provides (boto3 and what it depends on).
FROM_RUNTIME = {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "urllib3", "six"}
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
FIXED_TIME = (1980, 1, 1, 0, 0, 0)   # zip entries carry no build time: the same inputs, the same zip


class PackageError(Exception):
    """The package could not be built (one line: what pip said last)."""


@dataclass
class Built:
    path: Path
    size: int        # bytes of the zip
    unpacked: int    # bytes once extracted (Lambda allows 250 MB)
    files: int


def _name(requirement: str) -> str:
    return re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def dependencies() -> list[str]:
    """certwarden's requirements (no extras), less what the runtime provides."""
    try:
        requires = metadata.requires("certwarden") or []
    except metadata.PackageNotFoundError:
        raise PackageError("certwarden is not installed as a distribution (pip install certwarden)") from None
    return [r.split(";")[0].strip() for r in requires
            if "extra ==" not in r and _name(r) not in FROM_RUNTIME]


def _source_tree() -> Path | None:
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() and (root / "scanner").is_dir() else None


def _pip(*args: str) -> None:
    run = subprocess.run([sys.executable, "-m", "pip", *args, "--disable-pip-version-check", "-q"],
                         capture_output=True, text=True)
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or [f"pip exited {run.returncode}"])[-1]
        raise PackageError(f"pip {args[0]}: {last}")


def _own_wheel(into: Path) -> Path:
    root = _source_tree()
    if root is None:   # certwarden is not on a package index: its wheel is built from a clone
        raise PackageError(f"certwarden {__version__} is not installed from its source tree; run "
                           "certwarden schedule --package from a clone of the repository (pip install -e .)")
    _pip("wheel", "--no-deps", "-w", str(into), str(root))
    wheels = sorted(into.glob("certwarden-*.whl"))
    if not wheels:
        raise PackageError("no certwarden wheel was built")
    return wheels[-1]


def build(out: Path, runtime: str = "python3.12", architecture: str = "arm64") -> Built:
    """Write the zip to `out` for `runtime` (python3.X) on `architecture` (arm64, x86_64)."""
    if architecture not in PLATFORMS or not re.fullmatch(r"python3\.\d+", runtime):
        raise PackageError(f"no Lambda package for {runtime} on {architecture}")
    target = ["--platform", PLATFORMS[architecture], "--python-version", runtime.removeprefix("python"),
              "--implementation", "cp", "--only-binary=:all:", "--no-compile"]
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        wheel = _own_wheel(Path(tmp) / "wheels")
        _pip("install", "--target", str(site), *target, "--no-deps", str(wheel))
        _pip("install", "--target", str(site), *target, *dependencies())
        leaked = sorted(p.name for p in site.iterdir() if p.name.split("-")[0].lower() in {"boto3", "botocore"})
        if leaked:   # a dependency that pulls boto3 in would hide the runtime's own, older or newer
            raise PackageError(f"boto3 is the runtime's, yet {', '.join(leaked)} was installed")
        return _zip(site, out)


def _zip(site: Path, out: Path) -> Built:
    files = sorted(p for p in site.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                   and p.parent.name != "bin")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    unpacked = 0
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(site).as_posix(), FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            data = path.read_bytes()
            unpacked += len(data)
            zf.writestr(info, data)
    os.replace(tmp, out)
    return Built(out, out.stat().st_size, unpacked, len(files))
