"""TLS endpoints: load balancer listeners (v2 and classic, with their negotiation policies),
CloudFront distributions and API Gateway custom domains."""
from __future__ import annotations

from typing import Any

from ...model import Node, Unresolved
from .. import normalize
from ..attrmap import BOOL, INT, STR, UPPER, TypeMap, at
from ..normalize import to_int
from .resources import TfResource
from .values import Ref

_LISTENER = TypeMap("lb_listener", {
    "protocol": at("protocol", conv=UPPER),
    "ssl_policy": at("ssl_policy", conv=STR, fix=True),
    "port": at("port", conv=INT),
})
_VIEWER = "viewer_certificate"


def _viewer_certificate(r) -> None:
    if r.get(_VIEWER) is not None:
        r.node.set("has_viewer_certificate", True, r.spot(_VIEWER))


def _rest_domain(r) -> None:
    normalize.set_rest_domain_policy(r.node, r.get("security_policy"), r.spot("security_policy"))


TYPES = {
    "aws_lb_listener": _LISTENER,
    "aws_alb_listener": _LISTENER,
    "aws_cloudfront_distribution": TypeMap("cloudfront_distribution", {
        "default_certificate": at(_VIEWER, "cloudfront_default_certificate", conv=BOOL),
        "minimum_protocol_version": at(_VIEWER, "minimum_protocol_version", conv=STR, fix=True),
    }, build=_viewer_certificate),
    "aws_api_gateway_domain_name": TypeMap("apigw_domain", {"security_policy": at("security_policy", conv=UPPER, fix=True)},
                                           build=_rest_domain),
    "aws_apigatewayv2_domain_name": TypeMap("apigw_domain", {
        "security_policy": at("domain_name_configuration", "security_policy", conv=UPPER, fix=True)}),
}


# -- classic load balancers ------------------------------------------------------------------------
def _elb(b, r) -> None:
    """A classic load balancer: one lb_listener node per listener block."""
    listeners = r.get("listener")
    for i, lst in enumerate(listeners if isinstance(listeners, list) else []):
        if not isinstance(lst, dict):
            continue
        node = b.graph.add(Node(id=f"{r.rec.address}#listener{i}", kind="lb_listener", name=r.rec.display,
                                source="tf", where=r.spot("listener"), type=r.rec.type, attrs={"classic": True}))
        r.put("protocol", "listener", i, "lb_protocol", conv=UPPER.read, node=node)
        r.put("port", "listener", i, "lb_port", conv=INT.read, node=node)


def _elb_listener(b, lb, port) -> Node | None:
    """The lb_listener node of a classic load balancer (a Ref to it) on a port."""
    if not isinstance(lb, Ref):
        return None
    return next((n for n in b.graph.nodes.values() if n.kind == "lb_listener" and n.id.startswith(f"{lb.address}#")
                 and n.attrs.get("port") == to_int(port)), None)


def _pairs(r, attr_key: str) -> list[tuple] | Unresolved:
    """A negotiation policy resource's attribute blocks as (name, value) pairs."""
    blocks = r.get(attr_key)
    if blocks is not None and not isinstance(blocks, list):
        return Unresolved("negotiation policy attributes not known")
    pairs = [(a.get("name"), a.get("value")) for a in blocks or [] if isinstance(a, dict)]
    if len(pairs) < len(blocks or []):   # a dynamic block whose items are not known
        return Unresolved("negotiation policy attributes not known")
    return pairs


def _negotiation_policy(r, name_key: str, attr_key: str) -> Any:
    """What a listener using the policy negotiates, read as normalize.negotiation_policy does."""
    pairs = _pairs(r, attr_key)
    return pairs if isinstance(pairs, Unresolved) else normalize.negotiation_policy(r.get(name_key), pairs)


def _policy_of_its_own(attr_key: str):
    """The policy resource judged on itself: what it references and the weak protocols it enables."""
    def build(r) -> None:
        pairs = _pairs(r, attr_key)
        if isinstance(pairs, Unresolved):
            r.node.set("weak_protocols", pairs, r.spot(attr_key))
            r.node.set("reference_policy", pairs, r.spot(attr_key))
        else:
            normalize.set_negotiation_attributes(r.node, pairs, r.spot(attr_key))
    return build


def _attached(b, r) -> None:
    node = b.graph.nodes.get(r.rec.address)
    if node is not None:
        node.set("attached", True)


def _ssl_negotiation_policy(b, r) -> None:
    """aws_lb_ssl_negotiation_policy: the policy of one listener, named by port."""
    listener = _elb_listener(b, r.get("load_balancer"), r.get("lb_port"))
    if listener is not None:
        listener.set("ssl_policy", _negotiation_policy(r, "name", "attribute"), r.spot(helper=True))
        _attached(b, r)


def _listener_policy(b, r) -> None:
    """aws_load_balancer_listener_policy: the aws_load_balancer_policy resources a listener uses
    (a policy attached to no listener has no effect and is not judged)."""
    listener = _elb_listener(b, r.get("load_balancer_name"), r.get("load_balancer_port"))
    names = r.get("policy_names")
    if listener is None or not isinstance(names, list):
        return
    for name in names:
        policy = b.record(name) or next((rec for rec in b.records.values() if rec.type == "aws_load_balancer_policy"
                                         and isinstance(name, str) and rec.values.get("policy_name") == name), None)
        if policy is None:   # a policy made elsewhere: which one the listener gets is not known
            listener.set("ssl_policy", Unresolved(f"listener policy {name} is not in the unit"), r.spot(helper=True))
            continue
        if policy.values.get("policy_type_name") == "SSLNegotiationPolicyType":
            p = TfResource(policy)
            listener.set("ssl_policy", _negotiation_policy(p, "policy_name", "policy_attribute"), p.spot(helper=True))
            _attached(b, p)


# Classic negotiation policies are judged on their own too: their balancer may be elsewhere.
TYPES.update({
    "aws_load_balancer_policy": TypeMap("elb_ssl_policy", {"policy_type": at("policy_type_name", conv=STR)},
                                        build=_policy_of_its_own("policy_attribute")),
    "aws_lb_ssl_negotiation_policy": TypeMap("elb_ssl_policy", build=_policy_of_its_own("attribute")),
})

FOLDERS = {
    "aws_elb": _elb,
    "aws_lb_ssl_negotiation_policy": _ssl_negotiation_policy,
    "aws_load_balancer_listener_policy": _listener_policy,
}
