"""Voice matching for embedded voices (not cloning): bring a stock engine's voice toward an actor's
consented reference recordings with Praat's "Change gender" (pitch to the references' median,
formants scaled). The formant ratio that sounds most like the references to the speaker encoder is
chosen once per consent record and base voice, and reused for every later line."""
from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from ..files import atomic_write
from ..praat import run_praat
from ..voices.consent import ConsentGrant, require_references
from ..voices.embedding import files_embedding, similarity, voice_encoder

VOICE_MATCH_TOOL = "Praat \"Change gender\" (praat-parselmouth, GPL-3.0, run as a separate program)"
FORMANT_RATIOS = (0.85, 0.95, 1.05, 1.15, 1.25)
MALE_BELOW_HZ = 165.0  # a reference median below this picks a base voice marked male, where there is one


@dataclass(frozen=True)
class VoiceMatch:
    pitch_median_hz: float
    formant_ratio: float
    similarity_before: float
    similarity_after: float

    @property
    def helps(self) -> bool:
        """Changing the voice is only worth it if it brings the line closer to the references."""
        return self.similarity_after > self.similarity_before


def _changed_versions(audio: np.ndarray, rate: int, pitch_median_hz: float, ratios: tuple[float, ...]) -> list[np.ndarray]:
    with tempfile.TemporaryDirectory(prefix="dubdesk-voicematch-") as folder:
        source = Path(folder) / "line.wav"
        sf.write(source, audio, rate, subtype="FLOAT")
        outputs = [str(Path(folder) / f"ratio-{ratio}.wav") for ratio in ratios]
        run_praat("change_voice", path=str(source), pitch_median_hz=pitch_median_hz, formant_ratios=list(ratios), outputs=outputs)
        return [sf.read(out, dtype="float32")[0] for out in outputs]


def calibrate(audio: np.ndarray, rate: int, references: list[Path], pitch_median_hz: float) -> tuple[VoiceMatch, np.ndarray]:
    """Try each formant ratio on one line; keep the one closest to the references, and its audio
    (the line unchanged if no ratio brings it closer)."""
    target = files_embedding(references)
    encoder = voice_encoder()
    versions = _changed_versions(audio, rate, pitch_median_hz, FORMANT_RATIOS)
    scores = [similarity(encoder.embed(version, rate), target) for version in versions]
    best = int(np.argmax(scores))
    match = VoiceMatch(pitch_median_hz, FORMANT_RATIOS[best], round(similarity(encoder.embed(audio, rate), target), 4),
                       round(scores[best], 4))
    return match, versions[best] if match.helps else audio


class VoiceMatcher:
    """Matches a project's lines to consented references; the references' pitch (per consent record)
    and each calibration (per record and base voice) are kept in the project's voice-match.json."""

    def __init__(self, project_folder: Path) -> None:
        self.path = project_folder / "voice-match.json"
        self.known = json.loads(self.path.read_text()) if self.path.exists() else {}

    def _remember(self, key: str, value: object) -> None:
        self.known[key] = value
        atomic_write(self.path, lambda tmp: tmp.write_text(json.dumps(self.known, indent=1)))

    def reference_pitch(self, record_hash: str, references: list[Path]) -> float | None:
        key = f"pitch:{record_hash}"
        if key not in self.known:
            self._remember(key, run_praat("pitch_median", paths=[str(path) for path in references]))
        return self.known[key]

    def apply(self, audio: np.ndarray, rate: int, grant: ConsentGrant, references: tuple[Path, ...], key: str,
              pitch_median_hz: float) -> tuple[np.ndarray, VoiceMatch]:
        """The line moved toward the references, which the grant must cover."""
        require_references(grant, references)
        if key in self.known:
            match = VoiceMatch(**self.known[key])
            if not match.helps:
                return audio, match
            return _changed_versions(audio, rate, match.pitch_median_hz, (match.formant_ratio,))[0], match
        match, matched = calibrate(audio, rate, list(references), pitch_median_hz)
        self._remember(key, asdict(match))
        return matched, match
