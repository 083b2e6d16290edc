"""The policy file: `.certwarden.yaml`, `.certwarden.yml` or `[tool.certwarden]` in pyproject.toml.

Found upward from the scan root up to the repository root, or named with --config. It is validated against
scanner/schemas/config.schema.json narrowed to the loaded rules: every rule's params are typed
by their defaults, so a misspelt key or a wrong type is an error naming the file, the key path
and what is allowed. Precedence for a param: rule default < `rules:` < matching profiles.
"""
from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from .kinds import KINDS
from .model import Node
from .rulepack import Rule, RuleError, select as select_rules
from .sources import loader
from .sources.files import ReadError, read_bytes

CONFIG_NAMES = (".certwarden.yaml", ".certwarden.yml", "pyproject.toml")
DEFAULT_PROFILE_TAG = "certwarden:profile"
RESERVED = ("enabled", "severity")     # rule settings that are not params
SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "config.schema.json"
# Built-in profile sets a policy file can extend (`extends: [sec09-bp01]`): one YAML file each.
MAX_CONFIG_BYTES = 1024 * 1024   # a policy file is a page or two
BUILTIN_DIR = Path(__file__).resolve().parent / "profiles"


class ConfigError(Exception):
    """A configuration that cannot be used; the message names the file and the key path."""


@dataclass(frozen=True)
class Profile:
    """A named set of param overrides for the resources it matches."""

    name: str
    tags: dict[str, tuple[str, ...]] = field(default_factory=dict)   # tag key -> globs (any)
    kinds: tuple[str, ...] = ()
    params: dict[str, dict] = field(default_factory=dict)            # rule code -> overrides
    paths: tuple[str, ...] = ()                                      # globs of files (any)
    extended_key_usage: tuple[str, ...] = ()                         # usages the certificate has (all)

    def matches(self, node: Node, profile_tag: str, root: Path | None = None) -> bool:
        tags = node.tags
        if tags.get(profile_tag) == self.name:
            return True
        if not (self.tags or self.kinds or self.paths or self.extended_key_usage):
            return False
        if self.kinds and node.kind not in self.kinds:
            return False
        if self.paths and not any(fnmatch.fnmatchcase(p, g) for p in _node_paths(node, root) for g in self.paths):
            return False
        if self.extended_key_usage:
            usage = node.attrs.get("extended_key_usage")
            if not isinstance(usage, list) or not set(self.extended_key_usage) <= set(usage):
                return False
        # A tag value that is not a plain string (unresolved) never selects a profile: no guessing.
        return all(isinstance(tags.get(key), str) and any(fnmatch.fnmatchcase(tags[key], g) for g in globs)
                   for key, globs in self.tags.items())


@dataclass(frozen=True)
class SuppressionPolicy:
    """The policy file's `suppressions:`: what an inline suppression must hold to apply."""

    min_reason_length: int = 1
    max_days: int | None = None     # until= required, at most this many days after the scan date


def _node_paths(node: Node, root: Path | None) -> list[str]:
    """The node's file as written and relative to the policy file's directory (a glob such as
    certs/signing/** is written from there)."""
    file = node.where.file if node.where else None
    if not file or "://" in file:   # live resources have no file
        return []
    paths = [Path(file).as_posix()]
    if root is not None:
        try:
            paths.append(Path(file).resolve().relative_to(root).as_posix())
        except ValueError:
            pass
    return paths


