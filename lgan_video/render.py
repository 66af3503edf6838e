"""`render`: a video, GIF, image or frame folder in; a stylized, temporally coherent animation out.

Per frame: structure map, then the mapping network conditioned on the look of G1(z_t), then SR,
then encode. z_t walks smoothly through the seeds' latents, so the look changes slowly and never
flickers from the generator side. Decode and encode run in their own threads beside inference.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

from lgan_video.errors import LganError
from lgan_video.ink import DEFAULT_INK
from lgan_video.progress import progress
from lgan_video.stabilize import DEFAULT_STRENGTH


@dataclass(frozen=True)
class RenderResult:
    """What a render produced: ``frames`` written at ``fps``, ``size`` (W, H), wall ``seconds``."""

    input: str
    output: str
    frames: int
    fps: Fraction
    size: tuple[int, int]
    seconds: float

    def to_dict(self) -> dict:
        d = asdict(self)
        d["fps"] = str(self.fps)
        d["frames_per_second"] = round(self.frames / self.seconds, 3) if self.seconds else None
        return d


def default_output(input: str | Path, suffix: str = ".mp4") -> Path:
    """``<input stem>_lgan.mp4`` in the current folder."""
    return Path.cwd() / f"{Path(input).stem}_lgan{suffix}"


def load_pipeline(model: str | Path = "default", device: str = "auto", precision: str = "auto",
                  threads: int | None = None):
    """The pipeline for ``model`` (a bundle path or ``default``) on ``device`` in ``precision``.

    ``threads`` (None: the cores available to the process) is divided between torch, the map
    workers, OpenCV and ffmpeg by :func:`lgan_video.devices.thread_budget`, applied here.
    """
    from lgan_video.devices import pick_device, thread_budget
    from lgan_video.pipeline import Pipeline

    dev = pick_device(device)
    budget = thread_budget(threads, dev)
    budget.apply()
    return Pipeline.from_bundle(model, device=dev, precision=precision, map_workers=budget.maps)


def check_model(pipeline, mode: str, scale: int | None) -> bool:
    """Whether to run SR; one-line LganError if the model lacks ``mode`` or cannot do ``scale``."""
    pipeline.mapping(mode)  # raises, naming the modes the bundle has
    return check_scale(pipeline, scale)


def check_scale(pipeline, scale: int | None) -> bool:
    """Whether to run SR for ``scale`` (None: the bundle's own); LganError if it cannot."""
    if scale is None or scale == pipeline.scale:
        return pipeline.scale > 1
    if scale == 1:
        return False
    raise LganError(
        f"--scale {scale} is not available: this model upscales x{pipeline.scale} "
        f"(use --scale 1 or {pipeline.scale})"
    )


def render(
    input: str | Path,
    output: str | Path | None = None,
    *,
    mode: str = "seg",
    model: str | Path = "default",
    seeds: tuple[int, ...] = (0,),
    style_period: float = 4.0,
    scale: int | None = None,
    size: int | None = None,
    batch_size: int = 8,
    device: str = "auto",
    precision: str = "auto",
    threads: int | None = None,
    start: str | float | None = None,
    max_frames: int | None = None,
    stride: int = 1,
    stages: bool = False,
    audio: bool = True,
    temporal: float = 0.5,
    style: tuple[str | Path, ...] = (),
    stabilize: float = DEFAULT_STRENGTH,
    ink: float = DEFAULT_INK,
    overwrite: bool = False,
    quiet: bool = False,
    pipeline=None,
) -> RenderResult:
    """Render ``input`` to ``output`` (MP4/GIF/WebP/folder by suffix) and return what was written.

    ``seeds`` are G1 latents the look walks through, ``style_period`` seconds per seed (with a
    palette network, through the seeds' G1 pictures as reference looks, see below); ``style``
    (reference pictures) replaces G1: the look walks through the pictures instead, with the same
    period. ``size`` is the short side the mapping network works at (default: the bundle's);
    ``temporal`` stabilizes the structure maps and ``stabilize`` (0..1) the output frames along
    the input's optical flow (0 = off). ``ink`` (0..1) darkens the translation along the edge
    map's lines in edge mode (0 = the network's output as it is). ``precision``: auto, fp32, bf16 or fp16
    (:mod:`lgan_video.devices`); ``threads``: the CPU threads to use (None: the cores available).
    ``pipeline`` reuses an already loaded :class:`~lgan_video.pipeline.Pipeline` (``model``,
    ``device`` and ``precision`` are then unused; ``threads`` still sets ffmpeg's share).
    """
    from lgan_video.devices import thread_budget
    from lgan_video.latents import iter_latents
    from lgan_video.looks import iter_mixes, read_references
    from lgan_video.media import check_output, open_reader

    output = Path(output) if output is not None else default_output(input)
    check_output(output, [input], overwrite)
    references = read_references(style) if style else None
    pipe = pipeline or load_pipeline(model, device, precision, threads)
    ffmpeg_threads = thread_budget(threads, pipe.device).ffmpeg
    upscale = check_model(pipe, mode, scale)
    if references is None and len(seeds) > 1 and pipe.palette(mode):
        # A palette (k-means labels of the look) is not continuous in z: walk by mixing the
        # seeds' looks (styles and palettes) instead, with the same timing.
        references = pipe.seed_pictures(seeds)
    t0 = time.perf_counter()
    # ffmpeg scales to the working size in its own process: less to pipe, queue and resize.
    decode_size = (size or pipe.work_size) * (pipe.scale if stages and upscale else 1)
    with open_reader(input, start=start, stride=stride, max_frames=max_frames,
                     size=decode_size, threads=ffmpeg_threads) as reader:
        _check_memory(pipe, reader, mode, size, batch_size, upscale, stages)
        period = max(1, round(style_period * float(reader.fps)))
        latents = (iter_mixes(len(references), period) if references
                   else iter_latents(list(seeds), period, loop=False, z_dim=pipe.z_dim))
        frames = pipe.render(
            _prefetched(reader), mode=mode, latents=latents, batch_size=batch_size,
            work_size=size, stages=stages, upscale=upscale, map_temporal=temporal,
            references=references, stabilize=stabilize, ink=ink,
        )
        written, frame_size = _encode(frames, output, reader, audio and input, overwrite, quiet,
                                      ffmpeg_threads)
    return RenderResult(str(input), str(output), written, reader.fps, frame_size,
                        time.perf_counter() - t0)


def _check_memory(pipe, reader, mode, size, batch_size, upscale, stages) -> None:
    """Refuse a working size whose frames cannot fit in memory, before any work starts."""
    from lgan_video.media import scaled_size
    from lgan_video.memory import check_render_memory

    work_size = size or pipe.work_size
    work = scaled_size(reader.info.width, reader.info.height, work_size)
    check_render_memory(pipe, work, mode, batch_size, upscale, stages, work_size)


def _prefetched(reader):
    from lgan_video.streaming import prefetch

    return prefetch(reader, maxsize=32)


def _encode(frames, output: Path, reader, audio_from, overwrite: bool, quiet: bool,
            threads: int | None = None):
    """Write ``frames`` through a background writer thread; returns (count, (W, H))."""
    from lgan_video.media import open_writer
    from lgan_video.streaming import BackgroundSink

    count, size = 0, (0, 0)
    audio_kw = {"audio_from": audio_from, "audio_start": reader.start_seconds} if audio_from else {}
    with open_writer(output, reader.fps, overwrite=overwrite, threads=threads,
                     **audio_kw) as writer, progress(
        f"render {Path(output).name}", total=reader.expected_frames, quiet=quiet
    ) as bar:
        sink = BackgroundSink(writer.write, maxsize=16)
        try:
            for frame in frames:
                sink.submit(frame)
                count, size = count + 1, (frame.shape[1], frame.shape[0])
                bar.advance()
        except BaseException:
            sink.abort()
            raise
        sink.close()
    return count, size  # zero frames cannot get here: reader and writer both refuse them
