"""Production diarizer: a pyannote.audio pipeline loaded from a local folder or config.yaml.

Hub names are refused: nothing downloads at run time. pyannote.audio lives in
the optional extra 'production'.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..audio import RATE
from ..core import Turn
from ..engines import EngineIdentity
from ..errors import EngineUnavailableError, ModelMissingError


def _pipeline_config(location: str | None) -> Path:
    path = Path(location).expanduser() if location else None
    config = path / "config.yaml" if path and path.is_dir() else path
    if config is None or not config.is_file():
        raise ModelMissingError("pyannote.audio diarization pipeline",
                                [str(config) if config else "setting diarize.pipeline (unset)"],
                                hint="set diarize.pipeline to a local pipeline folder (with config.yaml)")
    return config


class PyannoteDiarizer:
    def __init__(self, location: str | None) -> None:
        config = _pipeline_config(location)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")
        try:
            import pyannote.audio
            from pyannote.audio import Pipeline
        except ImportError as error:
            raise EngineUnavailableError("pyannote", "production", error) from error
        self.pipeline = Pipeline.from_pretrained(config)
        self.identity = EngineIdentity("pyannote.audio", config.parent.name,
                                       "see the pipeline's model cards (segmentation-3.0: MIT)",
                                       pyannote.audio.__version__)

    def diarize(self, audio: np.ndarray, num_speakers: int | None, min_speakers: int | None,
                max_speakers: int | None) -> list[Turn]:
        import torch

        waveform = {"waveform": torch.from_numpy(audio[None, :].copy()), "sample_rate": RATE}
        output = self.pipeline(waveform, num_speakers=num_speakers, min_speakers=min_speakers,
                               max_speakers=max_speakers)
        annotation = getattr(output, "speaker_diarization", output)
        return [Turn(round(s.start, 3), round(s.end, 3), str(label))
                for s, _, label in annotation.itertracks(yield_label=True)]
