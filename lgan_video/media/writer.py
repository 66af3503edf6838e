"""``open_writer``: write uint8 RGB frames as MP4 (H.264), GIF, animated WebP or a PNG folder.

The output kind comes from the path (see :func:`output_kind`). Encoding runs in an ffmpeg
subprocess fed through a pipe; everything lands in a temporary sibling that is renamed into
place only when the writer closes without error.
"""

from __future__ import annotations

import logging
import os
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np

from lgan_video.errors import LganError
from lgan_video.media import _ffmpeg
from lgan_video.media.atomic import AtomicTarget, check_output, output_kind
from lgan_video.media.audio import mux_audio

log = logging.getLogger("lgan_video.media")

DEFAULT_QUALITY = 65
"""0-100, higher is better: MP4 CRF ``round(51 * (1 - q/100))`` (65 -> CRF 18), WebP ``-quality q``
(100 = lossless). GIF ignores it (a 256-colour palette is always optimised for the clip)."""

_GIF_FILTER = "[0:v]split[a][b];[a]palettegen=stats_mode=full[p];[b][p]paletteuse=dither=sierra2_4a"


class FrameWriter:
    """Context manager writing frames to ``path``; ``write(frame)``, ``frames_written``.

    The first frame fixes ``size`` (W, H) unless given; later frames must match it. ``fps`` is
    the exact output rate. On leaving the ``with`` block normally the output is finished and
    moved into place; on any exception (KeyboardInterrupt included) nothing is left behind.
    """

    def __init__(self, path, fps, size=None, overwrite=False, quality=DEFAULT_QUALITY,
                 audio_from=None, audio_start=0.0, loop=0, threads=None) -> None:
        self.kind = output_kind(path)
        self.threads = threads
        self.path = check_output(path, [audio_from], overwrite)
        self.fps = _as_fps(fps)
        if not 0 <= quality <= 100:
            raise LganError(f"invalid quality {quality}: must be between 0 and 100")
        if loop < -1:
            raise LganError(f"invalid loop count {loop}: -1 (play once), 0 (forever) or more")
        self.size: tuple[int, int] | None = tuple(size) if size is not None else None
        self.quality, self.loop, self.overwrite = quality, loop, overwrite
        self.audio_from = Path(audio_from) if audio_from is not None else None
        self.audio_start = float(audio_start)
        if self.audio_from is not None and self.kind == "mp4":
            from lgan_video.media.probe import probe

            if not probe(self.audio_from).has_audio:
                log.debug("no audio track in %s; writing video only", self.audio_from)
                self.audio_from = None
        self.frames_written = 0
        self._target: AtomicTarget | None = None
        self._sink = None
        self._closed = False

    def write(self, frame: np.ndarray) -> None:
        """Append one uint8 RGB frame ``(H, W, 3)``."""
        frame = np.asarray(frame)
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"expected a uint8 (H, W, 3) frame, got {frame.dtype} {frame.shape}")
        if self._closed:
            raise RuntimeError("write() on a closed FrameWriter")
        size = (frame.shape[1], frame.shape[0])
        if self.size is None:
            self.size = size
        if size != self.size:
            raise LganError(f"frame {self.frames_written + 1} is {size[0]}x{size[1]} but the "
                            f"output is {self.size[0]}x{self.size[1]}: {self.path}")
        if self._sink is None:
            self._open_sink()
        self._sink.write(frame)
        self.frames_written += 1

    def _open_sink(self) -> None:
        self._target = AtomicTarget(self.path, is_dir=self.kind == "folder")
        if self.kind == "folder":
            self._sink = _PngSink(self._target.tmp, label=self.path)
        else:
            self._sink = _FfmpegSink(self.kind, self._target.tmp, self.size, self.fps,
                                     self.quality, self.loop, label=self.path,
                                     threads=self.threads)

    def close(self) -> None:
        """Finish encoding, add audio (MP4) and move the output into place."""
        if self._closed:
            return
        self._closed = True
        try:
            if self.frames_written == 0:
                raise LganError(f"no frames to write: {self.path}")
            self._sink.finish()
            if self.audio_from is not None and self.kind == "mp4":
                self._add_audio()
            self._target.commit(self.overwrite)
        except BaseException:
            self._abort()
            raise
        log.debug("wrote %d frames to %s", self.frames_written, self.path)

    def abort(self) -> None:
        """Stop and remove everything written so far; the destination stays as it was."""
        self._closed = True
        self._abort()

    def _abort(self) -> None:
        if self._sink is not None:
            self._sink.kill()
        if self._target is not None:
            self._target.discard()

    def _add_audio(self) -> None:
        muxed = self._target.sibling("audio")
        seconds = float(self.frames_written / self.fps)
        try:
            mux_audio(self._target.tmp, self.audio_from, self.audio_start, seconds, muxed)
        except LganError as e:  # a lost sound track is a failed output, not a warning
            raise LganError(f"{e}; nothing was written (--no-audio writes the video without "
                            f"sound)") from None
        os.replace(muxed, self._target.tmp)

    def __enter__(self) -> FrameWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def open_writer(path, fps, size=None, overwrite: bool = False, quality: int = DEFAULT_QUALITY,
                audio_from=None, audio_start: float = 0.0, loop: int = 0,
                threads: int | None = None) -> FrameWriter:
    """A :class:`FrameWriter` for ``path`` at exactly ``fps`` frames per second.

    ``quality`` 0-100 (see ``DEFAULT_QUALITY``); ``audio_from``: a file whose first audio track
    is muxed into an MP4, from ``audio_start`` seconds for ``frames / fps`` seconds; ``loop``:
    GIF/WebP repeat count, 0 = forever, -1 = play once. MP4 frames with odd width or height are
    padded by one replicated edge row/column to even size (4:2:0 needs it); PNG folders hold
    ``frame_000001.png``, ``frame_000002.png``, ...; ``threads``: encoder threads (None: ffmpeg's
    own choice).
    """
    return FrameWriter(path, fps, size, overwrite, quality, audio_from, audio_start, loop, threads)


