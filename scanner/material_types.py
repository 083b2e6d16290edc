"""What a key or certificate block decodes to, for both sides of the decoding: certs.py finds
and describes the blocks, material.py decodes them with cryptography."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


class MaterialError(ValueError):
    """A block that looks like key or certificate material but cannot be read."""


@dataclass
class Material:
    kind: str                    # certificate | private_key
    attrs: dict = field(default_factory=dict)
    offset: int = 0              # character offsets of the block in the text (0 for DER)
    end: int = 0
    der: bytes = b""             # a certificate's DER, for checking the chain it belongs to


def fingerprint(data: bytes) -> str:
    return "SHA256:" + hashlib.sha256(data).hexdigest()
