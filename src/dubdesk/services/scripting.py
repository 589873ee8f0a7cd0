"""The script: transcription, diarization and the lines built from them, each a cached stage, with a
person's edits of the lines applied on top (services.lines), and the script files a studio uses.
Also the face track of a video source, which later stages read."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ..activity import WORD_EDGES
from ..audio import RATE
from ..context import Context, Progress, no_progress
from ..core import Script, Transcript, Turn, Word
from ..engines import EngineIdentity
from ..errors import BadInputError
from ..export.script_files import SCRIPT_FORMATS, export_script
from ..faces import WORKER as FACE_WORKER
from ..faces import FaceTrack, track_faces
from ..files import sha256_file
from ..script import MIN_LINE_S, build_script
from ..script_edits import EditedScript, apply_edits
from ..stages import StageResult, package_version
from ..store import Project
from ..store.script_edits import recorded_edits
from ..transcribe.chunking import chunk_bounds
from .projects import media, original, project_for_source, source_audio


class WorkingAudio:
    """The programme's 16 kHz working audio, read when first asked for and then shared (an hour is 230 MB:
    the recogniser and the diarizer, working at once, each held a copy of their own)."""

    def __init__(self, ctx: Context, project: Project) -> None:
        self._ctx, self._project = ctx, project
        self._audio: np.ndarray | None = None
        self._lock = threading.Lock()

    def __call__(self) -> np.ndarray:
        with self._lock:
            if self._audio is None:
                self._audio = source_audio(self._ctx, self._project)
            return self._audio


def transcribe(ctx: Context, project: Project, progress: Progress = no_progress,
               audio: WorkingAudio | None = None) -> tuple[Transcript, StageResult]:
    """Words of the whole programme, transcribed chunk by chunk so a killed run resumes mid-way."""
    config, base = ctx.settings.transcribe, _transcribe_inputs(ctx, project)
    read = audio or WorkingAudio(ctx, project)

    def compute():
        audio = read()
        language, parts = config.language, []
        bounds = chunk_bounds(audio, RATE, config.chunk_s)
        for index, (begin, end) in enumerate(bounds):
            progress("transcribe", index, len(bounds))
            chunk = ctx.run_stage(project, "transcribe-chunk", {**base, "samples": [begin, end], "language": language},
                                  lambda b=begin, e=end, lang=language: _transcribe_samples(ctx, audio[b:e], lang))
            parts.append((begin / RATE, Transcript.from_json(chunk.load())))
            language = language or parts[0][1].language  # later chunks keep the language heard first
        first = parts[0][1]
        words = tuple(Word(w.text, w.start + offset, w.end + offset, w.confidence)
                      for offset, part in parts for w in part.words)
        return Transcript(first.language, first.language_probability, words).to_json(), chunk.engine

    result = ctx.run_stage(project, "transcribe", base, compute)
    return Transcript.from_json(result.load()), result


def _transcribe_samples(ctx: Context, audio: np.ndarray, language: str | None) -> tuple[dict, EngineIdentity]:
    from ..transcribe import get_transcriber

    transcriber = get_transcriber(ctx.settings)
    return transcriber.transcribe(audio, language).to_json(), transcriber.identity


def _transcribe_inputs(ctx: Context, project: Project) -> dict:
    config = ctx.settings.transcribe
    return {"source": project.source_sha256, "settings": config.shaping_words(),
            "engine_version": package_version(config.engine), "word_edges": WORD_EDGES}


def _diarize_inputs(ctx: Context, project: Project) -> dict:
    return {"source": project.source_sha256, "settings": ctx.settings.diarize.model_dump(),
            "engine_version": package_version("dubdesk")}


def diarize(ctx: Context, project: Project, audio: WorkingAudio | None = None) -> tuple[list[Turn], StageResult]:
    config, inputs = ctx.settings.diarize, _diarize_inputs(ctx, project)
    read = audio or WorkingAudio(ctx, project)

    def compute():
        from ..diarize import get_diarizer

        diarizer = get_diarizer(ctx.settings)
        turns = diarizer.diarize(read(), config.num_speakers, config.min_speakers, config.max_speakers)
        return [[t.start, t.end, t.speaker] for t in turns], diarizer.identity

    result = ctx.run_stage(project, "diarize", inputs, compute)
    return [Turn(*row) for row in result.load()], result


def import_transcript(ctx: Context, project: Project, transcript: Transcript, turns: list[Turn], origin: str) -> Script:
    """Use a transcript and speaker turns made elsewhere (a studio's own, or a generated load test)
    in place of recognition and diarization; the script is built from them as usual."""
    imported = EngineIdentity("import", origin, "-", package_version("dubdesk"))
    ctx.run_stage(project, "transcribe", _transcribe_inputs(ctx, project), lambda: (transcript.to_json(), imported))
    ctx.run_stage(project, "diarize", _diarize_inputs(ctx, project),
                  lambda: ([[t.start, t.end, t.speaker] for t in turns], imported))
    return script(ctx, project)


def script(ctx: Context, project: Project, progress: Progress = no_progress) -> Script:
    """The script a dub follows: the machine's (transcribed, diarized and built, each step reused when
    unchanged) with a person's edits on top (see edited_script)."""
    return edited_script(ctx, project, progress).script


