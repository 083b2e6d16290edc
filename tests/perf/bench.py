#!/usr/bin/env python3
"""Benchmark: certwarden against the parse floor (and, with --peers, Checkov and cfn-lint).

    python tests/perf/bench.py [--corpus DIR] [--repeat 3] [--peers] [--parts cfn,tf,all,flat,sarif]

Every figure is the median of --repeat runs, each in a fresh subprocess (interpreter start
included): wall time, and peak memory of the whole process tree (workers included) as PSS, so
pages a forked worker shares with its parent count once. The machine
is shared, so absolute figures drift: compare the ratios, which come from the same run.

The parse floor loads the same files as the scan with the fastest parser there is (json, the
PyYAML C loader, python-hcl2) and does nothing else. Peers are installed on request into their
own venv (--peers-venv), never as project dependencies.

The `flat` part scans 1, 2 and 4 copies of the whole corpus: peak memory should not grow with
the number of files (units are streamed; only findings are kept).

The `sarif` part writes many findings: 500 templates of 60 keys without rotation (60,000
findings, each with a fix), as text and as SARIF, in the same run: SARIF's fixes and its
GitHub limits should cost little next to the scan (target: within 1.5x of text).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
SMALL = ROOT / "fixtures" / "CW101" / "cfn_pass.yaml"
PEERS = ("checkov", "cfn-lint")
PARSE_MODES = ("floor", "loader", "cfnlint")


# -- measuring a process tree --------------------------------------------------------------------
def _memory(pid: int) -> int:
    """Proportional memory (PSS) of one process, in bytes: pages shared with forked workers or
    other processes count once in total, not once per process."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _tree_memory(pid: int) -> int:
    """Memory of a process and all its descendants (Linux /proc)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += _memory(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            continue
    return total


def measure(cmd: list[str], cwd=None, env=None) -> tuple[float, int]:
    """(wall seconds, peak memory of the process tree in bytes, sampled every 10 ms)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.wait(0.01):
            peak = max(peak, _tree_memory(proc.pid))
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    proc.wait()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    return wall, peak


def median_of(repeat: int, cmd, **kw) -> tuple[float, int]:
    runs = [measure(cmd, **kw) for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), int(statistics.median(r[1] for r in runs))


# -- the files of each part, and parse-only runs (executed in a subprocess: `bench.py _parse`) ---
def part_files(corpus: Path, part: str) -> tuple[list[Path], list[str]]:
    """(files a scan reads in that part, scan roots); the same discovery as the scanner's."""
    from scanner.sources.files import CFN_EXTS, TF_EXTS, discover

    roots = [str(corpus / p) for p in (("cfn", "tf") if part == "all" else (part,))]
    found = discover(roots)
    files = [Path(f) for f in found.files if os.path.splitext(f)[1].lower() in CFN_EXTS]
    files += [Path(f) for fs in found.tf_dirs.values() for f in fs if os.path.splitext(f)[1].lower() in TF_EXTS]
    return sorted(files), roots


def parse_only(mode: str, files: list[str]) -> None:
    """Load each file and drop the result; errors are counted, not raised."""
    if mode == "floor":
        import json

        import hcl2
        import yaml

        def load(path):
            data = Path(path).read_bytes()
            if path.endswith(".tf"):
                return hcl2.loads(data.decode("utf-8", "replace"))
            if path.endswith(".json"):
                try:
                    return json.loads(data)
                except ValueError:
                    pass
            return list(yaml.load_all(data, Loader=yaml.CSafeLoader))
    elif mode == "loader":
        from scanner.sources.files import as_utf8, read_bytes
        from scanner.sources.loader import load_all

        def load(path):
            return load_all(as_utf8(read_bytes(path)))
    else:
        from cfnlint.decode import decode

        def load(path):
            return decode(path)
    failed = 0
    for path in files:
        if mode != "floor" and path.endswith(".tf"):
            continue
        try:
            load(path)
        except Exception:   # a parse error still cost its time; count it and go on
            failed += 1
    print(f"{len(files)} files, {failed} not parsed", file=sys.stderr)


