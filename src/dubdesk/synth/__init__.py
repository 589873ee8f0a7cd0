"""Synthesis: the one path from a line of text to a voice, through the consent check.

`synthesize_line` checks consent at the moment of synthesis (signature, chain, references, terms,
revocation), hands the engine the grant it demands, and stores the clip labelled "AI beta" with
the consent record's hash. `revoke_voice` stops a voice at once and blocks its unmixed clips.
"""
from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from sqlalchemy import update

from ..config import Settings, SynthSettings
from ..engines import Speech
from ..errors import DubdeskError
from ..files import sha256_file
from ..fit import sound_span, speech_share
from ..labels import AI_LABEL, labelled_name, write_labelled_wav
from ..seal import Seal
from ..store.audit import audit
from ..store.models import Clip, Project, utcnow
from ..takes import clip_body
from ..translate.edits import TextEdit, apply_edit
from ..voices.consent import Voice, authorize
from ..voices.records import ProfileRecord
from ..voices.registry import ConsentRegistry
from .engines import CLONING_ENGINES, NON_COMMERCIAL_LICENCES, voice_engine
from .prosody import PROSODY_TOOL, SourceDelivery, carry_prosody
from .voice_match import MALE_BELOW_HZ, VOICE_MATCH_TOOL, VoiceMatcher

# Base voices for actor profiles spoken by embedded engines: (engine, voice, sex of the voice).
EMBEDDED_VOICES = {"en": [("pico", "en-US", "female"), ("piper", "en_US-joe-medium", "male")],
                   "de": [("pico", "de-DE", "female")], "es": [("pico", "es-ES", "female")],
                   "fr": [("pico", "fr-FR", "female")], "it": [("pico", "it-IT", "female")],
                   "ja": [("kokoro", "jf_alpha", "female"), ("kokoro", "jm_kumo", "male")]}


def _voice_for(record: ProfileRecord, references: list[Path], language: str, settings: Settings,
               matcher: VoiceMatcher) -> Voice:
    """Who speaks for this verified record: its stock voice, the cloning engine (XTTS, Chatterbox) on its
    references, or the embedded voice nearest its references' pitch (then matched to them)."""
    if record.stock is not None:
        return Voice(record.stock.engine, record.stock.voice)
    if settings.synth.engine in CLONING_ENGINES and references:
        return Voice(settings.synth.engine, record.profile_id, tuple(references))
    pitch = matcher.reference_pitch(record.hash, references) if references else None
    return Voice(*_base_voice(language, pitch), tuple(references))


def _base_voice(language: str, pitch_median_hz: float | None) -> tuple[str, str]:
    """The embedded voice for `language` whose sex matches the references' pitch, where there is a choice."""
    if language not in EMBEDDED_VOICES:
        raise DubdeskError(f"no embedded voice speaks '{language}'; embedded languages: {', '.join(EMBEDDED_VOICES)}")
    wanted = "male" if pitch_median_hz is not None and pitch_median_hz < MALE_BELOW_HZ else "female"
    voices = EMBEDDED_VOICES[language]
    engine, voice, _ = next((entry for entry in voices if entry[2] == wanted), voices[0])
    return engine, voice


def pace_for(speech: Speech, target_s: float | None, config: SynthSettings) -> float:
    """The speed (times the engine's own pace) that brings the line's sound to `target_s`, within the
    engine speed bounds; 1 without a target or when the line is that close already."""
    if not target_s:
        return 1.0
    ratio = _sound_s(speech) / target_s
    if ratio <= 0 or abs(math.log(ratio)) <= math.log1p(config.speed_tolerance):  # nothing said, or close
        return 1.0
    return round(min(max(ratio, config.min_speed), config.max_speed), 3)


def _paced(own_pace: Speech, wanted: float, tolerance: float, speak) -> tuple[Speech, float]:
    """The line spoken at the `wanted` pace, asked again once where the engine's pace scale was off
    (Pico's markup is far from proportional), and the pace it came out at (fit counts that)."""
    own_s, asked = _sound_s(own_pace), wanted
    for _ in range(2):
        speech = speak(asked)
        achieved = own_s / max(_sound_s(speech), 1e-3)
        if abs(math.log(achieved / wanted)) <= math.log1p(tolerance):
            break
        asked *= wanted / achieved
    return speech, round(achieved, 3)


def _sound_s(speech: Speech) -> float:
    """How long the line's sound lasts, edge silences left out."""
    span = sound_span(speech.audio, speech.rate)
    return (span.stop - span.start) / speech.rate


def _clip_name(line_id: str, language: str, profile_id: str) -> str:
    """Unique per take, so a take refused after speaking never touches another one's file."""
    return labelled_name(f"{line_id}_{language}_{profile_id}_{uuid.uuid4().hex[:10]}")


