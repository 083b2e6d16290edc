"""What one run is asked to do, as the CLI parsed it: shared by the file scan and the live scan,
so neither imports the other for it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .config import Config

SEVERITY_ORDER = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


@dataclass
class Options:
    excludes: tuple[str, ...] = ()
    strict: bool = False
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    config: Config = field(default_factory=Config)   # the policy: params, profiles, severities
    root: Path | None = None                          # repository root; found above the first path if None
    catalog: tuple = ()       # every rule a suppression may name (default: the rules run)
    var_files: tuple[str, ...] = ()                   # Terraform --var-file, for every root module
    jobs: int = 0                 # worker processes; 0 = one per core for large trees
    cache_dir: str | None = None  # --cache DIR: reuse the graphs of unchanged units
    force_exclude: bool = False   # excludes apply to files named explicitly too
