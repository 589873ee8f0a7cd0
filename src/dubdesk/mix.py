"""Mixdown: the approved dub lines, fitted and at their slots, over the background, to delivery spec.

The dialogue premix is brought to the target loudness over the dub's speech (dialogue-gated
BS.1770); the background is the supplied M&E stem, or the original with its dialogue ducked under
each dub line by smooth ramps. The whole mix is then levelled on its dialogue to -27 LKFS and held
under the true-peak ceiling by a look-ahead limiter on a 4x oversampled peak. Stems keep the mix's
gain; the dialogue stem has its own, lower ceiling.

A programme of an hour is 690 MB of float32 stereo: the mix never holds it whole. Every stage reads
and writes float WAVs in a work folder, BLOCK_S at a time (the ducking envelope and the limiter with
what they reach of the neighbouring blocks, so a block bound is no edge for them), and the loudness of
what it needs is measured on the way (meter.py: the same BS.1770 reading pyloudnorm gives the whole signal).

Where a watermark is given, it goes in first, in one batch: into each line (so the line clips and the
dialogue stem carry it) and into the bed as it sits under the dub in the full mix. The detector averages
over the whole file, so marked lines alone over an unmarked bed scored about 0.5 in the full mix, under
its threshold; with the bed marked too it scores 1.0. The background stem itself holds no generated
speech and stays unmarked. The mark adds about 0.3 LU and 0.1 dB of true peak, so it goes in before
the levelling and limiting, which then hold the target and ceilings for the marked audio.
"""
from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyloudnorm
import soundfile as sf
from scipy.ndimage import minimum_filter1d
from scipy.signal import fftconvolve

from .audio import media_argument
from .errors import DubdeskError
from .meter import LoudnessMeter, peaks, true_peak
from .tools import ToolError, last_output, run

MIX_RATE = 48000
TARGET_LKFS = -27.0
MIX_TRUE_PEAK_DBTP, STEM_TRUE_PEAK_DBTP = -2.0, -6.0
CEILING_MARGIN_DB = 0.3  # the limiter aims this far under a ceiling: other meters interpolate differently
DUCK_DB, DUCK_RAMP_S = -14.0, 0.25
LOOKAHEAD_S = 0.005
BLOCK_S = 10.0  # what the mix holds of a programme at a time
MARGIN_S = 0.1  # read either side of a block for the limiter: its four passes reach 0.05 s


@dataclass(frozen=True)
class PlacedLine:
    line_id: str
    start: float
    audio: np.ndarray  # mono, MIX_RATE (or the rate given to place_lines)


Mark = Callable[[list[Path]], list[Path]]  # a watermark: float WAVs in, their marked copies out, one batch
Spans = list[tuple[float, float]]


@dataclass(frozen=True)
class LineFile:
    """A dub line on disk: mono float WAV at MIX_RATE, heard from `start`."""

    line_id: str
    start: float
    path: Path
    frames: int

    @property
    def end(self) -> float:
        return self.start + self.frames / MIX_RATE


@dataclass(frozen=True)
class Reading:
    """This meter's reading of one written file."""

    integrated_lufs: float
    true_peak_dbtp: float


@dataclass(frozen=True)
class Mix:
    """The mix as written to its work folder (float WAVs at MIX_RATE), with the readings taken on the way."""

    full: Path  # stereo
    dialogue: Path  # mono: the dub premix
    background: Path  # stereo
    spans: Spans  # the dub's speech, in seconds
    gain_db: float  # applied to the whole mix to reach the target
    lines: list[LineFile]  # as mixed: watermarked where the mix was
    readings: dict[Path, Reading]  # each file above, the lines' too
    dialogue_gated_lkfs: float  # of the full mix

    def loudness(self) -> dict[str, float]:
        """This meter's reading: dialogue-gated and whole-programme loudness, true peaks."""
        full, dialogue = self.readings[self.full], self.readings[self.dialogue]
        return {"dialogue_gated_lkfs": round(self.dialogue_gated_lkfs, 2), "integrated_lkfs": round(full.integrated_lufs, 2),
                "true_peak_dbtp": round(full.true_peak_dbtp, 2), "dialogue_stem_true_peak_dbtp": round(dialogue.true_peak_dbtp, 2)}


