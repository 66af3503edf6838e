"""Build the training sets from Debian packages: photos, cartoon/animation frames and clip art.

Every source is a Debian package fetched with ``apt-get download`` and unpacked with ``dpkg -x``
(nothing comes from a model or data hub; raw data never enters the repository). Each set is
deduplicated by a perceptual hash (near-identical copies such as one wallpaper at several
resolutions keep only the largest), split into ``train/`` and ``holdout/`` by a hash of the file
name (stable whatever else changes), and described by ``manifest.json``: packages, versions,
licences (their ``copyright`` files are copied to ``licenses/``), counts and the split rule.

Sets:

- ``photos``: wallpaper packages (photographs and some digital paintings), short side ``--size``.
- ``cartoon``: full-frame game and cartoon art (backgrounds, story paintings, textures) from game
  data packages, plus ``--composites`` synthetic animation frames: cartoon characters and props
  (RGBA sprites from the same packages) pasted onto cartoon backgrounds. A composite inherits the
  split of its background and only uses sprites of the same split.
- ``openclipart``: clip art from ``openclipart-png``, flattened on white and padded square.

Debian's ``opencv-doc`` sample media are reserved as an independent test set and are never used.

Examples:
    python examples/datasets/prepare.py photos data/photos --size 512
    python examples/datasets/prepare.py cartoon data/cartoon --size 384 --composites 3000
    python examples/datasets/prepare.py openclipart data/clipart256 --size 256
    python examples/datasets/prepare.py resize data/photos data/photos128 --size 128
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import click
import cv2
import numpy as np

from lgan_video.media.suffixes import IMAGE_SUFFIXES
from lgan_video.resize import resize_short

PHOTO_PACKAGES = (
    "gnome-backgrounds", "mate-backgrounds", "plasma-workspace-wallpapers", "ukui-wallpapers",
    "lomiri-wallpapers", "lomiri-wallpapers-16.04", "lomiri-wallpapers-20.04", "sway-backgrounds",
    "debian-edu-artwork-emerald", "debian-edu-artwork-spacefun", "debian-edu-artwork-softwaves",
)
CARTOON_PACKAGES = ("supertux-data", "hedgewars-data", "wesnoth-1.16-data", "freedroidrpg-data",
                    "pingus-data")
RESERVED = ("opencv-doc",)  # the independent test set: never fetched here


# ----------------------------------------------------------------------------- packages

def fetch_package(name: str, workdir: Path, cache: Path | None = None) -> tuple[Path, str]:
    """``apt-get download NAME`` (or a ``.deb`` already in ``cache``), ``dpkg -x`` into
    ``workdir/NAME``; returns (that folder, package version)."""
    if name in RESERVED:
        raise click.ClickException(f"{name} is reserved as the independent test set")
    debs = sorted(cache.glob(f"{name}_*.deb")) if cache else []
    if not debs:
        subprocess.run(["apt-get", "download", name], cwd=workdir, check=True,
                       stdout=subprocess.DEVNULL)
        debs = sorted(workdir.glob(f"{name}_*.deb"))
    deb = debs[-1]
    out = workdir / name
    subprocess.run(["dpkg", "-x", str(deb), str(out)], check=True)
    version = deb.name.split("_")[1].replace("%3a", ":")
    return out, version


def licence_summary(root: Path, name: str) -> list[str]:
    """The distinct ``License:`` fields of the package's Debian copyright file."""
    path = root / "usr/share/doc" / name / "copyright"
    if not path.exists():
        return ["see the package's copyright file"]
    found = re.findall(r"^License:\s*(\S.*)$", path.read_text(errors="replace"), re.M)
    return sorted(set(found)) or ["see the package's copyright file"]


def record_package(root: Path, name: str, version: str, out: Path) -> dict:
    """Copy the package's copyright file into ``out/licenses``; return its manifest entry."""
    src = root / "usr/share/doc" / name / "copyright"
    if src.exists():
        (out / "licenses").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, out / "licenses" / f"{name}.copyright")
    return {"package": name, "version": version, "licenses": licence_summary(root, name)}


# ----------------------------------------------------------------------------- images

