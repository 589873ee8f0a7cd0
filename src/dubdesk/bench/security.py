"""Security benchmark: the attacks the tests make, tried again on a scratch data folder and counted.

Five groups (dubdesk issue 12): consent got round (held or broken), sealed takes tampered with before
the mix (held or broken), two processes editing one line at once (held or lost), a delivered package
tampered with and verified (caught or missed: "caught" means verify names the tampered thing in a
failing finding) and Gradio's file routes asked for secrets as each role (refused or served). The
attack helpers live here, not in the tests, so the tests and this benchmark make the same attacks.
Everything happens in a temporary folder: a three-line programme dubbed with a stock Pico voice, one
real delivery, and the UI served on 127.0.0.1; nothing is downloaded.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import queue
import re
import shutil
import socket
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import httpx
import numpy as np
import soundfile as sf
from sqlalchemy import select, update

from .. import errors
from ..audio import RATE, decode_audio
from ..config import Settings
from ..context import Context
from ..core import Transcript, Turn, Word
from ..errors import DubdeskError, TamperedError
from ..export.delivery import MANIFEST, SIGNATURE
from ..labels import write_labelled_wav
from ..seal import KEY_FILE, Seal
from ..services import checks, delivery, desk, pipeline, projects, scripting, speech, translation
from ..services.desk import regenerate_line
from ..store import open_database
from ..store.models import Clip, VoiceProfile
from ..synth.engines import voice_engine
from ..synth.voice_match import VoiceMatcher
from ..translate.edits import StaleEditError
from ..voices.consent import ConsentGrant, Voice, authorize
from ..voices.records import ConsentTerms
from ..voices.registry import ConsentError
from .report import publish

LANGUAGE, VOICE, PRODUCER, REVIEWER = "es", "stock-pico-es-es", "Paula Producer", "Rita Reviewer"
SENTENCES = ("Good morning, everyone.", "We start the meeting now.", "Thank you for coming today.")
RACERS = ("ana", "bruno")
GROUPS = ("consent", "races", "takes", "verify", "web")
GOOD = {"consent": "held", "races": "held", "takes": "held", "verify": "caught", "web": "refused"}
BAD = {"consent": "broken", "races": "lost", "takes": "broken", "verify": "missed", "web": "served"}
FILE_ROUTES = ("/gradio_api/file=", "/gradio_api/file/", "/file=", "/file/")
PASSWORD = "correct horse"
PEOPLE = {"lucia": "localization", "vera": "voice_actor", "olive": "voice_actor", "dino": "distributor", "adam": "admin"}


@dataclass(frozen=True)
class Attempt:
    """One attack and how it went: outcome is GOOD[group] when the defence held, BAD[group] when not."""
    group: str
    attack: str
    outcome: str
    detail: str

    @property
    def held(self) -> bool:
        return self.outcome == GOOD[self.group]


def refused(group: str, attack: str, attempt: Callable[[], object], error: type[BaseException], match: str) -> Attempt:
    """Held when `attempt` raises `error` saying `match`; any other way it ends (done, or failed for
    another reason) is a defence that did not hold as designed."""
    try:
        attempt()
    except error as refusal:
        said = str(refusal)
        if re.search(match, said):
            return Attempt(group, attack, GOOD[group], said.splitlines()[0][:160])
        return Attempt(group, attack, BAD[group], f"refused for another reason: {said[:160]}")
    except Exception as other:  # noqa: BLE001 - a crash is recorded as the outcome, not raised
        return Attempt(group, attack, BAD[group], f"failed with {type(other).__name__}: {str(other)[:160]}")
    return Attempt(group, attack, BAD[group], "went through")


def summary_of(attempts: list[Attempt]) -> dict[str, dict[str, int]]:
    """Per group: attacks tried and how many the defence held (caught, refused)."""
    groups = dict.fromkeys(a.group for a in attempts)
    return {group: {"tried": sum(a.group == group for a in attempts),
                    GOOD[group]: sum(a.group == group and a.held for a in attempts)} for group in groups}


def scratch_settings(settings: Settings, home: Path) -> Settings:
    """The settings with a scratch data folder, and no pinned key or signing folder of the user's: the
    attacks replace keys and must never reach a real one."""
    return settings.model_copy(update={"home": home, "key_fingerprint": None,
                                       "export": settings.export.model_copy(update={"signing_folder": None})})


def clip_of(sample: Path, path: Path, start_s: float, seconds: float, name: str = "reference") -> Path:
    """`seconds` of the sample from `start_s`, written as a labelled 16 kHz WAV (a recording to register)."""
    audio = decode_audio(sample)[int(RATE * start_s):int(RATE * (start_s + seconds))]
    return write_labelled_wav(path, audio, RATE, "reference", name, "reference")


# Consent ------------------------------------------------------------------------------------------

def actor(ctx: Context, reference: Path, **terms) -> object:
    """An actor's profile consenting to dub 'Pilot' into Spanish for a month (override any term)."""
    today = date.today()
    defaults = dict(languages=("es",), titles=("Pilot",), uses=("dubbing",), valid_from=today - timedelta(days=1),
                    valid_until=today + timedelta(days=30), terms_ref="contract 42")
    return ctx.registry.create("Ana Actriz", ConsentTerms(**{**defaults, **terms}), [reference], by="Ana Actriz")