# -- peers -----------------------------------------------------------------------------------------
def peers_venv(venv: Path) -> Path:
    bin_dir = venv / "bin"
    if not all((bin_dir / tool).exists() for tool in PEERS):
        print(f"installing {', '.join(PEERS)} into {venv} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(bin_dir / "pip"), "install", "-q", "checkov", "cfn-lint"], check=True)
    return bin_dir


def checkov_crashers(roots: list[str], files: list[Path]) -> list[Path]:
    """Rain module templates (a resource whose Type is `Fn::Rain::Module`): Checkov 3's
    CloudFormation runner raises on them, and with two frameworks it then waits forever."""
    return [f for f in files if f.suffix != ".tf" and b"Rain::Module" in f.read_bytes()]


def peer_commands(bin_dir: Path, part: str, roots: list[str], files: list[Path]) -> dict[str, list[str]]:
    frameworks = {"cfn": ["cloudformation"], "tf": ["terraform"], "all": ["cloudformation", "terraform"]}[part]
    checkov = [str(bin_dir / "checkov"), "--quiet", "--compact", "--skip-download", "-o", "json",
               "--framework", *frameworks]
    for root in roots:
        checkov += ["-d", root]
    for f in checkov_crashers(roots, files):   # --skip-path is a regex on the path below its -d root
        root = next(r for r in roots if f.is_relative_to(r))
        checkov += ["--skip-path", re.escape(str(f.relative_to(root)))]
    out = {"Checkov": checkov}
    if part == "cfn":
        templates = [str(f) for f in files if not str(f).endswith(".tf")]
        out["cfn-lint"] = [str(bin_dir / "cfn-lint"), "--format", "parseable", "--", *templates]
    return out


# -- memory against the number of files -----------------------------------------------------------
def flatness(corpus: Path, repeat: int, cw: list[str], env: dict) -> None:
    """Scan the corpus copied 1, 2 and 4 times: wall time should grow with the files, memory not."""
    first = {}
    with tempfile.TemporaryDirectory() as tmp:
        for copies in (1, 2, 4):
            for i in range(len(list(Path(tmp).iterdir())), copies):
                for part in ("cfn", "tf"):
                    shutil.copytree(corpus / part, Path(tmp) / f"copy{i}" / part, symlinks=True)
            for label, extra in (("", []), (" -j1", ["-j", "1"])):
                wall, rss = median_of(repeat, [*cw, "scan", tmp, "-o", "json=/dev/null", *extra], env=env)
                base = first.setdefault(label, (wall, rss))
                print(fmt_row(f"flat: certwarden scan{label}, corpus x{copies}", wall, rss, None,
                              f"{wall / base[0]:.2f}x the time, {rss / base[1]:.2f}x the memory of x1"))


# -- many findings: SARIF against text -------------------------------------------------------------
MANY_FILES, MANY_KEYS = 500, 60


def many_findings(repeat: int, cw: list[str], env: dict) -> None:
    """MANY_FILES templates of MANY_KEYS unrotated keys (CW101, with a fix, and CW107 each)."""
    body = "Resources:\n" + "".join(f"  Key{i}:\n    Type: AWS::KMS::Key\n    Properties:\n"
                                    f"      Description: key {i}\n      EnableKeyRotation: false\n"
                                    for i in range(MANY_KEYS))
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(MANY_FILES):
            (Path(tmp) / f"keys{n:03}.yaml").write_text(body)
        scan = [*cw, "scan", tmp, "--no-config", "--fail-on", "none"]
        text = median_of(repeat, [*scan, "-o", "text=/dev/null"], env=env)
        print(fmt_row(f"sarif: {MANY_FILES} files x {MANY_KEYS} keys, -o text", *text, None,
                      f"{MANY_FILES * MANY_KEYS * 2} findings"))
        out = Path(tmp) / "out.sarif"
        wall, rss = median_of(repeat, [*scan, "-o", f"sarif={out}"], env=env)
        size = out.stat().st_size
        import gzip

        packed = len(gzip.compress(out.read_bytes(), 6))
        print(fmt_row(f"sarif: {MANY_FILES} files x {MANY_KEYS} keys, -o sarif", wall, rss, None,
                      f"{wall / text[0]:.2f}x the time, {rss / text[1]:.2f}x the memory of text; "
                      f"{size / 2**20:.0f} MB, {packed / 2**20:.1f} MB gzipped"))


# -- the table -------------------------------------------------------------------------------------
def fmt_row(name: str, wall: float, rss: int, base: float | None, note: str = "") -> str:
    ratio = f"{wall / base:.2f}x" if base else ""
    return f"| {name} | {wall:.2f} s | {rss / 2**20:.0f} MiB | {ratio} | {note} |"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure; the median is shown")
    ap.add_argument("--parts", default="cfn,tf,all,flat,sarif")
    ap.add_argument("--peers", action="store_true", help="also time Checkov and cfn-lint (installs them)")
    ap.add_argument("--peer-repeat", type=int, default=1, help="runs per peer figure (they are slow)")
    ap.add_argument("--peers-venv", type=Path, default=Path(tempfile.gettempdir()) / "cw-peers")
    args = ap.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2

    py = sys.executable
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cw = [py, "-m", "scanner"]
    bin_dir = peers_venv(args.peers_venv) if args.peers else None
    me = str(Path(__file__).resolve())
    print(f"repeat={args.repeat}, cores={os.cpu_count()}, python {sys.version.split()[0]}\n")
    print("| run | wall | peak memory (PSS) | vs parse floor | note |\n|---|---|---|---|---|")
    ratios: list[str] = []
    for part in args.parts.split(","):
        if part == "flat":
            flatness(args.corpus, args.repeat, cw, env)
            continue
        if part == "sarif":
            many_findings(args.repeat, cw, env)
            continue
        files, roots = part_files(args.corpus, part)
        with tempfile.TemporaryDirectory() as tmp:
            listing = Path(tmp) / "files"
            listing.write_text("\n".join(map(str, files)))
            floor, floor_rss = median_of(args.repeat, [py, me, "_parse", "floor", str(listing)], env=env)
            print(fmt_row(f"**{part}** ({len(files)} files) parse floor", floor, floor_rss, floor,
                          "json / PyYAML CSafeLoader / python-hcl2, nothing else"))
            scan = [*cw, "scan", *roots, "-o", "json=/dev/null"]
            for label, extra in (("certwarden scan", []), ("certwarden scan -j1", ["-j", "1"])):
                wall, rss = median_of(args.repeat, scan + extra, env=env)
                print(fmt_row(f"{part}: {label}", wall, rss, floor))
                if not extra:
                    mine = (wall, rss)
            cache = Path(tmp) / "cache"
            subprocess.run(scan + ["--cache", str(cache)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wall, rss = median_of(args.repeat, scan + ["--cache", str(cache)], env=env)
            print(fmt_row(f"{part}: certwarden scan --cache (warm)", wall, rss, floor, "no file changed"))
            if part == "cfn":
                for mode, note in (("loader", "our loader: libyaml compose + positions, limits"),
                                   ("cfnlint", "cfnlint.decode.decode, with positions")):
                    wall, rss = median_of(args.repeat, [py, me, "_parse", mode, str(listing)], env=env)
                    print(fmt_row(f"{part}: parse step, {mode}", wall, rss, floor, note))
            if bin_dir:
                skipped = len(checkov_crashers(roots, files))
                for name, cmd in peer_commands(bin_dir, part, roots, files).items():
                    peer_wall, peer_rss = median_of(args.peer_repeat, cmd)
                    note = f"median of {args.peer_repeat}"
                    if name == "Checkov" and skipped:
                        note += f"; skips the {skipped} Rain module templates it crashes on"
                    print(fmt_row(f"{part}: {name}", peer_wall, peer_rss, floor, note))
                    ratios.append(f"{part}: {name} takes {peer_wall / mine[0]:.1f}x the time and "
                                  f"{peer_rss / mine[1]:.1f}x the memory of certwarden scan")
    print(fmt_row("startup: python -c pass", *median_of(args.repeat, [py, "-c", "pass"]), None, "interpreter alone"))
    print(fmt_row("startup: certwarden --version", *median_of(args.repeat, [*cw, "--version"], env=env), None))
    print(fmt_row("startup: certwarden scan (1 small file)",
                  *median_of(args.repeat, [*cw, "scan", str(SMALL)], env=env), None, "target < 0.35 s"))
    if bin_dir:
        print(fmt_row("startup: checkov -f (1 small file)", *median_of(
            args.peer_repeat, [str(bin_dir / "checkov"), "--quiet", "--skip-download", "-f", str(SMALL)]), None))
        print(fmt_row("startup: cfn-lint (1 small file)",
                      *median_of(args.peer_repeat, [str(bin_dir / "cfn-lint"), str(SMALL)]), None))
    if ratios:
        print("\n" + "\n".join(ratios))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "_parse" and sys.argv[2] in PARSE_MODES:
        parse_only(sys.argv[2], Path(sys.argv[3]).read_text().splitlines())
        sys.exit(0)
    sys.exit(main())
