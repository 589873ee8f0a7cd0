"""Dub benchmark: how much of a machine dub passes its own checks, before any person touches it.

The bundled sample (en -> es) and the development Amazon clip (en -> es, fr, it; a product video,
one speaker) are dubbed with the stock Pico voice of each language through every stage up to
review, once as the engine speaks and once with each source line's prosody carried over (synth.prosody).
Per programme, language and carry-over: lines, the share that fits its slot, passes timing,
intelligibility and emotion, the median emotion distance, lines with untranslated words and with
fillers left out, lines that break off mid-sentence, median back-transcription WER and real-time
factor. Nothing is approved or adapted: this is what a reviewer is handed.

Beside each language of the Amazon clip, the production system's own dub of it (Amazon's
prosodic-alignment demo, machine-dubbed) under the same timing, intelligibility and emotion checks,
line by line on its own script.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from ..activity import speech_frames
from ..audio import RATE, decode_audio
from ..config import Settings
from ..context import Context
from ..core import Line
from ..praat import run_praat
from ..qc import grade
from ..qc.emotion import emotion_distance, relative_to, speaker_baseline
from ..qc.intelligibility import intelligibility_check, transcribe_lines
from ..qc.timing import WINDOW_MARGIN_S
from ..script import SENTENCE_ENDS, join_words
from ..services import checks, pipeline, projects, translation
from ..transcribe import get_transcriber
from .lipsync import CLIP, demo_script, production_timing
from .report import publish

AMAZON = Path("dubbing") / "amazon"
AMAZON_CLIP = AMAZON / f"{CLIP}-original.mp4"
AMAZON_LANGUAGES = {"es": "es-ES", "fr": "fr-FR", "it": "it-IT"}
VOICES = {"es": "stock-pico-es-es", "fr": "stock-pico-fr-fr", "it": "stock-pico-it-it"}


def dub_row(settings: Settings, source: Path, name: str, language: str) -> dict:
    """One programme dubbed into one language in a data folder of its own, and what QC made of it."""
    with tempfile.TemporaryDirectory(prefix="dubdesk-bench-dub-") as home:
        ctx = Context(settings.in_scratch_home(Path(home)))
        project = projects.create_project(ctx, source, name=name)
        began = time.perf_counter()
        pipeline.prepare_dub(ctx, project, language, VOICES[language])
        seconds = time.perf_counter() - began
        lines = checks.line_verdicts(ctx, project, language)
        texts = translation.translations(ctx, project, language)
        duration = projects.media(project).duration_s
    verdicts = [{check.check: check for check in line.take.verdicts} for line in lines if line.take]

    def share(check: str, verdict: str = "pass") -> float:
        return round(float(np.mean([v[check].verdict == verdict for v in verdicts])), 3)

    distances = [v["emotion"].numbers["distance"] for v in verdicts if "distance" in v["emotion"].numbers]
    return {"programme": name, "language": language, "dub": "dubdesk (stock Pico voice)",
            "prosody carried": settings.prosody.carry, "lines": len(lines),
            "fit %": round(100 * float(np.mean([line.take.fit.fits for line in lines if line.take and line.take.fit])), 1),
            "timing pass %": round(100 * share("timing"), 1), "timing fail %": round(100 * share("timing", "fail"), 1),
            "intelligibility pass %": round(100 * share("intelligibility"), 1),
            "median WER": round(float(np.median([v["intelligibility"].numbers["WER"] for v in verdicts])), 3),
            "emotion pass %": round(100 * share("emotion"), 1),
            "median emotion distance": round(float(np.median(distances)), 2) if distances else None,
            "untranslated-word lines": sum(bool(row.untranslated) for row in texts.values()),
            "filler-dropped lines": sum(bool(row.dropped) for row in texts.values()),
            "broken lines": sum(not verdicts.line.text.endswith(SENTENCE_ENDS) for verdicts in lines),
            "RTF": round(seconds / duration, 2)}


def production_row(settings: Settings, eval_dir: Path, language: str) -> dict:
    """Amazon's own dub of the clip under the same checks, line by line on its script."""
    folder = eval_dir / AMAZON
    script = demo_script(folder, AMAZON_LANGUAGES[language])
    source, dub = decode_audio(folder / f"{CLIP}-original.mp4"), decode_audio(folder / f"{CLIP}-dubbed_{AMAZON_LANGUAGES[language]}.mp4")
    timing = production_timing(speech_frames(source), speech_frames(dub), script, language, settings)
    windows = {line.id: _window(dub, line) for line, _, _ in script}
    heard = transcribe_lines(windows, language, get_transcriber(settings))
    intelligibility = [intelligibility_check(join_words(heard[line.id], language), text, language, settings.qc)
                       for line, text, _ in script]
    emotion = _emotion_verdicts(settings, [_window(source, line) for line, _, _ in script], list(windows.values()))
    return {"programme": "amazon product video", "language": language, "dub": "Amazon's production dub",
            "prosody carried": None, "lines": len(script), "fit %": None,
            "timing pass %": round(100 * float(np.mean([t.verdict == "pass" for t in timing])), 1),
            "timing fail %": round(100 * float(np.mean([t.verdict == "fail" for t in timing])), 1),
            "intelligibility pass %": round(100 * float(np.mean([c.verdict == "pass" for c in intelligibility])), 1),
            "median WER": round(float(np.median([c.numbers["WER"] for c in intelligibility])), 3),
            "emotion pass %": round(100 * float(np.mean([verdict == "pass" for verdict in emotion])), 1),
            "median emotion distance": None, "untranslated-word lines": None, "filler-dropped lines": None,
            "broken lines": sum(not line.text.endswith(SENTENCE_ENDS) for line, _, _ in script), "RTF": None}


