"""Command line: `certwarden scan`, `certwarden fix`, `certwarden live`, `certwarden remediate`, `certwarden schedule`, `certwarden rules`, `certwarden --version`.

Exit codes: 0 no finding at or above --fail-on; 1 findings; 2 usage error, an internal error,
no input could be read at all, or some input could not be read (unless --allow-input-errors).
Suppressed findings and findings in the --baseline never fail a run.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from . import __version__, baseline
from .config import Config, ConfigError, load_config
from .errors import CacheError, InternalError
from .outfile import OutputError, write_output
from .report import text
from .report.escape import lines, plain
from .rulepack import SEVERITIES, RuleError, fix_todo, load_rules
from .options import SEVERITY_ORDER, Options
from .scan import scan
from .schedule import ARCHITECTURES, RUNTIMES

FORMATS = ("text", "json", "sarif", "junit", "markdown", "html", "csv", "gitlab-sast", "gitlab-codequality")
LIVE_FORMATS = ("snapshot", "asff", "ocsf")   # of live accounts only: they name accounts and ARNs


class UsageError(Exception):
    pass


def _csv(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


def _outputs(specs: list[str] | None, formats: tuple[str, ...] = FORMATS) -> list[tuple[str, str | None]]:
    """-o FORMAT[=PATH], repeatable; at most one may go to stdout."""
    outs = []
    for spec in specs or ["text"]:
        fmt, _, path = spec.partition("=")
        fmt = fmt.strip().lower()
        if fmt in LIVE_FORMATS and fmt not in formats:
            raise UsageError(f"-o {fmt} is written by `certwarden live` only")
        if fmt not in formats:
            raise UsageError(f"unknown output format {fmt!r} (choose from {', '.join(formats)})")
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
    # no-color.org: NO_COLOR set to anything but the empty string turns colour off.
    return not os.environ.get("NO_COLOR") and hasattr(stream, "isatty") and stream.isatty()


def _policy(args, paths: list[str]):
    """(every rule loaded, the config, the rules to run): --select/--ignore win over the config."""
    all_rules = load_rules(args.rules_dir)
    config = Config() if args.no_config else load_config(args.config, paths, all_rules)
    if config.path and not getattr(args, "quiet", False):
        print(f"certwarden: policy: {plain(config.path)}", file=sys.stderr)
    return all_rules, config, config.choose(all_rules, _csv(args.select), _csv(args.ignore))


def _print_errors(result, outputs) -> None:
    if not any(fmt == "text" and path is None for fmt, path in outputs):   # text on stdout lists them
        for err in result.errors:
            print(f"certwarden: {plain(err)}", file=sys.stderr)


def _inputs_failed(result, tolerate: bool) -> bool:
    """Whether input errors fail the run (exit 2): always when nothing could be read; when some
    input could not be read, unless tolerated. A scan that skipped a file has no verdict on it,
    and exit 1 would claim one (findings), so a partial read is an error of its own."""
    if result.scanned == 0 and result.errors:
        return True
    unread = len(result.unread)
    if not unread or tolerate:
        return False
    print(f"certwarden: error: {unread} input{'s' * (unread != 1)} could not be read, so the run fails "
          "(--allow-input-errors to judge only what was read)", file=sys.stderr)
    return True


def _scan(args, outputs=()):
    """The scan the arguments ask for: (result, fail_on, whether input errors are tolerated)."""
    paths = args.paths or ["."]
    all_rules, config, rules = _policy(args, paths)
    excludes = args.exclude if args.exclude is not None else config.exclude
    if args.jobs < 0:
        raise UsageError("--jobs must be 0 (automatic) or more")
    options = Options(excludes=tuple(excludes), strict=args.strict, now=_now(args.now), config=config,
                      catalog=tuple(all_rules), var_files=tuple(args.var_file or ()),
                      jobs=args.jobs, cache_dir=args.cache, force_exclude=args.force_exclude)
    result = scan(paths, rules, options)
    _print_errors(result, outputs)
    if not getattr(args, "quiet", False):   # -q: findings only
        for notice in result.notices:
            print(f"certwarden: note: {plain(notice)}", file=sys.stderr)
    return result, args.fail_on or config.fail_on or "low", args.allow_input_errors or config.allow_input_errors


def _render(fmt: str, result, args, to_terminal: bool) -> str:
    if fmt in LIVE_FORMATS:
        return _render_live(fmt, result)
    if fmt == "text":
        return text.render(result, color=to_terminal and _color(sys.stdout), quiet=args.quiet,
                           show_suppressed=args.show_suppressed)
    if fmt == "sarif":
        from .fixes import attach_safe_edits
        from .report import sarif

        attach_safe_edits(result, sarif.reported(result), getattr(args, "jobs", 0))   # only what the run holds
        body, note = sarif.build(result, category=args.sarif_category)
        if note:
            print(f"certwarden: warning: {note}", file=sys.stderr)
        return body
    # imported when asked for: a pre-commit call writes one format, and pays for that one only
    module, function = RENDERERS[fmt]
    return getattr(importlib.import_module(f".report.{module}", __package__), function)(result)


RENDERERS = {"json": ("json_report", "render"), "junit": ("junit", "render"), "markdown": ("markdown", "render"),
             "html": ("html", "render"), "csv": ("csv_report", "render"), "gitlab-sast": ("gitlab", "render_sast"),
             "gitlab-codequality": ("gitlab", "render_codequality")}


def _render_live(fmt: str, result) -> str:
    """The outputs of a live run that name accounts and ARNs (docs/live.md)."""
    read_at = datetime.now(timezone.utc)
    if fmt == "snapshot":
        from .sources import snapshot

        return snapshot.dump(result.graphs, result.errors, result.scanned, read_at)
    if fmt == "asff":
        from .report import asff

        return asff.render(result, read_at)
    from .report import ocsf

    return ocsf.render(result, read_at)


def cmd_scan(args) -> int:
    outputs = _outputs(args.output)
    result, fail_on, tolerate = _scan(args, outputs)
    return _report(result, fail_on, tolerate, args, outputs)


def _linted(plan, result, args):
    """The plan without the fixes that would add a cfn-lint error (one line each), when
    certwarden[lint] is installed; else one line saying the fixed templates were not linted."""
    from . import fixes, lint

    if not any(f.source == "cfn" for f in plan.fixed):
        return plan
    if not lint.available():
        print(f"certwarden: fixed templates {lint.NOT_LINTED}", file=sys.stderr)
        return plan
    declined = fixes.lint_declines(plan, lint.added)
    for f, code, message in declined:
        print(f"certwarden: {plain(f.where.file)}: {f.code} fix of {plain(f.resource)} declined: "
              f"cfn-lint {code} {plain(message)}", file=sys.stderr)
    if not declined:
        return plan
    return fixes.plan(result, unsafe=args.unsafe_fixes, skip=frozenset(fixes.key(f) for f, _, _ in declined))


def cmd_fix(args) -> int:
    """Show (or, with --write, make) the automatic fixes of the findings; exit 1 when a diff is
    shown, so a CI step can ask that fixes be applied."""
    from . import fixes
    from .paths import repo_root

    result, _, tolerate = _scan(args)
    if result.scanned == 0 and result.errors:
        return 2
    plan = _linted(fixes.plan(result, unsafe=args.unsafe_fixes), result, args)
    root = repo_root(args.paths[0] if args.paths else None)
    if args.output_dir:
        written, refused = fixes.write_copies(plan, result.roots, args.output_dir)
        for err in refused:
            print(f"certwarden: {err}", file=sys.stderr)
        print(f"certwarden: fixed {len(plan.fixed)} finding{'s' * (len(plan.fixed) != 1)} "
              f"in {len(written)} file{'s' * (len(written) != 1)} written under {args.output_dir}", file=sys.stderr)
        if refused:
            return 2   # the fixed stack is incomplete
    elif args.write:
        changed, refused = fixes.write(plan, result.roots)
        for err in refused:
            print(f"certwarden: {err}", file=sys.stderr)
        print(f"certwarden: fixed {len(plan.fixed)} finding{'s' * (len(plan.fixed) != 1)} "
              f"in {len(changed)} file{'s' * (len(changed) != 1)}", file=sys.stderr)
    else:
        def name(file: str) -> str:   # a path, as `git diff` writes it, not a URI
            path = Path(file).resolve()
            return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
        sys.stdout.write(fixes.diff(plan, name))
    if plan.unsafe_skipped:
        print(f"certwarden: {plan.unsafe_skipped} unsafe fix{'es' * (plan.unsafe_skipped != 1)} not made "
              "(--unsafe-fixes to make them)", file=sys.stderr)
    for f in plan.declined:   # the rule has a fix, but not one that can be made here: what to do
        print(f"certwarden: {plain(f.where.file)}:{f.where.line}: {f.code} {plain(f.resource)} not fixed "
              f"automatically: {fix_todo(f.fix)}", file=sys.stderr)
    if plan.no_fix:
        print(f"certwarden: {plan.no_fix} finding{'s' * (plan.no_fix != 1)} without an automatic fix "
              "(see each rule's documentation)", file=sys.stderr)
    if _inputs_failed(result, tolerate):
        return 2   # the fixes of what was read are shown (or made); what was not read was not fixed
    return 1 if plan.fixed and not (args.write or args.output_dir) else 0


def cmd_live(args) -> int:
    """Read live accounts (reads only) and report as `scan` does."""
    from botocore.exceptions import BotoCoreError, ClientError

    from .live_scan import scan_live
    from .sources.live import SERVICES, organization
    from .sources.live.aws import all_regions, problem, readers

    if args.print_policy:
        from .sources.live import permissions

        sys.stdout.write(permissions.organization_json(args.role_name, args.external_id) if args.organization
                         else permissions.policy_json())
        return 0
    outputs = _outputs(args.output, FORMATS + LIVE_FORMATS)
    if any(fmt == "ocsf" for fmt, _ in outputs):   # say it now, not after a scan of minutes
        from .report import ocsf

        try:
            ocsf.require()
        except ocsf.MissingLibrary as exc:
            raise UsageError(str(exc)) from None
    all_rules, config, rules = _policy(args, ["."])
    services = _csv(args.service) or list(SERVICES)
    unknown = [s for s in services if s not in SERVICES]
    if unknown:
        raise UsageError(f"unknown service {', '.join(unknown)} (choose from {', '.join(SERVICES)})")
    if args.max_attempts < 1:
        raise UsageError("--max-attempts must be 1 or more")
    if not args.timeout > 0:
        raise UsageError("--timeout must be a number of seconds above 0")
    if args.max_concurrency < 1:
        raise UsageError("--max-concurrency must be 1 or more")
    org_only = [flag for flag, given in (("--account", args.account), ("--exclude-account", args.exclude_account),
                                         ("--external-id", args.external_id)) if given]
    if args.organization and args.role_arn:
        raise UsageError("--organization and --role-arn: choose one (the organisation names the roles)")
    if org_only and not args.organization:
        raise UsageError(f"{', '.join(org_only)} only with --organization")
    unreadable = []
    try:
        if args.organization:
            org = organization.readers(args.profile, args.role_name, _csv(args.account), _csv(args.exclude_account),
                                       args.external_id, args.endpoint_url, args.max_attempts, args.max_concurrency,
                                       args.timeout)
            accounts, unreadable = org.readers, org.errors
        else:
            accounts = readers(args.profile, _csv(args.role_arn), args.endpoint_url, args.max_attempts, args.timeout)
    except (ClientError, BotoCoreError) as exc:
        print(f"certwarden: AWS credentials: {problem(exc)}", file=sys.stderr)
        return 2
    regions = _csv(args.region) or [accounts[0].session.region_name if accounts else "us-east-1"]
    if "all" in regions:   # with others too: all of them is every one
        try:
            regions = all_regions(accounts[0]) if accounts else []
        except (ClientError, BotoCoreError) as exc:
            print(f"certwarden: --region all: the enabled regions could not be read: {problem(exc)}", file=sys.stderr)
            return 2
    options = Options(strict=args.strict, now=_now(args.now), config=config, catalog=tuple(all_rules))
    with _progress(args, accounts, regions, services, len(unreadable)) as progress:
        result = scan_live(accounts, regions, services, rules, options, unreadable, args.max_concurrency, progress)
    _print_errors(result, outputs)
    return _report(result, args.fail_on or config.fail_on or "low",
                   args.allow_input_errors or config.allow_input_errors, args, outputs)


def _progress(args, accounts, regions, services, failed_accounts: int):
    """A progress bar on stderr when it is a terminal and not --quiet; otherwise nothing."""
    import contextlib

    if args.quiet or not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty()):
        return contextlib.nullcontext()
    from .progress import LiveProgress
    from .sources.live import jobs

    return LiveProgress(sys.stderr, [(r.account, g, s) for r, g, s in jobs(accounts, regions, services)],
                        failed_accounts)


def _report(result, fail_on: str, tolerate: bool, args, outputs) -> int:
    """Write every output; the exit code from what is left after suppressions and baseline."""
    if args.baseline:
        try:
            baseline.apply(result, args.baseline)
        except baseline.BaselineError as exc:
            raise UsageError(str(exc)) from None
    if args.diff_base:
        from . import diffbase   # runs git: imported only when asked for

        try:
            result.findings = diffbase.apply(result.findings, args.diff_base)
        except diffbase.DiffError as exc:
            raise UsageError(str(exc)) from None
    for fmt, path in outputs:
        # Escapes in templates ("\ud800") and undecodable file names give lone surrogates, which
        # UTF-8 cannot encode: write them as \uXXXX text rather than fail the whole report.
        body = _render(fmt, result, args, to_terminal=path is None).encode("utf-8", "backslashreplace").decode()
        if path is None:
            sys.stdout.write(body)
        else:
            write_output(path, _gzip(body) if path.endswith(".gz") else body)
    if _inputs_failed(result, tolerate):
        return 2
    if any(not os.path.lexists(p) for p in getattr(args, "paths", None) or ()):
        return 2   # a PATH that does not exist is a usage error, whatever --fail-on says
    if fail_on == "none":
        return 0
    threshold = SEVERITY_ORDER[fail_on]
    failing = [f for f in result.findings if not f.suppressed and SEVERITY_ORDER[f.severity] >= threshold]
    return 1 if failing else 0


def _gzip(text: str) -> bytes:
    import gzip

    return gzip.compress(text.encode("utf-8"), mtime=0)   # mtime 0: the same read gives the same bytes


def cmd_baseline_create(args) -> int:
    result, _, tolerate = _scan(args)
    if _inputs_failed(result, tolerate):
        return 2   # a baseline must not be written from a partial read
    write_output(args.file, baseline.render(result))
    kept = sum(1 for f in result.findings if not f.suppressed)
    print(f"certwarden: baseline {args.file}: {kept} finding{'s' * (kept != 1)} recorded", file=sys.stderr)
    return 0


def cmd_securityhub_import(args) -> int:
    """Import an ASFF report into Security Hub (writes: BatchImportFindings), archiving the
    findings of an earlier import that it no longer holds."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from . import securityhub
    from .jsonfile import JSONFileError, read_json
    from .sources.live.aws import client_config, problem

    if args.print_policy:
        sys.stdout.write(json.dumps(securityhub.import_policy(), indent=2) + "\n")
        return 0
    if not args.report:
        raise UsageError("securityhub import: name the ASFF report (certwarden live -o asff=FILE)")
    try:
        doc = read_json(args.report, "ASFF report")
    except JSONFileError as exc:
        raise UsageError(str(exc)) from None
    findings = doc.get("Findings") if isinstance(doc, dict) else None
    if not isinstance(findings, list) or not all(isinstance(f, dict) and str(f.get("Id", "")).startswith(
            securityhub.ID_PREFIX) for f in findings):
        raise UsageError(f"{args.report}: not a certwarden ASFF report (write one with certwarden live -o asff=FILE)")
    session = boto3.Session(profile_name=args.profile)
    region = args.region or session.region_name or "us-east-1"
    try:
        done = securityhub.run(findings, session, region, args.endpoint_url, client_config())
    except (ClientError, BotoCoreError) as exc:
        print(f"certwarden: securityhub: {problem(exc)}", file=sys.stderr)
        return 2
    for line in done.failed:
        print(f"certwarden: securityhub: not imported: {line}", file=sys.stderr)
    print(f"certwarden: securityhub {done.product}: {done.created} new, {done.updated} updated, "
          f"{done.archived} archived, {len(done.failed)} failed", file=sys.stderr)
    return 1 if done.failed else 0


