"""CloudFormation templates (YAML, JSON, SAM, cdk synth output) into the normalized graph.

One handler per resource type maps its properties onto the model's attribute names; helper
resources (bucket policies, rotation schedules, CA certificates) are folded onto the resource
they configure, with spots that still point at the helper's own lines.
"""
from __future__ import annotations

from typing import Any, Callable

from .. import policy as policies
from ..findings import InputError
from ..kinds import PUBLIC_ACCESS_SETTINGS
from ..model import Graph, Node, Unresolved, Where
from . import normalize
from .cfn_resolve import ResRef, Resolver, referenced
from .loader import PosDict
from .resource_view import (ResourceView, canned_acl, elsewhere, to_bool, to_int,  # noqa: F401
                            to_str, to_tags)


def looks_like_template(doc: Any) -> bool:
    res = doc.get("Resources") if isinstance(doc, dict) else None
    return isinstance(res, dict) and any(
        isinstance(r, dict) and isinstance(r.get("Type"), str) and r["Type"].startswith(("AWS::", "Custom::"))
        for r in res.values())


class Resource(ResourceView):
    """One resource of the template while its node is being built."""

    path_prefix = ("Properties",)

    def __init__(self, tpl: "Template", name: str, body: dict):
        self.tpl, self.name, self.body = tpl, name, body
        props = body.get("Properties")
        self.props = self.values = props if isinstance(props, dict) else PosDict()
        line, col = tpl.resources.pos.get(name, (0, 0)) if hasattr(tpl.resources, "pos") else (0, 0)
        self.where = self.base = Where(tpl.file, line, col, ("Resources", name),
                                       end_line=getattr(body, "end_line", 0))
        self.node = Node(id=name, kind="", name=name, source="cfn", where=self.where, type=body.get("Type", ""))

    def get(self, *path):
        """The resolved value at path; None when absent."""
        value = self.raw(*path)
        return None if value is None else self.tpl.resolver.resolve(value)


class Template:
    def __init__(self, file: str, doc: dict):
        self.file, self.doc = file, doc
        self.resources = doc["Resources"]
        self.resolver = Resolver(doc)
        self.graph = Graph(unit=file, source="cfn")
        self.by_name: dict[str, Resource] = {}
        self.may_hold_keys = True

    def build(self) -> Graph:
        for name, body in self.resources.items():
            if not isinstance(body, dict) or not isinstance(body.get("Type"), str):
                continue
            res = Resource(self, str(name), body)
            self.by_name[res.name] = res
            self.graph.blocks[res.name] = res.where
            handler = NODE_TYPES.get(res.node.type)
            if handler:
                res.node.kind = handler[0]
                handler[1](res)
                self.graph.add(res.node)
            elif cfn_services.tagged_resource(res):
                self.graph.add(res.node)
            self.resolver.budget.blame(self.file, res.where.line, None)
        names = {n: True for n in self.by_name}
        for res in self.by_name.values():   # generic edges: who mentions whom
            if res.name in self.graph.nodes:
                for target in referenced(res.props, names):
                    self.graph.link(res.name, target, "refers_to")
        for res in self.by_name.values():
            folder = FOLDERS.get(res.node.type)
            if folder:
                folder(self, res)
        if self.may_hold_keys:
            cfn_services.private_keys(self)
        return self.graph

    def target(self, value) -> Node | None:
        """The node a ResRef (or a literal bucket/resource name) points at."""
        if isinstance(value, ResRef):
            return self.graph.nodes.get(value.target)
        if isinstance(value, str):
            for node in self.graph.nodes.values():
                if node.attrs.get("bucket_name") == value:
                    return node
        return None

    def target_or_own(self, value, kind: str, r: "Resource") -> Node:
        """The node of `kind` a helper configures; for one outside the template (a policy for a
        bucket made elsewhere, a schedule for a secret given by ARN), a node of the helper's own,
        which rules about the resource itself skip."""
        node = self.target(value)
        if node is not None and node.kind == kind:
            return node
        return self.graph.add(Node(id=r.name, kind=kind, name=r.name, source="cfn", where=r.where,
                                   type=r.node.type, attrs={"managed_elsewhere": True,
                                                            "display": elsewhere(value, r.name)}))


# -- node handlers -----------------------------------------------------------------------------
def _kms_key(r: Resource) -> None:
    r.put("key_spec", "KeySpec", conv=to_str)
    r.put("key_usage", "KeyUsage", conv=to_str)
    r.put("origin", "Origin", conv=to_str)
    r.put("rotation_enabled", "EnableKeyRotation", conv=to_bool)
    r.put("rotation_period_days", "RotationPeriodInDays", conv=to_int)
    r.put("pending_window_days", "PendingWindowInDays", conv=to_int)
    r.put("tags", "Tags", conv=to_tags)
    doc = r.get("KeyPolicy")
    if doc is not None:
        r.node.set("policy", policies.parse(doc, r.spot("KeyPolicy")), r.spot("KeyPolicy"))


