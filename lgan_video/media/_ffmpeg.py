"""Running the bundled ffmpeg safely: list arguments, ``file:`` paths, one-line failures."""

from __future__ import annotations

import functools
import logging
import os
import re
import subprocess
import tempfile
from pathlib import Path

from lgan_video.errors import LganError

log = logging.getLogger("lgan_video.media")
_CONTEXT = re.compile(r"^(\[[^\]]*\]\s*)+")  # "[vist#0:0/h264 @ 0x55...] " prefixes


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary shipped with imageio-ffmpeg (imported lazily)."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def ff_path(path: str | os.PathLike) -> str:
    """An argument naming ``path`` for ffmpeg that can never be read as an option or a protocol.

    Absolute paths with the ``file:`` prefix keep ``-x.mp4``, ``a:b.mp4`` and ``100%.mp4`` literal.
    """
    return "file:" + str(Path(path).absolute())


def base_cmd() -> list[str]:
    """The start of every ffmpeg command: no stdin, no banner, errors only."""
    return [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error"]


def last_line(stderr: bytes | str) -> str:
    """The last non-empty line of ffmpeg's stderr, for one-line error messages."""
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    lines = [_CONTEXT.sub("", ln).strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    return lines[-1] if lines else "no message"


def run(args: list[str], what: str, path: str | os.PathLike) -> bytes:
    """Run ``base_cmd() + args``; return stdout, or raise ``LganError("<what>: <path> (<why>)")``."""
    cmd = base_cmd() + args
    log.debug("ffmpeg %s", " ".join(cmd[1:]))
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True)
    if proc.returncode != 0:
        raise LganError(f"{what}: {path} ({last_line(proc.stderr)})")
    return proc.stdout


def popen(args: list[str], **kwargs) -> tuple[subprocess.Popen, tempfile._TemporaryFileWrapper]:
    """Start ``base_cmd() + args`` with stderr captured in a temporary file (never a full pipe)."""
    cmd = base_cmd() + args
    log.debug("ffmpeg %s", " ".join(cmd[1:]))
    err = tempfile.TemporaryFile()
    try:
        proc = subprocess.Popen(cmd, stderr=err, **kwargs)
    except BaseException:
        err.close()
        raise
    return proc, err


def read_stderr(err) -> str:
    """Everything ffmpeg wrote to the captured stderr file so far."""
    err.flush()
    err.seek(0)
    return err.read().decode("utf-8", "replace")


def stop(proc: subprocess.Popen | None) -> None:
    """Kill ``proc`` if it still runs and reap it, closing its pipes."""
    if proc is None:
        return
    if proc.poll() is None:
        proc.kill()
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass
    proc.wait()
