"""SIGINT, SIGTERM and SIGHUP end a run the way Ctrl-C does: clean up, then exit with one line.

Python's default for SIGTERM and SIGHUP is to die on the spot, leaving temporary outputs and ffmpeg
children behind. Inside :func:`interrupt_signals` the three signals raise :class:`Interrupted` in
the main thread instead, so every ``try/finally`` and ``except BaseException`` cleanup runs (atomic
writers remove their temporary files, readers and writers kill their ffmpeg processes, data loaders
stop their workers). A repeated signal during that cleanup is ignored so it can finish; SIGKILL
cannot be caught, and the next run removes what it leaves (see ``media.atomic``).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                if hasattr(signal, name))


class Interrupted(BaseException):
    """A signal asked the run to stop; ``signum`` says which (exit code ``128 + signum``).

    A ``BaseException`` like ``KeyboardInterrupt``, so ``except Exception`` never swallows it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


@contextmanager
def interrupt_signals() -> Iterator[None]:
    """Turn SIGINT/SIGTERM/SIGHUP into :class:`Interrupted` while the block runs (main thread
    only; a signal the parent set to be ignored, as ``nohup`` does for SIGHUP, stays ignored)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = []

    def handler(signum, _frame):
        if fired:  # cleanup after the first signal is running: let it finish
            return
        fired.append(signum)
        raise Interrupted(signum)

    previous = {}
    for sig in SIGNALS:
        current = signal.getsignal(sig)
        if current in (signal.SIG_DFL, signal.default_int_handler):
            previous[sig] = current
            signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
