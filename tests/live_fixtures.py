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
least one finding, a passing one none. Optional keys:

    now: 25                               # judge as of 25 days from today (--now)
    config: {extends: [sec09-bp01]}       # the policy file the scan runs with (else --no-config)
    gaps:                                 # fields moto leaves out of an answer, added to it
      kms.GetKeyRotationStatus: {RotationPeriodInDays: 730}

A gap is only for a field moto does not return (the recipe says which, and why): every answer of
that operation the scan receives is moto's own with those fields merged in (a mapping merges
into each item of a list), and botocore's Stubber checks the result against the API model.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path

import boto3
import yaml
from botocore import xform_name
from botocore.exceptions import ParamValidationError
from botocore.stub import Stubber
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

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


# -- certificate material, made at test time (test keys only, never written) -----------------------
_CURVES = {"EC_prime256v1": ec.SECP256R1, "EC_secp384r1": ec.SECP384R1, "EC_secp521r1": ec.SECP521R1}


def _private_key(spec: str):
    """A key named as ACM names key algorithms: RSA_1024, RSA_2048, EC_prime256v1, ..."""
    if spec.startswith("RSA_"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(spec[4:]))
    return ec.generate_private_key(_CURVES[spec]())


def _material(saved: dict, cn: str, days: int = 90, start: int = -1, key: str = "EC_prime256v1",
              sha1: bool = False, ca: bool = False, issuer: str | None = None, ku: list | None = None,
              eku: list | None = None):
    """(certificate, key) valid from `start` to `days` days from today; `issuer` names a saved
    `helper.ca_certificate`, else it is self-signed. `sha1` needs an RSA key."""
    from make_material_fixtures import build, sha1_signed, usage

    now = datetime.now(timezone.utc).replace(microsecond=0)
    signer = saved[issuer]["material"] if issuer else None
    cert, private = build(cn, key=_private_key(key), issuer=signer, ca=ca, start=now + timedelta(days=start),
                          days=days - start, ku=usage(*ku) if ku else None,
                          eku=[getattr(ExtendedKeyUsageOID, e.upper()) for e in eku] if eku else None)
    if sha1:
        assert key.startswith("RSA_"), "a SHA-1 signature is made for RSA keys only"
        cert = sha1_signed(cert)
    return cert, private


def _pems(saved: dict, chain: list | None, **material) -> dict:
    from make_material_fixtures import key_pem, pem

    cert, private = _material(saved, **material)
    out = {"body": pem(cert), "key": key_pem(private)}
    if chain:
        out["chain"] = "".join(pem(saved[name]["material"][0]) for name in chain)
    return out


# -- helpers: what one call cannot make ------------------------------------------------------------
def _ca_certificate(endpoint: str, saved: dict, **material) -> dict:
    """A CA certificate and key kept for `issuer:` and `chain:` of later steps (not sent to AWS)."""
    return {"material": _material(saved, ca=True, **material)}


def _import_certificate(endpoint: str, saved: dict, chain: list | None = None, tags: list | None = None,
                        **material) -> dict:
    """A certificate and its key, imported into ACM (with `chain`, saved CA names in order)."""
    made = _pems(saved, chain, **material)
    args = {"Certificate": made["body"], "PrivateKey": made["key"]}
    if "chain" in made:
        args["CertificateChain"] = made["chain"]
    if tags:
        args["Tags"] = tags
    return boto3.client("acm", region_name=REGION, endpoint_url=endpoint).import_certificate(**args)


def _upload_server_certificate(endpoint: str, saved: dict, name: str, chain: list | None = None,
                               **material) -> dict:
    """A certificate and its key, uploaded as an IAM server certificate (IAM takes any dates)."""
    made = _pems(saved, chain, **material)
    args = {"ServerCertificateName": name, "CertificateBody": made["body"], "PrivateKey": made["key"]}
    if "chain" in made:
        args["CertificateChain"] = made["chain"]
    return boto3.client("iam", region_name=REGION, endpoint_url=endpoint).upload_server_certificate(**args)


