"""The separate Praat program (GPL-3.0 parselmouth lives only here): one JSON request on stdin,
one JSON answer on stdout. Run as `python -m dubdesk.praat.worker`."""
from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

try:
    import parselmouth
    from parselmouth.praat import call
except ImportError as missing:  # exit code 3 tells the client the engine is missing
    print(f"praat-parselmouth is not installed: {missing}", file=sys.stderr)
    sys.exit(3)

import soundfile as sf

from .carry import carry_prosody
from .prosody import PITCH_CEILING_HZ, PITCH_FLOOR_HZ, prosody_profile


def pitch_median(request: dict[str, Any]) -> float | None:
    """Median F0 (Hz) over all voiced frames of the given files; None if nothing is voiced."""
    voiced = []
    for path in request["paths"]:
        pitch = parselmouth.Sound(path).to_pitch(pitch_floor=PITCH_FLOOR_HZ, pitch_ceiling=PITCH_CEILING_HZ)
        frequencies = pitch.selected_array["frequency"]
        voiced.extend(frequencies[frequencies > 0].tolist())
    return float(sorted(voiced)[len(voiced) // 2]) if voiced else None


def change_voice(request: dict[str, Any]) -> list[str]:
    """Praat's "Change gender": pitch moved to a new median, formants scaled; one output per ratio."""
    sound = parselmouth.Sound(request["path"])
    written = []
    for ratio, out in zip(request["formant_ratios"], request["outputs"]):
        changed = call(sound, "Change gender", PITCH_FLOOR_HZ, PITCH_CEILING_HZ, ratio, request["pitch_median_hz"], 1.0, 1.0)
        changed.save(out, "WAV")
        written.append(out)
    return written


def prosody(request: dict[str, Any]) -> list[dict[str, float]]:
    """A prosody profile for each segment: {path, start, end} in seconds (end null: to the end)."""
    profiles = []
    for segment in request["segments"]:
        with sf.SoundFile(segment["path"]) as source:
            rate = source.samplerate
            source.seek(int(segment.get("start", 0) * rate))
            frames = -1 if segment.get("end") is None else int((segment["end"] - segment.get("start", 0)) * rate)
            audio = source.read(frames, dtype="float64", always_2d=True).mean(axis=1)
        profiles.append(prosody_profile(audio, rate))
    return profiles


TASKS: dict[str, Callable[[dict[str, Any]], Any]] = {"pitch_median": pitch_median, "change_voice": change_voice,
                                                     "prosody": prosody, "carry_prosody": carry_prosody}


def main() -> None:
    request = json.loads(sys.stdin.read())
    json.dump(TASKS[request["task"]](request), sys.stdout)


if __name__ == "__main__":
    main()
