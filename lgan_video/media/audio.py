"""Audio: copy a source's sound track into a finished MP4, trimmed to the rendered span."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

from lgan_video.errors import LganError
from lgan_video.media import _ffmpeg

log = logging.getLogger("lgan_video.media")

_RATE = 48000  # decode rate used only for measuring durations


def mux_audio(video: Path, audio_from: Path, start: float, duration: float, out: Path) -> None:
    """Write ``out``: ``video``'s stream copied plus ``audio_from``'s first audio track from
    ``start`` to ``start + duration`` seconds, encoded as AAC."""
    args = ["-y", "-i", _ffmpeg.ff_path(video),
            "-ss", f"{start:.6f}", "-t", f"{duration:.6f}", "-i", _ffmpeg.ff_path(audio_from),
            "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-c:a", "aac", "-b:a", "192k",
            "-movflags", "+faststart", "-f", "mp4", _ffmpeg.ff_path(out)]
    _ffmpeg.run(args, "could not add the audio track", audio_from)


def audio_duration(path: str | Path) -> float | None:
    """Seconds of decoded audio in the first audio track of ``path``; ``None`` without audio.

    Decodes the whole track (streamed, constant memory): exact, but takes a moment on long files.
    """
    from lgan_video.media.probe import probe

    if not probe(path).has_audio:
        return None
    args = ["-i", _ffmpeg.ff_path(path), "-map", "0:a:0", "-f", "s16le", "-ac", "1",
            "-ar", str(_RATE), "pipe:1"]
    proc, err = _ffmpeg.popen(args, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        nbytes = 0
        while chunk := proc.stdout.read(1 << 16):
            nbytes += len(chunk)
        if proc.wait() != 0:
            raise LganError(f"could not decode audio: {path} "
                            f"({_ffmpeg.last_line(_ffmpeg.read_stderr(err))})")
    finally:
        _ffmpeg.stop(proc)
        err.close()
    return nbytes / 2 / _RATE if nbytes else None
