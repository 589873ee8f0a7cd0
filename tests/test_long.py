"""Long programmes in bounded memory: the mix in blocks against the whole-signal path, its memory against
the programme's length, the streaming meters, the AAF writer's growth, the streaming hash, the watermark
on a file longer than one chunk."""
from __future__ import annotations

import hashlib
import tracemalloc
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pyloudnorm
import pytest
import soundfile as sf
import soxr

from dubdesk.config import Settings
from dubdesk.export.timeline import TimelineClip, write_timelines
from dubdesk.files import sha256_file
from dubdesk.meter import SPAN, LoudnessMeter, peaks, true_peak
from dubdesk.mix import (
    MIX_RATE,
    MIX_TRUE_PEAK_DBTP,
    STEM_TRUE_PEAK_DBTP,
    TARGET_LKFS,
    LineFile,
    PlacedLine,
    duck,
    ebur128,
    limit_true_peak,
    loudness,
    mixdown,
    place_lines,
    span_loudness,
)
from dubdesk.watermark import Watermarker

from .conftest import SAMPLE

LINE_S, EVERY_S = 2.5, 4.0  # a dub line of the sample's speech every 4 s


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    """The sample's 30 s of speech at the mix rate, mono float64."""
    audio, rate = sf.read(SAMPLE, dtype="float32")
    return soxr.resample(audio, rate, MIX_RATE).astype(np.float64)


def _programme(folder: Path, speech: np.ndarray, minutes: float) -> tuple[Path, list[LineFile], int]:
    """A bed of the sample looped to `minutes` (stereo, right a little quieter) and a dub line every EVERY_S."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = int(minutes * 60 * MIX_RATE)
    looped = np.resize(speech, frames)
    sf.write(folder / "bed.wav", np.stack([looped, 0.7 * looped], axis=1), MIX_RATE, subtype="FLOAT")
    lines = []
    for index, start in enumerate(np.arange(1.0, minutes * 60 - LINE_S, EVERY_S)):
        take = np.roll(speech, -index * 9000)[:int(LINE_S * MIX_RATE)] * 0.5
        path = folder / f"L{index:04d}.wav"
        sf.write(path, take, MIX_RATE, subtype="FLOAT")
        lines.append(LineFile(f"L{index:04d}", float(start), path, len(take)))
    return folder / "bed.wav", lines, frames


def _spans(lines: list[LineFile]) -> list[tuple[float, float]]:
    return [(line.start, line.end) for line in lines]


def _whole(bed: Path, lines: list[LineFile], frames: int) -> np.ndarray:
    """The full mix as the whole-signal path makes it: every stage on the programme held whole."""
    spans = _spans(lines)
    ducked = duck(sf.read(bed, dtype="float64")[0][:frames], spans)
    dialogue = place_lines([PlacedLine(line.line_id, line.start, sf.read(line.path, dtype="float64")[0]) for line in lines],
                           frames)

    def gated(audio: np.ndarray) -> float:
        return loudness(np.concatenate([audio[int(start * MIX_RATE):int(end * MIX_RATE)] for start, end in spans]))

    full = ducked + dialogue[:, None] * 10 ** ((TARGET_LKFS - gated(dialogue)) / 20)
    return limit_true_peak(full * 10 ** ((TARGET_LKFS - gated(full)) / 20), MIX_TRUE_PEAK_DBTP)


@pytest.mark.fast
def test_a_three_minute_programme_mixed_in_blocks_is_the_mix_the_whole_signal_path_makes(tmp_path, speech):
    bed, lines, frames = _programme(tmp_path / "in", speech, 3.0)
    (tmp_path / "work").mkdir()
    mix = mixdown(lines, bed, frames, _spans(lines), ducked=True, work=tmp_path / "work")
    blocks, _ = sf.read(mix.full, dtype="float64")
    whole = _whole(bed, lines, frames)

    assert blocks.shape == whole.shape
    assert np.abs(blocks - whole).max() < 1e-3  # float32 files between the stages; the limiter's passes per block
    reading = mix.loudness()
    assert reading["dialogue_gated_lkfs"] == pytest.approx(TARGET_LKFS, abs=0.1)
    assert reading["integrated_lkfs"] == pytest.approx(loudness(whole), abs=0.1)
    assert reading["true_peak_dbtp"] <= MIX_TRUE_PEAK_DBTP
    assert reading["true_peak_dbtp"] == pytest.approx(20 * np.log10(peaks(whole).max()), abs=0.1)
    assert reading["dialogue_stem_true_peak_dbtp"] <= STEM_TRUE_PEAK_DBTP
    for line in mix.lines:  # the clips as they go out: levelled with the mix, each under the stem ceiling
        assert mix.readings[line.path].true_peak_dbtp <= STEM_TRUE_PEAK_DBTP


@pytest.mark.fast
def test_ffmpeg_reads_the_dialogue_of_a_programme_with_hundreds_of_lines(tmp_path, speech):
    path = tmp_path / "programme.wav"
    sf.write(path, np.resize(speech, 150 * MIX_RATE) * 0.3, MIX_RATE, subtype="FLOAT")
    spans = [(0.3 * index, 0.3 * index + 0.2) for index in range(480)]  # a select expression this long ran out of memory

    assert ebur128(path, spans)["integrated_lkfs"] == pytest.approx(span_loudness(path, spans), abs=0.2)


@pytest.mark.fast
def test_mixing_a_programme_four_times_as_long_takes_no_more_memory(tmp_path, speech):
    def peak_mb(minutes: float) -> float:
        bed, lines, frames = _programme(tmp_path / f"in{minutes}", speech, minutes)
        (tmp_path / f"work{minutes}").mkdir()
        tracemalloc.start()
        mixdown(lines, bed, frames, _spans(lines), ducked=True, work=tmp_path / f"work{minutes}")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak / 2 ** 20

    short, long = peak_mb(1.0), peak_mb(4.0)
    assert long < 1.3 * short, (short, long)


@pytest.mark.fast
def test_the_streaming_loudness_meter_reads_what_pyloudnorm_reads_on_the_whole_signal(speech):
    stereo = np.stack([speech, 0.5 * np.roll(speech, 777)], axis=1) * np.linspace(0.2, 1.0, len(speech))[:, None]
    meter = LoudnessMeter(MIX_RATE)
    for begin in range(0, len(stereo), 123_457):  # block bounds that fall anywhere
        meter.feed(stereo[begin:begin + 123_457])

    assert meter.integrated_lkfs() == pytest.approx(pyloudnorm.Meter(MIX_RATE).integrated_loudness(stereo), abs=0.01)
    short = LoudnessMeter(MIX_RATE)
    short.feed(speech[MIX_RATE * 5:MIX_RATE * 5 + 6000])  # under one 400 ms block: read as padded with silence
    assert short.integrated_lkfs() == pytest.approx(loudness(speech[MIX_RATE * 5:MIX_RATE * 5 + 6000]), abs=0.01)


@pytest.mark.fast
def test_the_true_peak_read_in_stretches_is_the_peak_of_the_whole_envelope(speech):
    stereo = np.stack([speech, 0.7 * np.roll(speech, 321)], axis=1)
    clicks = np.zeros(3 * SPAN + 5)
    clicks[[SPAN - 1, SPAN, 2 * SPAN + 3, len(clicks) - 1]] = [0.3, -0.3, 0.9, 0.5]  # at and across stretch bounds
    noise = np.random.default_rng(7).standard_normal((40_000, 2)) * 0.1
    abrupt = np.cos(np.arange(3 * SPAN) * 0.001)  # smooth, but starting and stopping at full level: steps from silence
    near_nyquist = np.sin(np.arange(3 * SPAN) * 2.9) * 0.9  # the largest overshoots between samples
    for audio in (stereo, speech, clicks, noise, abrupt, abrupt[::-1], near_nyquist, np.zeros(5)):
        envelope = peaks(audio)
        for first, last in ((0, None), (1000, 20_000), (5, 17), (SPAN - 4, SPAN + 4), (len(audio) - 100, None)):
            assert true_peak(audio, first, last) == envelope[first:last].max(initial=0.0), (first, last)


def _timeline_clips(folder: Path, count: int) -> list[TimelineClip]:
    folder.mkdir(parents=True, exist_ok=True)
    sf.write(folder / "line.wav", np.zeros(MIX_RATE), MIX_RATE, subtype="PCM_24")
    return [TimelineClip(f"L{index:04d}", folder / "line.wav", 1.5 * index, 1.0, f"S{index % 3}", "hola")
            for index in range(count)]


@pytest.mark.fast
def test_the_aaf_writer_grows_linearly_with_the_clips(tmp_path, monkeypatch):
    """pyaaf2 re-walks a sequence's components on every append: counted here where it names each one."""
    from aaf2.properties import StrongRefVectorProperty

    walked = []
    name_of = StrongRefVectorProperty.index_ref_name
    monkeypatch.setattr(StrongRefVectorProperty, "index_ref_name", lambda self, index: walked.append(1) or name_of(self, index))

    def write(count: int) -> int:
        walked.clear()
        written = write_timelines("t", _timeline_clips(tmp_path / str(count), count), 1.5 * count + 1, 25.0,
                                  tmp_path / f"out{count}")
        assert len(otio.adapters.read_from_file(str(written["aaf"])).find_clips()) == count
        return len(walked)

    walks, walks_twice = write(50), write(100)
    assert walks_twice < 2.5 * walks, (walks, walks_twice)  # quadratic: 4x (the walks, not the seconds: those vary with load)