def speak(ctx: Context, project, profile_id: str, language: str = "es", text: str = "Hola."):
    return speech.synthesize(ctx, project, "L0001", text, language, profile_id)


def pico_voice(record, references) -> Voice:
    return Voice("pico", "es-ES", tuple(references))


def _history(ctx: Context, profile) -> Path:
    return ctx.registry.folder / profile.profile_id / "history.jsonl"


def consent_attacks(settings: Settings, sample: Path, scratch: Path) -> list[Attempt]:
    """Every way round the consent check that tests/test_consent.py makes, each on a profile of its own."""
    ctx = Context(settings)
    project = projects.create_project(ctx, sample, name="Pilot")
    reference = clip_of(sample, scratch / "actor reference.wav", 6.5, 6.0)
    stranger = clip_of(sample, scratch / "someone else.wav", 0.0, 5.0, "stranger")
    return [*_terms_attacks(ctx, project, reference), *_record_attacks(ctx, project, reference, scratch),
            *_revocation_attacks(ctx, project, lambda i: clip_of(sample, scratch / f"revoked {i}.wav", 6.5 + i / 10, 6.0),
                                 scratch),
            *_grant_attacks(ctx, project, clip_of(sample, scratch / "granted.wav", 7.5, 6.0), stranger),
            *_key_attacks(ctx, scratch)]


def _terms_attacks(ctx: Context, project, reference: Path) -> list[Attempt]:
    today = date.today()
    cases = [("speak after the consent expired", {"valid_until": today - timedelta(days=1)}, "es", "expired"),
             ("speak before the consent starts", {"valid_from": today + timedelta(days=1)}, "es", "starts on"),
             ("speak a language not consented to", {}, "fr", "does not cover language 'fr'"),
             ("speak for a title not consented to", {"titles": ("Another show",)}, "es", "does not cover title 'Pilot'"),
             ("speak for a use not consented to", {"uses": ("promo",)}, "es", "does not cover use 'dubbing'")]
    attempts = [refused("consent", attack, lambda t=terms, lang=language: speak(
        ctx, project, actor(ctx, reference, **t).profile_id, lang), ConsentError, match)
                for attack, terms, language, match in cases]
    attempts.append(refused("consent", "speak in a voice nobody registered",
                            lambda: speak(ctx, project, "nobody"), ConsentError, "no voice profile 'nobody'"))
    return attempts


def _record_attacks(ctx: Context, project, reference: Path, scratch: Path) -> list[Attempt]:
    edited = actor(ctx, reference)
    history = _history(ctx, edited)
    history.write_text(history.read_text().replace('"languages": ["es"]', '"languages": ["es", "fr"]'))
    attempts = [refused("consent", "widen a record's languages in its history file",
                        lambda: speak(ctx, project, edited.profile_id, "fr"), TamperedError, "signature does not verify")]
    forged = actor(ctx, reference)
    _append_forged_record(ctx, forged, Seal(scratch / "other-keys", open_database(f"sqlite:///{scratch / 'other.db'}")))
    attempts.append(refused("consent", "append a record signed with another key (files and database)",
                            lambda: speak(ctx, project, forged.profile_id, "fr"), TamperedError, "signed by an unknown key"))
    changed = actor(ctx, reference)
    (stored,) = ctx.registry.reference_paths(changed)
    stored.write_bytes(stored.read_bytes()[:-100])
    attempts.append(refused("consent", "change a stored reference recording",
                            lambda: speak(ctx, project, changed.profile_id), TamperedError, "reference .* missing or changed"))
    return attempts


