"""The policy file: discovery, validation messages, precedence with the command line, profiles."""
from __future__ import annotations

import json
import shutil
import textwrap

import pytest

from conftest import FIXTURES
from certwarden.config import ConfigError, find, load_config, validate
from certwarden.kinds import KINDS

EXAMPLE = FIXTURES / "examples" / "certificate-infrastructure.yaml"

# Two keys rotating every 300 days: within CW102's default 365, beyond a 180-day policy.
KEYS = """\
Parameters:
  Unknown: {Type: String}
Resources:
  Plain:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: true
      RotationPeriodInDays: 300
      Tags: [{Key: Environment, Value: prod}]
  Internal:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: true
      RotationPeriodInDays: 300
      Tags: [{Key: Environment, Value: prod}, {Key: Purpose, Value: internal-api}]
  Tagged:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: true
      RotationPeriodInDays: 300
      Tags: [{Key: Environment, Value: prod}, {Key: "certwarden:profile", Value: internal_service}]
  UnknownPurpose:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: true
      RotationPeriodInDays: 300
      Tags: [{Key: Environment, Value: prod}, {Key: Purpose, Value: !Ref Unknown}]
"""


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def found(out: str) -> set[tuple[str, str]]:
    return {(f["code"], f["resource"]) for f in json.loads(out)["findings"]}


@pytest.fixture
def keys(tmp_path):
    """A repository (the policy file is searched for up to its root) with keys under infra/."""
    write(tmp_path / "infra" / "keys.yaml", KEYS)
    (tmp_path / ".git").mkdir()
    return tmp_path


# -- profiles and params -----------------------------------------------------------------------
def test_without_config_the_rule_defaults_apply(keys, run_cli):
    code, out, _ = run_cli("scan", keys / "infra", "--select", "CW102", "-o", "json")
    assert (code, found(out)) == (0, set())


def test_profile_chosen_by_tag_glob_or_profile_tag_changes_the_verdict(keys, run_cli):
    write(keys / ".certwarden.yaml", """\
        profiles:
          internal_service:
            match: {tags: {Purpose: "internal-*"}}
            rules: {CW102: {max_rotation_days: 180}}
    """)
    code, out, _ = run_cli("scan", keys / "infra", "--select", "CW102", "-o", "json")
    # Plain has no matching tag; UnknownPurpose's tag is unresolved, so no profile is guessed.
    assert (code, found(out)) == (1, {("CW102", "Internal"), ("CW102", "Tagged")})
    assert "more than 180" in json.loads(out)["findings"][0]["message"]


def test_rules_section_sets_params_for_every_resource_and_profiles_override_it(keys, run_cli):
    write(keys / ".certwarden.yaml", """\
        rules:
          kms-rotation-period-too-long: {max_rotation_days: 200}
        profiles:
          internal_service:
            match: {tags: {Purpose: [other, internal-api]}, kinds: [kms_key]}
            rules: {CW102: {max_rotation_days: 365}}
    """)
    code, out, _ = run_cli("scan", keys / "infra", "--select", "CW102", "-o", "json")
    # Tagged names internal_service in its certwarden:profile tag.
    assert found(out) == {("CW102", "Plain"), ("CW102", "UnknownPurpose")}


def test_later_profile_wins_when_several_match(keys, run_cli):
    write(keys / ".certwarden.yaml", """\
        profiles:
          strict: {match: {tags: {Environment: prod}}, rules: {CW102: {max_rotation_days: 100}}}
          internal_service: {match: {tags: {Purpose: internal-api}}, rules: {CW102: {max_rotation_days: 365}}}
    """)
    _, out, _ = run_cli("scan", keys / "infra", "--select", "CW102", "-o", "json")
    assert found(out) == {("CW102", "Plain"), ("CW102", "UnknownPurpose")}


