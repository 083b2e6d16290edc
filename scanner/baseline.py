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
    rows = doc["findings"]
    bad = next((i for i, row in enumerate(rows)
                if not isinstance(row, dict) or not isinstance(row.get("fingerprint"), str)), None)
    if bad is not None:
        raise BaselineError(f"{path}: findings[{bad}] has no fingerprint string; not a certwarden baseline")
    return {row["fingerprint"] for row in rows}


def apply(result: ScanResult, path: str) -> None:
    """Leave out the findings the baseline at path already holds."""
    known = load(path)
    kept: list[Finding] = [f for f in result.findings if f.fingerprint not in known]
    result.baseline = {"file": path, "matched": len(result.findings) - len(kept)}
    result.findings = kept
