"""SARIF 2.1.0 as GitHub code scanning accepts it (see docs/output.md for what GitHub adds)."""
from __future__ import annotations

import functools
import gzip
import json
import os
from urllib.parse import quote

from .. import __version__
from ..findings import Finding, ScanResult
from ..rulepack import Rule
from . import LEVELS, SECURITY_SEVERITY, relative_uri, root_of

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://github.com/certwarden/certwarden"


def _rule_help(rule: Rule) -> tuple[str, str]:
    fix = rule.fix or {}
    text = f"{rule.why}\n\nFix: {fix.get('description', 'see the rule documentation')}"
    md = [f"**{rule.title}** ({rule.code} `{rule.name}`)", "", rule.why, ""]
    if fix:
        md += [f"**Fix** ({fix['safety']}): {fix['description']}", ""]
        for label, key in (("CloudFormation", "cfn"), ("Terraform", "tf")):
            if fix.get(key):
                lang = "yaml" if key == "cfn" else "hcl"
                md += [f"{label}:", "", f"```{lang}", fix[key].rstrip(), "```", ""]
    if rule.refs:
        md.append("References: " + "; ".join(rule.refs))
    return text, "\n".join(md).strip()


def _rule(rule: Rule) -> dict:
    text, markdown = _rule_help(rule)
    props = {
        "precision": rule.precision,
        "tags": ["security", "SEC09-BP01", *[f"SEC09-BP01-{s}" for s in rule.wa], *rule.tags],
        "problem.severity": LEVELS[rule.severity] if rule.severity != "info" else "recommendation",
    }
    if rule.severity in SECURITY_SEVERITY:
        props["security-severity"] = SECURITY_SEVERITY[rule.severity]
    desc = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.why},
        "help": {"text": text, "markdown": markdown},
        "helpUri": rule.help_uri,
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": props,
    }
    if rule.help_uri is None:   # a user rule without a page: no link to one that does not exist
        del desc["helpUri"]
    return desc


LIVE_PREFIX = "aws://"


def _artifact(file: str, root) -> dict:
    """A percent-encoded URI reference relative to SRCROOT, or a file: URI outside it. A live
    place (aws://ACCOUNT/REGION/SERVICE) becomes the relative aws/ACCOUNT/REGION/SERVICE:
    code scanning accepts only the checkout's scheme."""
    if file.startswith(LIVE_PREFIX):
        return {"uri": quote("aws/" + file[len(LIVE_PREFIX):]), "uriBaseId": "SRCROOT"}
    uri = relative_uri(file, root)
    if uri.startswith("file:"):
        return {"uri": uri}   # already encoded by Path.as_uri
    return {"uri": quote(os.fsencode(uri)), "uriBaseId": "SRCROOT"}   # an undecodable name: its bytes


def _live_place(f: Finding) -> str:
    """A live resource's stable synthetic file: its account, region and service (from the ARN)."""
    w = f.where
    parts = (w.arn or "").split(":")
    service = parts[2] if len(parts) > 2 and parts[2] else (f.resource_type or "aws::unknown").split("::")[1].lower()
    return f"{LIVE_PREFIX}{w.account or 'unknown'}/{w.region or 'global'}/{service}"


def _location(f: Finding, artifact) -> dict:
    """GitHub refuses a result without a physical location: a live one gets its synthetic place,
    at line 1, and keeps the ARN as its logical location."""
    w = f.where
    loc: dict = {}
    if w.file:
        region = {"startLine": max(w.line, 1)}
        if w.column:
            region["startColumn"] = w.column
        loc["physicalLocation"] = {"artifactLocation": artifact(w.file), "region": region}
    elif w.arn:
        loc["physicalLocation"] = {"artifactLocation": artifact(_live_place(f)), "region": {"startLine": 1}}
    loc["logicalLocations"] = [{"name": f.resource, "fullyQualifiedName": w.arn or f.resource, "kind": "resource"}]
    return loc


def _result(f: Finding, index: int, artifact, baselined: bool = False) -> dict:
    level = "note" if f.review or f.severity == "info" else LEVELS[f.severity]
    res = {
        "ruleId": f.code,
        "ruleIndex": index,
        "level": level,
        "message": {"text": f.message},
        "locations": [_location(f, artifact)],
        "partialFingerprints": {"primaryLocationLineHash": f.fingerprint[:16] + ":1",
                                "certwarden/v1": f.fingerprint},
        "properties": {"severity": f.severity, "resourceType": f.resource_type, "source": f.source},
    }
    if f.review:
        res["kind"] = "review"
    if baselined:   # compared with a baseline: everything still reported is new
        res["baselineState"] = "new"
    if f.suppressions:
        res["suppressions"] = [{"kind": s.get("kind", "inSource"), "justification": s.get("justification", "")}
                               for s in f.suppressions]
    if f.where.arn:
        res["properties"].update({"arn": f.where.arn, "region": f.where.region, "account": f.where.account})
    if f.edits:   # never an empty artifactChanges: GitHub rejects the whole upload
        res["fixes"] = [{"description": {"text": f.fix["description"]},
                         "artifactChanges": [{"artifactLocation": artifact(f.where.file),
                                              "replacements": [_replacement(e) for e in f.edits]}]}]
    return res


