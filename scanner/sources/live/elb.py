"""Load balancer listeners as lb_listener nodes: ELBv2 (application, network, gateway) and
classic, with the security policy each listener negotiates TLS with."""
from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from ...model import Unresolved
from .. import normalize
from .aws import Ctx

_REFERENCE = "Reference-Security-Policy"


def _name(lb: str, port) -> str:
    return f"{lb}:{port}" if port is not None else lb


def collect_v2(ctx: Ctx) -> None:
    elbv2 = ctx.client("elbv2")
    for lb in ctx.pages(elbv2, "describe_load_balancers", "LoadBalancers"):
        try:
            listeners = list(ctx.pages(elbv2, "describe_listeners", "Listeners", LoadBalancerArn=lb["LoadBalancerArn"]))
        except (ClientError, BotoCoreError) as exc:   # e.g. deleted between the two calls: skip that one
            ctx.failed("DescribeListeners", exc)
            continue
        for listener in listeners:
            port = listener.get("Port")   # a Gateway Load Balancer's listener has none
            node = ctx.node("lb_listener", listener["ListenerArn"], _name(lb["LoadBalancerName"], port),
                            "AWS::ElasticLoadBalancingV2::Listener")
            node.set("protocol", normalize.upper(listener.get("Protocol")))
            node.set("port", port)
            if listener.get("SslPolicy"):   # absent: the kinds default, as for a template without SslPolicy
                node.set("ssl_policy", listener["SslPolicy"])


def _negotiation(policy: dict) -> object:
    """A classic SSL negotiation policy as normalize.negotiation_policy reads a template's.

    AWS answers a policy made from a predefined one with that reference *and* every protocol and
    cipher it expands to; the reference alone is what a template would have written."""
    pairs = [(a.get("AttributeName"), a.get("AttributeValue")) for a in policy.get("PolicyAttributeDescriptions", [])]
    reference = [p for p in pairs if p[0] == _REFERENCE]
    return normalize.negotiation_policy(policy.get("PolicyName"), reference or pairs)


def _classic_policies(ctx: Ctx, elb, name: str) -> dict[str, dict] | Unresolved:
    """The load balancer's SSL negotiation policies by name."""
    found = ctx.detail(elb.describe_load_balancer_policies, "DescribeLoadBalancerPolicies", LoadBalancerName=name)
    if isinstance(found, Unresolved):
        return found
    return {p["PolicyName"]: p for p in found.get("PolicyDescriptions", [])
            if p.get("PolicyTypeName") == "SSLNegotiationPolicyType"}


def collect_classic(ctx: Ctx) -> None:
    elb = ctx.client("elb")
    for lb in ctx.pages(elb, "describe_load_balancers", "LoadBalancerDescriptions"):
        name = lb["LoadBalancerName"]
        arn = f"arn:aws:elasticloadbalancing:{ctx.region}:{ctx.account}:loadbalancer/{name}"
        described_all = lb.get("ListenerDescriptions", [])
        # Only a listener with policies attached can have a negotiation policy other than the default.
        policies = _classic_policies(ctx, elb, name) if any(d.get("PolicyNames") for d in described_all) else {}
        for described in described_all:
            listener = described.get("Listener", {})
            port = listener.get("LoadBalancerPort")
            node = ctx.node("lb_listener", arn, _name(name, port), "AWS::ElasticLoadBalancing::LoadBalancer")
            node.id = f"{arn}#{port}"   # a classic listener has no ARN: reported under its load balancer's
            node.set("classic", True)
            node.set("protocol", normalize.upper(listener.get("Protocol")))
            node.set("port", port)
            if isinstance(policies, Unresolved):   # not readable: no rule judges a policy it could not see
                node.set("ssl_policy", policies)
                continue
            attached = [policies[p] for p in described.get("PolicyNames", []) if p in policies]
            if attached:
                node.set("ssl_policy", _negotiation(attached[0]))
