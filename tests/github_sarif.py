"""The rules GitHub code scanning documents for SARIF uploads, as a check on our files.

The schema (with its formats: an artifact URI must be a URI reference) is the official one,
copied into tests/schemas; the limits are those of "SARIF results exceed limits" and "SARIF
file is too large" in GitHub's code scanning docs; a location's URI must be relative to the
checkout or use its `file` scheme ("SARIF URI scheme did not match the checkout URI scheme").
"""
from __future__ import annotations

import gzip
import json
from urllib.parse import urlsplit

import jsonschema

from conftest import ROOT

SCHEMA = json.loads((ROOT / "tests" / "schemas" / "sarif-2.1.0.json").read_text())
MAX_GZIP_BYTES = 10 * 1024 * 1024
MAX_RUNS, MAX_RESULTS, MAX_RULES, MAX_TAGS, MAX_LOCATIONS = 20, 25_000, 25_000, 20, 1_000


def validate(doc: dict) -> None:
    """The official schema, formats included (codeql-action checks uri-reference)."""
    jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(doc)


def _uri_problem(where: str, artifact: dict) -> str | None:
    uri = artifact.get("uri")
    if not uri:
        return f"{where}: no artifact URI"
    scheme = urlsplit(uri).scheme
    if scheme not in ("", "file"):
        return f"{where}: URI scheme {scheme!r} is not the checkout's"
    return None


def upload_problems(text: str) -> list[str]:
    """What code scanning would refuse in this SARIF text (empty: it uploads)."""
    doc = json.loads(text)
    validate(doc)
    problems = []
    if len(gzip.compress(text.encode())) > MAX_GZIP_BYTES:
        problems.append("larger than 10 MB gzipped")
    if len(doc["runs"]) > MAX_RUNS:
        problems.append(f"{len(doc['runs'])} runs")
    for r, run in enumerate(doc["runs"]):
        rules = run["tool"]["driver"].get("rules", [])
        if len(rules) > MAX_RULES:
            problems.append(f"run {r}: {len(rules)} rules")
        problems += [f"rule {rule['id']}: {len(rule['properties']['tags'])} tags" for rule in rules
                     if len(rule.get("properties", {}).get("tags", [])) > MAX_TAGS]
        results = run.get("results", [])
        if len(results) > MAX_RESULTS:
            problems.append(f"run {r}: {len(results)} results")
        for i, res in enumerate(results):
            where = f"run {r} result {i}"
            locations = res.get("locations") or []
            if not locations or len(locations) > MAX_LOCATIONS:
                problems.append(f"{where}: {len(locations)} locations")
                continue
            physical = locations[0].get("physicalLocation")
            if physical is None:
                problems.append(f"{where}: expected a physical location")
                continue
            problems += filter(None, [_uri_problem(where, physical["artifactLocation"])])
            if physical.get("region", {}).get("startLine", 0) < 1:
                problems.append(f"{where}: no start line")
        for n, note in enumerate(run.get("invocations", [{}])[0].get("toolExecutionNotifications", [])):
            for loc in note.get("locations", []):
                problems += filter(None, [_uri_problem(f"run {r} notification {n}",
                                                       loc["physicalLocation"]["artifactLocation"])])
    return problems
