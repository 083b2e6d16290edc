"""Certificate and private-key bytes decoded with `cryptography` (the back end of certs.py).

Only certs.py imports this module, and only once it has found a block to decode.
"""
from __future__ import annotations

import base64
import struct

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

from .material_types import Material, MaterialError, fingerprint
from .model import Unresolved


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


# Key usage flags as the SEC09-BP01 guidance names them (cryptography's KeyUsage attributes).
KEY_USAGES = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
              "key_agreement", "key_cert_sign", "crl_sign")
EXTENDED_KEY_USAGES = {
    ExtendedKeyUsageOID.SERVER_AUTH: "server_auth", ExtendedKeyUsageOID.CLIENT_AUTH: "client_auth",
    ExtendedKeyUsageOID.CODE_SIGNING: "code_signing", ExtendedKeyUsageOID.EMAIL_PROTECTION: "email_protection",
    ExtendedKeyUsageOID.TIME_STAMPING: "time_stamping", ExtendedKeyUsageOID.OCSP_SIGNING: "ocsp_signing",
    ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE: "any",
}
EXTENSIONS = {ExtensionOID.KEY_USAGE: "key_usage", ExtensionOID.EXTENDED_KEY_USAGE: "extended_key_usage",
              ExtensionOID.SUBJECT_ALTERNATIVE_NAME: "subject_alt_name",
              ExtensionOID.BASIC_CONSTRAINTS: "basic_constraints"}


def _usages(cert: x509.Certificate) -> dict:
    """Key usage, extended key usage and the extensions present, in the guidance's names."""
    try:
        extensions = list(cert.extensions)
    except ValueError:   # a duplicate or malformed extension: what it allows is not known
        unknown = Unresolved("certificate extensions could not be read")
        return {"key_usage": unknown, "extended_key_usage": unknown, "extensions": unknown}
    present = [EXTENSIONS.get(e.oid, e.oid.dotted_string) for e in extensions]
    key_usage, eku = [], []
    for ext in extensions:
        if isinstance(ext.value, x509.KeyUsage):
            for flag in KEY_USAGES:
                if getattr(ext.value, flag):
                    key_usage.append(flag)
            if ext.value.key_agreement:   # encipher_only/decipher_only qualify key agreement
                key_usage += [f for f in ("encipher_only", "decipher_only") if getattr(ext.value, f)]
        elif isinstance(ext.value, x509.ExtendedKeyUsage):
            eku = [EXTENDED_KEY_USAGES.get(oid, oid.dotted_string) for oid in ext.value]
    return {"key_usage": key_usage, "extended_key_usage": eku, "extensions": present}


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
        "fingerprint": fingerprint(cert.public_bytes(serialization.Encoding.DER)),
        **_usages(cert),
    }


def _private_key_attrs(key) -> dict:
    key_type, bits = _key_facts(key)
    spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    return {"key_type": key_type, "key_bits": bits, "encrypted": False, "fingerprint": fingerprint(spki)}


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
    return {"key_type": key_type, "key_bits": bits, "encrypted": encrypted, "fingerprint": fingerprint(public)}


def key_block(label: str, block: str, body: bytes) -> dict:
    if label == "OPENSSH PRIVATE KEY":
        return _openssh_attrs(body)
    legacy_encrypted = "Proc-Type:" in block and "ENCRYPTED" in block
    if label == "ENCRYPTED PRIVATE KEY" or legacy_encrypted:
        # Without the passphrase only the container is known; the fingerprint hashes it instead.
        return {"key_type": label.removesuffix("PRIVATE KEY").replace("ENCRYPTED", "").strip() or "unknown",
                "key_bits": None, "encrypted": True, "fingerprint": fingerprint(body)}
    try:
        key = serialization.load_der_private_key(body, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        try:   # PKCS#1 and SEC1 bodies are accepted by the PEM loader only
            key = serialization.load_pem_private_key(
                f"-----BEGIN {label}-----\n{block.strip()}\n-----END {label}-----\n".encode(), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise MaterialError(f"unreadable {label.lower()}: {type(exc).__name__}") from None
    return _private_key_attrs(key)


def der_certificates(body: bytes) -> list[tuple[dict, bytes]]:
    """(attributes, DER) of the one certificate in a DER body."""
    return [(certificate_attrs(x509.load_der_x509_certificate(body)), body)]


def pkcs7_certificates(body: bytes) -> list[tuple[dict, bytes]]:
    return [(certificate_attrs(cert), cert.public_bytes(serialization.Encoding.DER))
            for cert in pkcs7.load_der_pkcs7_certificates(body)]


def _name(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string() or "(empty subject)"


def _self_signed(cert: x509.Certificate) -> bool:
    """A root: it ends a chain. What follows one links to nothing (ACM returns its own root after
    an imported chain), and TLS 1.3 lets a server send such extra certificates."""
    return cert.subject == cert.issuer


def _link_problem(certs: list[x509.Certificate]) -> str | None:
    """The first link of [leaf, issuer, issuer's issuer, ...] that does not hold, in words."""
    for i, (child, parent) in enumerate(zip(certs, certs[1:]), 1):
        if _self_signed(child):
            return None   # a root ends the chain (see _self_signed)
        if child.issuer != parent.subject:
            if any(c.subject == child.issuer for c in certs[i + 1:]):
                return f"out of order: certificate {i + 1} ({_name(parent)}) is not the issuer of certificate {i}"
            return (f"certificate {i + 1} ({_name(parent)}) is not the issuer of certificate {i} "
                    f"(issued by {child.issuer.rfc4514_string()})")
        try:
            child.verify_directly_issued_by(parent)
        except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
            return (f"the signature of certificate {i} ({_name(child)}) does not verify with the key of "
                    f"certificate {i + 1} ({_name(parent)})")
    return None


def chain_facts(ders: list[bytes], leaf: int = 0) -> dict:
    """What a chain written after (or around) its leaf says: its links, checked with cryptography.

    `ders` are in the order written and `leaf` is where the leaf stands; a leaf that is not
    first is out of order. The intermediates' dates are kept, since whether they are valid
    depends on the day of the scan.
    """
    certs = [x509.load_der_x509_certificate(d) for d in ders]
    ordered = [certs[leaf], *certs[:leaf], *certs[leaf + 1:]]
    problem = (f"out of order: the leaf certificate ({_name(certs[leaf])}) is certificate {leaf + 1}, not the first"
               if leaf else _link_problem(ordered))
    end = next((i for i, c in enumerate(ordered) if _self_signed(c)), len(ordered) - 1)
    return {
        "chain": [{"subject": _name(c), "not_before": c.not_valid_before_utc, "not_after": c.not_valid_after_utc}
                  for c in ordered[1:end + 1]],
        "chain_problem": problem,
    }


def der(data: bytes) -> Material:
    """A DER certificate or (unencrypted PKCS#8) private key."""
    try:
        return Material("certificate", certificate_attrs(x509.load_der_x509_certificate(data)), der=data)
    except Exception:  # noqa: BLE001  hostile input raises many types (see certs.parse_text)
        pass
    try:
        return Material("private_key", _private_key_attrs(serialization.load_der_private_key(data, password=None)))
    except Exception:  # noqa: BLE001
        raise MaterialError("not a DER certificate or private key") from None