def read_rgba(path: Path) -> np.ndarray | None:
    """Any image as uint8 RGBA ``(H, W, 4)`` (opaque alpha where the file has none)."""
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None or img.ndim not in (2, 3):
        return None
    if img.dtype == np.uint16:
        img = (img // 257).astype(np.uint8)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 3:
        img = np.concatenate([img, np.full(img.shape[:2] + (1,), 255, np.uint8)], axis=2)
    return cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA)


def flatten(rgba: np.ndarray, background: int = 255) -> np.ndarray:
    """RGBA -> RGB over a flat grey level."""
    alpha = rgba[:, :, 3:4].astype(np.float32) / 255.0
    return (rgba[:, :, :3] * alpha + background * (1.0 - alpha)).round().astype(np.uint8)


def read_rgb(path: Path) -> np.ndarray | None:
    """Any image as uint8 RGB ``(H, W, 3)``: alpha flattened onto white."""
    rgba = read_rgba(path)
    return None if rgba is None else flatten(rgba)


def pad_square(rgb: np.ndarray, margin: float = 0.06) -> np.ndarray:
    """Centre the image on a white square with a small margin."""
    h, w = rgb.shape[:2]
    side = int(round(max(h, w) * (1.0 + 2 * margin)))
    canvas = np.full((side, side, 3), 255, np.uint8)
    y, x = (side - h) // 2, (side - w) // 2
    canvas[y:y + h, x:x + w] = rgb
    return canvas


def dhash(rgb: np.ndarray) -> int:
    """64-bit difference hash of the grey image (robust to resizing and mild compression)."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (small[:, 1:] > small[:, :-1]).flatten()
    return int(np.packbits(bits).view(">u8")[0])


def dedupe(items: list[tuple[str, np.ndarray]], max_distance: int = 4) -> list[tuple[str, np.ndarray]]:
    """Keep one of each group of near-identical images (Hamming distance of dhashes
    ``<= max_distance``), the one with the most pixels."""
    order = sorted(range(len(items)), key=lambda i: -items[i][1].shape[0] * items[i][1].shape[1])
    kept: list[int] = []
    hashes = np.zeros(len(items), np.uint64)
    for i in order:
        h = np.uint64(dhash(items[i][1][:, :, :3]))
        if kept:
            xor = np.bitwise_xor(hashes[: len(kept)], h)
            dist = np.unpackbits(xor.view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1)
            if dist.min() <= max_distance:
                continue
        hashes[len(kept)] = h
        kept.append(i)
    return [items[i] for i in sorted(kept)]


def is_holdout(key: str, fraction: float) -> bool:
    """Stable split: held out when the hash of ``key`` falls in the first ``fraction``."""
    digest = int(hashlib.sha1(key.encode()).hexdigest()[:8], 16)
    return digest / 0xFFFFFFFF < fraction


def collect(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def key_of(root: Path, path: Path) -> str:
    """A flat, stable file name from the path inside the package."""
    rel = path.relative_to(root).with_suffix("")
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", "_".join(rel.parts[-3:]))


def is_holdout_v1(key: str, holdout: int, total: int) -> bool:
    """The first default model's split: about ``holdout`` of ``total`` files by name hash."""
    digest = int(hashlib.sha1(key.encode()).hexdigest()[:8], 16)
    return total > 0 and digest % total < holdout


