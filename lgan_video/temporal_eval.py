"""`eval temporal`: how much a render flickers compared with its own input video.

Reads the input and the render in step and scores them with
:func:`lgan_video.metrics.temporal.temporal_scores` (warping error of Lai et al. 2018 with the
input's optical flow, the input's own error as the floor, their ratio, per-pair values, pairs
across scene cuts excluded) and :func:`lgan_video.metrics.structure.structure_score`.
"""

from __future__ import annotations

from pathlib import Path

from lgan_video.errors import LganError
from lgan_video.scenecut import CUT_THRESHOLD

ASPECT_TOLERANCE = 0.02


def eval_temporal(
    input: str | Path,
    render: str | Path,
    *,
    start: str | float | None = None,
    stride: int = 1,
    max_frames: int | None = None,
    cut_threshold: float = CUT_THRESHOLD,
) -> dict:
    """Temporal scores of ``render`` against ``input`` (any media ``open_reader`` reads).

    ``start``, ``stride`` and ``max_frames`` select the input frames the render was made from (pass
    what ``render`` was given); the render is read whole, or its first ``max_frames``. Returns
    ``{"input", "render", "frames", "size", "pairs", "pairs_used", "cuts", "warping_error",
    "input_warping_error", "ratio", "structure", "per_pair"}`` (errors in [0, 1] units; ``ratio``
    and the means are None when no pair is left).
    """
    from lgan_video.media import open_reader
    from lgan_video.metrics.temporal import temporal_scores

    with open_reader(input, start=start, stride=stride, max_frames=max_frames) as src, \
            open_reader(render, max_frames=max_frames) as out:
        _check_aspect(src.size, out.size, render)
        rendered = iter(out)
        scores = temporal_scores(iter(src), rendered, cut_threshold=cut_threshold)
        if next(rendered, None) is not None:
            raise LganError(f"the input ran out after {scores.frames} frames, before the render "
                            f"did: pass the --start/--stride the render used: {input}")
    if scores.frames < 2:
        raise LganError(f"need at least 2 frames to measure flicker, got {scores.frames}: {render}")
    return {"input": str(input), "render": str(render), **scores.to_dict()}


def _check_aspect(src: tuple[int, int], out: tuple[int, int], render: str | Path) -> None:
    """LganError unless the two (W, H) sizes have the same aspect ratio (within 2 %)."""
    a, b = src[0] / src[1], out[0] / out[1]
    if abs(a - b) > ASPECT_TOLERANCE * a:
        raise LganError(f"the render is {out[0]}x{out[1]} but the input is {src[0]}x{src[1]}: "
                        f"not the same picture (a --stages panel?): {render}")
