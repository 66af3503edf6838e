"""The one list of media file suffixes, for probe, render, batch and training alike.

A folder of ``.tif`` frames renders because it trains: every reader of files asks here.
Suffixes are lower case with the dot; compare with ``path.suffix.lower()``.
"""

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
"""Still images, and the frames of a frame folder (decoded by Pillow)."""

ANIMATED_SUFFIXES = (".gif", ".webp", ".png")
"""Image formats that may hold an animation (decoded by Pillow frame by frame)."""

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
"""Video containers (decoded by ffmpeg). ``probe`` also tries ffmpeg on unknown suffixes."""

CLIP_SUFFIXES = VIDEO_SUFFIXES + (".gif",)
"""Files that ``batch`` renders and training samples frames from: videos and animated GIFs."""
