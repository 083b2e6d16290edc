"""CSV for spreadsheets: one row per finding, the columns of the JSON report (RFC 4180 quoting).

Findings quote untrusted templates, and a spreadsheet runs a cell that starts with = + - @ (or
a tab or carriage return, which some strip first) as a formula: such a cell gets a leading
apostrophe, OWASP's advice, which spreadsheets show as text and do not run.
"""
from __future__ import annotations

import csv
import io

from ..findings import Finding, ScanResult
from ..model import Where
from . import root_of
from .json_report import finding_dict

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):   # path, wa_sections, suppressions
        return "; ".join(_item(v) for v in value)
    return str(value)


def _item(value) -> str:
    if isinstance(value, dict):   # a suppression: kind, justification, until
        until = f" (until {value['until']})" if value.get("until") else ""
        return f"{value.get('kind', '')}: {value.get('justification', '')}{until}"
    return str(value)


def neutralize(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def render(result: ScanResult, root=None) -> str:
    root = root_of(result, root)
    rows = [finding_dict(f, root) for f in result.findings]
    # The header even when there is no finding: the keys of any finding's JSON form.
    columns = list(rows[0] if rows else finding_dict(Finding(*[""] * 8, where=Where()), root))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")   # RFC 4180: CRLF, quotes doubled, minimal quoting
    writer.writerow(columns)
    for row in rows:
        writer.writerow([neutralize(_cell(row[c])) for c in columns])
    return out.getvalue()
