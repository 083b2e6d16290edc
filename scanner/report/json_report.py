"""JSON: the stable machine-readable form (documented in docs/output.md)."""
from __future__ import annotations

import json
from collections import Counter

from .. import __version__
from ..findings import Finding, ScanResult
from . import relative_uri, root_of

SCHEMA_VERSION = 1


def finding_dict(f: Finding, root) -> dict:
    w = f.where
    return {
        "code": f.code, "name": f.name, "severity": f.severity, "message": f.message,
        "source": f.source, "kind": f.kind, "resource": f.resource, "resource_type": f.resource_type,
        "file": relative_uri(w.file, root) if w.file else None, "line": w.line or None,
        "column": w.column or None, "path": [str(p) for p in w.path], "attribute": f.attr,
        "arn": w.arn, "region": w.region, "account": w.account,
        "wa_sections": list(f.wa), "fingerprint": f.fingerprint, "review": f.review,
        "suppressions": f.suppressions,
    }


def render(result: ScanResult, root=None) -> str:
    root = root_of(result, root)
    counts = Counter(f.severity for f in result.findings if not f.suppressed)
    doc = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "certwarden", "version": __version__},
        "summary": {"findings": sum(counts.values()), "by_severity": dict(counts),
                    "suppressed": sum(1 for f in result.findings if f.suppressed),
                    "scanned": result.scanned, "errors": len(result.errors)},
        "findings": [finding_dict(f, root) for f in result.findings],
        "errors": [{"file": relative_uri(e.file, root), "line": e.line or None, "message": e.message}
                   for e in result.errors],
        "notices": result.notices,
    }
    if result.baseline:   # only when --baseline was given, so other documents keep their shape
        doc["summary"]["baselined"] = result.baseline["matched"]
    return json.dumps(doc, indent=2) + "\n"