def place_lines(lines: list[PlacedLine], samples: int, rate: int = MIX_RATE) -> np.ndarray:
    """The dub premix: each line at its start (lines never move; overlaps add)."""
    premix = np.zeros(samples, dtype=np.float64)
    for line in lines:
        begin = int(round(line.start * rate))
        part = line.audio[:max(0, samples - begin)]
        premix[begin:begin + len(part)] += part
    return premix


def duck(background: np.ndarray, spans: Spans, begin: int = 0, total: int | None = None) -> np.ndarray:
    """The background lowered by DUCK_DB under each span, fully from its start to its end, with
    DUCK_RAMP_S raised-cosine ramps outside it; `background` may be frames from `begin` of a programme
    `total` frames long (the envelope is the same as the whole programme's there)."""
    depth = _duck_depth(spans, begin, len(background), len(background) if total is None else total)
    return background * (1 + (10 ** (DUCK_DB / 20) - 1) * depth)[:, None]


def _duck_depth(spans: Spans, begin: int, count: int, total: int) -> np.ndarray:
    """The ducking depth (0-1) of frames begin..begin+count, from the spans within a ramp of them."""
    ramp = int(DUCK_RAMP_S * MIX_RATE)
    low, high = max(0, begin - ramp), min(total, begin + count + ramp)
    under = np.zeros(high - low)
    for start, end in spans:
        first, last = max(0, int(start * MIX_RATE) - ramp // 2), min(total, int(end * MIX_RATE) + ramp // 2)
        under[max(0, first - low):max(0, last - low)] = 1.0
    window = np.hanning(ramp + 2)[1:-1]
    depth = np.clip(fftconvolve(under, window / window.sum(), mode="same"), 0.0, 1.0)
    return depth[begin - low:begin - low + count]


def loudness(audio: np.ndarray, rate: int = MIX_RATE) -> float:
    """BS.1770 integrated loudness; audio shorter than one 400 ms block is padded with silence."""
    block = int(0.4 * rate)
    padded = np.pad(audio, [(0, max(0, block - len(audio)))] + [(0, 0)] * (audio.ndim - 1))
    return float(pyloudnorm.Meter(rate).integrated_loudness(padded.astype(np.float64)))


def limit_true_peak(audio: np.ndarray, ceiling_dbtp: float) -> np.ndarray:
    """Keep the true peak under `ceiling_dbtp`: a gain that reaches each over LOOKAHEAD_S ahead and
    lets go as smoothly (the smoothing window never lifts the gain above what any peak in it needs)."""
    return _limited_with_peak(audio, ceiling_dbtp, slice(0, len(audio)))[0]


def _limited_with_peak(audio: np.ndarray, ceiling_dbtp: float, kept: slice) -> tuple[np.ndarray, float]:
    """limit_true_peak's audio, and its true peak over the frames `kept` (read once: the limiter's look at
    the whole is that stretch's reading and the rest's)."""
    ceiling = 10 ** ((ceiling_dbtp - CEILING_MARGIN_DB) / 20)
    for _ in range(4):  # smoothing and resampling leave a residue; a second pass catches it
        peak = true_peak(audio, kept.start, kept.stop)
        if max(peak, true_peak(audio, 0, kept.start), true_peak(audio, kept.stop)) <= ceiling:
            return audio, peak  # (a line with nothing said has no peaks)
        needed = np.minimum(1.0, ceiling / np.maximum(peaks(audio), 1e-12))
        half = int(LOOKAHEAD_S * MIX_RATE)
        gain = minimum_filter1d(needed, 2 * half + 1, mode="nearest")
        window = np.hanning(2 * half + 3)[1:-1]
        gain = np.convolve(gain, window / window.sum(), mode="same")
        audio = audio * (gain[:, None] if audio.ndim == 2 else gain)
    return audio, true_peak(audio, kept.start, kept.stop)


def mixdown(lines: list[LineFile], bed: Path, frames: int, spans: Spans, ducked: bool, work: Path,
            mark: Mark | None = None) -> Mix:
    """Dialogue levelled to the target over its own speech, over the background (ducked when it is
    the original), levelled and limited as a whole; the lines and the bed under them watermarked first
    by `mark`, where given. `bed` is read as `frames` long (cut, or padded with silence); every file is
    written under `work`, BLOCK_S at a time."""
    if ducked:
        original = bed
        bed = _stream(work / "ducked.wav", frames, 2, lambda begin, count: duck(_read(original, begin, count, 2), spans, begin, frames))
    bed_in_mix = bed
    if mark is not None:
        *marked, bed_in_mix = mark([line.path for line in lines] + [bed])
        lines = [replace(line, path=path) for line, path in zip(lines, marked, strict=True)]
    dialogue = _stream(work / "premix dialogue.wav", frames, 1, lambda begin, count: _placed(lines, begin, count))
    level = 10 ** ((TARGET_LKFS - span_loudness(dialogue, spans)) / 20)
    full = _stream(work / "premix full.wav", frames, 2,
                   lambda begin, count: _read(bed_in_mix, begin, count, 2) + _read(dialogue, begin, count, 1) * level)
    gain_db = TARGET_LKFS - span_loudness(full, spans)
    gain = 10 ** (gain_db / 20)
    outputs = [(full, work / "full.wav", frames, gain, MIX_TRUE_PEAK_DBTP),
               (dialogue, work / "dialogue.wav", frames, level * gain, STEM_TRUE_PEAK_DBTP),
               (bed, work / "background.wav", frames, gain, MIX_TRUE_PEAK_DBTP)]
    (work / "lines").mkdir(exist_ok=True)
    outputs += [(line.path, work / "lines" / f"{line.line_id}.wav", line.frames, level * gain, STEM_TRUE_PEAK_DBTP)
                for line in lines]
    readings = {target: _limited(source, target, count, gain_of, ceiling) for source, target, count, gain_of, ceiling in outputs}
    lines = [replace(line, path=work / "lines" / f"{line.line_id}.wav") for line in lines]
    return Mix(full=work / "full.wav", dialogue=work / "dialogue.wav", background=work / "background.wav", spans=spans,
               gain_db=gain_db, lines=lines, readings=readings, dialogue_gated_lkfs=span_loudness(work / "full.wav", spans))


def span_loudness(path: Path, spans: Spans) -> float:
    """BS.1770 integrated loudness over the spans of a file only (the dub's speech, joined: dialogue-gated)."""
    meter = LoudnessMeter(MIX_RATE)
    with sf.SoundFile(path) as source:
        for piece in _span_pieces(source, spans, "float64"):
            meter.feed(piece)
    if meter.frames == 0:
        raise DubdeskError("nothing to mix: no dialogue")
    return meter.integrated_lkfs()


def _blocks(frames: int) -> Iterator[tuple[int, int]]:
    """(first frame, frame count) of each block of a programme `frames` long."""
    size = int(BLOCK_S * MIX_RATE)
    for begin in range(0, frames, size):
        yield begin, min(size, frames - begin)


def _read(path: Path, begin: int, count: int, channels: int) -> np.ndarray:
    """Frames begin..begin+count of a float WAV as (count, channels) float64; silence outside the file."""
    out = np.zeros((count, channels))
    with sf.SoundFile(path) as source:
        first, last = max(0, begin), min(source.frames, begin + count)
        if last > first:
            source.seek(first)
            out[first - begin:last - begin] = source.read(last - first, dtype="float64", always_2d=True)
    return out


def _stream(target: Path, frames: int, channels: int, make: Callable[[int, int], np.ndarray]) -> Path:
    """Write `frames` frames of float WAV, each block as `make(first frame, count)` gives it."""
    with sf.SoundFile(target, "w", samplerate=MIX_RATE, channels=channels, subtype="FLOAT") as out:
        for begin, count in _blocks(frames):
            out.write(make(begin, count))
    return target


def _placed(lines: list[LineFile], begin: int, count: int) -> np.ndarray:
    """The dub premix over frames begin..begin+count: each line at its start (lines never move; overlaps add)."""
    block = np.zeros((count, 1))
    for line in lines:
        first = int(round(line.start * MIX_RATE))
        if first < begin + count and first + line.frames > begin:
            block += _read(line.path, begin - first, count, 1)
    return block


def _limited(source: Path, target: Path, frames: int, gain: float, ceiling_dbtp: float) -> Reading:
    """Write `source` (`frames` long) times `gain`, held under the true-peak ceiling block by block (each
    limited with MARGIN_S of its neighbours, kept in the middle), and read it on the way (its true peak
    read with the neighbours too)."""
    margin = int(MARGIN_S * MIX_RATE)
    loudness_meter, peak = LoudnessMeter(MIX_RATE), 0.0
    with sf.SoundFile(source) as info:
        channels = info.channels
    with sf.SoundFile(target, "w", samplerate=MIX_RATE, channels=channels, subtype="FLOAT") as out:
        for begin, count in _blocks(frames):
            low, high = max(0, begin - margin), min(frames, begin + count + margin)
            kept = slice(begin - low, begin - low + count)
            limited, kept_peak = _limited_with_peak(_read(source, low, high - low, channels) * gain, ceiling_dbtp, kept)
            out.write(limited[kept])
            loudness_meter.feed(limited[kept])
            peak = max(peak, kept_peak)
    return Reading(loudness_meter.integrated_lkfs(), float(20 * np.log10(max(peak, 1e-12))))


def ebur128(path: Path, spans: Spans | None = None) -> dict[str, float]:
    """ffmpeg's EBU R128 meter, an independent reading: integrated loudness, range and true peak of the
    file, or, given `spans`, of those stretches only joined together (dialogue-gated loudness). The
    stretches are joined into a file first, a span at a time: ffmpeg's own select expression runs out
    of memory at a few hundred spans (a 20-minute programme)."""
    if not spans:
        return _ebur128(path)
    with tempfile.TemporaryDirectory(prefix="dubdesk-ebur128-") as folder:
        return _ebur128(_joined(path, spans, Path(folder) / f"{Path(path).stem} spans.wav"))


def _joined(path: Path, spans: Spans, target: Path) -> Path:
    """The spans of a file, one after another, as a float WAV."""
    with sf.SoundFile(path) as source, sf.SoundFile(target, "w", samplerate=source.samplerate, channels=source.channels,
                                                     subtype="FLOAT") as out:
        for piece in _span_pieces(source, spans, "float32"):
            out.write(piece)
    return target


def _span_pieces(source: sf.SoundFile, spans: Spans, dtype: str) -> Iterator[np.ndarray]:
    """The frames of each span (seconds) that the file holds, one span at a time, as (frames, channels)."""
    for start, end in spans:
        first, last = int(start * source.samplerate), min(int(end * source.samplerate), source.frames)
        if last > first:
            source.seek(first)
            yield source.read(last - first, dtype=dtype, always_2d=True)


def _ebur128(path: Path) -> dict[str, float]:
    done = run(["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", media_argument(path), "-af", "ebur128=peak=true",
                "-f", "null", "-"])
    summary = done.stderr[done.stderr.rfind("Summary:"):]
    if "Summary:" not in done.stderr:
        raise ToolError(f"ffmpeg gave no loudness summary for {Path(path).name}: {last_output(done.stderr)}")

    def value(label: str) -> float:
        line = next(row for row in summary.splitlines() if row.strip().startswith(label))
        return float(line.split(":")[1].split()[0])

    return {"integrated_lkfs": value("I:"), "range_lu": value("LRA:"), "true_peak_dbtp": value("Peak:")}