def _append_forged_record(ctx: Context, profile, other_key: Seal) -> None:
    """A wider record signed with `other_key`, appended to the history and made the database's head."""
    forged = replace(profile.next(terms=replace(profile.terms, languages=("es", "fr"))), signer=other_key.fingerprint)
    forged = replace(forged, signature=other_key.sign_bytes(forged.signed_content()))
    with _history(ctx, profile).open("a") as lines:
        lines.write(json.dumps(forged.to_json()) + "\n")
    with ctx.sessions() as session:
        session.execute(update(VoiceProfile).where(VoiceProfile.id == profile.profile_id)
                        .values(head_hash=forged.hash, version=forged.version))
        session.commit()


def _revocation_attacks(ctx: Context, project, recording: Callable[[int], Path], scratch: Path) -> list[Attempt]:
    """`recording(i)`: a recording of its own for each profile revoked here (a revoked one cannot back another)."""
    def revoked_profile(index: int):
        profile = actor(ctx, recording(index))
        speech.revoke_voice(ctx, profile.profile_id, "withdrawn", by="Ana Actriz")
        return profile

    spoken = revoked_profile(1)
    attempts = [refused("consent", "speak in a revoked voice", lambda: speak(ctx, project, spoken.profile_id),
                        ConsentError, "revoked"),
                refused("consent", "widen a revoked voice's terms", lambda: ctx.registry.update_terms(
                    spoken.profile_id, spoken.terms, by="attacker"), ConsentError, "revoked")]
    undone = revoked_profile(2)
    current = ctx.registry.current(undone.profile_id)
    attempts.append(refused("consent", "append a record after the revocation through the registry", lambda: ctx.registry._append(
        current.next(revoked_at=None, revocation_reason=""), by="attacker", action="undo"), ConsentError, "revocation is final"))
    cut = revoked_profile(3)
    history = _history(ctx, cut)
    history.write_text(history.read_text().splitlines(keepends=True)[0])
    attempts.append(refused("consent", "cut the revocation from the history file",
                            lambda: speak(ctx, project, cut.profile_id), TamperedError, "does not end at the registered head"))
    attempts += _database_revocation_attacks(ctx, project, cut)
    rewrapped = scratch / "same voice.flac"  # the same recording, another container and name
    sf.write(rewrapped, decode_audio(recording(3)), RATE)
    attempts.append(refused("consent", "register a revoked voice again as a new profile (re-wrapped recording)",
                            lambda: actor(ctx, rewrapped), ConsentError, "a revoked voice cannot be registered again"))
    return attempts


def _database_revocation_attacks(ctx: Context, project, profile) -> list[Attempt]:
    """Roll the head back in the database, delete the revocation row, then drop the guard and roll back."""
    database = sqlite3.connect(ctx.settings.home / "dubdesk.db")
    roll_back = ("UPDATE voice_profiles SET head_hash = ?, version = 1 WHERE id = ?", (profile.hash, profile.profile_id))
    try:
        attempts = [refused("consent", "roll a revoked profile's head back in the database",
                            lambda: database.execute(*roll_back), sqlite3.DatabaseError, "only moves forward"),
                    refused("consent", "delete the revocation row", lambda: database.execute(
                        "DELETE FROM revocations WHERE profile_id = ?", (profile.profile_id,)), sqlite3.DatabaseError,
                        "revocation is final")]
        database.rollback()
        database.execute("DROP TRIGGER IF EXISTS voice_profiles_forward")  # an attacker who removes the guard too
        database.execute(*roll_back)
        database.commit()
    finally:
        database.close()
    attempts.append(refused("consent", "drop the trigger, roll the head back and cut the history",
                            lambda: speak(ctx, project, profile.profile_id), TamperedError, "the revocation was removed"))
    return attempts


