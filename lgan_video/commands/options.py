"""Reusable Click option decorators shared by the commands."""

from __future__ import annotations

import logging
from collections.abc import Callable

import click
from rich.logging import RichHandler


def _setup_logging(ctx: click.Context, _param: click.Parameter, value: int) -> int:
    level = logging.DEBUG if value else logging.WARNING
    root = logging.getLogger("lgan_video")
    if not root.handlers:
        root.addHandler(RichHandler(show_path=False, show_time=False, markup=False))
    root.setLevel(level)
    return value


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
