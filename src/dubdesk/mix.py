"""Mixdown: the approved dub lines, fitted and at their slots, over the background, to delivery spec.

The dialogue premix is brought to the target loudness over the dub's speech (dialogue-gated
BS.1770); the background is the supplied M&E stem, or the original with its dialogue ducked under
each dub line by smooth ramps. The whole mix is then levelled on its dialogue to -27 LKFS and held
under the true-peak ceiling by a look-ahead limiter on a 4x oversampled peak. Stems keep the mix's
gain; the dialogue stem has its own, lower ceiling.

Where a watermark is given, it goes in first, in one batch: into each line (so the line clips and the
dialogue stem carry it) and into the bed as it sits under the dub in the full mix. The detector averages
over the whole file, so marked lines alone over an unmarked bed scored about 0.5 in the full mix, under
its threshold; with the bed marked too it scores 1.0. The background stem itself holds no generated
speech and stays unmarked. The mark adds about 0.3 LU and 0.1 dB of true peak, so it goes in before
the levelling and limiting, which then hold the target and ceilings for the marked audio.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyloudnorm
from scipy.ndimage import minimum_filter1d
from scipy.signal import fftconvolve, resample_poly

from .audio import media_argument
from .errors import DubdeskError
from .tools import ToolError, last_output, run

MIX_RATE = 48000
TARGET_LKFS = -27.0
MIX_TRUE_PEAK_DBTP, STEM_TRUE_PEAK_DBTP = -2.0, -6.0
CEILING_MARGIN_DB = 0.3  # the limiter aims this far under a ceiling: other meters interpolate differently
DUCK_DB, DUCK_RAMP_S = -14.0, 0.25
LOOKAHEAD_S = 0.005
OVERSAMPLING = 4


@dataclass(frozen=True)
class PlacedLine:
    line_id: str
    start: float
    audio: np.ndarray  # mono, MIX_RATE (or the rate given to place_lines)


Mark = Callable[[list[np.ndarray]], list[np.ndarray]]  # a watermark: MIX_RATE signals in, marked out, one batch


@dataclass(frozen=True)
class Mix:
    full: np.ndarray  # (samples, 2)
    dialogue: np.ndarray  # (samples,) the dub premix
    background: np.ndarray  # (samples, 2)
    spans: list[tuple[float, float]]  # the dub's speech, in seconds
    gain_db: float  # applied to the whole mix to reach the target
    lines: list[PlacedLine]  # as mixed: watermarked where the mix was

    def loudness(self) -> dict[str, float]:
        """This meter's reading: dialogue-gated and whole-programme loudness, true peaks."""
        return {"dialogue_gated_lkfs": round(dialogue_loudness(self.full, self.spans), 2),
                "integrated_lkfs": round(loudness(self.full), 2),
                "true_peak_dbtp": round(true_peak_dbtp(self.full), 2),
                "dialogue_stem_true_peak_dbtp": round(true_peak_dbtp(self.dialogue), 2)}


def place_lines(lines: list[PlacedLine], samples: int, rate: int = MIX_RATE) -> np.ndarray:
    """The dub premix: each line at its start (lines never move; overlaps add)."""
    premix = np.zeros(samples, dtype=np.float64)
    for line in lines:
        begin = int(round(line.start * rate))
        part = line.audio[:max(0, samples - begin)]
        premix[begin:begin + len(part)] += part
    return premix


