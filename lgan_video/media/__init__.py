"""Media I/O: probe, read and write videos, GIFs, WebPs, frame folders and images.

Frames are uint8 RGB ``(H, W, 3)`` arrays. ``probe`` says what a source holds, ``open_reader``
streams its frames, ``open_writer`` encodes frames atomically, ``check_output`` validates an
output path before work starts. ffmpeg is the one imageio-ffmpeg ships.
"""

from lgan_video.media.atomic import check_output, output_kind
from lgan_video.media.audio import audio_duration
from lgan_video.media.images import natural_key
from lgan_video.media.probe import DEFAULT_FPS, MediaInfo, probe
from lgan_video.media.reader import FrameReader, open_reader, read_batches
from lgan_video.media.suffixes import CLIP_SUFFIXES, IMAGE_SUFFIXES, VIDEO_SUFFIXES
from lgan_video.media.timecode import StartAt, format_fps, parse_start
from lgan_video.media.writer import DEFAULT_QUALITY, FrameWriter, open_writer
from lgan_video.resize import scaled_size

__all__ = [
    "DEFAULT_FPS",
    "CLIP_SUFFIXES",
    "DEFAULT_QUALITY",
    "IMAGE_SUFFIXES",
    "FrameReader",
    "FrameWriter",
    "MediaInfo",
    "StartAt",
    "VIDEO_SUFFIXES",
    "audio_duration",
    "check_output",
    "format_fps",
    "natural_key",
    "open_reader",
    "open_writer",
    "output_kind",
    "parse_start",
    "probe",
    "read_batches",
    "scaled_size",
]
