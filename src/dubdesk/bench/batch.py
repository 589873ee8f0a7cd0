"""A season in miniature on Ray: 4 programmes x 2 languages, wall time with 1 worker and with 2 workers,
against a plain loop of `prepare_dub` (the work `dubdesk dub` does, one programme and language after the
other, in this process). Each configuration starts from an empty data folder, so every one loads its
models and does all the work."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from ..config import Settings
from ..context import Context
from ..services import batch, pipeline, projects
from .report import publish

VOICES = {"es": "stock-pico-es-es", "pt": "stock-kokoro-pt-jf-alpha"}
STARTS_S = (6.5, 11.5, 16.5, 19.5)  # four 10 s programmes with speech, cut from the 30 s sample


def episodes(sample: Path, folder: Path) -> list[Path]:
    """Four distinct 10 s programmes cut from the sample."""
    paths = []
    for number, start in enumerate(STARTS_S, 1):
        path = folder / f"episode-{number}.wav"
        subprocess.run([shutil.which("ffmpeg"), "-nostdin", "-v", "error", "-y", "-ss", str(start), "-t", "10", "-i",
                        str(sample), str(path)], check=True)
        paths.append(path)
    return paths


def _loop(settings: Settings, programmes: list[batch.Programme]) -> float:
    began, ctx = time.perf_counter(), Context(settings)
    for programme in programmes:
        project = projects.create_project(ctx, programme.source, programme.name)
        for language in programme.languages:
            pipeline.prepare_dub(ctx, project, language, VOICES[language])
    return time.perf_counter() - began


def _on_ray(settings: Settings, programmes: list[batch.Programme], workers: int) -> float:
    began = time.perf_counter()
    batch.run_batch(settings, programmes, VOICES, workers=workers)
    return time.perf_counter() - began


def run(settings: Settings, sample: Path, out: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="dubdesk-bench-batch-") as scratch:
        folder = Path(scratch)
        programmes = batch.programmes(episodes(sample, folder), tuple(VOICES))
        homes = {name: settings.in_scratch_home(folder / name) for name in ("loop", "ray-1", "ray-2")}
        seconds = {"plain loop of prepare_dub": _loop(homes["loop"], programmes),
                   "Ray, 1 worker": _on_ray(homes["ray-1"], programmes, 1),
                   "Ray, 2 workers": _on_ray(homes["ray-2"], programmes, 2)}
    loop = seconds["plain loop of prepare_dub"]
    rows = [{"run": name, "seconds": round(s, 1), "speed-up over the loop": round(loop / s, 2)} for name, s in seconds.items()]
    summary = {"programmes": len(programmes), "languages": list(VOICES), "programme seconds": 10.0,
               "CPU cores": os.cpu_count()}
    publish("Batch: 4 programmes x 2 languages, wall time", rows, summary, out)
    return {"rows": rows, "summary": summary}
