"""Baselines: accept the findings a project has today, report only the ones that come after.

A baseline records findings by fingerprint (rule, file inside the repository, resource,
offending attribute; never a line), so it survives reformatting and moved lines. Suppressed
findings are not recorded: when a suppression expires, its finding comes back.
"""
from __future__ import annotations

import json

from .findings import Finding, ScanResult
from .jsonfile import JSONFileError, read_json

FORMAT = "certwarden-baseline"
VERSION = 1


class BaselineError(Exception):
    pass


def render(result: ScanResult) -> str:
    rows = sorted(({"fingerprint": f.fingerprint, "code": f.code, "resource": f.resource,
                    "file": f.path_key or f.where.arn, "attribute": f.attr}
                   for f in result.findings if not f.suppressed),
                  key=lambda r: (r["file"] or "", r["code"], r["resource"], r["fingerprint"]))
    return json.dumps({"format": FORMAT, "version": VERSION, "findings": rows}, indent=2) + "\n"


def load(path: str) -> set[str]:
    try:
        doc = read_json(path, "baseline")
    except JSONFileError as exc:
        raise BaselineError(str(exc)) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("findings"), list):
        raise BaselineError(f"{path} is not a certwarden baseline (create one with `certwarden baseline create`)")
    return {row["fingerprint"] for row in doc["findings"] if isinstance(row, dict) and "fingerprint" in row}


def apply(result: ScanResult, path: str) -> None:
    """Leave out the findings the baseline at path already holds."""
    known = load(path)
    kept: list[Finding] = [f for f in result.findings if f.fingerprint not in known]
    result.baseline = {"file": path, "matched": len(result.findings) - len(kept)}
    result.findings = kept
