"""SARIF 2.1.0 as GitHub code scanning accepts it (see docs/output.md for what GitHub adds)."""
from __future__ import annotations

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


def _location(f: Finding, root) -> dict:
    """GitHub refuses a result without a physical location: a live one gets its synthetic place,
    at line 1, and keeps the ARN as its logical location."""
    w = f.where
    loc: dict = {}
    if w.file:
        region = {"startLine": max(w.line, 1)}
        if w.column:
            region["startColumn"] = w.column
        loc["physicalLocation"] = {"artifactLocation": _artifact(w.file, root), "region": region}
    elif w.arn:
        loc["physicalLocation"] = {"artifactLocation": _artifact(_live_place(f), root), "region": {"startLine": 1}}
    loc["logicalLocations"] = [{"name": f.resource, "fullyQualifiedName": w.arn or f.resource, "kind": "resource"}]
    return loc


def _result(f: Finding, index: int, root, baselined: bool = False) -> dict:
    level = "note" if f.review or f.severity == "info" else LEVELS[f.severity]
    res = {
        "ruleId": f.code,
        "ruleIndex": index,
        "level": level,
        "message": {"text": f.message},
        "locations": [_location(f, root)],
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
                         "artifactChanges": [{"artifactLocation": _artifact(f.where.file, root),
                                              "replacements": [_replacement(e) for e in f.edits]}]}]
    return res


def _replacement(e) -> dict:
    return {"deletedRegion": {"startLine": e.line, "startColumn": e.column,
                              "endLine": e.end_line, "endColumn": e.end_column},
            "insertedContent": {"text": e.text}}


def render(result: ScanResult, root=None, category: str = "certwarden") -> str:
    root = root_of(result, root)
    rules = list(result.rules)
    index = {r.code: i for i, r in enumerate(rules)}
    notifications = [{
        "level": "error",
        "message": {"text": str(e)},
        "locations": [{"physicalLocation": {"artifactLocation": _artifact(e.file, root),
                                            **({"region": {"startLine": e.line}} if e.line else {})}}],
        "descriptor": {"id": "input-error"},
    } for e in result.errors]
    run = {
        "tool": {"driver": {
            "name": "certwarden", "version": __version__, "semanticVersion": __version__,
            "informationUri": INFO_URI, "rules": [_rule(r) for r in rules],
        }},
        "automationDetails": {"id": category.rstrip("/") + "/"},
        "originalUriBaseIds": {"SRCROOT": {"uri": root.as_uri() + "/"}},
        "invocations": [{"executionSuccessful": not result.errors, "toolExecutionNotifications": notifications}],
        "results": [_result(f, index[f.code], root, result.baseline is not None) for f in result.findings if f.code in index],
        "columnKind": "unicodeCodePoints",
    }
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"