@dataclass
class Config:
    path: str | None = None
    fail_on: str | None = None
    allow_input_errors: bool = False   # judge what was read when some input could not be
    exclude: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    profile_tag: str = DEFAULT_PROFILE_TAG
    disabled: frozenset[str] = frozenset()
    severities: dict[str, str] = field(default_factory=dict)      # rule code -> severity
    rule_params: dict[str, dict] = field(default_factory=dict)    # rule code -> overrides
    profiles: tuple[Profile, ...] = ()
    suppressions: SuppressionPolicy = field(default_factory=SuppressionPolicy)

    @property
    def root(self) -> Path | None:
        return Path(self.path).resolve().parent if self.path else None

    def params(self, rule: Rule, node: Node) -> dict:
        """The rule's params for this node; profiles apply in the order the file lists them."""
        params = {**rule.params, **self.rule_params.get(rule.code, {})}
        for profile in self.profiles:
            if rule.code in profile.params and profile.matches(node, self.profile_tag, self.root):
                params.update(profile.params[rule.code])
        return params

    def choose(self, rules: list[Rule], select: list[str], ignore: list[str]) -> list[Rule]:
        """The rules to run, with the file's severities (so SARIF rule descriptors agree with findings).

        Command-line --select/--ignore replace the file's; a disabled rule runs only if --select names it.
        """
        chosen = select_rules(rules, select or list(self.select), ignore or list(self.ignore))
        return [replace(r, severity=self.severities.get(r.code, r.severity)) for r in chosen
                if r.code not in self.disabled or r.code in select or r.name in select]


# -- schema ------------------------------------------------------------------------------------
def _value_schema(default: Any) -> dict:
    """A param's type, read off its default."""
    if isinstance(default, bool):
        return {"type": "boolean"}
    if isinstance(default, int):
        return {"type": "integer"}
    if isinstance(default, float):
        return {"type": "number"}
    if isinstance(default, str):
        return {"type": "string"}
    if isinstance(default, list):
        types = {json.dumps(_value_schema(v)) for v in default}
        return {"type": "array", "items": json.loads(types.pop()) if len(types) == 1 else {}}
    if isinstance(default, dict):
        return {"type": "object"}
    return {}


def _settings(rule: Rule, with_reserved: bool) -> dict:
    props = {k: {**_value_schema(v), "default": v} for k, v in rule.params.items()}
    if with_reserved:
        props = {"enabled": {"type": "boolean"}, "severity": {"$ref": "#/$defs/severity"}, **props}
    return {"type": "object", "additionalProperties": False, "description": rule.title, "properties": props}


def schema(rules: list[Rule]) -> dict:
    """The shipped schema narrowed to these rules: known codes and names, typed params."""
    for rule in rules:
        clash = set(rule.params) & set(RESERVED)
        if clash:
            raise RuleError(f"{rule.path}: param {sorted(clash)[0]!r} is reserved for the configuration file")
    doc = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    allowed_rules = "a rule code or name (see `certwarden rules`)"
    for key, reserved in (("rule_settings", True), ("profile_rule_settings", False)):
        doc["$defs"][key] = {
            "type": "object", "additionalProperties": False, "x-allowed": allowed_rules,
            "properties": {k: _settings(r, reserved) for r in rules for k in (r.code, r.name)},
        }
    names = [k for r in rules for k in (r.code, r.name)]
    for key in ("select", "ignore"):
        doc["properties"][key]["items"] = {"enum": names, "x-allowed": allowed_rules}
    doc["properties"]["extends"]["items"] = {"enum": builtin_names(), "x-allowed": ", ".join(builtin_names())}
    # A built-in profile may be given only a match (or some params): its rules come with it.
    doc["$defs"]["builtin_profile"] = {k: v for k, v in doc["$defs"]["profile"].items() if k != "required"}
    doc["properties"]["profiles"]["properties"] = {
        name: {"$ref": "#/$defs/builtin_profile"} for name in builtin_profile_names()}
    kinds = sorted(set(KINDS) | {k for r in rules for k in r.kinds})
    doc["$defs"]["profile"]["properties"]["match"]["properties"]["kinds"]["items"] = {"enum": kinds}
    return doc


# -- errors ------------------------------------------------------------------------------------
def _key_path(parts: list) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def _type_name(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "list",
            dict: "mapping", type(None): "null"}.get(type(value), type(value).__name__)