def cmd_rules(args) -> int:
    if args.profiles:
        return _print_profiles(args.output)
    rules = load_rules(args.rules_dir)
    if args.doc:
        from .rulepack import rule_page

        rule = next((r for r in rules if args.doc.upper() in (r.code, r.name.upper())), None)
        page = rule_page(rule.code) if rule else None
        if page is None:
            raise UsageError(f"no rule page for {args.doc}" + ("" if rule else " (no such rule: see `certwarden rules`)"))
        sys.stdout.write(page)
        return 0
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


def _print_profiles(output: str) -> int:
    """The built-in profile sets, as shipped (YAML, the form a policy file extends), or as JSON."""
    from .config import builtin_names, builtin_profiles, builtin_text

    if output == "json":
        print(json.dumps({name: builtin_profiles(name) for name in builtin_names()}, indent=2))
    else:
        for name in builtin_names():
            print(f"# extends: [{name}]")
            print(builtin_text(name), end="")
    return 0


def _read_findings(path: str) -> list[dict]:
    """The findings of a JSON report (docs/output.md); UsageError, naming the file, if it is not one."""
    from .jsonfile import JSONFileError, read_json

    try:
        doc = read_json(path, "report")
    except JSONFileError as exc:
        raise UsageError(str(exc)) from None
    findings = doc.get("findings") if isinstance(doc, dict) else None
    if not isinstance(findings, list) or not all(isinstance(f, dict) for f in findings):
        raise UsageError(f"{path}: not a certwarden JSON report (no findings list; use -o json=FILE)")
    for i, f in enumerate(findings):   # the fields docs/output.md gives a type, checked before use
        for name, types in _REPORT_FIELDS.items():
            if not isinstance(f.get(name), types):
                raise UsageError(f"{path}: findings[{i}].{name} is {type(f.get(name)).__name__}, "
                                 "not what a certwarden JSON report holds")
    return findings


