"""TLS endpoints: load balancer listeners (v2 and classic), CloudFront distributions and API
Gateway custom domains."""
from __future__ import annotations

from typing import Any

from ...model import Node, Unresolved, Where
from .. import normalize
from ..attrmap import BOOL, INT, STR, UPPER, TypeMap, at


def _classic_policy(r, listener: dict, port: Any) -> tuple[Any, Where | None]:
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


def _classic_listeners(r) -> None:
    """A classic load balancer: one lb_listener node per listener."""
    listeners = r.get("Listeners")
    for i, listener in enumerate(listeners if isinstance(listeners, list) else []):
        if not isinstance(listener, dict):
            continue
        node = r.tpl.graph.add(Node(id=f"{r.name}/Listeners/{i}", kind="lb_listener", name=r.name, source="cfn",
                                    where=r.spot("Listeners", i), type=r.node.type, attrs={"classic": True}))
        r.put("protocol", "Listeners", i, "Protocol", conv=UPPER.read, node=node)
        port = r.put("port", "Listeners", i, "LoadBalancerPort", conv=INT.read, node=node)
        policy, where = _classic_policy(r, listener, port)
        if policy is not None:
            node.set("ssl_policy", policy, where)


def _viewer_certificate(r) -> None:
    vc = ("DistributionConfig", "ViewerCertificate")
    if r.get(*vc) is not None:
        r.node.set("has_viewer_certificate", True, r.spot(*vc))


def _rest_domain(r) -> None:
    normalize.set_rest_domain_policy(r.node, r.get("SecurityPolicy"), r.spot("SecurityPolicy"))


def _http_domain(r) -> None:
    configs = r.get("DomainNameConfigurations")
    for i, _ in enumerate(configs if isinstance(configs, list) else []):
        policy = r.put("security_policy", "DomainNameConfigurations", i, "SecurityPolicy", conv=UPPER.read)
        if policy == "TLS_1_0":
            break   # the weakest configuration speaks for the domain


_VIEWER = ("DistributionConfig", "ViewerCertificate")

TYPES = {
    "AWS::ElasticLoadBalancingV2::Listener": TypeMap("lb_listener", {
        "protocol": at("Protocol", conv=UPPER),
        "ssl_policy": at("SslPolicy", conv=STR, fix=True),
        "port": at("Port", conv=INT),
    }),
    "AWS::ElasticLoadBalancing::LoadBalancer": TypeMap("elb_classic", build=_classic_listeners),
    "AWS::CloudFront::Distribution": TypeMap("cloudfront_distribution", {
        "default_certificate": at(*_VIEWER, "CloudFrontDefaultCertificate", conv=BOOL),
        "minimum_protocol_version": at(*_VIEWER, "MinimumProtocolVersion", conv=STR, fix=True),
    }, build=_viewer_certificate),
    "AWS::ApiGateway::DomainName": TypeMap("apigw_domain", {"security_policy": at("SecurityPolicy", conv=UPPER, fix=True)},
                                           build=_rest_domain),
    "AWS::ApiGatewayV2::DomainName": TypeMap("apigw_domain", build=_http_domain),
}


# -- SAM: the domain an Api or HttpApi declares becomes an API Gateway domain name ----------------
def _sam_domain(rest: bool):
    """AWS::Serverless::Api / HttpApi `Domain`: the transform makes an AWS::ApiGateway::DomainName
    (REST, TLS_1_0 unless told) or an AWS::ApiGatewayV2::DomainName; judged as that resource, with
    findings on the SAM resource's Domain lines."""
    def fold(tpl, r) -> None:
        domain = r.get("Domain")
        if not isinstance(domain, dict):
            return
        node = tpl.graph.add(Node(id=f"{r.name}/Domain", kind="apigw_domain", name=r.name, source="cfn",
                                  where=r.spot("Domain"), type=r.node.type))
        policy = r.get("Domain", "SecurityPolicy")
        if rest:
            normalize.set_rest_domain_policy(node, policy, r.spot("Domain", "SecurityPolicy"))
        elif policy is not None:
            node.set("security_policy", UPPER.read(policy), r.spot("Domain", "SecurityPolicy"))
    return fold


FOLDERS = {"AWS::Serverless::Api": _sam_domain(rest=True), "AWS::Serverless::HttpApi": _sam_domain(rest=False)}
