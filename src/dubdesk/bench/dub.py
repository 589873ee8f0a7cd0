"""Dub benchmark: how much of a machine dub passes its own checks, before any person touches it.

The bundled sample (en -> es) and the development Amazon clip (en -> es, fr, it; a product video,
one speaker) are dubbed with the stock Pico voice of each language through every stage up to
review, once as the engine speaks and once with each source line's prosody carried over (synth.prosody).
Per programme, language and carry-over: lines, the share that fits its slot, passes timing,
intelligibility and emotion, the median emotion distance, lines with untranslated words and with
fillers left out, median back-transcription WER and real-time factor. Nothing is approved or adapted:
this is what a reviewer is handed.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from ..config import Settings
from ..context import Context
from ..services import checks, pipeline, projects, translation
from .report import publish

AMAZON_CLIP = Path("dubbing") / "amazon" / "segment_76.34s-103.55s-original.mp4"
VOICES = {"es": "stock-pico-es-es", "fr": "stock-pico-fr-fr", "it": "stock-pico-it-it"}


def dub_row(settings: Settings, source: Path, name: str, language: str) -> dict:
    """One programme dubbed into one language in a data folder of its own, and what QC made of it."""
    with tempfile.TemporaryDirectory(prefix="dubdesk-bench-dub-") as home:
        ctx = Context(settings.model_copy(update={"home": Path(home)}))
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
    return {"programme": name, "language": language, "prosody carried": settings.prosody.carry, "lines": len(lines),
            "fit %": round(100 * float(np.mean([line.take.fit.fits for line in lines if line.take and line.take.fit])), 1),
            "timing pass %": round(100 * share("timing"), 1), "timing fail %": round(100 * share("timing", "fail"), 1),
            "intelligibility pass %": round(100 * share("intelligibility"), 1),
            "median WER": round(float(np.median([v["intelligibility"].numbers["WER"] for v in verdicts])), 3),
            "emotion pass %": round(100 * share("emotion"), 1),
            "median emotion distance": round(float(np.median(distances)), 2) if distances else None,
            "untranslated-word lines": sum(bool(row.untranslated) for row in texts.values()),
            "filler-dropped lines": sum(bool(row.dropped) for row in texts.values()),
            "RTF": round(seconds / duration, 2)}


def run(settings: Settings, eval_dir: Path, sample: Path, out: Path) -> list[dict]:
    clip = eval_dir / AMAZON_CLIP
    dubs = [(sample, "sample", "es")]
    if clip.exists():
        dubs += [(clip, "amazon product video", language) for language in ("es", "fr", "it")]
    rows = [dub_row(_carrying(settings, carry), source, name, language) for source, name, language in dubs
            for carry in (False, True)]
    publish("Dub: machine dubs as a reviewer receives them (stock Pico voices)", rows,
            {"CPU": "this machine", "programmes": [str(sample), str(clip) if clip.exists() else "amazon clip missing"]},
            out)
    return rows


def _carrying(settings: Settings, carry: bool) -> Settings:
    """The settings with prosody carry-over switched on or off."""
    return settings.model_copy(update={"prosody": settings.prosody.model_copy(update={"carry": carry})})