@pytest.mark.fast
def test_the_streaming_hash_is_the_hash_of_the_whole_file(tmp_path):
    path = tmp_path / "big.bin"
    path.write_bytes(np.random.default_rng(1).bytes(3 * 2 ** 20 + 12345))  # blocks of 1 MiB and a remainder
    assert sha256_file(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_bed_longer_than_one_mark_chunk_is_marked_throughout(tmp_path, speech):
    watermarker = Watermarker.find(Settings(home=tmp_path))
    if watermarker is None:
        pytest.skip("the watermark environment (.venv-mark) is not installed")
    bed = tmp_path / "bed.wav"
    sf.write(bed, np.resize(speech, 65 * MIX_RATE) * 0.5, MIX_RATE, subtype="FLOAT")  # three chunks of the worker's
    marked, = watermarker.embed_files([bed], tmp_path / "marked")
    first, last = tmp_path / "first.wav", tmp_path / "last.wav"
    audio, _ = sf.read(marked)
    sf.write(first, audio[:20 * MIX_RATE], MIX_RATE, subtype="FLOAT")
    sf.write(last, audio[-20 * MIX_RATE:], MIX_RATE, subtype="FLOAT")

    marked_score, first_score, last_score, clean_score = watermarker.detect_many([marked, first, last, bed])
    assert min(marked_score, first_score, last_score) >= watermarker.threshold
    assert clean_score < watermarker.threshold
    assert sf.info(marked).frames == sf.info(bed).frames