def _window(audio: np.ndarray, line: Line) -> np.ndarray:
    """A line's stretch of a programme's 16 kHz audio, with the timing check's margins."""
    return audio[max(0, int((line.start - WINDOW_MARGIN_S) * RATE)):int((line.end + WINDOW_MARGIN_S) * RATE)]


def _emotion_verdicts(settings: Settings, sources: list[np.ndarray], dubs: list[np.ndarray]) -> list[str]:
    """The emotion check's verdict on each (source, dub) pair, each side against its own voice's baseline."""
    with tempfile.TemporaryDirectory(prefix="dubdesk-bench-emotion-") as folder:
        paths = []
        for index, audio in enumerate(sources + dubs):
            paths.append(Path(folder) / f"{index}.wav")
            sf.write(paths[-1], audio, RATE, subtype="FLOAT")
        profiles = run_praat("prosody", segments=[{"path": str(path)} for path in paths])
    source_profiles, dub_profiles = profiles[:len(sources)], profiles[len(sources):]
    source_base, dub_base = speaker_baseline(source_profiles), speaker_baseline(dub_profiles)
    distances = [emotion_distance(relative_to(source, source_base), relative_to(dub, dub_base))[0]
                 for source, dub in zip(source_profiles, dub_profiles)]
    return [grade(distance, settings.qc.emotion_distance) if np.isfinite(distance) else "n/a" for distance in distances]


def run(settings: Settings, eval_dir: Path, sample: Path, out: Path) -> list[dict]:
    clip = eval_dir / AMAZON_CLIP
    dubs = [(sample, "sample", "es")]
    if clip.exists():
        dubs += [(clip, "amazon product video", language) for language in ("es", "fr", "it")]
    rows = [dub_row(_carrying(settings, carry), source, name, language) for source, name, language in dubs
            for carry in (False, True)]
    if clip.exists():
        rows += [production_row(settings, eval_dir, language) for language in AMAZON_LANGUAGES]
    publish("Dub: machine dubs as a reviewer receives them (stock Pico voices)", rows,
            {"CPU": "this machine", "programmes": [str(sample), str(clip) if clip.exists() else "amazon clip missing"]},
            out)
    return rows


def _carrying(settings: Settings, carry: bool) -> Settings:
    """The settings with prosody carry-over switched on or off."""
    return settings.model_copy(update={"prosody": settings.prosody.model_copy(update={"carry": carry})})
