"""The device, precision and thread rules, and bf16 inference against fp32 on real weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lgan_video import devices
from lgan_video.devices import ThreadBudget, pick_device, resolve_precision, thread_budget
from lgan_video.errors import LganError

CPU = torch.device("cpu")


def test_pick_device_auto_and_errors():
    assert pick_device("cpu") == CPU
    expected = "cuda" if torch.cuda.is_available() else ("mps" if devices._mps_available() else "cpu")
    assert pick_device("auto").type == expected
    with pytest.raises(LganError, match=r"^unknown device 'toaster' \(use auto, cpu, cuda"):
        pick_device("toaster")
    if not torch.cuda.is_available():
        with pytest.raises(LganError, match=r"^device 'cuda:1' requested but CUDA is not available$"):
            pick_device("cuda:1")


@pytest.mark.parametrize("native, name, autocast", [(True, "bf16", torch.bfloat16),
                                                    (False, "fp32", None)])
def test_cpu_auto_precision_follows_native_bf16(monkeypatch, native, name, autocast):
    monkeypatch.setattr(devices, "cpu_has_native_bf16", lambda: native)
    p = resolve_precision(CPU, "auto")
    assert (p.name, p.weights, p.autocast) == (name, torch.float32, autocast)
    # On the CPU bf16 is autocast over fp32 weights, for inference and for training alike.
    assert resolve_precision(CPU, "bf16", training=True).weights == torch.float32
    fp32 = resolve_precision(CPU, "fp32")
    assert fp32.autocast is None and fp32.channels_last == p.channels_last


def test_precision_errors():
    with pytest.raises(LganError, match=r"^--precision fp16 needs a CUDA device \(got cpu\)"):
        resolve_precision(CPU, "fp16")
    with pytest.raises(LganError, match=r"^unknown precision 'int8'"):
        resolve_precision(CPU, "int8")


def test_native_bf16_is_read_from_the_cpu_flags():
    try:
        flags = next(line for line in open("/proc/cpuinfo") if line.startswith("flags")).split()
    except (OSError, StopIteration):
        flags = []
    assert devices.cpu_has_native_bf16() == bool({"avx512_bf16", "amx_bf16"} & set(flags))


@pytest.mark.parametrize("n, cpu, gpu", [
    (1, (1, 1, 1), (1, 1, 1)),
    (2, (2, 1, 1), (1, 1, 1)),
    (4, (3, 1, 1), (1, 3, 1)),
    (16, (12, 4, 4), (1, 15, 4)),
])
def test_thread_budget_divides_the_cores(n, cpu, gpu):
    assert thread_budget(n, CPU) == ThreadBudget(n, *cpu)
    assert thread_budget(n, torch.device("cuda")) == ThreadBudget(n, *gpu)
    assert thread_budget(None, CPU).total == devices.available_cores()


def test_default_threads_follow_omp_num_threads(monkeypatch):
    monkeypatch.setattr(devices, "available_cores", lambda: 8)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert devices.default_threads() == 8
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert devices.default_threads() == 3 and thread_budget(None, CPU).total == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "64")  # never more than the cores we may run on
    assert devices.default_threads() == 8
    for junk in ("0", "", "two"):
        monkeypatch.setenv("OMP_NUM_THREADS", junk)
        assert devices.default_threads() == 8


def test_thread_budget_apply_sets_torch_threads():
    thread_budget(3, CPU).apply()
    assert torch.get_num_threads() == 3  # restored to 1 after the test by conftest


@pytest.mark.parametrize("mode", ["edge", "seg"])
def test_bf16_render_matches_fp32_on_the_default_model(mode):
    """The shipped weights on a fixed synthetic frame: bf16 autocast within 40 dB of fp32."""
    from lgan_video.latents import seed_latent
    from lgan_video.metrics import psnr
    from lgan_video.pipeline import Pipeline
    from lgan_video.synthetic import scene_array

    frames = list(scene_array(2, 192, 108, seed=3))
    out = {}
    for precision in ("fp32", "bf16"):
        pipe = Pipeline.from_bundle("default", device="cpu", precision=precision)
        out[precision] = np.stack(list(pipe.render(frames, mode, iter([seed_latent(5, 128)] * 2))))
    assert out["fp32"].shape == (2, 384, 684, 3)  # short side 192 (342x192), SR x2
    score = psnr(out["bf16"], out["fp32"])
    assert 40.0 <= score < 100.0, score  # close, and really computed in another precision


def test_bf16_pipeline_returns_the_weights_dtype(tiny_bundle):
    """Under CPU autocast the public calls still return fp32, so they chain like in fp32."""
    from lgan_video.pipeline import Pipeline

    pipe = Pipeline.from_bundle(tiny_bundle, device="cpu", precision="bf16")
    assert pipe.precision.autocast == torch.bfloat16 and pipe.dtype == torch.float32
    look = pipe.generate(torch.randn(2, 16, generator=torch.Generator().manual_seed(0)))
    painted = pipe.translate(torch.zeros(2, 1, 24, 20), look, "edge")
    big = pipe.upscale(painted)
    assert [t.dtype for t in (look, painted, big)] == [torch.float32] * 3
    assert big.shape == (2, 3, 48, 40)
