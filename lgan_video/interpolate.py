"""`interpolate`: a G1 latent walk, alone, as a grid, or through every stage of the pipeline.

With ``stages`` each G1 image goes through map, mapping and SR and the frame shows them side by
side: the paper's step-by-step generation. With ``loop`` the walk closes seamlessly: the frame
after the last would equal the first.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from lgan_video.errors import LganError
from lgan_video.progress import progress
from lgan_video.render import RenderResult, load_pipeline


def walk_length(n_seeds: int, frames_per_seed: int, loop: bool) -> int:
    """Frames in a walk: each seed gets ``frames_per_seed``; an open walk ends on the last seed."""
    if n_seeds == 1:
        return frames_per_seed
    return n_seeds * frames_per_seed if loop else (n_seeds - 1) * frames_per_seed + 1


def cell_seeds(seeds: list[int], cell: int) -> list[int]:
    """Seeds of grid cell ``cell``: cell 0 walks ``seeds``, others the same walk shifted apart."""
    return [s + 7919 * cell for s in seeds]


def parse_grid(text: str | None) -> tuple[int, int]:
    """``"3x2"`` -> (rows 3, cols 2); None -> (1, 1)."""
    if not text:
        return 1, 1
    try:
        rows, cols = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise LganError(f"bad --grid '{text}': use ROWSxCOLS, e.g. 3x3") from None
    if not (1 <= rows <= 16 and 1 <= cols <= 16):
        raise LganError(f"bad --grid '{text}': rows and columns must be 1..16")
    return rows, cols


def interpolate(
    output: str | Path = "walk.gif",
    *,
    model: str | Path = "default",
    seeds: tuple[int, ...] = (1, 7, 42),
    frames_per_seed: int = 24,
    loop: bool = False,
    grid: str | None = None,
    stages: bool = False,
    mode: str = "seg",
    fps: float = 12.0,
    size: int = 256,
    device: str = "auto",
    style: tuple[str | Path, ...] = (),
    precision: str = "auto",
    overwrite: bool = False,
    quiet: bool = False,
    pipeline=None,
) -> RenderResult:
    """Write a latent walk through ``seeds`` to ``output`` (GIF/MP4/WebP/folder by suffix).

    ``size`` is the display height of a plain (non-stages) walk; G1 images are upscaled to it.
    ``style`` (reference pictures, with ``stages``) paints the walk's G1 images in the pictures'
    looks instead of their own, walking from picture to picture as the seeds walk.
    ``precision``: auto, fp32, bf16 or fp16 (see :mod:`lgan_video.devices`).
    """
    from lgan_video.looks import read_references
    from lgan_video.media import check_output, open_writer

    rows, cols = parse_grid(grid)
    if stages and (rows, cols) != (1, 1):
        raise LganError("choose either --stages or --grid, not both")
    if style and not stages:
        raise LganError("--style paints the walk through the pipeline: add --stages")
    output = Path(output)
    check_output(output, [], overwrite)
    references = read_references(style) if style else None
    pipe = pipeline or load_pipeline(model, device, precision)
    n = walk_length(len(seeds), frames_per_seed, loop)
    frames = (_stage_frames(pipe, list(seeds), frames_per_seed, loop, n, mode, references)
              if stages
              else _grid_frames(pipe, list(seeds), frames_per_seed, loop, n, rows, cols, size))
    rate = Fraction(fps).limit_denominator(1001)
    t0, count = time.perf_counter(), 0
    with open_writer(output, rate, overwrite=overwrite) as writer, progress(
        f"interpolate {output.name}", total=n, quiet=quiet
    ) as bar:
        for frame in frames:
            writer.write(frame)
            count += 1
            bar.advance()
    return RenderResult("", str(output), count, rate, (frame.shape[1], frame.shape[0]),
                        time.perf_counter() - t0)


def _path(pipe, seeds: list[int], frames_per_seed: int, loop: bool, n: int):
    from lgan_video.latents import latent_path

    return latent_path(seeds, n, frames_per_seed=frames_per_seed, loop=loop, z_dim=pipe.z_dim)


def _g1_frames(pipe, z, batch: int = 16) -> Iterator[np.ndarray]:
    """uint8 G1 images ``(r, r, 3)`` for each row of ``z (N, z_dim)``, generated in batches."""
    from lgan_video.imageops import to_uint8

    for i in range(0, len(z), batch):
        yield from to_uint8(pipe.generate(z[i:i + batch]))


def _grid_frames(pipe, seeds, frames_per_seed, loop, n, rows, cols, size) -> Iterator[np.ndarray]:
    from lgan_video.resize import resize

    paths = [_path(pipe, cell_seeds(seeds, c), frames_per_seed, loop, n) for c in range(rows * cols)]
    streams = [_g1_frames(pipe, z) for z in paths]
    for _ in range(n):
        cells = [resize(next(s), (size, size)) for s in streams]
        yield np.concatenate([np.concatenate(cells[r * cols:(r + 1) * cols], axis=1)
                              for r in range(rows)], axis=0)


def _stage_frames(pipe, seeds, frames_per_seed, loop, n, mode,
                  references=None) -> Iterator[np.ndarray]:
    """Each G1 image is the 'frame' of a render whose look is that same image (or, with
    ``references``, a walk through those pictures' looks)."""
    from lgan_video.looks import mix_path

    z = _path(pipe, seeds, frames_per_seed, loop, n)
    looks = mix_path(len(references), n, frames_per_seed, loop) if references else z
    # A latent walk is not footage: no flow stabilization, so a --loop stays seamless.
    yield from pipe.render(_g1_frames(pipe, z), mode=mode, latents=iter(looks), stages=True,
                           references=references, stabilize=0.0)
