"""SMPTE timecode for dialogue lists: HH:MM:SS:FF, drop-frame (;) at 29.97 and 59.94."""
from __future__ import annotations

import math

DROP_FRAME_RATES = {29.97: 2, 59.94: 4}


def _frames_to_timecode(frames: int, rate: float) -> str:
    nominal = round(rate)
    dropped = DROP_FRAME_RATES.get(round(rate, 2))
    separator = ":"
    if dropped:
        per_ten_minutes = nominal * 600 - dropped * 9
        per_minute = nominal * 60 - dropped
        tens, rest = divmod(frames, per_ten_minutes)
        frames += dropped * 9 * tens + (dropped * ((rest - dropped) // per_minute) if rest > dropped else 0)
        separator = ";"
    hours, rest = divmod(frames, nominal * 3600)
    minutes, rest = divmod(rest, nominal * 60)
    seconds, frame = divmod(rest, nominal)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{frame:02d}"


def timecode_in(seconds: float, rate: float) -> str:
    """The frame a line starts in (rounded down, so the cue is never late)."""
    return _frames_to_timecode(math.floor(seconds * rate + 1e-6), rate)


def timecode_out(seconds: float, rate: float) -> str:
    """The first frame after a line ends (rounded up, so no word is cut)."""
    return _frames_to_timecode(math.ceil(seconds * rate - 1e-6), rate)
