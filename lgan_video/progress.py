"""What a person watches: a rich progress bar with rate and ETA, silent when not on a terminal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class _RateColumn(TextColumn):
    """Items per second, e.g. ``23.4 frames/s``."""

    def __init__(self, unit: str) -> None:
        super().__init__("")
        self.unit = unit

    def render(self, task):  # noqa: D102
        speed = task.finished_speed or task.speed
        return f"{speed:.1f} {self.unit}/s" if speed else f"-- {self.unit}/s"


class Bar:
    """Handle returned by :func:`progress`; ``advance(n)`` and ``set_description(text)``."""

    def __init__(self, prog: Progress | None, task_id: int | None) -> None:
        self._prog, self._task = prog, task_id

    def advance(self, n: int = 1) -> None:
        if self._prog is not None:
            self._prog.advance(self._task, n)

    def set_description(self, text: str) -> None:
        if self._prog is not None:
            self._prog.update(self._task, description=text)


@contextmanager
def progress(
    description: str, total: int | None = None, unit: str = "frames", quiet: bool = False,
    console: Console | None = None,
) -> Iterator[Bar]:
    """A progress bar on stderr; disabled with ``quiet`` or when stderr is not a terminal."""
    console = console or Console(stderr=True)
    if quiet or not console.is_terminal:
        yield Bar(None, None)
        return
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TaskProgressColumn(), _RateColumn(unit), TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=False) as prog:
        yield Bar(prog, prog.add_task(description, total=total))
