#!/usr/bin/env python3
"""Benchmark: certwarden against the parse floor (and, with --peers, Checkov and cfn-lint).

    python tests/perf/bench.py [--corpus DIR] [--repeat 3] [--peers] [--parts cfn,tf,all,flat,sarif,layout,instr]
                               [--lark-base REV] [--instr-base REV]

Every figure is the median of --repeat runs, each in a fresh subprocess (interpreter start
included): wall time, and peak memory of the whole process tree (workers included) as PSS, so
pages a forked worker shares with its parent count once. The machine is shared, so absolute
figures drift: compare the ratios, which come from the same run. The runs a ratio compares (a
part's floor, scans and parse steps, the Lark-based scan; each pair of layout rows) alternate,
round by round, so a busy moment slows both sides alike.

Python runs as pip leaves it installed: with bytecode compiled. Each code tree is compiled into
a private cache (PYTHONPYCACHEPREFIX) before it is timed, whatever PYTHONDONTWRITEBYTECODE says,
so no figure includes compiling the scanner (about 0.07 s a run otherwise).

Wall time sits beside CPU time (the process tree's user + system, workers included): a second
core is not always free on a shared machine, and CPU is what the work costs.

The parse floor reads the same files as the scan with the fastest parser there is and does
nothing else: json, the PyYAML C loader with a constructor for CloudFormation's short-form tags
(`!Ref`, `!Sub`, ...; without it most templates fail to load and cost nothing), and for
Terraform the tree-sitter-hcl parse alone (what the scan parses with). Each floor prints how
many files it could not parse, so a floor that skips work shows it.

Terraform was read with python-hcl2's Lark parser until issue 15. The `tf` part also times that
scan, in the same run: the code of --lark-base (the last commit that parsed with Lark), taken
from git into a temporary directory and run with the same interpreter (python-hcl2 is a test
dependency), so the old path is measured as it was shipped, not as a reconstruction; and the
Lark parse alone (`hcl2.parses_to_tree`) as a parse step. Targets: the scan -j1 within 1.5x
of the tree-sitter floor, and under 0.5x of the Lark-based scan -j1.

Peers are installed on request into their own venv (--peers-venv), never as project
dependencies, at the versions in PEER_VERSIONS (printed). A peer run that crashes (a Python
traceback, or a signal) is reported as crashed and not timed: its time would cover part of the
files only.

The `flat` part scans 1, 2 and 4 copies of the whole corpus: peak memory should not grow with
the number of files (units are streamed; only findings are kept).

The `instr` part counts the instructions each -j1 scan and its floor execute (valgrind's
callgrind, when it is on PATH; about a minute a run, two at a time): unlike time, the count is
the same on every run however busy the machine is, so it shows a change of a few percent that
the noise of a shared machine hides. With --instr-base REV it counts that commit's scan too. It
is not time: the C parser retires more instructions a second than Python's own loop does, so a
scan's ratio of counts to its floor is lower than its ratio of CPU times.

The `sarif` part writes many findings: 500 templates of 60 keys without rotation (60,000
findings, each with a fix), as text and as SARIF, in the same run: SARIF's fixes and its
GitHub limits should cost little next to the scan (target: within 1.5x of text).
"""
from __future__ import annotations

import argparse
import atexit
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
SMALL = ROOT / "fixtures" / "CW101" / "cfn_pass.yaml"
PEERS = ("checkov", "cfn-lint")
PEER_VERSIONS = {"checkov": "3.3.30", "cfn-lint": "1.58.0"}
PARSE_MODES = ("floor", "loader", "cfnlint", "lark")
LARK_BASE = "5e982b18f02649f059f487e826ba483acd8549cc"   # the last commit reading Terraform with Lark
LAYOUT_BASE = "2b592fe0bedc127e15ce5ab79227b5054d7c9697"  # the tree before issue 11 moved it into per-format packages
SMALL_FILE = ROOT / "fixtures" / "CW101" / "cfn_fail.yaml"   # a pre-commit call: one file


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


class Run(NamedTuple):
    wall: float    # seconds
    peak: int      # bytes, the process tree's PSS at its highest
    cpu: float     # seconds, user + system of the process and the children it waited for
    crash: str     # "" or what killed it (a signal, the last line of a Python traceback)
    stderr: str    # its last lines


