"""CloudFormation handlers for the services around keys and certificates: ACM and IAM
certificates, Secrets Manager, TLS endpoints (load balancers, CloudFront, API Gateway), and the
monitoring resources (EventBridge rules, Config rules). Registered into cfn.NODE_TYPES/FOLDERS.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from ..model import Node, Unresolved, Where
from . import normalize
from .cfn_resolve import ResRef

# The converters live in cfn.py; this module is imported at its end, once they exist.
from .cfn import Resource, Template, to_bool, to_int, to_str, to_tags  # noqa: E402


def _upper(v):
    return normalize.upper(v)


def _acm_certificate(r: Resource) -> None:
    r.put("domain_name", "DomainName", conv=to_str)
    r.put("validation_method", "ValidationMethod", conv=_upper)
    r.put("transparency_logging", "CertificateTransparencyLoggingPreference", conv=_upper)
    r.put("private_ca_arn", "CertificateAuthorityArn")
    r.put("tags", "Tags", conv=to_tags)
    algorithm = r.get("KeyAlgorithm")
    if algorithm is not None:
        normalize.set_acm_key_algorithm(r.node, algorithm, r.spot("KeyAlgorithm"))


def _iam_server_certificate(r: Resource) -> None:
    # The raw body is turned into key/signature/date attributes by certs.apply_certificate_pem.
    r.put("certificate_pem", "CertificateBody")
    r.put("certificate_chain_pem", "CertificateChain")
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
        attrs = [(a.get("Name"), a.get("Value")) for a in p.get("Attributes") or [] if isinstance(a, dict)]
        return normalize.negotiation_policy(p.get("PolicyName"), attrs), r.spot("Policies", i)
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
    normalize.set_rest_domain_policy(r.node, r.get("SecurityPolicy"), r.spot("SecurityPolicy"))


def _apigw_v2_domain(r: Resource) -> None:
    configs = r.get("DomainNameConfigurations")
    for i, _ in enumerate(configs if isinstance(configs, list) else []):
        policy = r.put("security_policy", "DomainNameConfigurations", i, "SecurityPolicy", conv=_upper)
        if policy == "TLS_1_0":
            break   # the weakest configuration speaks for the domain


def _events_rule(r: Resource) -> None:
    pattern = r.get("EventPattern")
    if pattern is not None:
        normalize.set_event_pattern(r.node, pattern, r.spot("EventPattern"))
    r.put("enabled", "State", conv=normalize.rule_enabled)


def _config_rule(r: Resource) -> None:
    r.put("source_identifier", "Source", "SourceIdentifier", conv=_upper)


def _tagged(r: Resource) -> None:
    r.put("tags", "Tags", conv=to_tags)


# -- folders ------------------------------------------------------------------------------------

def _rotation_schedule(tpl: Template, r: Resource) -> None:
    secret = tpl.target_or_own(r.get("SecretId"), "secret", r)
    def spot(*path) -> Where:   # folded: the secret's attribute, written on the schedule's lines
        return replace(r.spot(*path), resource=r.name)

    secret.set("rotation_enabled", True, spot())
    days, expr = r.get("RotationRules", "AutomaticallyAfterDays"), r.get("RotationRules", "ScheduleExpression")
    interval = normalize.rotation_days(days, expr)
    if interval is not None:
        which = "AutomaticallyAfterDays" if days is not None else "ScheduleExpression"
        secret.set("rotation_interval_days", interval, spot("RotationRules", which))


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
    for section, body in tpl.doc.items():
        if not isinstance(body, dict):
            continue
        for name, entry in body.items():
            line, col = getattr(body, "pos", {}).get(name, (0, 0))
            owner = str(name) if section == "Resources" else f"{section}.{name}"   # Parameters.TlsKey, ...
            where = Where(tpl.file, line, col, (section, name))
            for node in normalize.private_key_nodes(entry, where, owner, "cfn", (section, name)):
                tpl.graph.add(node)