def _explain(err) -> tuple[list, str]:
    """(key path, message saying what is allowed) for one schema violation."""
    path, v, s = list(err.absolute_path), err.validator, err.schema
    if v == "additionalProperties":
        known = s.get("properties", {})
        extra = next(k for k in err.instance if k not in known)
        allowed = s.get("x-allowed") or ", ".join(known) or "no keys (this rule has no params)"
        return path + [extra], f"unknown key (allowed: {allowed})"
    if v == "type":
        wanted = {"object": "mapping", "array": "list"}.get(s["type"], s["type"])
        return path, f"must be {'an' if wanted[0] in 'aeiou' else 'a'} {wanted}, not {_type_name(err.instance)} {err.instance!r}"
    if v == "enum":
        allowed = s.get("x-allowed") or ", ".join(map(str, s["enum"]))
        return path, f"{err.instance!r} is not allowed (allowed: {allowed})"
    if v == "pattern" and "propertyNames" in err.absolute_schema_path:
        return path + [err.instance], "not a valid profile name (allowed: lower-case letters, digits and _, starting with a letter)"
    if v == "oneOf":
        kinds = " or ".join("a list of strings" if o.get("type") == "array" else f"a {o['type']}" for o in s["oneOf"])
        return path, f"must be {kinds}, not {_type_name(err.instance)}"
    if v == "minProperties":
        return path, "must not be empty"
    if v == "required":
        missing = next(k for k in s["required"] if k not in err.instance)
        return path + [missing], "is required"
    return path, err.message


def validate(data: Any, rules: list[Rule], path: str) -> None:
    import jsonschema   # only when there is a config file: it costs a third of startup

    validator = jsonschema.Draft202012Validator(schema(rules))
    problems = sorted({(_key_path(p), m) for p, m in map(_explain, validator.iter_errors(data))})
    if problems:
        raise ConfigError("\n".join(f"{path}: {where}: {message}" for where, message in problems))


# -- reading and discovery ---------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """Dates as ISO strings: YAML and TOML turn an unquoted 2030-12-31 into a date object."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _claims_tool_table(pyproject: Path) -> bool:
    """Cheap check first, so an unrelated (even broken) pyproject.toml is passed over."""
    try:
        return b"tool.certwarden" in read_bytes(str(pyproject), MAX_CONFIG_BYTES)
    except ReadError:
        return False


def _search_top(here: Path) -> Path:
    """Where the upward search stops: the repository root (the directory holding .git); outside
    a repository, the current directory if here is below it, else here."""
    for directory in (here, *here.parents):
        if (directory / ".git").exists():
            return directory
    cwd = Path.cwd().resolve()
    return cwd if here.is_relative_to(cwd) else here


def find(start: str | Path) -> Path | None:
    """The nearest config file in start's directory or above it, never above _search_top: a policy
    file in a shared parent (the system temp directory, a CI workspace) does not govern what is
    cloned below it."""
    here = Path(start).resolve()
    if not here.is_dir():
        here = here.parent
    top = _search_top(here)
    for directory in (here, *here.parents):
        for name in CONFIG_NAMES:
            candidate = directory / name
            if candidate.is_file() and (name != "pyproject.toml" or _claims_tool_table(candidate)):
                return candidate
        if directory == top:
            return None
    return None


def read(path: Path) -> Any:
    """A policy file's document. A policy found in the scanned tree is the tree's own, so it is
    read as warily as a template: a regular file only (a FIFO would block the open), bounded in
    size, and YAML through the loader that refuses alias bombs and deep nesting."""
    try:
        text = read_bytes(str(path), MAX_CONFIG_BYTES).decode("utf-8")
    except (ReadError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc}") from None
    if path.suffix == ".toml":
        import tomllib   # only a TOML policy file needs it

        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
        if path.name == "pyproject.toml":
            if "certwarden" not in doc.get("tool", {}):
                raise ConfigError(f"{path}: no [tool.certwarden] table")
            doc = doc["tool"]["certwarden"]
        return _plain(doc)
    try:
        doc = loader.load(text.encode("utf-8"))
    except loader.LoadError as exc:
        raise ConfigError(f"{path}:{exc.line}: {exc}" if exc.line else f"{path}: {exc}") from None
    return _plain({} if doc is None else doc)


