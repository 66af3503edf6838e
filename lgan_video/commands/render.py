"""`render`, `interpolate`, `batch` and `info`: thin commands over the library."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from lgan_video.commands.options import (
    SEED,
    FiniteFloat,
    common_options,
    frames_option,
    json_option,
    overwrite_option,
    precision_option,
    start_option,
    stride_option,
    threads_option,
)
from lgan_video.ink import DEFAULT_INK

model_option = click.option(
    "--model", default="default", show_default=True, metavar="PATH|default",
    help="A model bundle folder, or 'default' for the one shipped with the package.",
)
mode_option = click.option(
    "--mode", type=click.Choice(["edge", "seg"]), default="seg", show_default=True,
    help="Structure map the mapping network paints from: colour segments (layout, light and "
         "dark: the default) or Canny edges (with the lightness tones the model's edge maps "
         "carry; lines inked by --ink).",
)
device_option = click.option(
    "--device", type=click.Choice(["auto", "cpu", "cuda", "mps"]), default="auto",
    show_default=True, help="auto: CUDA, then MPS, then CPU.",
)


def _seeds(seed: int | None, seeds: str | None) -> tuple[int, ...]:
    from lgan_video.latents import parse_seeds

    if seed is not None and seeds is not None:
        raise click.UsageError("give --seed or --seeds, not both")
    return tuple(parse_seeds(seeds)) if seeds is not None else (seed if seed is not None else 0,)


def render_options(f):
    """Options shared by `render` and `batch`."""
    for opt in reversed([
        mode_option, model_option,
        click.option("--seed", type=SEED, default=None, help="One G1 seed: a fixed look. [default: 0]"),
        click.option("--seeds", default=None, metavar="3,14,15",
                     help="Seeds the look walks through (slerp with easing); ranges like 1-4 work."),
        click.option("--style", default=None, metavar="IMG[,IMG...]",
                     help="Take the look from these pictures instead of G1, walking between them."),
        click.option("--style-period", type=FiniteFloat(min=0.1), default=4.0,
                     show_default=True,
                     help="Seconds spent going from one seed's (or picture's) look to the next."),
        click.option("--scale", type=click.Choice(["1", "2", "3", "4"]), default=None,
                     help="Output upscale; 1 skips SR. [default: the model's SR scale]"),
        click.option("--size", type=click.IntRange(min=16), default=None, metavar="PX",
                     help="Short side the mapping network works at. [default: the model's]"),
        click.option("--batch-size", type=click.IntRange(min=1), default=8, show_default=True,
                     help="Frames per network call (larger is faster on a GPU)."),
        click.option("--temporal", type=FiniteFloat(0.0, 0.95), default=0.5,
                     show_default=True, help="Map stabilization over time (0 = none)."),
        click.option("--stabilize", type=click.FloatRange(0.0, 1.0), default=0.9,
                     show_default=True,
                     help="Output stabilization along the input's optical flow (0 = off)."),
        click.option("--ink", type=click.FloatRange(0.0, 1.0), default=DEFAULT_INK, show_default=True,
                     help="Edge mode: darken the painting along the edge map's lines by this "
                          "much (0 = the network's output alone)."),
        device_option, precision_option, threads_option, start_option, frames_option,
        stride_option,
        click.option("--stages", is_flag=True,
                     help="Write the panel [frame | map | translated | upscaled] instead."),
        click.option("--no-audio", is_flag=True, help="Drop the input's audio track."),
        overwrite_option, common_options,
    ]):
        f = opt(f)
    return f


def _render_kwargs(kw: dict) -> dict:
    """Click's option values -> the library's keyword arguments."""
    from lgan_video.looks import parse_style

    if kw["style"] is not None and (kw["seed"] is not None or kw["seeds"] is not None):
        raise click.UsageError("give --style or --seed/--seeds, not both")
    kw["style"] = parse_style(kw["style"]) if kw["style"] is not None else ()
    kw["seeds"] = _seeds(kw.pop("seed"), kw.pop("seeds"))
    kw["scale"] = int(kw["scale"]) if kw["scale"] else None
    kw["audio"] = not kw.pop("no_audio")
    return kw


@click.command()
@click.argument("input", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="MP4, GIF, WebP or a folder (by suffix). [default: <input stem>_lgan.mp4]")
@render_options
@json_option
def render(input: Path, output: Path | None, as_json: bool, **kw) -> None:
    """Stylize a video, GIF, image or frame folder with the LGAN pipeline.

    \b
    Examples:
      lgan-video render clip.mp4
      lgan-video render clip.mp4 --mode edge --seeds 3,14,15 --style-period 2 -o out.gif
      lgan-video render clip.mp4 --mode edge --ink 0.8   # darker outlines (0: none)
      lgan-video render frames/ --stages -o panel.mp4 --frames 48
      lgan-video render clip.mp4 --mode seg --style monet.jpg,ukiyoe.png --style-period 3
      lgan-video render talk.mov --size 256 --scale 2 --device cuda --batch-size 32
      lgan-video render clip.mp4 --precision fp32 --threads 2
    """
    from lgan_video.render import render as render_video

    result = render_video(input, output, **_render_kwargs(kw))
    _report(result.to_dict(), as_json, kw["quiet"],
            f"wrote {result.output}: {result.frames} frames at {result.fps} fps, "
            f"{result.size[0]}x{result.size[1]}, {result.seconds:.1f} s")


def _report(data: dict, as_json: bool, quiet: bool, line: str) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2))
    elif not quiet:
        click.echo(line)


@click.command()
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("walk.gif"),
              show_default=True, help="GIF, MP4, WebP or a folder (by suffix).")
@model_option
@click.option("--seeds", default="1,7,42", show_default=True, help="Seeds the walk visits.")
@click.option("--frames-per-seed", type=click.IntRange(min=1), default=24, show_default=True)
@click.option("--loop", is_flag=True, help="Close the walk seamlessly back to the first seed.")
@click.option("--grid", default=None, metavar="ROWSxCOLS", help="A grid of walks, e.g. 3x3.")
@click.option("--stages", is_flag=True, help="Show G1 | map | translated | upscaled per frame.")
@mode_option
@click.option("--fps", type=FiniteFloat(min=1, max=100), default=12.0, show_default=True)
@click.option("--size", type=click.IntRange(16, 4096), default=256, show_default=True,
              help="Display size of each G1 image (without --stages).")
@click.option("--style", default=None, metavar="IMG[,IMG...]",
              help="With --stages: paint the walk in these pictures' looks instead of G1's.")
@device_option
@precision_option
@overwrite_option
@common_options
@json_option
def interpolate(seeds: str, style: str | None, as_json: bool, **kw) -> None:
    """Write a G1 latent walk: the generator's looks morphing into each other.

    \b
    Examples:
      lgan-video interpolate --seeds 1,7,42 --loop -o walk.gif
      lgan-video interpolate --stages --loop --mode seg -o steps.mp4
      lgan-video interpolate --grid 3x3 --frames-per-seed 12 -o grid.gif
      lgan-video interpolate --stages --mode seg --style a.jpg,b.jpg -o painted.gif
    """
    from lgan_video.interpolate import interpolate as walk
    from lgan_video.latents import parse_seeds
    from lgan_video.looks import parse_style

    kw["style"] = parse_style(style) if style is not None else ()
    result = walk(seeds=tuple(parse_seeds(seeds)), **kw)
    _report(result.to_dict(), as_json, kw["quiet"],
            f"wrote {result.output}: {result.frames} frames at {result.fps} fps")


def ray_options(f):
    """`batch` options for running on a Ray cluster (all but --ray need --ray)."""
    for opt in reversed([
        click.option("--ray", "ray_address", is_flag=False, flag_value="local", default=None,
                     metavar="[ADDRESS]",
                     help="Run on a Ray cluster: alone (after the folders), the one `ray start` "
                          "made on this machine, else a new local one; or 'auto', HOST:PORT, "
                          "ray://HOST:10001."),
        click.option("--workers", type=click.IntRange(min=1), default=None,
                     help="Ray workers, each loading the model once. "
                          "[default: as many as the cluster's CPUs and GPUs hold]"),
        click.option("--gpus-per-worker", type=click.FloatRange(min=0), default=0.0,
                     show_default=True, help="GPU share of each worker (0.5: two per GPU)."),
        click.option("--threads-per-worker", type=click.IntRange(min=1), default=1,
                     show_default=True, help="CPU threads of each worker (and Ray CPUs it takes)."),
        click.option("--retries", type=click.IntRange(min=0), default=2, show_default=True,
                     help="Re-runs of a job whose worker process died."),
    ]):
        f = opt(f)
    return f


@click.command()
@click.argument("input_dir", type=click.Path(path_type=Path))
@click.argument("output_dir", type=click.Path(path_type=Path))
@click.option("--pattern", default="*", show_default=True, help="Glob on input names.")
@click.option("--format", "suffix", type=click.Choice([".mp4", ".gif", ".webp"]),
              default=".mp4", show_default=True, help="Output format of every job.")
@click.option("--shard", default="0/1", show_default=True, metavar="I/N",
              help="Run only jobs I, I+N, ...: split one batch over N machines.")
@ray_options
@render_options
@json_option
def batch(input_dir: Path, output_dir: Path, shard: str, as_json: bool, **kw) -> None:
    """Render every video, GIF and frame folder in INPUT_DIR into OUTPUT_DIR.

    Finished outputs are skipped, so re-running a crashed batch resumes it. A failing input is
    reported and the others go on; the exit code is 1 if any failed. With --ray, a pool of Ray
    workers renders one input each at a time; both folders must be on storage every node sees.

    \b
    Examples:
      lgan-video batch clips/ out/ --mode edge
      lgan-video batch clips/ out/ --pattern '*.mov' --format .gif --seeds 1,2,3
      lgan-video batch clips/ out/ --shard 0/4   # on machine 0 of 4
      lgan-video batch /shared/clips /shared/out --ray auto --gpus-per-worker 0.5
      lgan-video batch clips/ out/ --ray --workers 2 --device cpu
    """
    from lgan_video.batch import parse_shard, run_batch

    quiet, ray_kw = kw["quiet"], _ray_kwargs(kw)
    if ray_kw:
        from lgan_video.batch_ray import run_batch_ray as run_batch
    outcomes = run_batch(input_dir, output_dir, shard=parse_shard(shard),
                         on_outcome=None if (quiet or as_json) else _echo_outcome,
                         **ray_kw, **_render_kwargs(kw))
    _summary(outcomes, as_json, quiet)
    if any(o.status == "failed" for o in outcomes):
        raise SystemExit(1)


def _ray_kwargs(kw: dict) -> dict:
    """The Ray options as run_batch_ray's keyword arguments; {} without --ray."""
    names = ("workers", "gpus_per_worker", "threads_per_worker", "retries")
    ray_kw = {name: kw.pop(name) for name in names}
    address = kw.pop("ray_address")
    if address is not None:
        return {"address": address, **ray_kw}
    ctx = click.get_current_context()
    for name in names:
        if ctx.get_parameter_source(name) != click.core.ParameterSource.DEFAULT:
            raise click.UsageError(f"--{name.replace('_', '-')} needs --ray")
    return {}


