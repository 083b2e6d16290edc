"""How many worker processes a run uses: one per core for large runs, none for small ones
(the pre-commit case), where starting workers costs more than it saves. Shared by the scan and
by fix planning."""
from __future__ import annotations

import os

PARALLEL_MIN_UNITS = 64


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:   # not on Linux
        return os.cpu_count() or 1


def worker_count(requested: int, units: int) -> int:
    """--jobs N if given (0 = automatic); automatic is one per core above the threshold."""
    if requested > 0:
        return min(requested, max(units, 1))
    return cores() if units >= PARALLEL_MIN_UNITS else 1
