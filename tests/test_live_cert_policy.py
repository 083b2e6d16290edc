"""Live certificate usage, chains and validity start (CW206-CW208) on a moto server: imported
ACM certificates and IAM server certificates are read back with their bodies and chains, and
ACM's description of an issued certificate gives its usage. Where moto lacks a field (ACM's
KeyUsages, a certificate not yet valid, which moto refuses to import) botocore's Stubber answers
that one read, and the test says so."""
from __future__ import annotations

import json
from datetime import timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID as EKU
from make_material_fixtures import build, usage
from test_live import REGION, client, live
from test_live_certs import NOW, acm_certificate, names, stub


def issue(cn: str, issuer=None, ca=False, start: int = -10, days: int = 90, eku=None, ku=("digital_signature",)):
    """(certificate, key) valid from `start` days from now: issued by issuer (certificate, key), else self-signed."""
    return build(cn, issuer=issuer, ca=ca, start=NOW + timedelta(days=start), days=days,
                 ku=None if ca else usage(*ku), eku=eku or None)


def pem(*certs) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certs)


def key_pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def pki():
    root = issue("Live Root CA", ca=True, start=-2000, days=5000)
    inter = issue("Live Intermediate CA", issuer=root, ca=True, start=-500, days=2000)
    old = issue("Old Intermediate CA", issuer=root, ca=True, start=-900, days=800)   # ended 100 days ago
    return root, inter, old


def test_imported_acm_chains_are_checked_link_by_link(aws, run_cli):
    acm = client(aws, "acm")
    root, inter, old = pki()
    good = issue("good.example.com", issuer=inter)
    stale = issue("stale.example.com", issuer=old, start=-150, days=300)
    backwards = issue("backwards.example.com", issuer=inter)
    for leaf, chain in ((good, pem(inter[0], root[0])), (stale, pem(old[0], root[0])),
                        (backwards, pem(root[0], inter[0]))):
        acm.import_certificate(Certificate=pem(leaf[0]), PrivateKey=key_pem(leaf[1]), CertificateChain=chain)

    code, findings, err = live(run_cli, aws, "--service", "acm", "--select", "CW207")

    assert code == 1, err
    assert names(findings, "CW207") == [("backwards.example.com", REGION), ("stale.example.com", REGION)]
    by_name = {f["resource"]: f["message"] for f in findings}
    assert "certificate 2 (CN=Old Intermediate CA) expired on" in by_name["stale.example.com"]
    assert "out of order: certificate 2 (CN=Live Root CA) is not the issuer of certificate 1" in by_name[
        "backwards.example.com"]


def test_iam_server_certificate_chains(aws, run_cli):
    iam = client(aws, "iam")
    root, inter, _ = pki()
    other = issue("Other Intermediate CA", issuer=root, ca=True)
    for name, chain in (("chained", pem(inter[0], root[0])), ("unrelated", pem(other[0], root[0]))):
        leaf = issue(f"{name}.example.com", issuer=inter)
        iam.upload_server_certificate(ServerCertificateName=name, CertificateBody=pem(leaf[0]),
                                      PrivateKey=key_pem(leaf[1]), CertificateChain=chain)

    code, findings, err = live(run_cli, aws, "--service", "iam", "--select", "CW207")

    assert code == 1, err
    assert names(findings, "CW207") == [("unrelated", "us-east-1")]
    assert "certificate 2 (CN=Other Intermediate CA) is not the issuer of certificate 1" in findings[0]["message"]


def policy(tmp_path) -> str:
    path = tmp_path / "policy.yaml"
    path.write_text("extends: [sec09-bp01]\n")
    return str(path)


def live_with_policy(run_cli, aws, policy_file, *extra):
    code, out, err = run_cli("live", "--endpoint-url", aws, "--region", REGION, "--config", policy_file,
                             "-o", "json", *extra)
    return code, json.loads(out)["findings"], err


def test_imported_certificate_usage_is_judged_by_its_profile_tag(aws, run_cli, tmp_path):
    """The usage comes from the certificate ACM returns (GetCertificate); the profile from its tag."""
    acm = client(aws, "acm")
    root, inter, _ = pki()
    for cn, eku in (("web.example.com", [EKU.SERVER_AUTH]), ("signer.example.com", [EKU.SERVER_AUTH, EKU.CODE_SIGNING])):
        leaf = issue(cn, issuer=inter, eku=eku, ku=("digital_signature", "key_encipherment"))
        acm.import_certificate(Certificate=pem(leaf[0]), PrivateKey=key_pem(leaf[1]),
                               CertificateChain=pem(inter[0], root[0]),
                               Tags=[{"Key": "certwarden:profile", "Value": "web_server"}])
    untagged = issue("plain.example.com", issuer=inter, eku=[EKU.CODE_SIGNING])
    acm.import_certificate(Certificate=pem(untagged[0]), PrivateKey=key_pem(untagged[1]))

    code, findings, err = live_with_policy(run_cli, aws, policy(tmp_path), "--service", "acm", "--select", "CW206")

    assert code == 1, err
    assert names(findings, "CW206") == [("signer.example.com", REGION)]
    assert "extended key usage code_signing not allowed (allowed: server_auth)" in findings[0]["message"]


def test_issued_certificate_usage_and_start_from_describe_certificate(aws, run_cli, monkeypatch, tmp_path):
    arn = f"arn:aws:acm:{REGION}:123456789012:certificate/"
    # moto returns no KeyUsages, an empty ExtendedKeyUsages, and refuses to import a certificate
    # that is not valid yet: Stubber answers these reads.
    both = [{"Name": "TLS_WEB_SERVER_AUTHENTICATION", "OID": "1.3.6.1.5.5.7.3.1"},
            {"Name": "TLS_WEB_CLIENT_AUTHENTICATION", "OID": "1.3.6.1.5.5.7.3.2"}]
    stub(monkeypatch, "acm",
         ("list_certificates", {"CertificateSummaryList": [{"CertificateArn": arn + "a"}, {"CertificateArn": arn + "b"}]}),
         ("describe_certificate", acm_certificate(
             arn + "a", "api.example.com", KeyUsages=[{"Name": "DIGITAL_SIGNATURE"}, {"Name": "KEY_ENCIPHERMENT"}],
             ExtendedKeyUsages=both, SubjectAlternativeNames=["api.example.com"])),
         ("list_tags_for_certificate", {"Tags": [{"Key": "certwarden:profile", "Value": "web_server"}]}),
         ("describe_certificate", acm_certificate(
             arn + "b", "soon.example.com", NotBefore=NOW + timedelta(days=20), NotAfter=NOW + timedelta(days=200),
             KeyUsages=[{"Name": "DIGITAL_SIGNATURE"}, {"Name": "KEY_AGREEMENT"}], ExtendedKeyUsages=both,
             SubjectAlternativeNames=["soon.example.com"])),
         ("list_tags_for_certificate", {"Tags": [{"Key": "certwarden:profile", "Value": "internal_service"}]}))

    code, findings, err = live_with_policy(run_cli, aws, policy(tmp_path), "--service", "acm",
                                           "--select", "CW206,CW208")

    assert code == 1, err
    # ACM issues server and client authentication together; web_server allows server only.
    assert names(findings, "CW206") == [("api.example.com", REGION)]
    assert "extended key usage client_auth not allowed" in next(f["message"] for f in findings if f["code"] == "CW206")
    assert names(findings, "CW208") == [("soon.example.com", REGION)]
