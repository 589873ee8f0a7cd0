"""Lip-sync benchmark on the Amazon on/off-screen dubbing demo (one English original, its machine
dubs in de, es, fr and it, and their timed scripts with on/off-screen flags).

Sync: offsets planted in the original's audio are recovered from the face track (error against
the unplanted estimate), globally and per on-screen line; the face track's on/off-screen call is
compared with the script's flags. Timing: the workbench's timing, AV and lip-closure checks applied
to that production system's dubs, line by line, against the original. Lip closures estimated from
the original's sound are set against the mouth seen at those moments.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..activity import FRAME_S, speech_frames
from ..audio import decode_audio
from ..config import Settings
from ..core import Line
from ..faces import track_faces
from ..phonemes import syllable_counts, words_phonemes
from ..qc.labials import BandLevel, closures_from_words, labial_check
from ..qc.lipsync import CONTEXT_S, RATE, MouthTrack, SpeechLevel, av_sync_check
from ..qc.timing import LINE_TOLERANCE_S, WINDOW_MARGIN_S, line_window, speech_timing
from ..transcribe import get_transcriber

CLIP = "segment_76.34s-103.55s"
LANGUAGES = ("de-DE", "es-ES", "fr-FR", "it-IT")
PLANTED_S = (-0.2, -0.1, -0.04, 0.04, 0.1, 0.2)


def demo_script(folder: Path, language: str) -> list[tuple[Line, str, bool]]:
    """(source line, target text, on screen) per row of the demo's script."""
    rows = csv.DictReader((folder / f"{CLIP}-{language}_metadata.csv").open(newline=""))
    return [(Line(f"L{index:02d}", "S", float(row["Start Time"]), float(row["End Time"]), row["Source Sentence"]),
             row["Target Sentence"], row["On-screen/Off-screen"].strip() == "on") for index, row in enumerate(rows, 1)]


def delayed(audio: np.ndarray, seconds: float) -> np.ndarray:
    """The audio `seconds` later (earlier if negative), its length kept: a planted offset."""
    shift = round(seconds * RATE)
    return np.concatenate([np.zeros(shift), audio[:len(audio) - shift]]) if shift >= 0 else\
        np.concatenate([audio[-shift:], np.zeros(-shift)])


def sync_rows(folder: Path, mouth: MouthTrack, audio: np.ndarray, lines: list[tuple[Line, str, bool]]):
    """Planted offsets: what the global and per-line searches recover, against the unplanted run."""
    on_screen = [line for line, _, seen in lines if seen]

    def estimates(shift: float):
        level = SpeechLevel(delayed(audio, shift))
        overall = mouth.offset(level, 0.0, len(audio) / RATE)
        centre = overall.offset_s or 0.0
        return overall, [mouth.offset(level, line.start - CONTEXT_S, line.end + CONTEXT_S, centre) for line in on_screen]

    base, base_lines = estimates(0.0)
    rows = [{"planted ms": 0, "global ms": round(base.offset_s * 1000, 1), "global r": round(base.r, 2),
             "global p": base.p, "global error ms": 0.0, **{f"{line.id} error ms": 0.0 for line in on_screen}}]
    for shift in PLANTED_S:
        overall, per_line = estimates(shift)
        row = {"planted ms": round(shift * 1000), "global ms": round(overall.offset_s * 1000, 1),
               "global r": round(overall.r, 2), "global p": overall.p,
               "global error ms": round((overall.offset_s - base.offset_s - shift) * 1000, 1)}
        row.update({f"{line.id} error ms": round((found.offset_s - ref.offset_s - shift) * 1000, 1)
                    for line, found, ref in zip(on_screen, per_line, base_lines)})
        rows.append(row)
    return rows, base, base_lines


def closures_by_line(audio: np.ndarray, language: str, lines: list[Line], settings: Settings) -> dict[str, list[float]]:
    """Lip-closure times in each line's stretch, from the words the recogniser hears in the whole clip."""
    words = get_transcriber(settings).transcribe(audio, language).words
    phonemes, band = words_phonemes([w.text for w in words], language), BandLevel.of(audio)
    found = {}
    for line in lines:
        inside = [i for i, w in enumerate(words) if line.start - LINE_TOLERANCE_S <= w.middle <= line.end + LINE_TOLERANCE_S]
        found[line.id] = closures_from_words([words[i] for i in inside], [phonemes[i] for i in inside], band)
    return found


