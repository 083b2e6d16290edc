"""AWS Certificate Manager certificates."""
from __future__ import annotations

from .. import normalize
from ..attrmap import RAW, STR, TAGS, UPPER, TypeMap, at


def _key_algorithm(r) -> None:
    algorithm = r.get("KeyAlgorithm")
    if algorithm is not None:
        normalize.set_acm_key_algorithm(r.node, algorithm, r.spot("KeyAlgorithm"))


TYPES = {
    "AWS::CertificateManager::Certificate": TypeMap("acm_certificate", {
        "domain_name": at("DomainName", conv=STR),
        "validation_method": at("ValidationMethod", conv=UPPER, fix=True),
        "transparency_logging": at("CertificateTransparencyLoggingPreference", conv=UPPER, fix=True),
        "private_ca_arn": at("CertificateAuthorityArn", conv=RAW),
        "tags": at("Tags", conv=TAGS),
    }, build=_key_algorithm),
}
FOLDERS = {}
