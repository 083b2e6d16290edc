"""The normalized vocabulary: node kinds, their attributes and the AWS service defaults.

Every adapter writes these attribute names; every rule reads them. A default here is what
AWS does when the attribute is absent, so it holds for every format alike (an absent
EnableKeyRotation and an absent enable_key_rotation both mean "no rotation").
Attributes without a default read as None when absent.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import Node

# What a certificate says it may be used for (scanner.material's names: digital_signature,
# key_encipherment, ...; server_auth, client_auth, code_signing, ...), the extensions it has, and
# the chain written with it: a list of {subject, not_before, not_after} and the first link that
# does not hold. None: not known (a requested certificate before it is issued), so not judged.
USAGE = {"key_usage": None, "extended_key_usage": None, "extensions": None}
CHAIN = {"chain": None, "chain_problem": None}

# kind -> {attribute: default}; the attribute list doubles as documentation of the model.
KINDS: dict[str, dict[str, Any]] = {
    "kms_key": {
        "key_manager": "CUSTOMER",            # CUSTOMER | AWS
        "key_spec": "SYMMETRIC_DEFAULT",      # RSA_2048, ECC_NIST_P256, HMAC_256, ...
        "key_usage": "ENCRYPT_DECRYPT",
        "origin": "AWS_KMS",                  # AWS_KMS | EXTERNAL | AWS_CLOUDHSM | EXTERNAL_KEY_STORE
        "custom_key_store_id": None,
        "rotation_enabled": False,
        "rotation_period_days": 365,
        "pending_window_days": 30,
        "policy": None,                       # scanner.policy.Policy
        "tags": {},
        "key_state": None,                    # live: Enabled, PendingDeletion, ...
        "expiration_model": None,             # live: KEY_MATERIAL_EXPIRES | KEY_MATERIAL_DOES_NOT_EXPIRE
        "valid_to": None,                     # imported material expiry (datetime)
        "account": None,                      # owning account when known (live)
    },
    "acm_certificate": {
        "domain_name": None,
        "validation_method": "EMAIL",         # the ACM API default
        "transparency_logging": "ENABLED",
        "private_ca_arn": None,               # set for private certificates
        # ACM issues end-entity certificates only: a private one is signed with AWS Private CA's
        # end-entity template, so CW305 judges it as it judges a pca_certificate of that template.
        "template": "EndEntityCertificate/V1",
        "imported": False,
        "create_before_destroy": False,       # Terraform lifecycle
        "status": None, "in_use_by": None, "renewal_status": None, "renewal_eligibility": None,
        "key_algorithm": None, "key_bits": None, "signature_hash": None,
        "not_before": None, "not_after": None, "tags": {},
        "certificate_pem": None,              # imported body as written (Terraform certificate_body)
        # From an imported body (certificate_pem, parsed by scanner.certs): the rest of the X.509 facts.
        "is_ca": False, "sans": [], "subject": None, "issuer": None, "self_signed": False, "fingerprint": None,
        "certificate_chain_pem": None,        # imported chain as written (Terraform certificate_chain)
        **USAGE, **CHAIN,
    },
    "certificate": {                          # parsed X.509 material
        "key_algorithm": None,                # RSA | EC | DSA | Ed25519 | Ed448
        "key_bits": None, "signature_hash": None, "not_before": None, "not_after": None,
        "is_ca": False, "sans": [], "subject": None, "issuer": None, "self_signed": False,
        "fingerprint": None, **USAGE, **CHAIN,
    },
    "private_key": {"key_type": None, "key_bits": None, "encrypted": False, "fingerprint": None},
    "iam_server_certificate": {
        "key_algorithm": None, "key_bits": None, "signature_hash": None,
        "not_before": None, "not_after": None,
        "certificate_pem": None,              # body as written, parsed by the PEM adapter
        "is_ca": False, "sans": [], "subject": None, "issuer": None, "self_signed": False, "fingerprint": None,
        "managed_renewal": False,             # IAM never renews a certificate (ACM does)
        "tags": {},
        "certificate_chain_pem": None,        # CertificateChain / certificate_chain as written
        **USAGE, **CHAIN,
    },
    "pca_authority": {
        "ca_type": "ROOT",                    # ROOT | SUBORDINATE (CloudFormation requires it)
        "key_algorithm": None,                # RSA_2048, EC_prime256v1, ...
        "signing_algorithm": None,
        "key_storage_security_standard": "FIPS_140_2_LEVEL_3_OR_HIGHER",
        "crl_enabled": False,
        "crl_bucket": None,
        "crl_object_acl": "PUBLIC_READ",      # the ACM PCA API default
        "ocsp_enabled": False,
        "status": None,                       # live: ACTIVE, DISABLED, ...
        "not_after": None,                    # live: the CA certificate's NotAfter
        "arn": None,                          # live
        "tags": {},
    },
    "pca_certificate": {
        "template": "EndEntityCertificate/V1",  # template name without the ARN prefix
        "not_after": None,                    # computed from Validity when it is absolute or relative
        "validity": None,                     # (type, value) as written
        "not_before": None,                   # CloudFormation ValidityNotBefore, when absolute
        **USAGE,                              # from ApiPassthrough extensions, when written
    },
    # A bucket created without a public access block gets all four settings on (AWS's default
    # since April 2023); a setting left out of a block that is given is stored false (the
    # adapters set that), and live reads what the bucket has.
    "s3_bucket": {
        "bucket_name": None,
        "block_public_acls": True, "ignore_public_acls": True,
        "block_public_policy": True, "restrict_public_buckets": True,
        "has_public_access_block": False,
        "acl": "private",                     # canned ACL, lower-case with dashes
        "public_grants": [],                  # grantee URIs of AllUsers / AuthenticatedUsers grants
        "policy": None,
        "managed_elsewhere": False,           # only a policy or ACL for a bucket outside the unit
        "display": None,                      # then: how messages name that bucket
        "holds_key_material": False,
        "account_block": None,                # live: the account-level Block Public Access
        "tags": {},
    },
    "secret": {
        "kms_key_id": None, "rotation_enabled": False, "rotation_interval_days": None, "tags": {},
        "managed_elsewhere": False,           # only a rotation schedule for a secret outside the unit
        "display": None,                      # then: how messages name that secret
    },
    # An HTTPS/TLS listener created without a policy gets ELBSecurityPolicy-2016-08 (API default,
    # ELBv2 and classic alike); it still allows TLS 1.0. A classic listener with custom
    # negotiation attributes reads as "custom:<policy name>".
    "lb_listener": {"protocol": None, "ssl_policy": "ELBSecurityPolicy-2016-08", "classic": False, "port": None},
    "cloudfront_distribution": {
        "minimum_protocol_version": None, "default_certificate": False, "has_viewer_certificate": False,
    },
    # ApiGatewayV2 defaults to TLS_1_2; a REST (v1) domain defaults to TLS_1_0, which its adapter
    # writes explicitly.
    "apigw_domain": {"security_policy": "TLS_1_2"},
    "cloudhsm_cluster": {"hsm_count": 0, "hsm_azs": [], "tags": {}},
    "events_rule": {"event_sources": [], "detail_types": [], "enabled": True},
    "config_rule": {"source_identifier": None},
    # A classic load balancer: its listeners are lb_listener nodes; the balancer itself holds nothing
    # a rule reads.
    "elb_classic": {},
    # A classic load balancer's SSL negotiation policy as a resource of its own (Terraform's
    # aws_load_balancer_policy and aws_lb_ssl_negotiation_policy; its balancer may be in another
    # module): judged on itself unless a listener of the unit uses it (then the listener is).
    "elb_ssl_policy": {"policy_type": "SSLNegotiationPolicyType", "reference_policy": None,
                       "weak_protocols": [], "attached": False},
    # A resource of any other type that carries tags: CW108 compares the environments of what
    # refers to one key.
    "resource": {"tags": {}},
}


# Every live node carries its ARN (sources.live.aws.Ctx.node); templates set it where they know it.
for _attrs in KINDS.values():
    _attrs.setdefault("arn", None)

# The four S3 Block Public Access settings: our attribute names and the API's.
PUBLIC_ACCESS_SETTINGS = {"block_public_acls": "BlockPublicAcls", "ignore_public_acls": "IgnorePublicAcls",
                          "block_public_policy": "BlockPublicPolicy", "restrict_public_buckets": "RestrictPublicBuckets"}


def attr(node: Node, name: str) -> Any:
    """The attribute as written, else the service default for the node's kind."""
    if name in node.attrs:
        return node.attrs[name]
    return KINDS.get(node.kind, {}).get(name)
