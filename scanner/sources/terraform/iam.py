"""IAM server certificates."""
from __future__ import annotations

from ..attrmap import TAGS, TypeMap, at

TYPES = {
    # The raw bodies become key, signature and date attributes in certs.apply_certificate_pem.
    "aws_iam_server_certificate": TypeMap("iam_server_certificate", {
        "certificate_pem": at("certificate_body"),
        "certificate_chain_pem": at("certificate_chain"),
        "tags": at("tags", conv=TAGS),
    }),
}
FOLDERS = {}
