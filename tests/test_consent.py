"""Consent is architecture: every way around the check is tried here and must be refused."""
from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import update

from dubdesk import errors
from dubdesk.audio import resample
from dubdesk.bench.security.consent import actor, pico_voice, speak
from dubdesk.config import Settings
from dubdesk.context import Context
from dubdesk.errors import DubdeskError, ModelMissingError
from dubdesk.seal import KEY_FILE, Seal
from dubdesk.services import projects, speech
from dubdesk.store import open_database
from dubdesk.store.models import VoiceProfile
from dubdesk.synth.engines import XTTSEngine, voice_engine
from dubdesk.synth.voice_match import VoiceMatcher
from dubdesk.voices import consent
from dubdesk.voices.consent import ConsentGrant, authorize
from dubdesk.voices.registry import ConsentError, TamperedError
from dubdesk.voices.stock import STOCK_FILE

from .conftest import SAMPLE, ffmpeg

TODAY = date.today()


@pytest.fixture()
def bench(tmp_path):
    ctx = Context(Settings(home=tmp_path / "home"))
    project = projects.create_project(ctx, SAMPLE, name="Pilot")
    reference = tmp_path / "actor reference.wav"
    ffmpeg("-i", str(SAMPLE), "-ss", "6.5", "-t", "6", str(reference))
    return ctx, project, reference


def revoked_actor(ctx, reference):
    """An actor's profile whose consent was given and then withdrawn."""
    profile = actor(ctx, reference)
    speech.revoke_voice(ctx, profile.profile_id, "withdrawn", by="Ana Actriz")
    return profile


def test_consented_line_is_synthesized_labelled_and_linked_to_its_record(bench):
    ctx, project, reference = bench
    profile = actor(ctx, reference)
    clip = speak(ctx, project, profile.profile_id)
    path = ctx.folder(project) / clip.path
    assert "[AI beta]" in path.name
    with sf.SoundFile(path) as stored:
        assert "AI beta" in stored.comment and profile.hash in stored.comment and stored.frames > 8000
    history_hashes = {r.hash for r in ctx.registry.history(profile.profile_id)}
    assert all(c.consent_record in history_hashes for c in speech.clips(ctx))


@pytest.mark.parametrize("terms, language, message", [
    ({"valid_until": TODAY - timedelta(days=1)}, "es", "expired"),
    ({"valid_from": TODAY + timedelta(days=1)}, "es", "starts on"),
    ({}, "fr", "does not cover language 'fr'"),
    ({"titles": ("Another show",)}, "es", "does not cover title 'Pilot'"),
    ({"uses": ("promo",)}, "es", "does not cover use 'dubbing'"),
])
def test_terms_that_do_not_cover_the_line_refuse_synthesis(bench, terms, language, message):
    ctx, project, reference = bench
    profile = actor(ctx, reference, **terms)
    with pytest.raises(ConsentError, match=message):
        speak(ctx, project, profile.profile_id, language)
    assert speech.clips(ctx) == []


def test_unknown_voice_is_refused(bench):
    ctx, project, _ = bench
    with pytest.raises(ConsentError, match="no voice profile 'nobody'"):
        speak(ctx, project, "nobody")


def test_revocation_refuses_new_lines_and_blocks_unmixed_ones(bench):
    ctx, project, reference = bench
    profile = actor(ctx, reference)
    speak(ctx, project, profile.profile_id)
    assert speech.revoke_voice(ctx, profile.profile_id, "actor withdrew consent", by="Ana Actriz") == 1
    with pytest.raises(ConsentError, match="revoked .*actor withdrew consent"):
        speak(ctx, project, profile.profile_id)
    (clip,) = speech.clips(ctx)
    assert clip.status == "blocked" and "actor withdrew consent" in clip.blocked_reason
    with pytest.raises(ConsentError, match="revoked"):
        ctx.registry.update_terms(profile.profile_id, profile.terms, by="Ana Actriz")


def test_edited_record_is_detected(bench):
    ctx, project, reference = bench
    profile = actor(ctx, reference, languages=("es",))
    history = ctx.registry.folder / profile.profile_id / "history.jsonl"
    history.write_text(history.read_text().replace('"languages": ["es"]', '"languages": ["es", "fr"]'))
    with pytest.raises(TamperedError, match="signature does not verify"):
        speak(ctx, project, profile.profile_id, "fr")