def test_profile_on_the_guidance_example_template(tmp_path, run_cli):
    """The example's root CA is tagged Purpose: RootCA; a profile accepts its key for CW301/CW302."""
    shutil.copy(EXAMPLE, tmp_path / EXAMPLE.name)
    code, out, _ = run_cli("scan", tmp_path, "--select", "CW301,CW302", "-o", "json")
    assert found(out) == {("CW301", "PrivateCA"), ("CW302", "PrivateCA")}
    write(tmp_path / ".certwarden.yaml", """\
        profiles:
          internal_service:
            match: {tags: {Purpose: RootCA, Environment: prod}}
            rules:
              CW302: {root_key_algorithms: [RSA_2048, RSA_4096]}
              CW301: {strength_112_until: 2037-01-01}
    """)
    code, out, _ = run_cli("scan", tmp_path, "--select", "CW301,CW302", "-o", "json")
    assert (code, found(out)) == (0, set())


def test_severity_override_and_disabled_rule(keys, run_cli):
    write(keys / ".certwarden.yaml", """\
        rules:
          CW102: {max_rotation_days: 180, severity: critical}
          CW107: {enabled: false}
    """)
    write(keys / "infra" / "untagged.yaml", "Resources: {K: {Type: 'AWS::KMS::Key', Properties: {EnableKeyRotation: true}}}\n")
    _, out, _ = run_cli("scan", keys / "infra", "-o", "json")
    findings = json.loads(out)["findings"]
    assert {(f["code"], f["resource"], f["severity"]) for f in findings if f["code"] in ("CW102", "CW107")} == {
        ("CW102", r, "critical") for r in ("Plain", "Internal", "Tagged", "UnknownPurpose", "K")}
    # The SARIF rule descriptor carries the configured severity too, so GitHub ranks the alert by it.
    _, out, _ = run_cli("scan", keys / "infra", "--select", "CW102", "-o", "sarif")
    (descriptor,) = json.loads(out)["runs"][0]["tool"]["driver"]["rules"]
    assert descriptor["properties"]["security-severity"] == "9.5"
    # Naming a disabled rule in --select runs it.
    _, out, _ = run_cli("scan", keys / "infra", "--select", "CW107", "-o", "json")
    assert found(out) == {("CW107", "K")}


# -- discovery ---------------------------------------------------------------------------------
def test_pyproject_tool_table(keys, run_cli):
    write(keys / "pyproject.toml", """\
        [project]
        name = "infra"

        [tool.certwarden.rules.CW102]
        max_rotation_days = 180
    """)
    code, out, _ = run_cli("scan", keys / "infra", "--select", "CW102", "-o", "json")
    assert (code, len(found(out))) == (1, 4)


def test_discovery_walks_up_and_passes_over_pyproject_without_tool_table(tmp_path):
    write(tmp_path / "repo" / ".certwarden.yml", "fail_on: high\n")
    write(tmp_path / "repo" / "infra" / "pyproject.toml", "[project]\nname = 'x'\n")
    (tmp_path / "repo" / ".git").mkdir()
    deep = tmp_path / "repo" / "infra" / "prod"
    deep.mkdir(parents=True)
    assert find(deep) == tmp_path / "repo" / ".certwarden.yml"
    assert find(deep / "stack.yaml") == tmp_path / "repo" / ".certwarden.yml"
    write(tmp_path / "repo" / "infra" / ".certwarden.yaml", "{}\n")
    assert find(deep) == tmp_path / "repo" / "infra" / ".certwarden.yaml"


def test_yaml_is_preferred_to_pyproject_in_the_same_directory(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.certwarden]\nfail_on = 'info'\n")
    write(tmp_path / ".certwarden.yaml", "fail_on: high\n")
    assert find(tmp_path) == tmp_path / ".certwarden.yaml"


