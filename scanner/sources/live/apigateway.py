"""API Gateway custom domain names as apigw_domain nodes: REST (v1) ones, and HTTP/WebSocket (v2)
ones, with the TLS security policy clients connect with."""
from __future__ import annotations

from .. import normalize
from .aws import Ctx


def _arn(ctx: Ctx, name: str) -> str:
    return f"arn:aws:apigateway:{ctx.region}::/domainnames/{name}"


def collect(ctx: Ctx) -> None:
    rest = ctx.client("apigateway")
    seen: set[str] = set()
    for domain in ctx.pages(rest, "get_domain_names", "items"):
        name = domain["domainName"]
        node = ctx.node("apigw_domain", domain.get("domainNameArn") or _arn(ctx, name), name,
                        "AWS::ApiGateway::DomainName")
        normalize.set_rest_domain_policy(node, domain.get("securityPolicy"), None)
        seen.add(name)
    v2 = ctx.client("apigatewayv2")
    for domain in ctx.pages(v2, "get_domain_names", "Items"):
        name = domain["DomainName"]
        if name in seen:   # one custom domain per name in a region: both APIs list it, read once
            continue
        node = ctx.node("apigw_domain", domain.get("DomainNameArn") or _arn(ctx, name), name,
                        "AWS::ApiGatewayV2::DomainName")
        policies = [normalize.upper(c.get("SecurityPolicy")) for c in domain.get("DomainNameConfigurations", [])
                    if c.get("SecurityPolicy")]
        if policies:   # the weakest configuration speaks for the domain, as in the template adapters
            node.set("security_policy", "TLS_1_0" if "TLS_1_0" in policies else policies[0])
