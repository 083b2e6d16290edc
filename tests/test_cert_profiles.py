"""The built-in profiles (the SEC09-BP01 guidance's certificate policies): every threshold each
one ships decides the outcome of its rule, and the ways a certificate is matched to a profile.

Certificates are made here with cryptography, dated relative to FIXED_NOW; each case is a PEM
file under a directory named after the profile, and the policy matches profiles by path.
"""
from __future__ import annotations

import textwrap
from datetime import timedelta
from functools import lru_cache

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID as EKU

from conftest import FIXED_NOW
from make_material_fixtures import build, usage
from certwarden.config import Config, builtin_text, load_config
from certwarden.rulepack import load_rules, select
from certwarden.options import Options
from certwarden.scan import scan

PROFILES = yaml.safe_load(builtin_text("sec09-bp01"))["profiles"]
POLICY = """\
extends: [sec09-bp01]
profiles:
  web_server: {match: {paths: ["web_server/*"]}}
  client_auth: {match: {paths: ["client_auth/*"]}}
  code_signing: {match: {paths: ["code_signing/*"]}}
  internal_service: {match: {paths: ["internal_service/*"]}}
"""
USAGE = {  # a leaf each profile allows
    "web_server": (("digital_signature", "key_encipherment"), [EKU.SERVER_AUTH]),
    "client_auth": (("digital_signature", "key_agreement"), [EKU.CLIENT_AUTH]),
    "code_signing": (("digital_signature",), [EKU.CODE_SIGNING]),
    "internal_service": (("digital_signature", "key_agreement"), [EKU.SERVER_AUTH, EKU.CLIENT_AUTH]),
}


@lru_cache(maxsize=None)
def key(kind: str):
    return ec.generate_private_key(ec.SECP256R1()) if kind == "EC" else rsa.generate_private_key(65537, int(kind[3:]))


def leaf_pem(profile: str, *, algorithm: str = "", days: int = 60, ends_in: int | None = None,
             ku=None, eku=None) -> str:
    """A leaf the profile allows in every respect but those given."""
    allowed_ku, allowed_eku = USAGE[profile]
    algorithm = algorithm or ("EC" if profile == "internal_service" else
                              "RSA3072" if profile == "code_signing" else "RSA2048")
    end = FIXED_NOW + timedelta(days=ends_in if ends_in is not None else days - 5)
    cert, _ = build(f"{profile}.example.com", key=key(algorithm), start=end - timedelta(days=days), days=days,
                    ku=usage(*(ku if ku is not None else allowed_ku)), eku=eku if eku is not None else allowed_eku)
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def verdict(tmp_path, code: str, profile: str | None, pem: str) -> bool:
    """Whether `code` fires on the certificate, filed under the profile's directory (None: no policy)."""
    folder = tmp_path / (profile or "none")
    folder.mkdir(exist_ok=True)
    path = folder / f"case{len(list(folder.iterdir()))}.pem"
    path.write_text(pem)
    all_rules = load_rules()
    config = Config()
    if profile is not None:
        (tmp_path / "policy.yaml").write_text(POLICY)
        config = load_config(str(tmp_path / "policy.yaml"), [str(tmp_path)], all_rules)
    result = scan([str(path)], select(all_rules, [code], None), Options(now=FIXED_NOW, config=config))
    assert not result.errors, result.errors
    return any(f.code == code for f in result.findings)


# (rule, profile) -> (a certificate that fails under the profile, one that passes): each pair sits
# on both sides of the threshold the profile ships.
def _threshold_cases():
    for profile, spec in PROFILES.items():
        rules = spec["rules"]
        max_days, warn = rules["CW205"]["max_days"], rules["CW204"]["days"]
        yield "CW205", profile, dict(days=max_days + 1), dict(days=max_days)
        yield "CW204", profile, dict(ends_in=warn - 1, days=warn + 30), dict(ends_in=warn + 1, days=warn + 30)
        other = "RSA2048" if rules["CW201"]["allowed_algorithms"] == ["EC"] else "EC"
        yield "CW201", profile, dict(algorithm=other), dict()
        bad_eku = [EKU.CODE_SIGNING] if profile != "code_signing" else [EKU.SERVER_AUTH]
        yield "CW206", profile, dict(eku=bad_eku), dict()
        yield "CW206", profile, dict(ku=("digital_signature", "key_cert_sign")), dict()


