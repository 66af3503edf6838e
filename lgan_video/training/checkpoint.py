"""Training state on disk: ``state.pt`` (everything needed to resume) and exportable weights.

``state.pt`` holds only tensors, dicts, lists, numbers and strings so it loads with
``torch.load(weights_only=True)``: no pickled classes, no code. Every file is written through
:mod:`lgan_video.atomic` (a temporary sibling, then a rename), so a crash mid-write leaves the
previous checkpoint intact. The exportable weights
(``<name>.safetensors`` + ``network.json`` with configs and provenance) are what ``export`` reads.
"""

from __future__ import annotations

import json
import random
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lgan_video import __version__, atomic
from lgan_video.atomic import atomic_path
from lgan_video.errors import LganError

STATE_FILE = "state.pt"
NETWORK_FILE = "network.json"
WEIGHTS_FORMAT = "lgan-video-run-weights"


def rng_state() -> dict[str, Any]:
    """The python, numpy, torch-CPU and CUDA generator states as weights_only-safe values."""
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python": [version, list(internal), gauss],
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss),
                  float(cached)],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` captured."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_state(run_dir: Path, state: dict[str, Any]) -> Path:
    """Write ``state.pt`` atomically."""
    path = Path(run_dir) / STATE_FILE
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return path


def load_state(run_dir: Path) -> dict[str, Any] | None:
    """``state.pt`` of a run loaded on the CPU with ``weights_only=True``; None when absent."""
    path = Path(run_dir) / STATE_FILE
    if not path.exists():
        return None
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols it then refuses
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # a truncated or foreign file: say which, in one line
        raise LganError(f"cannot read training state {path}: {_load_failure(e)}") from None
    if not isinstance(state, dict):
        raise LganError(f"cannot read training state {path}: it holds a "
                        f"{type(state).__name__}, not a lgan-video training state")
    return state


def _load_failure(e: Exception) -> str:
    """One line for why ``torch.load(weights_only=True)`` failed (torch's own is a page)."""
    text = str(e)
    if "Weights only load failed" in text:
        if m := re.search(r"Unsupported global: GLOBAL ([\w.]+)", text):
            return (f"it holds a pickled object ({m.group(1)}); only tensors and plain values "
                    f"are ever loaded, so this file cannot be resumed")
        return "it is not a weights-only file (a pickle, or not written by lgan-video)"
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return f"{type(e).__name__}: {first}" if first else type(e).__name__


def state_mismatch(expected: dict[str, torch.Tensor], got: Any) -> str | None:
    """How the state dict ``got`` differs from ``expected`` in one line; None when it fits."""
    if not isinstance(got, dict):
        return f"a {type(got).__name__} instead of a state dict"
    problems = []
    if missing := sorted(set(expected) - set(got)):
        problems.append(f"{len(missing)} missing tensor(s), e.g. {missing[0]}")
    if unexpected := sorted(set(got) - set(expected)):
        problems.append(f"{len(unexpected)} unexpected tensor(s), e.g. {unexpected[0]}")
    shaped = [k for k in expected if k in got
              and getattr(got[k], "shape", None) != expected[k].shape]
    if shaped:
        k = shaped[0]
        problems.append(f"{len(shaped)} mis-shaped tensor(s), e.g. {k} "
                        f"{tuple(getattr(got[k], 'shape', ()))} instead of "
                        f"{tuple(expected[k].shape)}")
    return "; ".join(problems) or None


def cpu_state_dict(module: nn.Module) -> dict[str, torch.Tensor]:
    """``module.state_dict()`` as contiguous CPU tensors that share no memory (safetensors-ready)."""
    return {k: v.detach().cpu().clone().contiguous() for k, v in module.state_dict().items()}


def save_weights(run_dir: Path, weights: dict[str, nn.Module], meta: dict[str, Any]) -> None:
    """Write each ``name -> module`` as ``<name>.safetensors`` and ``meta`` as ``network.json``.

    ``meta`` should carry each network's config (``configs``), the MapConfig for mapping runs and
    the provenance (data, command, step, wall time, last metrics). Both files are atomic.
    """
    from safetensors.torch import save

    run_dir = Path(run_dir)
    for name, module in weights.items():
        atomic.write_bytes(run_dir / f"{name}.safetensors", save(cpu_state_dict(module)))
    meta = {"format": WEIGHTS_FORMAT, "package_version": __version__, **meta}
    write_json(run_dir / NETWORK_FILE, meta)


def load_weights(run_dir: Path, name: str) -> dict[str, torch.Tensor]:
    """``<name>.safetensors`` of a run as a CPU state dict; ``LganError`` when it is missing."""
    from safetensors.torch import load_file

    path = Path(run_dir) / f"{name}.safetensors"
    if not path.is_file():
        raise LganError(f"no {path.name} in {run_dir} (has the run reached its first checkpoint?)")
    return load_file(str(path))


def read_network_meta(run_dir: Path) -> dict[str, Any]:
    """``network.json`` of a run; ``LganError`` when it is missing or not ours."""
    path = Path(run_dir) / NETWORK_FILE
    if not path.is_file():
        raise LganError(f"not a training run with exported weights (no {NETWORK_FILE}): {run_dir}")
    try:
        meta = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise LganError(f"unreadable {path}: {e}") from None
    if meta.get("format") != WEIGHTS_FORMAT:
        raise LganError(f"{path} is not a lgan-video run file")
    return meta


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (temporary sibling, then rename)."""
    atomic.write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
