#!/usr/bin/env python3
"""Benchmark: what the people-facing reports add to a scan of the corpus.

    python tests/perf/report_bench.py [--corpus DIR] [--repeat 3]

Two figures, both from the same run:
- end to end, each in a fresh subprocess (median of --repeat): the scan writing JSON only (the
  baseline), then the same scan also writing HTML, CSV, GitLab SAST and Code Quality; the
  difference is what the reports cost, interpreter and scan included on both sides;
- in process, one scan, then each reporter timed alone on its result (median of --repeat), with
  the size of what it wrote.
The machine is shared: compare the differences and ratios within one run.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
REPORTS = ("html", "csv", "gitlab-sast", "gitlab-codequality")


def wall(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not args.corpus.is_dir():
        sys.exit(f"report_bench: no corpus at {args.corpus}")

    with tempfile.TemporaryDirectory() as tmp:
        scan = [sys.executable, "-m", "certwarden", "scan", str(args.corpus), "--no-config", "--now", "2026-01-01"]
        base = wall([*scan, "-o", f"json={tmp}/r.json"], args.repeat)
        every = wall([*scan, "-o", f"json={tmp}/r.json", *[a for fmt in REPORTS for a in ("-o", f"{fmt}={tmp}/r.{fmt}")]],
                     args.repeat)
        html_only = wall([*scan, "-o", f"json={tmp}/r.json", "-o", f"html={tmp}/r.html"], args.repeat)

    from certwarden.cli import _render   # the CLI's own dispatch, as -o uses it
    from certwarden.rulepack import load_rules
    from certwarden.options import Options
    from certwarden.scan import scan as run_scan

    result = run_scan([str(args.corpus)], load_rules(), Options(now=datetime(2026, 1, 1, tzinfo=timezone.utc)))
    print(f"corpus: {result.scanned} units, {result.estate.resources} resources, {len(result.findings)} findings, "
          f"{len(result.estate.expiries)} dated certificates and keys")
    print(f"\nend to end, median of {args.repeat} (fresh process each):")
    print("| run | wall | vs scan |\n|---|---|---|")
    print(f"| scan -o json (baseline) | {base:.2f} s | 1.00x |")
    print(f"| + -o html | {html_only:.2f} s | {html_only / base:.2f}x (+{html_only - base:.2f} s) |")
    print(f"| + html, csv, gitlab-sast, gitlab-codequality | {every:.2f} s | {every / base:.2f}x (+{every - base:.2f} s) |")
    print(f"\nin process, median of {args.repeat}:")
    print("| report | render | size |\n|---|---|---|")
    for fmt in ("json", *REPORTS):
        times, body = [], ""
        for _ in range(args.repeat):
            start = time.perf_counter()
            body = _render(fmt, result, argparse.Namespace(), to_terminal=False)
            times.append(time.perf_counter() - start)
        print(f"| {fmt} | {statistics.median(times) * 1000:.0f} ms | {len(body.encode()) / 1024:.0f} KiB |")


if __name__ == "__main__":
    main()
