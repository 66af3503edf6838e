"""The ``lgan-video`` command group: version, error handling, and registration of the commands.

Commands live in :mod:`lgan_video.commands` and stay thin: they parse options and call one library
function with the same parameter names.

Exit codes (the README's "Guarantees"): 0 success; 1 bad input or environment (one line
``Error: ...`` on stderr, usage errors included); ``128 + N`` after signal N (130 Ctrl-C,
143 SIGTERM, 129 SIGHUP), with the one line ``Error: interrupted by SIGNAME``.
"""

from __future__ import annotations

import errno
import logging
import os
import sys

import click

from lgan_video import __version__
from lgan_video.errors import LganError
from lgan_video.interrupts import Interrupted, interrupt_signals

log = logging.getLogger("lgan_video")


class _Group(click.Group):
    """A group that turns every failure into one line ``Error: ...`` and an exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except LganError as e:
            raise click.ClickException(str(e)) from None
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except OSError as e:  # the environment: a full disk, a read-only folder, a symlink loop
            if log.isEnabledFor(logging.DEBUG) or e.errno == errno.EPIPE:
                raise
            raise click.ClickException(_os_error(e)) from None
        except Exception as e:
            if log.isEnabledFor(logging.DEBUG):
                raise
            if _out_of_memory(e):
                raise click.ClickException(f"out of memory ({_first_line(e)}); lower --size or "
                                           f"--batch-size") from None
            raise click.ClickException(
                f"internal error: {type(e).__name__}: {_first_line(e)} (run with -v for the "
                f"traceback)"
            ) from None

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Run the CLI; in standalone mode every outcome ends in :func:`sys.exit` with the codes
        of the module docstring and at most one line on stderr."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        with interrupt_signals():
            try:
                rv = super().main(args, prog_name, complete_var, False, **extra)
            except Interrupted as e:
                _fail(f"interrupted by {e.name}", e.exit_code)
            except click.Abort:  # a KeyboardInterrupt that arrived outside our handler
                _fail("interrupted by SIGINT", 130)
            except click.exceptions.NoArgsIsHelpError as e:  # `lgan-video` alone: its help
                click.echo(e.ctx.get_help())
                sys.exit(0)
            except click.UsageError as e:
                hint = f" (see '{e.ctx.command_path} --help')" if e.ctx is not None else ""
                _fail(_one_line(e.format_message()) + hint, 1)
            except click.ClickException as e:
                _fail(_one_line(e.format_message()), e.exit_code)
            except OSError as e:
                if e.errno != errno.EPIPE:
                    raise
                _silence_stdout()  # a closed stdout (`| head`) is not worth a word
                sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


def _fail(message: str, code: int) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (e.g. under a test runner)
        pass
    finally:
        os.close(devnull)


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _first_line(e: BaseException) -> str:
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    return lines[0] if lines else type(e).__name__


def _os_error(e: OSError) -> str:
    """``No space left on device: /out/x.png`` from any OSError."""
    what = e.strerror or _first_line(e)
    return f"{what}: {e.filename}" if e.filename else what


def _out_of_memory(e: BaseException) -> bool:
    """MemoryError, torch's CPU and CUDA allocator failures, OpenCV's Insufficient memory."""
    text = str(e).lower()
    return (isinstance(e, MemoryError) or type(e).__name__ == "OutOfMemoryError"
            or any(s in text for s in ("can't allocate memory", "out of memory",
                                       "insufficient memory")))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="lgan-video")
def cli() -> None:
    """Stylized, temporally coherent animations with the LGAN pipeline.

    A video's frames become structure maps (edges or segments); the mapping network paints them in
    the look of a G1-generated image whose latent walks slowly, and super-resolution brings the
    result up. Training commands build your own networks.

    Exit codes: 0 success; 1 bad input (one line 'Error: ...', usage errors included);
    128+N after signal N (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP), outputs cleaned up.
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