def test_removed_revocation_is_detected(bench):
    ctx, project, reference = bench
    profile = revoked_actor(ctx, reference)
    history = ctx.registry.folder / profile.profile_id / "history.jsonl"
    history.write_text(history.read_text().splitlines(keepends=True)[0])
    with pytest.raises(TamperedError, match="does not end at the registered head"):
        speak(ctx, project, profile.profile_id)


def test_a_revocation_cannot_be_undone_through_the_files_the_database_or_the_api(bench, tmp_path):
    ctx, project, reference = bench
    profile = revoked_actor(ctx, reference)
    revoked = ctx.registry.current(profile.profile_id)
    with pytest.raises(ConsentError, match="revocation is final"):  # a new record after it, through the registry
        ctx.registry._append(revoked.next(revoked_at=None, revocation_reason=""), by="attacker", action="undo")
    history = ctx.registry.folder / profile.profile_id / "history.jsonl"
    history.write_text(history.read_text().splitlines(keepends=True)[0])  # the revocation record removed ...
    database = sqlite3.connect(ctx.settings.home / "dubdesk.db")
    with pytest.raises(sqlite3.DatabaseError, match="only moves forward"):  # ... and the head rolled back
        database.execute("UPDATE voice_profiles SET head_hash = ?, version = 1 WHERE id = ?", (profile.hash, profile.profile_id))
    with pytest.raises(sqlite3.DatabaseError, match="revocation is final"):
        database.execute("DELETE FROM revocations WHERE profile_id = ?", (profile.profile_id,))
    database.execute("DROP TRIGGER voice_profiles_forward")  # an attacker who removes the guard too
    database.execute("UPDATE voice_profiles SET head_hash = ?, version = 1 WHERE id = ?", (profile.hash, profile.profile_id))
    database.commit()
    database.close()
    with pytest.raises(TamperedError, match="the revocation was removed"):
        speak(ctx, project, profile.profile_id)


def test_a_revoked_voice_cannot_come_back_under_a_new_profile(bench, tmp_path):
    from .test_pipeline import run_cli

    ctx, _, reference = bench
    revoked_actor(ctx, reference)
    rewrapped = tmp_path / "same voice.flac"  # the same recording, another container and name
    ffmpeg("-i", str(reference), str(rewrapped))
    with pytest.raises(ConsentError, match="a revoked voice cannot be registered again"):
        actor(ctx, rewrapped)
    again = run_cli("voices", "add", "--actor", "Ana", "--language", "es", "--reference", str(rewrapped),
                    home=ctx.settings.home)
    assert again.returncode == 2 and "cannot be registered again" in again.stderr


def test_record_signed_with_another_key_is_refused(bench, tmp_path):
    ctx, project, reference = bench
    profile = actor(ctx, reference)
    other_key = Seal(tmp_path / "other-keys", open_database(f"sqlite:///{tmp_path / 'other.db'}"))
    forged = replace(profile.next(terms=replace(profile.terms, languages=("es", "fr"))), signer=other_key.fingerprint)
    forged = replace(forged, signature=other_key.sign_bytes(forged.signed_content()))
    history = ctx.registry.folder / profile.profile_id / "history.jsonl"
    with history.open("a") as lines:  # the files and the database, but not the key
        lines.write(json.dumps(forged.to_json()) + "\n")
    with ctx.sessions() as session:
        session.execute(update(VoiceProfile).where(VoiceProfile.id == profile.profile_id)
                        .values(head_hash=forged.hash, version=forged.version))
        session.commit()
    with pytest.raises(TamperedError, match="signed by an unknown key"):
        speak(ctx, project, profile.profile_id, "fr")


def test_a_replaced_registry_key_is_refused_by_its_pins(bench, tmp_path):
    ctx, _, _ = bench
    pinned = ctx.registry.signer
    key_file = ctx.settings.home / "keys" / KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600
    key_file.unlink()  # an attacker brings a key of their own, to re-sign every history with it
    with pytest.raises(errors.TamperedError, match="the database pins"):
        Context(ctx.settings).registry.profile_ids()
    with pytest.raises(errors.TamperedError, match="the settings pin"):
        Context(Settings(home=tmp_path / "fresh", key_fingerprint=pinned)).registry.profile_ids()


def test_changed_reference_recording_is_refused(bench):
    ctx, project, reference = bench
    profile = actor(ctx, reference)
    (stored,) = ctx.registry.reference_paths(profile)
    stored.write_bytes(stored.read_bytes()[:-100])
    with pytest.raises(TamperedError, match="reference .* missing or changed"):
        speak(ctx, project, profile.profile_id)


