"""Service functions: the one place the CLI, the UI and the tests drive the flow.

Each stage function takes a project, runs (or reuses) its stage through
`stages.run_stage`, and returns typed results.
"""
from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import soundfile as sf
from sqlalchemy import select, update

from .activity import WORD_EDGES
from .audio import RATE, decode_audio, resample
from .cast import cast_speaker, castings
from .config import Settings
from .core import Line, Script, Transcript, Turn, Word
from .engines import EngineIdentity
from .errors import BadInputError, ProjectError, TamperedError
from .export.credentials import SigningIdentity, make_project_ca
from .export.delivery import DeliveredLine, DeliveryRequest, consent_refusal, write_delivery
from .export.script_files import SCRIPT_FORMATS, export_script
from .faces import WORKER as FACE_WORKER
from .faces import FaceTrack, track_faces
from .files import sha256_file
from .fit import Fit, bounds_for, fit_clip
from .ingest import MediaInfo, ingest, load_working_audio
from .mix import MIX_RATE, PlacedLine, mixdown
from .qc import CheckResult
from .qc.runner import LineQC, store_results
from .review import decide, decisions, qc_results
from .script import MIN_LINE_S, build_script
from .seal import Seal
from .stages import StageResult, package_version, run_stage
from .store import Project, open_database
from .store.audit import audit
from .store.models import Clip, LineTranslation, QCResult, Review
from .synth import register_stock_voices, revoke_voice, synthesize_line
from .synth.engines import NON_COMMERCIAL_LICENCES
from .takes import check_take, fit_body
from .transcribe.chunking import chunk_bounds
from .translate import budget_chars, route, shorter_alternatives, slot_durations, translate_lines
from .translate.edits import StaleEditError, TextEdit, apply_edit
from .verify import Finding, Verifier
from .voices.registry import ConsentError, ConsentRegistry
from .watermark import Watermarker

Progress = Callable[..., None]  # progress(stage, done=None, total=None)
SOURCE_FOLDER = "source"
SYSTEM = "dubdesk"  # the actor audited for work nobody in particular asked for (tests, benchmarks)
OWN_OVERLAP_TOLERANCE_S = 0.01  # a dub line may touch its speaker's next line by this much (sample rounding)


def no_progress(stage: str, done: int | None = None, total: int | None = None) -> None:
    """The default progress callback: report nothing."""


def _line_texts(project: Project, language: str):
    """The query for a project's line texts in one language."""
    return select(LineTranslation).where(LineTranslation.project_id == project.id, LineTranslation.language == language)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()[:40] or "project"


