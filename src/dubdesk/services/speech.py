"""Speech: each translated, cast line spoken in its consented voice (through synth, the one path to
a voice), a voice's consent withdrawn, and the takes made so far."""
from __future__ import annotations

import tempfile
from pathlib import Path

import soundfile as sf
from sqlalchemy import select

from ..audio import RATE
from ..context import SYSTEM, Context, Progress, no_progress
from ..core import Line, Script
from ..files import sha256_file
from ..praat import PROSODY_MEASURE, run_praat
from ..qc.emotion import speaker_baselines
from ..store import Project
from ..store.audit import audit
from ..store.models import Clip, LineTranslation
from ..store.takes import newest_clips
from ..synth import revoke_voice as block_voice
from ..synth import synthesize_line
from ..synth.prosody import SourceDelivery, SpeakerHabit
from ..translate.edits import TextEdit
from ..voices.registry import ConsentError
from .casting import castings
from .pacing import LineAim, line_aims
from .projects import source_audio
from .scripting import script as script_of
from .translation import translations


def synthesize_language(ctx: Context, project: Project, language: str, progress: Progress = no_progress,
                        use: str = "dubbing", by: str = SYSTEM) -> tuple[list[Clip], dict[str, str]]:
    """Every translated, cast line spoken, except lines whose current take already says the same
    in the same voice (so their decisions stand); returns the new clips and, per line not
    spoken, why."""
    script, cast = script_of(ctx, project), castings(ctx, project, language)
    texts, current = translations(ctx, project, language), current_clips(ctx, project, language)
    habits = speaker_habits(ctx, project, script) if ctx.settings.prosody.carry else {}
    aims = line_aims(ctx, project, script, {line_id: row.text for line_id, row in texts.items()}, language)
    clips, refused = [], {}
    for index, line in enumerate(script.lines):
        progress("synthesize", index, len(script.lines))
        if line.speaker not in cast or line.id not in texts or _unwritten(texts[line.id]):
            refused[line.id] = "speaker not cast" if line.speaker not in cast else \
                "no translation" if line.id not in texts else "no text yet: a person writes it"
            continue
        take = current.get(line.id)
        if take is not None and (take.text, take.profile_id, take.settings.get("use")) == (
                texts[line.id].text, cast[line.speaker], use):
            if take.status == "blocked":
                refused[line.id] = take.blocked_reason or "blocked"
            continue
        try:
            clips.append(_speak(ctx, project, line.id, line, aims[line.id], habits, texts[line.id].text, language,
                                cast[line.speaker], use))
        except ConsentError as error:
            refused[line.id] = str(error)
    if clips or refused:
        with ctx.sessions() as session:
            audit(session, by, "lines synthesized", project.id, language=language, spoken=len(clips), refused=len(refused))
            session.commit()
    return clips, refused


def _unwritten(row: LineTranslation) -> bool:
    """A line opened for a person to write who has not yet (a machine's empty line is said as silence)."""
    return row.origin == "human" and not row.text


def synthesize(ctx: Context, project: Project, line_id: str, text: str, language: str, profile_id: str,
               use: str = "dubbing", edit: TextEdit | None = None, by: str | None = None) -> Clip:
    """One line spoken (see synth.synthesize_line), paced toward the length it aims at (pacing.py) and its
    prosody carried toward the source line's; with `edit`, the text is saved with the take. A take
    under an id the script does not hold (a voice trial) is spoken at the engine's own pace and delivery."""
    script = script_of(ctx, project)
    line = next((line for line in script.lines if line.id == line_id), None)
    habits = speaker_habits(ctx, project, script) if line and ctx.settings.prosody.carry else {}
    aim = line_aims(ctx, project, script, {line_id: text}, language)[line_id] if line else None
    return _speak(ctx, project, line_id, line, aim, habits, text, language, profile_id, use, edit, by)


def _speak(ctx: Context, project: Project, line_id: str, line: Line | None, aim: LineAim | None,
           habits: dict[str, SpeakerHabit], text: str, language: str, profile_id: str, use: str = "dubbing",
           edit: TextEdit | None = None, by: str | None = None) -> Clip:
    source = None
    if line is not None and ctx.settings.prosody.carry:
        source = SourceDelivery(source_audio(ctx, project, line.start, line.end), RATE, habits.get(line.speaker))
    return synthesize_line(ctx.sessions, ctx.registry, project, ctx.folder(project), line_id, text, language,
                           profile_id, ctx.settings, use, edit, by, aim=aim.length if aim else None,
                           source=source)


def speaker_habits(ctx: Context, project: Project, script: Script) -> dict[str, SpeakerHabit]:
    """Each source speaker's habitual pitch and level over the programme, taken as the emotion check takes
    it (the median over their fully measured lines), so a dub line moves by its source line's offset from
    it; measured once per script. A speaker with no fully measured line is left out."""
    inputs = {"source": project.source_sha256, "lines": [[line.id, line.speaker, line.start, line.end]
                                                         for line in script.lines],
              "measure": sha256_file(PROSODY_MEASURE)}

    def compute():
        with tempfile.TemporaryDirectory(prefix="dubdesk-habits-") as folder:
            segments = []
            for line in script.lines:
                path = Path(folder) / f"{line.id}.wav"
                sf.write(path, source_audio(ctx, project, line.start, line.end), RATE, subtype="FLOAT")
                segments.append({"path": str(path)})
            profiles = dict(zip([line.id for line in script.lines], run_praat("prosody", segments=segments)))
        baselines = speaker_baselines(profiles, {line.id: line.speaker for line in script.lines})
        return {speaker: {"pitch_median_st": base["pitch_median_st"], "loudness_db": base["loudness_db"]}
                for speaker, base in baselines.items()}, None

    found = ctx.run_stage(project, "speaker-habits", inputs, compute).load()
    return {speaker: SpeakerHabit(**habit) for speaker, habit in found.items()}


def revoke_voice(ctx: Context, profile_id: str, reason: str, *, by: str) -> int:
    """Withdraw a voice's consent now; returns how many unmixed takes in it were blocked."""
    return block_voice(ctx.sessions, ctx.registry, profile_id, reason, by=by)


def current_clips(ctx: Context, project: Project, language: str) -> dict[str, Clip]:
    """Each line's newest clip in `language`: the line version under review."""
    with ctx.sessions() as session:
        return newest_clips(session, project.id, language)


def current_clip(ctx: Context, project: Project, language: str, line_id: str) -> Clip | None:
    """One line's newest clip in `language`, read alone (a decision on one line reads no other); as
    store.takes.newest_clips, never one a script edit retired."""
    with ctx.sessions() as session:
        return session.scalars(select(Clip).where(Clip.project_id == project.id, Clip.language == language,
                                                  Clip.line_id == line_id, Clip.retired_by.is_(None))
                               .order_by(Clip.id.desc()).limit(1)).first()


def clips(ctx: Context, project: Project | None = None, profile_id: str | None = None) -> list[Clip]:
    """Every take, of one project or in one voice, oldest first."""
    with ctx.sessions() as session:
        query = select(Clip).order_by(Clip.id)
        if project is not None:
            query = query.where(Clip.project_id == project.id)
        if profile_id is not None:
            query = query.where(Clip.profile_id == profile_id)
        return list(session.scalars(query))
