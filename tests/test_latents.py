"""Latent walks: determinism, smoothness, looping, streaming, seed parsing."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from lgan_video.errors import LganError
from lgan_video.latents import ease, iter_latents, latent_path, parse_seeds, seed_latent, slerp


def test_seed_latent_is_deterministic_standard_normal():
    a, b = seed_latent(7, 512), seed_latent(7, 512)
    assert a.shape == (512,) and a.dtype == torch.float32
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.equal(a, seed_latent(8, 512))
    assert abs(a.mean().item()) < 0.2 and abs(a.std().item() - 1.0) < 0.15
    # The generator is seeded locally: global RNG state is neither used nor changed.
    torch.manual_seed(1)
    before = torch.random.get_rng_state()
    seed_latent(3)
    assert torch.equal(before, torch.random.get_rng_state())


def test_slerp_endpoints_midpoint_and_parallel_vectors():
    a, b = seed_latent(1, 64), seed_latent(2, 64)
    torch.testing.assert_close(slerp(a, b, 0.0), a)
    torch.testing.assert_close(slerp(a, b, 1.0), b)
    mid = slerp(a, b, 0.5)
    # The midpoint of a spherical path keeps a typical norm (a lerp would shrink it by ~sqrt 2).
    assert mid.norm() > 0.9 * min(a.norm(), b.norm())
    same = slerp(a, a * 2.0, 0.25)
    assert torch.isfinite(same).all()
    torch.testing.assert_close(same, a * 1.25)


def test_ease_is_monotonic_with_fixed_ends():
    values = [ease(i / 20) for i in range(21)]
    assert values[0] == 0.0 and values[-1] == 1.0 and math.isclose(values[10], 0.5)
    assert all(x < y for x, y in zip(values[:-1], values[1:], strict=True))
    assert ease(-1.0) == 0.0 and ease(2.0) == 1.0


def test_single_seed_path_is_constant():
    path = latent_path([5], 6, z_dim=32)
    assert path.shape == (6, 32)
    assert all(torch.equal(p, seed_latent(5, 32)) for p in path)


def test_path_visits_seeds_and_is_smooth():
    seeds = [1, 2, 3]
    path = latent_path(seeds, 41, z_dim=64)
    assert path.shape == (41, 64)
    torch.testing.assert_close(path[0], seed_latent(1, 64))
    torch.testing.assert_close(path[20], seed_latent(2, 64))
    torch.testing.assert_close(path[-1], seed_latent(3, 64))
    steps = (path[1:] - path[:-1]).norm(dim=1)
    seed_gap = (seed_latent(1, 64) - seed_latent(2, 64)).norm()
    assert steps.max() < 2.5 * steps.mean()
    assert steps.max() < 0.15 * seed_gap


def test_loop_returns_seamlessly_to_the_first_seed():
    n = 30
    path = latent_path([4, 9, 11], n, loop=True, z_dim=32)
    torch.testing.assert_close(path[0], seed_latent(4, 32))
    closing = (path[-1] - path[0]).norm()  # the step from the last frame to the repeat
    steps = (path[1:] - path[:-1]).norm(dim=1)
    assert 0 < closing < 2.5 * steps.mean()
    # One frame further would be exactly the first frame again.
    longer = latent_path([4, 9, 11], 2 * n, loop=True, z_dim=32, frames_per_seed=n // 3)
    torch.testing.assert_close(longer[n], path[0])
    torch.testing.assert_close(longer[:n], path)


def test_frames_per_seed_holds_the_last_seed_without_loop():
    path = latent_path([1, 2], 12, frames_per_seed=4, z_dim=16)
    torch.testing.assert_close(path[4], seed_latent(2, 16))
    assert all(torch.equal(p, path[4]) for p in path[4:])


@pytest.mark.parametrize("loop", [False, True])
def test_iter_latents_matches_latent_path(loop):
    stream = list(itertools.islice(iter_latents([3, 1, 4], 5, loop=loop, z_dim=16), 37))
    path = latent_path([3, 1, 4], 37, frames_per_seed=5, loop=loop, z_dim=16)
    torch.testing.assert_close(torch.stack(stream), path)


def test_parse_seeds():
    assert parse_seeds("3,14,15") == [3, 14, 15]
    assert parse_seeds(" 1-4, 9 ") == [1, 2, 3, 4, 9]
    assert parse_seeds("0") == [0]


@pytest.mark.parametrize("text", ["", "1,,2", "a", "1.5", "-3", "4-1", "0-999999999", "1,x"])
def test_parse_seeds_rejects_bad_input(text):
    with pytest.raises(LganError, match="seed"):
        parse_seeds(text)


def test_latent_path_rejects_bad_arguments():
    with pytest.raises(LganError, match="no seeds"):
        latent_path([], 5)
    with pytest.raises(LganError, match="at least 1 frame"):
        latent_path([1], 0)
    with pytest.raises(LganError, match="frames per seed"):
        next(iter_latents([1, 2], 0))