@pytest.mark.parametrize("code,profile,failing,passing", list(_threshold_cases()),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_each_shipped_threshold_decides_its_rule(tmp_path, code, profile, failing, passing):
    assert verdict(tmp_path, code, profile, leaf_pem(profile, **failing)) is True
    assert verdict(tmp_path, code, profile, leaf_pem(profile, **passing)) is False


def test_code_signing_needs_rsa_3072_where_the_default_accepts_2048(tmp_path):
    pem = leaf_pem("code_signing", algorithm="RSA2048")
    assert (verdict(tmp_path, "CW201", "code_signing", pem), verdict(tmp_path, "CW201", None, pem)) == (True, False)


@pytest.mark.parametrize("profile,days,without_profile", [
    ("client_auth", 200, False),        # the example: 200 days is over client_auth's 180
    ("internal_service", 120, False),   # over 90
    ("web_server", 380, False),         # over 365, under the default 398
    ("code_signing", 1000, True),       # the default 398 fails it; code_signing allows 1095
])
def test_cw205_follows_the_profile_not_the_default(tmp_path, profile, days, without_profile):
    pem = leaf_pem(profile, days=days)
    assert verdict(tmp_path, "CW205", profile, pem) is (not without_profile)
    assert verdict(tmp_path, "CW205", None, pem) is without_profile


def test_cw204_warning_window_follows_the_profile(tmp_path):
    pem = leaf_pem("code_signing", ends_in=60, days=400)   # the default warns at 30 days, code_signing at 90
    assert (verdict(tmp_path, "CW204", "code_signing", pem), verdict(tmp_path, "CW204", None, pem)) == (True, False)


def test_usage_is_not_judged_without_a_profile(tmp_path):
    pem = leaf_pem("web_server", eku=[EKU.CODE_SIGNING, EKU.TIME_STAMPING], ku=("key_cert_sign",))
    assert verdict(tmp_path, "CW206", None, pem) is False


ACM = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Cert:
    Type: AWS::CertificateManager::Certificate
    Properties:
      DomainName: client.example.com
      ValidationMethod: {method}
      Tags: [{{Key: "certwarden:profile", Value: {profile}}}]
"""


@pytest.mark.parametrize("profile,method,fires", [
    ("client_auth", "EMAIL", False), ("code_signing", "EMAIL", False),   # the guidance validates these by email
    ("web_server", "EMAIL", True), ("internal_service", "EMAIL", True),
    ("client_auth", "DNS", False), ("none", "EMAIL", True),
])
def test_cw210_allowed_validation_method_follows_the_profile_tag(tmp_path, profile, method, fires):
    (tmp_path / "cert.yaml").write_text(ACM.format(method=method, profile=profile))
    (tmp_path / ".certwarden.yaml").write_text("extends: [sec09-bp01]\n")
    all_rules = load_rules()
    config = load_config(None, [str(tmp_path)], all_rules)
    result = scan([str(tmp_path / "cert.yaml")], select(all_rules, ["CW210"], None), Options(now=FIXED_NOW, config=config))
    assert [(f.code, f.resource, f.where.line) for f in result.findings] == ([("CW210", "Cert", 7)] if fires else [])


def test_a_profile_matched_by_extended_key_usage(tmp_path):
    """`match: {extended_key_usage: [code_signing]}` puts code signing certificates under the
    code_signing profile whatever their path; others keep the defaults."""
    (tmp_path / ".certwarden.yaml").write_text("extends: [sec09-bp01]\nprofiles:\n"
                                               "  code_signing: {match: {extended_key_usage: [code_signing]}}\n")
    signing = leaf_pem("code_signing", algorithm="RSA2048")                 # 2048 < code_signing's 3072
    server = leaf_pem("web_server", algorithm="RSA2048", eku=[EKU.SERVER_AUTH])
    (tmp_path / "signing.pem").write_text(signing)
    (tmp_path / "server.pem").write_text(server)
    all_rules = load_rules()
    config = load_config(None, [str(tmp_path)], all_rules)
    result = scan([str(tmp_path)], select(all_rules, ["CW201"], None), Options(now=FIXED_NOW, config=config))
    assert [(f.code, f.resource) for f in result.findings] == [("CW201", "signing.pem")]


def test_a_policy_file_overrides_a_shipped_value(tmp_path):
    (tmp_path / ".certwarden.yaml").write_text(textwrap.dedent("""\
        extends: [sec09-bp01]
        profiles:
          client_auth:
            match: {paths: ["client_auth/*"]}
            rules: {CW205: {max_days: 240}}
    """))
    # 200 days: over the shipped 180, within the file's 240; 20 days left: inside the default
    # warning window (30), outside client_auth's (14), which the override leaves in place.
    pem = leaf_pem("client_auth", days=200, ends_in=20)
    path = tmp_path / "client_auth" / "c.pem"
    path.parent.mkdir()
    path.write_text(pem)
    all_rules = load_rules()
    config = load_config(None, [str(tmp_path)], all_rules)
    result = scan([str(path)], select(all_rules, ["CW205", "CW204"], None), Options(now=FIXED_NOW, config=config))
    assert result.findings == []
    no_policy = scan([str(path)], select(all_rules, ["CW205", "CW204"], None), Options(now=FIXED_NOW))
    assert [f.code for f in no_policy.findings] == ["CW204"]


def test_rules_profiles_prints_the_shipped_profiles(run_cli):
    code, out, _ = run_cli("rules", "--profiles")
    assert code == 0 and yaml.safe_load(out)["profiles"] == PROFILES
    code, out, _ = run_cli("rules", "--profiles", "-o", "json")
    assert code == 0 and yaml.safe_load(out) == {"sec09-bp01": PROFILES}


def test_an_unknown_profile_set_is_refused(tmp_path, run_cli):
    (tmp_path / ".certwarden.yaml").write_text("extends: [sec09]\n")
    (tmp_path / "a.pem").write_text(leaf_pem("web_server"))
    code, _, err = run_cli("scan", tmp_path)
    assert code == 2 and "extends[0]: 'sec09' is not allowed (allowed: sec09-bp01)" in err


REQUESTED = {
    "cert.yaml": """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Api:
    Type: AWS::CertificateManager::Certificate
    Properties:
      DomainName: api.example.com
      ValidationMethod: DNS
      KeyAlgorithm: EC_prime256v1
      Tags: [{Key: "certwarden:profile", Value: web_server}]
  Internal:
    Type: AWS::CertificateManager::Certificate
    Properties:
      DomainName: svc.internal.example
      ValidationMethod: DNS
      KeyAlgorithm: EC_prime256v1
      Tags: [{Key: "certwarden:profile", Value: internal_service}]
""",
    "main.tf": """\
resource "aws_acm_certificate" "api" {
  domain_name       = "api.example.com"
  validation_method = "DNS"
  key_algorithm     = "RSA_2048"
  tags = { "certwarden:profile" = "internal_service" }
}
""",
}


def test_requested_acm_key_algorithm_is_judged_against_the_profile(tmp_path):
    """ACM's KeyAlgorithm in both template formats: EC under web_server (RSA), RSA under
    internal_service (ECDSA) fail; EC under internal_service passes."""
    for name, text in REQUESTED.items():
        (tmp_path / name).write_text(text)
    (tmp_path / ".certwarden.yaml").write_text("extends: [sec09-bp01]\n")
    all_rules = load_rules()
    config = load_config(None, [str(tmp_path)], all_rules)
    result = scan([str(tmp_path)], select(all_rules, ["CW201"], None), Options(now=FIXED_NOW, config=config))
    assert sorted((f.resource, f.where.line) for f in result.findings) == [("Api", 8), ("aws_acm_certificate.api", 4)]
    assert not scan([str(tmp_path)], select(all_rules, ["CW201"], None), Options(now=FIXED_NOW)).findings
