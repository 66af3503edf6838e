"""Training steps move the networks the right way: on one fixed batch, reconstruction losses fall
and one discriminator step widens D's margin between real and fake, for every G1 ``--loss``.

Tiny networks on the CPU in float32, seeded; each test takes well under a second. A sign error in
a loss term (L1 negated, real and fake swapped) turns these around.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from lgan_video.synthetic import scene_array
from lgan_video.training import losses as L
from lgan_video.training.data import Source
from lgan_video.training.distributed import DistInfo
from lgan_video.training.loop import StepContext

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def source() -> Source:
    """8 clip-art scenes (48x40) held in memory."""
    return Source(Path("."), list(scene_array(8, 48, 40, seed=3)), [f"img{i}" for i in range(8)])


def _ctx() -> StepContext:
    return StepContext(CPU, DistInfo(), "fp32")


def _build(task, source: Source, tmp_path: Path):
    """Build ``task`` with seeded weights; its first 4 training samples as one fixed batch."""
    torch.manual_seed(0)
    task.build(source, CPU, tmp_path, seed=0)
    return task.to_device(task.collate([task.dataset[(i, 0)] for i in range(4)]), CPU)


@torch.no_grad()
def _margin(d, *conditioned) -> float:
    """``mean D(real) - mean D(fake)``; ``conditioned`` is (real, fake) or (cond, real, fake)."""
    *cond, real, fake = conditioned

    def score(x: torch.Tensor) -> torch.Tensor:
        out = d(*cond, x)  # a multi-scale D gives one logit map per scale: average them all
        return torch.stack([o.float().mean() for o in out]).mean() if isinstance(out, list) \
            else out.float().mean()

    return (score(real) - score(fake)).item()


@pytest.mark.parametrize("mode", ["edge", "seg"])
def test_mapping_steps_lower_the_reconstruction_loss(mode, source, tmp_path):
    from lgan_video.training.mapping import MappingOptions, MappingTask

    task = MappingTask(MappingOptions(mode=mode, classes=4, size=48, base_channels=8, n_blocks=2))
    batch = _build(task, source, tmp_path)

    def l1() -> float:
        with torch.no_grad():
            return L.l1(task.g(batch["map"], batch["appearance"]), batch["target"]).item()

    before = l1()
    for _ in range(5):
        task.train_step(batch, _ctx())
    assert l1() < 0.9 * before  # about 0.93 -> 0.74 (edge), 0.86 -> 0.64 (seg)


def test_sr_steps_lower_the_reconstruction_loss(source, tmp_path):
    from lgan_video.training.sr import SROptions, SRTask

    task = SRTask(SROptions(channels=8, blocks=1, patch=32))
    batch = _build(task, source, tmp_path)

    def l1() -> float:
        with torch.no_grad():
            return L.l1(task.g(batch["lr"]), batch["hr"]).item()

    before = l1()
    for _ in range(10):
        task.train_step(batch, _ctx())
    # SR starts as bicubic plus a little, so the gain is small but steady: 0.0787 -> 0.0782.
    assert l1() < 0.997 * before


@pytest.mark.parametrize("loss", ["hinge", "wgan-gp", "ns"])
def test_g1_d_step_widens_the_real_fake_margin(loss, source, tmp_path):
    from lgan_video.training.g1 import G1Options, G1Task

    task = G1Task(G1Options(resolution=32, channels=32, loss=loss))
    real = _build(task, source, tmp_path)
    torch.manual_seed(1)
    with torch.no_grad():
        fake = task.g(torch.randn(4, task.cfg.z_dim))
    task.d.eval()  # spectral norm: no power iteration while measuring
    before = _margin(task.d, real, fake)
    task.d.train()
    torch.manual_seed(1)  # the D step draws the same latents, so it sees these fakes
    task.d_step(real, _ctx())
    task.d.eval()
    after = _margin(task.d, real, fake)
    assert after > before + 0.5, (before, after)  # 0.47 -> 3.07 / 3.31 / 1.54


def test_mapping_d_step_widens_the_margin(source, tmp_path):
    from lgan_video.training.mapping import MappingOptions, MappingTask

    # plain edges: the untrained palette network paints one flat colour, which D tells apart (with
    # tones it paints the synthetic scene almost exactly: 0.98 against 1.0)
    task = MappingTask(MappingOptions(mode="edge", size=48, base_channels=8, n_blocks=2, edge_tones=0))
    b = _build(task, source, tmp_path)
    with torch.no_grad():
        fake = task.g(b["map"], b["appearance"])
    before = _margin(task.d, b["map"], b["target"], fake)
    task.d_step(b["map"], b["appearance"], b["target"], _ctx())
    assert _margin(task.d, b["map"], b["target"], fake) > before + 0.005  # 0.001 -> 0.014


def test_sr_d_step_widens_the_margin(source, tmp_path):
    from lgan_video.training.sr import SROptions, SRTask

    task = SRTask(SROptions(channels=8, blocks=1, patch=32, gan_weight=0.1))
    b = _build(task, source, tmp_path)
    cond = task._bicubic(b["lr"])
    with torch.no_grad():
        fake = task.g(b["lr"])
    before = _margin(task.d, cond, b["hr"], fake)
    task.d_step(b["lr"], b["hr"], _ctx())
    assert _margin(task.d, cond, b["hr"], fake) > before + 0.001  # -0.0037 -> -0.0020
