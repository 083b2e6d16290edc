"""CloudFront distributions (a global service, read once per account) as cloudfront_distribution
nodes, with the viewer certificate settings that decide the TLS versions viewers may use."""
from __future__ import annotations

from .aws import Ctx


def collect(ctx: Ctx) -> None:
    cloudfront = ctx.client("cloudfront")
    # The listing is not under a plain key: DistributionList holds Items, so pages are read here.
    for page in cloudfront.get_paginator("list_distributions").paginate():
        for dist in page.get("DistributionList", {}).get("Items", []):
            aliases = dist.get("Aliases", {}).get("Items") or []
            node = ctx.node("cloudfront_distribution", dist["ARN"], aliases[0] if aliases else dist["Id"],
                            "AWS::CloudFront::Distribution")
            viewer = dist.get("ViewerCertificate")
            if viewer is None:   # always present in AWS's answer; absent reads as the kinds defaults
                continue
            node.set("has_viewer_certificate", True)
            node.set("default_certificate", bool(viewer.get("CloudFrontDefaultCertificate", False)))
            if viewer.get("MinimumProtocolVersion"):
                node.set("minimum_protocol_version", viewer["MinimumProtocolVersion"])
