"""The SEC09-BP01 guidance's own example stack, shipped as fixtures/examples/."""
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
