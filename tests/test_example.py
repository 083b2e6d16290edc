"""The SEC09-BP01 guidance's own example stack, shipped as fixtures/examples/."""
from pathlib import Path

from conftest import FIXED_NOW, ROOT

from certwarden.rulepack import load_rules
from certwarden.options import Options
from certwarden.scan import scan

EXAMPLE = ROOT / "fixtures" / "examples" / "certificate-infrastructure.yaml"
SECTIONS_1_3_4 = ("CW1", "CW3", "CW4")


def test_example_stack_findings_at_the_right_resources_and_lines():
    result = scan([str(EXAMPLE)], load_rules(), Options(now=FIXED_NOW))
    assert not result.errors
    got = {(f.code, f.resource, f.where.line, f.severity) for f in result.findings if f.code.startswith(SECTIONS_1_3_4)}
    assert got == {
        ("CW301", "PrivateCA", 70, "high"),         # KeyAlgorithm: RSA_2048 with a 10-year certificate
        ("CW302", "PrivateCA", 70, "medium"),       # RSA_2048 at the root
        ("CW304", "PrivateCA", 84, "high"),         # S3ObjectAcl: PUBLIC_READ
        ("CW401", "CRLBucket", 29, "high"),         # BlockPublicAcls: false, raised: it holds CRLs
        ("CW403", "CRLBucket", 50, "critical"),     # Principal: '*' in CRLBucketPolicy, raised: CRL bucket
    }


MODULE = ROOT / "fixtures" / "examples" / "terraform"


def test_example_module_findings_at_the_right_resources_and_lines():
    """The same stack as a Terraform module: the same findings, on the resources and lines that
    hold the same settings."""
    result = scan([str(MODULE)], load_rules(), Options(now=FIXED_NOW))
    assert not result.errors and result.scanned == 1   # one module
    got = {(f.code, f.resource, Path(f.where.file).name, f.where.line, f.severity) for f in result.findings}
    ca, bucket = "aws_acmpca_certificate_authority.root", "aws_s3_bucket.crl"
    assert got == {
        ("CW301", ca, "main.tf", 71, "high"),           # key_algorithm = "RSA_2048", 10-year certificate
        ("CW302", ca, "main.tf", 71, "medium"),
        ("CW304", ca, "main.tf", 89, "high"),           # s3_object_acl = "PUBLIC_READ"
        ("CW401", bucket, "main.tf", 25, "high"),       # block_public_acls = false (the public access block)
        ("CW403", bucket, "main.tf", 51, "critical"),   # Principal = "*" in the bucket policy
        ("CW801", ca, "main.tf", 67, "low"),            # nothing watches the certificates for expiry
        ("CW214", "aws_acm_certificate.public", "main.tf", 122, "medium"),   # Terraform only: no create_before_destroy
    }


def test_stack_and_module_agree():
    """One rule pack: the module finds what the stack finds, plus the Terraform-only CW214."""
    stack = {f.code for f in scan([str(EXAMPLE)], load_rules(), Options(now=FIXED_NOW)).findings}
    module = {f.code for f in scan([str(MODULE)], load_rules(), Options(now=FIXED_NOW)).findings}
    assert module == stack | {"CW214"}