def test_engines_refuse_without_a_grant_from_the_consent_check(bench, monkeypatch):
    ctx, _, reference = bench
    profile = actor(ctx, reference)
    other = actor(ctx, reference, languages=("de",))
    engine = voice_engine("pico")
    voice = pico_voice(profile, ctx.registry.reference_paths(profile))
    forged = ConsentGrant(profile.profile_id, profile.hash, "es", "Pilot", "dubbing", "pico", "es-ES", (), 0.0, mac="0" * 64)
    for grant in (None, "yes", forged):
        with pytest.raises(ConsentError, match="no valid consent grant"):
            engine.speak("Hola.", voice, "es", grant, profile.profile_id)
    _, _, granted = authorize(ctx.registry, other.profile_id, "de", "Pilot", "dubbing", pico_voice)
    with pytest.raises(ConsentError, match="covers"):
        engine.speak("Hola.", voice, "es", granted, profile.profile_id)
    _, _, fresh = authorize(ctx.registry, profile.profile_id, "es", "Pilot", "dubbing", pico_voice)
    later = fresh.issued + consent.GRANT_LIFETIME_S + 1
    monkeypatch.setattr(consent.time, "monotonic", lambda: later)
    with pytest.raises(ConsentError, match="expired"):
        engine.speak("Hola.", voice, "es", fresh, profile.profile_id)


def test_a_grant_binds_the_voice_and_references_and_dies_with_a_revocation(bench, tmp_path):
    ctx, project, reference = bench
    profile = actor(ctx, reference)
    engine = voice_engine("pico")
    _, voice, grant = authorize(ctx.registry, profile.profile_id, "es", "Pilot", "dubbing", pico_voice)
    assert engine.speak("Hola.", voice, "es", grant, profile.profile_id).audio.size > 0
    with pytest.raises(ConsentError, match="covers"):  # another of the engine's voices
        engine.speak("Hola.", replace(voice, name="it-IT"), "es", grant, profile.profile_id)
    stranger = tmp_path / "someone else.wav"
    ffmpeg("-i", str(SAMPLE), "-ss", "0", "-t", "5", str(stranger))
    with pytest.raises(ConsentError, match="does not cover the recording"):  # a reference nobody consented with
        engine.speak("Hola.", replace(voice, references=(stranger,)), "es", grant, profile.profile_id)
    with pytest.raises(ConsentError, match="does not cover the recording"):  # nor may the voice matcher hear one
        VoiceMatcher(ctx.folder(project)).apply(np.zeros(16000, np.float32), 16000, grant, (stranger,), "k", 200.0)
    speech.revoke_voice(ctx, profile.profile_id, "withdrawn", by="Ana Actriz")
    with pytest.raises(ConsentError, match="revoked"):  # a grant minted before the revocation is dead at once
        engine.speak("Hola.", voice, "es", grant, profile.profile_id)


def test_consent_is_checked_for_today_only(bench):
    ctx, _, reference = bench
    profile = actor(ctx, reference, valid_until=TODAY - timedelta(days=1))
    with pytest.raises(TypeError):
        authorize(ctx.registry, profile.profile_id, "es", "Pilot", "dubbing", pico_voice, day=TODAY - timedelta(days=5))
    with pytest.raises(ConsentError, match="expired"):
        authorize(ctx.registry, profile.profile_id, "es", "Pilot", "dubbing", pico_voice)


def test_piper_stock_voice_speaks_intelligibly_through_the_gate(bench, settings):
    from dubdesk.qc.wer import error_counts
    from dubdesk.transcribe import get_transcriber

    ctx, project, _ = bench
    text = "The meeting starts at nine, and everyone must bring the new script."
    clip = speech.synthesize(ctx, project, "T0001", text, "en", "stock-piper-en-us-joe")  # a trial: its own pace
    assert "GPL-3.0 (run as a separate program)" in clip.engine["weights_licence"]
    audio, rate = sf.read(ctx.folder(project) / clip.path, dtype="float32")
    heard = get_transcriber(settings).transcribe(resample(audio, rate), "en")
    errors, words = error_counts(text, " ".join(w.text for w in heard.words))
    assert errors / words <= 0.2


def test_stock_voices_are_profiles_with_their_licence(bench):
    ctx, project, _ = bench
    record = ctx.registry.current("stock-pico-de-de")
    assert record.stock.weights_licence.startswith("Apache-2.0") and record.terms.languages == ("de",)
    clip = speak(ctx, project, "stock-pico-de-de", "de", "Guten Tag.")
    assert clip.engine["weights_licence"].startswith("Apache-2.0")
    with pytest.raises(ConsentError, match="does not cover language 'es'"):
        speak(ctx, project, "stock-pico-de-de", "es")