def _by_code(section: dict, rules: list[Rule], path: Path, where: str) -> dict[str, dict]:
    """Rule settings keyed by code, whether the file named the rule by code or by name."""
    code_of = {k: r.code for r in rules for k in (r.code, r.name)}
    out: dict[str, dict] = {}
    named: dict[str, str] = {}
    for key, settings in section.items():
        code = code_of[key]
        if code in out:
            raise ConfigError(f"{path}: {where}.{key}: {code} is already configured as {named[code]}")
        out[code], named[code] = settings, key
    return out


# -- built-in profiles -------------------------------------------------------------------------
def builtin_names() -> list[str]:
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))


def builtin_profile_names() -> list[str]:
    return sorted({name for set_name in builtin_names() for name in builtin_profiles(set_name)})


def builtin_text(name: str) -> str:
    return (BUILTIN_DIR / f"{name}.yaml").read_text(encoding="utf-8")


@cache
def builtin_profiles(name: str) -> dict:
    """The profiles of a built-in set, read once: the schema and every `extends` use them.
    Callers must not change what they get."""
    return yaml.safe_load(builtin_text(name))["profiles"]


def _profile_specs(data: dict, rules: list[Rule], path: Path) -> dict[str, tuple[dict, dict]]:
    """name -> (match, rule code -> params): the extended built-in sets first, in the order
    `extends` lists them, then the file's own profiles; a profile of the same name as a built-in
    one keeps its place, takes the file's match when it gives one, and overrides param by param."""
    specs: dict[str, tuple[dict, dict]] = {}
    for set_name in data.get("extends", ()):
        for name, spec in builtin_profiles(set_name).items():
            specs[name] = (spec.get("match", {}), _by_code(spec["rules"], rules, path, f"{set_name}.{name}.rules"))
    for name, spec in data.get("profiles", {}).items():
        params = _by_code(spec.get("rules", {}), rules, path, f"profiles.{name}.rules")
        match, base = specs.get(name, ({}, {}))
        merged = {code: {**base.get(code, {}), **params.get(code, {})} for code in {**base, **params}}
        specs[name] = (spec.get("match", match), merged)
    return specs


def build(data: dict, rules: list[Rule], path: Path) -> Config:
    settings = _by_code(data.get("rules", {}), rules, path, "rules")
    profiles = []
    for name, (match, params) in _profile_specs(data, rules, path).items():
        tags = {k: tuple(v) if isinstance(v, list) else (v,) for k, v in match.get("tags", {}).items()}
        profiles.append(Profile(name, tags, tuple(match.get("kinds", ())), params, tuple(match.get("paths", ())),
                                tuple(match.get("extended_key_usage", ()))))
    return Config(
        path=str(path), fail_on=data.get("fail_on"), allow_input_errors=data.get("allow_input_errors", False),
        exclude=tuple(data.get("exclude", ())),
        select=tuple(data.get("select", ())), ignore=tuple(data.get("ignore", ())),
        profile_tag=data.get("profile_tag", DEFAULT_PROFILE_TAG),
        disabled=frozenset(c for c, s in settings.items() if s.get("enabled") is False),
        severities={c: s["severity"] for c, s in settings.items() if "severity" in s},
        rule_params={c: {k: v for k, v in s.items() if k not in RESERVED} for c, s in settings.items()},
        profiles=tuple(profiles),
        suppressions=SuppressionPolicy(**data.get("suppressions", {})),
    )


def load_config(explicit: str | None, paths: list[str], rules: list[Rule]) -> Config:
    """--config FILE, else the file found upward from the first scan path, else no policy."""
    if explicit:
        path = Path(explicit)
        if not path.exists():
            raise ConfigError(f"{explicit}: config file not found")
    else:
        path = find(paths[0] if paths else ".")
        if path is None:
            return Config()
    data = read(path)
    validate(data, rules, str(path))
    return build(data, rules, path)
