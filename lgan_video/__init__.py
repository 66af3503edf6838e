"""lgan-video: stylized, temporally coherent animations with the LGAN three-network pipeline."""

__version__ = "0.1.0"
