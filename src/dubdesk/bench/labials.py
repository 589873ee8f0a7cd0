"""Bilabial benchmark: the closure estimate the check uses, against Piper's own phoneme times.

FLORES English sentences are spoken by the stock Piper voice through the consent gate; Piper reports
when each phoneme is heard, which is the truth here. The estimate is what the check uses for every
other voice and for the source: the words Whisper hears (packed as in QC), espeak-ng's phonemes per
word, a closure placed at its share of the word, with and without the move to the 1-4 kHz band's dip.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from ..audio import RATE, resample
from ..config import Settings
from ..context import Context
from ..phonemes import words_phonemes
from ..qc.intelligibility import transcribe_lines
from ..qc.labials import BandLevel, closures_from_phonemes, closures_from_words, match_closures
from ..services import projects, speech
from ..transcribe import get_transcriber

SENTENCES = slice(200, 240)  # FLORES dev lines not looked at while building the estimate
PIPER_VOICE = "stock-piper-en-us-joe"


def _spoken(settings: Settings, sample: Path, sentences: list[str]) -> tuple[dict, dict, float]:
    """Each sentence's 16 kHz audio and Piper's closure times; seconds per sentence spoken."""
    with tempfile.TemporaryDirectory(prefix="dubdesk-bench-labials-") as home:
        ctx = Context(settings.in_scratch_home(Path(home)))
        project = projects.create_project(ctx, sample, name="labials")
        began = time.perf_counter()
        clips = [speech.synthesize(ctx, project, f"S{index:03d}", text, "en", PIPER_VOICE) for index, text in enumerate(sentences)]
        seconds = (time.perf_counter() - began) / len(clips)
        folder = ctx.folder(project)
        audio = {clip.line_id: resample(*sf.read(folder / clip.path, dtype="float32"), RATE) for clip in clips}
        return audio, {clip.line_id: closures_from_phonemes(clip.settings["phonemes"]) for clip in clips}, seconds


def run(settings: Settings, eval_dir: Path, sample: Path) -> tuple[list[dict], dict]:
    sentences = (eval_dir / "translation" / "flores200" / "eng.txt").read_text("utf-8").splitlines()[SENTENCES]
    audio, truth, speak_s = _spoken(settings, sample, sentences)
    heard = transcribe_lines(audio, "en", get_transcriber(settings))
    phonemes = iter(words_phonemes([w.text for words in heard.values() for w in words], "en"))
    per_line = {line_id: [next(phonemes) for _ in words] for line_id, words in heard.items()}
    tolerance, rows = settings.qc.labial_tolerance_s, []
    for method, snapped in (("share of the word", False), ("share of the word, moved to the band's dip", True)):
        estimated, errors = 0, []
        for line_id, words in heard.items():
            found = closures_from_words(words, per_line[line_id], BandLevel.of(audio[line_id]) if snapped else None)
            estimated += len(found)
            errors += [e - t for t, e in match_closures(truth[line_id], found, tolerance)]
        errors_ms = np.array(errors) * 1000
        closures = sum(len(times) for times in truth.values())
        rows.append({"estimate": method, "closures (Piper)": closures, "estimated": estimated,
                     f"matched within ±{tolerance * 1000:.0f} ms": len(errors),
                     "recall": round(len(errors) / closures, 3), "precision": round(len(errors) / max(estimated, 1), 3),
                     "median |error| ms": round(float(np.median(np.abs(errors_ms))), 1),
                     "p90 |error| ms": round(float(np.percentile(np.abs(errors_ms), 90)), 1),
                     "mean error ms (bias)": round(float(errors_ms.mean()), 1)})
    summary = {"sentences": f"FLORES-200 dev eng {SENTENCES.start}-{SENTENCES.stop - 1} (CC-BY-SA 4.0)",
               "voice": PIPER_VOICE, "Piper seconds per sentence (consent check, phoneme times)": round(speak_s, 2)}
    return rows, summary
