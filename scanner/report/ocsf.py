"""OCSF: findings of a live scan as OCSF Detection Finding events (class 2004), built and
validated by py-ocsf-models (pydantic models of the OCSF schema), the library Prowler uses.

Detection Finding, not Compliance Finding (2003): it is the class Prowler's OCSF output writes,
and so what Security Lake and the tools that read Prowler's output take in. The controls a rule
checks (SEC09-BP01, Security Hub controls, Config rules) go under `unmapped.compliance`, as
Prowler puts them, since a Detection Finding has no compliance object.

py-ocsf-models is an optional dependency (`pip install certwarden[ocsf]`); without it,
`-o ocsf` is a usage error that says what to install.
"""
from __future__ import annotations

import json
from datetime import datetime

from .. import __version__
from ..findings import Finding, ScanResult
from . import DOCS_BASE, requirements
from .asff import RESOURCE_TYPES, partition_of

SEVERITIES = {"info": "Informational", "low": "Low", "medium": "Medium", "high": "High", "critical": "Critical"}


class MissingLibrary(RuntimeError):
    pass


def require():
    try:
        from py_ocsf_models.events.findings.detection_finding import DetectionFinding, DetectionFindingTypeID
    except ImportError:
        raise MissingLibrary("-o ocsf needs py-ocsf-models: pip install 'certwarden[ocsf]'") from None
    return DetectionFinding, DetectionFindingTypeID


def event(f: Finding, rule, now: datetime):
    """One validated DetectionFinding (pydantic raises on anything the schema refuses)."""
    from py_ocsf_models.events.base_event import SeverityID, StatusID
    from py_ocsf_models.events.findings.finding import ActivityID, FindingInformation
    from py_ocsf_models.objects.account import Account, TypeID
    from py_ocsf_models.objects.cloud import Cloud
    from py_ocsf_models.objects.group import Group
    from py_ocsf_models.objects.metadata import Metadata
    from py_ocsf_models.objects.product import Product
    from py_ocsf_models.objects.remediation import Remediation
    from py_ocsf_models.objects.resource_details import ResourceDetails

    DetectionFinding, TypeIDs = require()
    w = f.where
    severity = getattr(SeverityID, SEVERITIES[f.severity])
    stamp = int(now.timestamp())
    return DetectionFinding(
        message=f.message,
        activity_id=ActivityID.Create.value, activity_name=ActivityID.Create.name,
        finding_info=FindingInformation(uid=f"certwarden/{f.code}/{f.fingerprint}", title=f"{f.code} {rule.title}",
                                        desc=rule.why.strip(), types=["AWS Well-Architected SEC09-BP01"],
                                        created_time=stamp, created_time_dt=now, src_url=DOCS_BASE + rule.doc_path),
        time=stamp, time_dt=now,
        severity_id=severity.value, severity=severity.name,
        status_id=StatusID.New.value, status=StatusID.New.name,
        status_code="REVIEW" if f.review else "FAIL", status_detail=f.message,
        remediation=Remediation(desc=(rule.fix or {}).get("description") or rule.title,
                                references=[DOCS_BASE + rule.doc_path]),
        resources=[ResourceDetails(uid=w.arn or f.resource, name=f.resource, type=RESOURCE_TYPES.get(f.kind, f.kind),
                                   group=Group(name=f.kind), cloud_partition=partition_of(w.arn), region=w.region)],
        cloud=Cloud(provider="aws", region=w.region,
                    account=Account(uid=w.account or "", name=w.account or "", type_id=TypeID.AWS_Account.value,
                                    type="AWS Account")),
        metadata=Metadata(event_code=f.code, profiles=["cloud", "datetime"],
                          product=Product(uid="certwarden", name="certwarden", vendor_name="certwarden",
                                          version=__version__)),
        type_uid=TypeIDs.Create, type_name=f"Detection Finding: {TypeIDs.Create.name}",
        unmapped={"compliance": {"requirements": requirements(rule), "status": "NOT_AVAILABLE" if f.review else "FAILED"},
                  "rule": f.name, "fingerprint": f.fingerprint, "attribute": f.attr},
    )


def events(result: ScanResult, now: datetime) -> list:
    rules = {r.code: r for r in result.rules}
    return [event(f, rules[f.code], now) for f in result.findings if not f.suppressed]


def render(result: ScanResult, now: datetime) -> str:
    """A JSON array of events, as Prowler writes its json-ocsf output."""
    return json.dumps([json.loads(e.model_dump_json(exclude_none=True)) for e in events(result, now)],
                      indent=2, ensure_ascii=False) + "\n"
