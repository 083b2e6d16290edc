"""Live AWS state, read with boto3 (reads only), as one graph per account.

A collector is a module per service with `collect(ctx)`, which adds the nodes of one region
(global services, such as IAM and CloudFront, are read once per account). Regions and services
are read in threads, since the work is waiting on the network. A failure stops only that service
in that region: it becomes one InputError named `aws://ACCOUNT/REGION/SERVICE` and the rest of
the account is still read. Linkers then join nodes across services (a CA and its CRL bucket).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from ...findings import InputError
from ...model import Graph
from . import acm, apigateway, cloudfront, cloudhsm, elb, iam, kms, monitoring, pca, s3, secrets
from .aws import Ctx, Reader, problem

GLOBAL_REGION = "us-east-1"   # where the global services (IAM, CloudFront, S3 listing) answer

# name -> (read once per account, collector)
SERVICES: dict[str, tuple[bool, Callable[[Ctx], None]]] = {
    "kms": (False, kms.collect),
    "s3": (True, s3.collect),
    "secretsmanager": (False, secrets.collect),
    "acm": (False, acm.collect),
    "acm-pca": (False, pca.collect),
    "iam": (True, iam.collect),
    "cloudhsmv2": (False, cloudhsm.collect),
    "elbv2": (False, elb.collect_v2),
    "elb": (False, elb.collect_classic),
    "cloudfront": (True, cloudfront.collect),
    "apigateway": (False, apigateway.collect),
    "events": (False, monitoring.collect_events),
    "config": (False, monitoring.collect_config),
}
LINKERS: list[Callable[[Graph], None]] = [secrets.link_keys, pca.link_crl_buckets]


@dataclass
class LiveRead:
    graphs: list[Graph] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    read: int = 0   # service-region pairs read without an error


def _collect(reader: Reader, region: str, service: str) -> tuple[Ctx, BaseException | None]:
    ctx = Ctx(reader, region)
    try:
        SERVICES[service][1](ctx)
    except Exception as exc:  # noqa: BLE001  one service in one region never stops the scan
        return ctx, exc
    return ctx, None


def read(readers: list[Reader], regions: list[str], services: list[str], threads: int = 8) -> LiveRead:
    out = LiveRead()
    for reader in readers:
        jobs = [(r, s) for s in services for r in ([GLOBAL_REGION] if SERVICES[s][0] else regions)]
        graph = Graph(unit=f"aws://{reader.account}", source="live")
        with ThreadPoolExecutor(max(1, min(threads, len(jobs)))) as pool:
            done = list(pool.map(lambda job: _collect(reader, *job), jobs))
        for (region, service), (ctx, exc) in zip(jobs, done):
            place = f"aws://{reader.account}/{region}/{service}"
            if exc is not None:
                out.errors.append(InputError(place, problem(exc)))
                continue
            out.read += 1
            for node in ctx.nodes:
                graph.add(node)
            if ctx.partial:
                more = f" (and {len(ctx.partial) - 1} more)" if len(ctx.partial) > 1 else ""
                out.errors.append(InputError(place, f"{ctx.partial[0]}{more}"))
        for link in LINKERS:
            link(graph)
        out.graphs.append(graph)
    return out
