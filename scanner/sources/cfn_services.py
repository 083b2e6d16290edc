"""CloudFormation handlers for the services around keys and certificates: ACM and IAM
certificates, Secrets Manager, TLS endpoints (load balancers, CloudFront, API Gateway), and the
monitoring resources (EventBridge rules, Config rules). Registered into cfn.NODE_TYPES/FOLDERS.
"""
from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any, Callable

from .. import certs
from ..model import Node, Unresolved, Where
from .cfn_resolve import ResRef

# The converters live in cfn.py; this module is imported at its end, once they exist.
from .cfn import Resource, Template, to_bool, to_int, to_str, to_tags  # noqa: E402


def _upper(v):
    v = to_str(v)
    return v.upper() if isinstance(v, str) else v


def _acm_certificate(r: Resource) -> None:
    r.put("domain_name", "DomainName", conv=to_str)
    r.put("validation_method", "ValidationMethod", conv=_upper)
    r.put("transparency_logging", "CertificateTransparencyLoggingPreference", conv=_upper)
    r.put("private_ca_arn", "CertificateAuthorityArn")
    r.put("tags", "Tags", conv=to_tags)
    algorithm = r.get("KeyAlgorithm")
    if algorithm is not None:
        name, bits = certs.acm_key_algorithm(to_str(algorithm))
        r.node.set("key_algorithm", name, r.spot("KeyAlgorithm"))
        r.node.set("key_bits", bits, r.spot("KeyAlgorithm"))


def _iam_server_certificate(r: Resource) -> None:
    # The raw body is turned into key/signature/date attributes by certs.apply_certificate_pem.
    r.put("certificate_pem", "CertificateBody")
    r.put("tags", "Tags", conv=to_tags)


def _secret(r: Resource) -> None:
    key = r.get("KmsKeyId")
    if isinstance(key, ResRef):   # a key of this template: customer managed by construction
        r.node.set("kms_key_id", key.target, r.spot("KmsKeyId"))
    elif key is not None:
        r.node.set("kms_key_id", to_str(key), r.spot("KmsKeyId"))
    r.put("tags", "Tags", conv=to_tags)


def _lb_listener(r: Resource) -> None:
    r.put("protocol", "Protocol", conv=_upper)
    r.put("ssl_policy", "SslPolicy", conv=to_str)
    r.put("port", "Port", conv=to_int)


def _classic_policy(r: Resource, listener: dict, port: Any) -> tuple[Any, Where | None]:
    """The SSL negotiation policy of a classic listener: a predefined name, or custom:<name>."""
    policies = r.get("Policies")
    if not isinstance(policies, list):
        return (policies, None) if isinstance(policies, Unresolved) else (None, None)
    names = listener.get("PolicyNames") if isinstance(listener.get("PolicyNames"), list) else []
    for i, p in enumerate(policies):
        if not isinstance(p, dict) or p.get("PolicyType") != "SSLNegotiationPolicyType":
            continue
        ports = p.get("LoadBalancerPorts") if isinstance(p.get("LoadBalancerPorts"), list) else []
        if p.get("PolicyName") not in names and str(port) not in [str(x) for x in ports]:
            continue
        attrs = [a for a in p.get("Attributes") or [] if isinstance(a, dict)]
        where = r.spot("Policies", i)
        if len(attrs) == 1 and attrs[0].get("Name") == "Reference-Security-Policy":
            return to_str(attrs[0].get("Value")), where
        # Protocol and cipher attributes of its own: not a predefined (approved) policy.
        return f"custom:{p.get('PolicyName')}", where
    return None, None


def _classic_lb(r: Resource) -> None:
    listeners = r.get("Listeners")
    for i, listener in enumerate(listeners if isinstance(listeners, list) else []):
        if not isinstance(listener, dict):
            continue
        node = r.tpl.graph.add(Node(id=f"{r.name}/Listeners/{i}", kind="lb_listener", name=r.name, source="cfn",
                                    where=r.spot("Listeners", i), type=r.node.type, attrs={"classic": True}))
        r.put("protocol", "Listeners", i, "Protocol", conv=_upper, node=node)
        port = r.put("port", "Listeners", i, "LoadBalancerPort", conv=to_int, node=node)
        policy, where = _classic_policy(r, listener, port)
        if policy is not None:
            node.set("ssl_policy", policy, where)


def _cloudfront(r: Resource) -> None:
    vc = ("DistributionConfig", "ViewerCertificate")
    if r.get(*vc) is not None:
        r.node.set("has_viewer_certificate", True, r.spot(*vc))
        r.put("default_certificate", *vc, "CloudFrontDefaultCertificate", conv=to_bool)
        r.put("minimum_protocol_version", *vc, "MinimumProtocolVersion", conv=to_str)


def _apigw_domain(r: Resource) -> None:
    if r.put("security_policy", "SecurityPolicy", conv=_upper) is None:
        r.node.set("security_policy", "TLS_1_0")   # REST API domains default to TLS 1.0


def _apigw_v2_domain(r: Resource) -> None:
    configs = r.get("DomainNameConfigurations")
    for i, _ in enumerate(configs if isinstance(configs, list) else []):
        policy = r.put("security_policy", "DomainNameConfigurations", i, "SecurityPolicy", conv=_upper)
        if policy == "TLS_1_0":
            break   # the weakest configuration speaks for the domain


def _as_list(v) -> list:
    return v if isinstance(v, list) else [v] if v is not None else []


