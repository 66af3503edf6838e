"""What a run leaves to read: ``log.jsonl``, TensorBoard events and sample grids under ``samples/``.

Only rank 0 logs. On resume the JSONL log is cut back to the checkpoint's step and TensorBoard is
told to purge later events, so a run that crashed after its last checkpoint shows one history.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from lgan_video import atomic

log = logging.getLogger("lgan_video.training")

LOG_FILE = "log.jsonl"


class RunLogger:
    """Append-only scalar log of a run: one JSON object per logged step, mirrored to TensorBoard."""

    def __init__(self, run_dir: Path, start_step: int, enabled: bool = True) -> None:
        self.run_dir, self.enabled = Path(run_dir), enabled
        self._tb = None
        if enabled:
            truncate_log(self.run_dir / LOG_FILE, start_step)
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(log_dir=str(self.run_dir), purge_step=start_step or None)

    def scalars(self, step: int, values: dict[str, float]) -> None:
        """Record ``values`` at ``step`` (JSONL line + TensorBoard scalars)."""
        if not self.enabled:
            return
        record = {"step": step, **{k: _json_float(v) for k, v in values.items()}}
        with open(self.run_dir / LOG_FILE, "a") as f:
            f.write(json.dumps(record) + "\n")
        for key, value in values.items():
            self._tb.add_scalar(key, value, step)

    def image(self, step: int, grid: np.ndarray, name: str = "samples") -> Path | None:
        """Save a uint8 RGB grid as ``samples/<name>-<step>.png`` and to TensorBoard."""
        if not self.enabled:
            return None
        path = self.run_dir / "samples" / f"{name}-{step:07d}.png"
        save_png(path, grid)
        self._tb.add_image(name, grid, step, dataformats="HWC")
        return path

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()


def _json_float(v: float) -> float | str:
    # JSON has no inf/nan; keep them readable rather than invalid.
    v = float(v)
    return v if math.isfinite(v) else str(v)


def truncate_log(path: Path, step: int) -> None:
    """Drop records after ``step`` from a JSONL log (they belong to an interrupted segment)."""
    if not path.exists():
        return
    lines = path.read_text().splitlines()
    kept = [ln for ln in lines if ln.strip() and json.loads(ln).get("step", 0) <= step]
    if len(kept) != len(lines):
        atomic.write_text(path, "".join(ln + "\n" for ln in kept))


def read_log(run_dir: Path) -> list[dict[str, Any]]:
    """All records of a run's ``log.jsonl`` (an empty list when there is none)."""
    path = Path(run_dir) / LOG_FILE
    if not path.exists():
        return []
    return [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()]


def image_grid(images: np.ndarray, cols: int, pad: int = 2) -> np.ndarray:
    """uint8 ``(N, H, W, 3)`` -> one ``(rows*(H+pad)+pad, cols*(W+pad)+pad, 3)`` grid on white."""
    n, h, w, _ = images.shape
    rows = max(1, math.ceil(n / cols))
    grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), 255, np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        grid[y:y + h, x:x + w] = img
    return grid


def save_png(path: Path, rgb: np.ndarray) -> None:
    """Write uint8 RGB ``(H, W, 3)`` as a PNG atomically."""
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]))
    if not ok:
        raise OSError(f"PNG encoding failed for {path}")
    atomic.write_bytes(path, buf.tobytes())


def format_losses(values: dict[str, float], keys: int = 4) -> str:
    """A short ``d_loss 1.23 g_loss 0.45`` string of the first ``keys`` values for the bar."""
    return " ".join(f"{k} {v:.3g}" for k, v in list(values.items())[:keys])