def _grant_attacks(ctx: Context, project, reference: Path, stranger: Path) -> list[Attempt]:
    profile, other = actor(ctx, reference), actor(ctx, reference, languages=("de",))
    engine = voice_engine("pico")
    voice = pico_voice(profile, ctx.registry.reference_paths(profile))
    forged = ConsentGrant(profile.profile_id, profile.hash, "es", "Pilot", "dubbing", "pico", "es-ES", (), 0.0, mac="0" * 64)
    _, _, others = authorize(ctx.registry, other.profile_id, "de", "Pilot", "dubbing", pico_voice)
    _, _, grant = authorize(ctx.registry, profile.profile_id, "es", "Pilot", "dubbing", pico_voice)

    def spoken(with_grant, as_voice=voice):
        return lambda: engine.speak("Hola.", as_voice, "es", with_grant, profile.profile_id)

    attempts = [refused("consent", f"call the engine with {name}", spoken(given), ConsentError, "no valid consent grant")
                for name, given in (("no grant", None), ("a string for a grant", "yes"), ("a forged grant", forged))]
    attempts += [
        refused("consent", "use another profile's grant", spoken(others), ConsentError, "covers"),
        refused("consent", "use a grant for another of the engine's voices", spoken(grant, replace(voice, name="it-IT")),
                ConsentError, "covers"),
        refused("consent", "use a grant with a reference nobody consented with",
                spoken(grant, replace(voice, references=(stranger,))), ConsentError, "does not cover the recording"),
        refused("consent", "let the voice matcher hear a reference nobody consented with", lambda: VoiceMatcher(
            ctx.folder(project)).apply(np.zeros(RATE, np.float32), RATE, grant, (stranger,), "k", 200.0),
                ConsentError, "does not cover the recording")]
    speech.revoke_voice(ctx, profile.profile_id, "withdrawn", by="Ana Actriz")
    attempts.append(refused("consent", "use a grant minted before the revocation", spoken(grant), ConsentError, "revoked"))
    return attempts


def _key_attacks(ctx: Context, scratch: Path) -> list[Attempt]:
    """Last: bring a registry key of one's own (the data folder's key is gone afterwards)."""
    pinned = ctx.registry.signer
    (ctx.settings.home / "keys" / KEY_FILE).unlink()
    fresh = ctx.settings.model_copy(update={"home": scratch / "fresh", "key_fingerprint": pinned})
    return [refused("consent", "replace the registry key (the database pins it)",
                    lambda: Context(ctx.settings).registry.profile_ids(), errors.TamperedError, "the database pins"),
            refused("consent", "start with another key (the settings pin it)",
                    lambda: Context(fresh).registry.profile_ids(), errors.TamperedError, "the settings pin")]


# The dubbed programme: races, sealed takes, verify ---------------------------------------------------

def dubbed_desk(settings: Settings, sample: Path) -> tuple[Context, object]:
    """A three-line programme (its transcript given, not heard) dubbed into Spanish up to review."""
    ctx = Context(settings)
    project = projects.create_project(ctx, sample, name="Trust", by=PRODUCER)
    words, turns, at = [], [], 1.0
    for index, sentence in enumerate(SENTENCES):
        start = at
        for token in sentence.split():
            words.append(Word(token, at, at + 0.3))
            at += 0.35
        turns.append(Turn(start, at, f"SPEAKER_{index % 2:02d}"))
        at += 1.5
    scripting.import_transcript(ctx, project, Transcript("en", 1.0, tuple(words)), turns, "benchmark transcript")
    report = pipeline.prepare_dub(ctx, project, LANGUAGE, VOICE, by=PRODUCER)
    if report.refused:
        raise DubdeskError(f"the benchmark programme could not be dubbed: {report.refused}")
    return ctx, project


def race_edits(settings: Settings, project_id: int, line_id: str, name: str, rounds: int, barrier, outcomes) -> None:
    """One reviewer in a process of their own: each round, read the line's version, wait for the other,
    then save an edit; puts (round, name, 'saved' | 'refused') on `outcomes`."""
    ctx = Context(settings)
    project = projects.project(ctx, project_id)
    for round_ in range(rounds):
        barrier.wait()
        version = translation.translations(ctx, project, LANGUAGE)[line_id].version
        barrier.wait()  # both hold the same version now
        try:
            regenerate_line(ctx, project, line_id, LANGUAGE, edit_text(round_, name), name, version)
            outcomes.put((round_, name, "saved"))
        except StaleEditError:
            outcomes.put((round_, name, "refused"))


