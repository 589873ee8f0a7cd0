"""The main job, end to end, on the bundled sample: wall time and real-time factor per stage.

Ingest, script (transcription, diarization), translation, the adapter's script for the sample where one
lies beside it (`sample.<language>.tsv`: lines written by hand before the voices speak), casting,
synthesis, fit, QC, an explicit approval of every line by a named (benchmark) reviewer,
the purpose stated and the rights holder's clearance recorded (the sample's licence allows dubbing it),
delivery (mix, stems, labels, signatures, timeline) and verification of the package.
"""
from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path

from ..config import Settings
from ..context import Context
from ..services import delivery, desk, pipeline, projects, rights, scripting, speech, translation
from ..services.desk import adapt_lines
from ..translate.edits import read_adaptation
from .report import StageTimes, machine_load, publish

REVIEWER = "Benchmark Reviewer"


def clear_sample(ctx: Context, project, language: str, sample: Path, by: str = REVIEWER):
    """What a delivery of a bundled sample needs first: why AI is used, and the clearance its licence (MIT, in
    the samples' ATTRIBUTION.md) amounts to, worldwide, for AI voices and translation."""
    projects.state_purpose(ctx, project, "a demonstration dub of a bundled, MIT-licensed sample",
                           ("translation", "voices"), by=by)
    licence = sample.resolve().parents[1] / "ATTRIBUTION.md"
    return rights.clear_title(ctx, project, "pyannote.audio authors (MIT licence)", project.name, [language],
                              ["worldwide"], ["ai-voice", "ai-translation"], date.today(), None, licence,
                              "samples/ATTRIBUTION.md: the MIT licence of the bundled sample", by=by)


def timed_main_job(ctx: Context, sample: Path, language: str, voice: str, out: Path,
                   until: str = "verify") -> tuple[object, dict[str, float], object]:
    """Run the main job (up to `until`), timing each stage; returns the project, the timings and the
    last stage's result."""
    timed = StageTimes()
    project = timed("ingest", lambda: projects.create_project(ctx, sample, name="main job"))
    adaptation = sample.with_suffix(f".{language}.tsv")
    if until != "qc" and adaptation.exists():  # the adapter writes before the voices speak, as the install does
        timed("script", lambda: scripting.script(ctx, project))
        timed("translate", lambda: translation.translate(ctx, project, language))
        timed("adapt", lambda: adapt_lines(ctx, project, language, read_adaptation(adaptation), REVIEWER))
    result = pipeline.prepare_dub(ctx, project, language, voice, timed=timed).results
    if until != "qc":
        timed("approve", lambda: [desk.review(ctx, project, line_id, language, REVIEWER, approve=True,
                                                   override_reason="benchmark: every line accepted as it is")
                                  for line_id in speech.current_clips(ctx, project, language)])
        timed("clear", lambda: clear_sample(ctx, project, language, sample))
        folder = timed("deliver", lambda: delivery.deliver(ctx, project, language, out))
        result = timed("verify", lambda: delivery.verify(ctx, folder))
    return project, timed, result


def _row(stage: str, seconds: float, cpu: float, duration: float) -> dict:
    return {"stage": stage, "seconds": round(seconds, 2), "RTF": round(seconds / duration, 3), "CPU s": round(cpu, 2)}


def run(settings: Settings, sample: Path, out: Path, language: str = "es", voice: str = "stock-pico-es-es") -> dict:
    load_before = machine_load()
    with tempfile.TemporaryDirectory(prefix="dubdesk-bench-main-") as home:
        ctx = Context(settings.in_scratch_home(Path(home)))
        project, timings, findings = timed_main_job(ctx, sample, language, voice, Path(home) / "delivery")
        duration = projects.media(project).duration_s
    rows = [_row(stage, seconds, timings.cpu[stage], duration) for stage, seconds in timings.items()]
    rows.append(_row("total", sum(timings.values()), sum(timings.cpu.values()), duration))
    summary = {"programme seconds": duration, "CPU cores": os.cpu_count(), "language": language, "voice": voice,
               "verify problems": sum(f.ok is False for f in findings),
               "load average before / after": f"{load_before} / {machine_load()}"}
    publish(f"Main job on the sample, en -> {language}: wall time per stage", rows, summary, out)
    return {"rows": rows, "summary": summary}
