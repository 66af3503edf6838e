"""``probe(path) -> MediaInfo``: what a video, animation, frame folder or image holds.

Videos are probed by parsing ``ffmpeg -i`` (imageio-ffmpeg ships no ffprobe) and counting the
video packets with a stream copy (demuxing only, no decoding: fast even for long files).
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

from lgan_video.errors import LganError
from lgan_video.media import _ffmpeg
from lgan_video.media.animated import frame_delays, is_animated
from lgan_video.media.images import image_size, list_frames
from lgan_video.media.suffixes import ANIMATED_SUFFIXES, IMAGE_SUFFIXES
from lgan_video.media.timecode import fps_from_delays, fps_from_text

log = logging.getLogger("lgan_video.media")

DEFAULT_FPS = Fraction(24)
"""Rate given to frame folders and still images, which carry none."""

_STREAM = re.compile(r"^\s*Stream #\d+:(\d+)[^:]*: (Video|Audio|Subtitle|Data|Attachment): (.*)$")
_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_SIZE = re.compile(r", (\d+)x(\d+)")
_FPS = re.compile(r"([\d.]+k?) (fps|tbr)\b")
_ROTATION = re.compile(r"display ?matrix: rotation of (-?[\d.]+) degrees", re.IGNORECASE)


@dataclass(frozen=True)
class MediaInfo:
    """What :func:`probe` found.

    ``kind``: ``video`` (decoded by ffmpeg), ``gif`` (an animated GIF/WebP/PNG, decoded by
    Pillow), ``folder`` (images in natural order) or ``image`` (one still). ``width``/``height``
    are those of decoded frames, i.e. after applying ``rotation`` (degrees counter-clockwise, as
    in ffmpeg's display matrix, in ``[0, 360)``). ``fps`` is exact where the source allows
    (24000/1001); folders and images get ``DEFAULT_FPS``. ``frame_count`` is the number of video
    packets (exact for ordinary files). ``duration`` is the container's, in seconds.
    """

    path: str
    kind: str
    width: int
    height: int
    fps: Fraction
    frame_count: int | None
    duration: float | None
    rotation: int = 0
    has_audio: bool = False

    def to_dict(self) -> dict:
        """JSON-safe dict; ``fps`` as ``"num/den"`` text plus ``fps_float``."""
        d = asdict(self)
        d["fps"] = f"{self.fps.numerator}/{self.fps.denominator}"
        d["fps_float"] = float(self.fps)
        return d


def probe(path: str | Path) -> MediaInfo:
    """Inspect ``path``; raise a one-line ``LganError`` for missing, empty or unreadable input."""
    p = Path(path)
    try:
        p.stat()
    except FileNotFoundError:
        raise LganError(f"no such file or folder: {path}") from None
    except OSError as e:  # a symlink loop, a permission problem
        raise LganError(f"cannot open {path}: {e.strerror or e}") from None
    if p.is_dir():
        return _probe_folder(p)
    if p.suffix.lower() in IMAGE_SUFFIXES + ANIMATED_SUFFIXES:
        if p.suffix.lower() in ANIMATED_SUFFIXES and is_animated(p):
            return _probe_animation(p)
        return _probe_image(p)
    return _probe_video(p)


def _probe_folder(p: Path) -> MediaInfo:
    files = list_frames(p)
    w, h = image_size(files[0])  # the header only: frames are decoded when read
    n = len(files)
    return MediaInfo(str(p), "folder", w, h, DEFAULT_FPS, n, float(n / DEFAULT_FPS))


def _probe_image(p: Path) -> MediaInfo:
    w, h = image_size(p)
    return MediaInfo(str(p), "image", w, h, DEFAULT_FPS, 1, None)


def _probe_animation(p: Path) -> MediaInfo:
    delays, _loop, (w, h) = frame_delays(p)
    unit = 100 if p.suffix.lower() == ".gif" else 1000  # GIF stores centiseconds
    ticks = [d * unit // 1000 for d in delays]
    return MediaInfo(str(p), "gif", w, h, fps_from_delays(ticks, unit), len(delays),
                     sum(delays) / 1000.0 or None)


def _probe_video(p: Path) -> MediaInfo:
    text = _ffmpeg_info(p)
    index, line, rotation = _video_stream(text, p)
    size = _SIZE.search(line)
    if not size:
        raise LganError(f"cannot read the frame size of: {p}")
    w, h = int(size.group(1)), int(size.group(2))
    if rotation % 180 == 90:
        w, h = h, w
    d = _DURATION.search(text)
    duration = int(d.group(1)) * 3600 + int(d.group(2)) * 60 + float(d.group(3)) if d else None
    fps = _stream_fps(line, p)
    count = count_packets(p, index)
    if count is None and duration:
        count = round(duration * fps)  # an estimate; the reader reports what it really decodes
    if count == 0:
        raise LganError(f"no frames in video: {p}")
    has_audio = any(m and m.group(2) == "Audio" for m in map(_STREAM.match, text.splitlines()))
    return MediaInfo(str(p), "video", w, h, fps, count, duration, rotation, has_audio)


def _ffmpeg_info(p: Path) -> str:
    """ffmpeg's description of the input (``ffmpeg -i`` always exits 1 without an output)."""
    import subprocess

    cmd = [_ffmpeg.ffmpeg_exe(), "-nostdin", "-hide_banner", "-i", _ffmpeg.ff_path(p)]
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True)
    text = proc.stderr.decode("utf-8", "replace")
    if "Input #0" not in text:
        raise LganError(f"not a readable video or image: {p} ({_ffmpeg.last_line(text)})")
    return text


def _video_stream(text: str, p: Path) -> tuple[int, str, int]:
    """``(stream index, stream line, rotation)`` of the first real video stream (no cover art)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = _STREAM.match(line)
        if m and m.group(2) == "Video" and "(attached pic)" not in line:
            rotation = 0
            for follow in lines[i + 1:]:
                if _STREAM.match(follow):
                    break
                if r := _ROTATION.search(follow):
                    rotation = round(float(r.group(1))) % 360
            return int(m.group(1)), m.group(3), rotation
    raise LganError(f"no video stream in: {p}")


def _stream_fps(line: str, p: Path) -> Fraction:
    rates = {kind: value for value, kind in _FPS.findall(line)}
    text = rates.get("fps") or rates.get("tbr")
    if text is None:
        log.warning("no frame rate in %s; assuming %s", p, DEFAULT_FPS)
        return DEFAULT_FPS
    return fps_from_text(text)


def count_packets(p: Path, stream_index: int) -> int | None:
    """Number of packets of stream ``stream_index`` (= frames), by demuxing with a stream copy."""
    args = ["-i", _ffmpeg.ff_path(p), "-map", f"0:{stream_index}", "-c", "copy", "-f", "null",
            "-progress", "pipe:1", "-nostats", "-"]
    try:
        out = _ffmpeg.run(args, "cannot read video", p).decode("ascii", "replace")
    except LganError as e:
        log.warning("%s", e)
        return None
    counts = re.findall(r"^frame=(\d+)", out, re.MULTILINE)
    return int(counts[-1]) if counts else None
