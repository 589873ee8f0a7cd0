"""Ingest: check a source file, keep it byte-identical, make a 16 kHz mono working copy.

ffprobe says what the file holds; ffmpeg decodes it with errors fatal, so a
truncated or corrupt file is refused rather than half-transcribed. Nothing is
written at the destination until every check has passed; the working folder of a run that was
killed is removed by the next (see staging).
"""
from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from .audio import RATE, check_readable, decode_to_wav, media_argument
from .config import IngestSettings
from .errors import BadInputError
from .files import sha256_file
from .staging import release, remove_orphans, staging_folder
from .tools import run

WORKING_AUDIO = "working.wav"
STAGING_PREFIX = ".ingest-"


@dataclass(frozen=True)
class MediaInfo:
    """What the original holds, as ffprobe and the decoder found it."""

    file_name: str
    sha256: str
    size_bytes: int
    duration_s: float
    audio_codec: str
    sample_rate: int
    channels: int
    has_video: bool
    video_fps: float | None
    peak_dbfs: float

    def to_json(self) -> dict:
        return asdict(self)


def _probe(path: Path) -> dict:
    result = run(["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", media_argument(path)],
                 check=False)
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["unknown format"])[-1].replace(f"{path}: ", "")
        raise BadInputError(path, f"not a readable audio or video file ({detail})")
    return json.loads(result.stdout)


def _peak_dbfs(audio: np.ndarray, sample_rate: int) -> float:
    """Loudness of the loudest 50 ms window (RMS), so one click does not count as programme."""
    window = max(1, sample_rate // 20)
    usable = len(audio) // window * window
    if usable == 0:
        return -np.inf
    rms = np.sqrt(np.mean(audio[:usable].reshape(-1, window) ** 2, axis=1))
    return float(20 * np.log10(max(rms.max(), 1e-10)))


def _fps(stream: dict) -> float | None:
    num, _, den = stream.get("avg_frame_rate", "0/0").partition("/")
    return round(float(num) / float(den), 3) if den and float(den) else None


def ingest(source: Path, destination: Path, settings: IngestSettings, workspace: Path | None = None) -> MediaInfo:
    """Check `source`, copy it to `destination`/original<ext> and write the working copy.

    `destination` must not exist; it appears whole (atomic rename) or not at all. The work is done in a
    staging folder in `workspace` (on the same file system; default: beside `destination`), where the
    next ingest finds it should this one be killed.
    """
    source = Path(source)
    check_readable(source)
    probe = _probe(source)
    streams = probe.get("streams", [])
    audio_streams = [s for s in streams if s.get("codec_type") == "audio"]
    if not audio_streams:
        raise BadInputError(source, "no audio stream in the file")
    video_streams = [s for s in streams if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")]
    declared = float(probe.get("format", {}).get("duration") or audio_streams[0].get("duration") or 0)
    if declared > settings.max_duration_s:
        raise BadInputError(source, f"too long: {declared / 60:.1f} min, the maximum is {settings.max_duration_s / 60:.1f} min")

    workspace = workspace or destination.parent
    workspace.mkdir(parents=True, exist_ok=True)
    remove_orphans(workspace, (STAGING_PREFIX,))
    staging = staging_folder(workspace, STAGING_PREFIX)
    try:
        working = staging / WORKING_AUDIO
        # the declared duration may lie: decode one second past the limit, at most, and measure
        decode_to_wav(source, working, RATE, most_s=settings.max_duration_s + 1)
        audio, rate = sf.read(working, dtype="float32")
        duration = len(audio) / rate
        if duration > settings.max_duration_s:
            raise BadInputError(source, f"too long: more than {settings.max_duration_s / 60:.1f} min of audio "
                                        f"(it declares {declared / 60:.1f} min), the maximum is {settings.max_duration_s / 60:.1f} min")
        if duration < 0.1:
            raise BadInputError(source, "no audio in the file (decoded length 0)")
        if declared and duration < 0.9 * declared - 0.5:
            raise BadInputError(source, f"truncated: decoded {duration:.1f} s of a declared {declared:.1f} s")
        peak = _peak_dbfs(audio, rate)
        if peak < settings.silence_dbfs:
            raise BadInputError(source, f"silence only (loudest passage {peak:.0f} dBFS)")
        original = staging / f"original{source.suffix.lower()}"
        shutil.copyfile(source, original)
        digest = sha256_file(original)
        if digest != sha256_file(source):
            raise BadInputError(source, "changed while it was being copied")
        first = audio_streams[0]
        info = MediaInfo(
            file_name=source.name, sha256=digest, size_bytes=original.stat().st_size, duration_s=round(duration, 3),
            audio_codec=first.get("codec_name", "?"), sample_rate=int(first.get("sample_rate", 0)),
            channels=int(first.get("channels", 0)), has_video=bool(video_streams),
            video_fps=_fps(video_streams[0]) if video_streams else None, peak_dbfs=round(peak, 1),
        )
        (staging / "media.json").write_text(json.dumps(info.to_json(), indent=2))
        destination.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(destination)
        return info
    finally:
        release(staging)


def load_working_audio(folder: Path, start_s: float = 0.0, end_s: float | None = None) -> np.ndarray:
    """The 16 kHz mono float32 working copy made by `ingest`, or the stretch from `start_s` to `end_s`
    (read alone, so one line of a long programme costs nothing)."""
    path = folder / WORKING_AUDIO
    rate = sf.info(path).samplerate
    stop = None if end_s is None else max(0, int(end_s * rate))
    audio, _ = sf.read(path, start=max(0, int(start_s * rate)), stop=stop, dtype="float32")
    return audio

