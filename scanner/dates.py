"""Dates as the model holds them (`when`), and as ACM Private CA writes them in every source: a
Validity or ValidityNotBefore is a (type, value) pair, relative (DAYS, MONTHS, YEARS) or fixed
(ABSOLUTE epoch seconds, END_DATE YYYYMMDDHHMMSS)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from .model import Unresolved

def when(value: Any) -> Any:
    """A date attribute as an aware datetime; False when absent (a check's None means unknown)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return value if isinstance(value, Unresolved) else False


_UNIT_DAYS = {"DAYS": 1, "MONTHS": 30.4375, "YEARS": 365.25}
_BAD = (ValueError, OverflowError, OSError, TypeError)


def _fixed(vtype: str, value: Any) -> datetime | None:
    """The moment a fixed type names; None for a relative one. Raises on a value it cannot read."""
    if vtype == "ABSOLUTE":
        return datetime.fromtimestamp(int(value), tz=timezone.utc)
    if vtype == "END_DATE":
        return datetime.strptime(str(value), "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    return None


def pca_not_before(vtype: Any, value: Any) -> Any:
    """The start a ValidityNotBefore gives, when it is a date. A relative start counts from
    issuance, which is never in the future: None."""
    for v in (vtype, value):
        if isinstance(v, Unresolved):
            return v
    try:
        return _fixed(str(vtype).upper(), value)
    except _BAD:
        return Unresolved(f"validity start {vtype} {value} not understood")


def validity_end(validity: Any, now: datetime) -> Any:
    """The NotAfter a Validity (type, value) gives when issued at `now`."""
    if isinstance(validity, Unresolved):
        return validity
    vtype, value = validity
    for v in (vtype, value):
        if isinstance(v, Unresolved):
            return v
    vtype = str(vtype).upper()
    try:
        if vtype in _UNIT_DAYS:
            return now + timedelta(days=float(value) * _UNIT_DAYS[vtype])
        end = _fixed(vtype, value)
        if end is not None:
            return end
    except _BAD:
        pass
    return Unresolved(f"validity {vtype} {value} not understood")