def _replacement(e) -> dict:
    return {"deletedRegion": {"startLine": e.line, "startColumn": e.column,
                              "endLine": e.end_line, "endColumn": e.end_column},
            "insertedContent": {"text": e.text}}


# GitHub code scanning refuses a run of more results, or an upload larger than this gzipped
# (docs: "SARIF results exceed limits", "SARIF file is too large").
MAX_RESULTS = 25_000
MAX_GZIP_BYTES = 10 * 1024 * 1024
_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}


def _severest(findings: list[Finding], limit: int) -> list[Finding]:
    """The `limit` most severe findings, in their order: open before suppressed, alerts before
    reviews, then by severity; equals keep the order they came in."""
    if len(findings) <= limit:
        return findings
    ranked = sorted(range(len(findings)), key=lambda i: (findings[i].suppressed, findings[i].review,
                                                         _RANK[findings[i].severity], i))
    return [findings[i] for i in sorted(ranked[:limit])]


def reported(result: ScanResult, limit: int | None = None) -> list[Finding]:
    """The findings a SARIF run holds at most (the CLI attaches fixes to these only)."""
    rules = {r.code for r in result.rules}
    return _severest([f for f in result.findings if f.code in rules], MAX_RESULTS if limit is None else limit)


def render(result: ScanResult, root=None, category: str = "certwarden") -> str:
    return build(result, root, category)[0]


def build(result: ScanResult, root=None, category: str = "certwarden", limit: int | None = None,
          max_gzip: int | None = None) -> tuple[str, str | None]:
    """The SARIF text, and a note when it holds fewer results than found (None when it holds
    all): at most `limit` results and `max_gzip` bytes gzipped, the most severe kept."""
    limit = MAX_RESULTS if limit is None else limit
    max_gzip = MAX_GZIP_BYTES if max_gzip is None else max_gzip
    rules = {r.code for r in result.rules}
    found = sum(1 for f in result.findings if f.code in rules)
    while True:
        kept = reported(result, limit)
        note = (f"SARIF holds the {len(kept)} most severe of {found} results (GitHub code scanning "
                f"accepts at most {MAX_RESULTS} a run and {MAX_GZIP_BYTES // 2**20} MB gzipped); "
                "the other outputs hold them all") if len(kept) < found else None
        text = _text(result, kept, root, category, note)
        size = _gzipped_size(text, max_gzip)
        if size <= max_gzip or not kept:
            return text, note
        limit = max(int(len(kept) * max_gzip / size * 0.9), 0)   # results are of a size: scale down


def _gzipped_size(text: str, max_gzip: int) -> int:
    """The upload's gzipped size; not compressed when the text itself is smaller than the limit.
    Level 6: what the upload action's zlib uses by default."""
    data = text.encode("utf-8", "backslashreplace")
    return len(data) if len(data) <= max_gzip else len(gzip.compress(data, compresslevel=6, mtime=0))


def _text(result: ScanResult, kept: list[Finding], root, category: str, note: str | None) -> str:
    root = root_of(result, root)
    rules = list(result.rules)
    index = {r.code: i for i, r in enumerate(rules)}
    artifact = functools.cache(lambda file: _artifact(file, root))   # one resolve() a file
    notifications = [{
        "level": "error",
        "message": {"text": str(e)},
        "locations": [{"physicalLocation": {"artifactLocation": artifact(e.file),
                                            **({"region": {"startLine": e.line}} if e.line else {})}}],
        "descriptor": {"id": "input-error"},
    } for e in result.errors]
    if note:
        notifications.append({"level": "warning", "message": {"text": note}, "descriptor": {"id": "results-truncated"}})
    run = {
        "tool": {"driver": {
            "name": "certwarden", "version": __version__, "semanticVersion": __version__,
            "informationUri": INFO_URI, "rules": [_rule(r) for r in rules],
        }},
        "automationDetails": {"id": category.rstrip("/") + "/"},
        "originalUriBaseIds": {"SRCROOT": {"uri": root.as_uri() + "/"}},
        "invocations": [{"executionSuccessful": not result.errors, "toolExecutionNotifications": notifications}],
        "results": [],
        "columnKind": "unicodeCodePoints",
    }
    head = json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2)
    # The results, one a line, are written by the C encoder (indent= would take the pure-Python
    # one and hold millions of fragments); each is made, written and dropped in turn.
    before, after = head.split('"results": []', 1)
    baselined = result.baseline is not None
    lines = ",\n".join(json.dumps(_result(f, index[f.code], artifact, baselined)) for f in kept)
    return f'{before}"results": [\n{lines}\n      ]{after}\n' if kept else head + "\n"
