"""Certificate and key material files (PEM text, DER binaries) into `certificate` and
`private_key` nodes. One file is one unit; each block is one node, located at its BEGIN line.
"""
from __future__ import annotations

import os

from .. import certs
from ..errors import InputError
from ..model import Graph, Node, Where

DER_EXTS = {".der", ".cer", ".crt", ".key", ".p7b"}


def _node_name(path: str, index: int) -> str:
    base = os.path.basename(path)
    return base if index == 1 else f"{base}#{index}"


def _graph(path: str, materials: list[certs.Material], text: str | None) -> Graph:
    graph = Graph(unit=path, source="pem")
    chain = certs.chain_attrs(materials)   # a leaf with the CA certificates that lead to it
    for i, m in enumerate(materials, 1):
        line = text.count("\n", 0, m.offset) + 1 if text is not None else 0
        end = text.count("\n", 0, m.end) + 1 if text is not None else 0
        where = Where(path, line, 1 if line else 0, end_line=end)   # the block: a suppression's extent
        node = Node(id=f"{path}#{i}", kind=m.kind, name=_node_name(path, i), source="pem", where=where,
                    type="X.509 certificate" if m.kind == "certificate" else "private key")
        node.attrs.update(m.attrs)
        if chain is not None and chain[0] is m:
            node.attrs.update(chain[1])
        graph.add(node)
    return graph


def read(path: str, data: bytes) -> tuple[list[Graph], list[InputError]]:
    """A material file; never raises. Errors name the file and never quote its content."""
    text = None
    if b"-----BEGIN " in data:
        text = data.decode("utf-8", errors="replace")
        materials, problems = certs.parse_text(text)
    elif os.path.splitext(path)[1].lower() in DER_EXTS:
        try:
            materials, problems = [certs.parse_der(data)], []
        except certs.MaterialError as exc:
            materials, problems = [], [str(exc)]
    else:
        return [], []
    errors = [InputError(path, p) for p in problems]
    if not materials:
        return [], errors
    return [_graph(path, materials, text)], errors
