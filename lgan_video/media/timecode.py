"""Times and rates: ``--start`` strings, exact frame rates from ffmpeg's text or frame delays."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

from lgan_video.errors import LganError

_CLOCK = re.compile(r"^(?:(\d+):)?(\d+):(\d+(?:\.\d*)?)$")
_FRAME = re.compile(r"^(\d+)f$")
# NTSC-style rates k * 1000/1001; ffmpeg prints them rounded to 2 decimals (23.98, 29.97, 59.94).
_NTSC_TOLERANCE = 0.0051


@dataclass(frozen=True)
class StartAt:
    """Where reading begins: either ``seconds`` or a frame index ``frame`` (exactly one is set)."""

    seconds: float | None = None
    frame: int | None = None

    def frame_index(self, fps: Fraction) -> int:
        """The first frame at or after this point for a constant ``fps`` (frame ``i`` at ``i/fps``)."""
        if self.frame is not None:
            return self.frame
        return max(0, math.ceil(float(self.seconds or 0.0) * float(fps) - 1e-6))


def parse_start(value: str | float | int | None) -> StartAt:
    """Parse a start point: ``12.5`` / ``"12.5"`` seconds, ``"01:02.5"`` or ``"00:01:02.5"``
    (``[hh:]mm:ss(.ms)``), or ``"120f"`` (frame index 120). ``None`` means the beginning."""
    if value is None:
        return StartAt(seconds=0.0)
    if isinstance(value, bool):
        raise LganError(f"invalid start: {value!r}")
    if isinstance(value, (int, float)):
        return _seconds(float(value), value)
    text = str(value).strip().lower()
    if m := _FRAME.match(text):
        return StartAt(frame=int(m.group(1)))
    if m := _CLOCK.match(text):
        hours, minutes, seconds = int(m.group(1) or 0), int(m.group(2)), float(m.group(3))
        if seconds >= 60 or (m.group(1) and minutes >= 60):
            raise LganError(f"invalid start '{value}': minutes and seconds must be below 60")
        return _seconds(hours * 3600 + minutes * 60 + seconds, value)
    try:
        return _seconds(float(text), value)
    except ValueError:
        raise LganError(
            f"invalid start '{value}': use seconds (12.5), [hh:]mm:ss(.ms) (01:02.5) "
            "or a frame index (120f)"
        ) from None


def _seconds(seconds: float, raw) -> StartAt:
    if not math.isfinite(seconds) or seconds < 0:
        raise LganError(f"invalid start '{raw}': must be a time of 0 or more")
    return StartAt(seconds=seconds)


def fps_from_text(text: str) -> Fraction:
    """The exact rate behind ffmpeg's printed ``fps``/``tbr`` value (``"23.98"``, ``"25"``, ``"1k"``).

    Rule: ffmpeg prints integers plainly and other rates rounded to 2 decimals. An integer is
    taken as is; a value within 0.0051 of ``k * 1000/1001`` (k integer) is that NTSC rate
    (23.98 -> 24000/1001, 29.97 -> 30000/1001, 59.94 -> 60000/1001); anything else is the
    printed decimal as a fraction (12.50 -> 25/2).
    """
    t = text.strip().lower()
    value = Fraction(t[:-1]) * 1000 if t.endswith("k") else Fraction(t)
    if value <= 0:
        raise ValueError(f"non-positive frame rate {text!r}")
    if value.denominator == 1:
        return value
    k = round(float(value) * 1001 / 1000)
    if k > 0 and abs(float(value) - k * 1000 / 1001) <= _NTSC_TOLERANCE:
        return Fraction(k * 1000, 1001)
    return value


_NICE_RATES = sorted(
    {Fraction(n) for n in range(1, 121)}
    | {Fraction(k * 1000, 1001) for k in (12, 15, 24, 30, 48, 60, 120)}
    | {Fraction(n, 2) for n in range(1, 60, 2)}
)


def fps_from_delays(delays: list[int], unit: int) -> Fraction:
    """Exact rate of an animation whose frame delays are ``delays`` ticks of ``1/unit`` s.

    GIF (unit 100) and WebP (unit 1000) store rounded per-frame delays. A writer at rate ``r``
    produces ``delay_i = round((i+1)*unit/r) - round(i*unit/r)`` (or with truncation; the last delay may be one tick off); if one of the common rates
    (integers up to 120, halves, NTSC rates) reproduces ``delays`` exactly, that rate is
    returned, otherwise the average ``len(delays) * unit / sum(delays)``.
    """
    total = sum(delays)
    if not delays or total <= 0:
        return Fraction(10)  # GIF readers show zero-delay animations at about 10 fps
    average = Fraction(len(delays) * unit, total)
    for rate in sorted(_NICE_RATES, key=lambda r: abs(r - average)):
        if abs(rate - average) > average * Fraction(1, 10):
            break
        for offset in (Fraction(1, 2), Fraction(0)):  # writers round or truncate timestamps
            ticks = [math.floor(i * unit / rate + offset) for i in range(len(delays) + 1)]
            expect = [ticks[i + 1] - ticks[i] for i in range(len(delays))]
            # Writers differ on the last frame's delay; allow it one tick of slack.
            if expect[:-1] == delays[:-1] and abs(expect[-1] - delays[-1]) <= 1:
                return rate
    return average.limit_denominator(1001)


def format_fps(fps: Fraction) -> str:
    """``24``, ``12.5`` or ``23.976 (24000/1001)`` for people."""
    if fps.denominator == 1:
        return str(fps.numerator)
    decimal = f"{float(fps):.3f}".rstrip("0").rstrip(".")
    return decimal if Fraction(decimal) == fps else f"{decimal} ({fps.numerator}/{fps.denominator})"
