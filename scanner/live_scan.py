"""One live scan: read the accounts, run the engine on each account's graph, collect findings."""
from __future__ import annotations

from . import certs, estate
from .engine import Engine
from .findings import ScanResult, report_order
from .errors import InputError
from .model import Graph
from .options import Options
from .sources import live


def evaluate(graphs: list[Graph], errors: list[InputError], read: int, rules, options: Options) -> ScanResult:
    """Findings of account graphs, read now or from a snapshot: the same rules, the same order."""
    result = ScanResult(rules=rules, live=True, graphs=graphs,
                        estate=estate.start(options.now, options.catalog or rules, options.config))
    result.errors.extend(errors)
    result.scanned = read
    engine = Engine(rules, options.now, options.config, options.strict)

    def arn(where) -> str:
        return where.arn or ""

    for graph in graphs:
        result.estate.add(estate.of_graph(graph, arn))
        for finding in engine.run(graph):
            finding.path_key = arn(finding.where)
            result.findings.append(finding)
    result.findings.sort(key=report_order)
    return result


def scan_live(readers, regions: list[str], services: list[str], rules, options: Options,
              errors: list[InputError] = (), max_concurrency: int = live.MAX_CONCURRENCY,
              progress=None) -> ScanResult:
    """`errors`: accounts already known not to be readable (a role not assumed)."""
    got = live.read(readers, regions, services, max_concurrency, progress)
    for graph in got.graphs:
        certs.apply_certificate_pem(graph)   # imported ACM certificates carry their PEM body
    return evaluate(got.graphs, [*errors, *got.errors], got.read, rules, options)
