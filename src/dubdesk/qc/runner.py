"""Runs every check on each line's current, fitted clip, and stores the verdicts per clip (line version)."""
from __future__ import annotations

import tempfile
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from sqlalchemy import delete

from ..activity import FRAME_S, speech_frames
from ..audio import RATE, resample
from ..config import Settings
from ..core import Fit, Line, Script, Word
from ..faces import FaceTrack
from ..mix import PlacedLine, place_lines
from ..phonemes import ESPEAK_VOICES, syllable_counts, words_phonemes
from ..praat import run_praat
from ..script import join_words
from ..seal import Seal
from ..store.models import Clip, QCResult
from ..takes import verdicts_body
from ..transcribe import get_transcriber
from ..translate import TranslatedLine
from ..voices.embedding import files_embedding, mean_embedding, voice_encoder
from . import CheckResult, grade
from .emotion import describe_drift, emotion_distance, relative_to, speaker_baselines
from .intelligibility import intelligibility_check, packs, transcribe_lines
from .labials import BandLevel, closures_from_words, fitted_closures, labial_check
from .lipsync import MouthTrack, SpeechLevel, av_sync_check
from .technical import technical_check
from .timing import timing_check, vad_stretch
from .translation import translation_check
from .voice import voice_check


@dataclass(frozen=True)
class SourceReading:
    speech: np.ndarray  # the programme's speech frames around the checked lines
    bands: dict[str, BandLevel]  # each line's band level, for its lip closures
    excerpts: dict[str, Path]  # each line's stretch as a WAV file, for Praat


@dataclass(frozen=True)
class DubReading:
    """What QC keeps of one fitted dub once read: its technical verdict, speech frames, voice embedding
    (None where no speech is heard: a line left unsaid has no voice to judge), 1-4 kHz level (for lip
    closures from the words heard) and, where its engine reported phoneme times, the lip closures they give."""

    technical: CheckResult
    speech: np.ndarray
    embedding: np.ndarray | None
    band: BandLevel
    engine_closures: list[float] | None


