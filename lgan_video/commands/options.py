"""Reusable Click option decorators shared by the commands."""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Callable

import click


class _StderrHandler(logging.StreamHandler):
    """Log records as ``warning: message`` lines on whatever ``sys.stderr`` is at the time."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(_LowerLevelFormatter("%(levelname)s: %(message)s"))

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:  # StreamHandler.__init__ assigns it; stderr is always used
        pass


class _LowerLevelFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace(record.levelname, record.levelname.lower(), 1)


def _log_handler() -> logging.Handler:
    """Logs go to stderr, never stdout (stdout carries only results, e.g. ``--json``): rich
    on a terminal, one plain line per record otherwise."""
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.logging import RichHandler

        return RichHandler(console=Console(stderr=True), show_path=False, show_time=False,
                           markup=False)
    return _StderrHandler()


def _setup_logging(ctx: click.Context, _param: click.Parameter, value: int) -> int:
    level = logging.DEBUG if value else logging.WARNING
    root = logging.getLogger("lgan_video")
    if not root.handlers:
        root.addHandler(_log_handler())
    root.setLevel(level)
    return value


class FiniteFloat(click.FloatRange):
    """A ``click.FloatRange`` that also refuses ``nan`` and ``inf`` (which pass every comparison
    or no comparison at all, and would fail deep inside the work)."""

    name = "finite float"

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


def common_options(f: Callable) -> Callable:
    """``-q/--quiet`` (no progress bar) and ``-v/--verbose`` (debug logging, tracebacks)."""
    f = click.option("-q", "--quiet", is_flag=True, help="No progress display.")(f)
    f = click.option(
        "-v", "--verbose", count=True, expose_value=False, is_eager=True,
        callback=_setup_logging, help="Debug logging and full tracebacks.",
    )(f)
    return f


SEED = click.IntRange(0, 2**63 - 1)
"""A seed: torch generators take any integer in ``[0, 2**63)``."""

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
overwrite_option = click.option(
    "--overwrite", is_flag=True, help="Replace an existing output (never done silently)."
)
start_option = click.option(
    "--start", default=None, metavar="TIME|Nf",
    help="Where to begin: seconds (12.5), [hh:]mm:ss(.ms), or a frame index with an f (120f).",
)
frames_option = click.option(
    "--frames", "max_frames", type=click.IntRange(min=1), default=None,
    help="Process at most this many frames.",
)
stride_option = click.option(
    "--stride", type=click.IntRange(min=1), default=1, show_default=True,
    help="Keep every Nth frame (the output fps is divided by N).",
)
size_option = click.option(
    "--size", type=click.IntRange(min=16), default=None, metavar="PX",
    help="Resize so the short side is PX, keeping the aspect ratio.",
)
precision_option = click.option(
    "--precision", type=click.Choice(["auto", "fp32", "bf16", "fp16"]), default="auto",
    show_default=True,
    help="auto: bf16 (else fp16) on CUDA, bf16 on CPUs with native bf16 (AVX512-BF16/AMX), "
         "else fp32. fp16 is CUDA only.",
)
threads_option = click.option(
    "--threads", type=click.IntRange(min=1), default=None, metavar="N",
    help="CPU threads to use, shared by the networks, structure maps, OpenCV and ffmpeg. "
         "[default: the cores available]",
)
