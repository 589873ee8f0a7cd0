"""Listening previews of a dub for the review desk: the takes placed at their line starts (a dub stem
preview), and that over the source with its dialogue ducked (a mix preview). Never a delivery: nothing
is levelled, limited, watermarked or signed, and only a reviewer's browser plays them.

A programme of 1,000 lines runs for hours, so nothing holds the whole programme in memory: the takes
are read as the programme reaches them and the audio is made CHUNK_S at a time (the bed ducked with the
mix stage's envelope for that stretch of the programme, so chunk edges do not show), written as 16-bit PCM and then encoded to Opus
in WebM (seekable, small, played by every browser) by ffmpeg, at its fastest setting: encoding is
most of the time a preview takes.
"""
from __future__ import annotations

import tempfile
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from .audio import decode_to_wav, media_argument, resample
from .files import atomic_write
from .mix import MIX_RATE, PlacedLine, duck, place_lines
from .tools import run

RATE = MIX_RATE  # the mix stage's rate, so its ducking applies as it is
CHUNK_S = 30.0
OPUS_KBPS_PER_CHANNEL = 64
OPUS_COMPLEXITY = 0  # libopus's fastest: half the time of its default (10) on hours of programme; still clear speech


@dataclass(frozen=True)
class PlacedTake:
    """A take's audio file and where in the programme it starts (its fitted start)."""

    start: float
    path: Path


def write_dub_preview(takes: list[PlacedTake], duration_s: float, out: Path) -> Path:
    """The takes at their starts (overlaps add), mono, as Opus in WebM at `out`."""
    return _encode(_dub_chunks(takes, _samples(duration_s)), 1, out)


def write_mix_preview(takes: list[PlacedTake], source: Path, channels: int, duration_s: float, out: Path) -> Path:
    """The takes over the source, ducked under each take as the mix stage ducks the original, as Opus in WebM."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dubdesk-preview-", dir=out.parent) as folder:
        bed = Path(folder) / "bed.wav"
        decode_to_wav(source, bed, RATE, channels)
        samples = _samples(duration_s)
        with sf.SoundFile(bed) as reader:
            chunks = _mix_chunks(_dub_chunks(takes, samples), reader, _spans(takes), samples)
            return _encode(chunks, channels, out)


def _samples(duration_s: float) -> int:
    return int(round(duration_s * RATE))


def _chunk_bounds(samples: int) -> Iterator[tuple[int, int]]:
    step = int(CHUNK_S * RATE)
    for begin in range(0, samples, step):
        yield begin, min(samples, begin + step)


def _dub_chunks(takes: list[PlacedTake], samples: int) -> Iterator[np.ndarray]:
    """The dub stem chunk by chunk; each take is read when the programme reaches it and let go once passed."""
    waiting = deque(sorted(takes, key=lambda take: take.start))
    live: list[tuple[int, np.ndarray]] = []  # (first sample, audio)
    for begin, end in _chunk_bounds(samples):
        while waiting and int(round(waiting[0].start * RATE)) < end:
            take = waiting.popleft()
            live.append((int(round(take.start * RATE)), _read(take.path)))
        live = [(first, audio) for first, audio in live if first + len(audio) > begin]
        yield place_lines([_within(first - begin, audio) for first, audio in live], end - begin, RATE)


def _read(path: Path) -> np.ndarray:
    audio, rate = sf.read(path, dtype="float32", always_2d=True)
    return resample(audio.mean(axis=1), rate, RATE)


def _within(offset: int, audio: np.ndarray) -> PlacedLine:
    """A take as a line of a chunk: cut where it began before the chunk."""
    return PlacedLine("", offset / RATE, audio) if offset >= 0 else PlacedLine("", 0.0, audio[-offset:])


def _spans(takes: list[PlacedTake]) -> list[tuple[float, float]]:
    return [(take.start, take.start + sf.info(take.path).duration) for take in takes]


def _mix_chunks(dub: Iterator[np.ndarray], bed: sf.SoundFile, spans: list[tuple[float, float]],
                samples: int) -> Iterator[np.ndarray]:
    """Each dub chunk over the bed under it, the bed ducked as the mix stage ducks that stretch of the programme."""
    begin = 0
    for speech in dub:
        bed.seek(min(begin, bed.frames))
        part = bed.read(len(speech), dtype="float64", always_2d=True, fill_value=0.0)
        yield np.clip(duck(part, spans, begin, samples) + speech[:, None], -1.0, 1.0)
        begin += len(speech)


def _encode(chunks: Iterator[np.ndarray], channels: int, out: Path) -> Path:
    """The chunks as 16-bit PCM, then as Opus in WebM, written whole at `out` or not at all."""
    def write(target: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="dubdesk-preview-", dir=out.parent) as folder:
            pcm = Path(folder) / "preview.wav"
            with sf.SoundFile(pcm, "w", RATE, channels, subtype="PCM_16", format="WAV") as writer:
                for chunk in chunks:
                    writer.write(chunk)
            run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", media_argument(pcm), "-c:a", "libopus",
                 "-b:a", f"{OPUS_KBPS_PER_CHANNEL * channels}k", "-compression_level", str(OPUS_COMPLEXITY),
                 "-f", "webm", media_argument(target)])
    return atomic_write(out, write)