@dataclass(frozen=True)
class TakeReading:
    """What QC read of one take that later checks of other lines compare with, stored with its verdicts and
    sealed with them: the dub's voice embedding (None where nothing is heard) and the prosody of the source
    line and of the dub (a feature Praat could not measure is NaN)."""

    embedding: np.ndarray | None
    source: dict[str, float]
    dub: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        return {"embedding": None if self.embedding is None else [round(float(v), 6) for v in self.embedding],
                "source": _finite_or_none(self.source), "dub": _finite_or_none(self.dub)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TakeReading:
        embedding = None if data["embedding"] is None else np.asarray(data["embedding"], dtype=np.float32)
        return cls(embedding, *({name: np.nan if value is None else value for name, value in data[side].items()}
                                for side in ("source", "dub")))


@dataclass(frozen=True)
class CheckedTake:
    """One take's verdicts, and what QC read of it."""

    verdicts: list[CheckResult]
    reading: TakeReading


def _finite_or_none(profile: dict[str, float]) -> dict[str, float | None]:
    return {name: float(value) if np.isfinite(value) else None for name, value in profile.items()}


SourceAudio = Callable[[float, float | None], np.ndarray]  # (start s, end s or None) -> 16 kHz mono samples


class LineQC:
    """One project language's QC over some of its takes: each source stretch and fitted dub is read once, as the
    checks reach it, so memory follows a transcription window, not the programme.

    `source` reads the programme's working audio; `references` are each cast profile's consented
    reference recordings (none for a stock voice); `machine`, per line, its machine translation's
    flags (untranslated words, fillers left out); `others`, the language's other current takes, checked
    before: their readings join this run's where a check compares a line with the rest of its speaker's or
    voice's lines (emotion baselines, a stock voice's other lines), so a line checked alone after an edit
    is judged against the same lines as in a run over the whole script."""

    def __init__(self, settings: Settings, folder: Path, script: Script, language: str, clips: dict[str, Clip],
                 faces: FaceTrack | None, source: SourceAudio, references: dict[str, list[Path]],
                 machine: dict[str, TranslatedLine], others: dict[str, tuple[str, TakeReading]]) -> None:
        self.engine_settings, self.settings = settings, settings.qc  # engines are picked from the whole settings
        self.folder, self.script, self.language, self.clips = folder, script, language, clips
        self.source, self.references, self.faces, self.machine = source, references, faces, machine
        self.lines = {line.id: line for line in script.lines if line.id in clips}
        self.others = {line_id: other for line_id, other in others.items() if line_id not in clips}
        self.without_phonemes = [lang for lang in (script.language, language) if lang not in ESPEAK_VOICES]

    def run(self, progress) -> dict[str, CheckedTake]:
        transcriber = get_transcriber(self.engine_settings)
        with tempfile.TemporaryDirectory(prefix="dubdesk-qc-") as folder, ThreadPoolExecutor(2) as meanwhile:
            encoder = meanwhile.submit(voice_encoder)  # it loads while the first window is transcribed
            source = self._read_source(Path(folder))
            measuring = meanwhile.submit(self._prosody, source.excerpts)  # Praat's process works meanwhile
            dubs, heard = self._read_dubs(encoder, transcriber, meanwhile)
            source_prosody, dub_prosody = measuring.result()
        readings = {line_id: TakeReading(dubs[line_id].embedding, source_prosody[line_id], dub_prosody[line_id])
                    for line_id in self.lines}
        emotion = self._emotion(readings)
        embeddings = {line_id: dub.embedding for line_id, dub in dubs.items()}
        voiced = self._voiced(embeddings)
        voices, referenced = self._voice_embeddings(voiced)
        closures = self._closures(source.bands, heard, dubs)
        av_sync = self._av_sync()
        syllables = dict(zip(self.lines, zip(
            syllable_counts([line.text for line in self.lines.values()], self.script.language),
            syllable_counts([self.clips[line_id].text for line_id in self.lines], self.language))))
        results = {}
        for index, (line_id, line) in enumerate(self.lines.items()):
            progress("qc", index, len(self.lines))
            clip, dub = self.clips[line_id], dubs[line_id]
            fit = clip.fitted
            results[line_id] = [
                translation_check(self.machine.get(line_id), clip.text),
                dub.technical,
                intelligibility_check(join_words(heard[line_id], self.language), clip.text, self.language, self.settings),
                timing_check(source.speech, dub.speech, line, fit, syllables[line_id],
                             (self.script.language, self.language), self.settings, fit.on_screen),
                av_sync(line),
                labial_check(*closures[line_id], self._unjudged(fit), self.settings),
                emotion[line_id],
                self._voice(line_id, clip.profile_id, voices, referenced, embeddings[line_id], voiced),
            ]
        return {line_id: CheckedTake(verdicts, readings[line_id]) for line_id, verdicts in results.items()}

    def _read_dubs(self, encoder: Future, transcriber, meanwhile: ThreadPoolExecutor
                   ) -> tuple[dict[str, DubReading], dict[str, list[Word]]]:
        """Each fitted dub read once, one transcription window of lines at a time, keeping only what the
        checks need of it, and the words heard in each: an hour's QC holds a few windows' audio, not the hour's.
        As many windows are transcribed at once as the recogniser runs at once; a window's voice embeddings
        are taken beside its transcription."""
        readings, heard = {}, {}
        seconds = {line_id: sf.info(self.folder / self.clips[line_id].fitted.path).duration for line_id in self.lines}
        in_flight: deque[tuple[dict[str, DubReading], Future, Future]] = deque()

        def finish_oldest() -> None:
            read, embedding, transcription = in_flight.popleft()
            heard.update(transcription.result())
            embeddings = embedding.result()
            readings.update({line_id: replace(reading, embedding=embeddings.get(line_id))
                             for line_id, reading in read.items()})

        with ThreadPoolExecutor(transcriber.at_once) as transcribing:
            for window in packs(seconds):
                speech16k, read = self._read_window(window)
                spoken = {line_id: speech16k[line_id] for line_id, reading in read.items() if reading.speech.any()}
                in_flight.append((read, meanwhile.submit(_embeddings, encoder, spoken),
                                  transcribing.submit(transcribe_lines, speech16k, self.language, transcriber)))
                if len(in_flight) > transcriber.at_once:
                    finish_oldest()
            while in_flight:
                finish_oldest()
        return readings, heard

    def _read_window(self, window: list[str]) -> tuple[dict[str, np.ndarray], dict[str, DubReading]]:
        """A window's dubs at 16 kHz, and what QC keeps of each but its voice embedding (taken later)."""
        speech16k, read = {}, {}
        for line_id in window:
            clip = self.clips[line_id]
            audio, rate = sf.read(self.folder / clip.fitted.path, dtype="float32")
            raw, raw_rate = sf.read(self.folder / clip.path, dtype="float32")
            speech16k[line_id] = speech = resample(audio, rate, RATE)
            engine_closures = (fitted_closures(clip.settings["phonemes"], raw, raw_rate, clip.fitted.rate)
                               if clip.settings.get("phonemes") else None)
            read[line_id] = DubReading(technical_check(audio, rate, raw, self.settings), speech_frames(speech), None,
                                       BandLevel.of(speech), engine_closures)
        return speech16k, read

    def _read_source(self, folder: Path) -> SourceReading:
        """Each checked line's stretch of the source (the line with margins), read once: its speech frames
        (placed in the programme), its band level, and the line itself as a file for Praat. The frames of
        every script line whose stretch overlaps a checked one's are read too, and joined, as a check of the
        whole script reads them: a line's timing verdict does not depend on which lines are checked with it."""
        frames = np.zeros(int(np.ceil(self.script.duration / FRAME_S)) + 1, dtype=bool)
        bands, excerpts = {}, {}
        for line in self._with_neighbours():
            start, end = vad_stretch(line)
            audio = self.source(start, end)
            found = speech_frames(audio)
            first = int(round(start / FRAME_S))
            frames[first:first + len(found)] |= found[:len(frames) - first]
            if line.id in self.lines:
                bands[line.id] = BandLevel.of(audio, start)
                begin = int((line.start - start) * RATE)
                excerpts[line.id] = folder / f"{line.id}.wav"
                sf.write(excerpts[line.id], audio[begin:begin + int(line.duration * RATE)], RATE, subtype="FLOAT")
        return SourceReading(frames, bands, excerpts)

    def _with_neighbours(self) -> list[Line]:
        """The checked lines and every script line whose stretch overlaps one of theirs, in script order."""
        stretches = np.array([vad_stretch(line) for line in self.script.lines]).reshape(-1, 2)
        checked = np.array([vad_stretch(line) for line in self.lines.values()]).reshape(-1, 2)
        near = (stretches[:, None, 0] < checked[None, :, 1]) & (stretches[:, None, 1] > checked[None, :, 0])
        return [line for line, kept in zip(self.script.lines, near.any(axis=1)) if kept]

    def _closures(self, bands: dict[str, BandLevel], heard: dict[str, list[Word]],
                  dubs: dict[str, DubReading]) -> dict[str, tuple[list[float], list[float]]]:
        """(source, dub) lip-closure times of each line, on the programme's clock. Phonemes come from one
        espeak-ng run per language; a dub whose engine reported phoneme times uses those instead."""
        if self.without_phonemes:
            return {line_id: ([], []) for line_id in self.lines}
        source_words = [list(line.words) for line in self.lines.values()]
        source_phonemes = iter(words_phonemes([w.text for words in source_words for w in words], self.script.language))
        dub_phonemes = iter(words_phonemes([w.text for line_id in self.lines for w in heard[line_id]], self.language))
        closures = {}
        for line_id, words in zip(self.lines, source_words):
            source = closures_from_words(words, [next(source_phonemes) for _ in words], bands[line_id])
            dub, phonemes = dubs[line_id], [next(dub_phonemes) for _ in heard[line_id]]
            times = dub.engine_closures if dub.engine_closures is not None else \
                closures_from_words(heard[line_id], phonemes, dub.band)
            closures[line_id] = (source, [self.clips[line_id].fitted.start + time for time in times])
        return closures

    def _unjudged(self, fit: Fit) -> str | None:
        """Why lip closures cannot be judged in this line, or None if they can."""
        if self.faces is None:
            return "audio-only source, lips not seen"
        if not fit.on_screen:
            return "off screen, lips not seen"
        return f"no phonemes for {', '.join(self.without_phonemes)}" if self.without_phonemes else None

    def _av_sync(self):
        """The check of one line against the picture: the dubs, placed at their starts, against the
        mouth, relative to the source's own offset. (A video source's whole programme is read here.)"""
        if self.faces is None:
            return lambda line: av_sync_check(None, 0.0, None, line.start, line.end, 0.0, self.settings)
        mouth, source = MouthTrack(self.faces), self.source(0.0, None)
        source_offset = mouth.offset(SpeechLevel(source), 0.0, len(source) / RATE).offset_s or 0.0
        placed = [PlacedLine(line_id, clip.fitted.start, resample(*sf.read(self.folder / clip.fitted.path, dtype="float32"), RATE))
                  for line_id, clip in self.clips.items()]
        dubs = SpeechLevel(place_lines(placed, len(source), RATE))
        return lambda line: av_sync_check(mouth, self.faces.face_share(line.start, line.end), dubs, line.start,
                                          line.end, source_offset, self.settings)

    def _voice(self, line_id: str, profile: str, voices: dict, referenced: set[str], embedding: np.ndarray | None,
               voiced: dict[str, tuple[str, np.ndarray]]) -> CheckResult:
        """Against the profile's references; for a stock voice (no references), its other lines in this
        language (`voiced`: each heard line's voice profile and embedding)."""
        other_voices = {p: e for p, e in voices.items() if p != profile}
        if profile in referenced:
            return voice_check(embedding, voices[profile], other_voices, self.settings, "the profile's consented references")
        lines = [other_embedding for other, (voice, other_embedding) in voiced.items() if voice == profile and other != line_id]
        return voice_check(embedding, mean_embedding(lines) if lines else None, other_voices, self.settings,
                           "the voice's other lines")

    def _voiced(self, embeddings: dict[str, np.ndarray | None]) -> dict[str, tuple[str, np.ndarray]]:
        """(voice profile, embedding) of every line heard in this language: those checked here, and the others."""
        voiced = {line_id: (profile, reading.embedding) for line_id, (profile, reading) in self.others.items()}
        voiced.update({line_id: (clip.profile_id, embeddings[line_id]) for line_id, clip in self.clips.items()})
        return {line_id: (profile, embedding) for line_id, (profile, embedding) in voiced.items() if embedding is not None}

    def _voice_embeddings(self, voiced: dict[str, tuple[str, np.ndarray]]) -> tuple[dict[str, np.ndarray], set[str]]:
        """Every cast voice's embedding (from its references where the profile has them, else its
        lines, `voiced`), and which profiles have references."""
        cast = {profile for profile, _ in self.others.values()} | {clip.profile_id for clip in self.clips.values()}
        by_profile = {profile: [] for profile in cast}  # a voice whose lines are all unsaid too
        for profile, embedding in voiced.values():
            by_profile[profile].append(embedding)
        voices, referenced = {}, set()
        for profile, lines in by_profile.items():
            if self.references.get(profile):
                voices[profile] = files_embedding(self.references[profile])
                referenced.add(profile)
            elif lines:
                voices[profile] = mean_embedding(lines)
        return voices, referenced

    def _prosody(self, excerpts: dict[str, Path]) -> tuple[dict[str, dict], dict[str, dict]]:
        """Prosody of every source line and dub (line id -> profile, each), in one Praat run."""
        segments = [{"path": str(excerpts[line_id])} for line_id in self.lines]
        segments += [{"path": str(self.folder / self.clips[line_id].fitted.path)} for line_id in self.lines]
        profiles = run_praat("prosody", segments=segments)
        count = len(self.lines)
        return dict(zip(self.lines, profiles[:count])), dict(zip(self.lines, profiles[count:]))

    def _emotion(self, readings: dict[str, TakeReading]) -> dict[str, CheckResult]:
        """Each line's prosody against its source line's, levels against each voice's habitual level over
        the language's lines (those checked here and the others)."""
        every = {**{line_id: reading for line_id, (_, reading) in self.others.items()}, **readings}
        speakers = {line.id: line.speaker for line in self.script.lines}
        voice_of = {**{line_id: profile for line_id, (profile, _) in self.others.items()},
                    **{line_id: clip.profile_id for line_id, clip in self.clips.items()}}
        source_base = speaker_baselines({i: r.source for i, r in every.items() if i in speakers}, speakers)
        dub_base = speaker_baselines({i: r.dub for i, r in every.items()}, voice_of)
        return {line_id: self._emotion_result(line, readings[line_id].source, readings[line_id].dub,
                                              source_base[line.speaker], dub_base[self.clips[line_id].profile_id])
                for line_id, line in self.lines.items()}

    def _emotion_result(self, line: Line, source: dict, dub: dict, source_base: dict, dub_base: dict) -> CheckResult:
        source_rel, dub_rel = relative_to(source, source_base), relative_to(dub, dub_base)
        distance, drift = emotion_distance(source_rel, dub_rel)
        if not np.isfinite(distance):
            return CheckResult("emotion", "n/a", {}, "no voiced speech to compare in the source or the dub")
        verdict = grade(distance, self.settings.emotion_distance)
        numbers = {"distance": round(distance, 2), **{f"drift_{name}": round(value, 2) for name, value in drift.items()
                                                      if np.isfinite(value)}}
        return CheckResult("emotion", verdict, numbers, f"distance {distance:.2f}: {describe_drift(source_rel, dub_rel, drift)}")


def _embeddings(encoder: Future, speech: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each line's voice embedding (16 kHz speech), once the encoder has loaded."""
    return {line_id: encoder.result().embed(audio, RATE) for line_id, audio in speech.items()}


def store_results(sessions, seal: Seal, clips: dict[str, Clip], checked: dict[str, CheckedTake]) -> None:
    """Replace each clip's stored verdicts and reading with these, sealed together (see takes.py)."""
    with sessions() as session:
        for line_id, take in checked.items():
            clip = session.get(Clip, clips[line_id].id)
            session.execute(delete(QCResult).where(QCResult.clip_id == clip.id))
            rows = [QCResult(clip_id=clip.id, check=c.check, verdict=c.verdict, numbers=c.numbers, reason=c.reason)
                    for c in take.verdicts]
            session.add_all(rows)
            clip.qc_reading = take.reading.to_json()
            clip.qc_seal = seal.sign("verdicts", verdicts_body(clip, rows))
        session.commit()
