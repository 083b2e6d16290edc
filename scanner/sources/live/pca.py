"""ACM Private CA authorities, as pca_authority nodes, linked to their CRL bucket and to the
private ACM certificates they issued.

Certificates a CA issued are not listed by the API (only audit reports hold them), so
pca_certificate nodes come from templates only; live, CW305 judges the private ACM
certificates, which name their CA.
"""
from __future__ import annotations

from ...model import Graph, Unresolved
from .acm import when
from .aws import Ctx


def collect(ctx: Ctx) -> None:
    pca = ctx.client("acm-pca")
    for ca in ctx.pages(pca, "list_certificate_authorities", "CertificateAuthorities"):
        if ca.get("Status") == "DELETED":
            continue   # waiting out its restore window: it signs nothing and no rule has a use for it
        arn = ca["Arn"]
        config = ca.get("CertificateAuthorityConfiguration", {})
        # A CA has no name of its own; its subject's common name is what people call it.
        name = config.get("Subject", {}).get("CommonName") or arn.rsplit("/", 1)[-1]
        node = ctx.node("pca_authority", arn, name, "AWS::ACMPCA::CertificateAuthority")
        for attr, value in (("ca_type", ca.get("Type")), ("status", ca.get("Status")),
                            ("key_algorithm", config.get("KeyAlgorithm")),
                            ("signing_algorithm", config.get("SigningAlgorithm")),
                            ("key_storage_security_standard", ca.get("KeyStorageSecurityStandard")),
                            ("not_after", when(ca.get("NotAfter")))):
            if value is not None:
                node.set(attr, value)
        revocation = ca.get("RevocationConfiguration", {})
        crl = revocation.get("CrlConfiguration", {})
        node.set("crl_enabled", bool(crl.get("Enabled")))
        node.set("ocsp_enabled", bool(revocation.get("OcspConfiguration", {}).get("Enabled")))
        if crl.get("S3BucketName"):
            node.set("crl_bucket", crl["S3BucketName"])
        if crl.get("S3ObjectAcl"):
            node.set("crl_object_acl", crl["S3ObjectAcl"])
        tags = ctx.detail(pca.list_tags, "ListTags", CertificateAuthorityArn=arn)
        node.set("tags", tags if isinstance(tags, Unresolved)
                 else {t["Key"]: t.get("Value", "") for t in tags.get("Tags", [])})


def link_crl_buckets(graph: Graph) -> None:
    """Each CA to the bucket named for its CRL, as the template adapters link them; when the S3
    collector did not read that bucket there is no node, and Graph.link adds nothing."""
    for ca in list(graph.of_kind("pca_authority")):
        bucket = ca.attrs.get("crl_bucket")
        if isinstance(bucket, str):
            partition = ca.id.split(":")[1] if ca.id.count(":") > 1 else "aws"
            graph.link(ca.id, f"arn:{partition}:s3:::{bucket}", "writes_crl_to")


def link_issuers(graph: Graph) -> None:
    """Each private ACM certificate to the CA that issued it (the Private CA API lists no issued
    certificates, but ACM names each one's CA); a CA of another account, shared through RAM, has
    no node here, and Graph.link adds nothing."""
    for cert in list(graph.of_kind("acm_certificate")):
        ca = cert.attrs.get("private_ca_arn")
        if isinstance(ca, str):
            graph.link(cert.id, ca, "issued_by")
