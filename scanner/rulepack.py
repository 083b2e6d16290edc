"""Loading and validating rule files (the shipped pack and users' --rules-dir)."""
from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

import yaml

from .kinds import KINDS

# jsonschema is imported only to validate: it costs a third of startup, and the shipped pack is
# validated by the test suite (tests/test_rulepack_schema.py), so a scan validates only --rules-dir.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

SEVERITIES = ("info", "low", "medium", "high", "critical")
# The rule catalog's sections, by the hundreds digit of a CW code: how reports group rules.
FAMILIES = {"1": "KMS keys", "2": "Certificates and ACM", "3": "Private CA",
            "4": "Buckets holding certificate material", "5": "Secrets and private keys",
            "6": "TLS endpoints", "7": "HSM", "8": "Monitoring and governance"}
OTHER_FAMILY = "Other rules"   # codes outside the catalog's scheme (a --rules-dir of one's own)


DOCS_BASE = "https://github.com/certwarden/certwarden/blob/main/"


class RuleError(Exception):
    """A rule file that cannot be used; the message names the file and the field."""


# A ref naming an AWS Config managed rule: "CFG cmk-backing-key-rotation-enabled", maybe with a note.
CONFIG_REF = re.compile(r"CFG ([a-z0-9-]+)(.*)")


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: str
    sources: tuple[str, ...]
    kinds: tuple[str, ...]
    title: str
    why: str
    when: dict
    message: str
    wa: tuple[int, ...] = ()
    refs: tuple[str, ...] = ()
    precision: str = "high"
    tags: tuple[str, ...] = ()
    params: dict = field(default_factory=dict)
    escalate_when: dict | None = None
    at: tuple[str, ...] = ()

    @property
    def config_rules(self) -> tuple[str, ...]:
        """The AWS Config managed rules that watch for what this rule finds (its "CFG" refs)."""
        return tuple(m.group(1) for ref in self.refs if (m := CONFIG_REF.fullmatch(ref)))
    fix: dict | None = None
    notes: str = ""
    path: str = ""
    help_uri: str | None = None   # the rule's page: declared, or the pack's docs/rules/ page for a shipped rule

    @property
    def doc_path(self) -> str:
        return f"docs/rules/{self.code}.md"


def fix_values(fix: dict | None, params: dict) -> dict:
    """A fix's `set` with each `{param: NAME}` replaced by the policy's value (a list, such as
    approved policies, gives its first entry: the policy's preferred value)."""
    out = {}
    for attr, value in ((fix or {}).get("set") or {}).items():
        if isinstance(value, dict) and set(value) == {"param"}:
            value = params[value["param"]]
            value = value[0] if isinstance(value, (list, tuple)) else value
        out[attr] = value
    return out


def family(code: str) -> str:
    """The catalog section a rule code belongs to."""
    if len(code) == 5 and code.startswith("CW") and code[2:].isdigit():
        return FAMILIES.get(code[2], OTHER_FAMILY)
    return OTHER_FAMILY


def _pack_dir() -> Path:
    """The shipped rules: scanner/rules/ in an installed wheel, rules/ beside scanner/ in a checkout.

    Looked up by path rather than import so that a checkout on PYTHONPATH never picks up the
    rule pack of some other installed copy.
    """
    here = Path(__file__).resolve().parent
    installed = here / "rules"
    return installed if (installed / "rule.schema.json").exists() else here.parent / "rules"


def rule_page(code: str) -> str | None:
    """The documentation page of a shipped rule (scanner/rule_docs/ in a wheel, docs/rules/ in a
    checkout), or None when there is none (a user rule, an unknown code)."""
    if not re.fullmatch(r"[A-Z]+[0-9]+", code):   # a code, never a path
        return None
    here = Path(__file__).resolve().parent
    for folder in (here / "rule_docs", here.parent / "docs" / "rules"):
        if (folder / f"{code}.md").is_file():
            return (folder / f"{code}.md").read_text(encoding="utf-8")
    return None