def _pca_authority(r: Resource) -> None:
    r.put("ca_type", "Type", conv=to_str)
    r.put("key_algorithm", "KeyAlgorithm", conv=to_str)
    r.put("signing_algorithm", "SigningAlgorithm", conv=to_str)
    r.put("key_storage_security_standard", "KeyStorageSecurityStandard", conv=to_str)
    r.put("tags", "Tags", conv=to_tags)
    crl = ("RevocationConfiguration", "CrlConfiguration")
    r.put("crl_enabled", *crl, "Enabled", conv=to_bool)
    r.put("crl_bucket", *crl, "S3BucketName")
    r.put("crl_object_acl", *crl, "S3ObjectAcl", conv=to_str)
    r.put("ocsp_enabled", "RevocationConfiguration", "OcspConfiguration", "Enabled", conv=to_bool)


def _pca_certificate(r: Resource) -> None:
    normalize.set_pca_certificate(r, "TemplateArn", "Validity", "Type", "Value")
    normalize.set_pca_usage(r, "ApiPassthrough")
    start = r.get("ValidityNotBefore")
    if isinstance(start, dict):
        r.node.set("not_before", normalize.pca_not_before(r.get("ValidityNotBefore", "Type"),
                                                          r.get("ValidityNotBefore", "Value")),
                   r.spot("ValidityNotBefore"))


def _s3_bucket(r: Resource) -> None:
    r.put("bucket_name", "BucketName", conv=to_str)
    r.put("tags", "Tags", conv=to_tags)
    block = r.get("PublicAccessBlockConfiguration")
    if isinstance(block, Unresolved):   # the whole block from a condition or parameter
        for attr in ("has_public_access_block", *PUBLIC_ACCESS_SETTINGS):
            r.node.set(attr, block, r.spot("PublicAccessBlockConfiguration"))
    elif block is not None:
        normalize.set_public_access_block(r, r.node, r.spot("PublicAccessBlockConfiguration"), {
            attr: ("PublicAccessBlockConfiguration", prop) for attr, prop in PUBLIC_ACCESS_SETTINGS.items()})
    r.put("acl", "AccessControl", conv=canned_acl)


NODE_TYPES: dict[str, tuple[str, Callable[[Resource], None]]] = {
    "AWS::KMS::Key": ("kms_key", _kms_key),
    "AWS::ACMPCA::CertificateAuthority": ("pca_authority", _pca_authority),
    "AWS::ACMPCA::Certificate": ("pca_certificate", _pca_certificate),
    "AWS::S3::Bucket": ("s3_bucket", _s3_bucket),
}


# -- folders: helper resources onto the resource they configure ------------------------------
def _bucket_policy(tpl: Template, r: Resource) -> None:
    where = r.spot("PolicyDocument")
    where = Where(where.file, where.line, where.column, where.path, resource=r.name)
    doc = r.get("PolicyDocument")
    if doc is None:
        return
    bucket = tpl.target_or_own(r.get("Bucket"), "s3_bucket", r)
    bucket.set("policy", policies.parse(doc, where), where)


def _pca_link(tpl: Template, r: Resource) -> None:
    """A CA certificate: issued by a CA, and (through its CSR) certifying one."""
    node = r.node
    issuer = tpl.target(r.get("CertificateAuthorityArn"))
    if issuer is not None and issuer.kind == "pca_authority":
        tpl.graph.link(node.id, issuer.id, "issued_by")
    csr = r.get("CertificateSigningRequest")
    subject = tpl.target(csr) if isinstance(csr, ResRef) else None
    if subject is not None and subject.kind == "pca_authority":
        tpl.graph.link(node.id, subject.id, "certifies")


def _pca_activation(tpl: Template, r: Resource) -> None:
    ca = tpl.target(r.get("CertificateAuthorityArn"))
    cert = tpl.target(r.get("Certificate"))
    if ca is not None and cert is not None and cert.kind == "pca_certificate" and ca.kind == "pca_authority":
        if not any(e.src == cert.id and e.dst == ca.id and e.kind == "certifies" for e in tpl.graph.edges):
            tpl.graph.link(cert.id, ca.id, "certifies")


def _pca_crl_bucket(tpl: Template, r: Resource) -> None:
    bucket = tpl.target(r.node.attrs.get("crl_bucket"))
    if bucket is not None and bucket.kind == "s3_bucket":
        tpl.graph.link(r.name, bucket.id, "writes_crl_to")


FOLDERS: dict[str, Callable[[Template, Resource], None]] = {
    "AWS::S3::BucketPolicy": _bucket_policy,
    "AWS::ACMPCA::Certificate": _pca_link,
    "AWS::ACMPCA::CertificateAuthorityActivation": _pca_activation,
    "AWS::ACMPCA::CertificateAuthority": _pca_crl_bucket,
}


def read(file: str, doc: dict, may_hold_keys: bool = True) -> tuple[Graph, list[InputError]]:
    """The template's graph, and its error when resolving it ran out of budget.
    may_hold_keys=False (the text has no "PRIVATE KEY-----") skips walking every string."""
    tpl = Template(file, doc)
    tpl.may_hold_keys = may_hold_keys
    graph = tpl.build()
    return graph, tpl.resolver.budget.errors(file)


def build(file: str, doc: dict, may_hold_keys: bool = True) -> Graph:
    return read(file, doc, may_hold_keys)[0]


# Handlers for the services around keys and certificates; imported last because they build on
# Resource and Template above.
from . import cfn_services  # noqa: E402

NODE_TYPES.update(cfn_services.SERVICE_TYPES)
FOLDERS.update(cfn_services.SERVICE_FOLDERS)
