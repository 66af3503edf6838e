"""Memory a render needs at a working size, and memory there is: refuse before starting.

A large ``--size`` grows every activation with the pixel count: at ``--size 4000`` a small
mapping network needs tens of GB, and the kernel kills the process minutes in. The estimate comes
from the networks' own activation sizes, measured once per network with forward hooks on a small
input (bytes per working pixel), plus the frames the render's queues hold. It is an estimate with
a margin, meant to refuse what cannot fit, not to budget to the byte.
"""

from __future__ import annotations

import resource
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from lgan_video.errors import LganError

LIVE_FACTOR = 2.0
"""Activation memory alive at once, relative to the largest (input + output) of one module:
residual inputs, dense-block concatenations and the allocator's slack. Against the peak resident
memory measured on a CPU (default and tiny bundles, 454x256 to 1364x768, batch 1 to 8) this
estimate came out 0.97-1.26 times the measurement with contiguous fp32 networks. Activations are
counted at the weights' size (fp32 on the CPU, also under bf16 autocast), over the frames the
networks take at once (``Pipeline.chunk_size``): with channels_last and cache-sized chunks the
estimate (then with a factor of 1.75) came out 1.06-1.17 times the measured peak in fp32 and
1.30-1.63 in bf16 autocast; 2.0 keeps a margin above the fp32 peak (``tests/test_memory.py``
checks one point in each)."""

MAP_BYTES_PER_PIXEL = {"edge": 16, "seg": 96}
"""Working memory of one frame's structure map extraction (float features, distances, labels)."""

DECODED_QUEUE, OUTPUT_QUEUE = 32, 16  # frames held by render's reader and writer queues


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a render needs on the compute ``device`` and in host memory (the same on a CPU)."""

    device_bytes: int
    host_bytes: int

    def total_on(self, device: torch.device) -> int:
        return self.host_bytes + (self.device_bytes if device.type == "cpu" else 0)


def activation_bytes_per_pixel(net: nn.Module, forward: Callable[[], object], pixels: int) -> float:
    """Largest (input + output) bytes of any module of ``net`` while ``forward()`` runs, divided
    by the ``pixels`` of its input: fully convolutional networks scale with the pixel count, so
    one small forward pass measures every size."""
    largest = [0]

    def hook(_module, args, output) -> None:
        largest[0] = max(largest[0], _nbytes(args) + _nbytes(output))

    handles = [m.register_forward_hook(hook) for m in net.modules()]
    try:
        with torch.inference_mode():
            forward()
    finally:
        for h in handles:
            h.remove()
    return largest[0] / pixels


def _nbytes(x) -> int:
    if isinstance(x, torch.Tensor):
        return x.numel() * x.element_size()
    if isinstance(x, (tuple, list)):
        return sum(_nbytes(v) for v in x)
    return 0


def estimate_render(pipe, work: tuple[int, int], mode: str, batch_size: int, upscale: bool,
                    stages: bool) -> MemoryEstimate:
    """Memory of ``Pipeline.render`` at working size ``work`` (W, H) with ``batch_size`` frames
    (activations for the frames the networks take at once: ``Pipeline.chunk_size``)."""
    px = work[0] * work[1]
    chunk = pipe.chunk_size(batch_size, work[1], work[0])
    scale = pipe.scale if upscale else 1
    out_px = px * scale * scale * (4 if stages else 1)  # stages: four panels side by side
    per_px = _mapping_per_pixel(pipe, mode) + (_sr_per_pixel(pipe) if upscale else 0.0)
    device = LIVE_FACTOR * chunk * per_px * px + chunk * out_px * 3 * 8  # + to_uint8
    decoded_px = px * scale * scale if stages else px
    host = (DECODED_QUEUE * decoded_px * 3 + 2 * batch_size * (px + decoded_px * 3 * stages)
            + MAP_BYTES_PER_PIXEL[mode] * px + (OUTPUT_QUEUE + 2 * batch_size) * out_px * 3)
    return MemoryEstimate(int(device), int(host))


_PER_PIXEL: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # network -> bytes/pixel


def _mapping_per_pixel(pipe, mode: str) -> float:
    net = pipe.mapping(mode)
    if net not in _PER_PIXEL:
        side = 8 * net.cfg.multiple
        kw = {"device": pipe.device, "dtype": pipe.dtype}
        maps = torch.zeros(1, net.cfg.map_channels, side, side, **kw)
        style = torch.zeros(1, net.cfg.style_length, **kw)
        # In the weights' dtype, without autocast: under CPU bf16 autocast the measured peak
        # varied from 0.83 to 1.04 of a bf16-activation estimate (fp32 inputs and casts stay
        # alive beside the bf16 ones), so activations count at the weights' size.
        _PER_PIXEL[net] = activation_bytes_per_pixel(
            net, lambda: net.translate(maps, style), side * side)
    return _PER_PIXEL[net]


def _sr_per_pixel(pipe) -> float:
    sr = pipe.bundle.sr
    if sr is None:
        return 0.0
    if sr not in _PER_PIXEL:
        x = torch.zeros(1, 3, 32, 32, device=pipe.device, dtype=pipe.dtype)
        _PER_PIXEL[sr] = activation_bytes_per_pixel(sr, lambda: sr(x), 32 * 32)  # as above
    return _PER_PIXEL[sr]


def available_bytes(device: torch.device) -> int | None:
    """Memory a new allocation can get on ``device``: free GPU memory on CUDA; on the CPU the
    least of MemAvailable, the cgroup's remaining limit and ``ulimit -v``. None when unknown."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return free + torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
    if device.type != "cpu":
        return None
    return host_available_bytes()


def host_available_bytes() -> int | None:
    """The least of MemAvailable, the cgroup v2 limit left and the address-space limit left."""
    limits = [_meminfo("MemAvailable"), _cgroup_left()]
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        used = _status("VmSize")
        limits.append(soft - used if used is not None else soft)
    known = [v for v in limits if v is not None]
    return max(0, min(known)) if known else None


def _meminfo(key: str, path: str = "/proc/meminfo") -> int | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _status(key: str) -> int | None:
    return _meminfo(key, "/proc/self/status")


def _cgroup_left() -> int | None:
    try:
        rel = Path("/proc/self/cgroup").read_text().splitlines()[0].split("::", 1)[1]
        folder = Path("/sys/fs/cgroup") / rel.lstrip("/")
        limit = (folder / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return int(limit) - int((folder / "memory.current").read_text())
    except (OSError, ValueError, IndexError):
        return None


def check_render_memory(pipe, work: tuple[int, int], mode: str, batch_size: int, upscale: bool,
                        stages: bool, size: int) -> MemoryEstimate:
    """Refuse (one-line ``LganError``) a render whose estimate exceeds the memory available."""
    est = estimate_render(pipe, work, mode, batch_size, upscale, stages)
    checks = [(est.total_on(pipe.device), host_available_bytes(), "memory")]
    if pipe.device.type != "cpu":
        checks.append((est.device_bytes, available_bytes(pipe.device), f"{pipe.device} memory"))
    for need, have, what in checks:
        if have is not None and need > have:
            raise LganError(
                f"--size {size} needs about {_gb(need)} of {what} ({work[0]}x{work[1]} working "
                f"frames, batch {batch_size}) but {_gb(have)} is available; lower --size or "
                f"--batch-size"
            )
    return est


def _gb(n: int) -> str:
    return f"{n / 2**30:.1f} GB"
