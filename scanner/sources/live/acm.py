"""ACM certificates (issued, imported and private), as acm_certificate nodes.

The attributes are those the template adapters write, plus what only a live certificate has
(status, users, renewal state, dates), so the same rules judge both.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

from ...model import Unresolved
from .. import normalize
from .aws import Ctx

# SHA256WITHRSA, SHA1WITHECDSA, MD5WITHRSA (and moto's ECDSA-WITH-SHA256): the hash as certs.py names it.
_HASH = re.compile(r"(MD5|SHA-?\d+)", re.I)


def signature_hash(algorithm) -> object:
    m = _HASH.search(algorithm) if isinstance(algorithm, str) else None
    return m.group(1).upper().replace("-", "") if m else None


def when(value) -> object:
    """A date from the API as an aware datetime (botocore gives naive ones for some services)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return value


def _validation_method(cert: dict) -> object:
    methods = {o["ValidationMethod"] for o in cert.get("DomainValidationOptions", []) if o.get("ValidationMethod")}
    # One certificate, one method: DNS if any domain is validated by DNS, since ACM renews those.
    return "DNS" if "DNS" in methods else methods.pop() if methods else None


# DescribeCertificate's usage names, as parsed certificates name them (scanner.material).
_KEY_USAGE = {"DIGITAL_SIGNATURE": "digital_signature", "NON_REPUDIATION": "content_commitment",
              "KEY_ENCIPHERMENT": "key_encipherment", "DATA_ENCIPHERMENT": "data_encipherment",
              "KEY_AGREEMENT": "key_agreement", "CERTIFICATE_SIGNING": "key_cert_sign",
              "CRL_SIGNING": "crl_sign", "ENCIPHER_ONLY": "encipher_only", "DECIPHER_ONLY": "decipher_only"}
_EXTENDED_KEY_USAGE = {"TLS_WEB_SERVER_AUTHENTICATION": "server_auth", "TLS_WEB_CLIENT_AUTHENTICATION": "client_auth",
                       "CODE_SIGNING": "code_signing", "EMAIL_PROTECTION": "email_protection",
                       "TIME_STAMPING": "time_stamping", "OCSP_SIGNING": "ocsp_signing", "ANY": "any"}


def _set_usage(node, cert: dict) -> None:
    """Usage as ACM describes it. Only an answer that lists key usages says anything: without
    them the usage is not known (the certificate is not issued yet), and nothing is judged."""
    if "KeyUsages" not in cert:
        return
    key_usage = [_KEY_USAGE.get(u["Name"], u["Name"].lower()) for u in cert["KeyUsages"]]
    eku = [_EXTENDED_KEY_USAGE.get(u["Name"], u.get("OID") or u["Name"].lower())
           for u in cert.get("ExtendedKeyUsages", []) if u.get("Name") != "NONE"]
    extensions = [name for name, present in (("key_usage", key_usage), ("extended_key_usage", eku),
                                             ("subject_alt_name", cert.get("SubjectAlternativeNames"))) if present]
    for attr, value in (("key_usage", key_usage), ("extended_key_usage", eku), ("extensions", extensions)):
        node.set(attr, value)


def _set_imported_body(ctx: Ctx, acm, node, arn: str) -> None:
    """An imported certificate's own body and chain: usage, extensions and the chain's links
    are read from the certificates themselves (certs.apply_certificate_pem). When they cannot be
    read, what DescribeCertificate said stands and only the chain is unknown."""
    got = ctx.detail(acm.get_certificate, "GetCertificate", CertificateArn=arn)
    if isinstance(got, Unresolved):
        node.set("chain", got)
        node.set("chain_problem", got)
        return
    node.set("certificate_pem", got["Certificate"])
    if got.get("CertificateChain"):
        node.set("certificate_chain_pem", got["CertificateChain"])


THREADS = 4   # certificates read at once; RATES (aws.py) keeps them within ACM's quotas


def collect(ctx: Ctx) -> None:
    acm = ctx.client("acm")
    # ListCertificates returns only RSA_2048 certificates unless asked for every key type.
    key_types = acm.meta.service_model.shape_for("KeyAlgorithm").enum
    listed = list(ctx.pages(acm, "list_certificates", "CertificateSummaryList", Includes={"keyTypes": key_types}))
    ctx.each(listed, lambda fork, item: _certificate(fork, acm, item["CertificateArn"]), THREADS)


def _certificate(ctx: Ctx, acm, arn: str) -> None:
    """Every read of one certificate, as one acm_certificate node of ctx."""
    got = ctx.detail(acm.describe_certificate, "DescribeCertificate", CertificateArn=arn)
    if isinstance(got, Unresolved):
        return   # reported once for the region; a node of nothing but an ARN would only mislead
    cert = got["Certificate"]
    node = ctx.node("acm_certificate", arn, cert.get("DomainName") or arn, "AWS::CertificateManager::Certificate")
    node.set("domain_name", cert.get("DomainName"))
    node.set("imported", cert.get("Type") == "IMPORTED")
    node.set("in_use_by", list(cert.get("InUseBy", [])))
    for attr, field in (("status", "Status"), ("renewal_eligibility", "RenewalEligibility"),
                        ("private_ca_arn", "CertificateAuthorityArn")):
        if cert.get(field) is not None:
            node.set(attr, cert[field])
    method = _validation_method(cert)
    if method is not None:
        node.set("validation_method", method)
    renewal = cert.get("RenewalSummary", {}).get("RenewalStatus")
    if renewal is not None:
        node.set("renewal_status", renewal)
    logging = cert.get("Options", {}).get("CertificateTransparencyLoggingPreference")
    if logging is not None:
        node.set("transparency_logging", logging)
    if cert.get("KeyAlgorithm"):   # the API writes RSA-2048 where requests say RSA_2048
        normalize.set_acm_key_algorithm(node, cert["KeyAlgorithm"].replace("-", "_"), node.where)
    if cert.get("SignatureAlgorithm"):
        node.set("signature_hash", signature_hash(cert["SignatureAlgorithm"]))
    for attr, field in (("not_before", "NotBefore"), ("not_after", "NotAfter")):
        if cert.get(field) is not None:
            node.set(attr, when(cert[field]))
    _set_usage(node, cert)
    if cert.get("Type") == "IMPORTED":
        _set_imported_body(ctx, acm, node, arn)
    tags = ctx.detail(acm.list_tags_for_certificate, "ListTagsForCertificate", CertificateArn=arn)
    node.set("tags", tags if isinstance(tags, Unresolved)
             else {t["Key"]: t.get("Value", "") for t in tags.get("Tags", [])})
