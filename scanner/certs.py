"""X.509 certificates and private keys, parsed with `cryptography` into normalized attributes.

Every source uses this module: PEM/DER files (sources/pem.py), PEM bodies in templates
(AWS::IAM::ServerCertificate, aws_acm_certificate.certificate_body) and strings that hold a
private key anywhere. A private key never leaves this module: callers get its type, size,
whether it is encrypted and a fingerprint (SHA-256 of the public key), nothing more.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from .model import Graph, Node, Unresolved, Where

# RFC 7468 text encoding; explanatory text around the blocks is allowed and skipped.
PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)
CERT_LABELS = {"CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE"}
PKCS7_LABELS = {"PKCS7", "CERTIFICATE CHAIN"}
KEY_LABELS = {"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY",
              "ENCRYPTED PRIVATE KEY", "OPENSSH PRIVATE KEY"}
KEY_MARKER = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")

# Attributes a parsed certificate gives, also written onto template nodes that carry a body.
CERT_ATTRS = ("key_algorithm", "key_bits", "signature_hash", "not_before", "not_after", "is_ca",
              "sans", "subject", "issuer", "self_signed", "fingerprint")


class MaterialError(ValueError):
    """A block that looks like key or certificate material but cannot be read."""


@dataclass
class Material:
    kind: str                    # certificate | private_key
    attrs: dict = field(default_factory=dict)
    offset: int = 0              # character offsets of the block in the text (0 for DER)
    end: int = 0


def _fingerprint(data: bytes) -> str:
    return "SHA256:" + hashlib.sha256(data).hexdigest()


def _key_facts(key) -> tuple[str, int | None]:
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return "EC", key.curve.key_size
    if isinstance(key, dsa.DSAPublicKey | dsa.DSAPrivateKey):
        return "DSA", key.key_size
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return "Ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey | ed448.Ed448PrivateKey):
        return "Ed448", 456
    return type(key).__name__, None


def certificate_attrs(cert: x509.Certificate) -> dict:
    try:
        algorithm, bits = _key_facts(cert.public_key())
    except (ValueError, TypeError):   # unsupported key type (e.g. GOST): the rest still counts
        algorithm, bits = "unknown", None
    try:
        sig = cert.signature_hash_algorithm
        signature_hash = sig.name.upper().replace("-", "") if sig is not None else None
    except UnsupportedAlgorithm:
        signature_hash = Unresolved("signature algorithm not supported by the parser")
    try:
        basic = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        is_ca = basic.ca
    except x509.ExtensionNotFound:
        is_ca = False
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [str(v) for v in sans.get_values_for_type(x509.DNSName)]
        names += [str(v) for v in sans.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        names = []
    return {
        "key_algorithm": algorithm, "key_bits": bits, "signature_hash": signature_hash,
        "not_before": cert.not_valid_before_utc, "not_after": cert.not_valid_after_utc,
        "is_ca": is_ca, "sans": names, "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(), "self_signed": cert.subject == cert.issuer,
        "fingerprint": _fingerprint(cert.public_bytes(serialization.Encoding.DER)),
    }


def _private_key_attrs(key) -> dict:
    key_type, bits = _key_facts(key)
    spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    return {"key_type": key_type, "key_bits": bits, "encrypted": False, "fingerprint": _fingerprint(spki)}


def _ssh_string(blob: bytes, pos: int) -> tuple[bytes, int]:
    (n,) = struct.unpack(">I", blob[pos:pos + 4])
    if pos + 4 + n > len(blob):
        raise MaterialError("truncated OpenSSH key")
    return blob[pos + 4:pos + 4 + n], pos + 4 + n


def _openssh_attrs(body: bytes) -> dict:
    """openssh-key-v1: the public key is stored in clear even when the private part is encrypted."""
    magic = b"openssh-key-v1\x00"
    if not body.startswith(magic):
        raise MaterialError("not an openssh-key-v1 private key")
    try:
        cipher, pos = _ssh_string(body, len(magic))
        _kdf, pos = _ssh_string(body, pos)
        _opts, pos = _ssh_string(body, pos)
        pos += 4   # number of keys
        public, _ = _ssh_string(body, pos)
        key_name, _ = _ssh_string(public, 0)
    except (struct.error, MaterialError) as exc:
        raise MaterialError(f"malformed OpenSSH key ({exc or 'truncated'})") from None
    encrypted = cipher != b"none"
    key_type, bits = {b"ssh-ed25519": ("Ed25519", 256), b"ssh-rsa": ("RSA", None), b"ssh-dss": ("DSA", None),
                      b"ecdsa-sha2-nistp256": ("EC", 256), b"ecdsa-sha2-nistp384": ("EC", 384),
                      b"ecdsa-sha2-nistp521": ("EC", 521)}.get(key_name, (key_name.decode(errors="replace"), None))
    if bits is None and key_type in ("RSA", "DSA"):
        try:
            bits = _key_facts(serialization.load_ssh_public_key(
                key_name + b" " + base64.b64encode(public)))[1]
        except (ValueError, UnsupportedAlgorithm):
            pass
    return {"key_type": key_type, "key_bits": bits, "encrypted": encrypted, "fingerprint": _fingerprint(public)}


def _key_block(label: str, block: str, body: bytes) -> dict:
    if label == "OPENSSH PRIVATE KEY":
        return _openssh_attrs(body)
    legacy_encrypted = "Proc-Type:" in block and "ENCRYPTED" in block
    if label == "ENCRYPTED PRIVATE KEY" or legacy_encrypted:
        # Without the passphrase only the container is known; the fingerprint hashes it instead.
        return {"key_type": label.removesuffix("PRIVATE KEY").replace("ENCRYPTED", "").strip() or "unknown",
                "key_bits": None, "encrypted": True, "fingerprint": _fingerprint(body)}
    try:
        key = serialization.load_der_private_key(body, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        try:   # PKCS#1 and SEC1 bodies are accepted by the PEM loader only
            key = serialization.load_pem_private_key(
                f"-----BEGIN {label}-----\n{block.strip()}\n-----END {label}-----\n".encode(), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise MaterialError(f"unreadable {label.lower()}: {type(exc).__name__}") from None
    return _private_key_attrs(key)


def _b64(block: str) -> bytes:
    block = block.replace("\\n", "\n")   # a PEM pasted into a JSON or .env string keeps its \n escapes
    lines = [ln for ln in block.strip().splitlines() if ":" not in ln]   # drop RFC 1421 headers
    try:
        return base64.b64decode("".join(ln.strip() for ln in lines), validate=True)
    except (binascii.Error, ValueError):
        raise MaterialError("invalid base64 in PEM block") from None


def parse_text(text: str) -> tuple[list[Material], list[str]]:
    """Every certificate and private key in a text; errors are one line each, no key material."""
    found, errors = [], []
    for m in PEM_BLOCK.finditer(text):
        label, block = m.group(1).strip(), m.group(2)
        if label not in CERT_LABELS | PKCS7_LABELS | KEY_LABELS:
            continue
        try:
            body = _b64(block)
            if label in KEY_LABELS:
                found.append(Material("private_key", _key_block(label, block, body), m.start(), m.end()))
            elif label in PKCS7_LABELS:
                for cert in pkcs7.load_der_pkcs7_certificates(body):
                    found.append(Material("certificate", certificate_attrs(cert), m.start(), m.end()))
            else:
                found.append(Material("certificate", certificate_attrs(x509.load_der_x509_certificate(body)),
                                      m.start(), m.end()))
        except MaterialError as exc:
            errors.append(str(exc))
        except Exception as exc:  # noqa: BLE001  hostile input raises many types; one block never stops a scan
            errors.append(f"unreadable {label.lower()} ({type(exc).__name__})")
    if not found and not errors and KEY_MARKER.search(text):
        errors.append("private key block without a matching END line")
    return found, errors


def parse_der(data: bytes) -> Material:
    """A DER certificate or (unencrypted PKCS#8) private key."""
    try:
        return Material("certificate", certificate_attrs(x509.load_der_x509_certificate(data)))
    except Exception:  # noqa: BLE001  (see parse_text)
        pass
    try:
        return Material("private_key", _private_key_attrs(serialization.load_der_private_key(data, password=None)))
    except Exception:  # noqa: BLE001
        raise MaterialError("not a DER certificate or private key") from None


# ACM and ACM PCA key algorithm names (RSA_2048, EC_prime256v1, EC_secp384r1) as parsed keys read.
_ACM_KEY = re.compile(r"^(RSA|EC)_(?:prime|secp)?(\d+)(?:v1|r1)?$")


def acm_key_algorithm(name: Any) -> tuple[Any, Any]:
    """("RSA", 2048) for "RSA_2048"; an unknown or unresolved name gives Unresolved bits."""
    m = _ACM_KEY.match(name) if isinstance(name, str) else None
    if m:
        return m.group(1), int(m.group(2))
    return name, name if isinstance(name, Unresolved) else Unresolved(f"key algorithm {name}")


def holds_private_key(text: str) -> bool:
    return bool(KEY_MARKER.search(text))


def private_key_nodes(text: str, name: str, source: str, where: Where, id_prefix: str | None = None) -> list[Node]:
    """private_key nodes for the keys written in a string of a template (CW504), located at where."""
    materials, errors = parse_text(text)
    keys = [m for m in materials if m.kind == "private_key"]
    if not keys and errors:   # a key marker but an unreadable key is still a key in the template
        keys = [Material("private_key", {"key_type": "unknown", "fingerprint": Unresolved(errors[0])})]
    nodes = []
    for i, m in enumerate(keys):
        node = Node(id=f"{id_prefix or name}#key{i + 1}", kind="private_key", name=name, source=source,
                    where=where, type="private key")
        for k, v in m.attrs.items():
            node.set(k, v, where)
        nodes.append(node)
    return nodes


def apply_certificate_pem(graph: Graph) -> None:
    """Nodes that carry a raw PEM body (`certificate_pem`) get the parsed certificate attributes.

    Run on every graph, whatever its source: an adapter only stores the body it finds
    (IAM server certificate, imported ACM certificate) and the rules see key size,
    signature hash and dates. The raw body is dropped once read.
    """
    for node in graph.nodes.values():
        if "certificate_pem" not in node.attrs:
            continue
        body = node.attrs.pop("certificate_pem")
        where = node.spots.pop("certificate_pem", node.where)
        if isinstance(body, Unresolved):
            values = {a: body for a in CERT_ATTRS}
        elif not isinstance(body, str):
            values = {a: Unresolved("certificate body is not a string") for a in CERT_ATTRS}
        else:
            materials, errors = parse_text(body)
            certs = [m for m in materials if m.kind == "certificate"]
            if certs:
                values = certs[0].attrs   # the leaf comes first; a chain has its own property
            else:
                why = errors[0] if errors else "no PEM certificate in the body"
                values = {a: Unresolved(f"certificate body: {why}") for a in CERT_ATTRS}
        for k, v in values.items():
            node.set(k, v, where)