def _validator():
    import jsonschema

    schema = json.loads((_pack_dir() / "rule.schema.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def _field(error) -> str:
    parts = []
    for p in error.absolute_path:
        parts.append(f"[{p}]" if isinstance(p, int) else (("." if parts else "") + str(p)))
    return "".join(parts) or "(top level)"


def load_file(path: Path, validator=None, validate: bool = True) -> Rule:
    """One rule file; `validate=False` only for the shipped pack, whose files the tests validate."""
    if validate and validator is None:
        validator = _validator()
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        raise RuleError(f"{path}:{line}: invalid YAML: {exc.problem}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RuleError(f"{path}: cannot read rule file: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise RuleError(f"{path}: a rule file must hold a mapping")
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(list(e.absolute_path)), str(e.absolute_path))) \
        if validate else []
    if errors:
        from jsonschema.exceptions import best_match

        err = best_match(errors)
        raise RuleError(f"{path}: field {_field(err)}: {err.message}")
    at = data.get("at", ())
    return Rule(
        code=data["code"], name=data["name"], severity=data["severity"], sources=tuple(data["sources"]),
        kinds=tuple(data["kinds"]), title=data["title"], why=data["why"].strip(), when=data["when"],
        message=data["message"], wa=tuple(data.get("wa", ())), refs=tuple(data.get("refs", ())),
        precision=data.get("precision", "high"), tags=tuple(data.get("tags", ())),
        params=dict(data.get("params", {})), escalate_when=data.get("escalate_when"),
        at=(at,) if isinstance(at, str) else tuple(at), fix=data.get("fix"),
        notes=data.get("notes", "").strip(), path=str(path), help_uri=data.get("help_uri"),
    )


# -- the vocabulary: every kind and attribute a rule names is one the model declares -----------
def _nearest(name: str, known) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f" (nearest: {close[0]})" if close else ""


def _attrs_named(cond, where: str, own: bool = True) -> Iterator[tuple[str, str, bool]]:
    """(key path, attribute, whether it is the rule's own node's) for every attr a condition
    names; the conditions under an edge's `where` are about the neighbour."""
    if not isinstance(cond, dict):
        return
    for key in ("all", "any"):
        for i, sub in enumerate(cond.get(key, ())):
            yield from _attrs_named(sub, f"{where}.{key}[{i}]", own)
    if "not" in cond:
        yield from _attrs_named(cond["not"], f"{where}.not", own)
    if "edge" in cond:
        if "via" in cond:
            yield f"{where}.via", cond["via"], own
        yield from _attrs_named(cond.get("where"), f"{where}.where", False)
    if "attr" in cond:
        yield f"{where}.attr", cond["attr"].split(".", 1)[0], own


def check_vocabulary(rule: Rule) -> None:
    """A misspelt kind or attribute would read as absent and make the rule fire (or never fire)
    on every node: refuse it at load, naming the file, the rule, the key path and the nearest name."""
    for i, kind in enumerate(rule.kinds):
        if kind not in KINDS:
            raise RuleError(f"{rule.path}: {rule.code}: kinds[{i}]: unknown kind {kind!r}{_nearest(kind, KINDS)}")
    own = set().union(*(KINDS[k] for k in rule.kinds))
    anywhere = set().union(*KINDS.values())
    named = [*_attrs_named(rule.when, "when"), *_attrs_named(rule.escalate_when, "escalate_when")]
    named += [(f"at[{i}]", a, True) for i, a in enumerate(rule.at)]
    named += [(f"fix.set.{a}", a, True) for a in ((rule.fix or {}).get("set") or {})]
    named += _attrs_named((rule.fix or {}).get("when"), "fix.when")
    for where, name, of_own in named:
        known = own if of_own else anywhere
        if name not in known:
            scope = "/".join(rule.kinds) if of_own else "any kind"
            raise RuleError(f"{rule.path}: {rule.code}: {where}: unknown attribute {name!r} for {scope}"
                            f"{_nearest(name, known)}")


def load_rules(extra_dirs: list[str] | tuple = ()) -> list[Rule]:
    """The shipped pack plus users' rule directories; codes and names must be unique."""
    files = [(f, False) for f in sorted(_pack_dir().glob("*.yaml"))]
    for d in extra_dirs:
        p = Path(d)
        if not p.is_dir():
            raise RuleError(f"{d}: rules directory not found")
        files += [(f, True) for f in sorted(list(p.glob("*.yaml")) + list(p.glob("*.yml")))]
    validator = _validator() if extra_dirs else None
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for f, validate in files:
        rule = load_file(f, validator, validate)
        if not validate:   # shipped: its page is in docs/rules/ (a user rule has one only if it says so)
            rule = replace(rule, help_uri=rule.help_uri or DOCS_BASE + rule.doc_path)
        check_vocabulary(rule)
        for key in (rule.code, rule.name):
            if key in seen:
                raise RuleError(f"{f}: {key} is already defined in {seen[key]}")
            seen[key] = str(f)
        rules.append(rule)
    return sorted(rules, key=lambda r: r.code)


def select(rules: list[Rule], select_: list[str] | None, ignore: list[str] | None) -> list[Rule]:
    """--select / --ignore by code or name; an unknown one is a usage error."""
    known = {r.code for r in rules} | {r.name for r in rules}
    for key in (select_ or []) + (ignore or []):
        if key not in known:
            raise RuleError(f"unknown rule {key!r} (see `certwarden rules`)")
    chosen = [r for r in rules if not select_ or r.code in select_ or r.name in select_]
    return [r for r in chosen if not ignore or (r.code not in ignore and r.name not in ignore)]


def raise_severity(severity: str, steps: int = 1) -> str:
    return SEVERITIES[min(SEVERITIES.index(severity) + steps, len(SEVERITIES) - 1)]


def fix_todo(fix: dict | None) -> str:
    """The first sentence of a fix's description: what a person does where no automatic fix is
    made (the rule has none, or it cannot be made here)."""
    text = " ".join(str((fix or {}).get("description", "")).split())
    head, dot, _ = text.partition(". ")
    return head + "." if dot else text
