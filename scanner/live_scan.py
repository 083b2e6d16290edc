"""One live scan: read the accounts, run the engine on each account's graph, collect findings."""
from __future__ import annotations

from . import certs, estate
from .engine import Engine
from .findings import ScanResult
from .scan import Options
from .sources import live


def scan_live(readers, regions: list[str], services: list[str], rules, options: Options) -> ScanResult:
    result = ScanResult(rules=rules, live=True,
                        estate=estate.start(options.now, options.catalog or rules, options.config))
    got = live.read(readers, regions, services)
    result.errors.extend(got.errors)
    result.scanned = got.read
    engine = Engine(rules, options.now, options.config, options.strict)

    def arn(where) -> str:
        return where.arn or ""

    for graph in got.graphs:
        certs.apply_certificate_pem(graph)   # imported ACM certificates carry their PEM body
        result.estate.add(estate.of_graph(graph, arn))
        for finding in engine.run(graph):
            finding.path_key = arn(finding.where)
            result.findings.append(finding)
    result.findings.sort(key=lambda f: (f.where.account or "", f.where.region or "", f.resource, f.code))
    return result
