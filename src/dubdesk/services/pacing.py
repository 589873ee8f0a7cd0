"""Pacing: the length each dub line aims at (qc.timing.timed_length), worked out alike for speech (the
pace the engine is asked for) and for fit (the stretch that corrects what is left), so both aim at the
same length: the source line's, moved toward the source's tempo where the dub's would cross its limit."""
from __future__ import annotations

from dataclasses import dataclass

from ..activity import FRAME_S, speech_frames
from ..config import QCSettings
from ..context import Context
from ..core import Line, Script
from ..phonemes import syllable_counts
from ..qc.timing import WINDOW_MARGIN_S, line_window, tempo_of, timed_length, vad_stretch
from ..store import Project
from ..translate import slot_durations
from .projects import source_audio
from .scripting import face_track

SPEECH_MEASURE = "speech_frames in the timing window, espeak-ng syllables 1"  # a stage input: how a source line is measured


@dataclass(frozen=True)
class LineAim:
    """What one dub line aims at, once the share of its sound that is speech is known (fit.speech_share)."""

    source_s: float
    slot_s: float
    source_speech_s: float  # the seconds the source speaks in its line, pauses left out
    syllables: tuple[int, int]  # the source line's and the dub's
    languages: tuple[str, str]
    limits: QCSettings
    on_screen: bool  # the picture shows the speaker's face: lip-sync bounds and limits

    def length(self, dub_speech_share: float) -> float:
        """Seconds the dub should last (see qc.timing.timed_length)."""
        if not min(self.syllables) or dub_speech_share <= 0 or self.source_speech_s <= 0:
            return self.source_s
        tempo = tempo_of(self.syllables, (self.source_speech_s, dub_speech_share * self.source_s), self.languages)
        return timed_length(self.source_s, self.slot_s, self.syllables, tempo, self.limits, self.on_screen)


def line_aims(ctx: Context, project: Project, script: Script, texts: dict[str, str], language: str) -> dict[str, LineAim]:
    """What each line of `texts` (line id -> the dub's text in `language`) aims at."""
    lines = [(line, slot) for line, slot in zip(script.lines, slot_durations(script)) if line.id in texts]
    faces = face_track(ctx, project)
    source = source_speech(ctx, project, [line for line, _ in lines], script.language)
    said = syllable_counts([texts[line.id] for line, _ in lines], language)
    return {line.id: LineAim(line.duration, slot, source[line.id][0], (source[line.id][1], dub_syllables),
                             (script.language, language), ctx.settings.qc,
                             faces is not None and faces.on_screen(line.start, line.end))  # audio alone: no lips
            for (line, slot), dub_syllables in zip(lines, said)}


def source_speech(ctx: Context, project: Project, lines: list[Line], language: str) -> dict[str, tuple[float, int]]:
    """Each of these source lines' seconds of speech, its pauses left out, as timing QC hears them (its
    window, its VAD stretch), and its syllables; measured once for the same lines: a dub keeps the
    source's speech rate, not its length's. A line spoken again alone is measured alone, not with the
    whole script."""
    inputs = {"source": project.source_sha256, "lines": [[line.id, line.start, line.end, line.text] for line in lines],
              "language": language, "measure": SPEECH_MEASURE}

    def measured(line: Line) -> float:
        begin, end = vad_stretch(line)
        frames = speech_frames(source_audio(ctx, project, begin, end))
        window = line_window(frames, line.start - begin, line.duration, int((line.duration + 2 * WINDOW_MARGIN_S) / FRAME_S))
        return round(float(window.sum()) * FRAME_S, 3)

    def compute():
        syllables = syllable_counts([line.text for line in lines], language)
        return {line.id: [measured(line), count] for line, count in zip(lines, syllables)}, None

    return {line_id: (speech_s, syllables) for line_id, (speech_s, syllables)
            in ctx.run_stage(project, "source-speech", inputs, compute).load().items()}
