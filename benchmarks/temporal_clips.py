"""Two 48-frame 640x360 test clips made by moving a camera over wallpaper photos (no footage ships).

- ``photo.mp4``: a pan across a dune-grass photo, then a cut (frame 24) to a slow zoom on a
  ladybird photo; a flower-patch "walker" crosses both shots (local motion, disocclusions).
- ``animated.mp4``: 4 black frames, then a cut to a pan and zoom across a painted illustration
  (elephants) with an icon sprite moving over it.

The photos come from Debian's ``mate-backgrounds`` and ``gnome-backgrounds`` packages::

    cd /tmp && apt-get download mate-backgrounds gnome-backgrounds
    for f in *backgrounds*.deb; do dpkg -x "$f" /tmp/backgrounds; done
    python benchmarks/temporal_clips.py /tmp/backgrounds /tmp/clips

Those photos are in the training split of ``examples/datasets`` (photos). ``--heldout`` makes the
same two kinds of clip from pictures of the *held-out* split instead (the default model's
real-footage figures use these), found anywhere under ROOT (e.g. ``DATA/raw`` of
``examples/datasets/prepare.py``, which keeps one folder per package):

- ``photo_heldout.mp4``: a pan up a tree trunk with a nuthatch, people walking blurred behind
  (lomiri-wallpapers-20.04 ``Kleiber_by_Lukas_Baubkus.jpg``), then a cut to a zoom on a wall
  clock (lomiri-wallpapers-16.04 ``greentock_by_Peter_Nerlich.jpg``); a leaf "walker"
  (mate-backgrounds ``RainDrops.jpg``) crosses both shots.
- ``animated_heldout.mp4``: 4 black frames, then a cut to a pan and zoom across a painted swamp
  (wesnoth-1.16-data ``story/swamp-03.jpg``) with a goldfish sprite (ukui-wallpapers
  ``goldfish.png``) swimming across.

Usage: python benchmarks/temporal_clips.py BACKGROUNDS_ROOT OUT_DIR [--heldout]
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

import cv2
import numpy as np

W, H, N, FPS = 640, 360, 48, 24


def _load(path: Path) -> np.ndarray:
    image = cv2.imread(str(path))
    if image is None:
        raise SystemExit(f"cannot read {path}: extract the packages first (see --help)")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _view(img: np.ndarray, cx: float, cy: float, zoom: float) -> np.ndarray:
    """A W x H camera centred at (cx, cy) (fractions of the image), ``zoom`` x the fitted size."""
    h, w = img.shape[:2]
    s = min(w / W, h / H) / zoom
    m = np.array([[s, 0, cx * w - s * W / 2], [0, s, cy * h - s * H / 2]], np.float32)
    interp = cv2.INTER_AREA if s > 1 else cv2.INTER_CUBIC
    return cv2.warpAffine(img, m, (W, H), flags=interp | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REFLECT)


def _sprite(src: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray]:
    """An elliptical patch of ``src`` (2r x 2r) and its soft mask."""
    h, w = src.shape[:2]
    patch = cv2.resize(src[h // 4:3 * h // 4, w // 3:w // 3 + h // 2], (2 * r, 2 * r),
                       interpolation=cv2.INTER_AREA)
    mask = np.zeros((2 * r, 2 * r), np.float32)
    cv2.ellipse(mask, (r, r), (r * 2 // 3, r - 2), 0, 0, 360, 1, -1, cv2.LINE_AA)
    return patch, mask


def _paste(frame: np.ndarray, sprite, x: float, y: float) -> np.ndarray:
    patch, mask = sprite
    r = patch.shape[0] // 2
    x, y = int(round(x)), int(round(y))
    if x - r < 0 or x + r > W or y - r < 0 or y + r > H:
        return frame
    m = mask[..., None]
    region = frame[y - r:y + r, x - r:x + r]
    frame[y - r:y + r, x - r:x + r] = (region * (1 - m) + patch * m).astype(np.uint8)
    return frame


def _write(path: Path, frames: list[np.ndarray]) -> None:
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-f", "rawvideo",
           "-pix_fmt", "rgb24", "-s", f"{W}x{H}", "-framerate", str(FPS), "-i", "pipe:0",
           "-c:v", "libx264", "-crf", "16", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(cmd, input=np.stack(frames).tobytes(), check=True)


def photo(root: Path) -> list[np.ndarray]:
    mate = root / "usr/share/backgrounds/mate/nature"
    dune, lady = _load(mate / "Dune.jpg"), _load(mate / "LadyBird.jpg")
    walker = _sprite(_load(mate / "YellowFlower.jpg"), 40)
    frames = []
    for t in range(N):
        if t < N // 2:
            f = _paste(_view(dune, 0.35 + 0.004 * t, 0.5, 1.3), walker, 80 + 9 * t, 250)
        else:
            k = t - N // 2
            f = _paste(_view(lady, 0.55, 0.45, 1.2 + 0.012 * k), walker, 560 - 8 * k, 120 + 2 * k)
        frames.append(f)
    return frames


def animated(root: Path) -> list[np.ndarray]:
    art = _load(root / "usr/share/backgrounds/mate/abstract/Elephants_3840x2160.jpg")
    icon = _sprite(_load(root / "usr/share/backgrounds/gnome/pixels-l.webp"), 36)
    frames = [np.zeros((H, W, 3), np.uint8)] * 4
    for k in range(N - 4):
        f = _view(art, 0.3 + 0.005 * k, 0.55 - 0.002 * k, 1.6 + 0.01 * k)
        frames.append(_paste(f, icon, 100 + 10 * k, 200 - 2 * k))
    return frames


def _find(root: Path, relative: str) -> np.ndarray:
    """The picture whose path ends with ``relative`` anywhere under ``root``."""
    for path in sorted(root.rglob(Path(relative).name)):
        if path.as_posix().endswith(relative):
            return _load(path)
    raise SystemExit(f"{relative} not found under {root}: extract the packages first (see --help)")


def heldout_photo(root: Path) -> list[np.ndarray]:
    tree = _find(root, "backgrounds/Kleiber_by_Lukas_Baubkus.jpg")
    clock = _find(root, "backgrounds/greentock_by_Peter_Nerlich.jpg")
    walker = _sprite(_find(root, "mate/nature/RainDrops.jpg"), 40)
    frames = []
    for t in range(N):
        if t < N // 2:
            f = _paste(_view(tree, 0.45, 0.6 - 0.004 * t, 1.6), walker, 80 + 9 * t, 250)
        else:
            k = t - N // 2
            f = _paste(_view(clock, 0.45, 0.5, 1.2 + 0.012 * k), walker, 560 - 8 * k, 120 + 2 * k)
        frames.append(f)
    return frames


def heldout_animated(root: Path) -> list[np.ndarray]:
    art = _find(root, "images/story/swamp-03.jpg")
    fish = _sprite(_find(root, "backgrounds/goldfish.png"), 36)
    frames = [np.zeros((H, W, 3), np.uint8)] * 4
    for k in range(N - 4):
        f = _view(art, 0.4 + 0.004 * k, 0.5 - 0.002 * k, 1.3 + 0.01 * k)
        frames.append(_paste(f, fish, 100 + 10 * k, 200 - 2 * k))
    return frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="where the background packages were extracted")
    parser.add_argument("out", type=Path)
    parser.add_argument("--heldout", action="store_true",
                        help="clips from held-out pictures (photo_heldout.mp4, animated_heldout.mp4)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.heldout:
        _write(args.out / "photo_heldout.mp4", heldout_photo(args.root))
        _write(args.out / "animated_heldout.mp4", heldout_animated(args.root))
        return
    _write(args.out / "photo.mp4", photo(args.root))
    _write(args.out / "animated.mp4", animated(args.root))


if __name__ == "__main__":
    main()
