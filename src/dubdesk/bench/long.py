"""A long programme through the main job: seconds, real-time factor and peak memory per stage.

The programme is the evaluation recordings end to end (the bundled sample, then the 12 AMI excerpts:
6.5 minutes of real multi-speaker speech), repeated to `minutes` where given. It is dubbed by the
normal pipeline (script, translation, casting, speech, fit, QC), its lines that still do not fit (or
would run into their speaker's next line) are written shorter as an adapter would (their first half,
spoken again; a lone interjection left unsaid), every line is approved by a named
benchmark reviewer (with an override where a check failed), the purpose is stated and the title cleared,
and it is delivered and verified.

Peak memory, per stage: each stage runs in a child process of its own (spawned, so it starts with
nothing of the stages before it), which opens the same data folder. A thread there sums the resident
memory of that process and every program it started (the watermark worker, ffmpeg, Praat...) from
/proc every SAMPLE_S; the peak is the highest sum, or the process's own getrusage maximum where that
is higher (a peak shorter than SAMPLE_S). getrusage's RUSAGE_CHILDREN is not used: a child's maximum
counts the parent's pages it was forked with. The seconds are the stage's own, timed inside the child
(the child's start and imports are not counted).
"""
from __future__ import annotations

import multiprocessing
import os
import resource
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from ..audio import RATE, decode_audio
from ..config import Settings
from ..context import Context
from ..errors import BadInputError
from ..services import casting, checks, delivery, desk, fitting, pipeline, projects, speech, translation
from ..services.scripting import edited_script
from ..services.scripting import script as script_of
from .main_job import REVIEWER, clear_sample
from .report import family, publish

AMI_EXCERPTS = [f"trn{index:02d}" for index in range(10)] + ["dev00", "dev01"]
SHORTENING_ROUNDS = 3  # an adapter halves a line's words at most this often
SAMPLE_S = 0.1
PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2 ** 20


@dataclass(frozen=True)
class StageRun:
    stage: str
    seconds: float
    peak_rss_mb: float


def programme(sample: Path, eval_dir: Path, minutes: float | None, target: Path) -> Path:
    """The sample and the AMI excerpts end to end (16 kHz mono), repeated and cut to `minutes` where given."""
    folder = eval_dir / "diarization" / "ami"
    missing = [name for name in AMI_EXCERPTS if not (folder / f"{name}.wav").exists()]
    if missing:
        raise BadInputError(folder, f"the long-programme benchmark needs the AMI excerpts {', '.join(missing)}.wav "
                                    "there: give --eval-dir the evaluation data folder")
    pieces = [decode_audio(sample)] + [decode_audio(folder / f"{name}.wav") for name in AMI_EXCERPTS]
    once = np.concatenate(pieces)
    frames = len(once) if minutes is None else int(minutes * 60 * RATE)
    sf.write(target, np.resize(once, frames), RATE, subtype="PCM_16")
    return target


def run(settings: Settings, sample: Path, eval_dir: Path, out: Path, minutes: float | None = None,
        language: str = "es", voice: str = "stock-pico-es-es", keep: Path | None = None) -> dict:
    """`keep`: a new folder to leave the data folder in (project, delivery), to look into afterwards."""
    with tempfile.TemporaryDirectory(prefix="dubdesk-bench-long-") as scratch:
        home = Path(keep) if keep else Path(scratch)
        if keep:
            if home.exists():  # a kept run never mixes with an earlier one
                raise BadInputError(home, "the folder to keep the run in exists already: name a new one")
            home.mkdir(parents=True)
        settings = settings.in_scratch_home(home)
        source = programme(sample, eval_dir, minutes, home / "long programme.wav")
        duration = sf.info(source).duration
        runs, findings = _stages(settings, source, sample, language, voice)
    rows = [{"stage": r.stage, "seconds": round(r.seconds, 2), "RTF": round(r.seconds / duration, 3),
             "peak RSS MB": round(r.peak_rss_mb)} for r in runs]
    front = [r for r in runs if r.stage not in ("deliver", "verify")]
    for name, group in (("up to review", front), ("deliver + verify", [r for r in runs if r not in front]), ("total", runs)):
        seconds = sum(r.seconds for r in group)
        rows.append({"stage": name, "seconds": round(seconds, 2), "RTF": round(seconds / duration, 3),
                     "peak RSS MB": round(max(r.peak_rss_mb for r in group))})
    summary = {"programme seconds": round(duration, 1), "CPU cores": os.cpu_count(), "language": language, "voice": voice,
               "lines": findings["lines"], "lines written shorter": findings["shortened"],
               "verify problems": len(findings["problems"]), **({"first problems": findings["problems"][:5]}
                                                                 if findings["problems"] else {}),
               "peak RSS": f"per stage: its process and the programs it ran, summed from /proc every {SAMPLE_S} s"}
    publish(f"A {duration / 60:.1f}-minute programme, en -> {language}: time and peak memory per stage", rows, summary, out)
    return {"rows": rows, "summary": summary}


