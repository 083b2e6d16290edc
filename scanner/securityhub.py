"""`certwarden securityhub import`: the one command that writes to AWS, and only when asked.

It imports an ASFF report (`certwarden live -o asff=FILE`) into Security Hub: BatchImportFindings
in batches of 100 to the default product of the account and region it runs in. Findings of an
earlier import that the report no longer holds are archived (RecordState ARCHIVED), so Security
Hub shows what is open today. Earlier findings are found with GetFindings, filtered by this
product, certwarden's Id prefix and ACTIVE; the filter is applied again here, since a stand-in
(moto) may ignore it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from .report.asff import ID_PREFIX, PROVIDER_FIELDS, product_arn

BATCH = 100   # BatchImportFindings takes at most 100 findings a call


def import_policy() -> dict:
    """What the importing principal needs: nothing of the read-only scanning policy."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "CertwardenImportFindings", "Effect": "Allow", "Action": ["securityhub:BatchImportFindings"],
         "Resource": "arn:aws:securityhub:*:*:product/*/default"},
        {"Sid": "CertwardenFindEarlierFindings", "Effect": "Allow", "Action": ["securityhub:GetFindings"],
         "Resource": "*"}]}


@dataclass
class Imported:
    product: str
    created: int = 0
    updated: int = 0
    archived: int = 0
    failed: list[str] = field(default_factory=list)   # "Id: ErrorCode ErrorMessage"


def _earlier(hub, product: str) -> list[dict]:
    filters = {"ProductArn": [{"Value": product, "Comparison": "EQUALS"}],
               "Id": [{"Value": ID_PREFIX, "Comparison": "PREFIX"}],
               "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}]}
    out = []
    for page in hub.get_paginator("get_findings").paginate(Filters=filters):
        out += [f for f in page.get("Findings", []) if f.get("ProductArn") == product
                and f.get("Id", "").startswith(ID_PREFIX) and f.get("RecordState", "ACTIVE") == "ACTIVE"]
    return out


def run(findings: list[dict], session, region: str, endpoint_url: str | None = None, config=None,
        now: datetime | None = None) -> Imported:
    """Import `findings` (ASFF) and archive the earlier ones they no longer hold. Raises
    ClientError/BotoCoreError when Security Hub or STS cannot be reached at all."""
    identity = session.client("sts", region_name=region, endpoint_url=endpoint_url,
                              config=config).get_caller_identity()
    account, partition = identity["Account"], identity["Arn"].split(":")[1]
    product = product_arn(partition, region, account)
    hub = session.client("securityhub", region_name=region, endpoint_url=endpoint_url, config=config)
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    earlier = {f["Id"]: f for f in _earlier(hub, product)}
    current = [{**f, "ProductArn": product, "UpdatedAt": stamp, "RecordState": "ACTIVE"} for f in findings]
    ids = {f["Id"] for f in current}
    # An archived finding is sent back as certwarden wrote it: the fields Security Hub added are its own.
    gone = [{**{k: f[k] for k in PROVIDER_FIELDS if k in f}, "UpdatedAt": stamp, "RecordState": "ARCHIVED"}
            for i, f in earlier.items() if i not in ids]
    out = Imported(product, created=len(ids - set(earlier)), updated=len(ids & set(earlier)), archived=len(gone))
    batch_all = current + gone
    for start in range(0, len(batch_all), BATCH):
        answer = hub.batch_import_findings(Findings=batch_all[start:start + BATCH])
        out.failed += [f"{f.get('Id')}: {f.get('ErrorCode')} {f.get('ErrorMessage', '')}".strip()
                       for f in answer.get("FailedFindings", [])]
    return out