_REPORT_FIELDS = {"code": str, "resource": (str, type(None)), "arn": (str, type(None)),
                  "file": (str, type(None)), "suppressions": (list, type(None))}


def cmd_remediate(args) -> int:
    """Write CloudFormation stacks for the findings of a report, and say how to launch each.
    certwarden never uploads them nor calls AWS."""
    import yaml

    from . import remediate

    findings = _read_findings(args.report)
    rules = _remediation_rules(args.config)
    templates = remediate.stacks(findings, remediate.Params(region=args.region), rules)
    for line in remediate.uncovered(findings, rules):   # names and ARNs come from the report
        print(f"certwarden: {plain(line)}")
    if not templates:
        print(f"certwarden: no finding in {args.report} calls for a remediation stack")
        return 0
    out = _output_dir(args.output_dir)
    region = args.region or "REGION"
    from . import lint

    linting, failed = lint.available(), False
    if not linting:
        print(f"certwarden: remediation stacks {lint.NOT_LINTED}", file=sys.stderr)
    for name, template in templates.items():
        path = out / name
        text = yaml.safe_dump(template, sort_keys=False, width=100)
        errs = lint.errors(text) if linting else []
        if errs:   # a stack that fails to deploy is not handed over
            failed = True
            print(f"certwarden: {path}: not written: cfn-lint {errs[0][0]} {errs[0][1]}", file=sys.stderr)
            continue
        write_output(path, text)
        stack = Path(name).stem
        print(f"{path}: {template['Description']}")
        print(f"  aws cloudformation deploy --template-file {path} --stack-name {stack} "
              f"--capabilities CAPABILITY_IAM --region {region}")
        print(f"  https://console.aws.amazon.com/cloudformation/home?region={region}#/stacks/quickcreate"
              f"?stackName={stack}&templateURL=<where you upload {name}>")
    return 2 if failed else 0


