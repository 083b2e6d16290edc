"""The Lambda functions of scheduled scans: list the accounts, scan one, merge the run.

`scan` runs `certwarden live` itself (certwarden.cli.main, in the function), through the member
role of the account the event names, and puts its JSON, SARIF, snapshot and ASFF outputs in the
results bucket under runs/DATE/RUN/accounts/ACCOUNT/PART/ (PART: `all`, or the region when an
account is read one region per invocation). `merge` reads them back, writes the run's summary
(and latest.json, which the next run compares with), imports the run to Security Hub when
asked, and publishes the high and critical findings that are new since the last run.

Configuration comes from the function's environment (the stack sets it); the event carries the
run and the account, as the state machine sends them (docs/scheduled.md).
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

# file name -> `certwarden live -o` format
OUTPUTS = {"certwarden.json": "json", "certwarden.sarif": "sarif", "snapshot.json.gz": "snapshot",
           "asff.json": "asff"}
REPORT, ASFF, ERROR = "certwarden.json", "asff.json", "error.json"
ACCOUNTS = "accounts.json"    # the Distributed Map's items
SUMMARY = "summary.json"
LATEST = "latest.json"
NOTIFY = ("critical", "high")
LISTED = 50                    # findings named in one notification; the summary object has them all

_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_RUN = re.compile(r"^[A-Za-z0-9_.:+-]{1,128}$")


class BadEvent(ValueError):
    """The event is not what the state machine sends."""


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _account(value) -> str:
    if not isinstance(value, str) or not _ACCOUNT.match(value):
        raise BadEvent(f"account {value!r} is not a 12-digit account ID")
    return value


def _regions(value) -> list[str]:
    """Regions go on a command line: only names shaped like regions."""
    regions = _csv(value) if isinstance(value, str) else value
    if not isinstance(regions, list) or not regions or not all(isinstance(r, str) and _REGION.match(r)
                                                               for r in regions):
        raise BadEvent(f"regions {value!r} is not a list of region names")
    return regions


def run_prefix(event: dict) -> str:
    """runs/DATE/RUN/: the run's objects, by the day it started (Execution.StartTime) and its name."""
    run, started = event.get("run"), event.get("started")
    if not isinstance(run, str) or not _RUN.match(run) or not isinstance(started, str) \
            or not re.match(r"^\d{4}-\d{2}-\d{2}", started):
        raise BadEvent(f"run {run!r} started {started!r}: not an execution's name and start time")
    return f"runs/{started[:10]}/{run}/"


def _bucket() -> str:
    return os.environ["RESULTS_BUCKET"]


def _client(service: str):
    """A client of a session of this invocation (boto3's default session would keep the
    credentials it first found)."""
    import boto3

    return boto3.Session().client(service)


def _s3():
    return _client("s3")


def _put(s3, key: str, body: bytes | str, content_type: str = "application/json") -> None:
    s3.put_object(Bucket=_bucket(), Key=key, Body=body.encode() if isinstance(body, str) else body,
                  ContentType=content_type)


def _get_json(s3, key: str, missing=None):
    try:
        return json.loads(s3.get_object(Bucket=_bucket(), Key=key)["Body"].read())
    except s3.exceptions.NoSuchKey:
        return missing


# -- the accounts ----------------------------------------------------------------------------------

def accounts(event: dict, context=None) -> dict:
    """The Map's items: every ACTIVE account of the organisation but the excluded ones, with the
    regions to read (one item per account, or per account and region), written to the bucket."""
    import boto3

    from ..sources.live.aws import client_config
    from ..sources.live.organization import active_accounts

    prefix = run_prefix(event)
    session = boto3.Session()
    region = session.region_name or "us-east-1"
    regions = _regions(os.environ.get("REGIONS") or region)
    excluded = set(_csv(os.environ.get("EXCLUDE_ACCOUNTS")))
    per_region = os.environ.get("ONE_INVOCATION_PER_REGION") == "true"
    items = []
    for account, partition in active_accounts(session, region, None, client_config()):
        if account in excluded:
            continue
        if per_region:   # the global services (IAM, CloudFront, S3's listing) are read once, with the first
            items += [{"account": account, "partition": partition, "regions": [r], "global": i == 0, "part": r}
                      for i, r in enumerate(regions)]
        else:
            items.append({"account": account, "partition": partition, "regions": regions, "global": True,
                          "part": "all"})
    s3 = _s3()
    _put(s3, prefix + ACCOUNTS, json.dumps(items))
    return {"run": event["run"], "started": event["started"], "bucket": _bucket(), "key": prefix + ACCOUNTS,
            "map_prefix": prefix + "map", "max_concurrency": int(os.environ.get("MAX_CONCURRENCY") or 10),
            "count": len(items)}


