"""Make the README's figures from a bundle: G1 samples, held-out translations, SR vs bicubic.

    python examples/readme_figures.py BUNDLE HOLDOUT_DIR OUT_DIR

Writes ``g1_samples.png`` (an 8x4 grid of G1 images from seeds 0..31), ``translations.png``
(rows of held-out images: image | edge map | edge translation | seg map | seg translation, each
painted in the look of that image itself, the evaluation setting) and ``sr_crops.png`` (bicubic
x2 | SR x2 | original, on crops of held-out images).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch

from lgan_video.imageops import to_tensor, to_uint8
from lgan_video.latents import seed_latent
from lgan_video.maps import extract_map, map_preview, map_to_tensor
from lgan_video.media.images import list_frames, load_image
from lgan_video.pipeline import Pipeline


def grid(images: list[np.ndarray], cols: int, pad: int = 2) -> np.ndarray:
    """uint8 (H, W, 3) images of one size -> one image, ``cols`` per row, white gaps."""
    h, w = images[0].shape[:2]
    rows = -(-len(images) // cols)
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), 255, np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        out[pad + r * (h + pad):pad + r * (h + pad) + h, pad + c * (w + pad):pad + c * (w + pad) + w] = img
    return out


def square(img: np.ndarray, size: int) -> np.ndarray:
    h, w = img.shape[:2]
    s = min(h, w)
    img = img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
    return cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)


def g1_samples(pipe: Pipeline, n: int = 32, show: int = 64) -> np.ndarray:
    z = torch.stack([seed_latent(i, pipe.z_dim) for i in range(n)])
    imgs = to_uint8(pipe.generate(z))
    return grid([cv2.resize(i, (show, show), interpolation=cv2.INTER_NEAREST) for i in imgs], 8)


def translation_rows(pipe: Pipeline, images: list[np.ndarray], size: int) -> np.ndarray:
    tiles = []
    for img in images:
        img = square(img, size)
        row = [img]
        for mode in pipe.modes:
            cfg = pipe.bundle.map_configs[mode]
            m = extract_map(img, cfg)
            out = pipe.translate(map_to_tensor(m, cfg), to_tensor(img), mode)
            row += [map_preview(m, cfg), to_uint8(out)[0]]
        tiles += row
    return grid(tiles, 1 + 2 * len(pipe.modes))


def sr_crops(pipe: Pipeline, images: list[np.ndarray], size: int) -> np.ndarray:
    s = pipe.scale
    tiles = []
    for img in images:
        hr = square(img, size * s)
        lr = cv2.resize(hr, (size, size), interpolation=cv2.INTER_AREA)
        bic = cv2.resize(lr, (size * s, size * s), interpolation=cv2.INTER_CUBIC)
        sr = to_uint8(pipe.upscale(to_tensor(lr)))[0]
        tiles += [bic, sr, hr]
    return grid(tiles, 3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundle")
    ap.add_argument("holdout", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--rows", type=int, default=6)
    args = ap.parse_args()
    pipe = Pipeline.from_bundle(args.bundle, device="cpu")
    files = list_frames(args.holdout)
    picks = [load_image(files[int(i)]) for i in np.linspace(0, len(files) - 1, args.rows)]
    args.out.mkdir(parents=True, exist_ok=True)
    figures = {
        "g1_samples.png": g1_samples(pipe),
        "translations.png": translation_rows(pipe, picks, pipe.work_size),
        "sr_crops.png": sr_crops(pipe, picks[:3], pipe.work_size),
    }
    for name, img in figures.items():
        cv2.imwrite(str(args.out / name), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        print(args.out / name, img.shape)


if __name__ == "__main__":
    main()
