"""JUnit XML for CI test panels (GitLab, Jenkins, Azure): a suite per rule, a test case per
rule and resource. A finding is a failure, a suppressed one is skipped; a rule with no finding
has one passing case, so the panel shows what was checked. ElementTree escapes markup; values
from the scan also go through escape.xml, which replaces the characters XML cannot hold."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from ..findings import ScanResult
from . import relative_uri, root_of
from .escape import xml


def _case(suite: ET.Element, code: str, resource: str, file: str, findings: list) -> str:
    """One test case for a rule on a resource; returns its outcome (failure, skipped)."""
    case = ET.SubElement(suite, "testcase", classname=code, name=xml(f"{resource} ({file})"), file=xml(file),
                         line=str(findings[0].where.line or ""))
    active = [f for f in findings if not f.suppressed]
    if not active:
        reasons = "; ".join(s.get("justification", "") for f in findings for s in f.suppressions)
        ET.SubElement(case, "skipped", message=xml(f"suppressed: {reasons}"))
        return "skipped"
    worst = active[0]
    failure = ET.SubElement(case, "failure", type=worst.severity, message=xml(worst.message))
    failure.text = xml("\n".join(f"{file}:{f.where.line}: {f.code} {f.name} [{f.severity}] {f.message}" for f in active))
    return "failures"


def render(result: ScanResult, root=None) -> str:
    root = root_of(result, root)
    suites = ET.Element("testsuites", name="certwarden")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for rule in result.rules:
        suite = ET.SubElement(suites, "testsuite", name=f"{rule.code} {rule.name}")
        counts = dict.fromkeys(totals, 0)
        groups: dict[tuple, list] = {}
        for f in result.findings:
            if f.code == rule.code:
                file = relative_uri(f.where.file, root) if f.where.file else f.where.arn or ""
                groups.setdefault((f.resource, file), []).append(f)
        for (resource, file), findings in groups.items():
            counts[_case(suite, rule.code, resource, file, findings)] += 1
        if not groups:
            ET.SubElement(suite, "testcase", classname=rule.code, name="no findings")
        counts["tests"] = max(len(groups), 1)
        for k, v in counts.items():
            suite.set(k, str(v))
            totals[k] += v
    if result.errors:
        suite = ET.SubElement(suites, "testsuite", name="input errors", tests=str(len(result.errors)),
                              failures="0", errors=str(len(result.errors)), skipped="0")
        for err in result.errors:
            case = ET.SubElement(suite, "testcase", classname="input", name=xml(err))
            ET.SubElement(case, "error", message=xml(err.message)).text = xml(err)
        totals["tests"] += len(result.errors)
        totals["errors"] += len(result.errors)
    for k, v in totals.items():
        suites.set(k, str(v))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
