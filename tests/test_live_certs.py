"""Live ACM, ACM Private CA, IAM server certificate and CloudHSM reads against a moto server:
resources are created through boto3, `certwarden live` reads them back and the certificate rules
judge them as they judge template nodes. Where moto lacks a field or an API, botocore's Stubber
answers that one read, and the test says so."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.stub import Stubber
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from make_material_fixtures import sha1_signed
from test_live import REGION, client, hits, live

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def day(offset: int) -> str:
    return (NOW + timedelta(days=offset)).date().isoformat()


def make_cert(cn: str, days: int = 90, key=None, start: int = -1, sha1=False,
              public_key=None, ca=False) -> tuple[bytes, bytes]:
    """(certificate PEM, private key PEM), valid from `start` to `days` days from now (self-signed;
    `public_key` certifies another key, as a CA certificate for a CSR does)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(public_key or key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW + timedelta(days=start)).not_valid_after(NOW + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    if sha1:
        cert = sha1_signed(cert)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def rsa_key(bits: int = 2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def imported(acm, cn: str, **kw) -> str:
    body, key = make_cert(cn, **kw)
    return acm.import_certificate(Certificate=body, PrivateKey=key)["CertificateArn"]


# moto fails ListCertificates on a certificate requested with Options but without Export.
NOT_LOGGED = {"CertificateTransparencyLoggingPreference": "DISABLED", "Export": "DISABLED"}


def names(findings, code) -> list[tuple[str, str]]:
    return [(name, region) for name, region, _ in hits(findings, code)]


def stub(monkeypatch, service: str, *responses: tuple[str, dict]) -> None:
    """The reader's `service` client answers from botocore's Stubber: used only where moto lacks
    the field or API a rule needs, for the one read the collector makes of it."""
    from certwarden.sources.live import aws as live_aws

    real = live_aws.Reader.client
    checked = Stubber(boto3.client(service, region_name=REGION))
    for operation, response in responses:   # a malformed canned answer fails here, not inside the scan
        checked.add_response(operation, response, None)

    def client_(self, name, region):
        made = real(self, name, region)
        if name == service:
            stubber = Stubber(made)
            for operation, response in responses:
                stubber.add_response(operation, response, None)
            stubber.activate()
        return made
    monkeypatch.setattr(live_aws.Reader, "client", client_)


# -- ACM ---------------------------------------------------------------------------------------------
def test_imported_acm_certificates_are_judged_by_key_signature_and_validity(aws, run_cli):
    acm = client(aws, "acm")
    imported(acm, "weak.example.com", key=rsa_key(1024))
    imported(acm, "sha1.example.com", key=rsa_key(), sha1=True)
    imported(acm, "long.example.com", days=800)
    imported(acm, "good.example.com", key=rsa_key(), days=200)

    code, findings, err = live(run_cli, aws, "--service", "acm", "--select", "CW201,CW202,CW205")

    assert code == 1, err
    assert names(findings, "CW201") == [("weak.example.com", REGION)]
    assert names(findings, "CW202") == [("sha1.example.com", REGION)]
    assert names(findings, "CW205") == [("long.example.com", REGION)]
    weak, = (f for f in findings if f["code"] == "CW201")
    assert "RSA key of 1024 bits" in weak["message"]
    assert weak["arn"].startswith(f"arn:aws:acm:{REGION}:")


def test_acm_expiry_is_judged_at_the_given_date(aws, run_cli):
    acm = client(aws, "acm")
    imported(acm, "ends-in-20.example.com", days=20)
    imported(acm, "ends-in-40.example.com", days=40)
    imported(acm, "ends-in-300.example.com", days=300)

    code, findings, err = live(run_cli, aws, "--service", "acm", "--select", "CW203,CW204", "--now", day(25))

    assert code == 1, err
    assert names(findings, "CW203") == [("ends-in-20.example.com", REGION)]
    assert names(findings, "CW204") == [("ends-in-40.example.com", REGION)]
    code, findings, err = live(run_cli, aws, "--service", "acm", "--select", "CW203,CW204", "--now", day(0))
    assert names(findings, "CW203") == [], err
    assert names(findings, "CW204") == [("ends-in-20.example.com", REGION)]


def test_imported_unused_and_transparency(aws, run_cli):
    acm = client(aws, "acm")
    used = imported(acm, "used.example.com")
    imported(acm, "unused.example.com")
    client(aws, "elb").create_load_balancer(
        LoadBalancerName="web", AvailabilityZones=[f"{REGION}a"],
        Listeners=[{"Protocol": "HTTPS", "LoadBalancerPort": 443, "InstancePort": 80, "SSLCertificateId": used}])
    acm.request_certificate(DomainName="logged.example.com", ValidationMethod="DNS")
    acm.request_certificate(DomainName="unlogged.example.com", ValidationMethod="DNS", Options=NOT_LOGGED)

    code, findings, err = live(run_cli, aws, "--service", "acm", "--select", "CW210,CW211,CW212,CW215")

    assert code == 1, err
    assert names(findings, "CW212") == [("unused.example.com", REGION), ("used.example.com", REGION)]
    assert names(findings, "CW215") == [("unused.example.com", REGION)]
    assert names(findings, "CW211") == [("unlogged.example.com", REGION)]
    assert names(findings, "CW210") == []   # requested with DNS validation


def test_renewal_is_judged_only_on_certificates_in_use(aws, run_cli):
    """CW213 is for certificates in use: an unused imported one near expiry is CW204 and CW212."""
    acm = client(aws, "acm")
    used = imported(acm, "used-soon.example.com", days=20)
    imported(acm, "unused-soon.example.com", days=20)
    client(aws, "elb").create_load_balancer(
        LoadBalancerName="web", AvailabilityZones=[f"{REGION}a"],
        Listeners=[{"Protocol": "HTTPS", "LoadBalancerPort": 443, "InstancePort": 80, "SSLCertificateId": used}])
    assert {c["Certificate"]["RenewalEligibility"] for c in map(
        lambda s: acm.describe_certificate(CertificateArn=s["CertificateArn"]),
        acm.list_certificates()["CertificateSummaryList"])} == {"INELIGIBLE"}   # imported: ACM cannot renew

    code, findings, err = live(run_cli, aws, "--service", "acm", "--select", "CW204,CW212,CW213")

    assert code == 1, err
    assert names(findings, "CW213") == [("used-soon.example.com", REGION)]
    assert names(findings, "CW204") == [("unused-soon.example.com", REGION), ("used-soon.example.com", REGION)]
    assert names(findings, "CW212") == [("unused-soon.example.com", REGION), ("used-soon.example.com", REGION)]


def test_private_acm_certificates_need_no_transparency_log(aws, run_cli):
    ca = client(aws, "acm-pca").create_certificate_authority(
        CertificateAuthorityConfiguration={"KeyAlgorithm": "RSA_4096", "SigningAlgorithm": "SHA256WITHRSA",
                                           "Subject": {"CommonName": "root"}},
        CertificateAuthorityType="ROOT")["CertificateAuthorityArn"]
    client(aws, "acm").request_certificate(DomainName="internal.example.com", CertificateAuthorityArn=ca,
                                           Options=NOT_LOGGED)

    code, findings, err = live(run_cli, aws, "--service", "acm", "--select", "CW210,CW211")

    assert code == 0 and findings == [], err


def acm_certificate(arn: str, domain: str, **fields) -> dict:
    """A DescribeCertificate answer with the fields moto never returns (EMAIL validation,
    RenewalSummary, ELIGIBLE renewal)."""
    cert = {"CertificateArn": arn, "DomainName": domain, "Type": "AMAZON_ISSUED", "Status": "ISSUED",
            "KeyAlgorithm": "RSA-2048", "SignatureAlgorithm": "SHA256WITHRSA",
            "NotBefore": NOW - timedelta(days=300), "NotAfter": NOW + timedelta(days=30)}
    cert.update(fields)
    return {"Certificate": cert}


def renewal(status: str, domain: str, method: str) -> dict:
    return {"RenewalStatus": status, "UpdatedAt": NOW,
            "DomainValidationOptions": [{"DomainName": domain, "ValidationMethod": method}]}


def test_acm_renewal_and_email_validation_from_describe_certificate(aws, run_cli, monkeypatch):
    arn = f"arn:aws:acm:{REGION}:123456789012:certificate/"
    failing, renewing = arn + "failing", arn + "renewing"
    # moto has no RenewalSummary and only DNS validation: Stubber answers these reads.
    stub(monkeypatch, "acm",
         ("list_certificates", {"CertificateSummaryList": [{"CertificateArn": failing}, {"CertificateArn": renewing}]}),
         ("describe_certificate", acm_certificate(
             failing, "mail.example.com", InUseBy=["arn:aws:elasticloadbalancing:eu-west-1:123456789012:lb/x"],
             RenewalEligibility="ELIGIBLE", RenewalSummary=renewal("FAILED", "mail.example.com", "EMAIL"),
             DomainValidationOptions=[{"DomainName": "mail.example.com", "ValidationMethod": "EMAIL"}])),
         ("list_tags_for_certificate", {}),
         ("describe_certificate", acm_certificate(
             renewing, "dns.example.com", InUseBy=["arn:aws:cloudfront::123456789012:distribution/x"],
             RenewalEligibility="ELIGIBLE", RenewalSummary=renewal("PENDING_AUTO_RENEWAL", "dns.example.com", "DNS"),
             DomainValidationOptions=[{"DomainName": "dns.example.com", "ValidationMethod": "DNS"}])),
         ("list_tags_for_certificate", {"Tags": [{"Key": "team", "Value": "web"}]}))

    code, findings, err = live(run_cli, aws, "--service", "acm", "--select", "CW201,CW204,CW210,CW213")

    assert code == 1, err
    assert names(findings, "CW213") == [("mail.example.com", REGION)]
    assert names(findings, "CW210") == [("mail.example.com", REGION)]
    # expiring in 30 days, but ACM is renewing the DNS one on its own; the failing one is reported
    assert names(findings, "CW204") == [("mail.example.com", REGION)]
    assert names(findings, "CW201") == []   # "RSA-2048" reads as RSA 2048 bits


def test_acm_certificates_without_expiry_monitoring(aws, run_cli):
    imported(client(aws, "acm"), "watched.example.com")
    code, findings, err = live(run_cli, aws, "--service", "acm", "--select", "CW801")
    assert code == 1, err
    assert names(findings, "CW801") == [("watched.example.com", REGION)]


# -- ACM Private CA ----------------------------------------------------------------------------------
def create_ca(pca, cn: str, type_="ROOT", algorithm="RSA_2048", revocation=None, level=None) -> str:
    kw = {"RevocationConfiguration": revocation} if revocation else {}
    if level:
        kw["KeyStorageSecurityStandard"] = level
    return pca.create_certificate_authority(
        CertificateAuthorityConfiguration={"KeyAlgorithm": algorithm, "SigningAlgorithm": "SHA256WITHRSA",
                                           "Subject": {"CommonName": cn}},
        CertificateAuthorityType=type_, **kw)["CertificateAuthorityArn"]


def activate(pca, arn: str, days: int) -> None:
    """Install a CA certificate ending `days` from now (signed by a throwaway key: moto only parses it)."""
    csr = x509.load_pem_x509_csr(pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"].encode())
    body, _ = make_cert("ca", days=days, key=rsa_key(), public_key=csr.public_key(), ca=True)
    pca.import_certificate_authority_certificate(CertificateAuthorityArn=arn, Certificate=body)


def test_private_cas_are_judged_on_keys_revocation_storage_and_lifetime(aws, run_cli):
    pca = client(aws, "acm-pca")
    weak_root = create_ca(pca, "weak-root", revocation={"CrlConfiguration": {"Enabled": True, "S3BucketName": "crl"}},
                          level="FIPS_140_2_LEVEL_2_OR_HIGHER")
    activate(pca, weak_root, days=365 * 10)
    create_ca(pca, "quiet-sub", type_="SUBORDINATE", algorithm="EC_secp384r1")
    good = create_ca(pca, "good-sub", type_="SUBORDINATE", algorithm="EC_secp384r1", revocation={
        "OcspConfiguration": {"Enabled": True},
        "CrlConfiguration": {"Enabled": True, "S3BucketName": "crl", "S3ObjectAcl": "BUCKET_OWNER_FULL_CONTROL"}})
    activate(pca, good, days=200)
    strong_root = create_ca(pca, "strong-root", algorithm="RSA_4096",
                            revocation={"OcspConfiguration": {"Enabled": True}})
    activate(pca, strong_root, days=100)
    pca.delete_certificate_authority(CertificateAuthorityArn=create_ca(pca, "deleted-root"))

    code, findings, err = live(run_cli, aws, "--service", "acm-pca", "--select",
                               "CW301,CW302,CW303,CW304,CW306,CW307,CW308,CW801")

    assert code == 1, err
    assert names(findings, "CW301") == [("weak-root", REGION)]
    assert names(findings, "CW302") == [("weak-root", REGION)]
    assert names(findings, "CW303") == [("quiet-sub", REGION)]
    assert names(findings, "CW304") == [("weak-root", REGION)]   # the API's default CRL object ACL
    assert names(findings, "CW306") == [("strong-root", REGION), ("weak-root", REGION)]   # both activated
    assert names(findings, "CW307") == [("strong-root", REGION)]
    assert names(findings, "CW308") == [("weak-root", REGION)]
    assert len(names(findings, "CW801")) == 1
    by_code = {f["code"]: f for f in findings}
    assert by_code["CW302"]["arn"] == weak_root
    assert "deleted-root" not in {f["resource"] for f in findings}   # in its restore window, judged no more


def test_a_ca_links_to_its_crl_bucket_only_when_that_bucket_was_read():
    from certwarden.model import Graph, Node, Where
    from certwarden.sources.live.pca import link_crl_buckets

    graph = Graph(unit="aws://123456789012", source="live")
    for ca_id, bucket in (("arn:aws:acm-pca:eu-west-1:1:certificate-authority/a", "read"),
                          ("arn:aws:acm-pca:eu-west-1:1:certificate-authority/b", "elsewhere")):
        ca = graph.add(Node(id=ca_id, kind="pca_authority", name="ca", source="live", where=Where(arn=ca_id)))
        ca.set("crl_bucket", bucket)
    graph.add(Node(id="arn:aws:s3:::read", kind="s3_bucket", name="read", source="live",
                   where=Where(arn="arn:aws:s3:::read")))

    link_crl_buckets(graph)

    assert [(e.src.rsplit("/", 1)[-1], e.dst, e.kind) for e in graph.edges] == [
        ("a", "arn:aws:s3:::read", "writes_crl_to")]



def test_a_private_certificate_links_to_its_ca_only_when_that_ca_was_read():
    """A CA shared from another account (through RAM) is not in this account's graph."""
    from certwarden.model import Graph, Node, Where
    from certwarden.sources.live.pca import link_issuers

    graph = Graph(unit="aws://123456789012", source="live")
    ours = "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/ours"
    graph.add(Node(id=ours, kind="pca_authority", name="ours", source="live", where=Where(arn=ours)))
    for cert_id, ca in (("arn:aws:acm:eu-west-1:123456789012:certificate/a", ours),
                        ("arn:aws:acm:eu-west-1:123456789012:certificate/b",
                         "arn:aws:acm-pca:eu-west-1:210987654321:certificate-authority/shared"),
                        ("arn:aws:acm:eu-west-1:123456789012:certificate/c", None)):
        cert = graph.add(Node(id=cert_id, kind="acm_certificate", name="c", source="live", where=Where(arn=cert_id)))
        if ca is not None:
            cert.set("private_ca_arn", ca)

    link_issuers(graph)

    assert [(e.src.rsplit("/", 1)[-1], e.dst, e.kind) for e in graph.edges] == [("a", ours, "issued_by")]

# -- IAM server certificates (global: read once, in us-east-1) --------------------------------------
def test_iam_server_certificates_are_parsed_and_reported(aws, run_cli):
    iam = client(aws, "iam")
    for name, kw in (("weak-cert", {"key": rsa_key(1024)}), ("good-cert", {"key": rsa_key(), "days": 200})):
        body, key = make_cert(f"{name}.example.com", **kw)
        iam.upload_server_certificate(ServerCertificateName=name, CertificateBody=body.decode(),
                                      PrivateKey=key.decode())

    code, findings, err = live(run_cli, aws, "--service", "iam", "--select", "CW201,CW202,CW205,CW216")

    assert code == 1, err
    assert names(findings, "CW216") == [("good-cert", "us-east-1"), ("weak-cert", "us-east-1")]
    assert names(findings, "CW201") == [("weak-cert", "us-east-1")]
    assert names(findings, "CW202") == names(findings, "CW205") == []
    assert {f["arn"] for f in findings} == {
        f"arn:aws:iam::{findings[0]['account']}:server-certificate/{n}" for n in ("weak-cert", "good-cert")}


def test_deployed_server_certificates_are_leaves_whatever_their_basic_constraints(aws, run_cli):
    """CW205: a certificate with the CA bit, uploaded to IAM or imported into ACM, serves TLS as a
    leaf; its validity is judged (a CA certificate in a PEM file is not)."""
    body, key = make_cert("ca-bit.example.com", days=800, ca=True)
    client(aws, "iam").upload_server_certificate(ServerCertificateName="ca-bit", CertificateBody=body.decode(),
                                                 PrivateKey=key.decode())
    imported(client(aws, "acm"), "ca-bit-acm.example.com", days=800, ca=True)
    imported(client(aws, "acm"), "short.example.com", days=300, ca=True)

    code, findings, err = live(run_cli, aws, "--service", "iam,acm", "--select", "CW205")

    assert code == 1, err
    assert sorted(names(findings, "CW205")) == [("ca-bit", "us-east-1"), ("ca-bit-acm.example.com", REGION)]
    assert all("is valid for 801 days (maximum 398)" in f["message"] for f in findings)


# -- CloudHSM ----------------------------------------------------------------------------------------
def test_cloudhsm_cluster_without_hsms_is_not_highly_available(aws, run_cli):
    subnet = client(aws, "ec2").describe_subnets()["Subnets"][0]["SubnetId"]
    cluster = client(aws, "cloudhsmv2").create_cluster(HsmType="hsm1.medium", SubnetIds=[subnet])["Cluster"]

    code, findings, err = live(run_cli, aws, "--service", "cloudhsmv2", "--select", "CW701")

    assert code == 1, err
    assert names(findings, "CW701") == [(cluster["ClusterId"], REGION)]
    assert findings[0]["arn"] == f"arn:aws:cloudhsm:{REGION}:{findings[0]['account']}:cluster/{cluster['ClusterId']}"


def hsm(az: str) -> dict:
    return {"HsmId": f"hsm-{az}", "AvailabilityZone": az, "ClusterId": "cluster-x", "State": "ACTIVE"}


@pytest.mark.parametrize("zones, failing", [(["eu-west-1a", "eu-west-1b"], False),
                                            (["eu-west-1a", "eu-west-1a"], True)])
def test_cloudhsm_hsms_must_span_two_zones(aws, run_cli, monkeypatch, zones, failing):
    # moto has no CreateHsm: Stubber answers DescribeClusters with the cluster's HSMs.
    stub(monkeypatch, "cloudhsmv2", ("describe_clusters", {"Clusters": [
        {"ClusterId": "cluster-x", "State": "ACTIVE", "Hsms": [hsm(az) for az in zones]},
        {"ClusterId": "cluster-gone", "State": "DELETED", "Hsms": []}]}))

    code, findings, err = live(run_cli, aws, "--service", "cloudhsmv2", "--select", "CW701")

    assert names(findings, "CW701") == ([("cluster-x", REGION)] if failing else []), err
    assert code == (1 if failing else 0)
