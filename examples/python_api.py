"""The lgan-video Python API in one script: a look from G1, one translated frame, a whole video.

    python examples/python_api.py INPUT OUTPUT [--model default] [--mode edge]

1. ``Pipeline.from_bundle`` loads the three networks of a bundle (CUDA bf16/fp16 when present).
2. ``generate`` turns a seed's latent into a G1 image: the "look".
3. ``translate`` paints one frame's structure map in that look; ``upscale`` runs SR on it.
4. ``render`` streams every frame of INPUT through the same steps, the look walking from seed
   to seed, and the frames go into OUTPUT (MP4, GIF, WebP or a folder, by suffix).
"""

from __future__ import annotations

import argparse
import logging
import sys

import torch

from lgan_video.errors import LganError
from lgan_video.imageops import to_uint8
from lgan_video.latents import iter_latents, parse_seeds, seed_latent
from lgan_video.maps import extract_map, map_to_tensor
from lgan_video.media import check_output, open_reader, open_writer
from lgan_video.pipeline import Pipeline

log = logging.getLogger("python_api")


def one_frame(pipe: Pipeline, input: str, mode: str, seed: int) -> torch.Tensor:
    """The first frame of ``input`` translated in the look of ``seed``: ``(1, 3, H, W)``."""
    look = pipe.generate(seed_latent(seed, pipe.z_dim)[None])  # (1, 3, r, r) in [-1, 1]
    log.info("G1 look for seed %d: %s", seed, tuple(look.shape))
    # Read one frame at the bundle's working size (short side), as render does.
    with open_reader(input, max_frames=1, size=pipe.bundle.work_size) as reader:
        frame = next(iter(reader))  # (H, W, 3) uint8
    map_cfg = pipe.bundle.map_configs[mode]
    structure = extract_map(frame, map_cfg)  # (H, W) uint8: edges 0/255 or seg labels
    maps = map_to_tensor(structure[None], map_cfg, pipe.device, pipe.dtype)  # (1, C, H, W)
    painted = pipe.translate(maps, look, mode)  # (1, 3, H, W) in [-1, 1]
    upscaled = pipe.upscale(painted)  # (1, 3, s*H, s*W)
    log.info("frame %s -> map %s -> translated %s -> upscaled %s",
             frame.shape, tuple(maps.shape), tuple(painted.shape), tuple(upscaled.shape))
    return upscaled


def whole_video(pipe: Pipeline, input: str, output: str, mode: str, seeds: list[int],
                overwrite: bool) -> int:
    """Stream ``input`` through ``Pipeline.render`` into ``output``; the number of frames."""
    with open_reader(input) as reader, open_writer(output, reader.fps, overwrite=overwrite) as out:
        # One latent per frame, moving to the next seed every 2 seconds.
        latents = iter_latents(seeds, period_frames=max(1, round(2 * float(reader.fps))),
                               loop=False, z_dim=pipe.z_dim)
        frames = pipe.render(reader, mode=mode, latents=latents, batch_size=8,
                             map_temporal=0.5)  # steadier maps from frame to frame
        for frame in frames:
            out.write(frame)  # (s*h, s*w, 3) uint8
        return out.frames_written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", help="video, GIF, image or frame folder")
    parser.add_argument("output", help="output .mp4, .gif, .webp or folder")
    parser.add_argument("--model", default="default", help="bundle folder or 'default'")
    parser.add_argument("--mode", default="edge", choices=["edge", "seg"])
    parser.add_argument("--seeds", default="0,1", help="G1 seeds the look walks through")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    try:  # LganError: a problem with the input, model or output, in one line
        check_output(args.output, [args.input], args.overwrite)  # fail before any work
        pipe = Pipeline.from_bundle(args.model, device=args.device)
        seeds = parse_seeds(args.seeds)  # "0,1" or ranges like "3-6"
        still = to_uint8(one_frame(pipe, args.input, args.mode, seeds[0]))[0]  # (H, W, 3) uint8
        log.info("first frame as uint8 %s, values %d..%d", still.shape, still.min(), still.max())
        n = whole_video(pipe, args.input, args.output, args.mode, seeds, args.overwrite)
    except LganError as e:
        sys.exit(f"Error: {e}")
    log.info("wrote %d frames to %s", n, args.output)


if __name__ == "__main__":
    main()
