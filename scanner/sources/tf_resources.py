"""Terraform resources (from HCL or from a plan) into the normalized graph.

Both Terraform readers hand in the same shape: per resource an address, a type and its values
as a PosDict (nested blocks as lists of PosDicts, as in plan JSON), where a reference to
another resource is a tf_eval.Ref. One handler per type maps values onto the model; helper
resources (bucket policy/ACL/public access block, key policy, rotation, CA certificates, HSMs)
are folded onto what they configure, with spots that still point at the helper's own lines.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from .. import policy as policies
from ..kinds import PUBLIC_ACCESS_SETTINGS
from ..model import Graph, Node, Unresolved, Where
from . import normalize
from .resource_view import ResourceView, elsewhere, to_bool, to_int, to_str, to_tags
from .loader import LoadError, PosDict, PosList, load
from .normalize import upper
from .tf_eval import HOLE, FileText, PartialText, Ref


@dataclass
class Record:
    address: str            # module prefix + type.name (what references point at)
    type: str
    display: str            # address as reported: aws_kms_key.x[*], module.pki.aws_...
    values: dict
    where: Where
    refs: set = field(default_factory=set)


class TfResource(ResourceView):
    """One resource while its node is built (the Terraform twin of cfn.Resource)."""

    first_of_block_list = True

    def __init__(self, rec: Record, kind: str = ""):
        self.rec, self.values, self.base = rec, rec.values, rec.where
        self.node = Node(id=rec.address, kind=kind, name=rec.display, source="tf", where=rec.where, type=rec.type)

    def spot(self, *path, helper: bool = False) -> Where:
        """helper: the value belongs to a resource folded onto another, which it names."""
        where = super().spot(*path)
        if helper:
            where = Where(where.file, where.line, where.column, where.path, resource=self.rec.display)
        return where


# -- value helpers ------------------------------------------------------------------------
_PLACEHOLDER = "__certwarden_unknown__"


def _shift(value, lines: int):
    """Move positions of a document parsed from a string to where the string is written."""
    if isinstance(value, (PosDict, PosList)) and hasattr(value, "pos"):
        items = value.pos.items() if isinstance(value, PosDict) else enumerate(value.pos)
        moved = {k: (ln + lines, col) for k, (ln, col) in items}
        value.pos = moved if isinstance(value, PosDict) else [moved[i] for i in range(len(value.pos))]
        for v in (value.values() if isinstance(value, dict) else value):
            _shift(v, lines)
    return value


def _holes(value):
    """Strings that held an unknown part become Unresolved."""
    if isinstance(value, str) and _PLACEHOLDER in value:
        return Unresolved("policy text holds a value known only after apply")
    if isinstance(value, dict):
        for k in list(value):
            value[k] = _holes(value[k])
    elif isinstance(value, list):
        for i, v in enumerate(value):
            value[i] = _holes(v)
    return value


def policy_doc(value, where: Where):
    """A policy written as jsonencode(...), a data document, a heredoc or a JSON string."""
    if isinstance(value, Ref):
        return Unresolved("policy known only after apply")
    line = getattr(value, "line", 0)
    if isinstance(value, PartialText):
        text = value.text.replace(HOLE, _PLACEHOLDER)
    elif isinstance(value, str) and line:
        text = value
    else:
        return policies.parse(value, where)
    try:
        doc = _shift(load(text.encode()), line - 1)
    except (LoadError, ValueError):
        try:
            doc = json.loads(text)
        except ValueError:
            return value if isinstance(value, Unresolved) else policies.parse(text, where)
    return policies.parse(_holes(doc), where)


# -- node handlers ------------------------------------------------------------------------
def _kms_key(r: TfResource) -> None:
    r.put("key_spec", "customer_master_key_spec", conv=to_str)
    r.put("key_spec", "key_spec", conv=to_str)
    r.put("key_usage", "key_usage", conv=to_str)
    r.put("custom_key_store_id", "custom_key_store_id", conv=to_str)
    r.put("rotation_enabled", "enable_key_rotation", conv=to_bool)
    r.put("rotation_period_days", "rotation_period_in_days", conv=to_int)
    r.put("pending_window_days", "deletion_window_in_days", conv=to_int)
    r.put("tags", "tags", conv=to_tags)
    if r.rec.type == "aws_kms_external_key":
        _external_key_material(r)
    if r.get("policy") is not None:
        r.node.set("policy", policy_doc(r.get("policy"), r.spot("policy")), r.spot("policy"))


def _external_key_material(r: TfResource) -> None:
    """aws_kms_external_key: material imported with valid_to expires; material imported without it
    does not (the provider's rule). With no material in the configuration, it is imported out of
    band and its expiry is not known, as for an EXTERNAL key in CloudFormation."""
    r.node.set("origin", "EXTERNAL", r.rec.where)
    valid_to = r.get("valid_to")
    if isinstance(valid_to, Unresolved):   # it may still be null: whether the material expires is unknown
        r.node.set("expiration_model", valid_to, r.spot("valid_to"))
        r.node.set("valid_to", valid_to, r.spot("valid_to"))
    elif valid_to is not None:
        r.node.set("expiration_model", "KEY_MATERIAL_EXPIRES", r.spot("valid_to"))
        r.node.set("valid_to", _timestamp(valid_to), r.spot("valid_to"))
    elif r.get("key_material_base64") is not None:
        r.node.set("expiration_model", "KEY_MATERIAL_DOES_NOT_EXPIRE", r.spot("key_material_base64"))
    r.put("expiration_model", "expiration_model", conv=to_str)   # a plan knows it once applied


def _timestamp(v):
    if isinstance(v, str):
        try:
            when = datetime.fromisoformat(v)
            return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
        except ValueError:
            pass
    return Unresolved(f"not an RFC 3339 time: {v!r}")


def _pca_authority(r: TfResource) -> None:
    # The provider's default type is SUBORDINATE (CloudFormation has no default).
    r.node.set("ca_type", "SUBORDINATE", r.rec.where)
    r.put("ca_type", "type", conv=to_str)
    conf = "certificate_authority_configuration"
    r.put("key_algorithm", conf, "key_algorithm", conv=to_str)
    r.put("signing_algorithm", conf, "signing_algorithm", conv=to_str)
    r.put("key_storage_security_standard", "key_storage_security_standard", conv=to_str)
    r.put("tags", "tags", conv=to_tags)
    crl = ("revocation_configuration", "crl_configuration")
    r.put("crl_enabled", *crl, "enabled", conv=to_bool)
    r.put("crl_bucket", *crl, "s3_bucket_name")
    r.put("crl_object_acl", *crl, "s3_object_acl", conv=to_str)
    r.put("ocsp_enabled", "revocation_configuration", "ocsp_configuration", "enabled", conv=to_bool)


def _pca_certificate(r: TfResource) -> None:
    normalize.set_pca_certificate(r, "template_arn", "validity", "type", "value")
    normalize.set_pca_usage(r, "api_passthrough")


def _s3_bucket(r: TfResource) -> None:
    r.put("bucket_name", "bucket", conv=to_str)
    r.put("tags", "tags", conv=to_tags)
    r.put("acl", "acl", conv=to_str)               # provider < 4 inline ACL
    if r.get("policy") not in (None, ""):       # provider < 4 inline policy
        r.node.set("policy", policy_doc(r.get("policy"), r.spot("policy")), r.spot("policy"))
    _grants(r, r.node, r.get("grant"), ("grant",))


def _grants(r: TfResource, bucket: Node, grants, path: tuple, helper: bool = False) -> None:
    if isinstance(grants, Unresolved) or not grants:
        return
    public = []
    for g in grants if isinstance(grants, list) else [grants]:
        grantee = g.get("grantee") if isinstance(g, dict) and "grantee" in g else g
        if isinstance(grantee, list):
            grantee = grantee[0] if grantee else {}
        uri = grantee.get("uri") if isinstance(grantee, dict) else None
        if isinstance(uri, str) and uri.rstrip("/").rsplit("/", 1)[-1] in ("AllUsers", "AuthenticatedUsers"):
            public.append(uri)
    if public:
        bucket.set("public_grants", public, r.spot(*path, helper=helper))


def _lb_listener(r: TfResource) -> None:
    r.put("protocol", "protocol", conv=upper)
    r.put("ssl_policy", "ssl_policy", conv=to_str)
    r.put("port", "port", conv=to_int)


def _cloudfront(r: TfResource) -> None:
    vc = r.get("viewer_certificate")
    if vc is None:
        return
    r.node.set("has_viewer_certificate", True, r.spot("viewer_certificate"))
    r.put("default_certificate", "viewer_certificate", "cloudfront_default_certificate", conv=to_bool)
    r.put("minimum_protocol_version", "viewer_certificate", "minimum_protocol_version", conv=to_str)


def _apigw_domain(r: TfResource) -> None:
    normalize.set_rest_domain_policy(r.node, r.get("security_policy"), r.spot("security_policy"))


def _apigw_v2_domain(r: TfResource) -> None:
    r.put("security_policy", "domain_name_configuration", "security_policy", conv=upper)


def _server_certificate(r: TfResource) -> None:
    r.put("certificate_pem", "certificate_body")   # parsed by certs.apply_certificate_pem
    r.put("certificate_chain_pem", "certificate_chain")
    r.put("tags", "tags", conv=to_tags)


def _acm_certificate(r: TfResource) -> None:
    r.put("domain_name", "domain_name", conv=to_str)
    r.put("validation_method", "validation_method", conv=upper)
    r.put("transparency_logging", "options", "certificate_transparency_logging_preference", conv=upper)
    r.put("private_ca_arn", "certificate_authority_arn")
    if r.get("key_algorithm") is not None:
        normalize.set_acm_key_algorithm(r.node, r.get("key_algorithm"), r.spot("key_algorithm"))
    r.put("create_before_destroy", "lifecycle", "create_before_destroy", conv=to_bool)
    r.put("tags", "tags", conv=to_tags)
    r.put("certificate_pem", "certificate_body")   # imported: parsed like an IAM body
    r.put("certificate_chain_pem", "certificate_chain")
    written = [k for k in ("certificate_body", "private_key") if r.get(k) is not None]
    known = [k for k in written if not isinstance(r.get(k), Unresolved) or isinstance(r.get(k), PartialText)]
    if written:   # a value known only later may still be null: then it is not known to be imported
        r.node.set("imported", True if known else r.get(written[0]), r.spot((known or written)[0]))


def _secret(r: TfResource) -> None:
    key = r.get("kms_key_id")
    if isinstance(key, Ref):   # a key of this configuration: customer managed by construction
        r.node.set("kms_key_id", key.address, r.spot("kms_key_id"))
    elif key is not None:
        r.node.set("kms_key_id", to_str(key), r.spot("kms_key_id"))
    r.put("tags", "tags", conv=to_tags)
    if r.get("rotation_rules") is not None:   # provider < 5: rotation written on the secret
        _rotation(r, r.node, helper=False)


def _rotation(r: TfResource, secret: Node, helper: bool) -> None:
    secret.set("rotation_enabled", True, r.spot("rotation_rules") if not helper else r.spot(helper=True))
    days = r.get("rotation_rules", "automatically_after_days")
    interval = normalize.rotation_days(days, r.get("rotation_rules", "schedule_expression"))
    if interval is not None:
        which = "automatically_after_days" if days is not None else "schedule_expression"
        secret.set("rotation_interval_days", interval, r.spot("rotation_rules", which, helper=helper))


def _events_rule(r: TfResource) -> None:
    if r.get("event_pattern") is not None:
        normalize.set_event_pattern(r.node, r.get("event_pattern"), r.spot("event_pattern"))
    r.put("enabled", "state", conv=normalize.rule_enabled)
    r.put("enabled", "is_enabled", conv=to_bool)   # provider < 5


def _config_rule(r: TfResource) -> None:
    r.put("source_identifier", "source", "source_identifier", conv=upper)


def _cloudhsm_cluster(r: TfResource) -> None:
    r.node.set("hsm_count", 0)   # counted by the aws_cloudhsm_v2_hsm resources folded onto it
    r.node.set("hsm_azs", [])


NODE_TYPES: dict[str, tuple[str, Callable[[TfResource], None]]] = {
    "aws_kms_key": ("kms_key", _kms_key),
    "aws_kms_external_key": ("kms_key", _kms_key),
    "aws_acmpca_certificate_authority": ("pca_authority", _pca_authority),
    "aws_acmpca_certificate": ("pca_certificate", _pca_certificate),
    "aws_s3_bucket": ("s3_bucket", _s3_bucket),
    "aws_lb_listener": ("lb_listener", _lb_listener),
    "aws_alb_listener": ("lb_listener", _lb_listener),
    "aws_cloudfront_distribution": ("cloudfront_distribution", _cloudfront),
    "aws_api_gateway_domain_name": ("apigw_domain", _apigw_domain),
    "aws_apigatewayv2_domain_name": ("apigw_domain", _apigw_v2_domain),
    "aws_iam_server_certificate": ("iam_server_certificate", _server_certificate),
    "aws_acm_certificate": ("acm_certificate", _acm_certificate),
    "aws_secretsmanager_secret": ("secret", _secret),
    "aws_cloudwatch_event_rule": ("events_rule", _events_rule),
    "aws_config_config_rule": ("config_rule", _config_rule),
    "aws_cloudhsm_v2_cluster": ("cloudhsm_cluster", _cloudhsm_cluster),
}


# -- folders: helper resources onto what they configure ----------------------------------
class Builder:
    def __init__(self, graph: Graph):
        self.graph = graph

    def target(self, value, kind: str) -> Node | None:
        """The node a Ref (or a literal bucket name / id) points at, if it has that kind."""
        node = None
        if isinstance(value, Ref):
            node = self.graph.nodes.get(value.address)
        elif isinstance(value, str):
            node = next((n for n in self.graph.nodes.values()
                         if n.kind == kind and n.attrs.get("bucket_name") == value), None)
        return node if node is not None and node.kind == kind else None

    def own_node(self, r: TfResource, kind: str) -> Node:
        """A helper for a resource outside the unit (a bucket's policy, a secret's rotation):
        checked on a node of its own, which rules about the resource itself skip."""
        node = self.graph.nodes.get(r.rec.address)
        if node is None:
            target = r.get("bucket") if kind == "s3_bucket" else r.get("secret_id")
            node = self.graph.add(Node(id=r.rec.address, kind=kind, name=r.rec.display, source="tf",
                                       where=r.rec.where, type=r.rec.type,
                                       attrs={"managed_elsewhere": True, "display": elsewhere(target, r.rec.display)}))
        return node

    def record(self, value) -> Record | None:
        """The resource a Ref points at, with its values (a subnet's zone, a policy's attributes)."""
        return self.records.get(value.address) if isinstance(value, Ref) else None

    def build(self, records: list[Record]) -> Graph:
        self.records = {rec.address: rec for rec in records}
        helpers = []
        for rec in records:
            self.graph.blocks[rec.display] = rec.where   # every block, helpers too: suppressions target them
            handler = NODE_TYPES.get(rec.type)
            if handler:
                r = TfResource(rec, handler[0])
                handler[1](r)
                self.graph.add(r.node)
            elif isinstance(rec.values.get("tags"), (dict, Unresolved)) and rec.values.get("tags") != {}:
                # Other tagged resources still matter: CW108 compares the environments of
                # everything that refers to one key.
                r = TfResource(rec, "resource")
                r.put("tags", "tags", conv=to_tags)
                self.graph.add(r.node)
            helpers.append(TfResource(rec))
        for r in helpers:
            if r.rec.address in self.graph.nodes:
                for target in sorted(r.rec.refs):
                    if target != r.rec.address:
                        self.graph.link(r.rec.address, target, "refers_to")
        for r in helpers:
            folder = FOLDERS.get(r.rec.type)
            if folder:
                folder(self, r)
            self._private_keys(r.rec)
        return self.graph

    def _private_keys(self, rec: Record) -> None:
        """Any string of a resource that holds a private key becomes a private_key node (CW504).
        Text read with file() is left to its own file, which the scan reads as material."""
        for node in normalize.private_key_nodes(rec.values, rec.where, rec.display, "tf", rec.where.path,
                                                skip=lambda s: isinstance(s, FileText)):
            self.graph.add(node)


def _bucket_policy(b: Builder, r: TfResource) -> None:
    doc = r.get("policy")
    if doc is None:
        return
    bucket = b.target(r.get("bucket"), "s3_bucket") or b.own_node(r, "s3_bucket")
    where = r.spot("policy", helper=True)
    bucket.set("policy", policy_doc(doc, where), where)


def _bucket_acl(b: Builder, r: TfResource) -> None:
    bucket = b.target(r.get("bucket"), "s3_bucket") or b.own_node(r, "s3_bucket")
    r.put("acl", "acl", conv=to_str, node=bucket, helper=True)
    _grants(r, bucket, r.get("access_control_policy", "grant"), ("access_control_policy", "grant"), helper=True)


def _public_access_block(b: Builder, r: TfResource) -> None:
    bucket = b.target(r.get("bucket"), "s3_bucket") or b.own_node(r, "s3_bucket")
    normalize.set_public_access_block(r, bucket, r.spot(helper=True),
                                      {attr: (attr,) for attr in PUBLIC_ACCESS_SETTINGS}, helper=True)


def _key_policy(b: Builder, r: TfResource) -> None:
    key = b.target(r.get("key_id"), "kms_key")
    doc = r.get("policy")
    if key is None or doc is None:
        return
    where = r.spot("policy", helper=True)
    key.set("policy", policy_doc(doc, where), where)


def _secret_rotation(b: Builder, r: TfResource) -> None:
    secret = b.target(r.get("secret_id"), "secret") or b.own_node(r, "secret")
    _rotation(r, secret, helper=True)


def _secret_key_edge(b: Builder, r: TfResource) -> None:
    key = b.target(r.get("kms_key_id"), "kms_key")
    if key is not None:
        b.graph.link(r.rec.address, key.id, "encrypted_by")


def _bucket_encryption(b: Builder, r: TfResource) -> None:
    """aws_s3_bucket_server_side_encryption_configuration: the bucket uses the key it names."""
    bucket = b.target(r.get("bucket"), "s3_bucket")
    if bucket is None:
        return
    for address in sorted(r.rec.refs):
        key = b.graph.nodes.get(address)
        if key is not None and key.kind == "kms_key":
            b.graph.link(bucket.id, key.id, "refers_to")


def _pca_link(b: Builder, r: TfResource) -> None:
    """A CA certificate: issued by a CA, and (through its CSR) certifying one."""
    issuer = b.target(r.get("certificate_authority_arn"), "pca_authority")
    if issuer is not None:
        b.graph.link(r.rec.address, issuer.id, "issued_by")
    csr = r.get("certificate_signing_request")
    subject = b.target(csr, "pca_authority") if isinstance(csr, Ref) else None
    if subject is not None:
        b.graph.link(r.rec.address, subject.id, "certifies")


def _pca_activation(b: Builder, r: TfResource) -> None:
    ca = b.target(r.get("certificate_authority_arn"), "pca_authority")
    cert = b.target(r.get("certificate"), "pca_certificate")
    if ca is not None and cert is not None and ca.id not in {n.id for n in b.graph.out(cert, "certifies")}:
        b.graph.link(cert.id, ca.id, "certifies")


def _pca_crl_bucket(b: Builder, r: TfResource) -> None:
    node = b.graph.nodes.get(r.rec.address)
    bucket = b.target(node.attrs.get("crl_bucket"), "s3_bucket") if node is not None else None
    if bucket is not None:
        b.graph.link(node.id, bucket.id, "writes_crl_to")


def _hsm(b: Builder, r: TfResource) -> None:
    cluster = b.target(r.get("cluster_id"), "cloudhsm_cluster")
    if cluster is None:
        return
    cluster.set("hsm_count", cluster.attrs.get("hsm_count", 0) + 1, r.spot(helper=True))
    az = r.get("availability_zone")
    subnet = b.record(r.get("subnet_id"))
    if az is None and subnet is not None:   # the HSM lives in its subnet's zone
        az = subnet.values.get("availability_zone")
    azs = list(cluster.attrs.get("hsm_azs", []))
    azs.append(az if isinstance(az, str) else Unresolved("HSM availability zone known only after apply"))
    cluster.set("hsm_azs", azs, r.spot(helper=True))


def _elb(b: Builder, r: TfResource) -> None:
    """A classic load balancer: one lb_listener node per listener block."""
    listeners = r.get("listener")
    for i, lst in enumerate(listeners if isinstance(listeners, list) else []):
        if not isinstance(lst, dict):
            continue
        node = b.graph.add(Node(id=f"{r.rec.address}#listener{i}", kind="lb_listener", name=r.rec.display,
                                source="tf", where=r.spot("listener"), type=r.rec.type, attrs={"classic": True}))
        r.put("protocol", "listener", i, "lb_protocol", conv=upper, node=node)
        r.put("port", "listener", i, "lb_port", conv=to_int, node=node)


def _elb_listener(b: Builder, lb, port) -> Node | None:
    """The lb_listener node of a classic load balancer (a Ref to it) on a port."""
    if not isinstance(lb, Ref):
        return None
    return next((n for n in b.graph.nodes.values() if n.kind == "lb_listener" and n.id.startswith(f"{lb.address}#")
                 and n.attrs.get("port") == to_int(port)), None)


def _negotiation_policy(r: TfResource, name_key: str, attr_key: str) -> Any:
    """A negotiation policy resource's attribute blocks, read as normalize.negotiation_policy does."""
    blocks = r.get(attr_key)
    if blocks is not None and not isinstance(blocks, list):
        return Unresolved("negotiation policy attributes not known")
    pairs = [(a.get("name"), a.get("value")) for a in blocks or [] if isinstance(a, dict)]
    if len(pairs) < len(blocks or []):   # a dynamic block whose items are not known
        return Unresolved("negotiation policy attributes not known")
    return normalize.negotiation_policy(r.get(name_key), pairs)


def _ssl_negotiation_policy(b: Builder, r: TfResource) -> None:
    """aws_lb_ssl_negotiation_policy: the policy of one listener, named by port."""
    listener = _elb_listener(b, r.get("load_balancer"), r.get("lb_port"))
    if listener is not None:
        listener.set("ssl_policy", _negotiation_policy(r, "name", "attribute"), r.spot(helper=True))


def _listener_policy(b: Builder, r: TfResource) -> None:
    """aws_load_balancer_listener_policy: the aws_load_balancer_policy resources a listener uses
    (a policy attached to no listener has no effect and is not judged)."""
    listener = _elb_listener(b, r.get("load_balancer_name"), r.get("load_balancer_port"))
    names = r.get("policy_names")
    if listener is None or not isinstance(names, list):
        return
    for name in names:
        policy = b.record(name) or next((rec for rec in b.records.values() if rec.type == "aws_load_balancer_policy"
                                         and isinstance(name, str) and rec.values.get("policy_name") == name), None)
        if policy is None:   # a policy made elsewhere: which one the listener gets is not known
            listener.set("ssl_policy", Unresolved(f"listener policy {name} is not in the unit"), r.spot(helper=True))
            continue
        if policy.values.get("policy_type_name") == "SSLNegotiationPolicyType":
            p = TfResource(policy)
            listener.set("ssl_policy", _negotiation_policy(p, "policy_name", "policy_attribute"), p.spot(helper=True))


FOLDERS: dict[str, Callable[[Builder, TfResource], None]] = {
    "aws_s3_bucket_policy": _bucket_policy,
    "aws_s3_bucket_acl": _bucket_acl,
    "aws_s3_bucket_public_access_block": _public_access_block,
    "aws_kms_key_policy": _key_policy,
    "aws_secretsmanager_secret_rotation": _secret_rotation,
    "aws_secretsmanager_secret": _secret_key_edge,
    "aws_s3_bucket_server_side_encryption_configuration": _bucket_encryption,
    "aws_lb_ssl_negotiation_policy": _ssl_negotiation_policy,
    "aws_load_balancer_listener_policy": _listener_policy,
    "aws_acmpca_certificate": _pca_link,
    "aws_acmpca_certificate_authority_certificate": _pca_activation,
    "aws_acmpca_certificate_authority": _pca_crl_bucket,
    "aws_cloudhsm_v2_hsm": _hsm,
    "aws_elb": _elb,
}
