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

from ...errors import InputError
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
LINKERS: list[Callable[[Graph], None]] = [secrets.link_keys, pca.link_crl_buckets, pca.link_issuers]


@dataclass
class LiveRead:
    graphs: list[Graph] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    read: int = 0   # service-region pairs read without an error


def _collect(reader: Reader, region: str, service: str, regions: tuple[str, ...]) -> tuple[Ctx, BaseException | None]:
    ctx = Ctx(reader, region, regions)
    try:
        SERVICES[service][1](ctx)
    except Exception as exc:  # noqa: BLE001  one service in one region never stops the scan
        return ctx, exc
    return ctx, None


MAX_CONCURRENCY = 16   # calls in flight at once, over every account, region and service


def jobs(readers: list[Reader], regions: list[str], services: list[str]) -> list[tuple[Reader, str, str]]:
    """(account, region, service) to read: global services once per account."""
    return [(reader, region, service) for reader in readers for service in services
            for region in ([GLOBAL_REGION] if SERVICES[service][0] else regions)]


def read(readers: list[Reader], regions: list[str], services: list[str], max_concurrency: int = MAX_CONCURRENCY,
         progress: Callable[[str, BaseException | None], None] | None = None) -> LiveRead:
    """Every (account, region, service) is one job, and one pool runs them all: a large
    organisation is read at the same bounded rate as one account. `progress(account, error)` is
    called as each job ends."""
    out = LiveRead()
    jobs_ = jobs(readers, regions, services)

    def run(job: tuple[Reader, str, str]) -> tuple[Ctx, BaseException | None]:
        done = _collect(*job, tuple(regions))
        if progress is not None:
            progress(job[0].account, done[1])
        return done

    with ThreadPoolExecutor(max(1, min(max_concurrency, len(jobs_)))) as pool:
        done = list(pool.map(run, jobs_))
    graphs = {reader.account: Graph(unit=f"aws://{reader.account}", source="live") for reader in readers}
    failed: dict[tuple[str, str], list[str]] = {}   # (account, region) -> problems of its failed jobs
    for (reader, region, service), (ctx, exc) in zip(jobs_, done):
        place = f"aws://{reader.account}/{region}/{service}"
        if exc is not None:
            failed.setdefault((reader.account, region), []).append(problem(exc))
            out.errors.append(InputError(place, problem(exc)))
            continue
        out.read += 1
        for node in ctx.nodes:
            graphs[reader.account].add(node)
        if ctx.partial:
            more = f" (and {len(ctx.partial) - 1} more)" if len(ctx.partial) > 1 else ""
            out.errors.append(InputError(place, f"{ctx.partial[0]}{more}"))
    out.errors = _one_line_per_region(out.errors, failed, jobs_)
    for graph in graphs.values():
        for link in LINKERS:
            link(graph)
        out.graphs.append(graph)
    return out


def _one_line_per_region(errors: list[InputError], failed: dict[tuple[str, str], list[str]],
                         jobs: list[tuple[Reader, str, str]]) -> list[InputError]:
    """A region where every service failed the same way (not enabled for the account, most
    often) is one line `aws://ACCOUNT/REGION`, not one per service."""
    per_region: dict[tuple[str, str], int] = {}
    for reader, region, _ in jobs:
        per_region[reader.account, region] = per_region.get((reader.account, region), 0) + 1
    whole = {key: problems[0] for key, problems in failed.items()
             if len(problems) > 1 and len(problems) == per_region[key] and len(set(problems)) == 1}
    out, said = [], set()
    for err in errors:
        key = tuple(err.file.removeprefix("aws://").split("/")[:2])
        if key not in whole:
            out.append(err)
        elif key not in said:
            said.add(key)
            out.append(InputError(f"aws://{key[0]}/{key[1]}", whole[key]))
    return out
