"""What a scan reads as a whole (a unit), and which source adapter reads it.

A unit is one file for CloudFormation, plans and PEM material, one directory for a Terraform
module. Units are independent of each other, which is what lets them be cached and read in
parallel.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from . import sources
from .findings import InputError
from .model import Graph
from .sources.files import ReadError, open_regular

# What makes a module read files that are not its members: a local module call, file() and kin.
# [ \t], not \s: under re.M, ^\s* scans every blank line below each line start (quadratic).
_READS_ELSEWHERE = re.compile(rb'^[ \t]*source[ \t]*=[ \t]*"\.\.?/|\b(?:file|filebase64|templatefile)\s*\(', re.M)


@dataclass(frozen=True)
class Unit:
    kind: str                          # "file" | "module"
    path: str                          # the file, or the module directory
    explicit: bool = False             # named on the command line: report it even if it is no template
    files: tuple[str, ...] = ()        # a module's .tf files
    var_files: tuple[str, ...] = ()    # Terraform --var-file, read with every root module
    roots: tuple[str, ...] = ()        # the scanned directories (real paths): the only places read

    def members(self) -> tuple[str, ...] | None:
        """Every file the unit's graphs depend on, or None when that is not known without reading
        it (a module calling local modules or reading files with file())."""
        if self.kind == "file":
            return (self.path,)
        for path in self.files:
            try:
                with open_regular(path) as fh:
                    if _READS_ELSEWHERE.search(fh.read()):
                        return None
            except (ReadError, OSError):
                return None
        try:
            tfvars = sorted(os.path.join(self.path, n) for n in os.listdir(self.path) if ".tfvars" in n)
        except OSError:
            return None
        return (*self.files, *tfvars, *self.var_files)


def read_unit(unit: Unit) -> tuple[list[Graph], list[InputError], list[str]]:
    """Graphs, one-line errors and notices of one unit; never raises on bad input."""
    if unit.kind == "module":
        return sources.read_module(unit.path, list(unit.files), unit.var_files, unit.roots)
    graphs, errors = sources.read_file(unit.path, explicit=unit.explicit, roots=unit.roots or None)
    return graphs, errors, []
