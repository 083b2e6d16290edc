"""Fix a copy of the shared corpus and say what is left: run on request, not in CI (a few minutes).

    python tests/corpus_fix.py [CORPUS]      # default ../shared/corpus

Copies the corpus to a temporary directory, scans it, runs `fix --write --unsafe-fixes`, scans
again, and prints per rule the findings before and after, each left-over finding's reason
(the rule has no automatic fix, cfn-lint declined it, or the adapter declined it: the value
is an expression, or lives in another file), the parse errors before and after, cfn-lint errors
new in the fixed CloudFormation templates, and fixed Terraform files python-hcl2 cannot read.
Exits 1 when a fix leaves a finding of its own rule without a reason, or adds a parse error,
a cfn-lint error or an unreadable Terraform file.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import hcl2

HERE = Path(__file__).resolve().parent
DEFAULT = HERE.parent.parent / "shared" / "corpus"
SCAN = [sys.executable, "-m", "certwarden"]
COMMON = ["--no-config", "--allow-input-errors", "--now", "2026-01-01"]


def _scan(root: Path) -> dict:
    out = root.parent / "report.json"
    subprocess.run([*SCAN, "scan", str(root), "-q", "--strict", "-o", f"json={out}", *COMMON],
                   capture_output=True, text=True, check=False)
    return json.loads(out.read_text())


def _findings_after(root: Path):
    """The fixed tree's findings as objects: each carries its fix as the rule's `fix.when` left it."""
    from datetime import datetime, timezone

    from certwarden.options import Options
    from certwarden.rulepack import load_rules
    from certwarden.scan import scan

    options = Options(strict=True, now=datetime(2026, 1, 1, tzinfo=timezone.utc))
    return [f for f in scan([str(root)], load_rules(), options).findings if not f.suppressed]


def main(corpus: Path) -> int:
    from certwarden import lint
    from certwarden.fixes import STRUCTURAL
    from certwarden.rulepack import load_rules

    fixes = {r.code: r.fix for r in load_rules() if r.fix and (r.fix.get("set") or r.fix.get("add"))}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "corpus"
        shutil.copytree(corpus, root)
        before = _scan(root)
        originals = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
        run = subprocess.run([*SCAN, "fix", str(root), "--write", "--unsafe-fixes", *COMMON],
                             capture_output=True, text=True, check=False)
        lint_declined = {line.split(": ")[1].split()[0] + "@" + line.split(": ")[0].removeprefix("certwarden: ")
                         for line in run.stderr.splitlines() if " declined: cfn-lint " in line}
        after = _scan(root)
        changed = [p for p, data in originals.items() if p.read_bytes() != data]

        count_before = Counter(f["code"] for f in before["findings"])
        count_after = Counter(f["code"] for f in after["findings"])
        print(f"{len(changed)} files changed; stderr of fix: {run.stderr.strip().splitlines()[-1:]}")
        print("\n| rule | fix | before | after |\n|---|---|---|---|")
        for code in sorted(set(count_before) | set(count_after)):
            kind = "structural" if code in fixes and fixes[code].get("add") else "value" if code in fixes else "none"
            print(f"| {code} | {kind} | {count_before[code]} | {count_after[code]} |")

        problems = 0
        structural_formats = set(STRUCTURAL)
        reasons: Counter = Counter()
        for f in _findings_after(root):
            if f.code not in fixes:
                reasons["rule has no automatic fix"] += 1
            elif not (f.fix or {}).get("set") and not (f.fix or {}).get("add"):
                reasons[f"{f.code}: its fix applies only where {json.dumps(fixes[f.code].get('when'))}"] += 1
            elif f"{f.code}@{f.where.file}" in lint_declined:
                reasons[f"{f.code}: declined, the fix would add a cfn-lint error"] += 1
            elif fixes[f.code].get("add") and f.source not in structural_formats:
                reasons[f"{f.code}: no structural fix in this format yet"] += 1
            elif fixes[f.code].get("add"):
                reasons[f"{f.code}: the pattern does not apply here (no database attached, a resource "
                        "made elsewhere, an intrinsic function in the way)"] += 1
                print(f"  pattern not applied {f.code} {f.resource} at {f.where.file}:{f.where.line}")
            else:
                reasons[f"{f.code}: declined by the adapter (expression or value in another file)"] += 1
                print(f"  adapter declined {f.code} {f.resource} at {f.where.file}:{f.where.line}")
        print("\nLeft-over findings by reason:")
        for reason, n in reasons.most_common():
            print(f"  {n:4} {reason}")

        errors_before = {e["file"] for e in before["errors"]}
        new_errors = [e for e in after["errors"] if e["file"] not in errors_before]
        print(f"\nparse errors: {len(before['errors'])} before, {len(after['errors'])} after, {len(new_errors)} new")
        for e in new_errors:
            print(f"  NEW {e['file']}: {e.get('message')}")
        problems += len(new_errors)

        for p in changed:
            if p.suffix == ".tf":
                try:
                    hcl2.loads(p.read_text(encoding="utf-8"))
                except Exception as exc:   # noqa: BLE001 - any failure is a broken fix
                    problems += 1
                    print(f"  python-hcl2 cannot read fixed {p.relative_to(root)}: {type(exc).__name__}")
            elif p.suffix in (".yaml", ".yml", ".json", ".template"):
                # the product's own check (what `fix` declines on), on the file as read and as fixed
                for rule_id, message in lint.added(originals[p].decode("utf-8-sig"), p.read_text(encoding="utf-8-sig")):
                    problems += 1
                    print(f"  cfn-lint {rule_id} new in {p.relative_to(root)}: {message}")
        print(f"\ncfn-lint and python-hcl2 checked {len(changed)} fixed files: {problems} problems")
        return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT))
