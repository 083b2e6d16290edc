"""What a scan produces: findings, and the errors it met on the way."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .errors import InputError
from .estate import Estate
from .model import Where


@dataclass
class Finding:
    code: str
    name: str
    severity: str
    message: str
    source: str                  # cfn | tf | live | pem
    kind: str                    # node kind
    resource: str                # logical ID, Terraform address, ARN, file label
    resource_type: str           # AWS::KMS::Key, aws_kms_key, ...
    where: Where
    attr: str | None = None      # the offending normalized attribute, when one is
    wa: tuple[int, ...] = ()
    review: bool = False         # --strict: the rule could not be evaluated (unresolved value)
    fix: dict | None = None
    edits: list = field(default_factory=list)   # text edits of a safe automatic fix (scanner.fixes)
    suppressions: list = field(default_factory=list)   # [{"kind": "inSource"|"external", "justification": ...}]
    path_key: str = ""           # the file relative to the repository root (set by the scan), or the ARN

    @property
    def fingerprint(self) -> str:
        """Stable across reformatting, moved lines and where the scan is run from:
        rule, repository-relative file, resource, attribute."""
        place = self.path_key or self.where.file or self.where.arn or ""
        key = "\x1f".join((self.code, place, self.resource, self.attr or ""))
        return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32]   # file-name bytes

    @property
    def suppressed(self) -> bool:
        return bool(self.suppressions)


def report_order(f: Finding) -> tuple:
    """Findings in files by place; live ones by account, region and resource."""
    w = f.where
    return (w.file or "", w.line, w.column, w.account or "", w.region or "", "" if w.file else f.resource, f.code)


@dataclass
class ScanResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)   # informational, e.g. remote modules not scanned
    roots: list[str] = field(default_factory=list)    # real paths of the scanned roots: fixes write only there
    scanned: int = 0              # units (files, modules; live: service-region pairs) read successfully
    live: bool = False            # findings name resources of accounts, not places in files
    rules: list = field(default_factory=list)
    graphs: list = field(default_factory=list)   # live: the account graphs read (what a snapshot holds)
    baseline: dict | None = None   # {"file": ..., "matched": n} when --baseline left findings out
    estate: Estate = field(default_factory=Estate)   # coverage figures and expiry dates of what was read
    started: datetime = field(default_factory=lambda: datetime.now(timezone.utc))   # wall clock, not --now
    root: Path | None = None       # the scanned files' repository: reports name files relative to it

    @property
    def unread(self) -> list[InputError]:
        """The errors that left some input unread: they fail the run unless it tolerates them."""
        return [e for e in self.errors if e.unread]