def _events_rule(r: Resource) -> None:
    pattern = r.get("EventPattern")
    if isinstance(pattern, str):
        try:
            pattern = json.loads(pattern)
        except ValueError:
            pattern = Unresolved("EventPattern is not JSON")
    if isinstance(pattern, Unresolved):
        r.node.set("event_sources", pattern, r.spot("EventPattern"))
    elif isinstance(pattern, dict):
        r.node.set("event_sources", _as_list(pattern.get("source")), r.spot("EventPattern"))
        r.node.set("detail_types", _as_list(pattern.get("detail-type")), r.spot("EventPattern"))
    state = r.get("State")
    if state is not None:
        r.node.set("enabled", state if isinstance(state, Unresolved) else str(state).upper() != "DISABLED",
                   r.spot("State"))


def _config_rule(r: Resource) -> None:
    r.put("source_identifier", "Source", "SourceIdentifier", conv=_upper)


def _tagged(r: Resource) -> None:
    r.put("tags", "Tags", conv=to_tags)


# -- folders ------------------------------------------------------------------------------------
_RATE = re.compile(r"^rate\((\d+)\s+days?\)$", re.I)


def _rotation_schedule(tpl: Template, r: Resource) -> None:
    secret = tpl.target(r.get("SecretId"))
    if secret is None or secret.kind != "secret":
        return
    def spot(*path) -> Where:   # folded: the secret's attribute, written on the schedule's lines
        return replace(r.spot(*path), resource=r.name)

    secret.set("rotation_enabled", True, spot())
    days = r.get("RotationRules", "AutomaticallyAfterDays")
    if days is not None:
        secret.set("rotation_interval_days", to_int(days), spot("RotationRules", "AutomaticallyAfterDays"))
        return
    expr = r.get("RotationRules", "ScheduleExpression")
    if expr is not None:
        m = _RATE.match(expr.strip()) if isinstance(expr, str) else None
        value = int(m.group(1)) if m else expr if isinstance(expr, Unresolved) else \
            Unresolved(f"schedule {expr} is not a rate in days")
        secret.set("rotation_interval_days", value, spot("RotationRules", "ScheduleExpression"))


def _secret_key_edge(tpl: Template, r: Resource) -> None:
    key = r.get("KmsKeyId")
    if isinstance(key, ResRef):
        tpl.graph.link(r.name, key.target, "encrypted_by")


SERVICE_TYPES: dict[str, tuple[str, Callable[[Resource], None]]] = {
    "AWS::CertificateManager::Certificate": ("acm_certificate", _acm_certificate),
    "AWS::IAM::ServerCertificate": ("iam_server_certificate", _iam_server_certificate),
    "AWS::SecretsManager::Secret": ("secret", _secret),
    "AWS::ElasticLoadBalancingV2::Listener": ("lb_listener", _lb_listener),
    "AWS::ElasticLoadBalancing::LoadBalancer": ("elb_classic", _classic_lb),
    "AWS::CloudFront::Distribution": ("cloudfront_distribution", _cloudfront),
    "AWS::ApiGateway::DomainName": ("apigw_domain", _apigw_domain),
    "AWS::ApiGatewayV2::DomainName": ("apigw_domain", _apigw_v2_domain),
    "AWS::Events::Rule": ("events_rule", _events_rule),
    "AWS::Config::ConfigRule": ("config_rule", _config_rule),
}

SERVICE_FOLDERS: dict[str, Callable[[Template, Resource], None]] = {
    "AWS::SecretsManager::RotationSchedule": _rotation_schedule,
    "AWS::SecretsManager::Secret": _secret_key_edge,
}


# -- across the template -------------------------------------------------------------------------
def tagged_resource(r: Resource) -> bool:
    """Resources of other types still matter when tagged: CW108 compares the environments of
    everything that refers to one key. They become plain `resource` nodes."""
    if isinstance(r.props.get("Tags"), (list, dict)):
        r.node.kind = "resource"
        _tagged(r)
        return True
    return False


def private_keys(tpl: Template) -> None:
    """Any string of the template that holds a private key becomes a private_key node (CW504)."""
    def walk(value, where: Where, owner: str, path: tuple):
        if isinstance(value, str):
            if certs.holds_private_key(value):
                for node in certs.private_key_nodes(value, owner, "cfn", where, f"{owner}/{'/'.join(map(str, path))}"):
                    tpl.graph.add(node)
        elif isinstance(value, dict):
            pos = getattr(value, "pos", {})
            for k, v in value.items():
                line, col = pos.get(k, (where.line, where.column))
                walk(v, Where(tpl.file, line, col, path + (k,)), owner, path + (k,))
        elif isinstance(value, list):
            pos = getattr(value, "pos", [])
            for i, v in enumerate(value):
                line, col = pos[i] if i < len(pos) else (where.line, where.column)
                walk(v, Where(tpl.file, line, col, path + (i,)), owner, path + (i,))

    for section, body in tpl.doc.items():
        if section == "Resources" and isinstance(body, dict):
            for name, res in body.items():
                line, col = getattr(body, "pos", {}).get(name, (0, 0))
                walk(res, Where(tpl.file, line, col, ("Resources", name)), str(name), ("Resources", name))
        elif isinstance(body, dict):   # Parameters, Outputs, Mappings...: named by section.entry
            for name, entry in body.items():
                line, col = getattr(body, "pos", {}).get(name, (0, 0))
                walk(entry, Where(tpl.file, line, col, (section, name)), f"{section}.{name}", (section, name))
