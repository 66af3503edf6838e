"""`train g1|mapping|sr`, `export` and `eval`: thin commands over :mod:`lgan_video.training`."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import click

from lgan_video.commands.options import (
    SEED,
    FiniteFloat,
    common_options,
    frames_option,
    json_option,
    overwrite_option,
    start_option,
    stride_option,
)

_COMMON = ("data", "out", "steps", "batch_size", "seed", "precision", "device", "threads", "workers",
           "sample_every", "checkpoint_every", "eval_every", "frame_stride", "overwrite",
           "resume", "quiet")


def _train_options(steps: int, batch_size: int) -> Callable:
    """The options every ``train`` subcommand shares (task-specific defaults for two of them)."""
    opts = [
        click.argument("data", type=click.Path(path_type=Path)),
        click.option("--out", type=click.Path(path_type=Path), required=True,
                     help="Run folder (re-running the same command resumes it)."),
        click.option("--steps", type=click.IntRange(min=1), default=steps, show_default=True,
                     help="Total training iterations (a larger value continues a finished run)."),
        click.option("--batch-size", type=click.IntRange(min=1), default=batch_size,
                     show_default=True, help="Images per step and per process."),
        click.option("--seed", type=SEED, default=0, show_default=True, help="Seed for weights, data order and noise."),
        click.option("--precision", type=click.Choice(["auto", "fp32", "bf16", "fp16"]),
                     default="auto", show_default=True,
                     help="Mixed precision over fp32 weights. auto: bf16 on CUDA (fp16 with loss "
                          "scaling on older GPUs) and on CPUs with native bf16, else fp32."),
        click.option("--device", type=click.Choice(["auto", "cpu", "cuda", "mps"]), default="auto",
                     show_default=True, help="Where to train (auto: CUDA, then MPS, then CPU)."),
        click.option("--threads", type=click.IntRange(min=1), default=None, metavar="N",
                     help="torch threads for the networks (data loading has --workers). "
                          "[default: the cores available]"),
        click.option("--workers", type=click.IntRange(min=0), default=None,
                     help="Data loader processes [default: min(2, CPUs)]."),
        click.option("--sample-every", type=click.IntRange(min=1), default=500, show_default=True,
                     help="Write a sample grid every N steps."),
        click.option("--checkpoint-every", type=click.IntRange(min=1), default=1000,
                     show_default=True, help="Save state and weights every N steps."),
        click.option("--eval-every", type=click.IntRange(min=0), default=1000, show_default=True,
                     help="Log cheap metrics every N steps (0 = never)."),
        click.option("--frame-stride", type=click.IntRange(min=1), default=10, show_default=True,
                     help="Keep every Nth frame of videos in DATA."),
        overwrite_option,
        click.option("--resume", is_flag=True, help="Fail unless there is a run to resume."),
        common_options,
    ]

    def decorate(f: Callable) -> Callable:
        for opt in reversed(opts):
            f = opt(f)
        return f

    return decorate


def _run(train_fn: Callable, task_cls: type, kw: dict) -> None:
    from lgan_video.training import TrainOptions

    common = {k: (str(kw.pop(k)) if k in ("data", "out") else kw.pop(k)) for k in _COMMON}
    run = train_fn(TrainOptions(**common), task_cls(**kw))
    if os.environ.get("RANK", "0") == "0":  # one line under torchrun, not one per process
        click.echo(f"trained {run} to step {common['steps']}")


@click.group()
def train() -> None:
    """Train G1, a mapping network or the SR network on your own images or videos.

    DATA is an image, a folder of images (searched recursively), a video, or a folder of videos.
    Run under `torchrun --nproc_per_node N -m lgan_video train ...` for multi-GPU training.

    \b
    Examples:
      lgan-video train g1 paintings/ --out runs/g1
      lgan-video train mapping paintings/ --out runs/map_edge --mode edge
      lgan-video train sr paintings/ --out runs/sr --scale 2
    """


@train.command("g1")
@_train_options(steps=100_000, batch_size=32)
@click.option("--resolution", type=click.Choice(["32", "64", "128", "256"]), default="64",
              show_default=True, help="Output side of G1.")
@click.option("--channels", type=click.IntRange(min=8), default=512, show_default=True,
              help="Generator width at 4x4 (the discriminator starts at 1/8 of it).")
@click.option("--loss", type=click.Choice(["hinge", "wgan-gp", "ns"]), default="hinge",
              show_default=True, help="hinge = SAGAN, wgan-gp = gradient penalty 10, ns = DCGAN.")
@click.option("--lr-g", type=FiniteFloat(min=0, min_open=True), default=None,
              help="Generator learning rate [default: by loss].")
@click.option("--lr-d", type=FiniteFloat(min=0, min_open=True), default=None,
              help="Discriminator learning rate [default: by loss].")
@click.option("--attention/--no-attention", default=True, show_default=True,
              help="Self-attention (off = the DCGAN-style baseline).")
@click.option("--ema", type=FiniteFloat(0.0, 1.0), default=0.999, show_default=True,
              help="Decay of the exported EMA generator.")
@click.option("--sle/--no-sle", default=True, show_default=True,
              help="FastGAN skip-layer excitation in the generator.")
@click.option("--recon-weight", type=FiniteFloat(min=0), default=1.0, show_default=True,
              help="FastGAN self-supervised D: weight of its 32x32 reconstruction of reals (0: off).")
@click.option("--augment", default="color,translation,cutout", show_default=True,
              help="DiffAugment policies on everything D sees ('none' disables).")
def g1(resolution: str, **kw) -> None:
    """Train G1, the unconditional generator that gives the look.

    \b
    Examples:
      lgan-video train g1 paintings/ --out runs/g1 --resolution 64
      lgan-video train g1 clip.mp4 --out runs/g1 --steps 20000 --loss ns --no-attention
      torchrun --nproc_per_node 4 -m lgan_video train g1 data/ --out runs/g1
      # the first default model's SAGAN recipe:
      lgan-video train g1 art/ --out runs/old --no-sle --recon-weight 0 --augment none
    """
    from lgan_video.training.g1 import G1Options, train_g1

    _run(train_g1, G1Options, {**kw, "resolution": int(resolution)})


@train.command("mapping")
@_train_options(steps=50_000, batch_size=8)
@click.option("--mode", type=click.Choice(["edge", "seg"]), required=True,
              help="Structure maps the network translates.")
@click.option("--size", type=click.IntRange(min=16), default=128, show_default=True,
              help="Training crop side (a multiple of 8).")
@click.option("--classes", type=click.IntRange(2, 32), default=8, show_default=True,
              help="Segment classes (seg mode).")
@click.option("--base-channels", type=click.IntRange(min=4), default=32, show_default=True,
              help="Network width at full resolution.")
@click.option("--n-blocks", type=click.IntRange(min=0), default=9, show_default=True,
              help="Style-modulated residual blocks.")
@click.option("--l1-weight", type=FiniteFloat(min=0), default=10.0, show_default=True,
              help="L1 reconstruction weight (pix2pix).")
@click.option("--gan-weight", type=FiniteFloat(min=0), default=1.0, show_default=True,
              help="Adversarial loss weight.")
@click.option("--recovery-weight", type=FiniteFloat(min=0), default=1.0, show_default=True,
              help="Map recovery (cycle) loss weight; 0 disables the recovery network.")
@click.option("--cache-maps", is_flag=True, help="Compute each image's map once, cached in the run.")
@click.option("--d-scales", type=click.IntRange(1, 4), default=2, show_default=True,
              help="Patch discriminators at 1, 1/2, ... of the crop (pix2pixHD multi-scale D).")
@click.option("--fm-weight", type=FiniteFloat(min=0), default=10.0, show_default=True,
              help="Discriminator feature-matching weight (pix2pixHD/SPADE); 0 disables it.")
@click.option("--augment", default="color,translation,cutout", show_default=True,
              help="DiffAugment policies on everything D sees ('none' disables).")
@click.option("--zoom", type=FiniteFloat(min=1.0), default=1.0, show_default=True,
              help="Crops come from the image resized to 1x..ZOOMx the crop size (1: off).")
@click.option("--palette/--no-palette", default=True, show_default=True,
              help="Start from the map painted in the appearance's colours per lightness slot "
                   "and learn a correction of it.")
@click.option("--canny-percentile", type=FiniteFloat(0.0, 99.9), default=85.0, show_default=True,
              help="Edge mode: Canny's high threshold is this percentile of the gradient "
                   "magnitude (0: the median rule of the first default model).")
@click.option("--edge-tones", type=click.IntRange(0, 32), default=4, show_default=True,
              help="Edge mode: the map also carries this many lightness tones (k-means, as seg "
                   "maps), so renders keep light and dark: line art over flat tones (0: edges "
                   "only, the first default models' maps).")
@click.option("--antialias/--no-antialias", default=False, show_default=True,
              help="Blur before each stride-2 stage and upsample bilinearly (Zhang 2019), so "
                   "strided stages alias less; no gain measured on this project's clips "
                   "(docs/ABLATION.md, round 5).")
def mapping(**kw) -> None:
    """Train a mapping network: structure maps + appearance -> image.

    \b
    Examples:
      lgan-video train mapping photos/ --out runs/map_edge --mode edge
      lgan-video train mapping clip.mp4 --out runs/map_seg --mode seg --classes 8 --cache-maps
      lgan-video train mapping photos/ --out runs/map_lines --mode edge --edge-tones 0  # lines only
      # the first default model's pix2pix recipe:
      lgan-video train mapping art/ --out runs/old --mode edge --d-scales 1 --fm-weight 0 \\
          --augment none --no-palette --canny-percentile 0 --edge-tones 0
    """
    from lgan_video.training.mapping import MappingOptions, train_mapping

    _run(train_mapping, MappingOptions, kw)


@train.command("sr")
@_train_options(steps=50_000, batch_size=16)
@click.option("--scale", type=click.Choice(["2", "3", "4"]), default="2", show_default=True,
              help="Upscaling factor.")
@click.option("--channels", type=click.IntRange(min=4), default=32, show_default=True,
              help="Feature channels.")
@click.option("--blocks", type=click.IntRange(min=0), default=4, show_default=True,
              help="Residual-dense blocks.")
@click.option("--patch", type=click.IntRange(min=8), default=64, show_default=True,
              help="HR crop side (rounded down to a multiple of the scale).")
@click.option("--gan-weight", type=FiniteFloat(min=0), default=0.0, show_default=True,
              help="Adversarial weight (0 = PSNR-oriented L1 only).")
@click.option("--degrade/--no-degrade", default=False, show_default=True,
              help="Real-ESRGAN-like blur, noise and JPEG on the LR inputs.")
@click.option("--clean", type=FiniteFloat(0.0, 1.0), default=0.0, show_default=True,
              help="With --degrade: the share of pairs that are only downscaled (antialiased or "
                   "plain bicubic), like rendered frames.")
def sr(scale: str, **kw) -> None:
    """Train the super-resolution network on HR images.

    \b
    Examples:
      lgan-video train sr photos/ --out runs/sr --scale 2
      lgan-video train sr frames/ --out runs/sr4 --scale 4 --degrade --gan-weight 0.01
    """
    from lgan_video.training.sr import SROptions, train_sr

    _run(train_sr, SROptions, {**kw, "scale": int(scale)})


@click.command()
@click.option("--g1", "g1_run", type=click.Path(path_type=Path), required=True,
              help="G1 run folder (its EMA weights are exported).")
@click.option("--mapping", "mapping_runs", type=click.Path(path_type=Path),
              multiple=True, required=True, help="Mapping run folder; repeat for edge and seg.")
@click.option("--sr", "sr_run", type=click.Path(path_type=Path), default=None,
              help="SR run folder (optional).")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Bundle folder.")
@click.option("--half", is_flag=True, help="Store weights as float16 (half the size).")
@click.option("--work-size", type=click.IntRange(min=16), default=None,
              help="Short side frames are translated at (default: the first mapping run's crop).")
@overwrite_option
@common_options
def export(g1_run: Path, mapping_runs: tuple[Path, ...], sr_run: Path | None, output: Path,
           half: bool, work_size: int | None, overwrite: bool, quiet: bool) -> None:
    """Bundle trained runs into a model for `lgan-video render --model`.

    \b
    Examples:
      lgan-video export --g1 runs/g1 --mapping runs/map_edge --sr runs/sr -o my_model
      lgan-video export --g1 runs/g1 --mapping runs/map_edge --mapping runs/map_seg -o m --half \\
          --work-size 192
    """
    from lgan_video.training.export import export_bundle

    path = export_bundle(g1_run, list(mapping_runs), output, sr=sr_run, half=half,
                         overwrite=overwrite, work_size=work_size)
    click.echo(f"wrote {path}")


@click.group("eval")
def eval_() -> None:
    """Score a model against images (g1, mapping, sr) or a render against its input (temporal).

    MODEL is a training run, a bundle folder or the default bundle.

    \b
    Examples:
      lgan-video eval g1 runs/g1 paintings/ --n 5000
      lgan-video eval sr my_model test_hr/ --json
      lgan-video eval mapping default photos/ --mode seg
      lgan-video eval temporal clip.mp4 clip_lgan.mp4
    """


def _model_eval(kind: str, help_text: str) -> Callable:
    """One ``eval KIND MODEL DATA`` subcommand (g1, mapping and sr share their options)."""
    opts = [
        eval_.command(kind, help=help_text),
        click.argument("model", type=click.Path(path_type=Path)),
        click.argument("data", type=click.Path(path_type=Path)),
        click.option("--n", type=click.IntRange(min=2), default=1000, show_default=True,
                     help="Images to generate (g1) or to evaluate on (mapping, sr)."),
        click.option("--fid/--no-fid", default=True, show_default=True,
                     help="G1: also FID and KID (needs the [metrics] extra)."),
        click.option("--mode", type=click.Choice(["edge", "seg"]), default=None,
                     help="Mapping network of a bundle [default: its first]."),
        click.option("--size", type=click.IntRange(min=16), default=None,
                     help="Mapping: side of the central crops scored [default: the trained size]."),
        click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu",
                     show_default=True, help="Where to run the networks."),
        json_option, common_options,
    ]

    def body(model: Path, data: Path, n: int, fid: bool, mode: str | None, size: int | None,
             device: str, as_json: bool, quiet: bool) -> None:
        from lgan_video import evaluate as ev

        if kind == "g1":
            scores = ev.evaluate_g1(model, data, n=n, fid=fid, device=device)
        elif kind == "mapping":
            scores = ev.evaluate_mapping(model, data, n=n, device=device, mode=mode, size=size)
        else:
            scores = ev.evaluate_sr(model, data, n=n, device=device)
        _print_scores(scores, as_json)

    for opt in reversed(opts):
        body = opt(body)
    return body


def _print_scores(scores: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(scores, indent=2))
        return
    for key, value in scores.items():
        click.echo(f"{key:>16}  {value:.4f}" if isinstance(value, float) else f"{key:>16}  {value}")


_model_eval("g1", """Score G1 of MODEL: SWD, FID and KID of generated images against DATA's images.