def edited_script(ctx: Context, project: Project, progress: Progress = no_progress) -> EditedScript:
    """The machine's script with the project's hand edits (split, merged, retimed, moved lines: see
    services.lines) applied in the order made, so they survive every rebuild; and the edits that no
    longer apply to the rebuilt script, each with why, to be reported rather than lost."""
    machine = machine_script(ctx, project, progress)
    with ctx.sessions() as session:
        edits = recorded_edits(session, project.id)
    return apply_edits(machine, edits)


def machine_script(ctx: Context, project: Project, progress: Progress = no_progress) -> Script:
    """Transcribe, diarize and build the script, each step reused when unchanged: no person's edits.
    The diarizer works while the recogniser does (loading one overlaps the other's work); they read the
    programme's audio once between them."""
    audio = WorkingAudio(ctx, project)
    with ThreadPoolExecutor(1, thread_name_prefix="diarize") as background:
        diarizing = background.submit(diarize, ctx, project, audio)
        progress("transcribe")
        transcript, transcribed = transcribe(ctx, project, progress, audio)
        if not transcript.words:
            raise BadInputError(project.source_name, "no speech found: the recogniser heard no words (a tone, music "
                                                     "or silence?), so there is nothing to script or dub")
        progress("diarize")
        turns, diarized = diarizing.result()
    progress("script")
    inputs = {"transcript": transcribed.sha256, "turns": diarized.sha256,
              "settings": ctx.settings.script.model_dump(), "min_line_s": MIN_LINE_S}
    duration = media(project).duration_s

    def compute():
        return build_script(transcript, turns, duration, ctx.settings.script).to_json(), None

    return Script.from_json(ctx.run_stage(project, "script", inputs, compute).load())


def face_track(ctx: Context, project: Project) -> FaceTrack | None:
    """Mouth opening per frame of a video source (None for audio alone), tracked once."""
    if not media(project).has_video:
        return None
    inputs = {"source": project.source_sha256, "worker": sha256_file(FACE_WORKER)}

    def compute():
        track, identity = track_faces(original(ctx, project), ctx.settings.faces.python)
        return track.to_json(), identity

    return FaceTrack.from_json(ctx.run_stage(project, "faces", inputs, compute).load())


def export(ctx: Context, project: Project, out: Path, formats: tuple[str, ...] | None = None) -> list[Path]:
    """The script as the files a studio uses (script.json, SRT, RTTM and more)."""
    file_id = Path(project.source_name).stem
    return export_script(script(ctx, project), Path(out), file_id, ctx.settings.script.frame_rate,
                         formats or SCRIPT_FORMATS)


def transcribe_file(ctx: Context, source: Path, out: Path, progress: Progress = no_progress) -> list[Path]:
    """The scripted form: a source file in, script.json / script.srt / speakers.rttm (and more) out."""
    progress("ingest")
    project = project_for_source(ctx, source)
    script(ctx, project, progress)
    progress("export")
    return export(ctx, project, out)
