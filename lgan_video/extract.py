"""``extract_maps``: turn a video's frames into structure-map previews (edge or seg) on disk."""

from __future__ import annotations

import time
from pathlib import Path

from lgan_video.progress import progress


def extract_maps(
    input: str | Path,
    output: str | Path,
    mode: str = "edge",
    size: int | None = None,
    start: str | float | None = None,
    max_frames: int | None = None,
    stride: int = 1,
    temporal: float = 0.5,
    overwrite: bool = False,
    quiet: bool = False,
    model: str | Path = "default",
) -> dict:
    """Write the structure maps of ``input``'s frames to ``output`` (MP4/GIF/WebP/PNG folder).

    Maps come from :class:`lgan_video.maps.MapExtractor` with the map config of ``model``'s
    ``mode`` network (``edge`` or ``seg``: the maps a render with that model computes), with
    ``temporal`` stabilization in [0, 1), and are written as their previews: edges dark on white
    (over grey tones when the model's edge maps carry tones), segments colour-coded, at the
    reader's rate (source fps / ``stride``). Returns a JSON-safe summary: input, output, mode,
    frames, fps, width, height, seconds.
    """
    import dataclasses

    from lgan_video.bundle import bundle_map_config, resolve_model
    from lgan_video.maps import MapExtractor, map_preview
    from lgan_video.media import check_output, open_reader, open_writer

    check_output(output, [input], overwrite)
    cfg = dataclasses.replace(bundle_map_config(resolve_model(model), mode), temporal=temporal)
    t0 = time.perf_counter()
    with open_reader(input, start=start, max_frames=max_frames, stride=stride, size=size) as reader:
        extractor = MapExtractor(cfg)
        with open_writer(output, reader.fps, overwrite=overwrite) as writer, progress(
            f"extract {Path(output).name}", total=reader.expected_frames, quiet=quiet
        ) as bar:
            for frame in reader:
                writer.write(map_preview(extractor(frame), cfg))
                bar.advance()
    seconds = time.perf_counter() - t0
    return {
        "input": str(input), "output": str(output), "mode": mode,
        "frames": writer.frames_written,
        "fps": f"{reader.fps.numerator}/{reader.fps.denominator}",
        "width": reader.size[0], "height": reader.size[1],
        "seconds": round(seconds, 3),
        "frames_per_second": round(writer.frames_written / seconds, 2) if seconds > 0 else None,
    }
