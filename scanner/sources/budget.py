"""How much one unit's evaluation may build before its values become Unresolved.

Expressions can make values far larger than the text that writes them: Terraform locals that
each repeat the one before eight times (1 KB of HCL, 8**12 characters), nested `for` over a few
thousand items, CloudFormation `Fn::Sub` chains through parameter defaults. The evaluators
spend from one Budget per unit: a string built costs its length, a list or map element
ELEMENT, an expression evaluated or intrinsic resolved EXPRESSION (the slow part), and a
value referenced again costs its size again (whoever reads it later walks it once per
reference). Past the limit every value is Unresolved and the unit gets one input error.
Real configurations stay far below it: the largest unit of the test corpus spends under 1/20.
"""
from __future__ import annotations

from ..errors import InputError
from ..model import Unresolved

LIMIT = 64 * 1024 * 1024   # 64 Mi characters, or 2 Mi elements, or 128 Ki expressions
ELEMENT = 32               # about the bytes one element holds, and the time to walk it in characters
EXPRESSION = 512           # a few seconds for LIMIT on a loaded machine
MODULE = 64 * 1024         # a Terraform module read for one more call: at most 1024 a unit
EXHAUSTED = Unresolved("values built exceed the evaluation budget")


class Budget:
    def __init__(self, limit: int = LIMIT):
        self.limit = limit
        self.left = limit
        self.where: tuple[str, int] | None = None   # first file and line evaluated past the limit

    @property
    def exhausted(self) -> bool:
        return self.left < 0

    def spend(self, cost: int) -> bool:
        """Take cost from the budget; False once it is gone."""
        self.left -= cost
        return self.left >= 0

    def spend_on(self, value):
        """A value referenced once more: its size taken, or EXHAUSTED. The walk stops as soon as
        the budget is gone, so measuring costs no more than what it charges."""
        stack = [value]
        while stack:
            v = stack.pop()
            if isinstance(v, str):
                self.left -= len(v)
            else:
                self.left -= ELEMENT
                if isinstance(v, dict):
                    stack.extend(v.values())
                elif isinstance(v, list):
                    stack.extend(v)
            if self.left < 0:
                return EXHAUSTED
        return value

    def blame(self, file: str, line: int, value):
        """Remember the first place evaluated after the budget ran out; value passes through."""
        if self.left < 0 and self.where is None:
            self.where = (file, line)
        return value

    def errors(self, unit: str) -> list[InputError]:
        """The unit's one input error once the budget ran out (at the place blamed, if any)."""
        if not self.exhausted:
            return []
        file, line = self.where or (unit, 0)
        return [InputError(file, f"evaluation stopped: values built exceed {self.limit // (1024 * 1024)} MiB "
                                 "(an expression that multiplies its input?); what depends on them is unresolved", line)]
