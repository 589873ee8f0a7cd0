"""What makes a reference recording usable for a voice profile.

One check for every way a profile gets references (the actor's portal, `dubdesk voices add`): the
registry runs it before it stores any, so a silent or clipped recording never becomes a voice.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..activity import FRAME_S, speech_frames
from ..audio import RATE, decode_audio
from ..errors import BadInputError

REFERENCE_S = (3.0, 120.0)
MIN_SPEECH_SHARE = 0.4
MAX_CLIPPED_SHARE = 0.001
MIN_PEAK_DBFS = -30.0


def check_reference(path: Path) -> np.ndarray:
    """A usable reference: decodes, 3 s to 2 min, mostly speech, not clipped, not too quiet. Returns it
    decoded (16 kHz mono), so the caller need not decode it again."""
    audio = decode_audio(Path(path))
    seconds = len(audio) / RATE
    if not REFERENCE_S[0] <= seconds <= REFERENCE_S[1]:
        raise BadInputError(path, f"{seconds:.1f} s long; a reference must be {REFERENCE_S[0]:.0f}-{REFERENCE_S[1]:.0f} s")
    peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
    if peak < 10 ** (MIN_PEAK_DBFS / 20):
        raise BadInputError(path, f"too quiet (peak {20 * np.log10(max(peak, 1e-9)):.0f} dBFS)")
    clipped = float(np.mean(np.abs(audio) >= 0.999))
    if clipped > MAX_CLIPPED_SHARE:
        raise BadInputError(path, f"clipped in {clipped:.2%} of samples; record it again with less gain")
    speech = float(speech_frames(audio).sum() * FRAME_S / seconds)
    if speech < MIN_SPEECH_SHARE:
        raise BadInputError(path, f"speech in only {speech:.0%} of it; a reference should be mostly speech")
    return audio
