"""Peer-labelled cases certwarden must agree with, file by file (the whole agreement table is
printed by ../shared/tools/peer_agreement.py). Skipped when ../shared is absent."""
from __future__ import annotations

import json
import shutil

import pytest

from conftest import SHARED, needs_shared

pytestmark = needs_shared("peer-cases", "manifest.json")


def _labels(*ids):
    """The labels of those cases; none without ../shared (collection must not need it)."""
    path = SHARED / "peer-cases" / "manifest.json"
    manifest = json.loads(path.read_text()) if path.is_file() else []
    return [m for m in manifest if m["id"] in ids]


# Checkov's CKV_AWS_213 and KICS judge a classic negotiation policy on its own; its balancer is
# not in the file (#18, item 11).
@pytest.mark.parametrize("label", _labels("HO-0137", "HO-0138", "HO-0139", "HO-0140", "HO-0141", "HO-0142",
                                          "HO-0143", "HO-0144", "HO-0175", "HO-0176", "HO-0107", "HO-0108"),
                         ids=lambda m: f"{m['id']}-{m['expected']}")
def test_classic_negotiation_policies_agree_with_the_peers(label, tmp_path, run_cli):
    source = SHARED / "peer-cases" / label["file"]
    shutil.copy(source, tmp_path / source.name)
    code, out, err = run_cli("scan", tmp_path, "--no-config", "--select", label["code"], "-o", "json")
    assert code in (0, 1), err
    flagged = {f["resource"] for f in json.loads(out)["findings"]}
    hit = bool(flagged) if label["scope"] == "file" else label["resource"] in flagged
    assert hit == (label["expected"] == "fail")