def test_explicit_config_file_and_no_config(keys, run_cli):
    policy = write(keys / "policies" / "strict.yaml", "rules: {CW102: {max_rotation_days: 180}}\n")
    write(keys / ".certwarden.yaml", "rules: {CW102: {max_rotation_days: 1000}}\n")
    _, out, _ = run_cli("scan", keys / "infra", "--select", "CW102", "-o", "json", "--config", policy)
    assert len(found(out)) == 4
    write(keys / ".certwarden.yaml", "rules: {CW102: {max_rotation_days: 180}}\n")
    _, out, _ = run_cli("scan", keys / "infra", "--select", "CW102", "-o", "json", "--no-config")
    assert found(out) == set()


def test_missing_explicit_config_is_a_usage_error(keys, run_cli):
    code, _, err = run_cli("scan", keys / "infra", "--config", keys / "nope.yaml")
    assert (code, err) == (2, f"certwarden: error: {keys / 'nope.yaml'}: config file not found\n")


# -- precedence --------------------------------------------------------------------------------
def test_command_line_wins_over_config(keys, run_cli):
    write(keys / ".certwarden.yaml", """\
        fail_on: critical
        select: [CW102]
        exclude: [other]
        rules: {CW102: {max_rotation_days: 180}}
    """)
    write(keys / "infra" / "other" / "untagged.yaml",
          "Resources: {K: {Type: 'AWS::KMS::Key', Properties: {EnableKeyRotation: true}}}\n")
    infra = keys / "infra"
    # The file's select, exclude (other/ holds K) and fail_on: medium findings, exit 0.
    code, out, _ = run_cli("scan", infra, "-o", "json")
    assert (code, found(out)) == (0, {("CW102", r) for r in ("Plain", "Internal", "Tagged", "UnknownPurpose")})
    code, out, _ = run_cli("scan", infra, "-o", "json", "--fail-on", "medium")
    assert code == 1
    code, out, _ = run_cli("scan", infra, "-o", "json", "--select", "CW107", "--exclude", "nothing")
    assert found(out) == {("CW107", "K")}
    code, out, _ = run_cli("scan", infra, "-o", "json", "--ignore", "CW102", "--select", "CW102,CW107")
    assert found(out) == set()     # the file's exclude still hides K
    code, out, _ = run_cli("scan", infra, "-o", "json", "--ignore", "CW102", "--select", "CW102,CW107", "--exclude", "x")
    assert found(out) == {("CW107", "K")}


def test_config_ignore_applies_when_the_command_line_has_none(keys, run_cli):
    write(keys / ".certwarden.yaml", "ignore: [kms-rotation-period-too-long]\nrules: {CW102: {max_rotation_days: 1}}\n")
    _, out, _ = run_cli("scan", keys / "infra", "-o", "json")
    assert "CW102" not in {c for c, _ in found(out)}


# -- validation --------------------------------------------------------------------------------
def errors_of(tmp_path, rules, text, name=".certwarden.yaml"):
    path = write(tmp_path / name, text)
    with pytest.raises(ConfigError) as exc:
        load_config(str(path), [str(tmp_path)], rules)
    return str(exc.value).replace(f"{path}: ", "").splitlines()


