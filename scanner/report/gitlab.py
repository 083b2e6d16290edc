"""GitLab's own report types: the SAST security report (merge-request security widget,
vulnerability report) and Code Quality (the Code Climate subset GitLab reads).

Suppressed findings are left out of both: GitLab has no notion of an accepted finding in a
report, and would show them as new. Live findings have no file: their ARN stands in the place
of the path, so each resource stays a vulnerability of its own.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

from .. import __version__
from ..findings import Finding, ScanResult
from . import escape, place, root_of, rule_uri

SAST_VERSION = "15.2.1"
SAST_SCHEMA = ("https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/"
               f"v{SAST_VERSION}/dist/sast-report-format.json")
TOOL = {"id": "certwarden", "name": "certwarden", "version": __version__,
        "url": "https://github.com/certwarden/certwarden", "vendor": {"name": "certwarden"}}
SAST_SEVERITY = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low", "info": "Info"}
# Code Climate severities as GitLab reads them: info, minor, major, critical, blocker.
QUALITY_SEVERITY = {"critical": "blocker", "high": "critical", "medium": "major", "low": "minor", "info": "info"}
_ID_SPACE = uuid.UUID("5f0c7a3e-8d57-4c4f-9a8e-1c2b3d4e5f60")   # ours: ids are UUIDv5 within it


def _active(result: ScanResult) -> list[Finding]:
    return [f for f in result.findings if not f.suppressed]


def _keys(findings: list[Finding]) -> list[str]:
    """Each finding's fingerprint, which does not move with its line, so GitLab matches it with
    the same finding on the target branch. One fingerprint may stand at two places of a report
    (a module read by two callers): later ones get a suffix, so every entry stays unique."""
    seen: dict[str, int] = {}
    keys = []
    for f in findings:
        n = seen[f.fingerprint] = seen.get(f.fingerprint, 0) + 1
        keys.append(f.fingerprint if n == 1 else f"{f.fingerprint}-{n}")
    return keys


def _ids(findings: list[Finding]) -> list[str]:
    return [str(uuid.uuid5(_ID_SPACE, key)) for key in _keys(findings)]


def _stamp(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _vulnerability(f: Finding, vid: str, rule, root) -> dict:
    fix = (rule.fix or {}) if rule else {}
    where = place(f, root)
    location = {"file": where}
    if f.where.line:
        location["start_line"] = f.where.line
    identifier = {"type": "certwarden_rule", "name": f"{f.code} {f.name}", "value": f.code}
    vuln = {
        "id": vid,
        "name": (rule.title if rule else f.name)[:255],
        # GitLab renders the description as Markdown: the message (scanned text) must stay text
        "description": f"{escape.markdown(f.message)}\n\n{rule.why}" if rule else escape.markdown(f.message),
        "severity": SAST_SEVERITY[f.severity],
        "location": location,
        "identifiers": [identifier],
    }
    if rule:
        identifier["url"] = rule_uri(rule)
        vuln["links"] = [{"name": f"{f.code} {f.name}", "url": rule_uri(rule)}]
    if fix.get("description"):
        vuln["solution"] = fix["description"][:7000]
    return vuln


def render_sast(result: ScanResult, root=None) -> str:
    root = root_of(result, root)
    rules = {r.code: r for r in result.rules}
    active = _active(result)
    scan = {
        "analyzer": TOOL, "scanner": TOOL, "type": "sast",
        "start_time": _stamp(result.started), "end_time": _stamp(datetime.now(timezone.utc)),
        # an input that could not be read is a partial scan, not a failed one: the rest was read
        "status": "failure" if result.errors and not result.scanned else "success",
    }
    if result.errors:
        scan["messages"] = [{"level": "warn", "value": str(e)} for e in result.errors]
    doc = {
        "version": SAST_VERSION, "schema": SAST_SCHEMA, "scan": scan,
        "vulnerabilities": [_vulnerability(f, vid, rules.get(f.code), root)
                            for f, vid in zip(active, _ids(active))],
    }
    return json.dumps(doc, indent=2) + "\n"


def render_codequality(result: ScanResult, root=None) -> str:
    root = root_of(result, root)
    active = _active(result)
    issues = [{
        "description": f"{f.code} {f.message}",
        "check_name": f.code,
        "fingerprint": key,
        "severity": QUALITY_SEVERITY[f.severity],
        "location": {"path": place(f, root), "lines": {"begin": max(f.where.line, 1)}},
    } for f, key in zip(active, _keys(active))]
    return json.dumps(issues, indent=2) + "\n"
