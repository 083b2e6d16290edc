"""AWS Private CA: certificate authorities, their certificates and CA certificate installs, and
which CA issues each certificate (a PCA one, or a private ACM one)."""
from __future__ import annotations

from .. import normalize
from ..attrmap import BOOL, STR, TAGS, TypeMap, at
from .values import Ref

_CONF = "certificate_authority_configuration"
_CRL = ("revocation_configuration", "crl_configuration")


def _certificate(r) -> None:
    normalize.set_pca_certificate(r, "template_arn", "validity", "type", "value")
    normalize.set_pca_usage(r, "api_passthrough")


TYPES = {
    "aws_acmpca_certificate_authority": TypeMap("pca_authority", {
        "ca_type": at("type", conv=STR),
        "key_algorithm": at(_CONF, "key_algorithm", conv=STR, fix=True),
        "signing_algorithm": at(_CONF, "signing_algorithm", conv=STR),
        "key_storage_security_standard": at("key_storage_security_standard", conv=STR, fix=True),
        "tags": at("tags", conv=TAGS),
        "crl_enabled": at(*_CRL, "enabled", conv=BOOL, fix=True),
        "crl_bucket": at(*_CRL, "s3_bucket_name"),
        "crl_object_acl": at(*_CRL, "s3_object_acl", conv=STR, fix=True),
        "ocsp_enabled": at("revocation_configuration", "ocsp_configuration", "enabled", conv=BOOL, fix=True),
    }, defaults={"ca_type": "SUBORDINATE"}),   # the provider's default (CloudFormation has none)
    "aws_acmpca_certificate": TypeMap("pca_certificate", build=_certificate),
}


# -- folders ------------------------------------------------------------------------------------
def _issued_by(b, r) -> None:
    issuer = b.target(r.get("certificate_authority_arn"), "pca_authority")
    if issuer is not None:
        b.graph.link(r.rec.address, issuer.id, "issued_by")


def _link(b, r) -> None:
    """A CA certificate: issued by a CA, and (through its CSR) certifying one."""
    _issued_by(b, r)
    csr = r.get("certificate_signing_request")
    subject = b.target(csr, "pca_authority") if isinstance(csr, Ref) else None
    if subject is not None:
        b.graph.link(r.rec.address, subject.id, "certifies")


def _activation(b, r) -> None:
    ca = b.target(r.get("certificate_authority_arn"), "pca_authority")
    cert = b.target(r.get("certificate"), "pca_certificate")
    if ca is not None and cert is not None and ca.id not in {n.id for n in b.graph.out(cert, "certifies")}:
        b.graph.link(cert.id, ca.id, "certifies")


def _crl_bucket(b, r) -> None:
    node = b.graph.nodes.get(r.rec.address)
    bucket = b.target(node.attrs.get("crl_bucket"), "s3_bucket") if node is not None else None
    if bucket is not None:
        b.graph.link(node.id, bucket.id, "writes_crl_to")


FOLDERS = {
    "aws_acmpca_certificate": _link,
    "aws_acmpca_certificate_authority_certificate": _activation,
    "aws_acmpca_certificate_authority": _crl_bucket,
    "aws_acm_certificate": _issued_by,
}
