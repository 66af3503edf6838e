"""`demo`: show the tool working with no input: a step-by-step latent walk and two clip renders.

The input clip is made at run time from a real photograph that ships with the package (a camera
panning down a window with two dogs: "friends" by Aitzol Berasategi, CC BY 4.0, see
``assets/demo/ATTRIBUTION.md``), written as MP4, then rendered in edge and seg modes with a slowly
walking style, as MP4 and GIF.
"""

from __future__ import annotations

import time
from fractions import Fraction
from pathlib import Path

DEMO_SEEDS = (3, 14, 15)


DEMO_PHOTO = Path(__file__).parent / "assets" / "demo" / "friends.jpg"


def write_demo_clip(path: Path, n_frames: int = 48, fps: int = 12, overwrite: bool = False) -> Path:
    """The demo's input: a 344x192 camera move over the bundled photo, ``n_frames`` at ``fps``."""
    from lgan_video.media import open_writer
    from lgan_video.media.images import load_image
    from lgan_video.synthetic import camera_frames

    with open_writer(path, Fraction(fps), overwrite=overwrite) as writer:
        for frame in camera_frames(load_image(DEMO_PHOTO), n_frames, width=344, height=192):
            writer.write(frame)
    return path


def run_demo(
    output_dir: str | Path = "demo_out",
    *,
    model: str | Path = "default",
    device: str = "auto",
    overwrite: bool = False,
    quiet: bool = False,
) -> dict[str, str]:
    """Write the demo files into ``output_dir``; returns {what: path} plus timing."""
    from lgan_video.interpolate import interpolate
    from lgan_video.media import check_output
    from lgan_video.render import load_pipeline, render

    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    pipe = load_pipeline(model, device)
    files = {"walk": out / "walk_stages.gif", "clip": out / "clip.mp4"}
    renders = {f"{m}{s}": out / f"clip_{m}{s}" for m in pipe.modes for s in (".mp4", ".gif")}
    for path in (*files.values(), *renders.values()):
        check_output(path, overwrite=overwrite)
    # Segments suit G1's soft images better than edges, which find little in a blurry upscale.
    walk_mode = "seg" if "seg" in pipe.modes else pipe.modes[0]
    interpolate(files["walk"], seeds=DEMO_SEEDS, frames_per_seed=16, loop=True, stages=True,
                mode=walk_mode, pipeline=pipe, overwrite=overwrite, quiet=quiet)
    write_demo_clip(files["clip"], overwrite=overwrite)
    for mode in pipe.modes:
        render(files["clip"], renders[f"{mode}.mp4"], mode=mode, seeds=DEMO_SEEDS,
               style_period=1.5, pipeline=pipe, overwrite=overwrite, quiet=quiet)
        transcode(renders[f"{mode}.mp4"], renders[f"{mode}.gif"], overwrite=overwrite)
    files.update(renders)
    result = {k: str(v) for k, v in files.items()}
    result["seconds"] = f"{time.perf_counter() - t0:.1f}"
    return result


def transcode(src: Path, dst: Path, overwrite: bool = False) -> int:
    """Re-encode ``src`` as ``dst`` (format by suffix) at the same fps; returns the frame count."""
    from lgan_video.media import open_reader, open_writer

    with open_reader(src) as reader, open_writer(dst, reader.fps, overwrite=overwrite) as writer:
        for frame in reader:
            writer.write(frame)
        return writer.frames_written