def synthesize_line(sessions, registry: ConsentRegistry, project: Project, project_folder: Path, line_id: str,
                    text: str, language: str, profile_id: str, settings: Settings, use: str = "dubbing",
                    edit: TextEdit | None = None, by: str | None = None, aim: Callable[[float], float] | None = None,
                    source: SourceDelivery | None = None) -> Clip:
    """Speak `text` in the voice of `profile_id`, if and only if its consent covers it right now.

    With `aim` (the length the line aims at, given the share of its sound that is speech: services.pacing),
    a line the engine's own pace makes too long or too short is spoken again at the pace that brings it
    there, within the engine speed bounds
    (`synth.min_speed`-`synth.max_speed`); fit's time-stretch then only corrects what is left.
    With `edit`, the person's text is saved in the same transaction as the clip: both or neither.
    With `by`, the take is audited in that person's name. With `source` (the source line), the line's
    prosody is carried toward the source's (see synth.prosody), within `settings.prosody`."""
    matcher = VoiceMatcher(project_folder)
    record, voice, grant = authorize(registry, profile_id, language, project.name, use,
                                     lambda verified, references: _voice_for(verified, references, language, settings,
                                                                             matcher))
    if project.commercial and voice.engine in NON_COMMERCIAL_LICENCES:
        raise DubdeskError(f"project '{project.name}' is commercial, and {voice.engine}'s weights licence forbids "
                           f"commercial use: {NON_COMMERCIAL_LICENCES[voice.engine]}")
    engine = voice_engine(voice.engine, settings)
    speech = engine.speak(text, voice, language, grant, profile_id)
    share = speech_share(speech.audio, speech.rate)
    target_s = aim(share) if aim is not None else None
    speed = pace_for(speech, target_s, settings.synth) if engine.paced else 1.0  # unpaced: fit takes it all
    if speed != 1.0:
        speech, speed = _paced(speech, speed, settings.synth.speed_tolerance,
                               lambda asked: engine.speak(text, voice, language, grant, profile_id, asked))
    audio, rate = speech.audio, speech.rate
    clip_settings = {"voice": voice.name, "use": use, "speech_share": share, **({"speed": speed} if speed != 1.0 else {})}
    if speech.phonemes:  # voice matching keeps every duration, so these hold for the stored clip
        clip_settings["phonemes"] = [list(phoneme) for phoneme in speech.phonemes]
    if voice.references and voice.engine not in CLONING_ENGINES:
        pitch = matcher.reference_pitch(record.hash, list(voice.references))
        audio, match = matcher.apply(audio, rate, grant, voice.references, f"{record.hash}:{voice.engine}:{voice.name}",
                                     pitch)
        clip_settings["voice_match"] = {**asdict(match), "applied": match.helps, "tool": VOICE_MATCH_TOOL}
    carried = None
    if source is not None:
        audio, carried = carry_prosody(audio, rate, source, settings.prosody)
    if carried is not None:
        clip_settings["prosody"] = carried.record(settings.prosody)
    path = project_folder / "clips" / _clip_name(line_id, language, profile_id)
    description = (f"{AI_LABEL}: AI-generated voice. Voice profile {profile_id} ({record.actor}); "
                   f"consent record {record.hash}; engine {engine.identity.engine} {engine.identity.model}, "
                   f"weights licence {engine.identity.weights_licence}"
                   + (f"; prosody carried over from the source line by {PROSODY_TOOL}" if carried and carried.applied else ""))
    write_labelled_wav(path, audio, rate, f"{line_id} {language} [{AI_LABEL}]", f"{record.actor} [{AI_LABEL}]", description)
    clip = Clip(project_id=project.id, line_id=line_id, language=language, text=text, profile_id=profile_id,
                consent_record=record.hash, engine=engine.identity.to_json(), settings=clip_settings,
                path=str(path.relative_to(project_folder)), sha256=sha256_file(path), created_at=utcnow())
    try:
        _store_take(sessions, registry.seal, project, clip, edit, by)
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return clip


def _store_take(sessions, seal: Seal, project: Project, clip: Clip, edit: TextEdit | None, by: str | None) -> None:
    """The person's text (if any), the sealed clip and its audit event, in one transaction."""
    with sessions() as session:
        if edit is not None:
            apply_edit(session, project.id, edit)  # first: it takes the write lock, then checks the version
        session.add(clip)
        session.flush()
        clip.seal = seal.sign("clip", clip_body(clip))
        if by:
            audit(session, by, "regenerated" if edit else "synthesized", project.id, clip.line_id, clip_id=clip.id,
                  language=clip.language, text=clip.text, voice_profile=clip.profile_id)
        session.commit()


def revoke_voice(sessions, registry: ConsentRegistry, profile_id: str, reason: str, *, by: str) -> int:
    """Revoke consent now; every clip in that voice not yet mixed is blocked. Returns how many."""
    record = registry.revoke(profile_id, reason, by=by)
    with sessions() as session:
        blocked = session.execute(
            update(Clip).where(Clip.profile_id == profile_id, Clip.status != "mixed")
            .values(status="blocked", blocked_reason=f"consent revoked: {record.revocation_reason}"))
        session.commit()
    return blocked.rowcount
