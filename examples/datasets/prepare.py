"""Fetch public-domain training images from Debian's archive and prepare them as PNG folders.

Sources (all redistributable, nothing downloaded from a model or data hub):

- ``openclipart``: Debian's ``openclipart-png`` (about 8,000 public-domain clip-art PNGs). Alpha is
  flattened onto white and each image is padded to a white square, so the whole drawing stays in
  view, then resized to ``--size``. This is the cartoon domain that plays the paper's anime role.
- ``wallpapers``: photographs and artwork from ``gnome-backgrounds``, ``mate-backgrounds`` (and any
  other package named with ``--package``), resized so the short side is ``--size``.

Raw data never enters the repository: the ``.deb`` files are unpacked into a temporary folder.

Examples:
    python examples/datasets/prepare.py openclipart data/clipart256 --size 256 --holdout 200
    python examples/datasets/prepare.py resize data/clipart256 data/clipart64 --size 64
    python examples/datasets/prepare.py wallpapers data/photos --size 512
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

import click
import cv2
import numpy as np

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp"}


def fetch_package(name: str, workdir: Path) -> Path:
    """``apt-get download NAME`` then ``dpkg -x`` into ``workdir/NAME``; returns that folder."""
    subprocess.run(["apt-get", "download", name], cwd=workdir, check=True,
                   stdout=subprocess.DEVNULL)
    deb = next(workdir.glob(f"{name}_*.deb"))
    out = workdir / name
    subprocess.run(["dpkg", "-x", str(deb), str(out)], check=True)
    return out


def read_rgb(path: Path) -> np.ndarray | None:
    """Any image as uint8 RGB ``(H, W, 3)``: alpha flattened onto white, 16-bit scaled down."""
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        return None
    if img.dtype == np.uint16:
        img = (img // 257).astype(np.uint8)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        alpha = img[:, :, 3:4].astype(np.float32) / 255.0
        img = (img[:, :, :3] * alpha + 255.0 * (1.0 - alpha)).round().astype(np.uint8)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def pad_square(rgb: np.ndarray, margin: float = 0.06) -> np.ndarray:
    """Centre the image on a white square with a small margin."""
    h, w = rgb.shape[:2]
    side = int(round(max(h, w) * (1.0 + 2 * margin)))
    canvas = np.full((side, side, 3), 255, np.uint8)
    y, x = (side - h) // 2, (side - w) // 2
    canvas[y:y + h, x:x + w] = rgb
    return canvas


def resize_short(rgb: np.ndarray, size: int) -> np.ndarray:
    """Resize so the short side is ``size`` (area interpolation when shrinking)."""
    h, w = rgb.shape[:2]
    s = size / min(h, w)
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
    return cv2.resize(rgb, (max(size, round(w * s)), max(size, round(h * s))), interpolation=interp)


def is_holdout(name: str, holdout: int, total: int) -> bool:
    """Stable split: a file is held out by the hash of its name, about ``holdout`` of ``total``."""
    digest = int(hashlib.sha1(name.encode()).hexdigest()[:8], 16)
    return total > 0 and digest % total < holdout


def write_images(files: list[Path], out: Path, size: int, square: bool, holdout: int,
                 min_side: int) -> tuple[int, int, int]:
    """Prepare ``files`` into ``out/train`` and ``out/holdout``; returns (train, holdout, skipped)."""
    counts = [0, 0, 0]
    for split in ("train", "holdout"):
        (out / split).mkdir(parents=True, exist_ok=True)
    for path in files:
        rgb = read_rgb(path)
        if rgb is None or min(rgb.shape[:2]) < min_side:
            counts[2] += 1
            continue
        rgb = resize_short(pad_square(rgb) if square else rgb, size)
        key = f"{path.parent.name}_{path.stem}"
        held = is_holdout(key, holdout, len(files))
        cv2.imwrite(str(out / ("holdout" if held else "train") / f"{key}.png"),
                    cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        counts[1 if held else 0] += 1
    return counts[0], counts[1], counts[2]


def collect(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


@click.group()
def cli() -> None:
    """Prepare training data from Debian packages."""


@cli.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--size", default=64, show_default=True, help="Output side in pixels.")
@click.option("--holdout", default=200, show_default=True, help="About this many held out.")
@click.option("--limit", type=int, default=None, help="Use at most this many images.")
def openclipart(out: Path, size: int, holdout: int, limit: int | None) -> None:
    """Clip art from openclipart-png, padded to white squares."""
    with tempfile.TemporaryDirectory() as tmp:
        root = fetch_package("openclipart-png", Path(tmp))
        files = collect(root)[:limit]
        n = write_images(files, out, size, square=True, holdout=holdout, min_side=24)
    click.echo(f"{out}: {n[0]} train, {n[1]} holdout, {n[2]} skipped")


@cli.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--size", default=512, show_default=True, help="Short side in pixels.")
@click.option("--package", "packages", multiple=True,
              default=("gnome-backgrounds", "mate-backgrounds"), show_default=True)
@click.option("--holdout", default=4, show_default=True, help="About this many held out.")
def wallpapers(out: Path, size: int, packages: tuple[str, ...], holdout: int) -> None:
    """Photographs and artwork from wallpaper packages (SVGs are skipped)."""
    with tempfile.TemporaryDirectory() as tmp:
        files = [f for name in packages for f in collect(fetch_package(name, Path(tmp)))]
        n = write_images(files, out, size, square=False, holdout=holdout, min_side=size)
    click.echo(f"{out}: {n[0]} train, {n[1]} holdout, {n[2]} skipped")


@cli.command()
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--size", default=64, show_default=True, help="Short side in pixels.")
def resize(src: Path, out: Path, size: int) -> None:
    """Resize a prepared folder (keeping its train/holdout split), e.g. 256 px -> 64 px."""
    n = 0
    for path in collect(src):
        dest = out / path.relative_to(src)
        dest.parent.mkdir(parents=True, exist_ok=True)
        rgb = resize_short(read_rgb(path), size)
        cv2.imwrite(str(dest), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        n += 1
    click.echo(f"{out}: {n} images at {size} px")


if __name__ == "__main__":
    sys.exit(cli())
