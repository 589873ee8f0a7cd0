"""Faces on screen in the source video: whether a line's speaker can be seen, and how far the mouth is open.

MediaPipe FaceMesh needs numpy<2, so it runs in its own environment (`.venv-face`, made by
install.sh) as a separate process (`worker.py`). A line is on screen when a face is found in at
least half of its frames; an off-screen line gets looser fit bounds and timing limits.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..engines import EngineIdentity
from ..errors import ModelMissingError
from ..tools import ToolError, last_output, run

WORKER = Path(__file__).with_name("worker.py")
ON_SCREEN_SHARE = 0.5
FACEMESH_LICENCE = "Apache-2.0 (MediaPipe FaceMesh models, bundled in the mediapipe wheel)"


def default_face_python() -> Path:
    """The face environment beside dubdesk's own (.venv-face next to .venv)."""
    return Path(sys.prefix).parent / ".venv-face" / "bin" / "python"


@dataclass(frozen=True)
class FaceTrack:
    """Mouth opening per video frame (NaN where no face is found)."""

    fps: float
    times: np.ndarray
    mouth: np.ndarray

    def face_share(self, start: float, end: float) -> float:
        inside = (self.times >= start) & (self.times <= end)
        return float(np.isfinite(self.mouth[inside]).mean()) if inside.any() else 0.0

    def on_screen(self, start: float, end: float) -> bool:
        return self.face_share(start, end) >= ON_SCREEN_SHARE

    def to_json(self) -> dict:
        return {"fps": self.fps, "times": self.times.round(5).tolist(),
                "mouth": [None if np.isnan(m) else float(m) for m in self.mouth]}

    @classmethod
    def from_json(cls, data: dict) -> FaceTrack:
        mouth = np.array([np.nan if m is None else m for m in data["mouth"]], dtype=float)
        return cls(float(data["fps"]), np.asarray(data["times"], dtype=float), mouth)


def track_faces(video: Path, python: Path | None = None) -> tuple[FaceTrack, EngineIdentity]:
    """Run FaceMesh over every frame of `video` in the face environment."""
    python = python or default_face_python()
    if not python.exists():
        raise ModelMissingError("MediaPipe FaceMesh (the face environment)", [str(python)],
                                hint="run ./install.sh, which makes .venv-face, or set DUBDESK_FACES__PYTHON")
    done = run([python, WORKER, video], check=False)
    if done.returncode != 0:
        raise ToolError(f"face tracking failed on {Path(video).name}: {last_output(done.stderr)}")
    data = json.loads(done.stdout)
    identity = EngineIdentity("mediapipe-facemesh", "face_landmark (468 points)", FACEMESH_LICENCE, data["mediapipe"])
    return FaceTrack.from_json(data), identity
