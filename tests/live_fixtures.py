"""Live fixtures: `fixtures/CODE/live_<label>.yaml` recipes, run on the moto server the tests start.

A recipe lists the resources to create (boto3 calls, in order) and the findings `certwarden live`
must report for the rule, exactly:

    services: [kms]                       # what the live scan reads (--service)
    steps:
      - kms.create_key: {Description: doomed}
        save: doomed                      # the answer, for ${doomed.KeyMetadata.KeyId} below
      - kms.schedule_key_deletion: {KeyId: "${doomed.KeyMetadata.KeyId}", PendingWindowInDays: 7}
    expect:
      - {resource: "${doomed.KeyMetadata.KeyId}"}

A step names a boto3 client method (`service.operation`) or a helper below (`helper.name`) for
what a call alone cannot make (a certificate, an activated CA). A failing fixture expects at
least one finding, a passing one none.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import boto3
import yaml

REGION = "eu-west-1"
_REF = re.compile(r"\$\{([A-Za-z0-9_.]+)\}")


def _lookup(saved: dict, path: str):
    value = saved
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def _fill(value, saved: dict):
    """${name.path} in the recipe replaced by what the step saved as `name` answered."""
    if isinstance(value, str):
        whole = _REF.fullmatch(value)
        if whole:
            return _lookup(saved, whole.group(1))
        return _REF.sub(lambda m: str(_lookup(saved, m.group(1))), value)
    if isinstance(value, dict):
        return {k: _fill(v, saved) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, saved) for v in value]
    return value


# -- helpers: what one call cannot make ------------------------------------------------------------
def _import_certificate(endpoint: str, cn: str, days: int = 90, start: int = -1) -> dict:
    """A self-signed certificate and key, imported into ACM."""
    from test_live_certs import make_cert

    body, key = make_cert(cn, days=days, start=start)
    acm = boto3.client("acm", region_name=REGION, endpoint_url=endpoint)
    return acm.import_certificate(Certificate=body, PrivateKey=key)


def _activate_ca(endpoint: str, arn: str, days: int) -> dict:
    """A CA certificate ending `days` from now installed on the private CA."""
    from test_live_certs import activate

    activate(boto3.client("acm-pca", region_name=REGION, endpoint_url=endpoint), arn, days)
    return {"CertificateAuthorityArn": arn}


HELPERS = {"import_certificate": _import_certificate, "activate_ca": _activate_ca}


def recipe(entry: Path) -> dict:
    return yaml.safe_load(entry.read_text(encoding="utf-8"))


def run(entry: Path, code: str, endpoint: str, run_cli) -> tuple[list[str], list[str]]:
    """(expected resources, reported resources) of the rule on the account the recipe builds."""
    doc = recipe(entry)
    saved: dict = {}
    for step in doc.get("steps") or []:
        (name, args), = ((k, v) for k, v in step.items() if k != "save")
        service, _, operation = name.partition(".")
        args = _fill(args or {}, saved)
        if service == "helper":
            answer = HELPERS[operation](endpoint, **args)
        else:
            answer = getattr(boto3.client(service, region_name=REGION, endpoint_url=endpoint), operation)(**args)
        if "save" in step:
            saved[step["save"]] = answer
    services = [a for s in doc["services"] for a in ("--service", s)]
    status, out, err = run_cli("live", "--endpoint-url", endpoint, "--region", REGION, "--no-config",
                               "--select", code, "-o", "json", *services)
    assert status in (0, 1), err
    reported = sorted(f["resource"] for f in json.loads(out)["findings"] if f["code"] == code)
    expected = sorted(str(_fill(e["resource"], saved)) for e in doc.get("expect") or [])
    return expected, reported
