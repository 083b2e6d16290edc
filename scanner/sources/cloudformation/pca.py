"""AWS Private CA: certificate authorities, their certificates and activations, and which CA
issues each certificate (a PCA one, or a private ACM one)."""
from __future__ import annotations

from ...dates import pca_not_before
from .. import normalize
from ..attrmap import BOOL, STR, TAGS, TypeMap, at
from .resolve import ResRef

_CRL = ("RevocationConfiguration", "CrlConfiguration")


def _certificate(r) -> None:
    normalize.set_pca_certificate(r, "TemplateArn", "Validity", "Type", "Value")
    normalize.set_pca_usage(r, "ApiPassthrough")
    start = r.get("ValidityNotBefore")
    if isinstance(start, dict):
        r.node.set("not_before", pca_not_before(r.get("ValidityNotBefore", "Type"),
                                                          r.get("ValidityNotBefore", "Value")),
                   r.spot("ValidityNotBefore"))


TYPES = {
    "AWS::ACMPCA::CertificateAuthority": TypeMap("pca_authority", {
        "ca_type": at("Type", conv=STR),
        "key_algorithm": at("KeyAlgorithm", conv=STR, fix=True),
        "signing_algorithm": at("SigningAlgorithm", conv=STR),
        "key_storage_security_standard": at("KeyStorageSecurityStandard", conv=STR, fix=True),
        "tags": at("Tags", conv=TAGS),
        "crl_enabled": at(*_CRL, "Enabled", conv=BOOL, fix=True),
        "crl_bucket": at(*_CRL, "S3BucketName"),
        "crl_object_acl": at(*_CRL, "S3ObjectAcl", conv=STR, fix=True),
        "ocsp_enabled": at("RevocationConfiguration", "OcspConfiguration", "Enabled", conv=BOOL, fix=True),
    }),
    "AWS::ACMPCA::Certificate": TypeMap("pca_certificate", build=_certificate),
}


# -- folders ------------------------------------------------------------------------------------
def _issued_by(tpl, r) -> None:
    issuer = tpl.target(r.get("CertificateAuthorityArn"))
    if issuer is not None and issuer.kind == "pca_authority":
        tpl.graph.link(r.node.id, issuer.id, "issued_by")


def _link(tpl, r) -> None:
    """A CA certificate: issued by a CA, and (through its CSR) certifying one."""
    _issued_by(tpl, r)
    csr = r.get("CertificateSigningRequest")
    subject = tpl.target(csr) if isinstance(csr, ResRef) else None
    if subject is not None and subject.kind == "pca_authority":
        tpl.graph.link(r.node.id, subject.id, "certifies")


def _activation(tpl, r) -> None:
    ca = tpl.target(r.get("CertificateAuthorityArn"))
    cert = tpl.target(r.get("Certificate"))
    if ca is not None and cert is not None and cert.kind == "pca_certificate" and ca.kind == "pca_authority":
        if not any(e.src == cert.id and e.dst == ca.id and e.kind == "certifies" for e in tpl.graph.edges):
            tpl.graph.link(cert.id, ca.id, "certifies")


def _crl_bucket(tpl, r) -> None:
    bucket = tpl.target(r.node.attrs.get("crl_bucket"))
    if bucket is not None and bucket.kind == "s3_bucket":
        tpl.graph.link(r.name, bucket.id, "writes_crl_to")


FOLDERS = {
    "AWS::ACMPCA::Certificate": _link,
    "AWS::ACMPCA::CertificateAuthorityActivation": _activation,
    "AWS::ACMPCA::CertificateAuthority": _crl_bucket,
    "AWS::CertificateManager::Certificate": _issued_by,
}