# -- one account -----------------------------------------------------------------------------------

def _timeout(context) -> float:
    """--timeout for each service-region: what the invocation has left, less a minute to upload."""
    left = context.get_remaining_time_in_millis() / 1000 if context is not None else 900
    return max(30.0, min(600.0, left - 60))


def _certwarden(argv: list[str]) -> tuple[int, str]:
    """`certwarden ARGV` in this process: the exit code and what it wrote to stderr (also
    passed on to the function's log)."""
    from ..cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(argv)
    sys.stderr.write(err.getvalue())
    return code, err.getvalue()


def live_argv(event: dict, outdir: Path, timeout: float, member_role: str | None) -> list[str]:
    """The `certwarden live` command for one item of the run."""
    from ..sources.live import SERVICES
    from ..sources.live.organization import role_arn

    account, regions = _account(event.get("account")), _regions(event.get("regions"))
    argv = ["live", "--no-config", "--region", ",".join(regions), "--fail-on", "none", "--allow-input-errors",
            "--timeout", f"{timeout:g}"]
    if member_role:
        partition = event.get("partition") or "aws"
        if partition not in ("aws", "aws-cn", "aws-us-gov"):
            raise BadEvent(f"partition {partition!r} is not an AWS partition")
        argv += ["--role-arn", role_arn(partition, account, member_role)]
    if event.get("global", True) is False:
        argv += ["--service", ",".join(name for name, (once, _) in SERVICES.items() if not once)]
    for name, fmt in OUTPUTS.items():
        argv += ["-o", f"{fmt}={outdir / name}"]
    return argv


def scan(event: dict, context=None) -> dict:
    """Scan the event's account in its regions and put the outputs in the bucket. An account
    that cannot be read at all (its role not assumed) is an error.json beside them, so the run
    goes on and the merge names it."""
    prefix = run_prefix(event)
    account = _account(event.get("account"))
    part = event.get("part") or "all"
    if part != "all":
        _regions([part])
    where = f"{prefix}accounts/{account}/{part}/"
    s3 = _s3()
    out = {"run": event["run"], "started": event["started"], "account": account, "part": part, "prefix": where}
    with tempfile.TemporaryDirectory() as tmp:
        argv = live_argv(event, Path(tmp), _timeout(context), os.environ.get("MEMBER_ROLE"))
        code, err = _certwarden(argv)
        written = [name for name in OUTPUTS if (Path(tmp) / name).is_file()]
        if code != 0 or len(written) != len(OUTPUTS):
            problem = (err.strip().splitlines() or [f"certwarden live exited {code}"])[-1].removeprefix("certwarden: ")
            _put(s3, where + ERROR, json.dumps({"account": account, "regions": event.get("regions"),
                                                "part": part, "error": problem}))
            return {**out, "error": problem}
        for name in written:
            _put(s3, where + name, (Path(tmp) / name).read_bytes(),
                 "application/gzip" if name.endswith(".gz") else "application/json")
        summary = json.loads((Path(tmp) / REPORT).read_text(encoding="utf-8"))["summary"]
    return {**out, "findings": summary["findings"], "by_severity": summary["by_severity"],
            "read_errors": summary["errors"]}


# -- the run ---------------------------------------------------------------------------------------

def _keys(s3, prefix: str) -> list[str]:
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=_bucket(), Prefix=prefix):
        out += [o["Key"] for o in page.get("Contents", [])]
    return out


def _id(finding: dict) -> str:
    return f"{finding['code']}/{finding['fingerprint']}"


def _brief(f: dict) -> dict:
    return {k: f.get(k) for k in ("code", "severity", "account", "region", "arn", "resource", "message")}


