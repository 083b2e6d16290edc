"""Command line: `certwarden scan`, `certwarden rules`, `certwarden --version`.

Exit codes: 0 no finding at or above --fail-on; 1 findings; 2 usage error, or no input could
be read at all.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone

from . import __version__
from .config import Config, ConfigError, load_config
from .report import json_report, sarif, text
from .rulepack import SEVERITIES, RuleError, load_rules
from .scan import SEVERITY_ORDER, Options, scan

FORMATS = ("text", "json", "sarif")


class UsageError(Exception):
    pass


def _csv(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


def _outputs(specs: list[str] | None) -> list[tuple[str, str | None]]:
    """-o FORMAT[=PATH], repeatable; at most one may go to stdout."""
    outs = []
    for spec in specs or ["text"]:
        fmt, _, path = spec.partition("=")
        fmt = fmt.strip().lower()
        if fmt not in FORMATS:
            raise UsageError(f"unknown output format {fmt!r} (choose from {', '.join(FORMATS)})")
        outs.append((fmt, path or None))
    if sum(1 for _, p in outs if p is None) > 1:
        raise UsageError("only one --output can go to stdout; give the others a path (FORMAT=PATH)")
    return outs


def _now(value: str | None) -> datetime:
    if not value:
        return datetime.now(timezone.utc)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--now {value!r} is not a date (YYYY-MM-DD or ISO 8601)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _color(stream) -> bool:
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def cmd_scan(args) -> int:
    outputs = _outputs(args.output)
    paths = args.paths or ["."]
    all_rules = load_rules(args.rules_dir)
    # Command-line flags win over the config file's settings of the same name.
    config = Config() if args.no_config else load_config(args.config, paths, all_rules)
    rules = config.choose(all_rules, _csv(args.select), _csv(args.ignore))
    excludes = args.exclude if args.exclude is not None else config.exclude
    options = Options(excludes=tuple(excludes), strict=args.strict, now=_now(args.now), config=config)
    fail_on = args.fail_on or config.fail_on or "low"
    result = scan(paths, rules, options)
    if not any(fmt == "text" and path is None for fmt, path in outputs):   # text on stdout lists them
        for err in result.errors:
            print(f"certwarden: {err}", file=sys.stderr)
    for fmt, path in outputs:
        if fmt == "text":
            body = text.render(result, color=path is None and _color(sys.stdout), quiet=args.quiet)
        elif fmt == "json":
            body = json_report.render(result)
        else:
            body = sarif.render(result)
        if path is None:
            sys.stdout.write(body)
        else:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(body)
    if result.scanned == 0 and result.errors:
        return 2
    if fail_on == "none":
        return 0
    threshold = SEVERITY_ORDER[fail_on]
    failing = [f for f in result.findings if not f.suppressed and SEVERITY_ORDER[f.severity] >= threshold]
    return 1 if failing else 0


def cmd_rules(args) -> int:
    rules = load_rules(args.rules_dir)
    if args.output == "json":
        print(json.dumps([{
            "code": r.code, "name": r.name, "severity": r.severity, "sources": list(r.sources),
            "kinds": list(r.kinds), "wa_sections": list(r.wa), "references": list(r.refs),
            "title": r.title, "fix_safety": (r.fix or {}).get("safety"), "params": r.params,
        } for r in rules], indent=2))
    else:
        for r in rules:
            print(f"{r.code}  {r.name:<38} {r.severity:<8} {','.join(r.sources):<16} {r.title}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="certwarden", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"certwarden {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("scan", help="scan CloudFormation templates (files or directories)")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: .)")
    p.add_argument("-o", "--output", action="append", metavar="FORMAT[=PATH]",
                   help=f"output format, repeatable: {', '.join(FORMATS)} (default text to stdout)")
    p.add_argument("--exclude", action="append", metavar="GLOB", help="skip matching paths (repeatable)")
    p.add_argument("--select", action="append", metavar="CODE,...", help="only these rules (codes or names)")
    p.add_argument("--ignore", action="append", metavar="CODE,...", help="skip these rules (codes or names)")
    p.add_argument("--fail-on", choices=(*reversed(SEVERITIES), "none"),
                   help="lowest severity that makes the exit code 1 (default: the config's fail_on, else low)")
    p.add_argument("--strict", action="store_true", help="report values that could not be resolved")
    p.add_argument("--rules-dir", action="append", default=[], metavar="DIR", help="add your own rule files")
    p.add_argument("--now", metavar="DATE", help="evaluate time-dependent rules as of this date")
    cfg = p.add_mutually_exclusive_group()
    cfg.add_argument("--config", metavar="FILE", help="policy file (default: .certwarden.yaml, .certwarden.yml "
                     "or [tool.certwarden] in pyproject.toml, found upward from the first PATH)")
    cfg.add_argument("--no-config", action="store_true", help="ignore configuration files")
    p.add_argument("-q", "--quiet", action="store_true", help="text output: one line per finding, no summary when clean")
    p.set_defaults(func=cmd_scan)

    p = sub.add_parser("rules", help="list the rule catalog")
    p.add_argument("-o", "--output", choices=("text", "json"), default="text")
    p.add_argument("--rules-dir", action="append", default=[], metavar="DIR")
    p.set_defaults(func=cmd_rules)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (UsageError, RuleError, ConfigError) as exc:
        print(f"certwarden: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 1