def edit_text(round_: int, name: str) -> str:
    return f"Versión {round_} de {name}."


def race(ctx: Context, project, line_id: str, rounds: int) -> list[tuple[int, str, str]]:
    """Two processes editing `line_id` from the same version `rounds` times; every (round, name, outcome)."""
    context = multiprocessing.get_context("spawn")
    barrier, outcomes = context.Barrier(2), context.Queue()
    racers = [context.Process(target=race_edits, args=(ctx.settings, project.id, line_id, name, rounds, barrier, outcomes))
              for name in RACERS]
    for racer in racers:
        racer.start()
    results = []
    while len(results) < 2 * rounds:
        try:
            results.append(outcomes.get(timeout=5))
        except queue.Empty:
            _refuse_failed(racers)
    for racer in racers:
        racer.join(60)
    _refuse_failed(racers)
    return results


def _refuse_failed(racers) -> None:
    """A racer that died cannot answer the other's barrier: stop both and say so."""
    failed = [racer for racer in racers if racer.exitcode not in (None, 0)]
    if failed:
        for racer in racers:
            racer.kill()
        raise DubdeskError(f"racing process {failed[0].name} ended with exit code {failed[0].exitcode}; "
                           f"nothing was measured")


def race_trials(ctx: Context, project, rounds: int) -> list[Attempt]:
    """Held rounds: one edit saved with its take, the other refused as stale and leaving no take."""
    line_id = next(iter(speech.current_clips(ctx, project, LANGUAGE)))
    results = race(ctx, project, line_id, rounds)
    with ctx.sessions() as session:
        takes = set(session.scalars(select(Clip.text).where(Clip.line_id == line_id, Clip.project_id == project.id)))
    return [_round(round_, {name: outcome for r, name, outcome in results if r == round_}, takes) for round_ in range(rounds)]


def _round(round_: int, outcomes: dict[str, str], takes: set[str]) -> Attempt:
    saved = [name for name, outcome in outcomes.items() if outcome == "saved"]
    lost = [name for name in saved if edit_text(round_, name) not in takes]
    leftover = [name for name, outcome in outcomes.items() if outcome == "refused" and edit_text(round_, name) in takes]
    attack = f"round {round_ + 1}: {' and '.join(RACERS)} save edits made from one version"
    if len(saved) == 1 and not lost and not leftover:
        return Attempt("races", attack, "held", f"{saved[0]} saved with a take; the other refused as stale, no take left")
    return Attempt("races", attack, "lost", f"saved: {saved or 'none'}; saved without a take: {lost}; "
                                            f"refused but left a take: {leftover}")


def approve_all(ctx: Context, project) -> None:
    """QC the takes the races left, then approve every line by name."""
    checks.qc(ctx, project, LANGUAGE)
    for line_id in speech.current_clips(ctx, project, LANGUAGE):
        if line_id not in desk.approvals(ctx, project, LANGUAGE):
            desk.review(ctx, project, line_id, LANGUAGE, REVIEWER, approve=True, override_reason="benchmark: accepted")


@contextmanager
def _database(ctx: Context) -> Iterator[Callable[..., None]]:
    """A raw connection to the data folder's database (what an attacker with the file has): yields `sql`."""
    connection = sqlite3.connect(ctx.settings.home / "dubdesk.db")

    def sql(statement: str, parameters: tuple = ()) -> None:
        connection.execute(statement, parameters)
        connection.commit()

    try:
        yield sql
    finally:
        connection.rollback()
        connection.close()