\b
Examples:
  lgan-video eval g1 runs/g1 paintings/ --n 5000
  lgan-video eval g1 default paintings/ --no-fid --json
""")
_model_eval("mapping", """Score a mapping network of MODEL: PSNR/SSIM of translations of DATA's
images from their own maps, beside a flat mean-colour image's, and the structure score.

\b
Examples:
  lgan-video eval mapping runs/map_edge photos/ --n 50
  lgan-video eval mapping default photos/ --mode seg --json
""")
_model_eval("sr", """Score the SR network of MODEL: PSNR/SSIM on Y (border = scale) of SR and of
bicubic on DATA's images.

\b
Examples:
  lgan-video eval sr my_model test_hr/ --json
  lgan-video eval sr runs/sr test_hr/ --n 100
""")


@eval_.command("temporal")
@click.argument("input", type=click.Path(path_type=Path))
@click.argument("render", type=click.Path(path_type=Path))
@start_option
@stride_option
@frames_option
@click.option("--cut-threshold", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Scene-cut score (mean HSV change of 32 px thumbnails) that starts a new shot.")
@json_option
@common_options
def temporal(input: Path, render: Path, as_json: bool, quiet: bool, **kw) -> None:
    """Flicker of RENDER compared with its INPUT video: the warping error of Lai et al. 2018.

    INPUT's optical flow (DIS, both directions, occlusions masked) warps each render frame onto
    the next; the mean squared difference (RGB in [0, 1]) is compared with INPUT's own, at the
    render's size (ratio 1 = as stable as the input). Pairs across scene cuts are left out. Also
    prints the structure score (gradient correlation of input and render, 1 = same layout).
    Pass the --start/--stride/--frames the render was made with.

    \b
    Examples:
      lgan-video eval temporal clip.mp4 clip_lgan.mp4
      lgan-video eval temporal clip.mp4 part.mp4 --start 1:30 --frames 240 --json
    """
    from lgan_video.temporal_eval import eval_temporal

    scores = eval_temporal(input, render, **kw)
    click.echo(json.dumps(scores, indent=2) if as_json else _temporal_text(scores))


def _temporal_text(s: dict) -> str:
    """The summary lines of ``eval temporal`` (without per-pair values)."""
    def num(v, fmt):
        return "n/a" if v is None else format(v, fmt)

    return (f"{s['frames']} frames at {s['size'][0]}x{s['size'][1]}: {s['pairs_used']} of "
            f"{s['pairs']} pairs used, cuts at {s['cuts'] or 'none'}\n"
            f"warping error  render {num(s['warping_error'], '.6f')}  input "
            f"{num(s['input_warping_error'], '.6f')}  ratio {num(s['ratio'], '.2f')}\n"
            f"structure score  {num(s['structure'], '.3f')}")


COMMANDS = [train, export, eval_]
