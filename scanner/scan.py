"""One scan: discover inputs, read each unit into graphs, run the engine, collect findings."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import certs, sources, suppressions
from .config import Config
from .engine import Engine
from .findings import ScanResult
from .paths import relative_uri, repo_root
from .rulepack import Rule
from .sources.files import discover

SEVERITY_ORDER = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


@dataclass
class Options:
    excludes: tuple[str, ...] = ()
    strict: bool = False
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    config: Config = field(default_factory=Config)   # the policy: params, profiles, severities
    root: Path | None = None                          # repository root; found above the first path if None
    catalog: tuple = ()       # every rule a suppression may name (default: the rules run)
    var_files: tuple[str, ...] = ()                   # Terraform --var-file, for every root module


def run_unit(graph, engine: Engine, result: ScanResult, known: dict[str, str], options: Options, root: Path) -> None:
    """Every source's unit goes through here: rules, then the suppressions written in it."""
    result.scanned += 1
    certs.apply_certificate_pem(graph)   # PEM bodies from any source -> certificate attributes
    findings = list(engine.run(graph))
    for finding in findings:
        finding.path_key = relative_uri(finding.where.file, root) if finding.where.file else ""
    problems, notices = suppressions.apply(graph, findings, known, options.now.date())
    result.errors.extend(problems)
    result.notices.extend(notices)
    result.findings.extend(findings)


def scan(paths: list[str], rules: list[Rule], options: Options) -> ScanResult:
    result = ScanResult(rules=rules)
    engine = Engine(rules, options.now, options.config, options.strict)
    root = options.root or repo_root(paths[0] if paths else None)
    found = discover(paths, options.excludes)
    result.errors.extend(found.errors)
    explicit = {p for p in paths}
    known = {key: r.code for r in (options.catalog or rules) for key in (r.code, r.name)}
    for path in found.files:
        graphs, errors = sources.read_file(path, explicit=path in explicit)
        result.errors.extend(errors)
        for graph in graphs:
            run_unit(graph, engine, result, known, options, root)
    through_callers = sources.called_modules(found.tf_dirs)
    for directory, files in found.tf_dirs.items():
        if directory in through_callers:
            continue
        graphs, errors, notices = sources.read_module(directory, files, options.var_files, tuple(found.roots))
        result.errors.extend(errors)
        result.notices.extend(notices)
        for graph in graphs:
            run_unit(graph, engine, result, known, options, root)
    result.findings.sort(key=lambda f: (f.where.file or "", f.where.line, f.where.column, f.code))
    return result
