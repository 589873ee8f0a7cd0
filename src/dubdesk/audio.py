"""Audio: the 16 kHz mono working rate, decoding any media file as ingest does, and resampling.

ffmpeg decodes with errors fatal, so a truncated or corrupt file is refused rather than half-read;
a path reaches it only as an absolute path, never as something it could take for an option. The
ground floor: every module may import it.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from .errors import BadInputError
from .tools import run

RATE = 16000  # the working rate: transcription, diarization, voice activity, QC
ACCEPTED_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".mp4", ".mkv", ".mov", ".webm"}


def media_argument(path: Path | str) -> str:
    """A path as an argument to ffmpeg and kin: absolute, so a file named '-x.wav' is never read as an
    option (nor 'x:y.wav' as a protocol)."""
    return str(Path(path).absolute())


def check_readable(path: Path) -> None:
    if not path.exists():
        raise BadInputError(path, "no such file")
    if not path.is_file():
        raise BadInputError(path, "not a file")
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as error:
        raise BadInputError(path, f"cannot be read ({error.strerror})") from error
    if path.stat().st_size == 0:
        raise BadInputError(path, "file is empty (0 bytes)")
    if path.suffix.lower() not in ACCEPTED_SUFFIXES:
        raise BadInputError(path, f"unsupported file type '{path.suffix or '(none)'}'; accepted: {', '.join(sorted(ACCEPTED_SUFFIXES))}")


def decode_to_wav(path: Path, destination: Path, sample_rate: int, channels: int = 1, most_s: float | None = None) -> None:
    """Decode the first audio stream (its first `most_s` seconds, where given) to float WAV; any
    decoding error is fatal."""
    limit = [] if most_s is None else ["-t", f"{most_s:.3f}"]
    result = run(["ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", media_argument(path), "-map", "0:a:0",
                  "-ac", str(channels), "-ar", str(sample_rate), *limit, "-c:a", "pcm_f32le", "-y", media_argument(destination)],
                 check=False)
    if result.returncode != 0 or result.stderr.strip():
        detail = (result.stderr.strip().splitlines() or ["decoder failed"])[-1]
        raise BadInputError(path, f"corrupt or truncated audio ({detail})")


def resample(audio: np.ndarray, rate: int, target: int = RATE) -> np.ndarray:
    """Float32 audio at `target` Hz (soxr); unchanged where it is already at that rate."""
    return audio.astype(np.float32) if rate == target else soxr.resample(audio, rate, target).astype(np.float32)


def decode_audio(path: Path, sample_rate: int = RATE, channels: int = 1) -> np.ndarray:
    """Any media file as float32 at `sample_rate` (mono, or channels in columns), decoded as ingest does."""
    path = Path(path)
    check_readable(path)
    with tempfile.TemporaryDirectory(prefix="dubdesk-decode-") as folder:
        target = Path(folder) / "audio.wav"
        decode_to_wav(path, target, sample_rate, channels)
        audio, _ = sf.read(target, dtype="float32")
    return audio