def duck(background: np.ndarray, spans: list[tuple[float, float]]) -> np.ndarray:
    """The background lowered by DUCK_DB under each span, fully from its start to its end, with
    DUCK_RAMP_S raised-cosine ramps outside it."""
    ramp = int(DUCK_RAMP_S * MIX_RATE)
    under = np.zeros(len(background))
    for start, end in spans:
        under[max(0, int(start * MIX_RATE) - ramp // 2):int(end * MIX_RATE) + ramp // 2] = 1.0
    window = np.hanning(ramp + 2)[1:-1]
    depth = np.clip(fftconvolve(under, window / window.sum(), mode="same"), 0.0, 1.0)
    return background * (1 + (10 ** (DUCK_DB / 20) - 1) * depth)[:, None]


def loudness(audio: np.ndarray, rate: int = MIX_RATE) -> float:
    """BS.1770 integrated loudness; audio shorter than one 400 ms block is padded with silence."""
    block = int(0.4 * rate)
    padded = np.pad(audio, [(0, max(0, block - len(audio)))] + [(0, 0)] * (audio.ndim - 1))
    return float(pyloudnorm.Meter(rate).integrated_loudness(padded.astype(np.float64)))


def dialogue_loudness(audio: np.ndarray, spans: list[tuple[float, float]]) -> float:
    """BS.1770 integrated loudness over the dialogue only (the dub's speech spans, joined)."""
    parts = [audio[int(start * MIX_RATE):int(end * MIX_RATE)] for start, end in spans]
    joined = np.concatenate([p for p in parts if len(p)]) if parts else audio[:0]
    if len(joined) == 0:
        raise DubdeskError("nothing to mix: no dialogue")
    return loudness(joined)


def _peaks(audio: np.ndarray) -> np.ndarray:
    """Per sample, the highest oversampled |value| across channels (a true-peak envelope)."""
    wide = audio if audio.ndim == 2 else audio[:, None]
    up = np.abs(resample_poly(wide, OVERSAMPLING, 1, axis=0)).max(axis=1)
    return up[:len(wide) * OVERSAMPLING].reshape(len(wide), OVERSAMPLING).max(axis=1)


def true_peak_dbtp(audio: np.ndarray) -> float:
    peak = _peaks(audio).max() if len(audio) else 0.0
    return float(20 * np.log10(max(peak, 1e-12)))


def limit_true_peak(audio: np.ndarray, ceiling_dbtp: float) -> np.ndarray:
    """Keep the true peak under `ceiling_dbtp`: a gain that reaches each over LOOKAHEAD_S ahead and
    lets go as smoothly (the smoothing window never lifts the gain above what any peak in it needs)."""
    ceiling = 10 ** ((ceiling_dbtp - CEILING_MARGIN_DB) / 20)
    for _ in range(4):  # smoothing and resampling leave a residue; a second pass catches it
        peaks = _peaks(audio)
        if peaks.max(initial=0.0) <= ceiling:  # (a line with nothing said has no peaks)
            break
        needed = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
        half = int(LOOKAHEAD_S * MIX_RATE)
        gain = minimum_filter1d(needed, 2 * half + 1, mode="nearest")
        window = np.hanning(2 * half + 3)[1:-1]
        gain = np.convolve(gain, window / window.sum(), mode="same")
        audio = audio * (gain[:, None] if audio.ndim == 2 else gain)
    return audio


def mixdown(lines: list[PlacedLine], background: np.ndarray, spans: list[tuple[float, float]], ducked: bool,
            mark: Mark | None = None) -> Mix:
    """Dialogue levelled to the target over its own speech, over the background (ducked when it is
    the original), levelled and limited as a whole; the lines and the bed under them watermarked first
    by `mark`, where given."""
    samples = len(background)
    bed = duck(background, spans) if ducked else background
    bed_in_mix = bed
    if mark is not None:
        *marked, bed_in_mix = mark([line.audio for line in lines] + [bed])
        lines = [replace(line, audio=audio) for line, audio in zip(lines, marked, strict=True)]
    dialogue = place_lines(lines, samples)
    level = 10 ** ((TARGET_LKFS - dialogue_loudness(dialogue, spans)) / 20)
    full = bed_in_mix + dialogue[:, None] * level
    gain_db = TARGET_LKFS - dialogue_loudness(full, spans)
    gain = 10 ** (gain_db / 20)
    lines = [replace(line, audio=limit_true_peak(line.audio * level * gain, STEM_TRUE_PEAK_DBTP)) for line in lines]
    return Mix(full=limit_true_peak(full * gain, MIX_TRUE_PEAK_DBTP),
               dialogue=limit_true_peak(dialogue * level * gain, STEM_TRUE_PEAK_DBTP),
               background=limit_true_peak(bed * gain, MIX_TRUE_PEAK_DBTP), spans=spans, gain_db=gain_db, lines=lines)


def ebur128(path: Path, spans: list[tuple[float, float]] | None = None) -> dict[str, float]:
    """ffmpeg's EBU R128 meter, an independent reading: integrated loudness, range and true peak of the
    file, or, given `spans`, of those stretches only joined together (dialogue-gated loudness)."""
    chain = "ebur128=peak=true"
    if spans:
        chosen = "+".join(f"between(t,{start:.3f},{end:.3f})" for start, end in spans)
        chain = f"aselect='{chosen}',asetpts=N/SR/TB,{chain}"
    done = run(["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", media_argument(path), "-af", chain, "-f", "null", "-"])
    summary = done.stderr[done.stderr.rfind("Summary:"):]
    if "Summary:" not in done.stderr:
        raise ToolError(f"ffmpeg gave no loudness summary for {Path(path).name}: {last_output(done.stderr)}")

    def value(label: str) -> float:
        line = next(row for row in summary.splitlines() if row.strip().startswith(label))
        return float(line.split(":")[1].split()[0])

    return {"integrated_lkfs": value("I:"), "range_lu": value("LRA:"), "true_peak_dbtp": value("Peak:")}
