"""What a scan saw, beyond its findings: coverage figures and expiry dates for the reports.

A lead asks "how many of our keys rotate?", which findings alone cannot answer (a key that
rotates has none). Each graph is summarized where it is read (the scan's workers, the live
reader), into a few counts and dates that travel with the ScanResult, so reporters never see
graphs or sources. The figures answer the rules' own questions: a bucket counts as covered
exactly when CW401 passes it, a key when CW101 does.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .dates import validity_end
from .kinds import attr
from .model import Graph, Node, Unresolved

# coverage key -> what is counted (the report's labels)
COVERAGE = {
    "kms_rotation": "Customer-managed KMS keys with automatic rotation",
    "secret_rotation": "Secrets with rotation",
    "bucket_public_access_block": "S3 buckets with all four Block Public Access settings",
    "ca_revocation": "Private CAs with revocation (CRL or OCSP)",
}
# calendar series -> label
SERIES = {"certificate": "Certificates", "ca_certificate": "CA certificates", "kms_material": "Imported KMS key material"}
# The policy's warning windows drawn on the calendar: series -> (rule, param) whose value it is.
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)   # unused by fixed validities; any date will do
WINDOW_RULES = {"certificate": ("CW204", "days"), "ca_certificate": ("CW307", "days")}


@dataclass
class Coverage:
    covered: int = 0
    total: int = 0
    unknown: int = 0          # counted in total; the setting could not be resolved

    def count(self, state: Any) -> None:
        self.total += 1
        if isinstance(state, Unresolved):
            self.unknown += 1
        elif state is True:
            self.covered += 1


@dataclass(frozen=True)
class Expiry:
    series: str               # a key of SERIES
    name: str                 # the resource as findings name it
    kind: str                 # node kind
    not_after: datetime
    place: str                # the file (repository-relative) or the ARN
    account: str | None = None
    region: str | None = None


@dataclass
class Estate:
    coverage: dict[str, Coverage] = field(default_factory=lambda: {k: Coverage() for k in COVERAGE})
    expiries: list[Expiry] = field(default_factory=list)
    resources: int = 0                                   # nodes seen, every kind
    as_of: datetime | None = None                        # the scan's --now
    windows: dict[str, int] = field(default_factory=dict)   # series -> warning window in days

    def add(self, other: "Estate") -> None:
        for key, cov in other.coverage.items():
            mine = self.coverage.setdefault(key, Coverage())
            mine.covered += cov.covered
            mine.total += cov.total
            mine.unknown += cov.unknown
        self.expiries.extend(other.expiries)
        self.resources += other.resources


def _rotatable(node: Node) -> bool:
    """A key KMS can rotate automatically: CW101's scope (customer-managed, symmetric, KMS material)."""
    return (attr(node, "key_manager") == "CUSTOMER" and attr(node, "key_spec") == "SYMMETRIC_DEFAULT"
            and attr(node, "key_usage") == "ENCRYPT_DECRYPT" and attr(node, "origin") == "AWS_KMS"
            and not attr(node, "custom_key_store_id"))


def _all_true(node: Node, names: tuple[str, ...]) -> Any:
    values = [attr(node, n) for n in names]
    if all(v is True for v in values):
        return True
    return next((v for v in values if isinstance(v, Unresolved)), False)


def _coverage(node: Node) -> tuple[str, Any] | None:
    """(coverage key, True / False / Unresolved) for a node that one figure counts."""
    kind = node.kind
    if kind == "kms_key" and _rotatable(node):
        return "kms_rotation", attr(node, "rotation_enabled")
    if kind == "secret" and attr(node, "managed_elsewhere") is not True:
        return "secret_rotation", attr(node, "rotation_enabled")
    if kind == "s3_bucket" and attr(node, "managed_elsewhere") is not True:
        if attr(node, "account_block") is True:   # live: the account-level block covers the bucket
            return "bucket_public_access_block", True
        return "bucket_public_access_block", _all_true(
            node, ("block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets"))
    if kind == "pca_authority":
        crl, ocsp = attr(node, "crl_enabled"), attr(node, "ocsp_enabled")
        return "ca_revocation", True if True in (crl, ocsp) else next(
            (v for v in (crl, ocsp) if isinstance(v, Unresolved)), False)
    return None


def _expiry(node: Node) -> tuple[str, datetime] | None:
    """(calendar series, date) for a node with an expiry date."""
    kind = node.kind
    if kind == "kms_key":
        series, value = "kms_material", attr(node, "valid_to")
    elif kind == "pca_authority":
        series, value = "ca_certificate", attr(node, "not_after")
    elif kind == "pca_certificate":
        # Only a fixed end date is a date in a template: a relative validity starts when deployed.
        ca = "CACertificate" in str(attr(node, "template"))
        validity = attr(node, "validity")
        fixed = isinstance(validity, tuple) and str(validity[0]).upper() in ("ABSOLUTE", "END_DATE")
        series, value = ("ca_certificate" if ca else "certificate"), validity_end(validity, EPOCH) if fixed else None
    elif kind in ("certificate", "acm_certificate", "iam_server_certificate"):
        series = "ca_certificate" if attr(node, "is_ca") is True else "certificate"
        value = attr(node, "not_after")
    else:
        return None
    if not isinstance(value, datetime):   # absent or unresolved: nothing to draw
        return None
    return series, value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def of_graph(graph: Graph, place) -> Estate:
    """The estate of one graph; `place(where)` names a node's file or ARN as findings do."""
    estate = Estate()
    for node in graph.nodes.values():
        estate.resources += 1
        counted = _coverage(node)
        if counted:
            estate.coverage[counted[0]].count(counted[1])
        dated = _expiry(node)
        if dated:
            w = node.where
            estate.expiries.append(Expiry(dated[0], node.name, node.kind, dated[1], place(w), w.account, w.region))
    return estate


def start(now: datetime, rules, config) -> Estate:
    """An empty estate as of the scan's date, with the warning windows of the policy in force
    (the catalog's rules with the config's params)."""
    by_code = {r.code: r for r in rules}
    windows = {}
    for series, (code, param) in WINDOW_RULES.items():
        rule = by_code.get(code)
        if rule is not None:
            value = {**rule.params, **config.rule_params.get(code, {})}.get(param)
            if isinstance(value, int):
                windows[series] = value
    return Estate(as_of=now, windows=windows)
