"""X.509 certificates and private keys, found in text and turned into normalized attributes.

Every source uses this module: PEM/DER files (sources/pem.py), PEM bodies in templates
(AWS::IAM::ServerCertificate, aws_acm_certificate.certificate_body) and strings that hold a
private key anywhere. A private key never leaves this module: callers get its type, size,
whether it is encrypted and a fingerprint (SHA-256 of the public key), nothing more.
The bytes are decoded by `material` (cryptography), imported only when a block is found:
cryptography costs 14 MiB and 40 ms per process, and most scans hold no certificate.
"""
from __future__ import annotations

import base64
import binascii
import re
from bisect import bisect_left
from typing import Any, Callable

from .material_types import Material, MaterialError
from .model import Graph, Node, Unresolved, Where

# RFC 7468 text encoding; explanatory text around the blocks is allowed and skipped. A marker's
# closing dashes are left unconsumed: they may open the next one ("-----BEGIN A-----BEGIN B-----").
_BEGIN = re.compile(r"-----BEGIN ([A-Z0-9 ]+)(?=-----)")
_END = re.compile(r"-----END ([A-Z0-9 ]+)(?=-----)")
CERT_LABELS = {"CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE"}
PKCS7_LABELS = {"PKCS7", "CERTIFICATE CHAIN"}
KEY_LABELS = {"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY",
              "ENCRYPTED PRIVATE KEY", "OPENSSH PRIVATE KEY"}
KEY_MARKER = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")

# Attributes a parsed certificate gives, also written onto template nodes that carry a body.
CERT_ATTRS = ("key_algorithm", "key_bits", "signature_hash", "not_before", "not_after", "is_ca",
              "sans", "subject", "issuer", "self_signed", "fingerprint",
              "key_usage", "extended_key_usage", "extensions")
# Attributes of a leaf written with its chain (a PEM bundle, a CertificateChain property).
CHAIN_ATTRS = ("chain", "chain_problem")


def _b64(block: str) -> bytes:
    block = block.replace("\\n", "\n")   # a PEM pasted into a JSON or .env string keeps its \n escapes
    lines = [ln for ln in block.strip().splitlines() if ":" not in ln]   # drop RFC 1421 headers
    try:
        return base64.b64decode("".join(ln.strip() for ln in lines), validate=True)
    except (binascii.Error, ValueError):
        raise MaterialError("invalid base64 in PEM block") from None


def pem_blocks(text: str):
    """(label, body, start, end) of each BEGIN/END pair with the same label, in order.

    The blocks the regex `-----BEGIN (L)-----(.*?)-----END \\1-----` (DOTALL) finds, in linear
    time: that regex scans to the end of the text from every BEGIN line without its END, so a
    file of repeated BEGIN lines took quadratic time. Here each END is found once, by label.
    """
    ends: dict[str, list[int]] = {}
    for m in _END.finditer(text):
        ends.setdefault(m.group(1), []).append(m.start())
    resume = 0
    for m in _BEGIN.finditer(text):
        label = m.group(1)
        if m.start() < resume or label not in ends:
            continue
        body = m.start() + len(f"-----BEGIN {label}-----")
        at = ends[label]
        i = bisect_left(at, body)
        if i < len(at):
            resume = at[i] + len(f"-----END {label}-----")
            yield label, text[body:at[i]], m.start(), resume


def parse_text(text: str) -> tuple[list[Material], list[str]]:
    """Every certificate and private key in a text; errors are one line each, no key material."""
    found, errors = [], []
    for label, block, start, end in pem_blocks(text):
        label = label.strip()
        if label not in CERT_LABELS | PKCS7_LABELS | KEY_LABELS:
            continue
        try:
            from . import material

            body = _b64(block)
            if label in KEY_LABELS:
                found.append(Material("private_key", material.key_block(label, block, body), start, end))
            else:
                decode = material.pkcs7_certificates if label in PKCS7_LABELS else material.der_certificates
                found.extend(Material("certificate", attrs, start, end, der) for attrs, der in decode(body))
        except MaterialError as exc:
            errors.append(str(exc))
        except Exception as exc:  # noqa: BLE001  hostile input raises many types; one block never stops a scan
            errors.append(f"unreadable {label.lower()} ({type(exc).__name__})")
    if not found and not errors and KEY_MARKER.search(text):
        errors.append("private key block without a matching END line")
    return found, errors


def parse_der(data: bytes) -> Material:
    """A DER certificate or (unencrypted PKCS#8) private key."""
    from . import material

    return material.der(data)


def holds_private_key(text: str) -> bool:
    return bool(KEY_MARKER.search(text))


