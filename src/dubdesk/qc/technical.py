"""Technical QC of a line: clipping, DC offset, loudness, silence before the speech."""
from __future__ import annotations

import numpy as np

from ..config import QCSettings
from ..fit import sound_span
from ..mix import TARGET_LKFS, loudness
from . import CheckResult, graded

CLIP_LEVEL = 0.999


def technical_check(audio: np.ndarray, rate: int, raw: np.ndarray, limits: QCSettings) -> CheckResult:
    """`audio`: the fitted clip, as it will be mixed; `raw`: the clip as synthesized (its silence before
    the speech, which fitting trims, says whether the engine misbehaved)."""
    if len(audio) == 0 or not np.any(audio):
        return CheckResult("technical", "fail", {"seconds": len(audio) / rate}, "silent: the clip holds no sound")
    clipped = float(np.mean(np.abs(audio) >= CLIP_LEVEL))
    dc = float(abs(np.mean(audio)))
    lufs = loudness(audio, rate)
    lead = sound_span(raw, rate).start / rate
    numbers = {"clipped_share": round(clipped, 6), "dc_offset": round(dc, 5), "loudness_lufs": round(lufs, 1),
               "leading_silence_s": round(lead, 3), "peak_dbfs": round(20 * np.log10(np.max(np.abs(audio))), 1)}
    return graded("technical", numbers, {
        "clipped": (clipped, limits.clipped_share), "dc": (dc, limits.dc_offset),
        "loudness": (abs(lufs - TARGET_LKFS), limits.loudness_from_target_lu),
        "lead": (lead, limits.leading_silence_s)}, {
        "clipped": f"clipping: {clipped:.3%} of samples at full scale", "dc": f"DC offset {dc:.3f}",
        "loudness": f"loudness {lufs:.1f} LUFS, far from {TARGET_LKFS:.0f}",
        "lead": f"{lead:.2f} s of silence before the speech", "ok": f"clean: {lufs:.1f} LUFS, no clipping"})
