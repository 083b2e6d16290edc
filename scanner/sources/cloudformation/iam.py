"""IAM server certificates."""
from __future__ import annotations

from ..attrmap import TAGS, TypeMap, at

TYPES = {
    # The raw bodies become key, signature and date attributes in certs.apply_certificate_pem.
    "AWS::IAM::ServerCertificate": TypeMap("iam_server_certificate", {
        "certificate_pem": at("CertificateBody"),
        "certificate_chain_pem": at("CertificateChain"),
        "tags": at("Tags", conv=TAGS),
    }),
}
FOLDERS = {}
