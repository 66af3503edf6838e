"""Where networks run and how: one rule for the device, the precision and the thread budget.

Every entry point (render, batch, interpolate, demo, train, eval) resolves its ``device``,
``precision`` and ``threads`` here, so the CLI and the Python API never disagree.

- Device ``auto``: CUDA, then MPS, then the CPU. An explicit device that is not there is a
  one-line :class:`LganError`.
- Precision ``auto``: on CUDA bf16 where the GPU supports it, else fp16 (weights cast, as
  before); on a CPU with native bf16 (AVX512-BF16 or AMX, read from the CPU's flags at run time)
  fp32 weights under ``torch.autocast("cpu", dtype=torch.bfloat16)``; fp32 elsewhere. ``fp32``
  is always available (pinned values, comparisons), ``bf16`` may be forced on any CPU (slow
  without native support).
- Memory format: ``channels_last`` on CUDA and on x86 CPUs with oneDNN, where convolutions are
  fastest in NHWC; contiguous (NCHW) on MPS.
- Threads: :class:`ThreadBudget` divides the cores available to the process between torch's
  intra-op pool, the structure-map workers, OpenCV and each ffmpeg process.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from lgan_video.errors import LganError

log = logging.getLogger(__name__)

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def pick_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> cuda, then mps, then cpu; an explicit device that is absent -> LganError."""
    if str(device) == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if _mps_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        raise LganError(f"unknown device {device!r} (use auto, cpu, cuda, cuda:N or mps)") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise LganError(f"device {str(device)!r} requested but CUDA is not available")
    if dev.type == "mps" and not _mps_available():
        raise LganError(f"device {str(device)!r} requested but MPS is not available")
    if dev.type not in ("cpu", "cuda", "mps"):
        raise LganError(f"unsupported device {str(device)!r} (use auto, cpu, cuda, cuda:N or mps)")
    return dev


@functools.cache
def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (x86 ``avx512_bf16`` or ``amx_bf16`` flags).

    Read from ``/proc/cpuinfo`` (Linux); False where the flags cannot be read. Without native
    support bf16 is emulated and slower than fp32, so ``auto`` stays fp32 there.
    """
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            return bool(flags & {"avx512_bf16", "amx_bf16"})
    return False


def _cpu_channels_last() -> bool:
    # oneDNN (x86) runs NHWC convolutions much faster than NCHW (2.5x for SR in fp32 here).
    return torch.backends.mkldnn.is_available() and cpu_has_avx2_or_better()


@functools.cache
def cpu_has_avx2_or_better() -> bool:
    """Whether torch dispatches x86 vector kernels (AVX2 or AVX512) on this CPU."""
    return torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512", "AVX512_BF16", "AMX")


@dataclass(frozen=True)
class Precision:
    """How networks run on a device.

    ``weights``: dtype parameters are stored in; ``autocast``: dtype of ``torch.autocast`` around
    forward passes (None: none); ``channels_last``: NHWC memory format for weights and inputs;
    ``name``: what was resolved (``fp32``, ``bf16`` or ``fp16``).
    """

    name: str
    device_type: str
    weights: torch.dtype
    autocast: torch.dtype | None
    channels_last: bool

    @property
    def memory_format(self) -> torch.memory_format:
        """``torch.channels_last`` or ``torch.contiguous_format``."""
        return torch.channels_last if self.channels_last else torch.contiguous_format

    def context(self) -> contextlib.AbstractContextManager:
        """Autocast for forward passes, or a no-op when computing in the weights' dtype."""
        if self.autocast is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.autocast)

    def prepare(self, module: torch.nn.Module) -> torch.nn.Module:
        """``module`` in this precision's weight dtype and memory format (in place)."""
        return module.to(dtype=self.weights, memory_format=self.memory_format)

    def inputs(self, x: torch.Tensor, device: torch.device) -> torch.Tensor:
        """A 4-D input on ``device`` in the weights' dtype and the memory format."""
        return x.to(device, self.weights).contiguous(memory_format=self.memory_format)


def resolve_precision(device: torch.device, precision: str = "auto",
                      training: bool = False) -> Precision:
    """The :class:`Precision` for ``precision`` (auto, fp32, bf16, fp16) on ``device``.

    Inference on CUDA casts the weights to bf16/fp16; training (``training=True``) keeps fp32
    master weights and autocasts instead. On the CPU bf16 is always autocast over fp32 weights.
    """
    if precision not in PRECISIONS:
        raise LganError(f"unknown precision {precision!r} (use {', '.join(PRECISIONS)})")
    kind = device.type
    name = _auto_name(device) if precision == "auto" else precision
    if name == "fp16" and kind != "cuda":
        raise LganError(f"--precision fp16 needs a CUDA device (got {kind}); use bf16 or fp32")
    if name == "bf16" and kind == "cuda" and not torch.cuda.is_bf16_supported():
        raise LganError("--precision bf16 is not supported by this GPU; use fp16 or fp32")
    if name == "bf16" and kind == "cpu" and not cpu_has_native_bf16():
        log.warning("this CPU has no native bf16: bf16 is emulated and slower than fp32")
    channels_last = kind == "cuda" or (kind == "cpu" and _cpu_channels_last())
    dtype = _DTYPES[name]
    if name == "fp32":
        return Precision(name, kind, torch.float32, None, channels_last)
    if kind == "cuda" and not training:
        return Precision(name, kind, dtype, None, channels_last)
    return Precision(name, kind, torch.float32, dtype, channels_last)


def _auto_name(device: torch.device) -> str:
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if device.type == "cpu" and cpu_has_native_bf16():
        return "bf16"
    return "fp32"


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask, else the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_threads() -> int:
    """The thread budget when ``--threads`` is not given: ``OMP_NUM_THREADS`` when it is set to
    a positive integer (the usual way to share a machine deliberately), else every core this
    process may run on."""
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return min(int(env), available_cores())
    return available_cores()


@dataclass(frozen=True)
class ThreadBudget:
    """How ``total`` threads are shared out (see :func:`thread_budget`).

    ``torch``: torch intra-op threads (the networks); ``maps``: structure-map worker threads in
    the prefetch stage (each runs OpenCV single-threaded); ``ffmpeg``: threads per ffmpeg
    process (decode and encode each get this many).
    """

    total: int
    torch: int
    maps: int
    ffmpeg: int

    def apply(self) -> None:
        """Set torch's and OpenCV's thread pools (process-wide) to this budget."""
        import cv2

        if torch.get_num_threads() != self.torch:
            torch.set_num_threads(self.torch)
        cv2.setNumThreads(1)  # parallelism comes from the map workers, not inside OpenCV
        log.info("threads: %s", self)


def thread_budget(threads: int | None = None, device: torch.device | None = None) -> ThreadBudget:
    """Divide ``threads`` (default: :func:`default_threads`) between the pipeline's stages.

    On the CPU the networks are the critical path: torch gets all but a quarter of the threads
    and the map workers that quarter (at least one worker, which shares a core with torch on
    machines with fewer than four). On a GPU the networks need one feeding thread and the other
    threads go to structure maps. Each ffmpeg process gets a quarter (at least 1): decoding and
    encoding at the working size are light.
    """
    n = default_threads() if threads is None else threads
    if n < 1:
        raise LganError(f"--threads must be at least 1, got {n}")
    quarter = n // 4
    if device is not None and device.type != "cpu":
        return ThreadBudget(n, 1, max(1, n - 1), max(1, quarter))
    return ThreadBudget(n, max(1, n - quarter), max(1, quarter), max(1, quarter))