def _remediation_rules(config_path: str | None):
    """The shipped rules, with the params of the policy file when one is given: the Config rules
    then judge by the same approved policies and exemptions as the scan."""
    from dataclasses import replace

    rules = load_rules()
    if not config_path:
        return rules
    overrides = load_config(config_path, [], rules).rule_params
    return [replace(r, params={**r.params, **overrides.get(r.code, {})}) for r in rules]


def _output_dir(path: str) -> Path:
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create: {exc.strerror or exc}") from None
    return out


def cmd_schedule(args) -> int:
    """Write the stacks of scheduled scans (and, with --package, the Lambda package), and say how
    to launch them. certwarden never uploads nor deploys them."""
    from .schedule import stacks

    params = stacks.Params(runtime=args.runtime, architecture=args.architecture, schedule=args.schedule,
                           member_role=args.role_name)
    if args.package:
        from .schedule import package

        try:
            built = package.build(Path(args.package), args.runtime, args.architecture)
        except package.PackageError as exc:
            raise UsageError(str(exc)) from None
        print(f"{args.package}: Lambda package for {args.runtime} {args.architecture}, {built.size / 1e6:.1f} MB "
              f"({built.unpacked / 1e6:.1f} MB unpacked; boto3 is the runtime's)")
        print(f"  aws s3 cp {args.package} s3://CODE_BUCKET/certwarden-lambda.zip")
    out = _output_dir(args.output_dir)
    region = args.region or "REGION"
    for name, template in stacks.stacks(args.organization, params).items():
        path = out / name
        write_output(path, stacks.to_yaml(template))
        stack = Path(name).stem
        print(f"{path}: {template['Description']}")
        if name == stacks.MEMBER_FILE:
            print(f"  aws cloudformation create-stack-set --stack-set-name {stack} --template-body file://{path} "
                  "--permission-model SERVICE_MANAGED --auto-deployment Enabled=true,RetainStacksOnAccountRemoval=false "
                  "--capabilities CAPABILITY_NAMED_IAM --parameters ParameterKey=ScannerAccountId,ParameterValue="
                  "SECURITY_ACCOUNT_ID ParameterKey=OrganizationId,ParameterValue=ORGANIZATION_ID "
                  f"--region {region}")
            print(f"  aws cloudformation create-stack-instances --stack-set-name {stack} "
                  f"--deployment-targets OrganizationalUnitIds=ROOT_OR_OU_ID --regions {region} --region {region}")
        else:
            named = "_NAMED" if args.organization else ""   # the member roles trust the scanner role by name
            print(f"  aws cloudformation deploy --template-file {path} --stack-name {stack} "
                  f"--capabilities CAPABILITY{named}_IAM --parameter-overrides CodeBucket=CODE_BUCKET --region {region}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="certwarden", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"certwarden {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("scan", help="scan CloudFormation templates, Terraform modules and plans (files or directories)")
    _input_options(p)
    _report_options(p)
    p.add_argument("--diff-base", metavar="REV", help="report only findings on lines changed since this git revision")
    p.set_defaults(func=cmd_scan)

    p = sub.add_parser("fix", help="fix findings in the templates: a diff by default, --write to change the files")
    _input_options(p)
    dest = p.add_mutually_exclusive_group()
    dest.add_argument("--write", action="store_true", help="change the files instead of showing a diff")
    dest.add_argument("--output-dir", metavar="DIR",
                      help="write fixed copies of the changed files under DIR, with the input tree's layout; "
                           "the originals are not touched")
    p.add_argument("--unsafe-fixes", action="store_true",
                   help="also make fixes marked unsafe (they may replace a resource or change who can use it)")
    p.set_defaults(func=cmd_fix, fail_on=None)

    p = sub.add_parser("live", help="scan live AWS accounts (reads only): KMS, S3, Secrets Manager, ACM, "
                                    "ACM PCA, IAM, CloudHSM, ELB, CloudFront, API Gateway, EventBridge, Config")
    p.add_argument("--profile", metavar="NAME", help="AWS profile (default: the usual credential chain)")
    p.add_argument("--role-arn", action="append", metavar="ARN,...",
                   help="scan the account of each role, assumed from the current credentials (repeatable)")
    p.add_argument("--region", action="append", metavar="REGION,...",
                   help="regions to read (default: the profile's region; 'all' for every region the account enabled)")
    p.add_argument("--service", action="append", metavar="NAME,...", help="services to read (default: all)")
    p.add_argument("--endpoint-url", metavar="URL", help="send every call to this endpoint (a local stand-in such as moto)")
    p.add_argument("--print-policy", action="store_true",
                   help="print the least-privilege IAM policy these reads need, and exit")
    p.add_argument("--max-attempts", type=int, default=8, metavar="N",
                   help="attempts per AWS call, with adaptive backoff on throttling (default 8)")
    p.add_argument("--timeout", type=float, default=600, metavar="SECONDS",
                   help="most time one service may take in one region; past it, that read is one "
                        "error line and the rest goes on (default 600)")
    p.add_argument("--max-concurrency", type=int, default=16, metavar="N",
                   help="service-regions read at once, over all accounts (default 16)")
    org = p.add_argument_group("organisation scans")
    org.add_argument("--organization", action="store_true",
                     help="scan every ACTIVE account of the AWS Organization (from its management or "
                          "delegated-admin account), each through --role-name")
    org.add_argument("--role-name", default="certwarden-read", metavar="NAME",
                     help="role assumed in each account (default certwarden-read)")
    org.add_argument("--account", action="append", metavar="ID,...", help="only these accounts")
    org.add_argument("--exclude-account", action="append", metavar="ID,...", help="not these accounts")
    org.add_argument("--external-id", metavar="ID", help="sts:ExternalId the member roles require")
    _rule_options(p)
    _report_options(p)
    p.set_defaults(func=cmd_live, diff_base=None)

    p = sub.add_parser("baseline", help="accept today's findings: later scans report only new ones")
    bsub = p.add_subparsers(dest="baseline_command", required=True)
    p = bsub.add_parser("create", help="record the current findings in FILE")
    p.add_argument("file", metavar="FILE")
    _input_options(p)
    p.set_defaults(func=cmd_baseline_create, fail_on=None)

    p = sub.add_parser("remediate", help="CloudFormation stacks that remediate an account, from a JSON report "
                                         "(written to a directory, never deployed by certwarden)")
    p.add_argument("--from", dest="report", required=True, metavar="REPORT.json",
                   help="a report written by `scan` or `live` with -o json=FILE")
    p.add_argument("-o", "--output-dir", default="certwarden-remediation", metavar="DIR",
                   help="where the stacks are written (default certwarden-remediation/)")
    p.add_argument("--region", metavar="REGION", help="region in the printed deploy commands and links")
    p.add_argument("--config", metavar="FILE", help="policy file whose rule params the Config rules take "
                                                    "(approved TLS policies, exempted CAs)")
    p.set_defaults(func=cmd_remediate)

    p = sub.add_parser("schedule", help="CloudFormation for scans that AWS runs on a schedule, in one account or "
                                        "every account of an organisation (written to a directory, never deployed)")
    p.add_argument("--organization", action="store_true",
                   help="the organisation's stacks: the member role (a service-managed StackSet) and the scanner "
                        "of the security account")
    p.add_argument("-o", "--output-dir", default="certwarden-schedule", metavar="DIR",
                   help="where the stacks are written (default certwarden-schedule/)")
    p.add_argument("--package", metavar="FILE.zip", help="also build the Lambda package (wheels for --runtime "
                                                         "and --architecture; boto3 is the runtime's)")
    p.add_argument("--runtime", choices=RUNTIMES, default="python3.12", help="Lambda runtime (default python3.12)")
    p.add_argument("--architecture", choices=ARCHITECTURES, default="arm64",
                   help="Lambda architecture (default arm64)")
    p.add_argument("--schedule", default="rate(1 day)", metavar="EXPRESSION",
                   help="default of the Schedule parameter (EventBridge Scheduler: rate(1 day), cron(17 3 * * ? *))")
    p.add_argument("--role-name", default="certwarden-read", metavar="NAME",
                   help="the member role's name (default certwarden-read)")
    p.add_argument("--region", metavar="REGION", help="region in the printed commands")
    p.set_defaults(func=cmd_schedule)

    p = sub.add_parser("securityhub", help="AWS Security Hub: import the findings of a live scan (writes to AWS)")
    hsub = p.add_subparsers(dest="securityhub_command", required=True)
    p = hsub.add_parser("import", help="BatchImportFindings from an ASFF report (certwarden live -o asff=FILE); "
                                       "findings no longer in it are archived")
    p.add_argument("report", nargs="?", metavar="REPORT.json", help="the ASFF report")
    p.add_argument("--region", metavar="REGION", help="the Security Hub region (default: the profile's)")
    p.add_argument("--profile", metavar="NAME", help="AWS profile (default: the usual credential chain)")
    p.add_argument("--endpoint-url", metavar="URL", help="send every call to this endpoint (a local stand-in such as moto)")
    p.add_argument("--print-policy", action="store_true", help="print the IAM policy the import needs, and exit")
    p.set_defaults(func=cmd_securityhub_import)

    p = sub.add_parser("rules", help="list the rule catalog")
    p.add_argument("-o", "--output", choices=("text", "json"), default="text")
    p.add_argument("--profiles", action="store_true",
                   help="print the built-in profiles (the SEC09-BP01 guidance's certificate policies) instead")
    p.add_argument("--rules-dir", action="append", default=[], metavar="DIR")
    p.add_argument("--doc", metavar="CODE", help="print a rule's documentation page (CODE or name), as shipped")
    p.set_defaults(func=cmd_rules)
    return parser


def _report_options(p: argparse.ArgumentParser) -> None:
    """How results are written and when they fail the run: shared by `scan` and `live`."""
    p.add_argument("-o", "--output", action="append", metavar="FORMAT[=PATH]",
                   help=f"output format, repeatable: {', '.join(FORMATS)} (default text to stdout)")
    p.add_argument("--fail-on", choices=(*reversed(SEVERITIES), "none"),
                   help="lowest severity that makes the exit code 1 (default: the config's fail_on, else low)")
    p.add_argument("-q", "--quiet", action="store_true", help="text output: one line per finding, no summary when clean")
    p.add_argument("--show-suppressed", action="store_true", help="text output: list suppressed findings too")
    p.add_argument("--baseline", metavar="FILE", help="report only findings not in this baseline")
    p.add_argument("--sarif-category", default="certwarden", metavar="NAME",
                   help="SARIF automationDetails.id: one per analysis uploaded for the same commit")


def _input_options(p: argparse.ArgumentParser) -> None:
    """What to scan and with which rules: shared by `scan` and `baseline create`."""
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: .)")
    p.add_argument("-j", "--jobs", type=int, default=0, metavar="N",
                   help="worker processes (default 0: one per core for large trees, none for small runs)")
    p.add_argument("--cache", metavar="DIR",
                   help="reuse what was read from unchanged files (content hash); DIR must lie outside the scanned tree")
    p.add_argument("--exclude", action="append", metavar="GLOB",
                   help="skip paths matching the glob, relative to the repository root or to a PATH (repeatable)")
    p.add_argument("--force-exclude", action="store_true",
                   help="apply the excludes to files named on the command line too (as pre-commit names them)")
    p.add_argument("--var-file", action="append", metavar="FILE",
                   help="Terraform variables file (.tfvars or .tfvars.json) for every module scanned, repeatable")
    _rule_options(p)


def _rule_options(p: argparse.ArgumentParser) -> None:
    """Which rules, under which policy: shared by every command that scans."""
    p.add_argument("--select", action="append", metavar="CODE,...", help="only these rules (codes or names)")
    p.add_argument("--ignore", action="append", metavar="CODE,...", help="skip these rules (codes or names)")
    p.add_argument("--strict", action="store_true", help="report values that could not be resolved")
    p.add_argument("--rules-dir", action="append", default=[], metavar="DIR", help="add your own rule files")
    p.add_argument("--now", metavar="DATE", help="evaluate time-dependent rules (and suppression dates) as of this date")
    p.add_argument("--allow-input-errors", action="store_true",
                   help="judge what could be read when some input could not be (default: such a run exits 2)")
    cfg = p.add_mutually_exclusive_group()
    cfg.add_argument("--config", metavar="FILE", help="policy file (default: .certwarden.yaml, .certwarden.yml "
                     "or [tool.certwarden] in pyproject.toml, found upward from the first PATH)")
    cfg.add_argument("--no-config", action="store_true", help="ignore configuration files")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (UsageError, RuleError, ConfigError, OutputError, CacheError) as exc:
        print(f"certwarden: error: {lines(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 1
    except InternalError as exc:   # names the file (attacker text): escaped like every stderr line
        print(f"certwarden: {plain(exc)} (a bug: please report it)", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001  a bug outside the scan of one input: one line, exit 2
        print(f"certwarden: internal error: {plain(f'{type(exc).__name__}: {exc}'[:300])} (a bug: please report it)",
              file=sys.stderr)
        return 2
