"""The ``lgan-video`` command group: version, error handling, and registration of the commands.

Commands live in :mod:`lgan_video.commands` and stay thin: they parse options and call one library
function with the same parameter names.
"""

from __future__ import annotations

import logging

import click

from lgan_video import __version__
from lgan_video.errors import LganError

log = logging.getLogger("lgan_video")


class _Group(click.Group):
    """A group that turns library errors into one line and a non-zero exit, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except LganError as e:
            raise click.ClickException(str(e)) from None
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            raise click.Abort() from None
        except Exception as e:
            if log.isEnabledFor(logging.DEBUG):
                raise
            raise click.ClickException(
                f"internal error: {type(e).__name__}: {e} (run with -v for the traceback)"
            ) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="lgan-video")
def cli() -> None:
    """Stylized, temporally coherent animations with the LGAN pipeline.

    A video's frames become structure maps (edges or segments); the mapping network paints them in
    the look of a G1-generated image whose latent walks slowly, and super-resolution brings the
    result up. Training commands build your own networks.
    """


def _register() -> None:
    from lgan_video.commands import demo, media, render, train

    for module in (media, render, demo, train):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="lgan-video")