def timing_rows(folder: Path, settings: Settings, mouth: MouthTrack, faces, source: np.ndarray, source_offset: float,
                source_closures: dict[str, list[float]]):
    """The timing, AV and lip-closure checks on each production dub's lines."""
    source_frames = speech_frames(source)
    rows = []
    for language in LANGUAGES:
        dub = decode_audio(folder / f"{CLIP}-dubbed_{language}.mp4")
        dub_frames, level = speech_frames(dub), SpeechLevel(dub)
        script = demo_script(folder, language)
        dub_closures = closures_by_line(dub, language[:2], [line for line, _, _ in script], settings)
        timings = production_timing(source_frames, dub_frames, script, language[:2], settings)
        for (line, _, on_screen), timing in zip(script, timings):
            sync = av_sync_check(mouth, faces.face_share(line.start, line.end), level, line.start, line.end,
                                 source_offset, settings.qc)
            lips = labial_check(source_closures[line.id], dub_closures[line.id], None if on_screen else "off screen, lips not seen",
                                settings.qc)
            rows.append({"language": language, "line": line.id, "on screen": on_screen,
                         "face share": round(faces.face_share(line.start, line.end), 2),
                         **{label: timing.numbers.get(key) for label, key in
                            (("onset s", "onset_error_s"), ("offset s", "offset_error_s"),
                             ("pauses differ", "pause_mismatch"), ("tempo", "tempo_vs_source"))},
                         "timing": timing.verdict, "av offset ms": _ms(sync.numbers.get("relative_offset_s")),
                         "av": sync.verdict,
                         "closures src/dub/matched": "/".join(str(lips.numbers[key]) for key in
                                                              ("source_closures", "dub_closures", "matched")),
                         "labials": lips.verdict})
    return rows


def production_timing(source_frames: np.ndarray, dub_frames: np.ndarray, script: list[tuple[Line, str, bool]],
                      language: str, settings: Settings) -> list:
    """The timing check on each line of a production dub (its speech frames on the original's clock)."""
    syllables = zip(syllable_counts([line.text for line, _, _ in script], "en"),
                    syllable_counts([text for _, text, _ in script], language))
    results = []
    for (line, _, on_screen), said in zip(script, syllables):
        length = int(line.duration / FRAME_S) + 2 * int(WINDOW_MARGIN_S / FRAME_S)
        results.append(speech_timing(line_window(source_frames, line.start, line.duration, length),
                                     line_window(dub_frames, line.start, line.duration, length), said,
                                     ("en", language), settings.qc, on_screen))
    return results


def closed_mouth_rank(faces, closures: dict[str, list[float]], lines: list[tuple[Line, str, bool]]) -> tuple[float, int]:
    """How closed the mouth is at the estimated closures: the mean percentile of the mouth opening
    there among the line's face frames (0.5 is chance, lower is more closed), and how many."""
    ranks = []
    for line, _, on_screen in lines:
        inside = (faces.times >= line.start) & (faces.times <= line.end) & np.isfinite(faces.mouth)
        if not on_screen or inside.sum() < 10:
            continue
        opening = faces.mouth[inside]
        for time in closures[line.id]:
            at = faces.mouth[int(np.argmin(np.abs(faces.times - time)))]
            if np.isfinite(at):
                ranks.append(float(np.mean(opening < at) + 0.5 * np.mean(opening == at)))
    return (round(float(np.mean(ranks)), 3) if ranks else float("nan")), len(ranks)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def run(settings: Settings, eval_dir: Path) -> tuple[list[dict], list[dict], dict]:
    folder = eval_dir / "dubbing" / "amazon"
    original = folder / f"{CLIP}-original.mp4"
    faces, _ = track_faces(original, settings.faces.python)
    mouth, audio = MouthTrack(faces), decode_audio(original)
    lines = demo_script(folder, "es-ES")
    sync, base, base_lines = sync_rows(folder, mouth, audio, lines)
    flags = [(faces.on_screen(line.start, line.end), seen) for line, _, seen in lines]
    source_closures = closures_by_line(audio, "en", [line for line, _, _ in lines], settings)
    timing = timing_rows(folder, settings, mouth, faces, audio, base.offset_s, source_closures)
    rank, ranked = closed_mouth_rank(faces, source_closures, lines)
    errors = [abs(value) for row in sync[1:] for key, value in row.items() if key.endswith("error ms")]
    summary = {
        "original's own offset (method bias or real) ms": round(base.offset_s * 1000, 1),
        "per on-screen line (ms, reliable)": [(_ms(found.offset_s), found.reliable) for found in base_lines],
        "largest recovery error ms": max(errors),
        "on/off-screen calls agreeing with the script": f"{sum(a == b for a, b in flags)}/{len(flags)}",
        "face frames": int(np.isfinite(faces.mouth).sum()), "video frames": len(faces.times),
        "mouth opening at the original's estimated closures, percentile in its line (0.5 chance)": rank,
        "estimated closures on screen": ranked,
    }
    return sync, timing, summary
