"""`demo`: the tool's showcase on the bundled default model."""

from __future__ import annotations

from pathlib import Path

import click

from lgan_video.commands.options import common_options, overwrite_option
from lgan_video.commands.render import device_option, model_option


@click.command()
@click.option("-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("demo_out"), show_default=True, help="Where the demo files go.")
@model_option
@device_option
@overwrite_option
@common_options
def demo(output_dir: Path, **kw) -> None:
    """Render the showcase: a looping step-by-step latent walk and a clip in edge and seg modes.

    Needs no input: the clip is synthesized at run time.

    \b
    Examples:
      lgan-video demo
      lgan-video demo -o /tmp/showcase --overwrite
      lgan-video demo --model runs/bundle
    """
    from lgan_video.demo import run_demo

    files = run_demo(output_dir, **kw)
    seconds = files.pop("seconds")
    click.echo(f"demo written in {seconds} s:")
    for what, path in files.items():
        click.echo(f"  {what:>9}: {path}")


COMMANDS = [demo]
