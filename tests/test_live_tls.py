"""Live scans of TLS endpoints (load balancers, CloudFront, API Gateway) and of what watches
certificates for expiry (EventBridge, Config), on a moto server on 127.0.0.1."""
from __future__ import annotations

import json

from botocore.stub import Stubber
from test_live import REGION, as_auditor, client, hits, live

WEAK_ELB = "ELBSecurityPolicy-2016-08"
STRONG_ELB = "ELBSecurityPolicy-TLS13-1-2-2021-06"


def _certificate(aws) -> str:
    return client(aws, "acm").request_certificate(DomainName="example.com")["CertificateArn"]


def _subnets(aws) -> tuple[str, list[str]]:
    ec2 = client(aws, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    return vpc, [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{az}")
                 ["Subnet"]["SubnetId"] for i, az in ((1, "a"), (2, "b"))]


# -- CW601: load balancers ---------------------------------------------------------------------------
def test_elbv2_listeners_are_judged_by_their_security_policy(aws, run_cli):
    elbv2 = client(aws, "elbv2")
    vpc, subnets = _subnets(aws)
    lb = elbv2.create_load_balancer(Name="web", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    group = elbv2.create_target_group(Name="tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    common = {"LoadBalancerArn": lb, "DefaultActions": [{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}]}
    cert = [{"CertificateArn": _certificate(aws)}]
    weak = elbv2.create_listener(Protocol="HTTPS", Port=443, SslPolicy=WEAK_ELB, Certificates=cert, **common)
    elbv2.create_listener(Protocol="HTTPS", Port=8443, SslPolicy=STRONG_ELB, Certificates=cert, **common)
    elbv2.create_listener(Protocol="HTTP", Port=80, **common)   # no TLS, nothing to judge

    code, findings, err = live(run_cli, aws, "--select", "CW601", "--service", "elbv2")

    assert code == 1, err
    account = lb.split(":")[4]
    assert hits(findings, "CW601") == [("web:443", REGION, account)]
    finding, = findings
    assert finding["arn"] == weak["Listeners"][0]["ListenerArn"]


def test_a_classic_listener_is_judged_by_its_negotiation_policy(aws, run_cli):
    elb = client(aws, "elb")
    cert = _certificate(aws)
    https = {"Protocol": "HTTPS", "InstanceProtocol": "HTTP", "InstancePort": 80, "SSLCertificateId": cert}
    elb.create_load_balancer(LoadBalancerName="old", AvailabilityZones=[f"{REGION}a"], Listeners=[
        {**https, "LoadBalancerPort": 443}, {**https, "LoadBalancerPort": 8443},
        {"Protocol": "HTTP", "LoadBalancerPort": 80, "InstanceProtocol": "HTTP", "InstancePort": 80}])
    for name, predefined, port in (("weak", "ELBSecurityPolicy-2015-05", 443), ("strong", STRONG_ELB, 8443)):
        elb.create_load_balancer_policy(LoadBalancerName="old", PolicyName=name, PolicyTypeName="SSLNegotiationPolicyType",
                                        PolicyAttributes=[{"AttributeName": "Reference-Security-Policy",
                                                           "AttributeValue": predefined}])
        elb.set_load_balancer_policies_of_listener(LoadBalancerName="old", LoadBalancerPort=port, PolicyNames=[name])

    code, findings, err = live(run_cli, aws, "--select", "CW601", "--service", "elb")

    assert code == 1, err
    account = cert.split(":")[4]
    assert hits(findings, "CW601") == [("old:443", REGION, account)]
    finding, = findings
    assert "ELBSecurityPolicy-2015-05" in finding["message"]
    assert finding["arn"] == f"arn:aws:elasticloadbalancing:{REGION}:{account}:loadbalancer/old"


def test_a_classic_policy_answered_with_its_expansion_reads_as_the_reference():
    """AWS answers a policy made from a predefined one with the reference and every protocol and
    cipher it expands to; moto answers with the reference alone, so this reads the AWS shape."""
    from certwarden.sources.live.elb import _negotiation

    expanded = {"PolicyName": "p", "PolicyAttributeDescriptions": [
        {"AttributeName": "Protocol-TLSv1", "AttributeValue": "true"},
        {"AttributeName": "Reference-Security-Policy", "AttributeValue": WEAK_ELB},
        {"AttributeName": "ECDHE-RSA-AES128-GCM-SHA256", "AttributeValue": "true"}]}
    custom = {"PolicyName": "mine", "PolicyAttributeDescriptions": [
        {"AttributeName": "Protocol-TLSv1.2", "AttributeValue": "true"}]}
    assert _negotiation(expanded) == WEAK_ELB
    assert _negotiation(custom) == "custom:mine"


# -- CW602: CloudFront -------------------------------------------------------------------------------
def _distribution(cf, cert: str, minimum: str, alias: str | None = None) -> dict:
    config = {
        "CallerReference": minimum, "Comment": "", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "example.s3.amazonaws.com",
                                               "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "redirect-to-https", "MinTTL": 0,
                                 "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                                 "TrustedSigners": {"Enabled": False, "Quantity": 0}},
        "ViewerCertificate": {"ACMCertificateArn": cert, "SSLSupportMethod": "sni-only",
                              "MinimumProtocolVersion": minimum},
    }
    if alias:
        config["Aliases"] = {"Quantity": 1, "Items": [alias]}
    return {**cf.create_distribution(DistributionConfig=config)["Distribution"],
            "written": config["ViewerCertificate"]}


def _listing(cf, distributions: list[dict]) -> dict:
    """The ListDistributions answer AWS gives. moto's summaries lack ViewerCertificate and Aliases,
    and moto holds CloudFrontDefaultCertificate true even beside an ACM certificate; so the
    summaries are rebuilt from what moto holds, with the viewer certificate as it was written."""
    members = cf.meta.service_model.shape_for("DistributionSummary").members
    items = []
    for created in distributions:
        dist = cf.get_distribution(Id=created["Id"])["Distribution"]
        merged = {"WebACLId": "", "Staging": False, **dist["DistributionConfig"], **dist,
                  "ViewerCertificate": created["written"]}
        items.append({k: v for k, v in merged.items() if k in members})
    return {"DistributionList": {"Marker": "", "MaxItems": 100, "IsTruncated": False, "Quantity": len(items),
                                 "Items": items}}


def test_cloudfront_distributions_below_tls12_2021_fail(aws, run_cli, monkeypatch):
    from certwarden.sources.live.aws import Reader

    cf = client(aws, "cloudfront", "us-east-1")
    cert = _certificate(aws)
    weak = _distribution(cf, cert, "TLSv1", alias="old.example.com")
    strong = _distribution(cf, cert, "TLSv1.2_2021")
    listing = _listing(cf, [weak, strong])
    made = Reader.client

    def stubbed(self, service, region):
        made_client = made(self, service, region)
        if service == "cloudfront":   # only ListDistributions is stubbed (see _listing)
            stub = Stubber(made_client)
            stub.add_response("list_distributions", listing)
            stub.activate()
        return made_client
    monkeypatch.setattr(Reader, "client", stubbed)

    code, findings, err = live(run_cli, aws, "--select", "CW602", "--service", "cloudfront")

    assert code == 1, err
    account = cert.split(":")[4]
    # a global service: read once, where it answers
    assert hits(findings, "CW602") == [("old.example.com", "us-east-1", account)]
    finding, = findings
    assert finding["arn"] == weak["ARN"] and "TLSv1" in finding["message"]


# -- CW603: API Gateway ------------------------------------------------------------------------------
def test_api_gateway_domains_on_tls10_fail(aws, run_cli):
    rest, v2 = client(aws, "apigateway"), client(aws, "apigatewayv2")
    cert = _certificate(aws)
    regional = {"regionalCertificateArn": cert, "endpointConfiguration": {"types": ["REGIONAL"]}}
    rest.create_domain_name(domainName="old.example.com", securityPolicy="TLS_1_0", **regional)
    rest.create_domain_name(domainName="new.example.com", securityPolicy="TLS_1_2", **regional)
    v2.create_domain_name(DomainName="v2.example.com", DomainNameConfigurations=[
        {"CertificateArn": cert, "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"}])

    code, findings, err = live(run_cli, aws, "--select", "CW603", "--service", "apigateway")

    assert code == 1, err
    account = cert.split(":")[4]
    assert hits(findings, "CW603") == [("old.example.com", REGION, account)]
    finding, = findings
    assert finding["arn"] == f"arn:aws:apigateway:{REGION}::/domainnames/old.example.com"


def test_a_rest_domain_without_a_policy_reads_as_tls10(aws):
    from certwarden.sources import live as live_source
    from certwarden.sources.live.aws import readers

    client(aws, "apigateway").create_domain_name(domainName="bare.example.com",
                                                 regionalCertificateArn=_certificate(aws))
    got = live_source.read(readers(None, [], aws), [REGION], ["apigateway"])
    node, = got.graphs[0].of_kind("apigw_domain")
    assert (node.name, node.attrs["security_policy"]) == ("bare.example.com", "TLS_1_0")


# -- CW801: what watches certificates for expiry ---------------------------------------------------
def _monitoring(aws):
    from certwarden.sources import live as live_source
    from certwarden.sources.live.aws import readers

    got = live_source.read(readers(None, [], aws), [REGION], ["events", "config"])
    assert got.errors == []
    return got.graphs[0]


def test_eventbridge_and_config_rules_carry_what_cw801_reads(aws):
    events = client(aws, "events")
    pattern = {"source": ["aws.acm"], "detail-type": ["ACM Certificate Approaching Expiration"]}
    events.put_rule(Name="cert-expiry", EventPattern=json.dumps(pattern), State="DISABLED")
    events.put_rule(Name="nightly", ScheduleExpression="rate(1 day)")
    client(aws, "config").put_config_rule(ConfigRule={
        "ConfigRuleName": "acm-expiry", "Source": {"Owner": "AWS", "SourceIdentifier": "ACM_CERTIFICATE_EXPIRATION_CHECK"}})

    graph = _monitoring(aws)

    rules = {n.name: n for n in graph.of_kind("events_rule")}
    assert (rules["cert-expiry"].attrs["event_sources"], rules["cert-expiry"].attrs["detail_types"],
            rules["cert-expiry"].attrs["enabled"]) == (["aws.acm"], ["ACM Certificate Approaching Expiration"], False)
    assert rules["nightly"].attrs["enabled"] is True and "event_sources" not in rules["nightly"].attrs
    rule, = graph.of_kind("config_rule")
    assert (rule.name, rule.attrs["source_identifier"]) == ("acm-expiry", "ACM_CERTIFICATE_EXPIRATION_CHECK")
    assert rule.where.region == REGION and rule.id.startswith(f"arn:aws:config:{REGION}:")


def _cw801(graph, rules) -> list[str]:
    """CW801 on an account graph with one certificate added by hand: the live ACM collector is
    not part of this module."""
    from conftest import FIXED_NOW

    from certwarden.engine import Engine
    from certwarden.model import Node, Where

    arn = f"arn:aws:acm:{REGION}:123456789012:certificate/1"
    graph.add(Node(id=arn, kind="acm_certificate", name="example.com", source="live",
                   where=Where(arn=arn, region=REGION, account="123456789012")))
    return [f.resource for f in Engine([r for r in rules if r.code == "CW801"], FIXED_NOW).run(graph)]


def test_cw801_is_quiet_only_when_an_enabled_rule_watches_acm_expiry(aws, rules):
    events = client(aws, "events")
    pattern = json.dumps({"source": ["aws.acm"], "detail-type": ["ACM Certificate Expired"]})
    events.put_rule(Name="cert-expiry", EventPattern=pattern, State="DISABLED")
    assert _cw801(_monitoring(aws), rules) == ["example.com"]   # a disabled rule watches nothing

    events.put_rule(Name="cert-expiry", EventPattern=pattern, State="ENABLED")
    assert _cw801(_monitoring(aws), rules) == []


def test_cw801_is_quiet_with_the_config_rule(aws, rules):
    client(aws, "config").put_config_rule(ConfigRule={
        "ConfigRuleName": "acm-expiry", "Source": {"Owner": "AWS", "SourceIdentifier": "ACM_CERTIFICATE_EXPIRATION_CHECK"}})
    assert _cw801(_monitoring(aws), rules) == []


def test_an_unreadable_classic_policy_is_unknown_not_a_finding(aws, run_cli, monkeypatch):
    elb = client(aws, "elb")
    elb.create_load_balancer(LoadBalancerName="old", AvailabilityZones=[f"{REGION}a"], Listeners=[
        {"Protocol": "HTTPS", "LoadBalancerPort": 443, "InstanceProtocol": "HTTP", "InstancePort": 80,
         "SSLCertificateId": _certificate(aws)}])
    elb.create_load_balancer_policy(LoadBalancerName="old", PolicyName="weak", PolicyTypeName="SSLNegotiationPolicyType",
                                    PolicyAttributes=[{"AttributeName": "Reference-Security-Policy",
                                                       "AttributeValue": "ELBSecurityPolicy-2015-05"}])
    elb.set_load_balancer_policies_of_listener(LoadBalancerName="old", LoadBalancerPort=443, PolicyNames=["weak"])
    as_auditor(aws, monkeypatch, ["elasticloadbalancing:DescribeLoadBalancers", "sts:GetCallerIdentity"])

    code, findings, err = live(run_cli, aws, "--select", "CW601", "--service", "elb")

    # the listener is read, but which policy it negotiates with is not known: no finding, one line
    assert findings == [] and code == 2   # exit 2: the policy could not be read
    assert "/elb: DescribeLoadBalancerPolicies of old: access denied (DescribeLoadBalancerPolicies)" in err


def test_an_https_listener_without_a_policy_gets_the_default_and_fails(rules):
    """AWS answers every listener with its SslPolicy, and moto fills one in; a listener answered
    without one (an older API shape) must read as the kinds default, as a template without
    SslPolicy does. Stubbed, no server: moto cannot answer without the field."""
    import boto3
    from conftest import FIXED_NOW

    from certwarden.engine import Engine
    from certwarden.model import Graph
    from certwarden.sources.live.aws import Ctx
    from certwarden.sources.live.elb import collect_v2

    elbv2 = boto3.client("elbv2", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    lb_arn = f"arn:aws:elasticloadbalancing:{REGION}:123456789012:loadbalancer/app/web/1"
    listener_arn = f"arn:aws:elasticloadbalancing:{REGION}:123456789012:listener/app/web/1/2"
    stub = Stubber(elbv2)
    stub.add_response("describe_load_balancers", {"LoadBalancers": [{"LoadBalancerArn": lb_arn, "LoadBalancerName": "web"}]})
    stub.add_response("describe_listeners", {"Listeners": [{"ListenerArn": listener_arn, "Port": 443, "Protocol": "HTTPS"}]},
                      {"LoadBalancerArn": lb_arn, "PageSize": 400})   # pages as large as the API allows
    stub.activate()

    class OneClient:
        account = "123456789012"
        timeout = 60.0

        def client(self, service, region):
            return elbv2

    ctx = Ctx(OneClient(), REGION)
    collect_v2(ctx)
    stub.assert_no_pending_responses()
    graph = Graph(unit="aws://123456789012", source="live")
    for node in ctx.nodes:
        graph.add(node)
    found = list(Engine([r for r in rules if r.code == "CW601"], FIXED_NOW).run(graph))
    assert [(f.resource, f.where.arn) for f in found] == [("web:443", listener_arn)]
    assert "ELBSecurityPolicy-2016-08" in found[0].message


def load_balancers(aws) -> list[str]:
    """A classic load balancer with a policy on its listener, and an ELBv2 one; returns the subnets."""
    elb = client(aws, "elb")
    elb.create_load_balancer(LoadBalancerName="old", AvailabilityZones=[f"{REGION}a"], Listeners=[
        {"Protocol": "HTTP", "LoadBalancerPort": 80, "InstanceProtocol": "HTTP", "InstancePort": 80}])
    elb.create_load_balancer_policy(LoadBalancerName="old", PolicyName="p", PolicyTypeName="SSLNegotiationPolicyType",
                                    PolicyAttributes=[])
    elb.set_load_balancer_policies_of_listener(LoadBalancerName="old", LoadBalancerPort=80, PolicyNames=["p"])
    _, subnets = _subnets(aws)
    client(aws, "elbv2").create_load_balancer(Name="web", Subnets=subnets)
    return subnets


def test_the_calls_these_collectors_send(aws):
    """What a least-privilege role needs for them (IAM names API Gateway reads apigateway:GET)."""
    from certwarden.sources import live as live_source
    from certwarden.sources.live.aws import readers

    load_balancers(aws)
    reader, = readers(None, [], aws)

    got = live_source.read([reader], [REGION], ["elbv2", "elb", "cloudfront", "apigateway", "events", "config"])

    assert got.errors == []
    assert set(reader.calls) - {"sts:GetCallerIdentity"} == {
        "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeLoadBalancerPolicies", "cloudfront:ListDistributions",
        "apigateway:GetDomainNames", "events:ListRules", "config:DescribeConfigRules"}


def test_cw801_end_to_end_with_the_acm_collector(aws, run_cli):
    client(aws, "acm").request_certificate(DomainName="shop.example.com", ValidationMethod="DNS")
    scan = ("--select", "CW801", "--service", "acm,events,config")
    code, findings, err = live(run_cli, aws, *scan)
    assert code == 1, err
    assert [(f["resource"], f["region"]) for f in findings] == [("shop.example.com", REGION)]

    pattern = {"source": ["aws.acm"]}   # no detail-type: every ACM event, expiry included
    client(aws, "events").put_rule(Name="acm-all", EventPattern=json.dumps(pattern))
    code, findings, err = live(run_cli, aws, *scan)
    assert (code, findings) == (0, []), err