def take_tamperings(ctx: Context, project, scratch: Path) -> list[Attempt]:
    """The rows and files tests/test_trust.py forges under the approved takes; the mix must refuse each
    (and write nothing), each undone before the next."""
    clips = speech.current_clips(ctx, project, LANGUAGE)
    first, second, third = list(clips)[:3]
    out = scratch / "refused mix"
    out.mkdir()

    def mix() -> Path:
        return delivery.deliver(ctx, project, LANGUAGE, out)

    with _database(ctx) as sql:
        sql("UPDATE clips SET profile_id = 'stock-pico-it-it' WHERE id = ?", (clips[first].id,))
        attempts = [refused("takes", "relabel a take with another voice", mix, ConsentError, "never had")]
        sql("UPDATE clips SET profile_id = ?, text = 'Otra cosa.' WHERE id = ?", (VOICE, clips[first].id))
        attempts.append(refused("takes", "edit a take's text", mix, TamperedError, "does not match its seal"))
        sql("UPDATE clips SET text = ? WHERE id = ?", (clips[first].text, clips[first].id))
        attempts.append(_replaced_fitted_file(ctx, project, clips[second], mix))
        desk.review(ctx, project, third, LANGUAGE, REVIEWER, approve=False, note="too flat")
        sql("INSERT INTO reviews (clip_id, decision, reviewer, created_at) VALUES (?, 'approved', ?, CURRENT_TIMESTAMP)",
            (clips[third].id, REVIEWER))
        attempts.append(refused("takes", "insert an approval with no seal", mix, TamperedError, "approval carries no seal"))
        sql("UPDATE qc_results SET verdict = 'pass', reason = 'fine' WHERE clip_id = ?", (clips[third].id,))
        attempts.append(refused("takes", "forge a QC verdict, then approve", lambda: desk.review(ctx,
            project, third, LANGUAGE, REVIEWER, approve=True), TamperedError, "QC verdicts does not match its seal"))
        attempts.append(refused("takes", "delete a decision", lambda: sql("DELETE FROM reviews WHERE clip_id = ?", (clips[third].id,)),
                                sqlite3.DatabaseError, "append-only"))
    written = sorted(p.name for p in out.iterdir())
    attempts.append(Attempt("takes", "leave files behind from a refused mix", "broken" if written else "held",
                            f"written: {written}" if written else "the refused mixes wrote nothing"))
    return attempts


def _replaced_fitted_file(ctx: Context, project, clip: Clip, mix: Callable[[], Path]) -> Attempt:
    fitted = ctx.folder(project) / clip.fitted.path
    kept = fitted.read_bytes()
    sf.write(fitted, np.zeros(RATE, np.float32), RATE)  # another recording over the generated line
    try:
        return refused("takes", "replace a fitted clip's file", mix, TamperedError, "the fitted clip .* was replaced")
    finally:
        fitted.write_bytes(kept)


# Tamperings of a delivered package, each on a copy: (what it does, how, the name a finding must say).

def _line(package: Path, index: int) -> Path:
    return sorted((package / "lines").glob("*.wav"))[index]


def _one(package: Path, pattern: str) -> Path:
    return next(package.rglob(pattern))


def _delete(path: Path) -> Path:
    path.unlink()
    return path.parents[1] if path.parent.name in ("lines", "script", "timeline") else path.parent


def _remove_manifest(package: Path) -> Path:
    (package / MANIFEST).unlink()
    (package / SIGNATURE).unlink()
    return package


def _append_text(path: Path, text: str) -> Path:
    path.write_text(path.read_text("utf-8") + text, "utf-8")
    return path.parents[1]


def _as_ogg(package: Path) -> Path:
    mix = _one(package, "* full mix.wav")
    audio, rate = sf.read(mix, dtype="float32")
    sf.write(mix.with_suffix(".ogg"), audio, rate, format="OGG", subtype="VORBIS")
    mix.unlink()
    return package


def _renamed_alone(package: Path) -> Path:
    """Line 1's signed clip, alone in a folder, named as line 2."""
    first, second = _line(package, 0), _line(package, 1)
    alone = package.parent / "received alone"
    alone.mkdir()
    return shutil.copyfile(first, alone / second.name)


def _truncate(path: Path) -> Path:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path.parents[1]


TAMPERINGS: tuple[tuple[str, Callable[[Path], Path], Callable[[Path], str]], ...] = (
    ("delete a line clip", lambda p: _delete(_line(p, 1)), lambda p: _line(p, 1).name.split()[0]),
    ("delete the dialogue stem", lambda p: _delete(_one(p, "* dialogue stem.wav")), lambda p: "dialogue stem"),
    ("remove the manifest and its signature", _remove_manifest, lambda p: MANIFEST),
    ("edit the SRT", lambda p: _append_text(_one(p, "*.srt"), "\n99\n00:00:09,000 --> 00:00:10,000\nTexto añadido.\n"),
     lambda p: ".srt"),
    ("edit the EDL", lambda p: _append_text(_one(p, "*.edl"), "* an edit made after delivery\n"), lambda p: ".edl"),
    ("replace the full mix with an .ogg", _as_ogg, lambda p: "full mix"),
    ("rename a signed clip to another line and verify it alone", _renamed_alone, lambda p: _line(p, 1).name.split()[0]),
    ("truncate a line's WAV", lambda p: _truncate(_line(p, 2)), lambda p: _line(p, 2).name.split()[0]),
)