def merge(event: dict, context=None) -> dict:
    """The run's summary (runs/DATE/RUN/summary.json and latest.json), the Security Hub import
    when IMPORT_TO_SECURITY_HUB is true, and a notification of the new high and critical
    findings (and of accounts not read) on SUMMARY_TOPIC."""
    prefix = run_prefix(event)
    s3 = _s3()
    findings, read_errors, not_read, asff, parts = [], 0, [], [], set()
    for key in sorted(_keys(s3, prefix + "accounts/")):
        place = key.removeprefix(prefix + "accounts/").split("/", 2)
        if len(place) != 3:
            continue   # not an object a scan writes
        account, part, name = place
        if name == REPORT:
            doc = _get_json(s3, key)
            parts.add((account, part))
            findings += [f for f in doc["findings"] if not f.get("suppressions")]
            read_errors += len(doc["errors"])
        elif name == ERROR:
            parts.add((account, part))
            not_read.append(_get_json(s3, key))
        elif name == ASFF and _importing():
            asff += _get_json(s3, key)["Findings"]
    for item in _get_json(s3, prefix + ACCOUNTS, []):   # an organisation's run: who gave no result at all
        if (item["account"], item["part"]) not in parts:
            not_read.append({"account": item["account"], "regions": item["regions"], "part": item["part"],
                             "error": f"no result: the scan did not finish (the Map run's failures are under "
                                      f"{prefix}map)"})
    previous = _get_json(s3, LATEST, {})
    seen = set(previous.get("high_critical", []))
    current = {_id(f): f for f in findings if f["severity"] in NOTIFY}
    new = [_brief(current[i]) for i in sorted(current) if i not in seen]
    summary = {
        "run": event["run"], "started": event["started"], "previous_run": previous.get("run"),
        "accounts_read": len({a for a, p in parts} - {n["account"] for n in not_read}),
        "not_read": not_read, "findings": len(findings),
        "by_severity": dict(Counter(f["severity"] for f in findings)), "read_errors": read_errors,
        "new_high_critical": new, "high_critical": sorted(current),
        "objects": f"s3://{_bucket()}/{prefix}",
    }
    if _importing():
        summary["security_hub"] = _import(asff)
    body = json.dumps(summary, indent=1)
    _put(s3, prefix + SUMMARY, body)
    _put(s3, LATEST, body)
    topic = os.environ.get("SUMMARY_TOPIC")
    if topic and (new or not_read):
        _notify(topic, summary)
    return {k: summary[k] for k in ("run", "started", "accounts_read", "findings", "read_errors")} | {
        "new_high_critical": len(new), "not_read": len(not_read), "summary": f"s3://{_bucket()}/{prefix}{SUMMARY}"}


def _importing() -> bool:
    return os.environ.get("IMPORT_TO_SECURITY_HUB") == "true"


def _import(asff: list[dict]) -> dict:
    """Import the run into this account's Security Hub, archiving what the last import held and
    this one does not. Security Hub takes a custom product's findings only for the importing
    account (AwsAccountId), so a member's finding is filed under this account and names its own
    account in ProductFields certwarden/account (its resource ARN names it too)."""
    import boto3

    from .. import securityhub

    session = boto3.Session()
    own = session.client("sts").get_caller_identity()["Account"]
    rehomed = [f if f["AwsAccountId"] == own else
               {**f, "AwsAccountId": own, "ProductFields": {**f["ProductFields"], "certwarden/account": f["AwsAccountId"]}}
               for f in asff]
    done = securityhub.run(rehomed, session, session.region_name or "us-east-1")
    return {"product": done.product, "created": done.created, "updated": done.updated, "archived": done.archived,
            "failed": done.failed[:LISTED]}


def notification(summary: dict) -> tuple[str, str]:
    """(subject, message) of a run's notification: the new high and critical findings, first
    LISTED of them by name, and the accounts not read."""
    new, not_read = summary["new_high_critical"], summary["not_read"]
    subject = f"certwarden: {len(new)} new high/critical finding{'s' * (len(new) != 1)}"
    if not_read:
        subject += f", {len(not_read)} account{'s' * (len(not_read) != 1)} not read"
    lines = [f"Scheduled scan {summary['run']} started {summary['started']}: {summary['accounts_read']} "
             f"account(s) read, {summary['findings']} finding(s) open.",
             f"New high or critical findings since the last run ({summary['previous_run'] or 'none'}): {len(new)}"]
    lines += [f"- {f['severity']} {f['code']} {f['account']} {f['region'] or ''} {f['arn'] or f['resource']}: "
              f"{f['message']}" for f in new[:LISTED]]
    if len(new) > LISTED:
        lines.append(f"... and {len(new) - LISTED} more")
    if not_read:
        lines.append("Not read:")
        lines += [f"- {n['account']} ({n['part']}): {n['error']}" for n in not_read[:LISTED]]
    lines.append(f"Everything: {summary['objects']}{SUMMARY}")
    return subject[:100], "\n".join(lines)


def _notify(topic: str, summary: dict) -> None:
    subject, message = notification(summary)
    _client("sns").publish(TopicArn=topic, Subject=subject, Message=message[:250_000])
