"""The values Terraform evaluation produces besides plain Python ones (str, int, float, bool,
None, PosDict, PosList): a reference to a resource is a Ref (adapters draw edges and folds from
it); anything known only after apply is Unresolved; a string with unknown parts is PartialText,
still unresolved but keeping the known text so a JSON policy written as a template can be read
around its holes. Light on purpose: the cache's codec imports it without the HCL parser.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...model import Unresolved

HOLE = "\x00?\x00"        # stands for an unknown part of a PartialText


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference to a resource of the module (address with its module prefix)."""

    address: str
    attr: str | None = None


@dataclass(frozen=True, slots=True)
class PartialText(Unresolved):
    text: str = ""
    line: int = 0


class Text(str):
    """A string literal that remembers the line its content starts on (heredocs, policies)."""

    line: int = 0


class FileText(str):
    """The content of a file read with file(): it is scanned as a file of its own too, so what it
    holds (a private key) is reported there, not again where the configuration reads it."""

    path: str = ""


def unknown(reason: str) -> Unresolved:
    return Unresolved(reason)


def is_known(v: Any) -> bool:
    return not isinstance(v, (Unresolved, Ref))


def to_text(v: Any) -> Any:
    """A value as it reads inside a string template; Unresolved when it is not known."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, Unresolved):
        return v
    if isinstance(v, Ref):
        return unknown(f"{v.address}.{v.attr or 'id'} is known only after apply")
    return unknown("a collection inside a string")
