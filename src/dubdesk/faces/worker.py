"""Mouth opening per video frame, by MediaPipe FaceMesh; run by the face environment's Python.

MediaPipe 0.10.21 needs numpy<2, so this file imports nothing from dubdesk and runs in its own
environment (`.venv-face`, made by install.sh): `python worker.py VIDEO` prints one JSON object,
{"fps", "times", "mouth", "mediapipe"}, with mouth null where no face is found. The FaceMesh
models ship inside the mediapipe wheel; nothing is downloaded.
"""
from __future__ import annotations

import json
import sys

import cv2
import mediapipe as mp
import numpy as np

UPPER_LIP, LOWER_LIP = 13, 14  # inner-lip midpoints
FOREHEAD, CHIN = 10, 152


def mouth_opening(landmarks, width: int, height: int) -> float | None:
    """Inner-lip gap over face height, in pixels, so head size and distance cancel out."""
    def point(index: int) -> np.ndarray:
        mark = landmarks.landmark[index]
        return np.array([mark.x * width, mark.y * height])

    face_height = float(np.linalg.norm(point(FOREHEAD) - point(CHIN)))
    gap = float(np.linalg.norm(point(UPPER_LIP) - point(LOWER_LIP)))
    return round(gap / face_height, 5) if face_height > 0 else None


def track(video: str) -> dict:
    capture = cv2.VideoCapture(video)
    if not capture.isOpened():
        raise RuntimeError(f"OpenCV cannot open {video}")
    fps = float(capture.get(cv2.CAP_PROP_FPS)) or 25.0
    times, mouth = [], []
    with mp.solutions.face_mesh.FaceMesh(max_num_faces=1, min_detection_confidence=0.5,
                                         min_tracking_confidence=0.5) as mesh:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            height, width = frame.shape[:2]
            faces = mesh.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)).multi_face_landmarks
            times.append(round(len(times) / fps, 5))
            mouth.append(mouth_opening(faces[0], width, height) if faces else None)
    capture.release()
    return {"fps": fps, "times": times, "mouth": mouth, "mediapipe": mp.__version__}


if __name__ == "__main__":
    try:
        print(json.dumps(track(sys.argv[1])))
    except Exception as error:  # one line for the calling process to show
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