def _echo_outcome(outcome) -> None:
    tail = f" ({outcome.error})" if outcome.error else ""
    # file=sys.stderr, not err=True: a live progress display (batch --ray) redirects sys.stderr
    # to print above itself, and err=True would write past it.
    click.echo(f"{outcome.status:>7}  {outcome.job.input.name}{tail}", file=sys.stderr)


def _summary(outcomes, as_json: bool, quiet: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    if as_json:
        click.echo(json.dumps([o.to_dict() for o in outcomes], indent=2))
        return
    table = Table("input", "status", "frames", "seconds", "error")
    for o in outcomes:
        table.add_row(o.job.input.name, o.status, str(o.frames), f"{o.seconds:.1f}", o.error)
    counts = {s: sum(o.status == s for o in outcomes) for s in ("done", "skipped", "failed")}
    console = Console()
    if not quiet:
        console.print(table)
    console.print(", ".join(f"{v} {k}" for k, v in counts.items()))


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@json_option
@common_options
def info(path: Path, as_json: bool, quiet: bool) -> None:
    """Describe a model bundle (networks, sizes, parameters, provenance) or a media file.

    \b
    Examples:
      lgan-video info default
      lgan-video info runs/bundle --json
      lgan-video info clip.mp4
    """
    from lgan_video.info import describe

    data = describe(path)
    click.echo(json.dumps(data, indent=2) if as_json else _pretty(data))


def _pretty(data: dict, indent: int = 0) -> str:
    lines = []
    for key, value in data.items():
        if isinstance(value, dict):
            lines += [" " * indent + f"{key}:", _pretty(value, indent + 2)]
        else:
            lines.append(" " * indent + f"{key}: {value}")
    return "\n".join(lines)


COMMANDS = [render, interpolate, batch, info]
