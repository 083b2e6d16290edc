"""AWS CloudHSM clusters and the HSMs in them."""
from __future__ import annotations

from ...model import Unresolved
from ..attrmap import TypeMap

# Counted by the aws_cloudhsm_v2_hsm resources folded onto the cluster.
TYPES = {"aws_cloudhsm_v2_cluster": TypeMap("cloudhsm_cluster", defaults={"hsm_count": 0, "hsm_azs": []})}


def _hsm(b, r) -> None:
    cluster = b.target(r.get("cluster_id"), "cloudhsm_cluster")
    if cluster is None:
        return
    cluster.set("hsm_count", cluster.attrs.get("hsm_count", 0) + 1, r.spot(helper=True))
    az = r.get("availability_zone")
    subnet = b.record(r.get("subnet_id"))
    if az is None and subnet is not None:   # the HSM lives in its subnet's zone
        az = subnet.values.get("availability_zone")
    azs = list(cluster.attrs.get("hsm_azs", []))
    azs.append(az if isinstance(az, str) else Unresolved("HSM availability zone known only after apply"))
    cluster.set("hsm_azs", azs, r.spot(helper=True))


FOLDERS = {"aws_cloudhsm_v2_hsm": _hsm}