def write_split(items: list[tuple[str, np.ndarray]], out: Path, size: int, fraction: float,
                square: bool = False,
                legacy_holdout: tuple[int, int] | None = None) -> dict[str, int]:
    """Write RGB ``items`` resized to short side ``size`` into ``out/train`` / ``out/holdout``."""
    counts = {"train": 0, "holdout": 0}
    for split in counts:
        (out / split).mkdir(parents=True, exist_ok=True)
    for key, rgb in items:
        rgb = resize_short(pad_square(rgb) if square else rgb, size)
        held = (is_holdout_v1(key, *legacy_holdout) if legacy_holdout is not None
                else is_holdout(key, fraction))
        split = "holdout" if held else "train"
        cv2.imwrite(str(out / split / f"{key}.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        counts[split] += 1
    return counts


def write_manifest(out: Path, name: str, packages: list[dict], counts: dict, **extra) -> None:
    manifest = {"set": name, "packages": packages, "counts": counts,
                "split": "holdout when int(sha1(file stem)[:8], 16) / 0xFFFFFFFF < fraction",
                "dedupe": "dhash 8x8, Hamming distance <= 4, keep the largest",
                "reserved_never_used": list(RESERVED), **extra}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


# ----------------------------------------------------------------------------- cartoon pieces

def is_opaque(rgba: np.ndarray) -> bool:
    return bool((rgba[:, :, 3] > 250).mean() > 0.98)


def is_sprite(rgba: np.ndarray) -> bool:
    """A character or prop: 40-400 px, partly transparent, not a thin strip or a sheet."""
    h, w = rgba.shape[:2]
    cover = (rgba[:, :, 3] > 128).mean()
    return 40 <= min(h, w) and max(h, w) <= 400 and max(h, w) < 3 * min(h, w) and 0.25 < cover < 0.95


def paste(canvas: np.ndarray, sprite: np.ndarray, x: int, y: int) -> None:
    """Alpha-blend RGBA ``sprite`` onto RGB ``canvas`` at ``(x, y)`` (clipped at the borders)."""
    h, w = sprite.shape[:2]
    H, W = canvas.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    s = sprite[y0 - y:y1 - y, x0 - x:x1 - x].astype(np.float32)
    a = s[:, :, 3:4] / 255.0
    region = canvas[y0:y1, x0:x1].astype(np.float32)
    canvas[y0:y1, x0:x1] = (s[:, :, :3] * a + region * (1 - a)).round().astype(np.uint8)


def composite(background: np.ndarray, sprites: list[np.ndarray], size: int,
              rng: np.random.Generator) -> np.ndarray:
    """A synthetic animation frame: ``background`` (short side ``size``) with 2-6 sprites, each
    scaled to 15-45 % of the short side, mirrored at random, placed anywhere."""
    canvas = resize_short(background, size).copy()
    for _ in range(int(rng.integers(2, 7))):
        sprite = sprites[int(rng.integers(len(sprites)))]
        scale = size * rng.uniform(0.15, 0.45) / max(sprite.shape[:2])
        h, w = (max(4, round(d * scale)) for d in sprite.shape[:2])
        s = cv2.resize(sprite, (w, h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
        if rng.random() < 0.5:
            s = s[:, ::-1]
        y = int(rng.integers(-h // 4, canvas.shape[0] - 3 * h // 4))
        x = int(rng.integers(-w // 4, canvas.shape[1] - 3 * w // 4))
        paste(canvas, np.ascontiguousarray(s), x, y)
    return canvas


def load_cartoon_pieces(roots: dict[str, Path]) -> tuple[list, list]:
    """(frames, sprites): full-frame opaque art >= 256 px, and sprites, as ``(key, RGBA)``."""
    frames, sprites = [], []
    for name, root in roots.items():
        for path in collect(root):
            if "/doc/" in str(path):
                continue  # manual screenshots and translations of one image
            rgba = read_rgba(path)
            if rgba is None:
                continue
            key = f"{name.split('-')[0]}_{key_of(root, path)}"
            if min(rgba.shape[:2]) >= 256 and is_opaque(rgba):
                frames.append((key, rgba[:, :, :3]))
            elif is_sprite(rgba):
                sprites.append((key, rgba))
    return frames, sprites


# ----------------------------------------------------------------------------- commands

@click.group()
def cli() -> None:
    """Prepare training data from Debian packages."""


@cli.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--size", default=512, show_default=True, help="Short side in pixels.")
@click.option("--holdout", default=0.12, show_default=True, help="Fraction held out.")
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder with already downloaded .deb files.")
def photos(out: Path, size: int, holdout: float, cache: Path | None) -> None:
    """Photographs and digital paintings from wallpaper packages (SVGs skipped)."""
    packages, items = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name in PHOTO_PACKAGES:
            root, version = fetch_package(name, Path(tmp), cache)
            packages.append(record_package(root, name, version, out))
            for path in collect(root):
                rgb = read_rgb(path)
                if rgb is not None and min(rgb.shape[:2]) >= size:
                    items.append((f"{name}_{key_of(root, path)}", rgb))
    kept = dedupe(items)
    counts = write_split(kept, out, size, holdout) | {"duplicates_dropped": len(items) - len(kept)}
    write_manifest(out, "photos", packages, counts, size=size, holdout_fraction=holdout)
    click.echo(f"{out}: {counts}")


@cli.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--size", default=384, show_default=True, help="Short side in pixels.")
@click.option("--holdout", default=0.12, show_default=True, help="Fraction held out.")
@click.option("--composites", default=3000, show_default=True,
              help="Synthetic frames (sprites on backgrounds) to add.")
@click.option("--seed", default=0, show_default=True)
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder with already downloaded .deb files.")
def cartoon(out: Path, size: int, holdout: float, composites: int, seed: int,
            cache: Path | None) -> None:
    """Game and cartoon art, plus composite animation frames built from it."""
    packages, roots = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in CARTOON_PACKAGES:
            roots[name], version = fetch_package(name, Path(tmp), cache)
            packages.append(record_package(roots[name], name, version, out))
        frames, sprites = load_cartoon_pieces(roots)
    frames, sprites = dedupe(frames), dedupe(sprites, max_distance=0)
    counts = write_split(frames, out, size, holdout)
    rng = np.random.default_rng(seed)
    for split in ("train", "holdout"):
        bgs = [rgb for k, rgb in frames if is_holdout(k, holdout) == (split == "holdout")]
        sps = [s for k, s in sprites if is_holdout(k, holdout) == (split == "holdout")]
        n = round(composites * (holdout if split == "holdout" else 1 - holdout))
        for i in range(n if bgs and sps else 0):
            rgb = composite(bgs[int(rng.integers(len(bgs)))], sps, size, rng)
            cv2.imwrite(str(out / split / f"composite_{split}_{i:05d}.png"),
                        cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
            counts[f"{split}_composites"] = i + 1
    counts |= {"frames": len(frames), "sprites": len(sprites)}
    write_manifest(out, "cartoon", packages, counts, size=size, holdout_fraction=holdout,
                   composites="sprites of the same split pasted on backgrounds of that split")
    click.echo(f"{out}: {counts}")


@cli.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--size", default=256, show_default=True, help="Output side in pixels.")
@click.option("--holdout", default=0.025, show_default=True, help="Fraction held out.")
@click.option("--limit", type=int, default=None, help="Use at most this many images.")
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder with already downloaded .deb files.")
@click.option("--v1-split", "v1_split", type=int, default=None, metavar="N",
              help="Reproduce the first default model's data: no dedupe, about N held out.")
def openclipart(out: Path, size: int, holdout: float, limit: int | None,
                cache: Path | None, v1_split: int | None) -> None:
    """Clip art from openclipart-png, padded to white squares."""
    with tempfile.TemporaryDirectory() as tmp:
        root, version = fetch_package("openclipart-png", Path(tmp), cache)
        package = record_package(root, "openclipart-png", version, out)
        package["licenses"] = ["public domain (Open Clip Art Library)"]
        files = collect(root)[:limit]
        items = [(f"{p.parent.name}_{p.stem}", rgb) for p in files
                 if (rgb := read_rgb(p)) is not None and min(rgb.shape[:2]) >= 24]
    kept = items if v1_split is not None else dedupe(items, max_distance=0)
    legacy = (v1_split, len(files)) if v1_split is not None else None  # v1 hashed over all files
    counts = write_split(kept, out, size, holdout, square=True, legacy_holdout=legacy)
    counts["duplicates_dropped"] = len(items) - len(kept)
    write_manifest(out, "openclipart", [package], counts, size=size, holdout_fraction=holdout)
    click.echo(f"{out}: {counts}")


@cli.command()
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--size", default=64, show_default=True, help="Short side in pixels.")
def resize(src: Path, out: Path, size: int) -> None:
    """Resize a prepared folder (keeping its train/holdout split), e.g. 512 px -> 128 px."""
    n = 0
    for path in collect(src):
        dest = out / path.relative_to(src)
        dest.parent.mkdir(parents=True, exist_ok=True)
        rgb = resize_short(read_rgb(path), size)
        cv2.imwrite(str(dest), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        n += 1
    if (src / "manifest.json").exists():
        shutil.copyfile(src / "manifest.json", out / "manifest.json")
    click.echo(f"{out}: {n} images at {size} px")


if __name__ == "__main__":
    sys.exit(cli())
