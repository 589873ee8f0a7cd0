"""Trust under attack and under load: two people on one line, a dub run again, and mixing that
relies on nothing the database alone can say (rows edited, inserted or relabelled, files replaced)."""
from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from sqlalchemy import select

from dubdesk.bench.security.common import dubbed_desk
from dubdesk.bench.security.races import race
from dubdesk.config import Settings
from dubdesk.errors import ProjectError, TamperedError
from dubdesk.services import checks, delivery, desk, pipeline, scripting, speech, translation
from dubdesk.services.desk import regenerate_line
from dubdesk.store.models import AuditEvent, Clip
from dubdesk.voices.registry import ConsentError

from .conftest import SAMPLE
from .test_pipeline import run_cli

LANGUAGE, VOICE, REVIEWER = "es", "stock-pico-es-es", "Rita Reviewer"
RACES = 20


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A three-line programme of its own (own data folder: a test here revokes the stock voice),
    dubbed up to review."""
    return dubbed_desk(Settings(home=tmp_path_factory.mktemp("trust-home")), SAMPLE)


def _clip_ids(ctx, project) -> dict[str, int]:
    return {line_id: clip.id for line_id, clip in speech.current_clips(ctx, project, LANGUAGE).items()}


def test_running_the_dub_again_does_no_new_work_and_keeps_every_decision(prepared):
    ctx, project = prepared
    for line_id in speech.current_clips(ctx, project, LANGUAGE):
        desk.review(ctx, project, line_id, LANGUAGE, REVIEWER, approve=True, override_reason="test: accepted as it is")
    before, approved = _clip_ids(ctx, project), set(desk.approvals(ctx, project, LANGUAGE))
    report = pipeline.prepare_dub(ctx, project, LANGUAGE, VOICE, by="Paula Producer")
    assert not report.refused and set(report.results) == set(before)
    assert _clip_ids(ctx, project) == before, "no line was spoken again"
    assert set(desk.approvals(ctx, project, LANGUAGE)) == approved == set(before)
    assert len(speech.clips(ctx, project)) == len(before)
    seals = {line_id: clip.qc_seal for line_id, clip in speech.current_clips(ctx, project, LANGUAGE).items()}
    checks.qc(ctx, project, LANGUAGE, again=True)  # every line decided on: its verdicts stand
    assert {line_id: clip.qc_seal for line_id, clip in speech.current_clips(ctx, project, LANGUAGE).items()} == seals


def test_two_processes_editing_one_line_lose_no_edit(prepared):
    ctx, project = prepared
    line_id = next(iter(speech.current_clips(ctx, project, LANGUAGE)))
    results = race(ctx, project, line_id, RACES)
    saved = sorted((round_, name) for round_, name, outcome in results if outcome == "saved")
    assert [round_ for round_, _ in saved] == list(range(RACES)), "exactly one of the two wins each round"
    text = translation.translations(ctx, project, LANGUAGE)[line_id]
    clip = speech.current_clips(ctx, project, LANGUAGE)[line_id]
    last_round, last_winner = saved[-1]
    assert text.text == clip.text == f"Versión {last_round} de {last_winner}."
    assert text.edited_by == last_winner
    with ctx.sessions() as session:
        takes = {c.text for c in session.scalars(select(Clip).where(Clip.line_id == line_id))}
        audited = [(e.actor, e.detail["text"]) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == "regenerated", AuditEvent.line_id == line_id))]
    won = {f"Versión {round_} de {name}." for round_, name in saved}
    lost = {f"Versión {round_} de {name}." for round_, name, outcome in results if outcome == "refused"}
    assert won <= takes and not lost & takes, "every saved edit has its take; no refused edit left one"
    assert sorted(text for _, text in audited) == sorted(won)
    spoken = {path.name for path in (ctx.folder(project) / "clips").iterdir() if "_fit" not in path.name}
    assert len(spoken) == len(speech.clips(ctx, project)), "a refused take leaves no file behind"


def test_the_mix_trusts_no_row_or_file_the_database_alone_could_forge(prepared, tmp_path):
    ctx, project = prepared
    clips = speech.current_clips(ctx, project, LANGUAGE)
    first, second, third = clips
    checks.qc(ctx, project, LANGUAGE)  # the race left a new take: check it, then approve it by name
    for line_id in clips:
        if line_id not in desk.approvals(ctx, project, LANGUAGE):
            desk.review(ctx, project, line_id, LANGUAGE, REVIEWER, approve=True, override_reason="test: accepted")
    database = sqlite3.connect(ctx.settings.home / "dubdesk.db")

    database.execute("UPDATE clips SET profile_id = 'stock-pico-it-it' WHERE id = ?", (clips[first].id,))
    database.commit()
    with pytest.raises(ConsentError, match=f"{first}\\) name a consent record that voice 'stock-pico-it-it' never had"):
        delivery.deliver(ctx, project, LANGUAGE, tmp_path)
    database.execute("UPDATE clips SET profile_id = ?, text = 'Otra cosa.' WHERE id = ?", (VOICE, clips[first].id))
    database.commit()
    with pytest.raises(TamperedError, match=f"line {first}: its clip record does not match its seal"):
        delivery.deliver(ctx, project, LANGUAGE, tmp_path)
    database.execute("UPDATE clips SET text = ? WHERE id = ?", (clips[first].text, clips[first].id))
    database.commit()

    fitted = ctx.folder(project) / clips[second].fitted.path
    kept = fitted.read_bytes()
    shutil.copyfile(SAMPLE, fitted)  # a human recording over the generated line
    with pytest.raises(TamperedError, match=f"line {second}: the fitted clip .* was replaced"):
        delivery.deliver(ctx, project, LANGUAGE, tmp_path)
    fitted.write_bytes(kept)

    reading = database.execute("SELECT qc_reading FROM clips WHERE id = ?", (clips[second].id,)).fetchone()[0]
    forged = json.loads(reading)
    forged["embedding"].reverse()  # another voice, as far as the first line's voice check is concerned
    voice = {}  # of the first line checked again, while the second line's reading (what it compares with) is:
    for state, value in (("forged", json.dumps(forged)), ("absent", None)):
        database.execute("UPDATE clips SET qc_reading = ? WHERE id = ?", (value, clips[second].id))
        database.commit()
        voice[state] = next(c for c in checks.run_checks(ctx, project, LANGUAGE, {first: clips[first]})[first]
                            if c.check == "voice")
        with pytest.raises(TamperedError, match=f"line {second}: its QC verdicts does not match its seal"):
            delivery.deliver(ctx, project, LANGUAGE, tmp_path)
    assert voice["forged"] == voice["absent"], "a forged reading is left out of another line's check"
    database.execute("UPDATE clips SET qc_reading = ? WHERE id = ?", (reading, clips[second].id))
    database.commit()

    desk.review(ctx, project, third, LANGUAGE, REVIEWER, approve=False, note="too flat")
    database.execute("INSERT INTO reviews (clip_id, decision, reviewer, created_at) VALUES (?, 'approved', ?, "
                     "CURRENT_TIMESTAMP)", (clips[third].id, REVIEWER))
    database.commit()
    with pytest.raises(TamperedError, match=f"line {third}: its approval carries no seal"):
        delivery.deliver(ctx, project, LANGUAGE, tmp_path)

    database.execute("UPDATE qc_results SET verdict = 'pass', reason = 'fine' WHERE clip_id = ?", (clips[third].id,))
    database.commit()
    with pytest.raises(TamperedError, match=f"line {third}: its QC verdicts does not match its seal"):
        desk.review(ctx, project, third, LANGUAGE, REVIEWER, approve=True)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        database.execute("DELETE FROM reviews WHERE clip_id = ?", (clips[third].id,))
    database.rollback()
    database.close()
    assert not list(tmp_path.iterdir()), "a refused mix writes nothing"


def test_an_adapters_script_speaks_only_the_lines_it_changes_and_refuses_a_bad_file(prepared, tmp_path):
    ctx, project = prepared
    first, second, _ = speech.current_clips(ctx, project, LANGUAGE)
    before = _clip_ids(ctx, project)
    script = tmp_path / "adaptation.tsv"
    unchanged = translation.translations(ctx, project, LANGUAGE)[second].text
    script.write_text(f"line\tsource\tdub\n{first}\tGood morning, everyone.\tBuenos días.\n"
                      f"{second}\tWe start the meeting now.\t{unchanged}\n", encoding="utf-8")
    adapted = run_cli("adapt", str(project.id), "--to", LANGUAGE, "--from", str(script), "--by", "Ana Adapter",
                      home=ctx.settings.home)
    assert adapted.returncode == 0, adapted.stderr
    assert f'{first}: "Buenos días."' in adapted.stdout and "1 line(s) adapted" in adapted.stdout
    after = _clip_ids(ctx, project)
    assert after[first] != before[first] and after[second] == before[second]
    assert speech.current_clips(ctx, project, LANGUAGE)[first].qc_seal, "the new take is checked"
    script.write_text("line\tdub\nL0001\tHola.\n", encoding="utf-8")
    refused = run_cli("adapt", str(project.id), "--to", LANGUAGE, "--from", str(script), home=ctx.settings.home)
    assert refused.returncode == 2 and "needs a header row with the columns line, source, dub" in refused.stderr


def test_an_adapters_script_taken_before_the_dub_is_the_text_the_dub_speaks_once(prepared, tmp_path):
    ctx, project = prepared
    language, voice = "fr", "stock-pico-fr-fr"  # translated, not cast: nothing spoken in French yet
    first, second, third = (line.id for line in scripting.script(ctx, project).lines)
    machine = translation.translate(ctx, project, language)
    script = tmp_path / "adaptation.tsv"
    script.write_text(f"line\tsource\tdub\n{first}\tGood morning, everyone.\tBonjour à tous.\n"
                      f"{second}\t-\t{machine[second].text}\n", encoding="utf-8")
    adapted = run_cli("adapt", str(project.id), "--to", language, "--from", str(script), "--by", "Ana Adapter",
                      home=ctx.settings.home)
    assert adapted.returncode == 0, adapted.stderr
    assert f'{first}: "Bonjour à tous." (written; the dub speaks it)' in adapted.stdout
    assert "1 line(s) adapted; `dubdesk dub` speaks them" in adapted.stdout
    assert not speech.current_clips(ctx, project, language), "nothing is spoken before the dub"
    written = translation.translations(ctx, project, language)[first]
    assert (written.text, written.origin, written.edited_by) == ("Bonjour à tous.", "human", "Ana Adapter")
    pipeline.prepare_dub(ctx, project, language, voice)
    takes = speech.current_clips(ctx, project, language)
    assert takes[first].text == "Bonjour à tous." and takes[second].text == machine[second].text
    spoken = [clip.line_id for clip in speech.clips(ctx, project) if clip.language == language]
    assert spoken.count(first) == 1 and third in spoken, "the adapted line is spoken once, by the dub"
    rows = {row.line_id: row for row in desk.review_rows(ctx, project, language)}
    assert rows[first].text_label == "human" and all(row.qc for row in rows.values())


def test_qc_as_json_gives_every_line_with_its_texts_fit_and_each_checks_verdict(prepared):
    ctx, project = prepared
    printed = run_cli("qc", str(project.id), "--to", LANGUAGE, "--json", home=ctx.settings.home)
    assert printed.returncode == 0, printed.stderr
    lines = json.loads(printed.stdout)  # only JSON on standard output: progress goes to standard error
    script = scripting.script(ctx, project)
    assert [line["line"] for line in lines] == [line.id for line in script.lines]
    for line, source in zip(lines, script.lines):
        assert line["source_text"] == source.text and line["text"] and line["voice_profile"] == VOICE
        assert line["fit"]["rate"] > 0 and line["fit"]["slot_s"] > 0
        assert [check["check"] for check in line["checks"]][:2] == ["translation", "technical"]
        assert all(check["verdict"] in {"pass", "warn", "fail", "n/a"} and check["reason"] for check in line["checks"])
        assert line["decision"] in {"pending", "approved", "rejected"}


def test_a_revoked_voice_stops_a_regeneration_whole_and_a_dub_run_says_so(prepared):
    ctx, project = prepared
    line_id, clip = next(iter(speech.current_clips(ctx, project, LANGUAGE).items()))
    row = translation.translations(ctx, project, LANGUAGE)[line_id]
    speech.revoke_voice(ctx, VOICE, "the stock voice is withdrawn", by="Vera Voice")
    with pytest.raises(ConsentError, match="revoked"):
        regenerate_line(ctx, project, line_id, LANGUAGE, "Un texto nuevo.", "ana", row.version)
    after = translation.translations(ctx, project, LANGUAGE)[line_id]
    assert (after.text, after.version) == (row.text, row.version), "the refused regeneration saved no text"
    assert speech.current_clips(ctx, project, LANGUAGE)[line_id].id == clip.id
    with pytest.raises(ProjectError, match="blocked"):
        delivery.deliver(ctx, project, LANGUAGE, ctx.settings.home / "out")
    again = run_cli("dub", str(project.id), "--to", LANGUAGE, "--voice", VOICE, "--by", "Paula Producer",
                    home=ctx.settings.home)
    assert again.returncode == 1 and "revoked" in again.stderr and "not synthesized" in again.stderr


def test_every_change_is_audited_with_the_person_who_made_it(prepared):
    ctx, project = prepared
    with ctx.sessions() as session:
        events = {(e.action, e.actor) for e in session.scalars(select(AuditEvent))}
    for expected in [("project created", "Paula Producer"), ("cast", "Paula Producer"),
                     ("lines synthesized", "Paula Producer"), ("approved", REVIEWER), ("rejected", REVIEWER),
                     ("regenerated", "ana"), ("consent revoked", "Vera Voice")]:
        assert expected in events
