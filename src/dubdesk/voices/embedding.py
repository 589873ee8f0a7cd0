"""Speaker embeddings (resemblyzer's GE2E encoder, Apache-2.0, weights inside the wheel): how
alike two voices sound, for voice matching and the voice QC."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from ..audio import resample
from ..engines import EngineIdentity, load_engine
from ..stages import package_version

ENCODER_RATE = 16000


class VoiceEncoder:
    def __init__(self) -> None:
        self.identity = EngineIdentity("resemblyzer", "GE2E voice encoder", "Apache-2.0", package_version("resemblyzer"))
        import warnings

        with warnings.catch_warnings():  # webrtcvad imports the deprecated pkg_resources
            warnings.simplefilter("ignore")
            import librosa.feature.spectral  # noqa: F401  resemblyzer's mel spectrogram: librosa imports it on first use (1.5 s)
            import resemblyzer
        self.resemblyzer = resemblyzer
        self.encoder = resemblyzer.VoiceEncoder(device="cpu", verbose=False)

    def embed(self, audio: np.ndarray, rate: int) -> np.ndarray:
        """Unit-length embedding of one utterance (silences trimmed)."""
        audio = resample(audio, rate, ENCODER_RATE)
        speech = self.resemblyzer.preprocess_wav(audio, source_sr=ENCODER_RATE)
        return self.encoder.embed_utterance(speech if len(speech) >= ENCODER_RATE // 2 else audio)


def voice_encoder() -> VoiceEncoder:
    return load_engine("voice-embedding", ("resemblyzer",), VoiceEncoder)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two embeddings (resemblyzer's are unit length already)."""
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def mean_embedding(embeddings: list[np.ndarray]) -> np.ndarray:
    mean = np.mean(embeddings, axis=0)
    return mean / np.linalg.norm(mean)


def files_embedding(paths: list[Path]) -> np.ndarray:
    """One voice's embedding from several recordings of it."""
    encoder = voice_encoder()
    return mean_embedding([encoder.embed(*sf.read(path, dtype="float32", always_2d=False)) for path in paths])
