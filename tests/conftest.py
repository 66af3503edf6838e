"""Shared pytest fixtures: tiny generated media and tiny random model bundles."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _one_torch_thread(monkeypatch):
    """One intra-op thread: tiny models on 2 shared cores run ~10x faster than with contention.

    Commands apply a ``--threads`` budget, by default every available core: here that is one.
    """
    from lgan_video import devices
    from lgan_video.testing import torch_threads

    monkeypatch.setattr(devices, "available_cores", lambda: 1)
    with torch_threads(1):
        yield


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory):
    """A bundle of tiny random networks (edge + seg mapping, x2 SR) built once per session."""
    from lgan_video.testing import make_tiny_bundle

    return make_tiny_bundle(tmp_path_factory.mktemp("bundles") / "tiny")


# --- Tiny media, generated once per session with the bundled ffmpeg (no binary fixtures). ---

CLIP_FRAMES, CLIP_W, CLIP_H, CLIP_FPS = 12, 160, 120, 12


def _encode_clip(path: Path, frames: np.ndarray, fps="12", audio: str | None = None,
                 codec: tuple[str, ...] | None = None) -> Path:
    """Encode uint8 RGB ``frames (N, H, W, 3)`` to ``path`` with plain ffmpeg (not our writer).

    ``audio``: an ffmpeg lavfi audio source (e.g. ``sine=frequency=440:duration=1``) muxed as AAC.
    ``codec``: encoder arguments (default: H.264 at CRF 10, yuv420p).
    """
    import imageio_ffmpeg

    n, h, w, _ = frames.shape
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-y",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-framerate", str(fps),
           "-i", "pipe:0"]
    if audio:
        cmd += ["-f", "lavfi", "-i", audio, "-map", "0:v", "-map", "1:a", "-c:a", "aac"]
    cmd += list(codec or ("-c:v", "libx264", "-crf", "10", "-pix_fmt", "yuv420p"))
    subprocess.run(cmd + [str(path)], input=frames.tobytes(), check=True)
    return path


@pytest.fixture(scope="session")
def make_clip():
    """Factory ``make_clip(path, frames, fps="12", audio=None, codec=None) -> path``."""
    return _encode_clip


@pytest.fixture(scope="session")
def clip_frames() -> np.ndarray:
    """The 12 source frames ``(12, 120, 160, 3)`` uint8 behind ``clip_mp4`` and friends."""
    from lgan_video.synthetic import scene_array

    return scene_array(CLIP_FRAMES, CLIP_W, CLIP_H, seed=0)


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def clip_mp4(media_dir, clip_frames) -> Path:
    """12 frames, 160x120, 12 fps, H.264, no audio (read-only: shared by the session)."""
    return _encode_clip(media_dir / "clip.mp4", clip_frames)


@pytest.fixture(scope="session")
def clip_mp4_audio(media_dir, clip_frames) -> Path:
    """``clip_mp4`` plus a 1 s 440 Hz sine-tone AAC track."""
    tone = "sine=frequency=440:sample_rate=44100:duration=1"
    return _encode_clip(media_dir / "clip audio.mp4", clip_frames, audio=tone)


@pytest.fixture(scope="session")
def clip_gif(media_dir, clip_frames) -> Path:
    """The same 12 frames as an animated GIF at 12 fps, looping forever."""
    return _encode_clip(media_dir / "clip.gif", clip_frames, codec=("-loop", "0"))


@pytest.fixture(scope="session")
def frames_dir(media_dir, clip_frames) -> Path:
    """A folder ``f1.png`` .. ``f12.png`` of the 12 frames (natural order != text order)."""
    import cv2

    folder = media_dir / "frames"
    folder.mkdir()
    for i, frame in enumerate(clip_frames, start=1):
        cv2.imwrite(str(folder / f"f{i}.png"), frame[:, :, ::-1])
    return folder