def package_tamperings(ctx: Context, package: Path, scratch: Path) -> list[Attempt]:
    """Each tampering on a fresh copy of the delivered package, then verify; last, the voice is revoked
    and its consent history corrupted, and the untouched package verified."""
    attempts = []
    for index, (attack, tamper, named) in enumerate(TAMPERINGS):
        copy = shutil.copytree(package, scratch / f"tampered {index}" / package.name)
        names = named(copy)
        attempts.append(_verified(ctx, attack, tamper(copy), names))
    speech.revoke_voice(ctx, VOICE, "benchmark: the stock voice is withdrawn", by=PRODUCER)
    history = ctx.registry.folder / VOICE / "history.jsonl"
    *kept, revocation = history.read_text("utf-8").splitlines(keepends=True)
    history.write_text("".join(kept) + "\x00" * len(revocation), "utf-8")  # the revocation record overwritten
    attempts.append(_verified(ctx, "corrupt a revoked profile's consent history", package, VOICE))
    return attempts


def _verified(ctx: Context, attack: str, target: Path, names: str) -> Attempt:
    """Caught: verify returns a failing finding naming `names` (in its file or its message), without crashing."""
    try:
        findings = delivery.verify(ctx, target)
    except Exception as crash:  # noqa: BLE001 - a crash is recorded as the outcome, not raised
        return Attempt("verify", attack, "missed", f"verify crashed: {type(crash).__name__}: {str(crash)[:160]}")
    failing = [f for f in findings if f.ok is False]
    hit = next((f for f in failing if names in f.file or names in f.message), None)
    if hit:
        return Attempt("verify", attack, "caught", f"{hit.file}: {hit.check}: {hit.message}"[:200])
    return Attempt("verify", attack, "missed", f"no failing finding names '{names}' ({len(failing)} failing: "
                                               f"{'; '.join(f'{f.file} {f.check}' for f in failing[:3]) or 'none'})")


# The served UI ---------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def login(client: httpx.Client, name: str, password: str) -> httpx.Response:
    return client.post("/login", data={"username": name, "password": password})


def signed_in(url: str, name: str, password: str, address: str = "127.0.0.1") -> httpx.Client:
    """A client of its own (from `address`) signed in as `name`."""
    client = httpx.Client(base_url=url, transport=httpx.HTTPTransport(local_address=address), timeout=30)
    if login(client, name, password).status_code != 200:
        raise DubdeskError(f"{name} could not sign in to {url}: the attack needs a signed-in {name}")
    return client


def secrets_of(ctx: Context, profiles: dict[str, str]) -> dict[str, Path]:
    """The files no role may be served: both keys, the database and its log, a consent history, and the
    recording of the actor `profiles['olive']`."""
    home = ctx.settings.home
    database, voices = home / "dubdesk.db", home / "voices"
    found = {"signing key": delivery.signing_identity(ctx).key, "registry key": home / "keys" / KEY_FILE,
             "database": database, "database -wal": database.with_name("dubdesk.db-wal"),
             "consent history": next(voices.rglob("history.jsonl")),
             "olive's reference": next((voices / profiles["olive"]).rglob("*.wav"))}
    missing = [name for name, path in found.items() if not path.is_file()]
    if missing:
        raise DubdeskError(f"the file-route attack needs these files in {home}: {', '.join(missing)}")
    return found


def attempts(path: Path, cache: Path) -> list[str]:
    """Ways to name `path` on Gradio's file routes: plain, walking out of the cache folder, percent-encoded."""
    walk = f"{cache}/x/../../..{path}"
    encoded = walk.replace("..", "%2e%2e")
    return [f"{route}{variant}" for route in FILE_ROUTES for variant in (str(path), walk, encoded)]


def fetched(client: httpx.Client, url_path: str) -> bytes | None:
    response = client.get(url_path)
    return response.content if response.status_code == 200 else None


