"""One scan: discover inputs, read each unit into graphs, run the engine, collect findings."""
from __future__ import annotations

from dataclasses import replace

from . import certs, estate
from .findings import ScanResult, report_order
from .options import Options
from .parallel import run_units
from .paths import repo_root
from .rulepack import Rule
from .sources.files import discover
from .sources.units import Unit, called_modules, import_readers, read_unit

def scan(paths: list[str], rules: list[Rule], options: Options) -> ScanResult:
    if options.cache_dir:
        from .cache import prepare   # hashing and temporary files: only for runs with a cache

        prepare(options.cache_dir, paths)   # CacheError: refused before anything is read
    root = options.root or repo_root(paths[0] if paths else None)
    result = ScanResult(rules=rules, root=root, estate=estate.start(options.now, options.catalog or rules, options.config))
    found = discover(paths, options.excludes, str(root), options.force_exclude)
    result.errors.extend(found.errors)
    explicit = set(paths)
    known = {key: r.code for r in (options.catalog or rules) for key in (r.code, r.name)}
    roots = tuple(found.roots)
    result.roots = list(roots)
    units = [Unit("file", path, explicit=path in explicit, roots=roots) for path in found.files]
    through_callers = called_modules(found.tf_dirs)   # read with their callers, not alone
    units += [Unit("module", directory, files=tuple(files), var_files=options.var_files, roots=roots)
              for directory, files in found.tf_dirs.items() if directory not in through_callers]
    import_readers(units)   # before any worker forks: they share what is imported
    for outcome in run_units(units, rules, options, root, known, read_unit):
        result.errors.extend(outcome.errors)
        result.notices.extend(outcome.notices)
        result.scanned += outcome.scanned
        result.findings.extend(outcome.findings)
        result.estate.add(outcome.estate)
    result.findings.sort(key=report_order)
    # Two roots calling one local module under the same name report its resource twice, word
    # for word and at the same place: keep one (SARIF consumers merge equal fingerprints anyway).
    result.findings = list({(f.fingerprint, f.where.line, f.where.column, f.message): f
                            for f in result.findings}.values())
    # A module called from several roots says the same thing once per caller: say it once.
    # Errors and notices may quote input (a parser's token, a module source): never key material.
    result.notices = list(dict.fromkeys(certs.redact(n) for n in result.notices))
    errors = (replace(e, message=certs.redact(e.message)) for e in result.errors)
    result.errors = list({(e.file, e.line, e.message): e for e in errors}.values())
    result.estate.expiries = list(dict.fromkeys(result.estate.expiries))   # a module read once per caller
    return result