def _activate_ca(endpoint: str, saved: dict, arn: str, days: int) -> dict:
    """A CA certificate ending `days` from now installed on the private CA."""
    from test_live_certs import activate

    activate(boto3.client("acm-pca", region_name=REGION, endpoint_url=endpoint), arn, days)
    return {"CertificateAuthorityArn": arn}


HELPERS = {"ca_certificate": _ca_certificate, "import_certificate": _import_certificate,
           "upload_server_certificate": _upload_server_certificate, "activate_ca": _activate_ca}


# -- gaps: fields moto does not return -------------------------------------------------------------
def _merge(answer, fields):
    if isinstance(answer, list) and isinstance(fields, dict):
        return [_merge(item, fields) for item in answer]
    if isinstance(answer, dict) and isinstance(fields, dict):
        return {**answer, **{k: _merge(answer.get(k), v) for k, v in fields.items()}}
    return fields


def _problems(client, operation: str, answer: dict) -> set[str]:
    """What botocore's Stubber finds wrong with an answer, by the API model."""
    try:
        Stubber(client).add_response(xform_name(operation), answer)
    except ParamValidationError as exc:
        return set(exc.kwargs["report"].splitlines())
    return set()


def _complete(client, operation: str, fields: dict, http_response, parsed: dict, **_) -> None:
    if http_response.status_code >= 300:
        return
    answer = {k: v for k, v in parsed.items() if k != "ResponseMetadata"}
    completed = _merge(answer, fields)
    # moto's own answers stray from the model here and there (an empty TagList): only what the
    # recipe adds must fit it.
    added = _problems(client, operation, completed) - _problems(client, operation, answer)
    assert not added, f"{operation} with the recipe's gap does not fit the API model: {sorted(added)}"
    parsed.update(completed)


def _answer_gaps(monkeypatch, gaps: dict) -> None:
    """The scan's clients get moto's answers with the recipe's missing fields merged in."""
    from certwarden.sources.live import aws as live_aws

    real = live_aws.Reader.client

    def client(self, service: str, region: str):
        made = real(self, service, region)
        for target, fields in gaps.items():
            name, _, operation = target.partition(".")
            if name == service:
                event = f"after-call.{made.meta.service_model.service_id.hyphenize()}.{operation}"
                made.meta.events.register(event, partial(_complete, made, operation, fields))
        return made
    monkeypatch.setattr(live_aws.Reader, "client", client)


# -- running a recipe ------------------------------------------------------------------------------
def recipe(entry: Path) -> dict:
    return yaml.safe_load(entry.read_text(encoding="utf-8"))


def _scan_options(doc: dict, tmp_path: Path) -> list[str]:
    out = [a for s in doc["services"] for a in ("--service", s)]
    if "now" in doc:
        out += ["--now", (datetime.now(timezone.utc) + timedelta(days=doc["now"])).date().isoformat()]
    if "config" in doc:
        policy = tmp_path / "policy.yaml"
        policy.write_text(yaml.safe_dump(doc["config"]), encoding="utf-8")
        return out + ["--config", str(policy)]
    return out + ["--no-config"]


def run(entry: Path, code: str, endpoint: str, run_cli, monkeypatch, tmp_path: Path) -> tuple[list[str], list[str]]:
    """(expected resources, reported resources) of the rule on the account the recipe builds."""
    doc = recipe(entry)
    saved: dict = {}
    for step in doc.get("steps") or []:
        (name, args), = ((k, v) for k, v in step.items() if k != "save")
        service, _, operation = name.partition(".")
        args = _fill(args or {}, saved)
        if service == "helper":
            answer = HELPERS[operation](endpoint, saved, **args)
        else:
            answer = getattr(boto3.client(service, region_name=REGION, endpoint_url=endpoint), operation)(**args)
        if "save" in step:
            saved[step["save"]] = answer
    if doc.get("gaps"):
        _answer_gaps(monkeypatch, doc["gaps"])
    status, out, err = run_cli("live", "--endpoint-url", endpoint, "--region", REGION, "--select", code,
                               "-o", "json", *_scan_options(doc, tmp_path))
    assert status in (0, 1), err
    reported = sorted(f["resource"] for f in json.loads(out)["findings"] if f["code"] == code)
    expected = sorted(str(_fill(e["resource"], saved)) for e in doc.get("expect") or [])
    return expected, reported