def _crash(code: int, err: str) -> str:
    if code < 0:
        return f"killed by signal {-code}"
    if "Traceback (most recent call last)" in err:
        last = [line for line in err.splitlines() if line.strip()][-1]
        return f"exit {code}, {last.strip()[:120]}"
    return ""


def measure(cmd: list[str], cwd=None, env=None) -> Run:
    """One run: wall time, peak memory of the process tree (sampled every 10 ms), CPU time (from
    the kernel's accounting of reaped children: one run at a time), and whether it crashed."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    err_file = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err_file)
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
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    err_file.seek(0)
    err = err_file.read()[-20000:].decode("utf-8", "replace")
    return Run(wall, peak, cpu, _crash(proc.returncode, err), err[-2000:])


def medians(repeat: int, jobs: list[tuple[list[str], dict]]) -> list[Run]:
    """The median of each figure of each command (cmd, measure's keywords); a crash in any run is
    the result's. The commands run in turn, a round of each, `repeat` rounds: a busy moment on a
    shared machine then slows every side of a comparison alike, not one row of it."""
    runs: list[list[Run]] = [[] for _ in jobs]
    for _ in range(repeat):
        for done, (cmd, kw) in zip(runs, jobs):
            done.append(measure(cmd, **kw))
    return [Run(statistics.median(r.wall for r in rs), int(statistics.median(r.peak for r in rs)),
                statistics.median(r.cpu for r in rs), next((r.crash for r in rs if r.crash), ""), rs[-1].stderr)
            for rs in runs]


def median_of(repeat: int, cmd, **kw) -> Run:
    return medians(repeat, [(cmd, kw)])[0]


def compiled(env: dict, cwd: str | None = None) -> dict:
    """env, with the certwarden it imports compiled to bytecode in the bench's private cache."""
    where = subprocess.run([sys.executable, "-c", "import certwarden, os; print(os.path.dirname(certwarden.__file__))"],
                           env=env, cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run([sys.executable, "-m", "compileall", "-q", where], env=env, check=True, stdout=subprocess.DEVNULL)
    return env


def bytecode_env() -> None:
    """Every run of the bench writes and reads bytecode in one temporary cache of its own."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = cache = tempfile.mkdtemp(prefix="cw-bench-pyc-")
    atexit.register(shutil.rmtree, cache, ignore_errors=True)


# -- the files of each part, and parse-only runs (executed in a subprocess: `bench.py _parse`) ---
def part_files(corpus: Path, part: str) -> tuple[list[Path], list[str]]:
    """(files a scan reads in that part, scan roots); the same discovery as the scanner's."""
    from certwarden.sources.files import CFN_EXTS, TF_EXTS, discover

    roots = [str(corpus / p) for p in (("cfn", "tf") if part == "all" else (part,))]
    found = discover(roots)
    files = [Path(f) for f in found.files if os.path.splitext(f)[1].lower() in CFN_EXTS]
    files += [Path(f) for fs in found.tf_dirs.values() for f in fs if os.path.splitext(f)[1].lower() in TF_EXTS]
    return sorted(files), roots


def parse_only(mode: str, files: list[str]) -> None:
    """Load each file and drop the result; errors are counted, not raised."""
    if mode == "floor":
        import json

        import tree_sitter_hcl
        import yaml
        from tree_sitter import Language, Parser

        hcl = Parser(Language(tree_sitter_hcl.language()))

        class Loader(yaml.CSafeLoader):
            """PyYAML's C loader, with CloudFormation's short-form tags as plain nodes."""

        def tagged(loader, suffix, node):
            if isinstance(node, yaml.MappingNode):
                return loader.construct_mapping(node)
            if isinstance(node, yaml.SequenceNode):
                return loader.construct_sequence(node)
            return loader.construct_scalar(node)
        yaml.add_multi_constructor("!", tagged, Loader=Loader)

        def load(path):
            data = Path(path).read_bytes()
            if path.endswith(".tf"):
                tree = hcl.parse(data)   # the tree-sitter parse alone
                if tree.root_node.has_error:
                    raise ValueError("not parsed")
                return tree
            if path.endswith(".json"):
                try:
                    return json.loads(data)
                except ValueError:
                    pass
            return list(yaml.load_all(data, Loader=Loader))
    elif mode == "loader":
        from certwarden.sources.files import as_utf8, read_bytes
        from certwarden.sources.loader import load_all

        def load(path):
            return load_all(as_utf8(read_bytes(path)))
    elif mode == "lark":
        import hcl2

        def load(path):
            return hcl2.parses_to_tree(Path(path).read_text(encoding="utf-8", errors="replace"))
    else:
        from cfnlint.decode import decode

        def load(path):
            return decode(path)
    failed = read = 0
    for path in files:
        if mode not in ("floor", "lark") and path.endswith(".tf") or mode == "lark" and not path.endswith(".tf"):
            continue
        read += 1
        try:
            load(path)
        except Exception:   # a parse error still cost its time; count it and go on
            failed += 1
    print(f"{read} files, {failed} not parsed", file=sys.stderr)


def parsed_note(run: Run) -> str:
    """`N files, M not parsed`, as the parse-only run printed it."""
    found = re.search(r"\d+ files, \d+ not parsed", run.stderr)
    return found.group(0) if found else "no count printed"


def tree_at(rev: str, into: Path, option: str) -> dict | None:
    """The environment that runs certwarden as of rev (extracted from git into `into`), or None
    when git cannot give it; option (--lark-base, ...) names where rev came from in errors."""
    tar = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True)
    if tar.returncode != 0:
        print(f"{option} {rev}: {tar.stderr.decode(errors='replace').strip()}", file=sys.stderr)
        return None
    into.mkdir()
    subprocess.run(["tar", "-x", "-C", str(into)], input=tar.stdout, check=True)
    (into / "pp").mkdir()
    (into / "pp" / "certwarden").symlink_to(into / "scanner")   # the import name, as the wheel has it
    env = {**os.environ, "PYTHONPATH": str(into / "pp")}
    where = subprocess.run([sys.executable, "-c", "import certwarden; print(certwarden.__file__)"], env=env,
                           cwd=str(into), capture_output=True, text=True).stdout.strip()
    if not where.startswith(str(into)):   # an install of certwarden took precedence: not the old code
        print(f"{option} {rev}: certwarden imports from {where}, not the extracted commit", file=sys.stderr)
        return None
    return compiled(env, cwd=str(into))


# -- peers -----------------------------------------------------------------------------------------
def peers_venv(venv: Path) -> Path:
    bin_dir = venv / "bin"
    if not all((bin_dir / tool).exists() for tool in PEERS):
        print(f"installing {', '.join(PEERS)} into {venv} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pins = [f"{tool}=={version}" for tool, version in PEER_VERSIONS.items()]
    subprocess.run([str(bin_dir / "pip"), "install", "-q", *pins], check=True)   # a no-op when they are there
    return bin_dir


def peer_versions(bin_dir: Path) -> str:
    got = subprocess.run([str(bin_dir / "pip"), "list", "--format=freeze"], capture_output=True, text=True).stdout
    return ", ".join(line.replace("==", " ") for line in got.splitlines() if line.split("==")[0].lower() in PEERS)


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
                run = median_of(repeat, [*cw, "scan", tmp, "-o", "json=/dev/null", *extra], env=env)
                base = first.setdefault(label, run)
                print(fmt_row(f"flat: certwarden scan{label}, corpus x{copies}", run, None,
                              f"{run.wall / base.wall:.2f}x the time, {run.peak / base.peak:.2f}x the memory of x1"))


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
        print(fmt_row(f"sarif: {MANY_FILES} files x {MANY_KEYS} keys, -o text", text, None,
                      f"{MANY_FILES * MANY_KEYS * 2} findings"))
        out = Path(tmp) / "out.sarif"
        sarif = median_of(repeat, [*scan, "-o", f"sarif={out}"], env=env)
        size = out.stat().st_size
        import gzip

        packed = len(gzip.compress(out.read_bytes(), 6))
        print(fmt_row(f"sarif: {MANY_FILES} files x {MANY_KEYS} keys, -o sarif", sarif, None,
                      f"{sarif.wall / text.wall:.2f}x the time, {sarif.peak / text.peak:.2f}x the memory of text; "
                      f"{size / 2**20:.0f} MB, {packed / 2**20:.1f} MB gzipped"))


# -- the layout of issue 11 against the tree before it ---------------------------------------------
def layout_against_base(args, cw: list[str], env: dict) -> list[str]:
    """One small file (the pre-commit case: start-up and lazy imports) and the CloudFormation
    corpus -j1, now and as of --layout-base, in the same run: the move must not slow either."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        base_env = tree_at(args.layout_base, Path(tmp) / "layout-base", "--layout-base")
        if base_env is None:
            return out
        for name, paths in (("one small file", [str(SMALL_FILE)]), ("cfn corpus -j1", [str(args.corpus / "cfn"), "-j", "1"])):
            cmd = [*cw, "scan", *paths, "--no-config", "-o", "json=/dev/null", "--fail-on", "none"]
            base, now = medians(args.repeat, [(cmd, {"env": base_env, "cwd": tmp}), (cmd, {"env": env})])
            print(fmt_row(f"layout: {name}, {args.layout_base[:7]}", base, base))
            print(fmt_row(f"layout: {name}, now", now, base, "against the row above"))
            out.append(f"layout: {name} {now.wall / base.wall:.2f}x the tree before issue 11 by wall, "
                       f"{now.cpu / base.cpu:.2f}x by CPU (target: no slowdown)")
    return out


# -- instructions executed -------------------------------------------------------------------------
def instructions(cmd: list[str], env: dict, cwd: str | None = None) -> int | None:
    """Instructions the process executed, by callgrind (the same count on every run)."""
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
                          env={**env, "PYTHONHASHSEED": "0"},   # string hashes, and so set orders, fixed
                          cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    return int(found.group(1)) if found and done.returncode >= 0 else None   # 1 and 2 are findings and input errors


def instruction_counts(args, cw: list[str], env: dict) -> list[str]:
    """The cfn and tf parts' floors and -j1 scans (and the scan as of --instr-base) by
    instructions executed; the table's rows."""
    if shutil.which("valgrind") is None:
        return ["| instr | valgrind is not on PATH: no counts |  |  |"]
    py, me = sys.executable, str(Path(__file__).resolve())
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base_env = tree_at(args.instr_base, Path(tmp) / "instr-base", "--instr-base") if args.instr_base else None
        jobs = {}
        for part in ("cfn", "tf"):
            files, roots = part_files(args.corpus, part)
            listing = Path(tmp) / f"{part}-files"
            listing.write_text("\n".join(map(str, files)))
            scan = [*cw, "scan", *roots, "-j", "1", "-q", "--no-config", "-o", "json=/dev/null", "--fail-on", "none"]
            jobs[part, "floor"] = ([py, me, "_parse", "floor", str(listing)], env, None)
            jobs[part, "scan"] = (scan, env, None)
            if base_env is not None:
                jobs[part, "base"] = (scan, base_env, tmp)
        small = [*cw, "scan", str(SMALL_FILE), "--no-config", "-o", "json=/dev/null", "--fail-on", "none"]
        jobs["small", "scan"] = (small, env, None)
        if base_env is not None:
            jobs["small", "base"] = (small, base_env, tmp)
        with ThreadPoolExecutor(max(1, min(2, os.cpu_count() or 1))) as pool:
            counts = dict(zip(jobs, pool.map(lambda job: instructions(*job), jobs.values())))
    for part in ("cfn", "tf"):
        floor, scan, base = counts[part, "floor"], counts[part, "scan"], counts.get((part, "base"))
        if not floor or not scan:
            rows.append(f"| {part} | not counted (valgrind failed) |  |  |")
            continue
        rows.append(f"| {part}: parse floor | {floor / 1e9:.2f} G | 1.00x |  |")
        rows.append(f"| {part}: certwarden scan -j1 | {scan / 1e9:.2f} G | {scan / floor:.2f}x |"
                    + (f" {scan / base:.3f}x |" if base else "  |"))
        if base:
            rows.append(f"| {part}: scan -j1 as of {args.instr_base[:7]} | {base / 1e9:.2f} G | {base / floor:.2f}x | 1.000x |")
    small, base = counts["small", "scan"], counts.get(("small", "base"))
    if small:
        rows.append(f"| one small file: certwarden scan | {small / 1e9:.3f} G |  |" + (f" {small / base:.3f}x |" if base else "  |"))
    return rows


# -- the table -------------------------------------------------------------------------------------
def lark_jobs(args, scan: list[str], listing: Path, tmp: Path) -> dict[str, tuple[list[str], dict]]:
    """The Lark parse alone, and the Lark-based scan -j1 as of --lark-base: timed in the same
    rounds as the tree-sitter floor and scan they are compared with."""
    py, me = sys.executable, str(Path(__file__).resolve())
    jobs = {"lark": ([py, me, "_parse", "lark", str(listing)], {"env": {**os.environ, "PYTHONPATH": str(ROOT)}})}
    base_env = tree_at(args.lark_base, tmp / "lark-base", "--lark-base") if args.lark_base else None
    if base_env is not None:
        jobs["old"] = (scan + ["-j", "1"], {"env": base_env, "cwd": str(tmp)})
    return jobs


def tf_against_lark(args, floor: Run, serial: Run, got: dict[str, Run]) -> list[str]:
    """The rows of the Lark parse and the Lark-based scan, and the two targets."""
    lark = got["lark"]
    print(fmt_row("tf: parse step, Lark", lark, floor, f"hcl2.parses_to_tree alone; {parsed_note(lark)}"))
    out = [f"tf: scan -j1 {serial.wall / floor.wall:.2f}x the tree-sitter parse floor by wall, "
           f"{serial.cpu / floor.cpu:.2f}x by CPU (target <= 1.5x)"]
    if "old" in got:
        old = got["old"]
        print(fmt_row(f"tf: Lark-based scan -j1 ({args.lark_base[:7]})", old, floor, "python-hcl2's Lark parse"))
        out.append(f"tf: scan -j1 {serial.wall / old.wall:.2f}x the Lark-based scan -j1 by wall, "
                   f"{serial.cpu / old.cpu:.2f}x by CPU (target < 0.5x)")
    return out


CFN_PARSERS = {"loader": "our loader: libyaml compose + positions, limits",
               "cfnlint": "cfnlint.decode.decode, with positions"}


def fmt_row(name: str, run: Run, base: Run | None, note: str = "") -> str:
    """One line of the table; a crashed run has no time, only what killed it."""
    if run.crash:
        return f"| {name} | crashed | | {run.peak / 2**20:.0f} MiB | | {run.crash}{'; ' + note if note else ''} |"
    ratio = f"{run.wall / base.wall:.2f}x / {run.cpu / base.cpu:.2f}x" if base else ""
    return f"| {name} | {run.wall:.2f} s | {run.cpu:.2f} s | {run.peak / 2**20:.0f} MiB | {ratio} | {note} |"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure; the median is shown")
    ap.add_argument("--parts", default="cfn,tf,all,flat,sarif")
    ap.add_argument("--peers", action="store_true", help="also time Checkov and cfn-lint (installs them)")
    ap.add_argument("--peer-repeat", type=int, default=1, help="runs per peer figure (they are slow)")
    ap.add_argument("--peers-venv", type=Path, default=Path(tempfile.gettempdir()) / "cw-peers")
    ap.add_argument("--lark-base", default=LARK_BASE, help="the commit whose Lark-based Terraform scan the tf part "
                    "also times ('' to skip)")
    ap.add_argument("--layout-base", default=LAYOUT_BASE, help="the commit the layout part compares with")
    ap.add_argument("--instr-base", default="", help="a commit whose scans the instr part counts too")
    args = ap.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2

    py = sys.executable
    bytecode_env()
    env = compiled({**os.environ, "PYTHONPATH": str(ROOT)})
    cw = [py, "-m", "certwarden"]
    bin_dir = peers_venv(args.peers_venv) if args.peers else None
    me = str(Path(__file__).resolve())
    print(f"repeat={args.repeat}, cores={os.cpu_count()}, python {sys.version.split()[0]}"
          + (f"; peers: {peer_versions(bin_dir)}" if bin_dir else "") + "\n")
    print("| run | wall | CPU | peak memory (PSS) | vs parse floor (wall / CPU) | note |\n|---|---|---|---|---|---|")
    ratios: list[str] = []
    counted: list[str] = []
    for part in args.parts.split(","):
        if part == "flat":
            flatness(args.corpus, args.repeat, cw, env)
            continue
        if part == "sarif":
            many_findings(args.repeat, cw, env)
            continue
        if part == "layout":
            ratios += layout_against_base(args, cw, env)
            continue
        if part == "instr":
            counted = instruction_counts(args, cw, env)
            continue
        files, roots = part_files(args.corpus, part)
        with tempfile.TemporaryDirectory() as tmp:
            listing = Path(tmp) / "files"
            listing.write_text("\n".join(map(str, files)))
            scan = [*cw, "scan", *roots, "-o", "json=/dev/null"]
            cache = Path(tmp) / "cache"
            subprocess.run(scan + ["--cache", str(cache)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            jobs = {"floor": ([py, me, "_parse", "floor", str(listing)], {"env": env}),
                    "scan": (scan, {"env": env}), "serial": (scan + ["-j", "1"], {"env": env}),
                    "cache": (scan + ["--cache", str(cache)], {"env": env})}
            if part == "tf":
                jobs.update(lark_jobs(args, scan, listing, Path(tmp)))
            if part == "cfn":
                jobs.update({mode: ([py, me, "_parse", mode, str(listing)], {"env": env}) for mode in CFN_PARSERS})
            got = dict(zip(jobs, medians(args.repeat, list(jobs.values()))))
            floor, mine, serial = got["floor"], got["scan"], got["serial"]
            print(fmt_row(f"**{part}** ({len(files)} files) parse floor", floor, floor,
                          f"json / PyYAML CSafeLoader with CloudFormation tags / tree-sitter-hcl parse alone; "
                          f"{parsed_note(floor)}"))
            print(fmt_row(f"{part}: certwarden scan", mine, floor))
            print(fmt_row(f"{part}: certwarden scan -j1", serial, floor))
            if part == "tf":
                ratios += tf_against_lark(args, floor, serial, got)
            print(fmt_row(f"{part}: certwarden scan --cache (warm)", got["cache"], floor, "no file changed"))
            if part == "cfn":
                for mode, note in CFN_PARSERS.items():
                    print(fmt_row(f"{part}: parse step, {mode}", got[mode], floor, f"{note}; {parsed_note(got[mode])}"))
            if bin_dir:
                skipped = len(checkov_crashers(roots, files))
                for name, cmd in peer_commands(bin_dir, part, roots, files).items():
                    peer = median_of(args.peer_repeat, cmd)
                    note = f"median of {args.peer_repeat}"
                    if name == "Checkov" and skipped:
                        note += f"; skips the {skipped} Rain module templates it crashes on"
                    print(fmt_row(f"{part}: {name}", peer, floor, note))
                    if peer.crash:
                        ratios.append(f"{part}: {name} crashed ({peer.crash}): not timed")
                    else:
                        ratios.append(f"{part}: {name} takes {peer.wall / mine.wall:.1f}x the time "
                                      f"({peer.cpu / mine.cpu:.1f}x the CPU) and {peer.peak / mine.peak:.1f}x "
                                      "the memory of certwarden scan")
    print(fmt_row("startup: python -c pass", median_of(args.repeat, [py, "-c", "pass"]), None, "interpreter alone"))
    print(fmt_row("startup: certwarden --version", median_of(args.repeat, [*cw, "--version"], env=env), None))
    print(fmt_row("startup: certwarden scan (1 small file)",
                  median_of(args.repeat, [*cw, "scan", str(SMALL)], env=env), None, "target < 0.35 s"))
    if bin_dir:
        print(fmt_row("startup: checkov -f (1 small file)", median_of(
            args.peer_repeat, [str(bin_dir / "checkov"), "--quiet", "--skip-download", "-f", str(SMALL)]), None))
        print(fmt_row("startup: cfn-lint (1 small file)",
                      median_of(args.peer_repeat, [str(bin_dir / "cfn-lint"), str(SMALL)]), None))
    if counted:
        print("\n| instructions (callgrind) | count | vs parse floor | vs --instr-base |\n|---|---|---|---|")
        print("\n".join(counted))
    if ratios:
        print("\n" + "\n".join(ratios))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "_parse" and sys.argv[2] in PARSE_MODES:
        parse_only(sys.argv[2], Path(sys.argv[3]).read_text().splitlines())
        sys.exit(0)
    sys.exit(main())