class Workbench:
    """A data folder (database + projects) opened with one set of settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sessions = open_database(settings.database_url)
        self._registry: ConsentRegistry | None = None

    @property
    def registry(self) -> ConsentRegistry:
        """The consent registry, with the stock voices registered on first use."""
        if self._registry is None:
            seal = Seal(self.settings.home / "keys", self.sessions, self.settings.key_fingerprint)
            self._registry = ConsentRegistry(self.settings.home, self.sessions, seal)
            register_stock_voices(self._registry)
        return self._registry

    @property
    def seal(self) -> Seal:
        """The key takes are sealed with (the registry's)."""
        return self.registry.seal

    # projects -----------------------------------------------------------------

    def folder(self, project: Project) -> Path:
        return self.settings.projects_dir / project.folder

    def create_project(self, source: Path, name: str | None = None, target_languages: tuple[str, ...] = (),
                       commercial: bool = False, by: str = SYSTEM) -> Project:
        """Ingest `source` into a new project, audited in `by`'s name; on any error nothing is left behind."""
        source = Path(source)
        folder_name = f"{_slug(name or source.stem)}-{uuid.uuid4().hex[:8]}"
        folder = self.settings.projects_dir / folder_name
        try:
            media = ingest(source, folder / SOURCE_FOLDER, self.settings.ingest, self.settings.projects_dir)
            with self.sessions() as session:
                project = Project(name=name or source.stem, folder=folder_name, source_name=source.name,
                                  source_sha256=media.sha256, media=media.to_json(),
                                  target_languages=list(target_languages), commercial=commercial)
                session.add(project)
                session.flush()
                audit(session, by, "project created", project.id, source=source.name, name=project.name,
                      target_languages=list(target_languages), commercial=commercial)
                session.commit()
                return project
        except Exception:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def project(self, project_id: int) -> Project:
        with self.sessions() as session:
            project = session.get(Project, project_id)
        if project is None:
            raise ProjectError(f"no project with id {project_id}")
        return project

    def projects(self) -> list[Project]:
        with self.sessions() as session:
            return list(session.scalars(select(Project).order_by(Project.id)))

    def project_for_source(self, source: Path) -> Project:
        """The newest project made from a file with these exact bytes, or a new one."""
        source = Path(source)
        digest = sha256_file(source) if source.is_file() else None
        with self.sessions() as session:
            existing = session.scalars(select(Project).where(Project.source_sha256 == digest)
                                       .order_by(Project.id.desc())).first()
        if existing is not None and (self.folder(existing) / SOURCE_FOLDER).is_dir():
            return existing
        return self.create_project(source)

    def media(self, project: Project) -> MediaInfo:
        return MediaInfo(**project.media)

    # stages -------------------------------------------------------------------

    def _run(self, project: Project, stage: str, inputs: dict, compute) -> StageResult:
        return run_stage(self.sessions, project, self.folder(project), stage, inputs, compute)

    def transcribe(self, project: Project, progress: Progress = no_progress) -> tuple[Transcript, StageResult]:
        """Words of the whole programme, transcribed chunk by chunk so a killed run resumes mid-way."""
        config, base = self.settings.transcribe, self._transcribe_inputs(project)

        def compute():
            audio = load_working_audio(self.folder(project) / SOURCE_FOLDER)
            rate = RATE
            language, parts = config.language, []
            bounds = chunk_bounds(audio, rate, config.chunk_s)
            for index, (begin, end) in enumerate(bounds):
                progress("transcribe", index, len(bounds))
                chunk = self._run(project, "transcribe-chunk", {**base, "samples": [begin, end], "language": language},
                                  lambda b=begin, e=end, lang=language: self._transcribe_samples(audio[b:e], lang))
                parts.append((begin / rate, Transcript.from_json(chunk.load())))
                language = language or parts[0][1].language  # later chunks keep the language heard first
            first = parts[0][1]
            words = tuple(Word(w.text, w.start + offset, w.end + offset, w.confidence)
                          for offset, part in parts for w in part.words)
            return Transcript(first.language, first.language_probability, words).to_json(), chunk.engine

        result = self._run(project, "transcribe", base, compute)
        return Transcript.from_json(result.load()), result

    def _transcribe_samples(self, audio, language: str | None) -> tuple[dict, EngineIdentity]:
        from .transcribe import get_transcriber

        transcriber = get_transcriber(self.settings)
        return transcriber.transcribe(audio, language).to_json(), transcriber.identity

    def _transcribe_inputs(self, project: Project) -> dict:
        config = self.settings.transcribe
        return {"source": project.source_sha256, "settings": config.model_dump(), "engine_version": package_version(config.engine),
                "word_edges": WORD_EDGES}

    def _diarize_inputs(self, project: Project) -> dict:
        return {"source": project.source_sha256, "settings": self.settings.diarize.model_dump(),
                "engine_version": package_version("dubdesk")}

    def import_transcript(self, project: Project, transcript: Transcript, turns: list[Turn], origin: str) -> Script:
        """Use a transcript and speaker turns made elsewhere (a studio's own, or a generated load test)
        in place of recognition and diarization; the script is built from them as usual."""
        imported = EngineIdentity("import", origin, "-", package_version("dubdesk"))
        self._run(project, "transcribe", self._transcribe_inputs(project), lambda: (transcript.to_json(), imported))
        self._run(project, "diarize", self._diarize_inputs(project),
                  lambda: ([[t.start, t.end, t.speaker] for t in turns], imported))
        return self.script(project)

    def diarize(self, project: Project) -> tuple[list[Turn], StageResult]:
        config, inputs = self.settings.diarize, self._diarize_inputs(project)

        def compute():
            from .diarize import get_diarizer

            diarizer = get_diarizer(self.settings)
            audio = load_working_audio(self.folder(project) / SOURCE_FOLDER)
            turns = diarizer.diarize(audio, config.num_speakers, config.min_speakers, config.max_speakers)
            return [[t.start, t.end, t.speaker] for t in turns], diarizer.identity

        result = self._run(project, "diarize", inputs, compute)
        return [Turn(*row) for row in result.load()], result

    def source_audio(self, project: Project, start_s: float = 0.0, end_s: float | None = None):
        """The programme's 16 kHz mono working copy (or a stretch of it)."""
        return load_working_audio(self.folder(project) / SOURCE_FOLDER, start_s, end_s)

    def original(self, project: Project) -> Path:
        """The source file as it was received."""
        return next((self.folder(project) / SOURCE_FOLDER).glob("original.*"))

    def face_track(self, project: Project) -> FaceTrack | None:
        """Mouth opening per frame of a video source (None for audio alone), tracked once."""
        if not self.media(project).has_video:
            return None
        inputs = {"source": project.source_sha256, "worker": sha256_file(FACE_WORKER)}

        def compute():
            track, identity = track_faces(self.original(project), self.settings.faces.python)
            return track.to_json(), identity

        return FaceTrack.from_json(self._run(project, "faces", inputs, compute).load())

    def script(self, project: Project, progress: Progress = no_progress) -> Script:
        """Transcribe, diarize and build the script, each step reused when unchanged."""
        progress("transcribe")
        transcript, transcribed = self.transcribe(project, progress)
        if not transcript.words:
            raise BadInputError(project.source_name, "no speech found: the recogniser heard no words (a tone, music "
                                                     "or silence?), so there is nothing to script or dub")
        progress("diarize")
        turns, diarized = self.diarize(project)
        progress("script")
        inputs = {"transcript": transcribed.sha256, "turns": diarized.sha256,
                  "settings": self.settings.script.model_dump(), "min_line_s": MIN_LINE_S}
        duration = self.media(project).duration_s

        def compute():
            return build_script(transcript, turns, duration, self.settings.script).to_json(), None

        return Script.from_json(self._run(project, "script", inputs, compute).load())

    def export(self, project: Project, out: Path, formats: tuple[str, ...] | None = None) -> list[Path]:
        script = self.script(project)
        file_id = Path(project.source_name).stem
        return export_script(script, Path(out), file_id, self.settings.script.frame_rate, formats or SCRIPT_FORMATS)

    # translation ----------------------------------------------------------------------------

    def translate(self, project: Project, language: str, by: str = SYSTEM) -> dict[str, LineTranslation]:
        """Machine-translate every line into `language`; a person's edits are never overwritten."""
        script = self.script(project)
        chosen = route(script.language, language, self.settings.translate)
        terms = self.protected_terms(project, language)
        inputs = {"script": [line.to_json() for line in script.lines], "route": chosen.describe(), "target": language,
                  "terms": terms, "output": "text by line id"}

        budgets = [budget_chars(slot, language) for slot in slot_durations(script)]

        def compute():
            texts = translate_lines([line.text for line in script.lines], script.language, language, terms,
                                    self.settings.translate)
            return {line.id: self._within_budget(line.text, text, budget, script.language, language, terms)
                    for line, text, budget in zip(script.lines, texts, budgets)}, chosen.identity

        result = self._run(project, f"translate-{language}", inputs, compute)
        with self.sessions() as session:
            existing = {row.line_id for row in session.scalars(_line_texts(project, language))}
            machine, engine = result.load(), chosen.identity.to_json()
            for line, budget in zip(script.lines, budgets):
                text = machine[line.id]
                values = {"text": text, "origin": "machine", "engine": engine, "budget_chars": budget,
                          "over_budget": len(text) > budget}
                if line.id not in existing:
                    session.add(LineTranslation(project_id=project.id, line_id=line.id, language=language, **values))
                else:  # a person's text is never overwritten, not even one saved a moment ago
                    session.execute(update(LineTranslation).where(
                        LineTranslation.project_id == project.id, LineTranslation.line_id == line.id,
                        LineTranslation.language == language, LineTranslation.origin == "machine").values(**values))
            audit(session, by, "translated", project.id, language=language, route=chosen.describe())
            session.commit()
        return self.translations(project, language)

    def _within_budget(self, source_text: str, text: str, budget: int, source: str, target: str,
                       terms: dict[str, str]) -> str:
        """An over-budget translation is replaced by the engine's best alternative that fits, if it has one."""
        if len(text) <= budget:
            return text
        return next(iter(shorter_alternatives(source_text, source, target, budget, terms, self.settings.translate)), text)

    def protected_terms(self, project: Project, language: str) -> dict[str, str]:
        """Character names (kept as they are) and glossary terms with their required translation."""
        terms = {name: name for name in (project.characters or {}).values()}
        terms.update({term: targets[language] for term, targets in (project.glossary or {}).items() if language in targets})
        return terms

    def describe_project(self, project: Project, series: str | None = None, characters: dict[str, str] | None = None,
                         glossary: dict[str, dict[str, str]] | None = None, by: str = SYSTEM) -> Project:
        """Set the series, character names (speaker -> name) and glossary entries (merged in)."""
        with self.sessions() as session:
            row = session.get(Project, project.id)
            if series is not None:
                row.series = series
            if characters:
                row.characters = {**(row.characters or {}), **characters}
            if glossary:
                merged = {term: dict(targets) for term, targets in (row.glossary or {}).items()}
                for term, targets in glossary.items():
                    merged.setdefault(term, {}).update(targets)
                row.glossary = merged
            audit(session, by, "project described", project.id, series=series, characters=characters, glossary=glossary)
            session.commit()
            return row

    def translations(self, project: Project, language: str) -> dict[str, LineTranslation]:
        with self.sessions() as session:
            return {row.line_id: row for row in session.scalars(_line_texts(project, language))}

    def edit_translation(self, project: Project, line_id: str, language: str, text: str, editor: str,
                         expected_version: int) -> LineTranslation:
        """A person's text for one line. An edit made on an older version is refused, never lost silently."""
        with self.sessions() as session:
            apply_edit(session, project.id, TextEdit(line_id, language, text, editor, expected_version))
            audit(session, editor, "text edited", project.id, line_id, language=language, text=text.strip())
            session.commit()
        return self.translations(project, language)[line_id]

    # voices ---------------------------------------------------------------------------------

    def cast(self, project: Project, speaker: str, language: str, profile_id: str, by: str = SYSTEM) -> None:
        cast_speaker(self.sessions, self.registry, project, speaker, language, profile_id, by)

    def synthesize_language(self, project: Project, language: str, progress: Progress = no_progress,
                            use: str = "dubbing", by: str = SYSTEM) -> tuple[list[Clip], dict[str, str]]:
        """Every translated, cast line spoken, except lines whose current take already says the same
        in the same voice (so their decisions stand); returns the new clips and, per line not
        spoken, why."""
        script, cast = self.script(project), castings(self.sessions, project, language)
        texts, current = self.translations(project, language), self.current_clips(project, language)
        clips, refused = [], {}
        for index, line in enumerate(script.lines):
            progress("synthesize", index, len(script.lines))
            if line.speaker not in cast or line.id not in texts:
                refused[line.id] = "speaker not cast" if line.speaker not in cast else "no translation"
                continue
            take = current.get(line.id)
            if take is not None and (take.text, take.profile_id, take.settings.get("use")) == (
                    texts[line.id].text, cast[line.speaker], use):
                if take.status == "blocked":
                    refused[line.id] = take.blocked_reason or "blocked"
                continue
            try:
                clips.append(self.synthesize(project, line.id, texts[line.id].text, language, cast[line.speaker], use))
            except ConsentError as error:
                refused[line.id] = str(error)
        if clips or refused:
            with self.sessions() as session:
                audit(session, by, "lines synthesized", project.id, language=language, spoken=len(clips), refused=len(refused))
                session.commit()
        return clips, refused

    def synthesize(self, project: Project, line_id: str, text: str, language: str, profile_id: str,
                   use: str = "dubbing", edit: TextEdit | None = None, by: str | None = None) -> Clip:
        return synthesize_line(self.sessions, self.registry, project, self.folder(project), line_id, text, language,
                               profile_id, self.settings, use, edit, by)

    def revoke_voice(self, profile_id: str, reason: str, *, by: str) -> int:
        return revoke_voice(self.sessions, self.registry, profile_id, reason, by=by)

    def current_clips(self, project: Project, language: str) -> dict[str, Clip]:
        """Each line's newest clip in `language`: the line version under review."""
        with self.sessions() as session:
            rows = session.scalars(select(Clip).where(Clip.project_id == project.id, Clip.language == language)
                                   .order_by(Clip.id))
            return {clip.line_id: clip for clip in rows}

    # fit ------------------------------------------------------------------------------------

    def fit(self, project: Project, language: str, progress: Progress = no_progress) -> dict[str, Fit]:
        """Fit every line's current clip into its slot; a line that does not fit first tries a shorter
        machine translation where the engine can offer one."""
        script, clips = self.script(project), self.current_clips(project, language)
        faces, fits = self.face_track(project), {}
        for index, (line, slot) in enumerate(zip(script.lines, slot_durations(script))):
            progress("fit", index, len(script.lines))
            if line.id in clips:
                fits[line.id] = self._fit_line(project, script, line, slot, clips[line.id], language, faces)
        return fits

    def fit_line(self, project: Project, script: Script, line_id: str, language: str) -> Fit:
        """Fit one line's current clip (after it was spoken again)."""
        index = next(i for i, line in enumerate(script.lines) if line.id == line_id)
        return self._fit_line(project, script, script.lines[index], slot_durations(script)[index],
                              self.current_clips(project, language)[line_id], language, self.face_track(project))

    def _fit_line(self, project: Project, script: Script, line: Line, slot: float, clip: Clip, language: str,
                  faces: FaceTrack | None) -> Fit:
        """Fit one clip, with the off-screen bounds where the video shows no face during the line; a
        clip already fitted to this slot and bounds keeps its fit (and so the decisions on it)."""
        on_screen = faces is None or faces.on_screen(line.start, line.end)
        folder = self.folder(project)
        if _fit_stands(clip, folder, line, slot, bounds_for(self.settings.fit, on_screen)):
            return Fit(**clip.fit)
        fitted = fit_clip(folder / clip.path, folder, line.start, line.duration, slot, self.settings.fit, on_screen)
        if not fitted.fits:
            shorter = self._shorter_clip(project, script, line, clip, language, fitted)
            if shorter is not None:
                clip = shorter
                fitted = fit_clip(folder / clip.path, folder, line.start, line.duration, slot, self.settings.fit,
                                  on_screen)
        with self.sessions() as session:
            row = session.get(Clip, clip.id)
            row.fit = fitted.to_json()
            row.fit_seal = self.seal.sign("fit", fit_body(row))
            session.commit()
        return fitted

    def fits(self, project: Project, language: str) -> dict[str, Fit]:
        """The stored fit of each line's current clip (lines not fitted yet are left out)."""
        return {line_id: Fit(**clip.fit) for line_id, clip in self.current_clips(project, language).items() if clip.fit}

    def _shorter_clip(self, project: Project, script: Script, line: Line, clip: Clip, language: str, fitted: Fit) -> Clip | None:
        """A new clip from the engine's shorter translation, if it has one; a person's text is never replaced."""
        row = self.translations(project, language).get(line.id)
        if row is None or row.origin != "machine":
            return None
        max_chars = int(len(clip.text) * fitted.slot_s * fitted.bounds[1] / fitted.natural_s)
        terms = self.protected_terms(project, language)
        for text in shorter_alternatives(line.text, script.language, language, max_chars, terms, self.settings.translate):
            if len(text) < len(clip.text):
                wording = TextEdit(line.id, language, text, row.engine["engine"], row.version, origin="machine")
                try:
                    return self.synthesize(project, line.id, text, language, clip.profile_id,
                                           clip.settings.get("use", "dubbing"), edit=wording)
                except StaleEditError:  # a person wrote the line meanwhile: theirs stands
                    return None
        return None

    # QC and review --------------------------------------------------------------------------

    def qc(self, project: Project, language: str, progress: Progress = no_progress,
           again: bool = False) -> dict[str, list[CheckResult]]:
        """Every check on each line's current clip, which must be fitted (QC judges what will be heard;
        it never fits on its own); verdicts are stored per clip. Clips checked before keep their
        verdicts; with `again`, those nobody has decided on yet are checked anew (a decision stands on
        the verdicts it was made on)."""
        clips = self.current_clips(project, language)
        unfitted = sorted(line_id for line_id, clip in clips.items() if clip.fit is None)
        if unfitted:
            raise ProjectError(f"{len(unfitted)} line(s) not fitted yet ({_listed(unfitted)}): fit them first (dubdesk fit)")
        with self.sessions() as session:
            decided = set(session.scalars(select(Review.clip_id).where(Review.clip_id.in_([c.id for c in clips.values()]))))
        unchecked = {line_id: clip for line_id, clip in clips.items()
                     if clip.qc_seal is None or (again and clip.id not in decided)}
        if unchecked:
            results = LineQC(self, project, language, self.script(project), unchecked).run(progress)
            store_results(self.sessions, self.seal, unchecked, results)
        return {line_id: [CheckResult(r.check, r.verdict, r.numbers, r.reason) for r in rows]
                for line_id, rows in self.qc_results(project, language).items()}

    def review(self, project: Project, line_id: str, language: str, reviewer: str, approve: bool,
               note: str | None = None, override_reason: str | None = None,
               expected_clip_id: int | None = None) -> Review:
        """Approve or reject a line's current clip (see review.decide). With `expected_clip_id` (the clip
        the reviewer heard) the decision is refused when the line has been regenerated since."""
        clip = self.current_clips(project, language).get(line_id)
        if clip is None:
            raise ProjectError(f"line {line_id} has no {language} clip to review")
        if expected_clip_id is not None and clip.id != expected_clip_id:
            raise ProjectError(f"line {line_id} changed since you opened it (it has a new take); reload it and decide again")
        return decide(self.sessions, self.seal, clip.id, reviewer, approve, note, override_reason)

    def qc_results(self, project: Project, language: str) -> dict[str, list[QCResult]]:
        """The stored verdicts of each line's current clip."""
        with self.sessions() as session:
            return {line_id: qc_results(session, clip.id) for line_id, clip in self.current_clips(project, language).items()}

    def clips(self, project: Project | None = None, profile_id: str | None = None) -> list[Clip]:
        with self.sessions() as session:
            query = select(Clip).order_by(Clip.id)
            if project is not None:
                query = query.where(Clip.project_id == project.id)
            if profile_id is not None:
                query = query.where(Clip.profile_id == profile_id)
            return list(session.scalars(query))

    def prepare_dub(self, project: Project, language: str, voice: str, progress: Progress = no_progress,
                    timed: Callable[[str, Callable], object] | None = None, by: str = SYSTEM) -> DubReport:
        """Every stage up to review: script, translation, every uncast speaker cast to `voice`, speech,
        fit and QC. Approval stays with a person. Run again, it redoes only what changed, and the
        decisions on unchanged lines stand. `timed(stage, run)` may wrap each stage (benchmarks)."""
        timed = timed or (lambda stage, run: run())
        script = timed("script", lambda: self.script(project, progress))
        timed("translate", lambda: self.translate(project, language, by))
        cast = castings(self.sessions, project, language)
        timed("cast", lambda: [self.cast(project, speaker, language, voice, by) for speaker in script.speakers
                               if speaker not in cast])
        _, refused = timed("synthesize", lambda: self.synthesize_language(project, language, progress, by=by))
        timed("fit", lambda: self.fit(project, language, progress))
        return DubReport(timed("qc", lambda: self.qc(project, language, progress)), refused)

    # mixdown and delivery ----------------------------------------------------------------------

    def approvals(self, project: Project, language: str) -> dict[str, Review]:
        """Each line whose current clip's latest decision is an approval, with that decision."""
        clips = {clip.id: line_id for line_id, clip in self.current_clips(project, language).items()}
        with self.sessions() as session:
            latest = {}
            for review in session.scalars(select(Review).where(Review.clip_id.in_(clips)).order_by(Review.id)):
                latest[clips[review.clip_id]] = review
        return {line_id: review for line_id, review in latest.items() if review.decision == "approved"}

    def deliver(self, project: Project, language: str, out: Path, background: Path | None = None,
                progress: Progress = no_progress, by: str = SYSTEM) -> Path:
        """Mix the approved lines and write the labelled, signed delivery package (see export.delivery).

        Refused, saying why, while any line is not approved, when a line's consent has been revoked or
        has lapsed, when a commercial project holds a line from non-commercial weights, and when any
        take's seals or fitted file do not check out (see takes.py)."""
        script, clips = self.script(project), self.current_clips(project, language)
        approvals = self.approvals(project, language)
        _refuse_unready(script, clips, approvals, language)
        _refuse_running_into_own_lines(script, clips)
        self._refuse_consent_and_licence(project, language, clips)
        self._refuse_unsealed(project, clips)
        progress("mix")
        delivered = [self._delivered_line(project, line, clips[line.id], approvals[line.id]) for line in script.lines]
        spans = [(d.start, d.start + len(d.audio) / MIX_RATE) for d in delivered]
        samples = int(round(script.duration * MIX_RATE))
        if background is None:
            bed, kind = decode_audio(self.original(project), MIX_RATE, 2), "background"
        else:
            bed, kind = decode_audio(Path(background), MIX_RATE, 2), "M&E"
        bed = np.pad(bed, ((0, max(0, samples - len(bed))), (0, 0)))[:samples].astype(np.float64)
        watermarker = Watermarker.find(self.settings)
        mark = None if watermarker is None else lambda signals: watermarker.embed_many([(s, MIX_RATE) for s in signals])
        mix = mixdown([PlacedLine(d.line.id, d.start, d.audio) for d in delivered], bed, spans, ducked=background is None,
                      mark=mark)
        # the line clips go out as mixed, watermarked where the mix was
        delivered = [DeliveredLine(d.line, d.text, d.start, placed.audio, d.provenance)
                     for d, placed in zip(delivered, mix.lines, strict=True)]
        progress("deliver")
        request = DeliveryRequest(project.name, language, script, delivered, mix, kind, self.original(project),
                                  self.media(project).has_video, self.settings.script.frame_rate,
                                  self._consents(clips), self.signing_identity(),
                                  watermarker.identity if watermarker else None)
        folder = write_delivery(request, Path(out))
        with self.sessions() as session:
            for clip in clips.values():
                session.get(Clip, clip.id).status = "mixed"
            audit(session, by, "delivered", project.id, language=language, folder=str(folder), lines=len(delivered))
            session.commit()
        return folder

    def verify(self, target: Path, trust: Path | None = None) -> list[Finding]:
        """Findings on a delivered file or package (see verify.Verifier)."""
        root = Path(trust).read_bytes() if trust else self.signing_identity().root.read_bytes()
        return Verifier(self.registry, root, Watermarker.find(self.settings)).verify(Path(target))

    def signing_identity(self) -> SigningIdentity:
        """The studio's signing certificate: the one in `export.signing_folder`, else a local CA made once."""
        folder = self.settings.export.signing_folder or self.settings.home / "signing"
        return make_project_ca(folder, "dubdesk studio")

    def _refuse_unsealed(self, project: Project, clips: dict[str, Clip]) -> None:
        """Every take exactly as dubdesk made it: clip, fit, fitted file, verdicts and approval."""
        problems = []
        with self.sessions() as session:
            for clip in clips.values():
                try:
                    check_take(self.seal, clip, qc_results(session, clip.id), decisions(session, clip.id),
                               self.folder(project))
                except TamperedError as error:
                    problems.append(str(error))
        if problems:
            raise TamperedError(f"mix refused: {len(problems)} line(s) do not check out: " + "; ".join(problems[:8])
                                + (f"; and {len(problems) - 8} more" if len(problems) > 8 else ""))

    def _refuse_consent_and_licence(self, project: Project, language: str, clips: dict[str, Clip]) -> None:
        today = date.today()
        for profile in sorted({clip.profile_id for clip in clips.values()}):
            lines = sorted(line_id for line_id, clip in clips.items() if clip.profile_id == profile)
            history = self.registry.history(profile)
            unknown = sorted(line_id for line_id in lines if clips[line_id].consent_record not in {r.hash for r in history})
            if unknown:
                raise ConsentError(f"mix refused: {len(unknown)} line(s) ({_listed(unknown)}) name a consent record "
                                   f"that voice '{profile}' never had")
            uses = {clip.settings.get("use", "dubbing") for clip in clips.values() if clip.profile_id == profile}
            for use in uses:
                refusal = consent_refusal(history[-1], language, project.name, use, today)
                if refusal:
                    raise ConsentError(f"mix refused: {len(lines)} line(s) in voice '{profile}' ({_listed(lines)}): {refusal}")
        if project.commercial:
            barred = sorted(line_id for line_id, clip in clips.items() if clip.engine["engine"] in NON_COMMERCIAL_LICENCES)
            if barred:
                engine = clips[barred[0]].engine
                raise ProjectError(f"mix refused: project '{project.name}' is commercial and {len(barred)} line(s) "
                                   f"({_listed(barred)}) come from {engine['engine']}, whose weights licence forbids "
                                   f"commercial use: {engine['weights_licence']}")

    def _delivered_line(self, project: Project, line: Line, clip: Clip, approval: Review) -> DeliveredLine:
        audio, rate = sf.read(self.folder(project) / clip.fit["path"], dtype="float32")
        with self.sessions() as session:
            verdicts = {r.check: r.verdict for r in qc_results(session, clip.id)}
        provenance = {
            "line": line.id, "speaker": line.speaker, "start": round(clip.fit["start"], 3),
            "source_text": line.text, "text": clip.text, "voice_profile": clip.profile_id,
            "consent_record": clip.consent_record, "use": clip.settings.get("use", "dubbing"), "model": clip.engine,
            "generated_at": clip.created_at.isoformat(),
            "clip_sha256": clip.sha256, "fit_rate": round(clip.fit["rate"], 3), "qc": verdicts,
            "approved_by": approval.reviewer, "approved_at": approval.created_at.isoformat(),
            "override_reason": approval.override_reason,
        }
        return DeliveredLine(line, clip.text, clip.fit["start"], resample(audio, rate, MIX_RATE), provenance)

    def _consents(self, clips: dict[str, Clip]) -> list[dict]:
        """Each consent record a delivered line was generated under."""
        used = sorted({(clip.profile_id, clip.consent_record) for clip in clips.values()})
        records = {}
        for profile, _ in used:
            records.update({record.hash: record for record in self.registry.history(profile)})
        return [{"profile": profile, "record": record_hash, "actor": records[record_hash].actor,
                 "terms": records[record_hash].to_json()["terms"]} for profile, record_hash in used]


@dataclass(frozen=True)
class DubReport:
    """What `prepare_dub` left for review: each line's verdicts, and each line not spoken, with why."""

    results: dict[str, list[CheckResult]]
    refused: dict[str, str]


def _fit_stands(clip: Clip, folder: Path, line: Line, slot: float, bounds: tuple[float, float]) -> bool:
    """The clip's sealed fit is for this slot and these bounds, and its fitted file is intact."""
    fit = clip.fit
    if not fit or not clip.fit_seal:
        return False
    same = (fit["start"], fit["source_s"], fit["slot_s"], tuple(fit["bounds"])) == (line.start, line.duration, slot, bounds)
    fitted = folder / fit["path"]
    return same and fitted.is_file() and sha256_file(fitted) == fit["sha256"]


def _listed(ids: list[str], most: int = 8) -> str:
    return ", ".join(ids[:most]) + (f" and {len(ids) - most} more" if len(ids) > most else "")


def _refuse_unready(script: Script, clips: dict[str, Clip], approvals: dict, language: str) -> None:
    """Mixing needs every line approved; say which are not and why."""
    missing = [line.id for line in script.lines if line.id not in clips]
    blocked = sorted(line_id for line_id, clip in clips.items() if clip.status == "blocked")
    pending = [line.id for line in script.lines if line.id in clips and line.id not in approvals]
    problems = [f"{len(ids)} line(s) {what}: {_listed(ids)}" for ids, what in (
        (missing, f"have no {language} clip"), (blocked, "are blocked (consent revoked)"), (pending, "are not approved"))
        if ids]
    if problems:
        raise ProjectError("mix refused: " + "; ".join(problems))


def _next_own_lines(script: Script) -> list[tuple[Line, Line]]:
    """Each line with the same speaker's next line (lines a speaker says last are left out)."""
    following: dict[str, Line] = {}
    pairs = []
    for line in sorted(script.lines, key=lambda line: line.start, reverse=True):
        if line.speaker in following:
            pairs.append((line, following[line.speaker]))
        following[line.speaker] = line
    return pairs[::-1]


def _refuse_running_into_own_lines(script: Script, clips: dict[str, Clip]) -> None:
    """One voice cannot say two lines at once: a fitted dub line (an approved override of one that does
    not fit, say) that would still be heard when its speaker's next line starts stops the mix; say which."""
    overruns = []
    for line, after in _next_own_lines(script):
        fit = clips[line.id].fit or {"start": line.start, "fitted_s": 0.0}
        end = fit["start"] + fit["fitted_s"]
        if end > after.start + OWN_OVERLAP_TOLERANCE_S:
            overruns.append(f"{line.id} into {after.id} by {end - after.start:.2f} s")
    if overruns:
        raise ProjectError(f"mix refused: {len(overruns)} line(s) would run into the same speaker's next line "
                           f"({_listed(overruns)}); shorten their text and speak them again, or reject them")


def transcribe_file(settings: Settings, source: Path, out: Path, progress: Progress = no_progress) -> list[Path]:
    """The scripted form: a source file in, script.json / script.srt / speakers.rttm (and more) out."""
    workbench = Workbench(settings)
    progress("ingest")
    project = workbench.project_for_source(source)
    workbench.script(project, progress)
    progress("export")
    return workbench.export(project, out)

