"""Pure helpers of the media layer: start points, exact rates, sizes, natural order."""

from fractions import Fraction

import pytest

from lgan_video.errors import LganError
from lgan_video.media import StartAt, natural_key, output_kind, parse_start, scaled_size
from lgan_video.media.timecode import format_fps, fps_from_delays, fps_from_text


@pytest.mark.parametrize("text, expected", [
    ("12.5", StartAt(seconds=12.5)),
    ("01:02.5", StartAt(seconds=62.5)),
    ("00:01:02.5", StartAt(seconds=62.5)),
    ("1:00:00", StartAt(seconds=3600.0)),
    ("120f", StartAt(frame=120)),
    ("0f", StartAt(frame=0)),
    (3, StartAt(seconds=3.0)),
    (0.25, StartAt(seconds=0.25)),
    (None, StartAt(seconds=0.0)),
])
def test_parse_start(text, expected):
    assert parse_start(text) == expected


@pytest.mark.parametrize("text", ["abc", "-1", "1:75", "12ff", "f12", "1:2:3:4", "nan", ""])
def test_parse_start_rejects_garbage_in_one_line(text):
    with pytest.raises(LganError) as e:
        parse_start(text)
    assert "\n" not in str(e.value) and "start" in str(e.value)


def test_start_frame_index_is_first_frame_at_or_after_time():
    assert StartAt(seconds=0.5).frame_index(Fraction(12)) == 6
    assert StartAt(seconds=0.51).frame_index(Fraction(12)) == 7
    assert StartAt(frame=5).frame_index(Fraction(30)) == 5
    # 10 s at 29.97 fps is between frames 299 (9.977 s) and 300 (10.01 s).
    assert StartAt(seconds=10.0).frame_index(Fraction(30000, 1001)) == 300


@pytest.mark.parametrize("text, rate", [
    ("23.98", Fraction(24000, 1001)), ("29.97", Fraction(30000, 1001)),
    ("59.94", Fraction(60000, 1001)), ("14.99", Fraction(15000, 1001)),
    ("25", Fraction(25)), ("12.50", Fraction(25, 2)), ("1k", Fraction(1000)),
    ("7.81", Fraction(781, 100)),
])
def test_fps_from_text_recovers_exact_rationals(text, rate):
    assert fps_from_text(text) == rate


def test_fps_from_delays_matches_rounded_gif_and_truncated_webp_timing():
    assert fps_from_delays([8, 9, 8] * 4, 100) == 12            # GIF at 12 fps
    assert fps_from_delays([4] * 10, 100) == 25
    assert fps_from_delays([83, 83, 84] * 3 + [83, 83, 83], 1000) == 12   # WebP, last 83
    assert fps_from_delays([13, 37, 20], 100) == Fraction(3 * 100, 70)     # irregular: average
    assert fps_from_delays([0, 0], 100) == 10


def test_format_fps():
    assert format_fps(Fraction(24)) == "24"
    assert format_fps(Fraction(25, 2)) == "12.5"
    assert format_fps(Fraction(24000, 1001)) == "23.976 (24000/1001)"


def test_scaled_size_keeps_short_side_and_rounds_long_side_to_even():
    assert scaled_size(160, 120, 60) == (80, 60)
    assert scaled_size(120, 160, 60) == (60, 80)
    assert scaled_size(1920, 1080, 100) == (178, 100)   # 177.8 -> 178
    assert scaled_size(1000, 999, 99) == (100, 99)      # 99.1 -> 100 (even)
    assert scaled_size(160, 120, None) == (160, 120)


def test_natural_key_orders_numbers_by_value():
    names = ["frame10.png", "frame2.png", "frame1.png", "Frame3.png", "a.png"]
    assert sorted(names, key=natural_key) == [
        "a.png", "frame1.png", "frame2.png", "Frame3.png", "frame10.png"]


@pytest.mark.parametrize("path, kind", [
    ("a.mp4", "mp4"), ("a.MP4", "mp4"), ("b.gif", "gif"), ("c.webp", "webp"),
    ("out", "folder"), ("out.v2/", "folder"), ("dir/frames", "folder"),
])
def test_output_kind(path, kind):
    assert output_kind(path) == kind


def test_output_kind_rejects_unknown_suffix():
    with pytest.raises(LganError, match=r"unknown output type '\.avi'.*x\.avi"):
        output_kind("x.avi")
