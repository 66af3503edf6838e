"""Shapes, ranges and configs of the three networks (tiny widths, seeded, CPU)."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from lgan_video.models import (
    G1Config,
    G1Discriminator,
    G1Generator,
    MappingConfig,
    MappingNetwork,
    PatchDiscriminator,
    RecoveryNetwork,
    SelfAttention,
    SRConfig,
    SRNetwork,
    StyleNorm,
    count_parameters,
)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize(
    "resolution, attention, d_attention", [(32, (16, 32), (32, 8)), (64, (32,), (16,))]
)
def test_g1_generator_and_discriminator_shapes(resolution, attention, d_attention):
    cfg = G1Config(z_dim=16, resolution=resolution, channels=64, min_channels=16,
                   attention=attention, d_channels=16, d_attention=d_attention)
    g, d = G1Generator(cfg).eval(), G1Discriminator(cfg)
    x = g(torch.randn(3, 16))
    assert x.shape == (3, 3, resolution, resolution)
    assert x.std() > 0.01
    scores = d(x)
    assert scores.shape == (3,) and torch.isfinite(scores).all()
    n_attn = sum(isinstance(m, SelfAttention) for m in g.modules())
    assert n_attn == len(attention)
    assert sum(isinstance(m, SelfAttention) for m in d.modules()) == len(d_attention)


def test_g1_channels_halve_and_floor():
    cfg = G1Config(resolution=128, channels=256, min_channels=32)
    assert [cfg.g_channels(i) for i in range(-1, cfg.n_blocks)] == [256, 128, 64, 32, 32, 32]
    cpu = G1Generator(G1Config(channels=256, min_channels=32))
    assert 0.5e6 < count_parameters(cpu) < 2e6


@pytest.mark.parametrize("kwargs, match", [
    ({"resolution": 48}, "power of two"),
    ({"resolution": 512}, "power of two"),
    ({"resolution": 32, "attention": (64,)}, "attention"),
    ({"d_attention": (3,)}, "d_attention"),
    ({"z_dim": 0}, "z_dim"),
])
def test_g1_config_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        G1Config(**kwargs)


@pytest.mark.parametrize("map_channels, n_down, size", [(1, 2, (20, 28)), (8, 3, (24, 40))])
def test_mapping_network_shapes(map_channels, n_down, size):
    cfg = MappingConfig(map_channels=map_channels, style_dim=8, base_channels=8, n_down=n_down,
                        n_blocks=2, appearance_size=16, d_channels=8, d_layers=2,
                        recovery_channels=8)
    net = MappingNetwork(cfg)
    maps = torch.rand(2, map_channels, *size) * 2 - 1
    appearance = torch.rand(2, 3, 32, 32) * 2 - 1
    style = net.encode_style(appearance)
    assert style.shape == (2, 8)
    out = net.translate(maps, style)
    assert out.shape == (2, 3, *size)
    torch.testing.assert_close(net(maps, appearance), out)
    logits = PatchDiscriminator(cfg)(maps, out)
    assert logits.shape[:2] == (2, 1) and logits.shape[2] >= 1
    recovered = RecoveryNetwork(cfg)(torch.rand(2, 3, size[0] + 1, size[1] + 3))
    assert recovered.shape == (2, map_channels, size[0] + 1, size[1] + 3)


def test_mapping_rejects_sizes_not_multiple_of_two_to_n_down():
    net = MappingNetwork(MappingConfig(base_channels=8, n_blocks=1, n_down=3, style_dim=8))
    with pytest.raises(ValueError, match="multiple of 8"):
        net.translate(torch.zeros(1, 1, 36, 32), torch.zeros(1, 8))


def test_style_changes_the_translation():
    cfg = MappingConfig(style_dim=8, base_channels=8, n_down=2, n_blocks=2, appearance_size=16)
    net = MappingNetwork(cfg)
    maps = torch.rand(1, 1, 16, 16) * 2 - 1
    a = net.translate(maps, torch.zeros(1, 8))
    b = net.translate(maps, torch.full((1, 8), 2.0))
    assert (a - b).abs().mean() > 1e-3


def test_patch_discriminator_default_is_70px_patchgan():
    d = PatchDiscriminator(MappingConfig())
    assert d(torch.zeros(1, 1, 256, 256), torch.zeros(1, 3, 256, 256)).shape == (1, 1, 30, 30)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_sr_shapes_and_bicubic_start(scale):
    net = SRNetwork(SRConfig(scale=scale, channels=8, blocks=2, growth=4, dense_layers=2))
    x = torch.rand(2, 3, 10, 14) * 2 - 1
    y = net(x)
    assert y.shape == (2, 3, 10 * scale, 14 * scale)
    bicubic = F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)
    assert 0 < (y - bicubic).abs().mean() < 0.05  # untrained = bicubic plus a little detail



@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("channels_last", [False, True])
def test_bicubic_upscale_matches_pytorch(scale, channels_last):
    from lgan_video.models.sr import bicubic_taps, bicubic_upscale

    assert torch.allclose(bicubic_taps(scale).sum(dim=1), torch.ones(scale, dtype=torch.float64))
    x = torch.rand(2, 3, 7, 11, generator=torch.Generator().manual_seed(scale)) * 2 - 1
    ref = F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)
    if channels_last:
        x = x.to(memory_format=torch.channels_last)
    y = bicubic_upscale(x, scale)
    assert y.shape == ref.shape and y.dtype == torch.float32
    assert (y - ref).abs().max() < 4e-6
    with torch.autocast("cpu", dtype=torch.bfloat16):  # the skip stays fp32 under autocast
        y = bicubic_upscale(x, scale)
    assert y.dtype == torch.float32 and (y - ref).abs().max() < 4e-6

def test_sr_config_validation():
    with pytest.raises(ValueError, match="scale"):
        SRConfig(scale=5)


def test_self_attention_starts_as_identity_and_style_norm_modulates():
    attn = SelfAttention(16)
    x = torch.randn(2, 16, 5, 7)
    torch.testing.assert_close(attn(x), x)
    attn.gamma.data.fill_(1.0)
    assert (attn(x) - x).abs().mean() > 1e-3
    norm = StyleNorm(16, 4)
    torch.nn.init.zeros_(norm.affine.weight)
    torch.nn.init.zeros_(norm.affine.bias)
    y = norm(x * 5 + 3, torch.randn(2, 4))
    assert y.mean().abs() < 1e-4 and abs(y.std().item() - 1.0) < 0.05


@pytest.mark.parametrize("cfg", [
    G1Config(attention=(16, 32), d_attention=()),
    MappingConfig(map_channels=8, n_blocks=3),
    SRConfig(scale=3, blocks=1),
])
def test_configs_round_trip_through_json(cfg):
    data = json.loads(json.dumps(cfg.to_dict()))
    assert type(cfg).from_dict(data) == cfg
    with pytest.raises(ValueError, match="unknown"):
        type(cfg).from_dict({**data, "bogus": 1})


@pytest.mark.parametrize("kind", ["g1", "mapping", "sr"])
def test_network_table_builds_each_kind_from_its_config(kind):
    from lgan_video.models.registry import NETWORKS, build_network, kind_of
    from lgan_video.testing import TINY_G1, TINY_MAPPING, TINY_SR

    config = {"g1": TINY_G1, "mapping": {"map_channels": 4, **TINY_MAPPING}, "sr": TINY_SR}[kind]
    net = build_network(kind, config)
    config_cls, net_cls = NETWORKS[kind]
    assert type(net) is net_cls and net.cfg == config_cls(**config)
    again = build_network(kind, json.loads(json.dumps(net.cfg.to_dict())))
    again.load_state_dict(net.state_dict())  # same config, same tensor names and shapes
    names = ("g1", "sr", "mapping-edge", "mapping", "g2", "sr-x")  # bundle entry names
    assert [kind_of(n) for n in names] == ["g1", "sr", "mapping", None, None, None]


def test_antialiased_mapping_renders_shifted_maps_shifted():
    """A map shifted by one pixel should render shifted; the stride-2 stages alias, so a plain
    network re-renders it. Same parameters either way (the blur is fixed, not stored)."""
    from lgan_video.models.mapping import Blur
    from lgan_video.training.run import config_differences

    maps = (torch.rand(2, 5, 64, 96, generator=torch.Generator().manual_seed(0)) > 0.5) * 2.0 - 1
    look = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(1)) * 2 - 1
    errors, sizes = {}, {}
    for antialias in (False, True):
        torch.manual_seed(0)
        cfg = MappingConfig(map_channels=5, base_channels=8, n_blocks=2, palette=True,
                            palette_slots=4, antialias=antialias)
        net = MappingNetwork(cfg).eval()
        torch.nn.init.normal_(net.to_rgb[-1].weight, std=0.02)  # palette nets start at zero
        with torch.no_grad():
            out = net(maps, look)
            moved = net(torch.roll(maps, 1, dims=3), look)
        assert out.shape == (2, 3, 64, 96)
        shifted_back = torch.roll(out, 1, dims=3)
        errors[antialias] = (shifted_back - moved)[..., 16:-16, 16:-16].square().mean().item()
        sizes[antialias] = (count_parameters(net), len(net.state_dict()))
    assert errors[True] < 0.5 * errors[False], errors
    assert sizes[True] == sizes[False]
    assert MappingConfig.from_dict({"map_channels": 5}).antialias is False  # older bundles
    assert torch.equal(Blur(2)(torch.ones(1, 2, 5, 5)), torch.ones(1, 2, 5, 5))  # sums to 1
    old = {"task": "mapping", "network": {"style_dim": 64}}  # runs that predate the option
    assert config_differences(old, {**old, "antialias": False,
                                    "network": {"style_dim": 64, "antialias": False}}) == []
