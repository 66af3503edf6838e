"""The three training sets: what one sample is for G1, for the mapping network and for SR.

Samples are indexed by ``(index, epoch)`` pairs from :class:`data.BatchSampler`; all randomness
comes from :func:`data.sample_rng`, so a sample is a pure function of ``(seed, epoch, index)``.
Datasets return uint8 arrays; the collate functions convert through ``imageops.to_tensor``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import torch

from lgan_video.atomic import atomic_path
from lgan_video.imageops import to_tensor
from lgan_video.resize import center_crop, resize, resize_short, sr_lowres
from lgan_video.training.data import Source, sample_rng


def crop(img: np.ndarray, x: int, y: int, w: int, h: int) -> np.ndarray:
    """The ``w x h`` window at ``(x, y)`` of an ``(H, W, ...)`` array."""
    return img[y:y + h, x:x + w]


def random_window(rng: np.random.Generator, h: int, w: int, size: int) -> tuple[int, int]:
    """Top-left ``(x, y)`` of a uniformly placed ``size x size`` window in an ``h x w`` image."""
    return int(rng.integers(0, w - size + 1)), int(rng.integers(0, h - size + 1))


def maybe_flip(img: np.ndarray, flip: bool) -> np.ndarray:
    """Mirror left-right when ``flip``; always returns a contiguous array."""
    return np.ascontiguousarray(img[:, ::-1] if flip else img)


class G1Dataset(torch.utils.data.Dataset):
    """Images resized (short side) and center-cropped to ``resolution``, randomly mirrored."""

    def __init__(self, source: Source, resolution: int, seed: int) -> None:
        self.source, self.resolution, self.seed = source, resolution, seed

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, key: tuple[int, int]) -> np.ndarray:
        index, epoch = key
        rng = sample_rng(self.seed, epoch, index)
        img = center_crop(resize_short(self.source.load(index), self.resolution), self.resolution)
        return maybe_flip(img, rng.random() < 0.5)  # (R, R, 3) uint8


def collate_images(batch: list[np.ndarray]) -> torch.Tensor:
    """uint8 ``(H, W, 3)`` samples -> ``(B, 3, H, W)`` float in [-1, 1]."""
    return to_tensor(np.stack(batch))


class MappingDataset(torch.utils.data.Dataset):
    """(structure map, appearance, target) triples for the mapping network.

    The target is a random ``size x size`` crop of the image resized to short side ``size``, maybe
    mirrored. Its map is extracted from the whole resized image (as at render time, where maps come
    from whole frames) and cropped/mirrored the same way; ``cache_dir`` keeps those maps as ``.npy``
    files keyed by the MapConfig. The appearance input is a *different* crop of the same image
    (60-100 % of the short side, anywhere, its own mirror) resized to ``appearance_size``: it shares
    colours and texture with the target but not its layout, so the style encoder cannot learn to
    copy structure and must learn the look. With ``train=False`` crops are central and there is no
    jitter (evaluation). With ``zoom > 1`` a training image is first resized to short side
    ``size * k`` for ``k`` drawn from ``ZOOM_LEVELS`` levels in ``[1, zoom]`` (so maps can still be
    cached per level), and the crop shows a part of it at that scale.
    """

    ZOOM_LEVELS = 3

    def __init__(self, source: Source, size: int, map_cfg, appearance_size: int, seed: int,
                 cache_dir: Path | None = None, train: bool = True, zoom: float = 1.0) -> None:
        self.source, self.size, self.map_cfg = source, size, map_cfg
        self.appearance_size, self.seed, self.train = appearance_size, seed, train
        self.cache_dir, self.zoom = cache_dir, zoom

    def _scale(self, rng: np.random.Generator) -> int:
        """Short side this sample's image is resized to (``size`` unless zooming)."""
        if not self.train or self.zoom <= 1:
            return self.size
        level = int(rng.integers(self.ZOOM_LEVELS))
        return round(self.size * (1 + (self.zoom - 1) * level / (self.ZOOM_LEVELS - 1)))

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, key: tuple[int, int]) -> dict[str, np.ndarray]:
        index, epoch = key
        rng = sample_rng(self.seed, epoch, index)
        short = self._scale(rng)
        full = resize_short(self.source.load(index), short)
        full_map = self._map(index, full, short)
        h, w = full.shape[:2]
        if self.train:
            (x, y), flip = random_window(rng, h, w, self.size), rng.random() < 0.5
        else:
            (x, y), flip = ((w - self.size) // 2, (h - self.size) // 2), False
        target = maybe_flip(crop(full, x, y, self.size, self.size), flip)
        structure = maybe_flip(crop(full_map, x, y, self.size, self.size), flip)
        return {"map": structure, "appearance": self._appearance(full, rng), "target": target}

    def _appearance(self, full: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        h, w = full.shape[:2]
        a = self.appearance_size
        if not self.train:
            return resize(full, (a, a))
        side = max(8, int(min(h, w) * rng.uniform(0.6, 1.0)))
        x, y = random_window(rng, h, w, side)
        return resize(maybe_flip(crop(full, x, y, side, side), rng.random() < 0.5), (a, a))

    def _map(self, index: int, full: np.ndarray, short: int) -> np.ndarray:
        from lgan_video.maps import extract_map

        if self.cache_dir is None:
            return extract_map(full, self.map_cfg)
        name = hashlib.sha1(self.source.names[index].encode()).hexdigest()[:20]
        path = self.cache_dir / map_cache_key(self.map_cfg, short) / f"{name}.npy"
        if path.exists():
            return np.load(path)
        structure = extract_map(full, self.map_cfg)
        with atomic_path(path) as tmp:  # workers may race: each renames its own identical copy
            np.save(tmp, structure)
        return structure


def map_cache_key(map_cfg, size: int) -> str:
    """A short hash naming the cache folder of maps made with ``map_cfg`` at ``size``."""
    blob = json.dumps({"map": map_cfg.to_dict(), "size": size}, sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()[:12]


def collate_mapping(batch: list[dict[str, np.ndarray]]) -> dict[str, torch.Tensor]:
    """-> ``map`` uint8 ``(B, H, W)``, ``appearance`` and ``target`` ``(B, 3, h, w)`` in [-1, 1]."""
    return {
        "map": torch.from_numpy(np.stack([b["map"] for b in batch])),
        "appearance": to_tensor(np.stack([b["appearance"] for b in batch])),
        "target": to_tensor(np.stack([b["target"] for b in batch])),
    }


class SRDataset(torch.utils.data.Dataset):
    """(LR, HR) pairs: a random ``patch x patch`` HR crop (mirrored, rotated) and its LR version.

    ``patch`` is rounded down to a multiple of ``scale``. LR = :func:`resize.sr_lowres`; with
    ``degrade`` a Real-ESRGAN-style first-order chain is applied (see :func:`degrade`).
    """

    def __init__(self, source: Source, patch: int, scale: int, seed: int, degrade: bool,
                 clean: float = 0.0) -> None:
        self.source, self.scale, self.seed, self.degrade = source, scale, seed, degrade
        self.clean = clean
        self.patch = patch - patch % scale

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, key: tuple[int, int]) -> dict[str, np.ndarray]:
        index, epoch = key
        rng = sample_rng(self.seed, epoch, index)
        img = self.source.load(index)
        if min(img.shape[:2]) < self.patch:
            img = resize_short(img, self.patch)
        x, y = random_window(rng, img.shape[0], img.shape[1], self.patch)
        hr = maybe_flip(crop(img, x, y, self.patch, self.patch), rng.random() < 0.5)
        hr = np.ascontiguousarray(np.rot90(hr, int(rng.integers(0, 4))))
        lr = degrade(hr, self.scale, rng, self.clean) if self.degrade else sr_lowres(hr, self.scale)
        return {"lr": lr, "hr": hr}


def degrade(hr: np.ndarray, scale: int, rng: np.random.Generator, clean: float = 0.0) -> np.ndarray:
    """Real-ESRGAN-like first-order degradation of uint8 ``(H, W, 3)`` -> LR ``(H/s, W/s, 3)``.

    With probability ``clean`` (drawn only when ``clean > 0``) only the downscale is applied
    (antialiased or plain, even odds): the clean inputs that rendered frames are.

    With probability 0.7 a Gaussian blur (sigma 0.2-2), then the bicubic downscale (antialiased
    or plain, even odds: frames reach SR downscaled either way), then with probability 0.5
    Gaussian noise (sigma 1-10 grey levels, colour or grey), then with probability 0.5 JPEG
    compression at quality 60-95. Lighter than the paper's second-order chain, which is tuned for
    real-world photos rather than stylized frames.
    """
    if clean > 0 and rng.random() < clean:
        return sr_lowres(hr, scale, antialias=bool(rng.random() < 0.5))
    img = hr
    if rng.random() < 0.7:
        sigma = float(rng.uniform(0.2, 2.0))
        k = 2 * int(np.ceil(3 * sigma)) + 1
        img = cv2.GaussianBlur(img, (k, k), sigma)
    img = sr_lowres(img, scale, antialias=bool(rng.random() < 0.5))
    if rng.random() < 0.5:
        sigma = float(rng.uniform(1.0, 10.0))
        shape = img.shape[:2] + (1,) if rng.random() < 0.4 else img.shape
        noise = rng.normal(0.0, sigma, size=shape).astype(np.float32)
        img = np.clip(img.astype(np.float32) + noise + 0.5, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        quality = int(rng.integers(60, 96))
        ok, buf = cv2.imencode(".jpg", img[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
        img = np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1])
    return img


def collate_sr(batch: list[dict[str, np.ndarray]]) -> dict[str, torch.Tensor]:
    """-> ``lr`` ``(B, 3, h, w)`` and ``hr`` ``(B, 3, s*h, s*w)``, both in [-1, 1]."""
    return {"lr": to_tensor(np.stack([b["lr"] for b in batch])),
            "hr": to_tensor(np.stack([b["hr"] for b in batch]))}
