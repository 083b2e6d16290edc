"""Snapshots: what a live scan read, written once (`certwarden live -o snapshot=FILE`) and
evaluated again offline (`certwarden scan FILE`), with today's rules and policy file.

A snapshot is JSON (gzip-compressed when its name ends in .gz): one entry per account with the
normalized nodes (kind, name, ARN, region, attributes) and edges of its graph, plus the read
errors of the run. It is recognized by content: the first key is "certwarden_snapshot".

Attribute values are kept with their types: plain JSON where JSON has the type, otherwise a
one-key object naming it ({"$datetime": ...}, {"$Unresolved": ...}, {"$Policy": ...}), so the
rules see exactly what they saw in the live run. Collectors never read a secret value or a
private key; as a second line of defence, a string holding a PEM private key block is never
written.
"""
from __future__ import annotations

import dataclasses
import json
import zlib
from datetime import date, datetime
from typing import Any

from .. import __version__
from ..errors import InputError
from ..model import Edge, Graph, Node, Unresolved, Where
from ..policy import Policy, Statement
from .loader import bracket_depth_over

FORMAT = 1
MAX_UNPACKED = 512 * 1024 * 1024   # a gzip that expands past this is refused (a "zip bomb")
_TYPES = {cls.__name__: cls for cls in (Unresolved, Where, Policy, Statement)}
_PRIVATE_KEY = "PRIVATE KEY-----"
REDACTED = "<private key: not written>"


class SnapshotError(ValueError):
    """A snapshot that cannot be written or read; one line."""


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return REDACTED if _PRIVATE_KEY in value else value
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v) for v in value]}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise SnapshotError(f"a mapping with keys that are not strings: {list(value)[:3]}")
        out = {k: _encode(v) for k, v in value.items()}
        return {"$dict": out} if any(k.startswith("$") for k in value) else out
    name = type(value).__name__
    if name in _TYPES and isinstance(value, _TYPES[name]):
        fields = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)
                  if getattr(value, f.name) != f.default}   # Where(): most fields are empty
        return {f"${name}": fields}
    raise SnapshotError(f"cannot write a {name} value")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (key, inner), = value.items()
        if key == "$tuple":
            return tuple(_decode(v) for v in inner)
        if key == "$datetime":
            return datetime.fromisoformat(inner)
        if key == "$date":
            return date.fromisoformat(inner)
        if key == "$dict":
            return {k: _decode(v) for k, v in inner.items()}
        if key.startswith("$") and key[1:] in _TYPES:
            return _TYPES[key[1:]](**{k: _decode(v) for k, v in inner.items()})
    return {k: _decode(v) for k, v in value.items()}


def _node(node: Node) -> dict:
    w = node.where
    out = {"id": node.id, "kind": node.kind, "name": node.name, "type": node.type, "arn": w.arn,
           "region": w.region, "account": w.account, "attrs": _encode(node.attrs)}
    spots = {attr: _encode(where) for attr, where in node.spots.items() if where != w}
    if spots:
        out["spots"] = spots
    return out


def dump(graphs: list[Graph], errors: list[InputError], read: int, read_at: datetime) -> str:
    """The snapshot of a live run, as JSON text."""
    doc = {"certwarden_snapshot": FORMAT, "tool": {"name": "certwarden", "version": __version__},
           "read_at": read_at.isoformat(), "service_regions_read": read,
           "errors": [{"place": e.file, "message": e.message} for e in errors],
           "accounts": [{"unit": g.unit, "nodes": [_node(n) for n in g.nodes.values()],
                         "edges": [[e.src, e.dst, e.kind] for e in g.edges]} for g in graphs]}
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def looks_like(data: bytes) -> bool:
    """A snapshot by content: gzip, or JSON whose first key is certwarden_snapshot."""
    return data[:2] == b"\x1f\x8b" or b'"certwarden_snapshot"' in data[:64]


def _unpack(data: bytes) -> bytes:
    if data[:2] != b"\x1f\x8b":
        return data
    inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflate.decompress(data, MAX_UNPACKED)
    except zlib.error as exc:
        raise SnapshotError(f"not a readable gzip file ({exc})") from None
    if inflate.unconsumed_tail:
        raise SnapshotError(f"expands to more than {MAX_UNPACKED // (1024 * 1024)} MiB")
    if not inflate.eof:
        raise SnapshotError("not a readable gzip file (truncated)")
    return out


def _graph(account: dict) -> Graph:
    graph = Graph(unit=account["unit"], source="live")
    for n in account["nodes"]:
        where = Where(arn=n["arn"], region=n["region"], account=n["account"])
        node = Node(id=n["id"], kind=n["kind"], name=n["name"], source="live", where=where, type=n["type"],
                    attrs=_decode(n["attrs"]), spots={a: _decode(s) for a, s in n.get("spots", {}).items()})
        graph.add(node)
    graph.edges = [Edge(*e) for e in account["edges"]]
    return graph


def read(path: str, data: bytes) -> tuple[list[Graph], list[InputError]]:
    """The account graphs and read errors of a snapshot; one InputError naming the file when it
    is not a snapshot this version can read."""
    try:
        text = _unpack(data)
        if bracket_depth_over(text, 64):
            raise SnapshotError("nesting deeper than a snapshot's")
        doc = json.loads(text)
        if not isinstance(doc, dict) or "certwarden_snapshot" not in doc:
            if data[:2] == b"\x1f\x8b":
                return [], [InputError(path, "gzip file that is not a certwarden snapshot")]
            return [], []
        if doc["certwarden_snapshot"] != FORMAT:
            raise SnapshotError(f"snapshot format {doc['certwarden_snapshot']!r}; this certwarden reads {FORMAT}")
        graphs = [_graph(account) for account in doc["accounts"]]
        errors = [InputError(e["place"], e["message"]) for e in doc["errors"]]
    except SnapshotError as exc:
        return [], [InputError(path, f"snapshot: {exc}")]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:   # JSON, or not a snapshot's shape
        return [], [InputError(path, f"not a readable certwarden snapshot ({type(exc).__name__}: {str(exc)[:80]})")]
    return graphs, errors

