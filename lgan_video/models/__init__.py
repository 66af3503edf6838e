"""The three LGAN networks (plain ``nn.Module``s built from frozen config dataclasses)."""

from lgan_video.models.g1 import G1Config, G1Discriminator, G1Generator
from lgan_video.models.layers import SelfAttention, StyleNorm, count_parameters
from lgan_video.models.mapping import (
    MappingConfig,
    MappingNetwork,
    MultiScaleDiscriminator,
    PatchDiscriminator,
    RecoveryNetwork,
    StyleEncoder,
)
from lgan_video.models.sr import ResidualDenseBlock, SRConfig, SRNetwork

__all__ = [
    "G1Config",
    "G1Discriminator",
    "G1Generator",
    "MappingConfig",
    "MappingNetwork",
    "MultiScaleDiscriminator",
    "PatchDiscriminator",
    "RecoveryNetwork",
    "ResidualDenseBlock",
    "SRConfig",
    "SRNetwork",
    "SelfAttention",
    "StyleEncoder",
    "StyleNorm",
    "count_parameters",
]
