"""Progress of a live scan on a terminal (rich, on stderr): accounts and service-regions done,
errors so far. Nothing is drawn when stderr is not a terminal or with --quiet."""
from __future__ import annotations

import threading


class LiveProgress:
    """Called by the live reader as each (account, region, service) job ends, from its threads."""

    def __init__(self, stream, jobs: list[tuple[str, str, str]], accounts_failed: int = 0):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._left: dict[str, int] = {}
        for account, _, _ in jobs:
            self._left[account] = self._left.get(account, 0) + 1
        self._accounts, self._done_accounts, self._errors = len(self._left), 0, accounts_failed
        self._lock = threading.Lock()
        self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TextColumn("service-regions"), TimeElapsedColumn(),
                             console=Console(file=stream), transient=True)
        self._task = self._bar.add_task(self._describe(), total=len(jobs))

    def _describe(self) -> str:
        return f"accounts {self._done_accounts}/{self._accounts}, errors {self._errors}"

    def __enter__(self) -> "LiveProgress":
        self._bar.start()
        return self

    def __exit__(self, *_) -> None:
        self._bar.stop()

    def __call__(self, account: str, error: BaseException | None) -> None:
        with self._lock:
            self._left[account] -= 1
            self._done_accounts += self._left[account] == 0
            self._errors += error is not None
            self._bar.update(self._task, advance=1, description=self._describe())
