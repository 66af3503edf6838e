"""``open_reader``: stream uint8 RGB frames from a video, animation, frame folder or image.

Videos are decoded by an ffmpeg subprocess writing raw RGB to a pipe, so memory stays flat however
long the video is; seeking, striding and resizing happen inside ffmpeg.
"""

from __future__ import annotations

import logging
import math
import subprocess
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from lgan_video.errors import LganError
from lgan_video.media import _ffmpeg
from lgan_video.media.animated import frame_delays, iter_animation
from lgan_video.media.images import list_frames, load_image
from lgan_video.media.probe import MediaInfo, probe
from lgan_video.media.timecode import StartAt, parse_start
from lgan_video.resize import ffmpeg_flags, resize, scaled_size

log = logging.getLogger("lgan_video.media")


class FrameReader:
    """Iterable of uint8 RGB frames ``(H, W, 3)`` with ``(W, H) == size``; iterate it once.

    ``info``: the source's :class:`MediaInfo`; ``fps``: the rate of the yielded frames (source fps
    / ``stride``); ``start_seconds``: time of the first yielded frame in the source (use it to
    align audio); ``expected_frames``: how many frames iteration should yield (``None`` if
    unknown). Use as a context manager, or iterate to the end, to release the decoder.
    """

    def __init__(self, info: MediaInfo, start_frame: int, start_seconds: float,
                 max_frames: int | None, stride: int, size: int | None,
                 threads: int | None = None) -> None:
        self.info, self.stride, self.max_frames = info, stride, max_frames
        self.threads = threads
        self.start_frame, self.start_seconds = start_frame, start_seconds
        self.fps: Fraction = info.fps / stride
        self.size: tuple[int, int] = scaled_size(info.width, info.height, size)
        self.expected_frames = _expected(info.frame_count, start_frame, stride, max_frames)
        self._proc = None
        self._started = False

    def __iter__(self) -> Iterator[np.ndarray]:
        if self._started:
            raise RuntimeError("a FrameReader can be iterated only once; open a new one")
        self._started = True
        source = {"video": self._video_frames, "gif": self._animation_frames,
                  "folder": self._folder_frames, "image": self._image_frames}[self.info.kind]
        count = 0
        for frame in source():
            count += 1
            yield frame
        if count == 0:
            raise LganError(f"no frames decoded from: {self.info.path}")

    def close(self) -> None:
        """Stop the decoder process, if one runs."""
        _ffmpeg.stop(self._proc)
        self._proc = None

    def __enter__(self) -> FrameReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _limit(self) -> int:
        return self.max_frames if self.max_frames is not None else 2**62

    def _indices(self, n: int) -> range:
        r = range(self.start_frame, n, self.stride)
        return r[: self._limit()]

    def _image_frames(self) -> Iterator[np.ndarray]:
        yield resize(load_image(Path(self.info.path)), self.size)

    def _folder_frames(self) -> Iterator[np.ndarray]:
        files = list_frames(Path(self.info.path))
        first = (self.info.width, self.info.height)
        for i in self._indices(len(files)):
            frame = load_image(files[i])
            if (frame.shape[1], frame.shape[0]) != first:
                raise LganError(f"{files[i].name} is {frame.shape[1]}x{frame.shape[0]} but the "
                                f"first frame is {first[0]}x{first[1]}: {self.info.path}")
            yield resize(frame, self.size)

    def _animation_frames(self) -> Iterator[np.ndarray]:
        n = self.info.frame_count or 0
        for frame in iter_animation(Path(self.info.path), self._indices(n)):
            yield resize(frame, self.size)

    def _video_frames(self) -> Iterator[np.ndarray]:
        w, h = self.size
        nbytes = w * h * 3
        self._proc, err = _ffmpeg.popen(self._video_args(), stdout=subprocess.PIPE,
                                            stdin=subprocess.DEVNULL)
        try:
            count = 0
            while (buf := _read_exact(self._proc.stdout, nbytes)) is not None:
                if len(buf) < nbytes:
                    break
                count += 1
                yield np.frombuffer(buf, np.uint8).reshape(h, w, 3)
            rc = self._proc.wait()
            self._check_complete(count, rc, _ffmpeg.read_stderr(err))
        finally:
            self.close()
            err.close()

    def _video_args(self) -> list[str]:
        args = ["-threads", str(self.threads)] if self.threads else []
        if self.start_frame > 0:  # half a frame early: frame i (at i/fps) is the first kept
            args += ["-ss", f"{(self.start_frame - 0.5) / float(self.info.fps):.6f}"]
        args += ["-i", _ffmpeg.ff_path(self.info.path), "-map", "0:V:0", "-an", "-sn", "-dn"]
        filters = []
        if self.stride > 1:
            filters.append(f"select=not(mod(n\\,{self.stride}))")
        if self.size != (self.info.width, self.info.height):
            flags = ffmpeg_flags((self.info.width, self.info.height), self.size)
            filters.append(f"scale={self.size[0]}:{self.size[1]}:flags={flags}")
        if filters:
            args += ["-vf", ",".join(filters)]
        if self.max_frames is not None:
            args += ["-frames:v", str(self.max_frames)]
        return args + ["-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]

    def _check_complete(self, count: int, rc: int, stderr: str) -> None:
        """Raise when ffmpeg failed or stopped early with errors (a truncated or corrupt file)."""
        short = self.expected_frames is not None and count < self.expected_frames
        if rc != 0 or (short and stderr.strip()):
            of = f" of {self.expected_frames}" if self.expected_frames else ""
            raise LganError(f"corrupt or truncated video: decoding failed after frame {count}{of}: "
                            f"{self.info.path} ({_ffmpeg.last_line(stderr)})")
        if stderr.strip():
            log.warning("ffmpeg reported problems decoding %s: %s", self.info.path,
                        _ffmpeg.last_line(stderr))
        elif count != self.expected_frames:
            log.debug("decoded %d frames of %s, expected %s", count, self.info.path,
                      self.expected_frames)


def _read_exact(stream, n: int) -> bytearray | None:
    """Read ``n`` bytes (fewer only at end of stream); ``None`` at a clean end of stream."""
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    while got < n:
        k = stream.readinto(view[got:])
        if not k:
            break
        got += k
    if got == 0:
        return None
    return buf if got == n else buf[:got]


def _expected(count: int | None, start: int, stride: int, max_frames: int | None) -> int | None:
    if count is None:
        return None
    n = max(0, math.ceil((count - start) / stride))
    return min(n, max_frames) if max_frames is not None else n


def open_reader(path: str | Path, start: str | float | None = None, max_frames: int | None = None,
                stride: int = 1, size: int | None = None,
                threads: int | None = None) -> FrameReader:
    """Open ``path`` for streaming frames; see :class:`FrameReader`.

    ``start``: where to begin (see :func:`parse_start`: ``"12.5"``, ``"01:02.5"``, ``"120f"``);
    ``max_frames``: at most this many frames; ``stride``: keep every Nth frame; ``size``: resize
    so the short side is ``size`` (long side rounded to an even number; see ``scaled_size``);
    ``threads``: ffmpeg decoding and scaling threads (None: ffmpeg's own choice).
    """
    if stride < 1:
        raise LganError(f"invalid stride {stride}: must be 1 or more")
    if max_frames is not None and max_frames < 1:
        raise LganError(f"invalid frame limit {max_frames}: must be 1 or more")
    info = probe(path)
    at = start if isinstance(start, StartAt) else parse_start(start)
    first, seconds = _start_frame(info, at)
    if info.frame_count is not None and first >= info.frame_count:
        raise LganError(f"start {start} is past the end ({info.frame_count} frames): {path}")
    return FrameReader(info, first, seconds, max_frames, stride, size, threads)


def _start_frame(info: MediaInfo, at: StartAt) -> tuple[int, float]:
    """Index and time (seconds) of the first frame at or after ``at``."""
    if info.kind != "gif":
        first = at.frame_index(info.fps)
        return first, float(first / info.fps)
    delays, _, _ = frame_delays(Path(info.path))
    times = np.concatenate([[0], np.cumsum(delays)]) / 1000.0  # start time of each frame
    if at.frame is not None:
        first = at.frame
    else:
        first = int(np.searchsorted(times, (at.seconds or 0.0) - 5e-4))
    return first, float(times[min(first, len(delays))])


def read_batches(frames: Iterable[np.ndarray], batch_size: int) -> Iterator[np.ndarray]:
    """Group frames into uint8 ``(B, H, W, 3)`` arrays of ``batch_size`` (the last may be smaller)."""
    batch: list[np.ndarray] = []
    for frame in frames:
        batch.append(frame)
        if len(batch) == batch_size:
            yield np.stack(batch)
            batch = []
    if batch:
        yield np.stack(batch)
