"""IAM server certificates, as iam_server_certificate nodes (IAM is global: read once per account).

Only the public body is kept; certs.apply_certificate_pem turns it into key, signature and date
attributes before the rules run. IAM never returns a private key, and none is asked for.
"""
from __future__ import annotations

from ...model import Unresolved
from .aws import Ctx


def collect(ctx: Ctx) -> None:
    iam = ctx.client("iam")
    for meta in ctx.pages(iam, "list_server_certificates", "ServerCertificateMetadataList"):
        name = meta["ServerCertificateName"]
        node = ctx.node("iam_server_certificate", meta["Arn"], name, "AWS::IAM::ServerCertificate")
        got = ctx.detail(iam.get_server_certificate, "GetServerCertificate", ServerCertificateName=name)
        if isinstance(got, Unresolved):
            node.set("certificate_pem", got)   # every parsed attribute reads as unknown, no rule guesses
            continue
        cert = got["ServerCertificate"]
        node.set("certificate_pem", cert["CertificateBody"])
        if cert.get("CertificateChain"):
            node.set("certificate_chain_pem", cert["CertificateChain"])
        node.set("tags", {t["Key"]: t.get("Value", "") for t in cert.get("Tags", [])})