@contextmanager
def private_cache(folder: Path) -> Iterator[None]:
    """Gradio's cache in `folder` while the UI is served, unless one is already chosen (GRADIO_TEMP_DIR)."""
    if os.environ.get("GRADIO_TEMP_DIR"):
        yield
        return
    folder.mkdir(mode=0o700)
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    try:
        yield
    finally:
        os.environ.pop("GRADIO_TEMP_DIR", None)


def web_attacks(settings: Settings, sample: Path, scratch: Path) -> list[Attempt]:
    """Each role (and nobody signed in) asks the four file routes for each secret, twelve ways each."""
    from ..access import add_user, user
    from ..services import portal

    ctx = Context(settings)
    for name, role in PEOPLE.items():
        add_user(ctx.sessions, name, PASSWORD, role)
    profiles = {name: portal.create_profile(ctx, user(ctx.sessions, name), name.title(), [LANGUAGE], ["dubbing"], None,
                                            "contract", [clip_of(sample, scratch / f"{name}.wav", start, 10.0, name)]).profile_id
                for name, start in (("vera", 2), ("olive", 14))}
    secrets = secrets_of(ctx, profiles)
    with private_cache(scratch / "ui-cache"), _served(ctx) as url:
        from ui.files import cache_folder

        cache = cache_folder(settings.home)
        clients = {name: signed_in(url, name, PASSWORD) for name in ("lucia", "vera", "dino", "adam")}
        clients["nobody signed in"] = httpx.Client(base_url=url, timeout=30)
        return [_asked(who, client, what, path, cache) for who, client in clients.items() for what, path in secrets.items()]


@contextmanager
def _served(ctx: Context) -> Iterator[str]:
    from ui.app import serve

    app, url = serve(ctx, port=free_port(), block=False)
    try:
        yield url.rstrip("/")
    finally:
        app.close()


def _asked(who: str, client: httpx.Client, what: str, path: Path, cache: Path) -> Attempt:
    secret = path.read_bytes()[:64]
    ways = attempts(path, cache)
    served = [way for way in ways if (body := fetched(client, way)) is not None and secret in body]
    if served:
        return Attempt("web", f"{who} asks for: {what}", "served", f"served at {served[0]} ({len(served)} of {len(ways)} ways)")
    return Attempt("web", f"{who} asks for: {what}", "refused",
                   f"{len(ways)} requests on {len(FILE_ROUTES)} routes (plain, walking out of the cache, percent-encoded)")


# The benchmark ---------------------------------------------------------------------------------------

def attack_all(settings: Settings, sample: Path, scratch: Path, races: int = 20, groups: tuple[str, ...] = GROUPS) -> list[Attempt]:
    """The chosen groups' attacks. Races, takes and verify share one dubbed programme, in an order that
    lets them: the races first, then one delivery, then the takes tampered with, the package last (it
    revokes the voice)."""
    found = []
    if "web" in groups:  # first: the server's model warm-up thread is done long before the program ends
        found += web_attacks(scratch_settings(settings, scratch / "web home"), sample, _folder(scratch / "web"))
    if "consent" in groups:
        found += consent_attacks(scratch_settings(settings, scratch / "consent home"), sample, _folder(scratch / "consent"))
    if {"races", "takes", "verify"} & set(groups):
        ctx, project = dubbed_desk(scratch_settings(settings, scratch / "desk home"), sample)
        if "races" in groups:
            found += race_trials(ctx, project, races)
        approve_all(ctx, project)
        package = delivery.deliver(ctx, project, LANGUAGE, scratch / "delivery") if "verify" in groups else None
        if "takes" in groups:
            found += take_tamperings(ctx, project, _folder(scratch / "takes"))
        if package:
            found += package_tamperings(ctx, package, _folder(scratch / "tampered"))
    return found


def _folder(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def run(settings: Settings, sample: Path, out: Path, races: int = 20, groups: tuple[str, ...] = GROUPS) -> list[Attempt]:
    """Every attack on a scratch data folder under the system's temporary folder; prints the table and
    the counts per group, writes both as JSON to `out`."""
    with tempfile.TemporaryDirectory(prefix="dubdesk-bench-security-") as scratch:
        found = attack_all(settings, sample, Path(scratch), races, groups)
    publish("Security: attacks tried on consent, sealed takes, concurrent edits, delivered packages and the served UI",
            [asdict(a) for a in found], summary_of(found), out)
    return found
