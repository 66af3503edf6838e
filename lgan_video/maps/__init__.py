"""Structure maps (edges or segmentation) from RGB frames: the same code at training and render.

``MapConfig`` holds every parameter and is saved into checkpoints and bundles;
``extract_map`` handles one image, ``MapExtractor`` a video (temporal stabilization);
``map_to_tensor`` / ``tensor_to_map`` cross to and from network tensors; ``map_preview`` draws a
map for people.
"""

from lgan_video.maps.config import MapConfig
from lgan_video.maps.convert import map_preview, map_to_tensor, palette, tensor_to_map
from lgan_video.maps.edges import canny_thresholds
from lgan_video.maps.extract import MapExtractor, extract_map

__all__ = [
    "MapConfig",
    "MapExtractor",
    "canny_thresholds",
    "extract_map",
    "map_preview",
    "map_to_tensor",
    "palette",
    "tensor_to_map",
]
