"""Run folders: create, resume or refuse, and the resolved config ``training_options.json``.

A run folder is identified by its ``training_options.json``. Running the same command again
resumes it; a different configuration is refused (one line naming the differing keys) unless
``overwrite``. Some options may change between segments of one run: the step target, how often to
log/sample/evaluate/checkpoint, workers, device, precision and the number of processes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from lgan_video.errors import LganError
from lgan_video.training.checkpoint import STATE_FILE, write_json

OPTIONS_FILE = "training_options.json"
MUTABLE_KEYS = frozenset({
    "steps", "sample_every", "checkpoint_every", "eval_every", "log_every", "workers", "device",
    "amp", "precision", "threads", "quiet", "resume", "overwrite", "world_size",
})
# Options added after runs existed, with the value they had in runs that predate them (so those
# runs still resume when asked for it). ANY: not compared (its effect is in a nested key).
ANY = object()
ADDED_KEYS = {"palette": False, "network.palette": False, "network.lightness": "lab",
              "canny_percentile": ANY, "map.canny_percentile": 0.0, "clean": 0.0,
              "edge_tones": 0, "map.edge_tones": 0, "network.palette_slots": 0,
              "antialias": False, "network.antialias": False}


def read_options(run_dir: Path) -> dict[str, Any] | None:
    """The saved ``training_options.json`` of a run, or None when there is none."""
    path = Path(run_dir) / OPTIONS_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise LganError(f"unreadable {path}: {e}") from None


def config_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """``key: old -> new`` for every key that differs and may not change within a run.

    Nested dicts (network and map configs) are compared key by key (``network.scale``) and
    listed after the options a person typed.
    """
    new = _flatten(new)
    old = {**{k: v for k, v in ADDED_KEYS.items() if k in new}, **_flatten(old)}
    keys = sorted((set(old) | set(new)) - MUTABLE_KEYS, key=lambda k: ("." in k, k))
    return [f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in keys
            if old.get(k) is not ANY and old.get(k) != new.get(k)]


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out


def check_run_dir(run_dir: Path, options: dict[str, Any], overwrite: bool, resume: bool) -> bool:
    """Decide what to do with ``run_dir``; True when there is a checkpoint to resume from.

    Read-only, so every rank can call it and reach the same verdict. Raises ``LganError`` for a
    path that is a file, a non-empty folder that is not a run, a different configuration (without
    ``overwrite``), or ``resume`` with nothing to resume.
    """
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise LganError(f"--out is a file, not a run folder: {run_dir}")
    saved = read_options(run_dir)
    if saved is None and run_dir.is_dir() and any(run_dir.iterdir()):
        raise LganError(f"--out exists and is not a training run (no {OPTIONS_FILE}); "
                        f"choose another folder: {run_dir}")
    if saved is not None and not overwrite:
        diffs = config_differences(saved, options)
        if diffs:
            raise LganError(f"run {run_dir} was started with a different configuration "
                            f"({'; '.join(diffs[:3])}); use --overwrite to start over or another --out")
    resumable = saved is not None and not overwrite and (run_dir / STATE_FILE).is_file()
    if resume and not resumable:
        raise LganError(f"nothing to resume (no {STATE_FILE}): {run_dir}")
    return resumable


def start_run_dir(run_dir: Path, options: dict[str, Any], overwrite: bool) -> None:
    """Create (or with ``overwrite`` empty) the run folder and write ``training_options.json``.

    Only a folder holding ``training_options.json`` is ever emptied. Called on rank 0 only.
    """
    run_dir = Path(run_dir)
    if overwrite and read_options(run_dir) is not None:
        shutil.rmtree(run_dir)
    (run_dir / "samples").mkdir(parents=True, exist_ok=True)
    write_json(run_dir / OPTIONS_FILE, options)
