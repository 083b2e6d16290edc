#!/usr/bin/env python3
"""The warm --cache run against the parse floor, and its findings against an uncached run.

    python tests/perf/cache_warm.py [--corpus DIR] [--repeat 3] [--part all] [--against OTHER_CHECKOUT]

Prints the parse floor, the uncached scan and the warm cached scan (median of --repeat fresh
processes, as bench.py measures them), each as a ratio to the floor of the same run, and checks
that the cached and uncached runs write the same JSON report. --against times the warm run of
another checkout of certwarden too (e.g. an older version), with its own cache, on the same files.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import bench


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--corpus", type=Path, default=bench.DEFAULT_CORPUS)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--part", default="all", choices=("cfn", "tf", "all"))
    ap.add_argument("--against", type=Path, help="another checkout whose warm run to time too")
    args = ap.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    files, roots = bench.part_files(args.corpus, args.part)
    py, me = sys.executable, str(Path(bench.__file__).resolve())
    checkouts = {"this checkout": bench.ROOT, **({f"{args.against}": args.against.resolve()} if args.against else {})}
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "files"
        listing.write_text("\n".join(map(str, files)))
        env = {**os.environ, "PYTHONPATH": str(bench.ROOT)}
        floor, floor_rss = bench.median_of(args.repeat, [py, me, "_parse", "floor", str(listing)], env=env)
        print(f"repeat={args.repeat}, {len(files)} files\n")
        print("| run | wall | peak memory (PSS) | vs parse floor | note |\n|---|---|---|---|---|")
        print(bench.fmt_row(f"{args.part}: parse floor", floor, floor_rss, floor))
        for n, (label, checkout) in enumerate(checkouts.items()):
            env = {**os.environ, "PYTHONPATH": str(checkout)}
            cache = Path(tmp) / f"cache-{n}"
            reports = Path(tmp) / "plain.json", Path(tmp) / "cached.json"
            scan = [py, "-m", "certwarden", "scan", *roots, "--now", "2026-01-01"]
            subprocess.run(scan + ["-o", f"json={reports[0]}"], env=env, capture_output=True)
            subprocess.run(scan + ["-o", f"json={reports[1]}", "--cache", str(cache)], env=env, capture_output=True)
            wall, rss = bench.median_of(args.repeat, scan + ["-o", "json=/dev/null"], env=env)
            print(bench.fmt_row(f"{label}: certwarden scan", wall, rss, floor))
            wall, rss = bench.median_of(args.repeat, scan + ["-o", "json=/dev/null", "--cache", str(cache)], env=env)
            same = reports[0].read_bytes() == reports[1].read_bytes()
            print(bench.fmt_row(f"{label}: certwarden scan --cache (warm)", wall, rss, floor,
                                "same report as uncached" if same else "REPORT DIFFERS from uncached"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
