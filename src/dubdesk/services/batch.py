"""Batch: a season of programmes x several languages, each through every stage up to review, on Ray.

Ray, not a scheduler of our own: a local Ray started for the run (one worker per core) or an existing
cluster by address. Each worker is a Ray actor holding a `Context` and, once loaded, the models
(transcriber, diarizer, QC encoders are cached per process by `engines.load_engine`), so a model loads
once per worker, not once per programme. A programme's steps are actor tasks in order: ingest, then its
script (transcription, diarization, lines: shared by its languages), then `prepare_dub` per language,
the languages of one programme free to run at once on different workers. The workers call the same
services a single run calls, so consent is checked per line where the engine speaks, and the stage
cache makes a repeated batch do no new work. An actor killed mid-task is restarted and the task run
again: what it finished is found in the stage cache and the takes, what it left half done is redone.
"""
from __future__ import annotations

import csv
import os
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import select

from ..config import Settings
from ..context import SYSTEM, Context
from ..errors import BadInputError, ProjectError
from ..files import sha256_file
from ..store import Project
from . import checks, pipeline, projects, scripting

MEDIA_SUFFIXES = {".wav", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".opus", ".mp4", ".mov", ".mkv", ".webm", ".mxf"}
RETRIES = 3  # times a task is run again after its worker died (a task that kills its worker each time fails)
StepProgress = Callable[[str, int, int], None]  # step_progress(programme name, steps done, steps in all)


@dataclass(frozen=True)
class Programme:
    """One programme of a batch: its source file, name, series and the languages it is dubbed into."""

    source: Path
    name: str
    languages: tuple[str, ...]
    series: str | None = None


@dataclass(frozen=True)
class LanguageOutcome:
    """One programme in one language after the batch, as a reviewer receives it."""

    programme: str
    project_id: int
    language: str
    lines: int
    ready: int  # spoken, fitted and failing no check: waiting for a person's decision
    failing: int  # spoken, failing at least one check
    not_spoken: int  # refused (consent, no text) or blocked


@dataclass(frozen=True)
class BatchReport:
    outcomes: tuple[LanguageOutcome, ...]
    workers: int
    seconds: float

    def to_json(self) -> dict:
        return {"workers": self.workers, "seconds": round(self.seconds, 2), "outcomes": [asdict(o) for o in self.outcomes]}


def programmes(paths: Iterable[Path], languages: tuple[str, ...]) -> list[Programme]:
    """The programmes named by files, folders (their media files) and CSV manifests (columns source, name,
    series, targets; targets space-separated, else `languages`; a source relative to the manifest)."""
    found: list[Programme] = []
    for path in map(Path, paths):
        if path.suffix.lower() == ".csv":
            found += _manifest(path, languages)
        elif path.is_dir():
            found += [Programme(f, f.stem, languages) for f in sorted(path.iterdir()) if f.suffix.lower() in MEDIA_SUFFIXES]
        else:
            found.append(Programme(path, path.stem, languages))
    missing = [p for p in found if not p.source.is_file()]
    if missing:
        raise BadInputError(missing[0].source, "no such file: name an existing programme (file, folder or manifest row)")
    if not found or not all(p.languages for p in found):
        raise ProjectError("a batch needs at least one programme and a target language for each (--to, or a manifest's targets)")
    return found


def _manifest(path: Path, languages: tuple[str, ...]) -> list[Programme]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if rows and "source" not in rows[0]:
        raise BadInputError(path, "a batch manifest needs a 'source' column (and may have name, series, targets)")
    return [Programme(path.parent / row["source"], row.get("name") or Path(row["source"]).stem,
                      tuple((row.get("targets") or "").split()) or languages, row.get("series") or None) for row in rows]


class StageWorker:
    """A Ray actor: one data folder opened in the worker's process, whose loaded models stay for every
    programme it is given. Each method is one step of one programme and returns plain values."""

    def __init__(self, settings: Settings) -> None:
        self.ctx = Context(settings)

    def pid(self) -> int:
        return os.getpid()

    def ingest(self, programme: Programme, by: str) -> int:
        """The programme's project: the one made before from the same bytes, else a new one."""
        project = _existing(self.ctx, programme.source) or projects.create_project(
            self.ctx, programme.source, programme.name, programme.languages, by=by)
        if programme.series and project.series != programme.series:
            projects.describe_project(self.ctx, project, series=programme.series, by=by)
        return project.id

    def script(self, project_id: int) -> int:
        scripting.edited_script(self.ctx, projects.project(self.ctx, project_id))
        return project_id

    def dub(self, programme: Programme, project_id: int, language: str, voice: str, by: str) -> LanguageOutcome:
        project = projects.project(self.ctx, project_id)
        pipeline.prepare_dub(self.ctx, project, language, voice, by=by)
        return outcome(self.ctx, project, programme.name, language)