_KEY_END = re.compile(r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----")
_BODY_LINE = re.compile(r"[A-Za-z0-9+/=\s\\\"':,-]*")   # base64, RFC 1421 headers, string escapes
REDACTED = "[private key redacted]"


def redact(text: str) -> str:
    """The text with the body of every private key block replaced, line for line, by REDACTED:
    for what quotes input back (errors, diffs, messages). The BEGIN/END lines stay, so a reader
    sees what was there, and so do the line breaks, so line numbers and diff hunks stay right.
    A block with no END line is redacted up to the first line that cannot be part of it."""
    if "PRIVATE KEY-----" not in text:
        return text
    ends = [m.start() for m in _KEY_END.finditer(text)]
    out, pos = [], 0
    for m in KEY_MARKER.finditer(text):
        if m.start() < pos:
            continue
        i = bisect_left(ends, m.end())
        end = ends[i] if i < len(ends) else _body_end(text, m.end())
        out += [text[pos:m.end()], _redact_lines(text[m.end():end])]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _body_end(text: str, start: int) -> int:
    at = start
    for line in text[start:].splitlines(keepends=True):
        if not _BODY_LINE.fullmatch(line):
            break
        at += len(line)
    return at


def _redact_lines(body: str) -> str:
    lines = body.split("\n")
    for i, line in enumerate(lines):
        content = line.strip()
        if content:
            lines[i] = line[:len(line) - len(line.lstrip())] + REDACTED + ("\r" if line.endswith("\r") else "")
    return "\n".join(lines)


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


def chain_attrs(materials: list[Material]) -> tuple[Material, dict] | None:
    """The leaf of material written as a chain, and its chain attributes.

    A chain is one leaf (not a CA) with the CA certificates that lead to it; a bundle of CA
    certificates only (a trust store) or of several leaves is not one, and is not judged.
    """
    certs = [m for m in materials if m.kind == "certificate" and m.der]
    leaves = [i for i, m in enumerate(certs) if m.attrs.get("is_ca") is not True]
    if len(certs) < 2 or len(leaves) != 1:
        return None
    from . import material

    try:
        return certs[leaves[0]], material.chain_facts([m.der for m in certs], leaves[0])
    except Exception as exc:  # noqa: BLE001  hostile input raises many types (see parse_text)
        why = Unresolved(f"certificate chain unreadable ({type(exc).__name__})")
        return certs[leaves[0]], {a: why for a in CHAIN_ATTRS}


def _certificates(body: Any) -> tuple[list[Material], str | None]:
    materials, errors = parse_text(body)
    certs = [m for m in materials if m.kind == "certificate"]
    return certs, (errors[0] if errors else None if certs else "no PEM certificate in the body")


def apply_certificate_pem(graph: Graph) -> None:
    """Nodes that carry a raw PEM body (`certificate_pem`) get the parsed certificate attributes.

    Run on every graph, whatever its source: an adapter only stores the body it finds
    (IAM server certificate, imported ACM certificate) and the rules see key size,
    signature hash, dates and usage. A chain written beside it (`certificate_chain_pem`) gives
    the chain attributes. The raw bodies are dropped once read.
    """
    for node in graph.nodes.values():
        if "certificate_pem" not in node.attrs:
            continue
        body = node.attrs.pop("certificate_pem")
        where = node.spots.pop("certificate_pem", node.where)
        chain = node.attrs.pop("certificate_chain_pem", None)
        chain_where = node.spots.pop("certificate_chain_pem", where)
        if isinstance(body, Unresolved):
            values = {a: body for a in CERT_ATTRS}
        elif not isinstance(body, str):
            values = {a: Unresolved("certificate body is not a string") for a in CERT_ATTRS}
        else:
            certs, why = _certificates(body)
            if certs:
                values = certs[0].attrs   # the leaf comes first; a chain has its own property
            else:
                values = {a: Unresolved(f"certificate body: {why}") for a in CERT_ATTRS}
            for k, v in _chain_values(certs, chain).items():
                node.set(k, v, chain_where if chain is not None else where)
        for k, v in values.items():
            node.set(k, v, where)


def _chain_values(leaf_certs: list[Material], chain: Any) -> dict:
    """Chain attributes of a body (maybe a bundle itself) and the chain property beside it."""
    if not leaf_certs:
        return {}
    if isinstance(chain, Unresolved):
        return {a: chain for a in CHAIN_ATTRS}
    rest: list[Material] = []
    if isinstance(chain, str):
        rest, why = _certificates(chain)
        if not rest:
            return {a: Unresolved(f"certificate chain: {why}") for a in CHAIN_ATTRS}
    found = chain_attrs(leaf_certs + rest)
    return found[1] if found and found[0] is leaf_certs[0] else {}


def private_key_nodes_in(value, where: Where, owner: str, source: str, path: tuple,
                      skip: Callable[[str], bool] = lambda s: False) -> list[Node]:
    """private_key nodes for every string of a nested value (positions in .pos) holding a key."""
    found: list[Node] = []

    def walk(v, here: Where, path: tuple):
        if isinstance(v, str):
            if holds_private_key(v) and not skip(v):
                found.extend(private_key_nodes(v, owner, source, here, f"{owner}/{'/'.join(map(str, path))}"))
        elif isinstance(v, (dict, list)):
            pos = getattr(v, "pos", None) or ({} if isinstance(v, dict) else [])
            items = v.items() if isinstance(v, dict) else enumerate(v)
            for k, item in items:
                at = pos.get(k) if isinstance(pos, dict) else pos[k] if k < len(pos) else None
                line, col = at if at else (here.line, here.column)
                walk(item, Where(here.file, line, col, path + (k,)), path + (k,))

    walk(value, where, path)
    return found
