"""From training runs to a model bundle; reading a run's exported network.

A run folder's exportable part is ``network.json`` plus ``<name>.safetensors`` (written at every
checkpoint), so export never unpickles anything and never needs ``state.pt``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from lgan_video.errors import LganError
from lgan_video.training.checkpoint import load_weights, read_network_meta


def load_run_network(run_dir: str | Path, expect: str | None = None,
                     device: torch.device | str = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """The network a run exported (G1's EMA generator, the mapping network or the SR network),
    in eval mode on ``device``, and its ``network.json``. ``expect`` checks the kind."""
    from lgan_video.models.registry import NETWORKS, build_network

    run_dir = Path(run_dir)
    meta = read_network_meta(run_dir)
    kind = meta.get("network")
    if expect is not None and kind != expect:
        raise LganError(f"{run_dir} is a {kind} run, expected a {expect} run")
    if kind not in NETWORKS:
        raise LganError(f"{run_dir}: unknown network kind {kind!r}")
    net = build_network(kind, meta["config"])
    state = load_weights(run_dir, Path(meta["weights"]).stem)
    try:
        net.load_state_dict(state)
    except RuntimeError as e:
        raise LganError(f"{run_dir}: weights do not fit their config: {str(e).splitlines()[0]}") from None
    return net.to(device).eval().requires_grad_(False), meta


def export_bundle(
    g1: str | Path, mapping: list[str | Path], out: str | Path, sr: str | Path | None = None,
    half: bool = False, overwrite: bool = False, work_size: int | None = None,
) -> Path:
    """Write a bundle from a G1 run (its EMA weights), one mapping run per map mode, and
    optionally an SR run. ``work_size`` defaults to the first mapping run's crop size."""
    from lgan_video.bundle import save_bundle
    from lgan_video.maps import MapConfig

    if not mapping:
        raise LganError("export needs at least one --mapping run")
    g1_net, g1_meta = load_run_network(g1, "g1")
    provenance = {"g1": g1_meta.get("provenance", {})}
    mappings: dict[str, tuple[nn.Module, Any]] = {}
    for run in mapping:
        net, meta = load_run_network(run, "mapping")
        map_cfg = MapConfig.from_dict(meta["map"])
        if map_cfg.mode in mappings:
            raise LganError(f"two --mapping runs for the {map_cfg.mode} mode (one per mode): {run}")
        mappings[map_cfg.mode] = (net, map_cfg)
        provenance[f"mapping-{map_cfg.mode}"] = meta.get("provenance", {})
        if work_size is None:
            work_size = int(meta.get("provenance", {}).get("options", {}).get("size", 128))
    sr_net = None
    if sr is not None:
        sr_net, sr_meta = load_run_network(sr, "sr")
        provenance["sr"] = sr_meta.get("provenance", {})
    return save_bundle(out, g1=g1_net, mappings=mappings, sr=sr_net, work_size=work_size,
                       provenance=provenance, half=half, overwrite=overwrite)