def _stages(settings: Settings, source: Path, sample: Path, language: str, voice: str) -> tuple[list[StageRun], dict]:
    """Each stage in a child process of its own, in the pipeline's order."""
    runs, findings = [], {}

    def stage(name: str, work: Callable, *args) -> object:
        result, seconds, peak = _in_child(work, settings, *args)
        runs.append(StageRun(name, seconds, peak))
        return result

    project_id = stage("ingest", _ingest, source)
    findings["lines"] = stage("script", _script, project_id)
    stage("translate", _translate, project_id, language)
    stage("cast", _cast, project_id, language, voice)
    stage("synthesize", _synthesize, project_id, language)
    stage("fit", _fit, project_id, language)
    stage("qc", _qc, project_id, language)
    findings["shortened"] = stage("adapt", _adapt, project_id, language)
    stage("approve", _approve, project_id, language)
    stage("clear", _clear, project_id, language, sample)
    folder = stage("deliver", _deliver, project_id, language)
    findings["problems"] = stage("verify", _verify, folder)
    return runs, findings


def _in_child(work: Callable, *args) -> tuple[object, float, float]:
    """Run `work(*args)` in a fresh (spawned) process: its result, its seconds and its peak RSS in MB."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_measured, (work, *args))


def _measured(work: Callable, settings: Settings, *args) -> tuple[object, float, float]:
    with PeakMemory() as peak:
        began = time.perf_counter()
        result = work(Context(settings), *args)
        seconds = time.perf_counter() - began
    return result, seconds, peak.mb


class PeakMemory:
    """The highest resident memory of this process and its descendants together, sampled from /proc."""

    def __init__(self) -> None:
        self.mb, self._done = 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._done.set()
        self._thread.join()
        self.mb = max(self.mb, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)

    def _sample(self) -> None:
        while not self._done.wait(SAMPLE_S):
            self.mb = max(self.mb, sum(_resident_mb(pid) for pid in family(os.getpid())))


def _resident_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * PAGE_MB
    except (OSError, IndexError, ValueError):
        return 0.0


def _project(ctx: Context, project_id: int):
    return projects.project(ctx, project_id)


def _ingest(ctx: Context, source: Path) -> int:
    return projects.create_project(ctx, source, name="long programme").id


def _script(ctx: Context, project_id: int) -> int:
    return len(edited_script(ctx, _project(ctx, project_id)).script.lines)


def _translate(ctx: Context, project_id: int, language: str) -> None:
    translation.translate(ctx, _project(ctx, project_id), language)


def _cast(ctx: Context, project_id: int, language: str, voice: str) -> None:
    project = _project(ctx, project_id)
    for speaker in edited_script(ctx, project).script.speakers:
        casting.cast(ctx, project, speaker, language, voice)


def _synthesize(ctx: Context, project_id: int, language: str) -> None:
    speech.synthesize_language(ctx, _project(ctx, project_id), language)


def _fit(ctx: Context, project_id: int, language: str) -> None:
    project = _project(ctx, project_id)
    pipeline.shorten(ctx, project, language, fitting.fit(ctx, project, language))


def _qc(ctx: Context, project_id: int, language: str) -> None:
    checks.qc(ctx, _project(ctx, project_id), language)


def _adapt(ctx: Context, project_id: int, language: str) -> int:
    """The lines whose take still does not fit, or would run into the speaker's next line (which delivery
    refuses), written shorter as an adapter would: their first half, spoken again, fitted and checked (a
    line of one word, an interjection, left unsaid). Returns how many were written shorter."""
    project, shortened = _project(ctx, project_id), set()
    for _ in range(SHORTENING_ROUNDS):
        clips = speech.current_clips(ctx, project, language)
        overrunning = delivery.running_into_own_lines(script_of(ctx, project), clips)
        texts = {line_id: _first_half(clip.text) for line_id, clip in clips.items() if clip.text.strip()
                 and (line_id in overrunning or (clip.fitted is not None and not clip.fitted.fits))}
        if not texts:
            break
        desk.adapt_lines(ctx, project, language, texts, REVIEWER)
        shortened |= set(texts)
    return len(shortened)


def _first_half(text: str) -> str:
    words = text.split()
    return " ".join(words[:len(words) // 2])


def _approve(ctx: Context, project_id: int, language: str) -> None:
    project = _project(ctx, project_id)
    for line_id in speech.current_clips(ctx, project, language):
        desk.review(ctx, project, line_id, language, REVIEWER, approve=True,
                    override_reason="benchmark: every line accepted as it is")


def _clear(ctx: Context, project_id: int, language: str, sample: Path) -> None:
    clear_sample(ctx, _project(ctx, project_id), language, sample)


def _deliver(ctx: Context, project_id: int, language: str) -> Path:
    return delivery.deliver(ctx, _project(ctx, project_id), language, ctx.settings.home / "delivery")


def _verify(ctx: Context, folder: Path) -> list[str]:
    """Each problem verify finds, as "file: check: what"."""
    return [f"{finding.file}: {finding.check}: {finding.message}" for finding in delivery.verify(ctx, folder)
            if finding.ok is False]