def _as_fps(fps) -> Fraction:
    try:
        rate = fps if isinstance(fps, Fraction) else Fraction(fps).limit_denominator(1001)
    except (TypeError, ValueError):
        raise LganError(f"invalid frame rate: {fps!r}") from None
    if rate <= 0:
        raise LganError(f"invalid frame rate {fps}: must be positive")
    return rate


def _encode_args(kind: str, quality: int, loop: int) -> list[str]:
    if kind == "mp4":
        crf = round(51 * (1 - quality / 100))
        return ["-c:v", "libx264", "-preset", "medium", "-crf", str(crf), "-pix_fmt", "yuv420p",
                "-movflags", "+faststart", "-f", "mp4"]
    if kind == "gif":
        return ["-filter_complex", _GIF_FILTER, "-loop", str(loop), "-f", "gif"]
    lossless = ["-lossless", "1"] if quality >= 100 else ["-lossless", "0"]
    return ["-c:v", "libwebp_anim", "-quality", str(quality), *lossless,
            "-loop", str(1 if loop == -1 else loop), "-f", "webp"]


class _FfmpegSink:
    """An ffmpeg process encoding raw RGB frames from its stdin into ``dest``."""

    def __init__(self, kind, dest: Path, size, fps: Fraction, quality: int, loop: int,
                 label: Path, threads: int | None = None) -> None:
        self.kind, self.label = kind, label
        self.pad = kind == "mp4" and (size[0] % 2 or size[1] % 2)
        w, h = (size[0] + size[0] % 2, size[1] + size[1] % 2) if self.pad else size
        args = ["-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
                "-framerate", f"{fps.numerator}/{fps.denominator}", "-i", "pipe:0",
                *_encode_args(kind, quality, loop),
                *(["-threads", str(threads)] if threads else []), _ffmpeg.ff_path(dest)]
        self.proc, self.err = _ffmpeg.popen(args, stdin=subprocess.PIPE,
                                            stdout=subprocess.DEVNULL)

    def write(self, frame: np.ndarray) -> None:
        if self.pad:
            h, w = frame.shape[:2]
            frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        try:
            self.proc.stdin.write(np.ascontiguousarray(frame).data)
        except (BrokenPipeError, OSError):
            raise self._failure() from None

    def finish(self) -> None:
        try:
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        if self.proc.wait() != 0:
            raise self._failure()
        self.err.close()

    def _failure(self) -> LganError:
        self.proc.wait()
        return LganError(f"ffmpeg could not encode the {self.kind} output: {self.label} "
                         f"({_ffmpeg.last_line(_ffmpeg.read_stderr(self.err))})")

    def kill(self) -> None:
        _ffmpeg.stop(self.proc)
        self.err.close()


class _PngSink:
    """Numbered PNGs (``frame_000001.png``) in a folder."""

    def __init__(self, folder: Path, label: Path) -> None:
        self.folder, self.label, self.count = folder, label, 0

    def write(self, frame: np.ndarray) -> None:
        import cv2

        self.count += 1
        ok, data = cv2.imencode(".png", np.ascontiguousarray(frame[:, :, ::-1]))
        if not ok:
            raise LganError(f"could not encode frame {self.count} as PNG")
        try:
            (self.folder / f"frame_{self.count:06d}.png").write_bytes(data.tobytes())
        except OSError as e:  # a full disk, a quota, a file size limit
            raise LganError(f"could not write frame {self.count} of {self.label}: "
                            f"{e.strerror or e}") from None

    def finish(self) -> None:
        pass

    def kill(self) -> None:
        pass
