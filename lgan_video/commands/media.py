"""`probe` and `extract`: thin commands over :mod:`lgan_video.media` and :mod:`lgan_video.extract`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from lgan_video.commands.options import (
    FiniteFloat,
    common_options,
    frames_option,
    json_option,
    overwrite_option,
    size_option,
    start_option,
    stride_option,
)


@click.command()
@click.argument("input", type=click.Path(path_type=Path))
@json_option
@common_options
def probe(input: Path, as_json: bool, quiet: bool) -> None:
    """Show what INPUT holds: kind, size, exact fps, frame count, duration, rotation, audio.

    INPUT is a video (mp4, avi, mov, mkv, webm), an animated GIF/WebP, a folder of frames or an
    image.

    \b
    Examples:
      lgan-video probe clip.mp4
      lgan-video probe frames/ --json
      lgan-video probe ./-odd-name.mp4
    """
    from lgan_video.media import probe as probe_media

    info = probe_media(input)
    if as_json:
        click.echo(json.dumps(info.to_dict(), indent=2))
    else:
        _print_info(info)


def _print_info(info) -> None:
    from rich.console import Console
    from rich.table import Table

    from lgan_video.media import format_fps

    table = Table(title=str(info.path), show_header=False)
    for name, value in [
        ("kind", info.kind), ("size", f"{info.width}x{info.height}"), ("fps", format_fps(info.fps)),
        ("frames", info.frame_count), ("duration", _seconds(info.duration)),
        ("rotation", f"{info.rotation}°"), ("audio", "yes" if info.has_audio else "no"),
    ]:
        table.add_row(name, str(value))
    Console().print(table)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f} s"


@click.command()
@click.argument("input", type=click.Path(path_type=Path))
@click.argument("output", type=click.Path())  # str: a trailing slash means a folder
@click.option("--mode", type=click.Choice(["edge", "seg"]), default="edge", show_default=True,
              help="Canny edges (dark lines on white) or colour-coded segments.")
@size_option
@start_option
@frames_option
@stride_option
@click.option("--temporal", type=FiniteFloat(0.0, 0.95), default=0.5, show_default=True,
              help="Map stabilization over time (0 = none).")
@click.option("--model", default="default", show_default=True, metavar="PATH|default",
              help="Bundle whose map settings to use (the maps its render computes).")
@overwrite_option
@json_option
@common_options
def extract(input: Path, output: str, as_json: bool, **kw) -> None:
    """Write the structure maps of INPUT's frames to OUTPUT.

    OUTPUT's suffix picks the format: .mp4, .gif, .webp, or a folder of PNGs (no suffix or a
    trailing slash). Maps are what the mapping network of --model sees, drawn for people
    (edge maps with tones: dark lines over grey tones).

    \b
    Examples:
      lgan-video extract clip.mp4 edges.mp4
      lgan-video extract clip.mp4 segs.gif --mode seg --size 256 --frames 48
      lgan-video extract frames/ maps/ --start 2.5 --stride 2 --overwrite
    """
    from lgan_video.extract import extract_maps

    summary = extract_maps(input, output, **kw)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    elif not kw["quiet"]:
        click.echo(f"{summary['frames']} {summary['mode']} maps "
                   f"({summary['width']}x{summary['height']}) -> {summary['output']}")


COMMANDS = [probe, extract]
