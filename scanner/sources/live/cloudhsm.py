"""CloudHSM v2 clusters, as cloudhsm_cluster nodes with the count and zones of their HSMs."""
from __future__ import annotations

from .aws import Ctx


def collect(ctx: Ctx) -> None:
    hsm = ctx.client("cloudhsmv2")
    # DescribeClusters gives no ARN; this is the form IAM policies and the console use.
    partition = ctx.reader.session.get_partition_for_region(ctx.region)
    for cluster in ctx.pages(hsm, "describe_clusters", "Clusters"):
        if cluster.get("State") in ("DELETE_IN_PROGRESS", "DELETED"):
            continue   # its keys are going; adding HSMs (CW701's fix) is no longer possible
        cluster_id = cluster["ClusterId"]
        arn = f"arn:{partition}:cloudhsm:{ctx.region}:{ctx.account}:cluster/{cluster_id}"
        node = ctx.node("cloudhsm_cluster", arn, cluster_id, "AWS::CloudHSM::Cluster")
        hsms = cluster.get("Hsms", [])
        node.set("hsm_count", len(hsms))
        node.set("hsm_azs", [h["AvailabilityZone"] for h in hsms if h.get("AvailabilityZone")])
        node.set("tags", {t["Key"]: t.get("Value", "") for t in cluster.get("TagList", [])})
