"""AWS Certificate Manager certificates (requested, private or imported)."""
from __future__ import annotations

from ...model import Unresolved
from .. import normalize
from ..attrmap import BOOL, STR, TAGS, UPPER, TypeMap, at
from .values import PartialText


def _key_and_import(r) -> None:
    if r.get("key_algorithm") is not None:
        normalize.set_acm_key_algorithm(r.node, r.get("key_algorithm"), r.spot("key_algorithm"))
    written = [k for k in ("certificate_body", "private_key") if r.get(k) is not None]
    known = [k for k in written if not isinstance(r.get(k), Unresolved) or isinstance(r.get(k), PartialText)]
    if written:   # a value known only later may still be null: then it is not known to be imported
        r.node.set("imported", True if known else r.get(written[0]), r.spot((known or written)[0]))


TYPES = {
    "aws_acm_certificate": TypeMap("acm_certificate", {
        "domain_name": at("domain_name", conv=STR),
        "validation_method": at("validation_method", conv=UPPER, fix=True),
        "transparency_logging": at("options", "certificate_transparency_logging_preference", conv=UPPER, fix=True),
        "private_ca_arn": at("certificate_authority_arn"),
        "create_before_destroy": at("lifecycle", "create_before_destroy", conv=BOOL, fix=True),
        "tags": at("tags", conv=TAGS),
        "certificate_pem": at("certificate_body"),   # imported: parsed like an IAM body
        "certificate_chain_pem": at("certificate_chain"),
    }, build=_key_and_import),
}
FOLDERS = {}
