"""Catalog rules on hand-built graphs: the live-only and Terraform-only rules (whose adapters come
later, and must plug in unchanged), per-unit rules, and what never yields a finding."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from conftest import FIXED_NOW
from certwarden.config import Config
from certwarden.engine import Engine
from certwarden.model import Graph, Node, Unresolved, Where
from certwarden.rulepack import load_rules
from certwarden.options import Options
from certwarden.scan import scan

RULES = {r.code: r for r in load_rules()}


def run(code: str, *nodes: Node, strict=False, params=None, edges=()) -> list:
    g = Graph(unit="unit", source=nodes[0].source)
    for n in nodes:
        g.add(n)
    for src, dst, kind in edges:
        g.link(src, dst, kind)
    config = Config(rule_params={code: params or {}})
    return list(Engine([RULES[code]], FIXED_NOW, config, strict).run(g))


def node(kind: str, name: str = "r", source: str = "live", **attrs) -> Node:
    return Node(id=name, kind=kind, name=name, source=source, where=Where(arn=f"arn:{name}"), attrs=attrs)


def days(n: int) -> datetime:
    return FIXED_NOW + timedelta(days=n)


@pytest.mark.parametrize("code,attrs,fails", [
    ("CW106", {"key_state": "PendingDeletion"}, True),
    ("CW106", {"key_state": "Enabled"}, False),
])
def test_kms_pending_deletion(code, attrs, fails):
    assert bool(run(code, node("kms_key", **attrs))) == fails


@pytest.mark.parametrize("attrs,fails", [
    ({"in_use_by": ["arn:elb"], "renewal_status": "FAILED"}, True),
    ({"in_use_by": [], "renewal_status": "FAILED"}, False),             # not in use: not urgent
    ({"in_use_by": ["arn:elb"], "renewal_eligibility": "INELIGIBLE", "not_after": days(40)}, True),
    ({"in_use_by": [], "renewal_eligibility": "INELIGIBLE", "not_after": days(40)}, False),   # CW204's
    ({"renewal_eligibility": "INELIGIBLE", "not_after": days(60)}, False),
    ({"in_use_by": ["arn:elb"], "renewal_status": "SUCCESS"}, False),
])
def test_acm_renewal_failing(attrs, fails):
    assert bool(run("CW213", node("acm_certificate", **attrs))) == fails


def test_acm_unused_and_expiring_exemption():
    assert run("CW215", node("acm_certificate", status="ISSUED", in_use_by=[]))[0].severity == "info"
    assert run("CW215", node("acm_certificate", status="ISSUED", in_use_by=["arn:cf"])) == []
    # ACM renews eligible certificates: no CW204 while renewal is fine, a finding when it is not
    renewing = dict(not_after=days(10), renewal_eligibility="ELIGIBLE", renewal_status="PENDING_AUTO_RENEWAL")
    assert run("CW204", node("acm_certificate", **renewing)) == []
    (f,) = run("CW204", node("acm_certificate", **{**renewing, "renewal_status": "FAILED"}))
    assert f.message == f"Certificate r expires on {days(10).date()} (10 days left, warning at 30)"
    # unused certificates may be left out by policy (Prowler #3966)
    unused = node("acm_certificate", not_after=days(10), in_use_by=[])
    assert len(run("CW204", unused)) == 1 and run("CW204", unused, params={"skip_unused": True}) == []


def test_pca_root_enabled_and_ca_expiring():
    assert run("CW306", node("pca_authority", ca_type="ROOT", status="ACTIVE", arn="arn:ca"))
    assert run("CW306", node("pca_authority", ca_type="ROOT", status="ACTIVE", arn="arn:ca"),
               params={"exempted_ca_arns": ["arn:ca"]}) == []
    assert run("CW306", node("pca_authority", ca_type="SUBORDINATE", status="ACTIVE")) == []
    assert run("CW307", node("pca_authority", not_after=days(100)))
    assert run("CW307", node("pca_authority", not_after=days(400))) == []


@pytest.mark.parametrize("attrs,fails", [
    ({"hsm_count": 1, "hsm_azs": ["eu-west-1a"]}, True),
    ({"hsm_count": 2, "hsm_azs": ["eu-west-1a", "eu-west-1a"]}, True),
    ({"hsm_count": 2, "hsm_azs": ["eu-west-1a", "eu-west-1b"]}, False),
    ({"hsm_count": 2, "hsm_azs": ["eu-west-1a", Unresolved("var.az")]}, None),
])
def test_cloudhsm_availability(attrs, fails):
    found = run("CW701", node("cloudhsm_cluster", source="tf", **attrs), strict=True)
    assert (None if found and found[0].review else bool(found)) == fails


def test_terraform_only_and_imported_rules():
    assert run("CW214", node("acm_certificate", source="tf"))
    assert run("CW214", node("acm_certificate", source="tf", create_before_destroy=True)) == []
    assert run("CW212", node("acm_certificate", source="tf", imported=True))
    assert run("CW212", node("acm_certificate", source="cfn", imported=True)) == [], "tf and live only"


def test_external_account_uses_the_live_key_account():
    from certwarden import policy
    doc = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                          "Action": "kms:Decrypt", "Resource": "*"}]}
    pol = policy.parse(doc, Where(arn="arn:key"))
    assert run("CW802", node("kms_key", account="111122223333", policy=pol)) == []
    (f,) = run("CW802", node("kms_key", account="999988887777", policy=pol))
    assert "account 111122223333" in f.message
    # In code the key's account is unknown: no finding, a review item under --strict
    (r,) = run("CW802", node("kms_key", source="cfn", policy=pol), strict=True)
    assert r.review and "trusted_accounts" in r.message


def test_expiry_monitoring_is_reported_once_per_unit():
    certs = [node("acm_certificate", f"c{i}", source="cfn") for i in range(3)]
    (f,) = run("CW801", *certs)
    assert f.resource == "c0"
    pattern = node("events_rule", "watch", source="cfn", event_sources=["aws.acm"], detail_types=[])
    assert run("CW801", *certs, pattern) == []
    unknown = node("events_rule", "maybe", source="cfn", event_sources=Unresolved("EventPattern parameter"))
    assert run("CW801", *certs, unknown) == []
    assert run("CW801", node("kms_key", source="cfn")) == [], "no certificate, nothing to watch"


def test_absent_dates_are_not_unknown(tmp_path):
    """An ACM certificate in a template has no dates: CW203-205 pass it, even under --strict."""
    (tmp_path / "t.yaml").write_text("Resources:\n  C:\n    Type: AWS::CertificateManager::Certificate\n"
                                     "    Properties: {DomainName: a.example.com, ValidationMethod: DNS}\n")
    rules = [RULES[c] for c in ("CW201", "CW202", "CW203", "CW204", "CW205", "CW210", "CW211")]
    result = scan([str(tmp_path)], rules, Options(now=FIXED_NOW, strict=True))
    assert result.findings == []


def test_now_comes_from_options(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "t")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(datetime(2025, 1, 1)).not_valid_after(datetime(2026, 3, 1))
            .sign(key, hashes.SHA256()))
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    at = {when: {f.code for f in scan([str(tmp_path)], [RULES["CW203"], RULES["CW204"]],
                                      Options(now=datetime(*when, tzinfo=timezone.utc))).findings}
          for when in ((2026, 1, 1), (2026, 2, 15), (2026, 3, 2))}
    assert at == {(2026, 1, 1): set(), (2026, 2, 15): {"CW204"}, (2026, 3, 2): {"CW203"}}
