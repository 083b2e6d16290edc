"""Values that mean the same in every format, shared by the CloudFormation handlers
(sources/cloudformation/), the Terraform ones (sources/terraform/) and the live readers: how a
written value reads as a boolean, number, string or tags, and service values such as a rotation
rate, an ACM key algorithm or an EventBridge pattern read alike whichever adapter found them.
"""
from __future__ import annotations

import json
import math
import re
from typing import TYPE_CHECKING, Any

from ..model import Node, Unresolved, Where

if TYPE_CHECKING:
    from .resource_view import ResourceView



# -- value conversions: each returns the converted value or Unresolved ------------------------
def to_bool(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    return v if isinstance(v, Unresolved) else Unresolved(f"not a boolean: {v!r}")


def to_int(v):
    if isinstance(v, bool):
        return Unresolved("not a number")
    if isinstance(v, (int, float)):
        return int(v) if math.isfinite(v) else Unresolved(f"not a finite number: {v!r}")
    if isinstance(v, str):
        try:
            return int(v.strip())
        except ValueError:
            pass
    return v if isinstance(v, Unresolved) else Unresolved(f"not a number: {v!r}")


def to_str(v):
    if isinstance(v, (str, int, float)) and not isinstance(v, bool):
        return str(v)
    return v if isinstance(v, Unresolved) else Unresolved("value known only after deployment")


def to_tags(v):
    if isinstance(v, list):
        out = {}
        for t in v:
            if isinstance(t, dict) and isinstance(t.get("Key"), str):
                out[t["Key"]] = t.get("Value") if isinstance(t.get("Value"), str) else Unresolved("tag value")
        return out
    if isinstance(v, dict):   # SAM and some resources take a plain map
        return {k: (val if isinstance(val, str) else Unresolved("tag value")) for k, val in v.items()}
    return v if isinstance(v, Unresolved) else {}


def template_name(arn):
    """An ACM PCA template ARN as the template's name (EndEntityCertificate/V1)."""
    arn = to_str(arn)
    return arn.split(":template/")[-1] if isinstance(arn, str) else arn





def canned_acl(v):
    """CloudFormation's PublicRead and Terraform's public-read name the same canned ACL."""
    v = to_str(v)
    if isinstance(v, Unresolved):
        return v
    out = []
    for i, ch in enumerate(v):
        if ch.isupper() and i:
            out.append("-")
        out.append(ch.lower())
    return "".join(out).replace("--", "-")


# ACM and ACM PCA key algorithm names (RSA_2048, EC_prime256v1, EC_secp384r1) as parsed keys read.
_ACM_KEY = re.compile(r"^(RSA|EC)_(?:prime|secp)?(\d+)(?:v1|r1)?$")


def acm_key_algorithm(name: Any) -> tuple[Any, Any]:
    """("RSA", 2048) for "RSA_2048"; an unknown or unresolved name gives Unresolved bits."""
    m = _ACM_KEY.match(name) if isinstance(name, str) else None
    if m:
        return m.group(1), int(m.group(2))
    return name, name if isinstance(name, Unresolved) else Unresolved(f"key algorithm {name}")


def set_pca_certificate(r: ResourceView, template: str, validity: str, vtype: str, value: str) -> None:
    """An ACM PCA certificate's template name and (type, value) validity, whatever the keys are called."""
    arn = r.get(template)
    if arn is not None:
        r.node.set("template", template_name(arn), r.spot(template))
    kind, amount = r.get(validity, vtype), r.get(validity, value)
    if kind is not None and amount is not None:
        r.node.set("validity", (kind, amount), r.spot(validity))


# ACM Private CA's ApiPassthrough names, in the names parsed certificates use (scanner.material).
_PCA_KEY_USAGE = {"DigitalSignature": "digital_signature", "NonRepudiation": "content_commitment",
                  "KeyEncipherment": "key_encipherment", "DataEncipherment": "data_encipherment",
                  "KeyAgreement": "key_agreement", "KeyCertSign": "key_cert_sign", "CRLSign": "crl_sign",
                  "EncipherOnly": "encipher_only", "DecipherOnly": "decipher_only"}
_PCA_EKU = {"SERVER_AUTH": "server_auth", "CLIENT_AUTH": "client_auth", "CODE_SIGNING": "code_signing",
            "EMAIL_PROTECTION": "email_protection", "TIME_STAMPING": "time_stamping",
            "OCSP_SIGNING": "ocsp_signing"}


def set_pca_usage(r: ResourceView, *path: str) -> None:
    """Key usage and extended key usage an ACM PCA certificate's ApiPassthrough asks for.

    Terraform writes the passthrough as a JSON string (jsonencode), CloudFormation as a mapping.
    Only what is written is set: a template without passthrough leaves the usage unknown.
    """
    passthrough = r.get(*path)
    if isinstance(passthrough, str):
        try:
            passthrough = json.loads(passthrough)
        except ValueError:
            passthrough = Unresolved("api_passthrough is not JSON")
    where = r.spot(*path)
    if isinstance(passthrough, Unresolved):
        r.node.set("key_usage", passthrough, where)
        r.node.set("extended_key_usage", passthrough, where)
        return
    extensions = passthrough.get("Extensions") if isinstance(passthrough, dict) else None
    if not isinstance(extensions, dict):
        return
    flags = extensions.get("KeyUsage")
    if isinstance(flags, dict):
        r.node.set("key_usage", [_PCA_KEY_USAGE.get(k, k) for k, on in flags.items() if on is True], where)
    ekus = extensions.get("ExtendedKeyUsage")
    if isinstance(ekus, list):
        names = [_PCA_EKU.get(e.get("ExtendedKeyUsageType"), e.get("ExtendedKeyUsageType"))
                 or e.get("ExtendedKeyUsageObjectIdentifier") for e in ekus if isinstance(e, dict)]
        r.node.set("extended_key_usage", [n for n in names if isinstance(n, str)], where)


def set_public_access_block(r: ResourceView, bucket: Node, block: Where, settings: dict[str, tuple],
                            **spot_args) -> None:
    """A public access block that is given: each setting as written, and one left out as false,
    which is what the API stores (the all-on default applies only to a bucket without a block)."""
    bucket.set("has_public_access_block", True, block)
    for attr, path in settings.items():
        if r.put(attr, *path, conv=to_bool, node=bucket, **spot_args) is None:
            bucket.set(attr, False, block)


def upper(v):
    v = to_str(v)
    return v.upper() if isinstance(v, str) else v


_RATE = re.compile(r"^rate\((\d+)\s+days?\)$", re.I)


def rotation_days(days, expression) -> Any:
    """Secrets Manager rotation interval in days: AutomaticallyAfterDays, else a rate() schedule
    (a cron schedule is not an interval: Unresolved). None when neither is written."""
    if days is not None:
        return to_int(days)
    if expression is None:
        return None
    m = _RATE.match(expression.strip()) if isinstance(expression, str) else None
    if m:
        return int(m.group(1))
    return expression if isinstance(expression, Unresolved) else \
        Unresolved(f"schedule {expression} is not a rate in days")


def set_secret_key(node: Node, value, local: str | None, where: Where) -> None:
    """The KMS key a secret names: `local` is the node id of a key of the same unit (customer
    managed by construction), else the value as written (an ARN, an alias, a key ID)."""
    if local is not None:
        node.set("kms_key_id", local, where)
    elif value is not None:
        node.set("kms_key_id", to_str(value), where)


def set_acm_key_algorithm(node: Node, value, where: Where) -> None:
    """ACM's RSA_2048 / EC_prime256v1 as the key_algorithm and key_bits parsed keys have."""
    name, bits = acm_key_algorithm(to_str(value))
    node.set("key_algorithm", name, where)
    node.set("key_bits", bits, where)


def set_rest_domain_policy(node: Node, value, where: Where) -> None:
    """API Gateway REST (v1) domains default to TLS_1_0, unlike HTTP (v2) ones (kinds.py)."""
    node.set("security_policy", upper(value) if value is not None else "TLS_1_0",
             where if value is not None else None)


def negotiation_policy(name, attributes: list[tuple]) -> Any:
    """A classic load balancer's SSL negotiation policy: the predefined policy it references, or
    custom:<name> when it lists protocols and ciphers of its own (never a predefined policy)."""
    if len(attributes) == 1 and attributes[0][0] == "Reference-Security-Policy":
        return to_str(attributes[0][1])
    return f"custom:{name}" if isinstance(name, str) else Unresolved("custom negotiation policy")


# Protocols a negotiation policy may enable that are below TLS 1.2.
_WEAK_PROTOCOLS = ("Protocol-SSLv2", "Protocol-SSLv3", "Protocol-TLSv1", "Protocol-TLSv1.1")


def set_negotiation_attributes(node: Node, attributes: list[tuple], where: Where) -> None:
    """The predefined policy a negotiation policy references, and the protocols below TLS 1.2 it
    turns on (a value known only later makes the list unknown)."""
    weak: Any = []
    for name, value in attributes:
        if name == "Reference-Security-Policy":
            node.set("reference_policy", to_str(value), where)
        elif name in _WEAK_PROTOCOLS:
            on = to_bool(value)
            if isinstance(on, Unresolved):
                weak = on
            elif on and isinstance(weak, list):
                weak.append(name.removeprefix("Protocol-"))
    node.set("weak_protocols", weak, where)


def _as_list(v) -> list:
    return v if isinstance(v, list) else [v] if v is not None else []


def set_event_pattern(node: Node, pattern, where: Where) -> None:
    """An EventBridge pattern (JSON text or structure) as event_sources and detail_types."""
    if isinstance(pattern, str):
        try:
            pattern = json.loads(pattern)
        except ValueError:
            pattern = Unresolved("event pattern is not JSON")
    if isinstance(pattern, Unresolved):
        node.set("event_sources", pattern, where)
    elif isinstance(pattern, dict):
        node.set("event_sources", _as_list(pattern.get("source")), where)
        node.set("detail_types", _as_list(pattern.get("detail-type")), where)


def rule_enabled(state) -> Any:
    """An EventBridge rule State: anything but DISABLED delivers events."""
    return state if isinstance(state, Unresolved) else str(state).upper() != "DISABLED"
