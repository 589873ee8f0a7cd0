"""Translation with timing budgets, consent-aware casting across a series, and the per-line synthesis path."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from dubdesk.errors import DubdeskError, ProjectError
from dubdesk.phonemes import syllable_counts
from dubdesk.qc.wer import error_counts
from dubdesk.services import casting, projects, scripting, speech, translation
from dubdesk.translate import budget_syllables, route, shorter_alternatives, translate_lines
from dubdesk.translate.pronouns import drop_subject_yo
from dubdesk.voices.records import ConsentTerms
from dubdesk.voices.registry import ConsentError

from .conftest import SAMPLE


def test_embedded_pairs_translate_and_say_their_quality():
    portuguese, empty = (t.text for t in translate_lines(["Where is the station?", ""], "en", "pt"))
    assert "estação" in portuguese and portuguese.startswith("Onde") and empty == ""
    assert route("en", "pt").quality == "good" and route("en", "es").quality == route("pt", "es").quality == "draft"
    spanish = translate_lines(["I am from Chicago."], "en", "es")[0].text
    assert error_counts("Soy de Chicago.", spanish)[0] <= 2
    assert "apertium" in route("en", "es").identity.model and "GPL" in route("en", "es").identity.weights_licence
    with pytest.raises(DubdeskError, match="no embedded translation engine covers en->ja.*by hand"):
        route("en", "ja")


def test_the_pivots_subject_pronoun_is_struck_from_spanish_where_the_verb_says_who():
    said = [t.text for t in translate_lines(["I didn't know you were there.", "And I'm Sheila.", "Tom and I are friends.",
                                             "Me too."], "en", "es")]
    assert said[0].startswith("No sabía") and said[1].startswith("Y soy Sheila"), said
    assert "yo" in said[2].lower().split() and "yo" in said[3].lower(), "a coordination and 'yo también' keep it"
    assert "pronoun rules" in route("en", "es").identity.model and "pronoun rules" not in route("en", "fr").identity.model
    assert drop_subject_yo("¿Yo puedo ir? Él quiere que yo lo ayude. De su acento, yo creo que sí.") == \
        "¿Puedo ir? Él quiere que yo lo ayude. De su acento, creo que sí."


def test_syllables_are_counted_as_spoken_in_each_language():
    assert syllable_counts(["Oh, hello.", "At least, you know, they all call me a Yankee down here.", "", "Hmm"], "en") \
        == [3, 13, 0, 1]
    assert syllable_counts(["No te vi ahí.", "Bien, no hay mucha diferencia.", "¿Sabes?"], "es") == [5, 9, 2]
    assert syllable_counts(["Qu'est-ce que tu veux ?"], "fr") == [4] and syllable_counts(["Não sei o que fazer."], "pt") == [6]
    assert syllable_counts(["こんにちは", "東京です"], "ja") == [5, 6]  # morae, estimated from the writing


def test_budget_is_what_the_target_says_in_the_source_lines_time():
    assert budget_syllables(10, "en", "es") == 13 and budget_syllables(10, "es", "en") == 8
    assert budget_syllables(10, "en", "de") == 10 and budget_syllables(0, "en", "es") == 1


def test_translation_marks_lines_over_budget_and_keeps_human_edits(ctx, sample_project):
    rows = translation.translate(ctx, sample_project, "pt")
    assert len(rows) == len(scripting.script(ctx, sample_project).lines)
    said = dict(zip(rows, syllable_counts([row.text for row in rows.values()], "pt")))
    assert all(row.over_budget == (said[line_id] > row.budget_syllables) for line_id, row in rows.items())
    line_id, row = next((k, v) for k, v in rows.items() if v.over_budget)
    edited = translation.edit_translation(ctx, sample_project, line_id, "pt", "Curto.", "reviewer@studio", row.version)
    assert edited.origin == "human" and not edited.over_budget
    with pytest.raises(ProjectError, match="was changed by reviewer@studio"):
        translation.edit_translation(ctx, sample_project, line_id, "pt", "Outra coisa.", "second@studio", row.version)
    assert translation.translate(ctx, sample_project, "pt")[line_id].text == "Curto."


def _actor(ctx, languages=("es",), until=None, titles=("*",)):
    terms = ConsentTerms(tuple(languages), titles=titles, valid_from=date.today() - timedelta(days=1),
                         valid_until=until or date.today() + timedelta(days=10), terms_ref="contract 7")
    return ctx.registry.create("Bea Voz", terms, by="Bea Voz").profile_id


def test_only_consented_voices_are_offered_and_cast(ctx, sample_project):
    allowed, other_title = _actor(ctx), _actor(ctx, titles=("Some other show",))
    offered = {r.profile_id for r in casting.eligible_voices(ctx, sample_project, "es")}
    assert allowed in offered and "stock-pico-es-es" in offered
    assert other_title not in offered and "stock-pico-de-de" not in offered
    with pytest.raises(ConsentError, match="does not cover title"):
        casting.cast(ctx, sample_project, "SPEAKER_00", "es", other_title)


def test_series_keeps_one_voice_per_character(ctx):
    voice, other = _actor(ctx), _actor(ctx)
    episodes = []
    for number in (1, 2):
        project = projects.create_project(ctx, SAMPLE, name=f"Episode {number}")
        episodes.append(projects.describe_project(ctx, project, series="Calls", characters={"SPEAKER_00": "Diane"}))
    casting.cast(ctx, episodes[0], "SPEAKER_00", "es", voice)
    with pytest.raises(DubdeskError, match="one voice per character: Diane is voiced by"):
        casting.cast(ctx, episodes[1], "SPEAKER_00", "es", other)
    casting.cast(ctx, episodes[1], "SPEAKER_00", "es", voice)


def test_stale_casting_cannot_synthesize_after_revocation(ctx, sample_project):
    voice = _actor(ctx)
    translation.translate(ctx, sample_project, "es")
    for speaker in scripting.script(ctx, sample_project).speakers:
        casting.cast(ctx, sample_project, speaker, "es", voice)
    clips, refused = speech.synthesize_language(ctx, sample_project, "es")
    assert clips and not refused
    speech.revoke_voice(ctx, voice, "withdrawn", by="Bea Voz")
    clips_after, refused_after = speech.synthesize_language(ctx, sample_project, "es")
    assert clips_after == [] and all("revoked" in reason for reason in refused_after.values())
    assert {c.status for c in speech.clips(ctx, sample_project) if c.profile_id == voice} == {"blocked"}


def test_glossary_and_character_names_come_out_as_required(ctx):
    terms = {"Blue Falcon": "Halcón Azul", "Sheila": "Sheila"}
    spanish = [t.text for t in translate_lines(["The Blue Falcon is Sheila's car.", "Sheila said no."], "en", "es", terms)]
    assert "Halcón Azul" in spanish[0] and "Sheila" in spanish[0] and spanish[1].startswith("Sheila")
    project = projects.create_project(ctx, SAMPLE, name="Glossary")
    project = projects.describe_project(ctx, project, characters={"SPEAKER_01": "Sheila"},
                                         glossary={"Chicago": {"pt": "Chicagoland"}})
    rows = translation.translate(ctx, project, "pt")
    assert any("Chicagoland" in row.text for row in rows.values())
    assert any("Sheila" in row.text for row in rows.values())


def test_production_translation_engines_load_only_from_configured_places(tmp_path):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from dubdesk.config import TranslateSettings
    from dubdesk.errors import ModelMissingError

    with pytest.raises(ModelMissingError, match=str(tmp_path / "model.bin")):
        route("en", "de", TranslateSettings(engine="ctranslate2", model=str(tmp_path)))
    with pytest.raises(ModelMissingError, match="translate.url"):
        route("en", "de", TranslateSettings(engine="chat"))

    asked = []

    class Server(BaseHTTPRequestHandler):
        """A local chat server that answers with the line in capitals, keeping Zxq tokens as told."""

        def do_POST(self):
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            line = request["messages"][-1]["content"].split("\n", 1)[1]
            asked.append(request["messages"][-1]["content"])
            words = [word if word.startswith("Zxq") else word.upper() for word in line.split()]
            reply = " ".join(words)
            if "at most" in request["messages"][-1]["content"]:  # candidates, numbered as a model might
                reply = "\n".join(f"{n}. {' '.join(words[:size])}" for n, size in enumerate((2, 4, len(words)), 1))
            body = json.dumps({"choices": [{"message": {"content": reply}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = TranslateSettings(engine="chat", url=f"http://127.0.0.1:{server.server_port}", model="local-llm",
                                     licence="Apache-2.0")
        out = translate_lines(["Hello Sheila.", ""], "en", "de", {"Sheila": "Sheila"}, settings)
        assert [t.text for t in out] == ["HELLO Sheila.", ""]  # "Zxqa." came back and was restored
        assert all(t.untranslated == () for t in out)  # a production engine marks nothing
        assert asked == ["From English to German:\nHello Zxqa."]
        assert route("en", "de", settings).identity.weights_licence == "Apache-2.0"
        # a line over its budget: the engine is asked for several wordings; those within budget are kept,
        # the one closest in meaning to the full translation first
        assert shorter_alternatives("Sheila, we will meet again tomorrow.", "en", "de", 6, "Sheila, WE WILL MEET AGAIN",
                                    {"Sheila": "Sheila"}, settings) == ["Sheila, WE WILL MEET", "Sheila, WE"]
        assert "at most 6 syllables" in asked[-1]
        assert shorter_alternatives("Sheila, we will meet again.", "en", "de", 1, "", {}, settings) == []
        assert shorter_alternatives("Hello.", "en", "pt", 5, "Olá.") == []  # embedded engines propose none
    finally:
        server.shutdown()