def test_wrong_keys_and_types_name_the_key_path_and_what_is_allowed(tmp_path, rules):
    assert errors_of(tmp_path, rules, """\
        fail_on: hihg
        exclude: tests
        rules:
          CW102: {max_rotation_days: "180", sevrity: high}
          CW999: {}
          CW101: {max_rotation_days: 1}
        profiles:
          Bad-Name: {rules: {}}
          ok:
            match: {tags: {Purpose: 3}, kinds: [kms]}
            rules: {CW102: {enabled: false}}
          empty: {match: {}}
        colour: red
    """) == [
        "colour: unknown key (allowed: fail_on, allow_input_errors, exclude, select, ignore, profile_tag, rules, suppressions, extends, profiles)",
        "exclude: must be a list, not string 'tests'",
        "fail_on: 'hihg' is not allowed (allowed: critical, high, medium, low, info, none)",
        "profiles.Bad-Name: not a valid profile name (allowed: lower-case letters, digits and _, starting with a letter)",
        "profiles.empty.match: must not be empty",
        "profiles.empty.rules: is required",
        "profiles.ok.match.kinds[0]: 'kms' is not allowed (allowed: "
        + ", ".join(sorted(set(KINDS) | {k for r in rules for k in r.kinds})) + ")",
        "profiles.ok.match.tags.Purpose: must be a string or a list of strings, not integer",
        "profiles.ok.rules.CW102.enabled: unknown key (allowed: max_rotation_days)",
        "rules.CW101.max_rotation_days: unknown key (allowed: enabled, severity)",
        "rules.CW102.max_rotation_days: must be an integer, not string '180'",
        "rules.CW102.sevrity: unknown key (allowed: enabled, severity, max_rotation_days)",
        "rules.CW999: unknown key (allowed: a rule code or name (see `certwarden rules`))",
    ]


def test_select_names_must_be_rules(tmp_path, rules):
    assert errors_of(tmp_path, rules, "select: [CW101, nope]\n") == [
        "select[1]: 'nope' is not allowed (allowed: a rule code or name (see `certwarden rules`))"]


def test_pyproject_errors_name_the_file(tmp_path, rules):
    assert errors_of(tmp_path, rules, "[tool.certwarden]\nfail_on = 3\n", "pyproject.toml") == [
        "fail_on: 3 is not allowed (allowed: critical, high, medium, low, info, none)"]
    assert errors_of(tmp_path, rules, "[project]\nname = 'x'\n", "pyproject.toml") == ["no [tool.certwarden] table"]


def test_same_rule_by_code_and_name_is_an_error(tmp_path, rules):
    assert errors_of(tmp_path, rules, "rules: {CW102: {}, kms-rotation-period-too-long: {}}\n") == [
        "rules.kms-rotation-period-too-long: CW102 is already configured as CW102"]


def test_invalid_yaml_names_file_and_line(tmp_path, rules, run_cli):
    write(tmp_path / ".certwarden.yaml", "rules:\n  CW102: [\n")
    code, _, err = run_cli("scan", tmp_path)
    assert code == 2
    assert err.startswith(f"certwarden: error: {tmp_path / '.certwarden.yaml'}:3: invalid YAML")


def test_config_error_exits_2_through_the_cli(keys, run_cli):
    write(keys / ".certwarden.yaml", "rules: {CW102: {max_rotation_days: soon}}\n")
    code, out, err = run_cli("scan", keys / "infra")
    assert (code, out) == (2, "")
    assert err == (f"certwarden: error: {keys / '.certwarden.yaml'}: rules.CW102.max_rotation_days: "
                   "must be an integer, not string 'soon'\n")


def test_every_rule_param_can_be_set_with_its_default_type_and_no_other(rules):
    """The schema is derived from the loaded rules, so each threshold is typed by its default."""
    for rule in rules:
        for key, default in rule.params.items():
            validate({"rules": {rule.code: {key: default}}, "profiles": {"p": {"rules": {rule.name: {key: default}}}}},
                     rules, "c.yaml")
            wrong = "this" if isinstance(default, dict) else {"not": "this"}
            with pytest.raises(ConfigError, match=rf"c.yaml: rules.{rule.code}.{key}: must be an? "):
                validate({"rules": {rule.code: {key: wrong}}}, rules, "c.yaml")


def test_empty_config_file_is_no_policy(tmp_path, rules):
    write(tmp_path / ".certwarden.yaml", "")
    (tmp_path / ".git").mkdir()
    config = load_config(None, [str(tmp_path)], rules)
    assert (config.path, config.rule_params, config.profiles) == (str(tmp_path / ".certwarden.yaml"), {}, ())
    assert load_config(None, [str(tmp_path / "sub" / "x.yaml")], rules).path == config.path