def _existing(ctx: Context, source: Path) -> Project | None:
    digest = sha256_file(source)
    with ctx.sessions() as session:
        found = session.scalars(select(Project).where(Project.source_sha256 == digest).order_by(Project.id.desc())).first()
    return found if found is not None and ctx.folder(found).is_dir() else None


def outcome(ctx: Context, project: Project, name: str, language: str) -> LanguageOutcome:
    """Every line of the programme in `language`, counted by where it stands."""
    rows = checks.line_verdicts(ctx, project, language)
    spoken = [row.take for row in rows if row.take is not None and row.take.blocked is None]
    failing = sum(any(v.verdict == "fail" for v in take.verdicts) for take in spoken)
    ready = sum(bool(take.verdicts) and take.fit is not None and not any(v.verdict == "fail" for v in take.verdicts)
                for take in spoken)
    return LanguageOutcome(name, project.id, language, len(rows), ready, failing, len(rows) - len(spoken))


@dataclass(frozen=True)
class _Step:
    """One programme's next step on whichever worker is free: ingest (no project yet), script, or a language."""

    programme: Programme
    project_id: int | None = None
    language: str | None = None

    def submit(self, worker, voices: dict[str, str], by: str):
        if self.project_id is None:
            return worker.ingest.remote(self.programme, by)
        if self.language is None:
            return worker.script.remote(self.project_id)
        return worker.dub.remote(self.programme, self.project_id, self.language, voices[self.language], by)

    def following(self, result) -> list[_Step]:
        if self.project_id is None:
            return [_Step(self.programme, result)]
        if self.language is None:
            return [_Step(self.programme, self.project_id, language) for language in self.programme.languages]
        return []


def run_batch(settings: Settings, batch: list[Programme], voices: dict[str, str], address: str | None = None,
              workers: int | None = None, step_progress: StepProgress = lambda *_: None, by: str = SYSTEM) -> BatchReport:
    """Every programme of `batch` through every stage up to review in each of its languages (`voices`: the
    voice for each language's uncast speakers), on the Ray at `address`, else on one started for the run
    (or the one this process already joined). `workers`: actors, default one per CPU of the cluster."""
    unvoiced = sorted({language for p in batch for language in p.languages} - set(voices))
    if unvoiced:
        raise ProjectError(f"no voice for {', '.join(unvoiced)}: give --voice LANGUAGE=PROFILE for each target language")
    Context(settings).registry  # noqa: B018 - the stock voices and the key made once, before workers race to
    ray, started = _joined_ray(address, workers)
    try:
        pool = _workers(ray, settings, workers)
        began = time.perf_counter()
        outcomes = _run_steps(ray, pool, batch, voices, step_progress, by)
        return BatchReport(tuple(sorted(outcomes, key=lambda o: (o.programme, o.language))), len(pool), time.perf_counter() - began)
    finally:
        if started:
            ray.shutdown()


def _joined_ray(address: str | None, workers: int | None):
    """Ray, joined to `address` or started here; and whether it was started here (to be stopped after)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    if ray.is_initialized():
        return ray, False
    if address:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    else:
        ray.init(num_cpus=workers or os.cpu_count(), include_dashboard=False, _node_ip_address="127.0.0.1",
                 log_to_driver=False)
    return ray, True


def _workers(ray, settings: Settings, workers: int | None) -> list:
    count = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
    actor = ray.remote(num_cpus=1, max_restarts=RETRIES, max_task_retries=RETRIES)(StageWorker)
    return [actor.remote(settings) for _ in range(count)]


def _run_steps(ray, pool: list, batch: list[Programme], voices: dict[str, str], step_progress: StepProgress,
               by: str) -> list[LanguageOutcome]:
    """Each step given to a free worker as soon as the step before it in its programme is done."""
    waiting, idle, running = deque(_Step(p) for p in batch), list(pool), {}
    done = {p.name: 0 for p in batch}
    outcomes = []
    while waiting or running:
        while waiting and idle:
            worker, step = idle.pop(), waiting.popleft()
            running[step.submit(worker, voices, by)] = (worker, step)
        [finished], _ = ray.wait(list(running), num_returns=1)
        worker, step = running.pop(finished)
        idle.append(worker)
        result = ray.get(finished)
        waiting.extend(step.following(result))
        outcomes += [result] if isinstance(result, LanguageOutcome) else []
        done[step.programme.name] += 1
        step_progress(step.programme.name, done[step.programme.name], 2 + len(step.programme.languages))
    return outcomes
