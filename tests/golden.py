"""Golden SARIF/JSON snapshots of a few fixtures: `python tests/golden.py` regenerates them.

Machine-specific parts (the repository's absolute URI, the version) are normalized so the
snapshots only change when the output really does.
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GOLDEN = HERE / "golden"
CASES = ["CW304/cfn_fail.yaml", "CW103/cfn_fail.json", "examples/certificate-infrastructure.yaml"]

sys.path.insert(0, str(ROOT))


def render_golden(path: Path, fmt: str) -> str:
    from datetime import datetime, timezone

    from certwarden import __version__
    from certwarden.report import json_report, sarif
    from certwarden.rulepack import load_rules
    from certwarden.options import Options
    from certwarden.scan import scan

    result = scan([str(path)], load_rules(), Options(now=datetime(2026, 1, 1, tzinfo=timezone.utc)))
    body = (sarif if fmt == "sarif" else json_report).render(result, root=ROOT)
    return body.replace(ROOT.as_uri(), "file:///REPO").replace(f'"{__version__}"', '"VERSION"')


if __name__ == "__main__":
    GOLDEN.mkdir(exist_ok=True)
    for case in CASES:
        for fmt in ("sarif", "json"):
            out = GOLDEN / f"{case.replace('/', '__')}.{fmt}"
            out.write_text(render_golden(ROOT / "fixtures" / case, fmt))
            print("wrote", out.relative_to(ROOT))