def test_non_commercial_weights_are_refused_for_a_commercial_project(tmp_path):
    settings = Settings(home=tmp_path / "home").with_overrides(synth={"engine": "xtts", "xtts_model": str(tmp_path)})
    ctx = Context(settings)
    reference = tmp_path / "ref.wav"
    ffmpeg("-i", str(SAMPLE), "-ss", "6.5", "-t", "6", str(reference))  # speech: a usable reference
    profile = actor(ctx, reference, titles=("*",))
    commercial = projects.create_project(ctx, SAMPLE, name="Ad", commercial=True)
    with pytest.raises(DubdeskError, match="commercial.*Coqui Public Model License"):
        speak(ctx, commercial, profile.profile_id)
    research = projects.create_project(ctx, SAMPLE, name="Study")
    with pytest.raises(ModelMissingError, match="XTTS-v2.*model.pth"):
        speak(ctx, research, profile.profile_id)
    with pytest.raises(ModelMissingError, match=r"XTTS-v2.*setting synth\.xtts_model \(unset\)"):
        XTTSEngine(None)


def test_voices_commands_register_show_and_revoke(tmp_path, monkeypatch):
    from .test_pipeline import run_cli

    monkeypatch.setenv("COLUMNS", "200")
    home = tmp_path / "home"
    reference = tmp_path / "ref.wav"
    ffmpeg("-i", str(SAMPLE), "-ss", "6.5", "-t", "6", str(reference))  # speech: a usable reference
    added = run_cli("voices", "add", "--actor", "Zoë Ünal", "--language", "es", "--reference", str(reference),
                    "--until", "2099-01-01", "--terms", "contract 9", home=home)
    assert added.returncode == 0, added.stderr
    profile_id = added.stdout.strip()
    shown = run_cli("voices", "show", profile_id, home=home)
    assert shown.returncode == 0 and "2099-01-01" in shown.stdout
    revoked = run_cli("voices", "revoke", profile_id, "--reason", "withdrawn", home=home)
    assert revoked.returncode == 0 and f"revoked {profile_id}" in revoked.stdout
    ctx = Context(Settings(home=home))
    assert ctx.registry.current(profile_id).revoked
    bad = run_cli("voices", "add", "--actor", "X", "--language", "es", "--reference", str(tmp_path / "none.wav"), home=home)
    assert bad.returncode == 2 and "none.wav: no such file" in bad.stderr
    stock = {entry["profile_id"] for entry in json.loads(STOCK_FILE.read_text())["voices"]}
    assert set(ctx.registry.profile_ids()) == stock | {profile_id}, "the failed add left no profile behind"


def test_japanese_stock_voice_speaks_through_the_same_gate_and_is_understood(bench):
    from dubdesk.qc.wer import transcript_errors
    from dubdesk.transcribe import get_transcriber

    ctx, project, _ = bench
    text = "会議は午後三時に始まります。"
    clip = speak(ctx, project, "stock-kokoro-ja-jf-alpha", "ja", text)
    assert clip.engine["engine"] == "kokoro" and "Apache-2.0" in clip.engine["weights_licence"]
    audio, rate = sf.read(ctx.folder(project) / clip.path, dtype="float32")
    heard = get_transcriber(ctx.settings).transcribe(resample(audio, rate), "ja")
    errors, length = transcript_errors(text, [w.text for w in heard.words], "ja")
    assert errors / length < 0.35
    with pytest.raises(ConsentError, match="does not cover language 'en'"):
        speak(ctx, project, "stock-kokoro-ja-jf-alpha", "en", "Hello.")


def test_embedded_voice_is_matched_to_the_actors_references_once(bench):
    ctx, project, reference = bench
    profile = actor(ctx, reference, languages=("en",))
    first = speak(ctx, project, profile.profile_id, "en", "The meeting starts at three in the afternoon.")
    match = first.settings["voice_match"]
    assert match["tool"].startswith("Praat") and 60 < match["pitch_median_hz"] < 400
    assert match["similarity_after"] >= match["similarity_before"]
    assert match["applied"] == (match["similarity_after"] > match["similarity_before"])
    second = speak(ctx, project, profile.profile_id, "en", "Please bring the documents with you.")
    assert second.settings["voice_match"] == match  # calibrated once per consent record and base voice
    assert json.loads((ctx.folder(project) / "voice-match.json").read_text())
