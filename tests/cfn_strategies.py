"""Hypothesis strategies: CloudFormation templates built from the resource shapes the rules read,
with plausible values, intrinsics and junk in every place, so adapters and rules meet the odd
cases real templates hold. Shared by tests/test_property.py and tests/perf/fuzz.py."""
from __future__ import annotations

from hypothesis import strategies as st

NAMES = ["Key", "Ca", "Cert", "Bucket", "Policy", "Activation", "Other"]
PARAMS = ["Param", "NoDefault"]

# Non-finite numbers make the file an input error (tests/test_hostile_failopen.py), not a template.
junk = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
ref = st.sampled_from(NAMES + PARAMS + ["AWS::AccountId", "AWS::Region", "AWS::NoValue", "Missing"])


def intrinsic(value):
    return st.one_of(
        st.builds(lambda r: {"Ref": r}, ref),
        st.builds(lambda r, a: {"Fn::GetAtt": [r, a]}, ref, st.sampled_from(["Arn", "KeyId", "X"])),
        st.builds(lambda s: {"Fn::Sub": s}, st.sampled_from(["${Key.Arn}", "arn:${AWS::Partition}:s3:::${Bucket}", "${"])),
        st.builds(lambda c, a, b: {"Fn::If": [c, a, b]}, st.sampled_from(["Cond", "Missing"]), value, value),
        st.builds(lambda parts: {"Fn::Join": ["", parts]}, st.lists(value, max_size=3)),
        st.builds(lambda v: {"Fn::Select": [0, v]}, value),
    )


def field(*plausible):
    """A property value: plausible, an intrinsic around one, or junk."""
    base = st.sampled_from(plausible) if plausible else st.nothing()
    return st.one_of(base, intrinsic(base | junk), junk)


boolean = field(True, False, "true", "false", "True", "yes")
principal = field("*", {"AWS": "*"}, {"AWS": ["arn:aws:iam::111122223333:root", "*"]}, {"Service": "s3.amazonaws.com"})
statement = st.fixed_dictionaries(
    {"Effect": field("Allow", "Deny"), "Principal": principal, "Action": field("kms:*", "s3:GetObject", ["kms:Decrypt"]),
     "Resource": field("*")},
    optional={"Condition": field({"StringEquals": {"aws:PrincipalOrgID": "o-1"}}, {"Bool": {"aws:SecureTransport": "false"}}),
              "NotPrincipal": principal},
)
policy = st.one_of(st.fixed_dictionaries({"Version": st.just("2012-10-17"),
                                          "Statement": st.one_of(statement, st.lists(statement, max_size=3))}), junk)
tags = field([{"Key": "Environment", "Value": "prod"}], [{"Key": "Environment"}], [{"Value": "x"}])

PROPERTIES = {
    "AWS::KMS::Key": {
        "KeySpec": field("SYMMETRIC_DEFAULT", "RSA_2048", "HMAC_256", "ECC_NIST_P256"),
        "KeyUsage": field("ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC"),
        "Origin": field("AWS_KMS", "EXTERNAL"), "EnableKeyRotation": boolean,
        "RotationPeriodInDays": field(90, 365, 2560, "365"), "PendingWindowInDays": field(7, 30, "7"),
        "KeyPolicy": policy, "Tags": tags,
    },
    "AWS::ACMPCA::CertificateAuthority": {
        "Type": field("ROOT", "SUBORDINATE"), "KeyAlgorithm": field("RSA_2048", "RSA_4096", "EC_prime256v1"),
        "SigningAlgorithm": field("SHA256WITHRSA", "SHA512WITHECDSA"),
        "KeyStorageSecurityStandard": field("FIPS_140_2_LEVEL_3_OR_HIGHER"), "Tags": tags,
        "RevocationConfiguration": st.one_of(junk, st.fixed_dictionaries({}, optional={
            "CrlConfiguration": st.fixed_dictionaries({}, optional={
                "Enabled": boolean, "S3BucketName": field("crl-bucket", {"Ref": "Bucket"}),
                "S3ObjectAcl": field("PUBLIC_READ", "BUCKET_OWNER_FULL_CONTROL")}),
            "OcspConfiguration": st.fixed_dictionaries({}, optional={"Enabled": boolean})})),
    },
    "AWS::ACMPCA::Certificate": {
        "CertificateAuthorityArn": field({"Ref": "Ca"}, {"Fn::GetAtt": ["Ca", "Arn"]}),
        "Certificate": field({"Fn::GetAtt": ["Ca", "CertificateSigningRequest"]}),
        "CertificateSigningRequest": field({"Fn::GetAtt": ["Ca", "CertificateSigningRequest"]}, "csr"),
        "TemplateArn": field("arn:aws:acm-pca:::template/RootCACertificate/V1", "arn:aws:acm-pca:::template/EndEntityCertificate/V1"),
        "Validity": st.one_of(junk, st.fixed_dictionaries({"Type": field("YEARS", "DAYS", "END_DATE"),
                                                           "Value": field(1, 10, 3650, "20300101000000")})),
    },
    "AWS::ACMPCA::CertificateAuthorityActivation": {
        "CertificateAuthorityArn": field({"Ref": "Ca"}), "Certificate": field({"Fn::GetAtt": ["Cert", "Certificate"]}),
        "Status": field("ACTIVE", "DISABLED"),
    },
    "AWS::S3::Bucket": {
        "BucketName": field("crl-bucket", "other"), "AccessControl": field("PublicRead", "Private", "public-read"),
        "PublicAccessBlockConfiguration": st.one_of(junk, st.fixed_dictionaries({}, optional={
            p: boolean for p in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")})),
        "Tags": tags,
    },
    "AWS::S3::BucketPolicy": {"Bucket": field({"Ref": "Bucket"}, "crl-bucket"), "PolicyDocument": policy},
}


@st.composite
def resource(draw):
    rtype = draw(st.sampled_from(sorted(PROPERTIES)) | st.just("AWS::Other::Thing"))
    shape = PROPERTIES.get(rtype, {})
    props = draw(st.fixed_dictionaries({}, optional=shape)) if shape else draw(junk)
    body = {"Type": rtype, "Properties": props} if draw(st.booleans()) or not shape else {"Type": rtype}
    if draw(st.integers(0, 9)) == 0:
        body["Condition"] = draw(st.sampled_from(["Cond", "Missing"]))
    if draw(st.integers(0, 9)) == 0:
        body["Properties"] = draw(junk)
    return body


@st.composite
def template(draw):
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=5, unique=True))
    doc = {"Resources": {name: draw(resource()) for name in names}}
    if draw(st.booleans()):
        doc["Parameters"] = {"Param": {"Type": "String", "Default": draw(st.sampled_from(["crl-bucket", "true", "7"]))},
                             "NoDefault": {"Type": "String"}}
    if draw(st.booleans()):
        doc["Conditions"] = {"Cond": draw(st.one_of(st.just({"Fn::Equals": ["a", "a"]}), junk))}
    return doc
